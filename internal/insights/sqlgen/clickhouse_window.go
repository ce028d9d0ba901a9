package sqlgen

import (
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
)

// Window functions on ClickHouse 18.16, which has no OVER clause (21.3
// experimental, 21.9 general): a windowed stage is rendered in three
// levels that every release runs.
//
//  1. The stage without its window functions: its filters, joins and
//     groups, its other columns, and as helper columns what the window
//     functions need (their argument, partition and order values), the
//     stage's order keys and the window-free parts of the columns that
//     hold a window function.
//  2. Per window (its partition and order), the rows of level 1 numbered
//     in the window's order (rowNumberInAllBlocks over a sorted
//     subquery), gathered per partition into an array of tuples sorted
//     by that number, the window values computed over the array
//     (arrayCumSum, an index back, the last value that is not NULL, the
//     position, a sum or quantile of the partition), and the rows spread
//     again by ARRAY JOIN.
//  3. The stage's columns from the helpers and the window values, its
//     order and limit.
//
// The frames are those of the DuckDB dialect: from the partition's first
// row to the current one (running sum, lag, filldown), the whole partition
// (ratio, quantile), the position (row_number).

// chWin is one window function of a stage.
type chWin struct {
	call *plan.Call
	name string   // _wv<m>: its value at level 3
	arg  string   // _wa<m>: its argument at level 1 ("" for row_number)
	part []string // _wp<m>_<j>: its partition values
	ord  []string // _wo<m>_<j>: its order values
	desc []bool
	spec string // partition and order, as rendered: windows with the same spec share a pass
}

