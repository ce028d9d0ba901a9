package athena

import (
	"slices"
	"strings"
)

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
// itself (a CTE). mapped is set for an Athena table name flowlens does not
// have (vpc_flow_logs_pp, …), read as vpc_flow_logs.
func (s *scope) flowsTable(j int) (ok, mapped bool) {
	r := s.r
	name, isName := r.name(j)
	if !isName || s.clause[j-s.lo] != "from" || r.isOp(j+1, "(", ".") || s.defined[name] {
		return false, false
	}
	start := s.columnStart(j)
	if !r.isKw(start-1, "from", "join") && !r.isOp(start-1, ",") {
		return false, false
	}
	if r.knownTable(name) {
		return name == "flows" || strings.HasPrefix(name, athenaTablePrefix) || slices.ContainsFunc(r.opt.Tables,
			func(t string) bool { return strings.EqualFold(t, name) }), false
	}
	return strings.HasPrefix(name, athenaTablePrefix), strings.HasPrefix(name, athenaTablePrefix)
}

// rewriteViews rewrites the references to views with the flows columns:
//   - an Athena table name flowlens does not have reads vpc_flow_logs
//     under its own name (`vpc_flow_logs AS vpc_flow_logs_pp`);
//   - when the statement uses legacy column names, the view gets them:
//     `(SELECT *, srcaddr AS sourceaddress, … FROM vpc_flow_logs) AS
//     vpc_flow_logs`, so they resolve in every clause, subquery and CTE,
//     and results are named as the query wrote them (names the statement
//     defines itself are the query's);
//   - when the statement compares day with 'yyyy/MM/dd' strings, day is
//     that form in the view, as in a partition-projection table.
func (s *scope) rewriteViews() {
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
	var proj strings.Builder
	proj.WriteString("SELECT *")
	if len(s.days) > 0 {
		proj.WriteString(` REPLACE (strftime("date", '%Y/%m/%d') AS day)`)
	}
	for _, p := range legacyColumns {
		if used[p[0]] {
			canon := p[1]
			if canon == "end" {
				canon = quoteIdent(canon)
			}
			proj.WriteString(", " + canon + " AS " + p[0])
		}
	}
	wrap := len(used) > 0 || len(s.days) > 0
	for j := s.lo; j < s.hi; j++ {
		ok, mapped := s.flowsTable(j)
		if !ok {
			continue
		}
		table := r.out[r.sig[j]]
		alias, _ := r.name(j)
		explicit := false
		switch {
		case r.isKw(j+1, "as"):
			alias, _ = r.name(j + 2)
			explicit = true
		case j+1 < s.hi && isNameTok(r.tok(j+1)) && !r.keyword(j+1):
			alias, _ = r.name(j + 1)
			explicit = true
		}
		s.flowsAliases[s.block[j-s.lo]] = append(s.flowsAliases[s.block[j-s.lo]], alias)
		if !wrap && !mapped {
			continue
		}
		text := table
		if mapped {
			text = athenaTablePrefix
		}
		if wrap {
			text = "(" + proj.String() + " FROM " + text + ")"
		}
		if !explicit {
			text += " AS " + table
		} else if !wrap && j+1 < len(r.sig) && r.sig[j+1] == r.sig[j]+1 {
			// a quoted name needs no space before its alias ("t"A);
			// the bare name that replaces it does
			text += " "
		}
		r.set(j, text)
	}
}
