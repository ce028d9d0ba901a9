package athena

// legacyColumns pairs the column names of AWS's older Athena DDL for flow
// logs (spec athena.md §1.2) with flowlens's canonical columns. The names
// both DDLs share (version, protocol, action) and the partition column dt
// need no mapping.
var legacyColumns = [...][2]string{
	{"account", "account_id"}, {"interfaceid", "interface_id"}, {"sourceaddress", "srcaddr"},
	{"destinationaddress", "dstaddr"}, {"sourceport", "srcport"}, {"destinationport", "dstport"},
	{"numpackets", "packets"}, {"numbytes", "bytes"}, {"starttime", "start"}, {"endtime", "end"},
	{"logstatus", "log_status"},
}

// LegacyColumns returns the legacy column names Rewrite resolves, each
// with its canonical column.
func LegacyColumns() map[string]string {
	m := make(map[string]string, len(legacyColumns))
	for _, p := range legacyColumns {
		m[p[0]] = p[1]
	}
	return m
}

// legacyColumn returns the canonical column of a (lower-case) legacy name.
func legacyColumn(name string) (string, bool) {
	for _, p := range legacyColumns {
		if p[0] == name {
			return p[1], true
		}
	}
	return "", false
}

// rewriteLegacyNames replaces legacy column names by the canonical ones. A
// bare legacy column of a select list keeps its name in the result
// (`sourceaddress` → `srcaddr AS sourceaddress`), as Athena named it.
func (s *scope) rewriteLegacyNames() {
	r := s.r
	for j := s.lo; j < s.hi; j++ {
		name, ok := r.name(j)
		if !ok {
			continue
		}
		canon, ok := legacyColumn(name)
		if !ok || s.defines[j-s.lo] || s.defined[name] || s.clause[j-s.lo] == "from" ||
			r.isOp(j+1, "(", ".") || r.isKw(j-1, "as") {
			continue
		}
		if t := r.tok(j); t.Kind == TokIdent && canon != "end" {
			r.set(j, canon)
		} else {
			r.set(j, quoteIdent(canon))
		}
		start := j
		for start-2 >= s.lo && r.isOp(start-1, ".") && isNameTok(r.tok(start-2)) {
			start -= 2
		}
		if s.clause[j-s.lo] == "select" && (r.isKw(start-1, "select", "distinct", "all") || r.isOp(start-1, ",")) &&
			(j+1 == s.hi || r.isOp(j+1, ",", ")") || r.isKw(j+1, "from")) && s.clause[start-s.lo] == "select" {
			r.out[r.sig[j]] += " AS " + quoteIdent(name)
		}
	}
}