// chWindowStage renders a windowed stage without OVER (see above); ok is
// false for a window function it does not know (the OVER form then).
func (g *gen) chWindowStage(i int, s *plan.Stage, inner string, last bool) (string, bool) {
	var wins []*chWin
	byKey := map[string]*chWin{}
	known := true
	collect := func(x plan.Expr) {
		plan.Walk(x, func(e plan.Expr) {
			c, ok := e.(*plan.Call)
			if !ok || c.Win == nil {
				return
			}
			switch c.Fn {
			case "running_sum", "lag", "filldown", "row_number":
			case "ratio", "quantile_all":
				if len(c.Win.Order) > 0 {
					known = false
				}
			default:
				known = false
			}
			if byKey[c.String()] == nil {
				w := &chWin{call: c, name: "_wv" + itoa(int64(len(wins)))}
				byKey[c.String()] = w
				wins = append(wins, w)
			}
		})
	}
	for _, c := range s.Cols {
		collect(c.X)
	}
	for _, o := range s.Order {
		collect(o.X)
	}
	if !known || len(wins) == 0 {
		return "", false
	}

	// level 1 (its helpers read the columns of the stage's lookups)
	_, lookups := g.chLookups(s)
	savedLookups := g.lookups
	g.lookups = lookups
	saved := g.late
	g.late = true // the plain stage: no late columns, no address-group rule
	defer func() { g.late = saved }()
	base := &plan.Stage{Filters: s.Filters, Grouped: s.Grouped, Keys: s.Keys, Star: s.Star, Dedup: s.Dedup, DedupOrder: s.DedupOrder, Joins: s.Joins}
	var names []string // the columns of level 1, then of each pass
	seen := map[string]bool{}
	addName := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if s.Star {
		for _, n := range g.chStarColumns(i - 1) {
			addName(n)
		}
		for _, j := range s.Joins {
			for _, n := range j.Cols {
				addName(n)
			}
		}
	}
	// an expression equal to a column of the stage is read from its alias:
	// in ClickHouse an alias wins over a column of the same name inside
	// the other expressions of the SELECT
	alias := map[string]string{}
	for _, c := range s.Cols {
		if !hasWindow(c.X) {
			base.Cols = append(base.Cols, c)
			addName(c.Name)
			e := g.value(c.X)
			if _, dup := alias[e]; !dup && e != g.d.Ident(c.Name) {
				alias[e] = g.d.Ident(c.Name)
			}
		}
	}
	if len(base.Cols) == 0 && !s.Star {
		base.Cols = []plan.Named{{Name: "_w", X: &plan.Lit{Value: int64(0), T: plan.TypeNumber}}}
		addName("_w")
	}
	var helpers []string
	helper := func(name, e string) string {
		if a, ok := alias[e]; ok {
			e = a
		}
		helpers = append(helpers, e+" AS "+g.d.Ident(name))
		addName(name)
		return name
	}
	for m, w := range wins {
		c := w.call
		mm := itoa(int64(m))
		if c.Fn != "row_number" {
			w.arg = helper("_wa"+mm, g.expr(c.Args[0]))
		}
		var spec []string
		for _, p := range c.Win.Partition {
			if isConst(p) {
				continue
			}
			e := g.expr(p)
			spec = append(spec, e)
			w.part = append(w.part, helper("_wp"+mm+"_"+itoa(int64(len(w.part))), e))
		}
		spec = append(spec, "|")
		parts, desc := g.orderParts(c.Win.Order)
		for j, e := range parts {
			spec = append(spec, e, map[bool]string{true: "DESC", false: "ASC"}[desc[j]])
			w.ord = append(w.ord, helper("_wo"+mm+"_"+itoa(int64(j)), e))
		}
		w.desc = desc
		w.spec = strings.Join(spec, "\x00")
	}
	// the stage's order: computed at level 1 (what it orders by may be gone
	// after it: the grouped values, the columns a non-star stage does not
	// keep), unless it holds a window function
	var order []plan.SortKey
	nx := 0
	rewrite := func(x plan.Expr) plan.Expr { return g.chRewrite(x, byKey, &nx, helper) }
	g.grouped = s.Grouped
	g.aliases = map[string]string{}
	for e, a := range alias {
		g.aliases[e] = a
	}
	for _, k := range withTies(s, s.Order) {
		if hasWindow(k.X) {
			order = append(order, plan.SortKey{X: rewrite(k.X), Desc: k.Desc})
			continue
		}
		parts, _ := g.orderParts([]plan.SortKey{k})
		for _, e := range parts {
			n := helper("_so"+itoa(int64(len(order))), e)
			order = append(order, plan.SortKey{X: &plan.Ref{Name: n, T: plan.TypeNumber}, Desc: k.Desc && !k.Tie})
		}
	}
	g.grouped, g.aliases = false, nil
	var cols []plan.Named
	if s.Star {
		for _, n := range g.chStarColumns(i - 1) {
			cols = append(cols, plan.Named{Name: n, X: &plan.Ref{Name: n, T: plan.TypeAny}})
		}
	}
	for _, c := range s.Cols {
		if !hasWindow(c.X) {
			cols = append(cols, plan.Named{Name: c.Name, X: &plan.Ref{Name: c.Name, T: c.X.Type()}})
			continue
		}
		cols = append(cols, plan.Named{Name: c.Name, X: rewrite(c.X)})
	}
	g.chExtra = helpers
	sql := g.stage(i, base, inner, false)
	g.lookups = savedLookups

	// level 2: a pass per window spec
	done := map[string]bool{}
	for _, w := range wins {
		if done[w.spec] {
			continue
		}
		done[w.spec] = true
		var group []*chWin
		for _, v := range wins {
			if v.spec == w.spec {
				group = append(group, v)
			}
		}
		sql = g.chWindowPass(sql, names, group)
		for _, v := range group {
			names = append(names, v.name)
		}
	}

	// level 3
	out := &plan.Stage{Cols: cols, Order: order, Limit: s.Limit}
	return g.stage(i+1, out, sql, last), true
}

// chRewrite returns x with its window functions replaced by their values
// and its window-free parts by helper columns of level 1.
func (g *gen) chRewrite(x plan.Expr, wins map[string]*chWin, n *int, helper func(name, e string) string) plan.Expr {
	c, ok := x.(*plan.Call)
	if ok && c.Win != nil {
		return &plan.Ref{Name: wins[c.String()].name, T: c.T}
	}
	if !hasWindow(x) {
		if isConst(x) {
			return x
		}
		name := helper("_wx"+itoa(int64(*n)), g.expr(x))
		*n++
		return &plan.Ref{Name: name, T: x.Type()}
	}
	cp := *c
	cp.Args = make([]plan.Expr, len(c.Args))
	for i, a := range c.Args {
		cp.Args[i] = g.chRewrite(a, wins, n, helper)
	}
	cp.Agg = false
	return &cp
}

