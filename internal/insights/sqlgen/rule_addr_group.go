package sqlgen

import (
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
)

// ipv4Column returns the integer IPv4 column of the flows view that backs
// a stored address field (`_srcaddr_v4` for srcaddr), or "".
func ipv4Column(f *flowlog.Field) string {
	switch f.ID {
	case flowlog.SrcAddr, flowlog.DstAddr:
		return "_" + f.Column + "_v4"
	}
	return ""
}

// useAddrGroup reports whether a first stage grouped by srcaddr and/or
// dstaddr can group by the integer IPv4 columns instead of the text:
// DuckDB only, every key that mentions an address is the plain column,
// and neither the order nor the output use an address outside the keys
// and aggregates. Grouping by (`_srcaddr_v4`, the text for the rows that
// have no IPv4 value) gives the same groups as grouping by the text (the
// store keeps the IPv4 value for exactly the rows whose text is a
// canonical IPv4 address), and the text is rebuilt only for the groups
// kept.
func (g *gen) useAddrGroup(i int, s *plan.Stage) bool {
	if i != 0 || g.rollup || g.late || g.d.Name() != "duckdb" || !s.Grouped || s.Star || s.Windowed || s.Fill != nil ||
		len(s.Joins) > 0 || len(s.Dedup) > 0 {
		return false
	}
	addr := false
	for _, k := range s.Keys {
		if c, ok := k.X.(*plan.Column); ok && ipv4Column(c.Field) != "" {
			addr = true
			continue
		}
		if mentionsAddr(k.X) {
			return false
		}
	}
	if !addr {
		return false
	}
	for _, o := range s.Order {
		if mentionsAddr(o.X) {
			return false
		}
	}
	for _, c := range s.Cols {
		if keyIndex(s, c.X) < 0 && mentionsAddr(c.X) {
			return false
		}
	}
	return true
}

// mentionsAddr reports whether x uses srcaddr or dstaddr outside an aggregate.
func mentionsAddr(x plan.Expr) bool {
	switch x := x.(type) {
	case *plan.Column:
		return ipv4Column(x.Field) != ""
	case *plan.Call:
		if x.Agg || x.Win != nil {
			return false
		}
		for _, a := range x.Args {
			if mentionsAddr(a) {
				return true
			}
		}
	}
	return false
}

// keyIndex returns the index of the key of s that x is, or -1.
func keyIndex(s *plan.Stage, x plan.Expr) int {
	for i, k := range s.Keys {
		if k.X == x || k.X.String() == x.String() {
			return i
		}
	}
	return -1
}

// addrGroupStage renders a stage that useAddrGroup accepted: an inner
// SELECT groups by the integer addresses (plus the text of the other
// rows), orders and limits the groups, and an outer SELECT turns the
// addresses back into text for the groups kept:
//
//	SELECT coalesce(printf(…, "_k0"), "_k0t") AS "srcaddr", "b" AS "b"
//	FROM (SELECT _srcaddr_v4 AS "_k0", CASE WHEN _srcaddr_v4 IS NULL THEN srcaddr END AS "_k0t",
//	      sum(bytes) AS "b", sum(bytes) AS "_o0" FROM flows GROUP BY … ORDER BY "_o0" DESC NULLS FIRST LIMIT 10)
//	ORDER BY "_o0" DESC NULLS FIRST
func (g *gen) addrGroupStage(s *plan.Stage, last bool) string {
	id := g.d.Ident
	var inner, groupBy []string
	keyCol := map[int]string{} // key index → outer expression
	for i, k := range s.Keys {
		if isConst(k.X) {
			continue
		}
		name := "_k" + strconv.Itoa(i)
		if c, ok := k.X.(*plan.Column); ok && ipv4Column(c.Field) != "" {
			v4, text := ipv4Column(c.Field), g.column(c.Field)
			orText := "CASE WHEN " + v4 + " IS NULL THEN " + text + " END"
			inner = append(inner, v4+" AS "+id(name), orText+" AS "+id(name+"t"))
			groupBy = append(groupBy, v4, orText)
			keyCol[i] = g.fn("coalesce", g.ipv4Text(id(name)), id(name+"t"))
			continue
		}
		e := g.expr(k.X)
		inner = append(inner, e+" AS "+id(name))
		groupBy = append(groupBy, e)
		keyCol[i] = id(name)
	}
	var outer []string
	for n, c := range s.Cols {
		var e string
		if k := keyIndex(s, c.X); k >= 0 {
			if ke, ok := keyCol[k]; ok {
				e = ke
			}
		}
		if e == "" {
			v := g.value(c.X)
			if last && c.X.Type() == plan.TypeList {
				v = g.fn("list_text", v)
			}
			name := "_v" + strconv.Itoa(n)
			inner = append(inner, v+" AS "+id(name))
			e = id(name)
		}
		outer = append(outer, e+" AS "+id(c.Name))
	}
	var innerOrder, outerOrder []string
	for _, k := range s.Order {
		if isConst(k.X) {
			continue
		}
		for _, e := range g.orderKeys(k.X) {
			name := id("_o" + strconv.Itoa(len(innerOrder)))
			inner = append(inner, e+" AS "+name)
			dir := ""
			if k.Desc {
				dir = " DESC NULLS FIRST"
			}
			innerOrder = append(innerOrder, name+dir)
			outerOrder = append(outerOrder, name+dir)
		}
	}
	var b strings.Builder
	b.WriteString("SELECT " + strings.Join(outer, ", ") + " FROM (SELECT " + strings.Join(inner, ", ") + " FROM flows")
	where := g.scanFilters()
	for _, f := range s.Filters {
		where = append(where, strip(g.expr(f)))
	}
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" GROUP BY " + strings.Join(groupBy, ", "))
	if len(innerOrder) > 0 {
		b.WriteString(" ORDER BY " + strings.Join(innerOrder, ", "))
	}
	limit := s.Limit
	if last && g.opt.Limit > 0 && (limit == 0 || g.opt.Limit < limit) {
		limit = g.opt.Limit
	}
	if limit > 0 {
		b.WriteString(" LIMIT " + itoa(limit))
	}
	b.WriteString(") AS " + id("_g"))
	if len(outerOrder) > 0 {
		b.WriteString(" ORDER BY " + strings.Join(outerOrder, ", "))
	}
	return b.String()
}

// ipv4Text renders an integer IPv4 value as dotted text.
func (g *gen) ipv4Text(v string) string {
	return g.fn("printf", g.d.Str("%d.%d.%d.%d"), "("+v+" >> 24)", "(("+v+" >> 16) & 255)", "(("+v+" >> 8) & 255)", "("+v+" & 255)")
}
