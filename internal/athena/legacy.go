package athena

import "strings"

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

// flowsTable reports whether significant token j is a table reference to
// a view with the flows columns (after rewriteTables): a name in the FROM
// clause after FROM, JOIN or a comma, that the statement does not define
// itself (a CTE).
func (s *scope) flowsTable(j int) bool {
	r := s.r
	name, ok := r.name(j)
	if !ok || s.clause[j-s.lo] != "from" || r.isOp(j+1, "(", ".") || s.defined[name] {
		return false
	}
	start := s.columnStart(j)
	if !r.isKw(start-1, "from", "join") && !r.isOp(start-1, ",") {
		return false
	}
	if n, _ := r.name(j); strings.HasPrefix(n, athenaTablePrefix) || n == "flows" {
		return true
	}
	for _, t := range r.opt.Tables {
		if strings.EqualFold(t, name) {
			return true
		}
	}
	return false
}

// rewriteLegacyNames gives the views a statement reads the legacy column
// names it uses: `FROM vpc_flow_logs` becomes `FROM (SELECT *, srcaddr AS
// sourceaddress, … FROM vpc_flow_logs) AS vpc_flow_logs`, so the names
// resolve in every clause, subquery and CTE, and results are named as the
// query wrote them. Names the statement defines itself are the query's.
func (s *scope) rewriteLegacyNames() {
	r := s.r
	used := map[string]bool{}
	for j := s.lo; j < s.hi; j++ {
		name, ok := r.name(j)
		if !ok || s.defines[j-s.lo] || s.defined[name] || r.isOp(j+1, "(") {
			continue
		}
		if _, ok := legacyColumn(name); ok {
			used[name] = true
		}
	}
	if len(used) == 0 {
		return
	}
	var proj strings.Builder
	proj.WriteString("SELECT *")
	for _, p := range legacyColumns {
		if used[p[0]] {
			canon := p[1]
			if canon == "end" {
				canon = quoteIdent(canon)
			}
			proj.WriteString(", " + canon + " AS " + p[0])
		}
	}
	for j := s.lo; j < s.hi; j++ {
		if !s.flowsTable(j) {
			continue
		}
		table := r.out[r.sig[j]]
		text := "(" + proj.String() + " FROM " + table + ")"
		if !r.isKw(j+1, "as") && !(isNameTok(r.tok(j+1)) && j+1 < s.hi && !r.keyword(j+1)) {
			text += " AS " + table
		}
		r.set(j, text)
	}
}