// chWindowPass computes the windows of one spec over the rows of src,
// whose columns are names; the result has names and the windows' values.
func (g *gen) chWindowPass(src string, names []string, wins []*chWin) string {
	id := g.d.Ident
	pos := map[string]int{}
	elems := make([]string, len(names))
	for k, n := range names {
		pos[n] = k + 1
		elems[k] = id(n)
	}
	rn := itoa(int64(len(names) + 1))
	elem := func(name string) string { return "tupleElement(_x, " + itoa(int64(pos[name])) + ")" }
	w0 := wins[0]
	sorted := "SELECT * FROM (" + src + ") AS " + id("_ws")
	if len(w0.ord) > 0 {
		var o []string
		for j, n := range w0.ord {
			e := id(n)
			if w0.desc[j] {
				e += " DESC NULLS LAST"
			}
			o = append(o, e)
		}
		sorted += " ORDER BY " + strings.Join(o, ", ")
	}
	numbered := "SELECT *, rowNumberInAllBlocks() AS " + id("_rn") + " FROM (" + sorted + ") AS " + id("_wb")
	grouped := []string{"arraySort(_x -> tupleElement(_x, " + rn + "), groupArray(tuple(" + strings.Join(elems, ", ") + ", " + id("_rn") + "))) AS " + id("_g")}
	joined := []string{id("_g") + " AS " + id("_t"), "arrayEnumerate(" + id("_g") + ") AS " + id("_i")}
	var values []string
	for _, w := range wins {
		v := id(w.name)
		r := id("_wr" + strings.TrimPrefix(w.name, "_wv"))
		rj := id("_wj" + strings.TrimPrefix(w.name, "_wv"))
		perRow := func(arr string) {
			// computed per partition, spread with the rows
			grouped = append(grouped, arr+" AS "+r)
			joined = append(joined, r+" AS "+rj)
			values = append(values, rj+" AS "+v)
		}
		t := id("_wt" + strings.TrimPrefix(w.name, "_wv"))
		switch w.call.Fn {
		case "running_sum":
			// NULL until the first value that is not NULL, as sum
			sums := "arrayCumSum(arrayMap(_x -> ifNull(" + elem(w.arg) + ", 0), " + id("_g") + "))"
			counts := "arrayCumSum(arrayMap(_x -> if(isNull(" + elem(w.arg) + "), 0, 1), " + id("_g") + "))"
			perRow("arrayMap((_s, _c) -> if(_c = 0, NULL, _s), " + sums + ", " + counts + ")")
		case "lag":
			n := g.expr(w.call.Args[1])
			at := "arrayElement(" + id("_g") + ", _j - " + n + ")"
			perRow("arrayMap(_j -> if(_j > " + n + ", toNullable(tupleElement(" + at + ", " + itoa(int64(pos[w.arg])) + ")), NULL), arrayEnumerate(" + id("_g") + "))")
		case "filldown":
			// the last value that is not NULL: the values that are not
			// NULL, at the count of them so far (0 reads NULL)
			nn := id("_wn" + strings.TrimPrefix(w.name, "_wv"))
			grouped = append(grouped, "arrayFilter(_v -> isNotNull(_v), arrayMap(_x -> toNullable("+elem(w.arg)+"), "+id("_g")+")) AS "+nn)
			counts := "arrayCumSum(arrayMap(_x -> if(isNull(" + elem(w.arg) + "), 0, 1), " + id("_g") + "))"
			perRow("arrayMap(_c -> arrayElement(" + nn + ", _c), " + counts + ")")
		case "row_number":
			values = append(values, "toInt64("+id("_i")+") AS "+v)
		case "ratio":
			grouped = append(grouped, "sum("+id(w.arg)+") AS "+t)
			values = append(values, "(tupleElement("+id("_t")+", "+itoa(int64(pos[w.arg]))+") / "+t+") AS "+v)
		case "quantile_all":
			// quantile_cont: linear interpolation between the closest ranks
			p := g.expr(w.call.Args[1])
			at := "(" + p + " * (length(_q) - 1))"
			lo := "arrayElement(_q, toUInt64(floor(" + at + ")) + 1)"
			hi := "arrayElement(_q, toUInt64(ceil(" + at + ")) + 1)"
			body := "if(empty(_q), NULL, " + lo + " + (" + at + " - floor(" + at + ")) * (" + hi + " - " + lo + "))"
			grouped = append(grouped, chLet("arraySort(groupArray("+id(w.arg)+"))", "_q", body)+" AS "+t)
			values = append(values, t+" AS "+v)
		}
	}
	q := "SELECT " + strings.Join(grouped, ", ") + " FROM (" + numbered + ") AS " + id("_wc")
	if len(w0.part) > 0 {
		parts := make([]string, len(w0.part))
		for j, n := range w0.part {
			parts[j] = id(n)
		}
		q += " GROUP BY " + strings.Join(parts, ", ")
	}
	outs := make([]string, 0, len(names)+len(values))
	for k, n := range names {
		outs = append(outs, "tupleElement("+id("_t")+", "+itoa(int64(k+1))+") AS "+id(n))
	}
	outs = append(outs, values...)
	return "SELECT " + strings.Join(outs, ", ") + " FROM (" + q + ") AS " + id("_wd") + " ARRAY JOIN " + strings.Join(joined, ", ")
}

