package sqlgen

import (
	"slices"
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
// every key that mentions an address is the plain column,
// and neither the order nor the output use an address outside the keys
// and aggregates. Grouping by (`_srcaddr_v4`, the text for the rows that
// have no IPv4 value) gives the same groups as grouping by the text (the
// store keeps the IPv4 value for exactly the rows whose text is a
// canonical IPv4 address), and the text is rebuilt only for the groups
// kept.
func (g *gen) useAddrGroup(i int, s *plan.Stage) bool {
	if i != 0 || (g.rollup && g.view != rejectsView && g.view != pairsView) || g.late || !s.Grouped || s.Star || s.Windowed || s.Fill != nil ||
		len(s.Joins) > 0 || len(s.Dedup) > 0 {
		return false
	}
	addr := false
	for _, k := range s.Keys {
		if f, _ := addrKey(k.X); f != nil {
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

// addrKey returns the address field of a group key that is a stored
// address column, plainly or as parse writes it (plan.Written: "-" for
// an absent address); nil otherwise.
func addrKey(x plan.Expr) (f *flowlog.Field, written bool) {
	if c, ok := x.(*plan.Column); ok && ipv4Column(c.Field) != "" {
		return c.Field, false
	}
	if c := plan.Unwritten(x); c != nil && ipv4Column(c.Field) != "" {
		return c.Field, true
	}
	return nil, false
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

// addrGroupStage renders a stage that useAddrGroup accepted as a UNION ALL
// of disjoint branches, each grouping, ordering and limiting its own
// groups, under an outer SELECT that orders and limits them again and
// turns the addresses back into text for the groups kept:
//
//   - the IPv4 branch holds the rows whose address keys are all IPv4 and
//     groups by the integer columns alone (the scan never reads the
//     address text); topNBound may restrict it further;
//   - branch j holds the rows whose first non-IPv4 address key is the j-th
//     (its `_v4` column IS NULL, the earlier ones are not) and groups by
//     that key's text, the earlier keys' integers and, for the later keys,
//     the integer plus the text of the rows that have no IPv4 value.
//
// The branches partition the rows by which address keys are IPv4, and a
// group's rows all fall in one branch (the store keeps the IPv4 value for
// exactly the rows whose text is a canonical IPv4 address), so every
// group is whole in exactly one branch. Each IS [NOT] NULL condition is on
// one column, which DuckDB pushes into the scan:
//
//	SELECT coalesce(printf(…, "_k0"), "_k0t") AS "srcaddr", "_v1" AS "n"
//	FROM ((SELECT _srcaddr_v4 AS "_k0", CAST(NULL AS VARCHAR) AS "_k0t", count(*) AS "_v1", count(*) AS "_o0"
//	       FROM flows WHERE _srcaddr_v4 IS NOT NULL GROUP BY _srcaddr_v4 ORDER BY "_o0" DESC NULLS LAST, _srcaddr_v4 LIMIT 10)
//	      UNION ALL (SELECT CAST(NULL AS UINTEGER) AS "_k0", srcaddr AS "_k0t", …
//	       FROM flows WHERE _srcaddr_v4 IS NULL GROUP BY srcaddr ORDER BY "_o0" DESC NULLS LAST, <natural keys of srcaddr> LIMIT 10)) AS "_g"
//	ORDER BY "_o0" DESC NULLS LAST, <natural keys of the text> LIMIT 10
func (g *gen) addrGroupStage(s *plan.Stage, last bool) string {
	id := g.d.Ident
	g.grouped = true
	defer func() { g.grouped = false }()
	var addrs []int // indexes of the address keys
	for i, k := range s.Keys {
		if f, _ := addrKey(k.X); f != nil {
			addrs = append(addrs, i)
		}
	}
	limit := s.Limit
	if last && g.opt.Limit > 0 && (limit == 0 || g.opt.Limit < limit) {
		limit = g.opt.Limit
	}
	// What every branch shares: the aggregate columns and the order keys.
	keyCol := map[int]string{} // key index → outer expression
	for i, k := range s.Keys {
		if isConst(k.X) {
			continue
		}
		name := "_k" + strconv.Itoa(i)
		keyCol[i] = id(name)
		if f, written := addrKey(k.X); f != nil {
			keyCol[i] = g.fn("coalesce", g.v4Text(id(name)), id(name+"t"))
			if written {
				keyCol[i] = g.fn("coalesce", g.v4Text(id(name)), id(name+"t"), g.d.Str("-"))
			}
		}
	}
	var vals, outer []string
	for n, c := range s.Cols {
		if k := keyIndex(s, c.X); k >= 0 {
			if ke, ok := keyCol[k]; ok {
				outer = append(outer, ke+" AS "+id(c.Name))
				continue
			}
		}
		v := g.value(c.X)
		if last && c.X.Type() == plan.TypeList {
			v = g.fn("list_text", v)
		}
		if last && c.X.Type() == plan.TypeJSON {
			v = g.fn("json_text", v) // as stage renders it
		}
		name := id("_v" + strconv.Itoa(n))
		vals = append(vals, v+" AS "+name)
		outer = append(outer, name+" AS "+id(c.Name))
	}
	var order []string
	for _, k := range s.Order {
		if isConst(k.X) {
			continue
		}
		for _, e := range g.orderKeys(k.X) {
			name := id("_o" + strconv.Itoa(len(order)))
			vals = append(vals, e+" AS "+name)
			dir := ""
			if k.Desc {
				dir = " DESC NULLS LAST"
			}
			order = append(order, name+dir)
		}
	}
	where := g.sourceFilters()
	for _, f := range s.Filters {
		where = append(where, strip(g.expr(f)))
		if h := g.keyHint(f); h != "" {
			where = append(where, h)
		}
	}
	// Ties of the order are broken by the group keys (see withTies), in
	// the natural order of their text. The outer SELECT orders by the
	// text; a branch orders by what it groups by, in the same order: an
	// IPv4 integer orders as its dotted text does in the natural order.
	var ties []int
	if len(order) > 0 {
		ties = tieKeys(s, s.Order)
	}
	// one scan on ClickHouse for a top N by one address (see chOneScan)
	oneScan := g.chOneScan(addrs, order, limit)
	limitBy := ""
	tail := func(ties []string) string {
		t := ""
		if o := append(append([]string(nil), order...), ties...); len(o) > 0 {
			t += " ORDER BY " + strings.Join(o, ", ")
		}
		if limitBy != "" {
			t += " LIMIT " + itoa(limit) + " BY " + limitBy + " LIMIT " + itoa(2*limit)
		} else if limit > 0 {
			t += " LIMIT " + itoa(limit)
		}
		return t
	}
	var outerTies []string
	for _, i := range ties {
		switch k := s.Keys[i].X; {
		case slices.Contains(addrs, i):
			outerTies = append(outerTies, g.naturalText(keyCol[i])...)
		case k.Type() == plan.TypeString || k.Type() == plan.TypeAny:
			outerTies = append(outerTies, g.natural(id("_k"+strconv.Itoa(i)))...)
		default:
			outerTies = append(outerTies, id("_k"+strconv.Itoa(i)))
		}
	}

	// A stage whose only aggregate is count_distinct of one expression
	// and that orders nothing counts the distinct (key, value) pairs in
	// DuckDB; ClickHouse keeps uniqExact per group, which it measured as
	// fast as the hand-written SQL (docs/clickhouse.md).
	dArg := ""
	if len(order) == 0 && g.d.Name() != "clickhouse" {
		dArg = g.distinctArg(s)
	}

	// branch renders the rows whose first non-IPv4 address key is
	// addrs[nullAt] (nullAt = len(addrs): the IPv4 branch; -1: all rows,
	// every address key grouped by its integer and the text of the rows
	// that have none).
	var with string
	branch := func(nullAt int) string {
		var sel, groupBy, cond []string
		tie := map[int][]string{} // key index → its tie-break keys in this branch
		for i, k := range s.Keys {
			if isConst(k.X) {
				continue
			}
			name := "_k" + strconv.Itoa(i)
			p := slices.Index(addrs, i)
			if p < 0 {
				e := g.expr(k.X)
				sel = append(sel, e+" AS "+id(name))
				groupBy = append(groupBy, e)
				tie[i] = g.orderKeys(k.X)
				continue
			}
			f, written := addrKey(k.X)
			v4, text := ipv4Column(f), g.column(f)
			// the text the tie-break orders: as the outer SELECT prints it
			txt := func(e string) string {
				if written {
					return g.fn("coalesce", e, g.d.Str("-"))
				}
				return e
			}
			switch {
			case p < nullAt:
				sel = append(sel, v4+" AS "+id(name), g.nullOf("VARCHAR")+" AS "+id(name+"t"))
				groupBy = append(groupBy, v4)
				cond = append(cond, v4+" IS NOT NULL")
				tie[i] = []string{v4}
			case p == nullAt:
				sel = append(sel, g.nullOf("UINTEGER")+" AS "+id(name), text+" AS "+id(name+"t"))
				groupBy = append(groupBy, text)
				cond = append(cond, v4+" IS NULL")
				if h := g.nullKeyHint(f); h != "" {
					cond = append(cond, h)
				}
				tie[i] = g.naturalText(txt(text))
			case oneScan:
				orText := "CASE WHEN " + v4 + " IS NULL THEN " + text + " END"
				sel = append(sel, v4+" AS "+id(name), orText+" AS "+id(name+"t"))
				groupBy = append(groupBy, v4, orText)
				tie[i] = append([]string{v4}, g.naturalText(txt(orText))...)
				limitBy = "isNull(" + v4 + ")"
			default:
				orText := "CASE WHEN " + v4 + " IS NULL THEN " + text + " END"
				sel = append(sel, v4+" AS "+id(name), orText+" AS "+id(name+"t"))
				groupBy = append(groupBy, v4, orText)
				tie[i] = g.naturalText(txt(g.fn("coalesce", g.v4Text(v4), orText)))
			}
		}
		var ts []string
		for _, i := range ties {
			ts = append(ts, tie[i]...)
		}
		w := append(append([]string(nil), where...), cond...)
		if nullAt == len(addrs) && !g.rollup && g.d.Name() == "duckdb" {
			if cte, in := g.topNBound(s, addrs, where, w, groupBy, limit); cte != "" {
				with, w = cte, append(w, in)
			}
		}
		if dArg != "" {
			return g.distinctPairs(sel, vals, groupBy, w, dArg, tail(ts))
		}
		sql := "SELECT " + strings.Join(append(sel, vals...), ", ") + " FROM " + g.source()
		if len(w) > 0 {
			sql += " WHERE " + strings.Join(w, " AND ")
		}
		return "(" + sql + " GROUP BY " + strings.Join(groupBy, ", ") + tail(ts) + ")"
	}
	var branches []string
	if oneScan {
		branches = []string{branch(-1)}
	} else if !cheapFilters(s.Filters) {
		// one branch for all rows: each branch would evaluate the filter
		// again (measured: a filter on @message took twice the time)
		branches = []string{branch(-1)}
	} else {
		branches = []string{branch(len(addrs))}
		for j := range addrs {
			branches = append(branches, branch(j))
		}
	}
	limitBy = "" // the outer SELECT keeps the first N
	return with + "SELECT " + strings.Join(outer, ", ") + " FROM (" + strings.Join(branches, " UNION ALL ") + ") AS " + id("_g") + tail(outerTies)
}

// cheapFilters reports whether every filter compares stored columns with
// literals (comparisons, IN lists, subnets, substrings, and/or/not): the
// filters every branch of addrGroupStage (and every scan of topNBound)
// evaluates again. Anything else (@message, parse, functions of text, a
// subquery) keeps the stage in one branch.
func cheapFilters(xs []plan.Expr) bool {
	ok := true
	for _, x := range xs {
		plan.Walk(x, func(e plan.Expr) {
			switch e := e.(type) {
			case *plan.Column, *plan.Lit:
			case *plan.Sys:
				ok = ok && e.Name == "@timestamp"
			case *plan.Call:
				ok = ok && e.Sub == nil && !e.Agg && e.Win == nil && cheapFns[e.Fn]
			default:
				ok = false
			}
		})
	}
	return ok
}

// cheapFns are the functions cheapFilters accepts.
var cheapFns = map[string]bool{
	"and": true, "or": true, "not": true, "=": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
	"in": true, "ispresent": true, "ipv4_range": true, "isipv4insubnet": true, "isipv6insubnet": true, "isipinsubnet": true,
	"contains": true, "starts_with": true, "ends_with": true,
}

// nullOf renders a NULL of the address branches' types: DuckDB's VARCHAR
// or UINTEGER, on ClickHouse the Nullable types of the flows view's
// address columns (UNION ALL branches must agree on the types in 18.16).
func (g *gen) nullOf(duck string) string {
	if g.d.Name() != "clickhouse" {
		return "CAST(NULL AS " + duck + ")"
	}
	if duck == "UINTEGER" {
		return "CAST(NULL AS Nullable(UInt32))"
	}
	return "CAST(NULL AS Nullable(String))"
}

// nullKeyHint returns, on ClickHouse, a predicate implied by the source
// address's `_v4` column being NULL that the store's primary index prunes
// with: such rows sort under ifNull(_srcaddr_v4, 0) = 0 (see keyHint).
func (g *gen) nullKeyHint(f *flowlog.Field) string {
	if g.d.Name() != "clickhouse" || g.rollup || f.ID != flowlog.SrcAddr {
		return ""
	}
	return "ifNull(_srcaddr_v4, 0) = 0"
}

// v4Text renders an integer IPv4 value as dotted text in the dialect.
func (g *gen) v4Text(v string) string {
	if g.d.Name() == "clickhouse" {
		return "IPv4NumToString(" + v + ")"
	}
	return g.ipv4Text(v)
}

// ipv4Text renders an integer IPv4 value as dotted text.
func (g *gen) ipv4Text(v string) string {
	return g.fn("printf", g.d.Str("%d.%d.%d.%d"), "("+v+" >> 24)", "(("+v+" >> 16) & 255)", "(("+v+" >> 8) & 255)", "("+v+" & 255)")
}

// distinctArg returns the SQL of x when every aggregate of stage s is
// count_distinct(x) of that one expression (`stats count_distinct(dstport)
// as p by srcaddr`), "" otherwise.
func (g *gen) distinctArg(s *plan.Stage) string {
	arg := ""
	for _, c := range s.Cols {
		if keyIndex(s, c.X) >= 0 {
			continue
		}
		call, ok := c.X.(*plan.Call)
		if !ok || call.Fn != "count_distinct" || !call.Agg || call.Win != nil || call.Sub != nil || len(call.Args) != 1 || plan.HasAgg(call.Args[0]) {
			return ""
		}
		a := g.expr(call.Args[0])
		if arg != "" && a != arg {
			return ""
		}
		arg = a
	}
	return arg
}

// distinctPairs renders a branch of addrGroupStage whose aggregates are
// all count_distinct(x) (distinctArg) as two aggregations: the distinct
// (group key, x) pairs, then the non-NULL x per group. count(x) over the
// pairs is count(DISTINCT x) over the rows (NULL is neither counted nor
// lost: a group whose values are all NULL keeps its pair with NULL and
// counts 0); DuckDB builds the pairs in one hash table instead of its
// distinct-aggregate path (less CPU on day-20m's Q5, docs/BENCHMARKS.md
// step 10). sel are the branch's key columns ("expr AS alias"), vals its
// aggregate columns, where its conditions, tail its ORDER BY / LIMIT.
func (g *gen) distinctPairs(sel, vals, groupBy, where []string, x, tail string) string {
	id := g.d.Ident
	alias := func(e string) string { return e[strings.LastIndex(e, " AS ")+len(" AS "):] }
	var keys, outer, in []string
	for _, e := range sel {
		if strings.HasPrefix(e, "CAST(NULL AS ") {
			outer = append(outer, e) // a branch's constant stays outside
			continue
		}
		keys = append(keys, alias(e))
		outer = append(outer, alias(e))
		in = append(in, e)
	}
	for _, v := range vals {
		outer = append(outer, "count("+id("_d")+") AS "+alias(v))
	}
	inner := "SELECT " + strings.Join(append(in, x+" AS "+id("_d")), ", ") + " FROM " + g.source()
	if len(where) > 0 {
		inner += " WHERE " + strings.Join(where, " AND ")
	}
	if !g.rollup || g.view != pairsView {
		// flows_pairs' rows are the distinct pairs already (usePairs)
		inner += " GROUP BY " + strings.Join(append(append([]string(nil), groupBy...), x), ", ")
	}
	q := "SELECT " + strings.Join(outer, ", ") + " FROM (" + inner + ") AS " + id("_dp")
	if len(keys) > 0 {
		q += " GROUP BY " + strings.Join(keys, ", ")
	}
	return "(" + q + tail + ")"
}