// chStarColumns are the columns stage i outputs when a star stage reads it
// (-1: the flows view of the store contract, see package store).
func (g *gen) chStarColumns(i int) []string {
	if i < 0 {
		out := []string{"dataset"}
		for _, f := range flowlog.Fields() {
			out = append(out, f.Column)
		}
		return append(out, "year", "month", "day", "hour", "date", "dt", "accid", "aws-account-id", "aws-region", "aws-service",
			"_hour", "_srcaddr_v4", "_dstaddr_v4", "_format_id", "_ingest_time")
	}
	s := g.p.Stages[i]
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if s.Star {
		for _, n := range g.chStarColumns(i - 1) {
			add(n)
		}
		for _, j := range s.Joins {
			for _, n := range j.Cols {
				add(n)
			}
		}
	}
	for _, c := range s.Cols {
		add(c.Name)
	}
	if len(out) == 0 {
		add("_empty")
	}
	return out
}

// chJoinOn splits the condition of a join with a subquery for ClickHouse,
// whose JOIN ON takes equalities only (18.16; current releases without
// allow_experimental_join_condition): the conditions on the subquery's
// columns alone (appendcols's row limit) become a WHERE of the subquery,
// which keeps a LEFT JOIN's answer (a row they reject finds no partner
// either way).
func (g *gen) chJoinOn(j *plan.Join) (plan.Expr, string) {
	own := map[string]bool{}
	for _, c := range j.Cols {
		own[c] = true
	}
	var keep, moved []plan.Expr
	var split func(x plan.Expr)
	split = func(x plan.Expr) {
		if c, ok := x.(*plan.Call); ok && c.Fn == "and" {
			split(c.Args[0])
			split(c.Args[1])
			return
		}
		if c, ok := x.(*plan.Call); ok && c.Fn == "=" {
			keep = append(keep, x)
			return
		}
		only := true
		plan.Walk(x, func(e plan.Expr) {
			switch e := e.(type) {
			case *plan.Ref:
				only = only && own[e.Name]
			case *plan.Column, *plan.Sys:
				only = false
			}
		})
		if only {
			moved = append(moved, x)
		} else {
			keep = append(keep, x)
		}
	}
	split(j.On)
	if len(moved) == 0 || len(keep) == 0 {
		return j.On, ""
	}
	on := keep[0]
	for _, k := range keep[1:] {
		on = &plan.Call{Fn: "and", Args: []plan.Expr{on, k}, T: plan.TypeBool}
	}
	where := make([]string, len(moved))
	for i, m := range moved {
		where[i] = strip(g.expr(m))
	}
	return on, " WHERE " + strings.Join(where, " AND ")
}

// chOneScan reports whether addrGroupStage renders, on ClickHouse, a top N
// by one address key as one scan instead of the IPv4 branch and the
// branch of the rows without an IPv4 value: the branch of those rows
// reads the flows view again (at least a granule of every part, more when
// the address is not the sort key's), which cost 0.5-1.2x the
// hand-written query (docs/BENCHMARKS.md). The scan groups by the integer
// and the text of the rows without one, orders the groups of each class
// (IPv4 or not) as its branch would, by the integer or by the natural
// order of the text, and keeps the first N of each class (LIMIT N BY):
// the outer SELECT's top N is among them, as among the branches' rows.
func (g *gen) chOneScan(addrs []int, order []string, limit int64) bool {
	return g.d.Name() == "clickhouse" && !g.rollup && len(addrs) == 1 && len(order) > 0 && limit > 0
}
