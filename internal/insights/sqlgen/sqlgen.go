// Package sqlgen renders a checked Logs Insights plan as SQL over the
// `flows` view (see package store for the contract) in one of several
// dialects: DuckDB (the embedded store) and ClickHouse. Every literal goes
// through the dialect's one escaping function and every identifier is a
// catalog column name or passes through its one quoting function; the
// generator imports no driver and does no I/O.
package sqlgen

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
)

// Statement is a query ready for a store.Querier.
type Statement struct {
	SQL string
	// Args are bound arguments (the generator escapes literals inline, so
	// this is empty today; back ends must still pass it).
	Args []any
	// Columns are the result column names, in order; Types their plan types.
	Columns []string
	Types   []plan.Type
	// Scan marks SQL that reads the records in one filtered scan (one
	// stage: no grouping, join, window, dedup or subquery; DuckDB only),
	// such as a lookup of one address: the back end may plan it without
	// the optimizers that only matter for joins and aggregates (see
	// internal/store/duckdb QueryScan).
	Scan bool
}

// Dialect is what differs between SQL back ends.
type Dialect interface {
	// Name is "duckdb" or "clickhouse".
	Name() string
	// Ident quotes an identifier (the only way an alias reaches SQL).
	Ident(s string) string
	// Str writes a string literal (the only way user text reaches SQL).
	Str(s string) string
	// Func renders a function the dialect spells its own way; ok is false
	// when the common rendering applies.
	Func(fn string, args []string) (sql string, ok bool)
	// Dedup renders keeping the first row per key: a QUALIFY condition or
	// a LIMIT 1 BY clause (one of the two is empty).
	Dedup(keys []string, order string) (qualify, limitBy string)
	// Values renders an inline table (rendered literals, row by row) as a
	// FROM item named alias with columns cols of types types.
	Values(alias string, cols []string, types []plan.Type, rows [][]string) string
	// JSONGet renders reading path from the JSON text x: the value's JSON
	// text, NULL when it is missing or JSON null.
	JSONGet(x string, path []JSONStep) string
}

// Options are the query's context outside its text.
type Options struct {
	// Datasets restrict the scan (empty: every dataset).
	Datasets []string
	// Start and End bound `start` in epoch seconds, inclusive; 0 means open.
	Start, End int64
	// Limit caps the rows of the result (0: none).
	Limit int64
	// NowMillis is the query's start time (now()), epoch milliseconds.
	NowMillis int64
	// Source, on DuckDB, returns a FROM item with the rows of the flows
	// view and only the named columns of it (flows-view column names,
	// sorted), or false to read the view itself; nil: always the view.
	// The generator asks for the columns the query reads when it knows
	// them all (see needed) and reads the flows view otherwise.
	Source func(cols []string) (string, bool)
	// Scan, on ClickHouse, is Source with the conjuncts of the scan's
	// WHERE that only compare columns with constants (see ScanFilter),
	// which the FROM item may apply to the rows it reads (the query
	// applies them again); nil: always the view.
	Scan func(cols []string, filters []ScanFilter) (string, bool)
	// Pairs says that the database has the `flows_pairs` view of the
	// distinct (source, destination port) pairs (the DuckDB store; see
	// usePairs).
	Pairs bool
}

// Generate renders the plan.
func Generate(p *plan.Plan, d Dialect, opt Options) (st *Statement, err error) {
	g := &gen{d: d, p: p, opt: opt}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(genError)
			if !ok {
				panic(r)
			}
			st, err = nil, e
		}
	}()
	st = &Statement{}
	for _, c := range p.Output {
		st.Columns = append(st.Columns, c.Name)
		st.Types = append(st.Types, c.Type)
	}
	if p.Estimate {
		st.SQL = g.estimate()
		return st, nil
	}
	view := ""
	switch {
	case g.useRollup():
		view = rollupView
	case g.useRejects():
		view = rejectsView
	case g.usePairs():
		view = pairsView
	}
	var sql string
	for i, s := range p.Stages {
		last := i == len(p.Stages)-1
		g.rollup = i == 0 && view != ""
		g.view = ""
		if g.rollup {
			g.view = view
		}
		sql = g.stage(i, s, sql, last)
	}
	g.rollup, g.view = false, ""
	st.SQL = sql
	st.Scan = view == "" && g.plainScan()
	return st, nil
}

// plainScan reports whether the plan is one stage that filters, projects,
// orders and limits the records and nothing else (see Statement.Scan).
func (g *gen) plainScan() bool {
	p := g.p
	if g.d.Name() != "duckdb" || p.Estimate || p.Compare != nil || len(p.Stages) != 1 {
		return false
	}
	s := p.Stages[0]
	if s.Grouped || s.Windowed || s.Fill != nil || len(s.Joins) > 0 || len(s.Dedup) > 0 {
		return false
	}
	ok := true
	check := func(x plan.Expr) {
		plan.Walk(x, func(e plan.Expr) {
			if c, isCall := e.(*plan.Call); isCall && (c.Sub != nil || c.Agg || c.Win != nil) {
				ok = false
			}
		})
	}
	for _, f := range s.Filters {
		check(f)
	}
	for _, c := range s.Cols {
		check(c.X)
	}
	for _, o := range s.Order {
		check(o.X)
	}
	return ok
}

// genError is a plan the generator cannot render (a bug in the checker).
type genError string

func (e genError) Error() string { return "BUG: sqlgen: " + string(e) }

type gen struct {
	d   Dialect
	p   *plan.Plan
	opt Options
	// noTry is set while rendering an expression that holds an aggregate
	// or window function.
	noTry bool
	// late is set while rendering the outer SELECT of lateColumns.
	late bool
	// rollup is set while rendering a first stage that reads a rollup
	// instead of the records: view, `flows_5m` (see useRollup) or
	// `flows_rejects` (see useRejects), whose rows count `records` each.
	rollup bool
	view   string
	// grouped is set while rendering the order of a grouped stage (its
	// keys may only use what the stage groups by).
	grouped bool
	// from caches flows(): "" until it is first rendered.
	from string
	// aliases maps the SELECT expressions of the stage being rendered to
	// their output names, on ClickHouse only: there an alias is visible
	// in the whole SELECT and wins over a column of the same name, so
	// that ORDER BY sum(bytes) under "sum(bytes) AS bytes" would read
	// sum(sum(bytes)); the order names the alias instead.
	aliases map[string]string
	// chExtra are SELECT items the next stage rendered puts first (the
	// helper columns of chWindowStage's first level).
	chExtra []string
	// lookups are, on ClickHouse, the expressions of the columns of the
	// stage's lookups, which references to them render (see chLookups).
	lookups map[string]string
}

// scanFilters are the dataset and time predicates on the flows view,
// placed before the query's own filters so that pruning happens first.
func (g *gen) scanFilters() []string {
	out := g.datasetFilters()
	if g.p.Compare != nil {
		// diff: the query's range and the earlier one
		shift := g.compareShift()
		s, e := g.opt.Start, g.opt.End
		out = append(out, "_hour >= "+itoa(s-shift-mod(s-shift, 3600)), "_hour <= "+itoa(e-mod(e, 3600)),
			"((start >= "+itoa(s)+" AND start <= "+itoa(e)+") OR (start >= "+itoa(s-shift)+" AND start <= "+itoa(e-shift)+"))")
		return out
	}
	if g.opt.Start != 0 {
		out = append(out, "_hour >= "+itoa(g.opt.Start-mod(g.opt.Start, 3600)))
	}
	if g.opt.End != 0 {
		out = append(out, "_hour <= "+itoa(g.opt.End-mod(g.opt.End, 3600)))
	}
	if g.opt.Start != 0 {
		out = append(out, "start >= "+itoa(g.opt.Start))
	}
	if g.opt.End != 0 {
		out = append(out, "start <= "+itoa(g.opt.End))
	}
	return out
}

// source is the relation a first stage reads: the records (flows()) or
// the rollup view chosen for it.
func (g *gen) source() string {
	if g.rollup {
		return g.view
	}
	return g.flows()
}

// flows is the relation the records are read from: the flows view, or the
// FROM item of Options.Source holding only the columns the plan reads.
func (g *gen) flows() string {
	if g.from == "" {
		g.from = "flows"
		if cols, ok := g.needed(); ok {
			var from string
			if g.d.Name() == "clickhouse" {
				from, ok = g.opt.Scan(cols, g.scanFilterList())
			} else {
				from, ok = g.opt.Source(cols)
			}
			if ok {
				g.from = from
			}
		}
	}
	return g.from
}

// needed returns the flows-view columns the plan's reading of the records
// uses (its first stage, the scan filters), sorted; false when the
// dialect has no Options.Source (DuckDB) or Options.Scan (ClickHouse), or
// the plan may read a column it does not name: every column of a row (a stage with `*`),
// @message and what is built from it (parse, pattern), or a system field
// this list does not know.
func (g *gen) needed() ([]string, bool) {
	hook := (g.d.Name() == "duckdb" && g.opt.Source != nil) || (g.d.Name() == "clickhouse" && g.opt.Scan != nil)
	if !hook || len(g.p.Stages) == 0 {
		return nil, false
	}
	s := g.p.Stages[0]
	if g.p.Estimate {
		// estimate counts the rows of the scan and stage filters only
		s = &plan.Stage{Filters: s.Filters}
	}
	if s.Star {
		return nil, false
	}
	// start: @timestamp and the order that breaks ties, the time range,
	// and functions over the rows' times (earliest, latest, rate) read it.
	// On ClickHouse only those add it (a FROM item of FlowsScan computes
	// each column it has: Q2 read start though it does not use it); the
	// DuckDB store's Source always has it.
	set := map[string]bool{}
	if g.d.Name() != "clickhouse" {
		set["start"] = true
	}
	ok := true
	var visit func(x plan.Expr)
	keys := func(ks []plan.SortKey) {
		for _, k := range ks {
			visit(k.X)
		}
	}
	visit = func(x plan.Expr) {
		switch x := x.(type) {
		case *plan.Column:
			set[x.Field.Column] = true
			if v4 := ipv4Column(x.Field); v4 != "" {
				set[v4] = true
			}
		case *plan.Sys:
			if !sysColumns(x.Name, set) {
				ok = false
			}
		case *plan.Call:
			if timeFns[x.Fn] {
				set["start"] = true
			}
			args := x.Args
			if col, isCol := ipv4RangeColumn(x); isCol {
				// ipv4Range reads the integer column alone
				set[ipv4Column(col.Field)] = true
				args = args[1:]
			}
			for _, a := range args {
				visit(a)
			}
			if x.Win != nil {
				for _, p := range x.Win.Partition {
					visit(p)
				}
				keys(x.Win.Order)
			}
		}
	}
	for _, x := range s.Filters {
		visit(x)
	}
	for _, k := range s.Keys {
		visit(k.X)
	}
	for _, c := range s.Cols {
		visit(c.X)
	}
	for _, x := range s.Dedup {
		visit(x)
	}
	keys(s.DedupOrder)
	keys(s.Order)
	for _, j := range s.Joins {
		visit(j.On)
	}
	if !ok {
		return nil, false
	}
	if len(g.opt.Datasets) > 0 {
		set["dataset"] = true
	}
	if g.opt.Start != 0 || g.opt.End != 0 || g.p.Compare != nil {
		set["_hour"], set["start"] = true, true
	}
	if len(set) == 0 {
		set["_hour"] = true // a FROM item has a column: a cheap one (count(*) alone)
	}
	cols := make([]string, 0, len(set))
	for c := range set {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return cols, true
}

// timeFns are the functions whose SQL reads start besides their
// arguments (see call).
var timeFns = map[string]bool{"earliest": true, "latest": true, "rate_span": true, "current_range": true}

// sourceFilters are the dataset and time predicates on source().
func (g *gen) sourceFilters() []string {
	switch {
	case g.rollup && g.view == rollupView:
		return g.rollupScanFilters()
	case g.rollup && g.view == rejectsView:
		return g.rejectsScanFilters()
	case g.rollup && g.view == pairsView:
		return nil // usePairs: no dataset, no time range
	}
	return g.scanFilters()
}

// datasetFilters restrict the scan to the selected datasets.
func (g *gen) datasetFilters() []string {
	if len(g.opt.Datasets) == 0 {
		return nil
	}
	ds := append([]string(nil), g.opt.Datasets...)
	sort.Strings(ds)
	if len(ds) == 1 {
		return []string{"dataset = " + g.d.Str(ds[0])}
	}
	parts := make([]string, len(ds))
	for i, s := range ds {
		parts[i] = g.d.Str(s)
	}
	return []string{"dataset IN (" + strings.Join(parts, ", ") + ")"}
}

// compareShift is how far back (seconds) diff's earlier range lies.
func (g *gen) compareShift() int64 {
	if g.opt.Start == 0 || g.opt.End == 0 {
		g.fail("diff without a time range")
	}
	if g.p.Compare.ShiftMs > 0 {
		return g.p.Compare.ShiftMs / 1000
	}
	return g.opt.End - g.opt.Start + 1
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// joinSub renders a join with a subquery whose output columns are renamed
// to the join's generated names (so they never clash with the left side).
func (g *gen) joinSub(j *plan.Join) string {
	opt := g.opt
	opt.Limit = 0
	if len(j.Sub.Datasets) > 0 {
		opt.Datasets = j.Sub.Datasets
	}
	if j.Sub.Formats == nil {
		j.Sub.Formats = g.p.Formats
	}
	sub := &gen{d: g.d, p: j.Sub, opt: opt}
	var sql string
	for i, s := range j.Sub.Stages {
		sql = sub.stage(i, s, sql, i == len(j.Sub.Stages)-1)
	}
	cols := make([]string, len(j.Cols))
	for i, c := range j.Cols {
		cols[i] = g.d.Ident(j.Sub.Output[i].Name) + " AS " + g.d.Ident(c)
	}
	kind := " LEFT JOIN "
	if j.Inner {
		kind = " INNER JOIN "
	}
	on, where := j.On, ""
	if g.d.Name() == "clickhouse" {
		on, where = g.chJoinOn(j)
	}
	return kind + "(SELECT " + strings.Join(cols, ", ") + " FROM (" + sql + ") AS " + g.d.Ident(j.Alias+"_q") + where + ") AS " + g.d.Ident(j.Alias) + " ON " + g.expr(on)
}

// fillStage renders fillmissing: every bin from the first to the last of
// the previous stage, joined with its rows.
func (g *gen) fillStage(s *plan.Stage, inner string) string {
	f, r, t := g.d.Ident("_f"), g.d.Ident("_r"), g.d.Ident("_t")
	key := g.d.Ident(s.Fill.Key)
	step := itoa(s.Fill.StepMs)
	var cols []string
	for _, c := range s.Cols {
		ref, ok := c.X.(*plan.Ref)
		if !ok {
			g.fail("fill column %s", c.X)
		}
		var e string
		switch v, filled := s.Fill.Values[ref.Name]; {
		case ref.Name == s.Fill.Key:
			e = r + "." + t
		case filled:
			e = "coalesce(" + f + "." + g.d.Ident(ref.Name) + ", " + g.expr(v) + ")"
		default:
			e = f + "." + g.d.Ident(ref.Name)
		}
		cols = append(cols, e+" AS "+g.d.Ident(c.Name))
	}
	return "WITH " + f + " AS (" + inner + ") SELECT " + strings.Join(cols, ", ") +
		" FROM (SELECT " + g.fn("unnest", g.fn("range", "min("+key+")", "max("+key+") + "+step, step)) + " AS " + t + " FROM " + f + ") AS " + r +
		" LEFT JOIN " + f + " ON " + f + "." + key + " = " + r + "." + t + " ORDER BY " + r + "." + t
}

// stage renders one SELECT; inner is the previous stage's SQL.
func (g *gen) stage(i int, s *plan.Stage, inner string, last bool) string {
	if s.Fill != nil && g.d.Name() == "clickhouse" {
		return g.chFillStage(s, inner)
	}
	if s.Fill != nil {
		return g.fillStage(s, inner)
	}
	if g.useAddrGroup(i, s) {
		return g.addrGroupStage(s, last)
	}
	if g.d.Name() == "clickhouse" {
		if sql, ok := g.chWindowStage(i, s, inner, last); ok {
			return sql
		}
	}
	if g.lateColumns(s, last) {
		// Order and limit the rows first, then compute the costly columns
		// (@message, parse) for the rows kept only.
		rows := &plan.Stage{Star: true, Filters: s.Filters, Order: s.Order, Limit: s.Limit}
		kept := g.stage(i, rows, inner, last)
		g.late = true
		defer func() { g.late = false }()
		return g.stage(i+1, &plan.Stage{Cols: s.Cols, Order: s.Order, Limit: s.Limit}, kept, last)
	}
	if order, ok := g.outerOrder(s, last); ok {
		// DuckDB cannot bind try() over a group key in a grouped
		// SELECT: group first, then order the groups by their columns.
		grouped := *s
		grouped.Order, grouped.Limit = nil, 0
		return g.stage(i+1, &plan.Stage{Star: true, Order: order, Limit: s.Limit}, g.stage(i, &grouped, inner, false), last)
	}
	var b strings.Builder
	// ClickHouse: the lookups (joins with a constant table) are WITH
	// items and expressions (see chLookups), added to the columns of a
	// stage with `*`
	var with []string
	if g.d.Name() == "clickhouse" {
		var cols map[string]string
		with, cols = g.chLookups(s)
		saved := g.lookups
		g.lookups = cols
		defer func() { g.lookups = saved }()
	}
	if len(with) > 0 {
		b.WriteString("WITH " + strings.Join(with, ", ") + " ")
	}
	b.WriteString("SELECT ")
	cols := g.chExtra
	g.chExtra = nil
	if s.Star {
		cols = append(cols, "*")
		for _, j := range s.Joins {
			if j.Sub == nil && g.lookups != nil {
				for _, c := range j.Cols {
					cols = append(cols, g.lookups[c]+" AS "+g.d.Ident(c))
				}
			}
		}
	}
	aliases := map[string]string{}
	for _, c := range s.Cols {
		name := c.Name
		e := g.value(c.X)
		if _, dup := aliases[e]; !dup && g.d.Name() == "clickhouse" && isColumnName(name) && e != name && e != g.d.Ident(name) {
			aliases[e] = g.d.Ident(name)
		}
		if last && c.X.Type() == plan.TypeList {
			e = g.fn("list_text", e)
		}
		if last && c.X.Type() == plan.TypeJSON && !g.chJSONObject(c.X) {
			e = g.fn("json_text", e)
		}
		if !last || e != g.d.Ident(name) {
			e += " AS " + g.d.Ident(name)
		}
		cols = append(cols, e)
	}
	if len(cols) == 0 {
		cols = append(cols, "count(*) AS "+g.d.Ident("_empty"))
	}
	b.WriteString(strings.Join(cols, ", "))
	if i == 0 {
		b.WriteString(" FROM " + g.source())
	} else {
		fmt.Fprintf(&b, " FROM (%s) AS %s", inner, g.d.Ident(fmt.Sprintf("_s%d", i)))
	}
	for _, j := range s.Joins {
		if j.Sub != nil {
			b.WriteString(g.joinSub(j))
			continue
		}
		if g.d.Name() == "clickhouse" {
			continue // WITH items
		}
		b.WriteString(" LEFT JOIN ")
		b.WriteString(g.d.Values(j.Alias, j.Cols, j.Types, g.lookupRows(j)))
		b.WriteString(" ON ")
		b.WriteString(g.expr(j.On))
	}
	var where []string
	if i == 0 {
		where = g.sourceFilters()
	}
	for _, f := range s.Filters {
		where = append(where, strip(g.expr(f)))
		if i == 0 {
			if h := g.keyHint(f); h != "" {
				where = append(where, h)
			}
		}
	}
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	var keys []string
	for _, k := range s.Keys {
		if !isConst(k.X) { // a constant would read as a column position
			keys = append(keys, g.expr(k.X))
		}
	}
	if s.Grouped && len(keys) > 0 {
		b.WriteString(" GROUP BY ")
		b.WriteString(strings.Join(keys, ", "))
	}
	var limitBy string
	if len(s.Dedup) > 0 {
		var keys []string
		for _, k := range s.Dedup {
			if !isConst(k) {
				keys = append(keys, g.expr(k))
			}
		}
		if len(keys) == 0 {
			keys = []string{"NULL"}
		}
		var qualify string
		qualify, limitBy = g.d.Dedup(keys, g.order(s.DedupOrder))
		if qualify != "" {
			b.WriteString(" QUALIFY ")
			b.WriteString(qualify)
		}
	}
	order := s.Order
	if limitBy != "" && len(order) == 0 {
		order = s.DedupOrder
	}
	order = withTies(s, order)
	g.grouped = s.Grouped
	g.aliases = aliases
	o := g.order(order)
	g.grouped, g.aliases = false, nil
	if o != "" {
		b.WriteString(" ORDER BY ")
		b.WriteString(o)
	}
	if limitBy != "" {
		b.WriteString(" ")
		b.WriteString(limitBy)
	}
	limit := s.Limit
	if last && g.opt.Limit > 0 && (limit == 0 || g.opt.Limit < limit) {
		limit = g.opt.Limit
	}
	if limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(itoa(limit))
	}
	return b.String()
}

// lookupRows renders the rows of a join with a constant table.
func (g *gen) lookupRows(j *plan.Join) [][]string {
	rows := make([][]string, len(j.Rows))
	for r, row := range j.Rows {
		rows[r] = make([]string, len(row))
		for c, v := range row {
			rows[r][c] = g.lit(v)
		}
	}
	return rows
}

// isConst reports whether x has no column in it (sorting or grouping by
// it changes nothing).
func isConst(x plan.Expr) bool {
	c := true
	plan.Walk(x, func(e plan.Expr) {
		switch e.(type) {
		case *plan.Column, *plan.Sys, *plan.Ref:
			c = false
		case *plan.Call:
			if e.(*plan.Call).Agg || e.(*plan.Call).Win != nil {
				c = false
			}
		}
	})
	return c
}

// order renders ORDER BY keys. Nulls sort last in both directions (spec
// §5.5): ascending is NULLS LAST by default in DuckDB and ClickHouse, and
// the natural order's first key is NULL for a NULL value.
func (g *gen) order(keys []plan.SortKey) string {
	parts, desc := g.orderParts(keys)
	for i := range parts {
		if desc[i] {
			parts[i] += " DESC NULLS LAST"
		}
	}
	return strings.Join(parts, ", ")
}

// orderParts renders ORDER BY keys one value each, with whether it sorts
// descending; constant keys are left out, and a tie-breaking key is the
// plain value ascending (any fixed order breaks the tie).
func (g *gen) orderParts(keys []plan.SortKey) (parts []string, desc []bool) {
	for _, k := range keys {
		if isConst(k.X) {
			continue
		}
		if k.Tie {
			if s, ok := k.X.(*plan.Sys); ok && s.Name == "@timestamp" {
				parts = append(parts, "start")
			} else {
				parts = append(parts, g.expr(k.X))
			}
			desc = append(desc, false)
			continue
		}
		for _, e := range g.orderKeys(k.X) {
			if a, ok := g.aliases[e]; ok {
				e = a
			}
			parts = append(parts, e)
			desc = append(desc, k.Desc)
		}
	}
	return parts, desc
}

// outerOrder returns the order of a grouped stage rewritten over the
// stage's output columns, when DuckDB cannot order the groups in the
// grouped SELECT itself: a key computes over a group key with a
// primitive that may fail (try() over a group key does not bind there).
// It reports false when the order is fine as it is or when it cannot be
// rewritten (a key uses a value that is not an output column).
func (g *gen) outerOrder(s *plan.Stage, last bool) ([]plan.SortKey, bool) {
	if g.d.Name() != "duckdb" || !s.Grouped || len(s.Order) == 0 || len(s.Dedup) > 0 || len(s.Joins) > 0 || s.Windowed || len(s.Keys) == 0 {
		return nil, false
	}
	keys := map[string]bool{}
	for _, k := range s.Keys {
		keys[k.X.String()] = true
	}
	cols := map[string]*plan.Ref{}
	for _, c := range s.Cols {
		if t := c.X.Type(); last && (t == plan.TypeList || t == plan.TypeJSON) {
			return nil, false // the last stage renders these as text
		}
		if _, dup := cols[c.X.String()]; !dup {
			cols[c.X.String()] = &plan.Ref{Name: c.Name, T: c.X.Type()}
		}
	}
	needed := false
	for _, k := range s.Order {
		if k.Tie || isConst(k.X) || keys[k.X.String()] || plan.HasAgg(k.X) || hasWindow(k.X) {
			continue
		}
		if strings.Contains(g.expr(k.X), "try(") {
			needed = true
		}
	}
	if !needed {
		return nil, false
	}
	order := withTies(s, s.Order)
	out := make([]plan.SortKey, len(order))
	for i, k := range order {
		k.X = overColumns(k.X, cols)
		ok := true
		plan.Walk(k.X, func(e plan.Expr) {
			switch e := e.(type) {
			case *plan.Column, *plan.Sys:
				ok = false
			case *plan.Call:
				if e.Agg || e.Win != nil || e.Sub != nil {
					ok = false
				}
			}
		})
		if !ok {
			return nil, false
		}
		out[i] = k
	}
	return out, true
}

// overColumns returns x with each part that a stage outputs replaced by
// a reference to its output column.
func overColumns(x plan.Expr, cols map[string]*plan.Ref) plan.Expr {
	if r, ok := cols[x.String()]; ok {
		return r
	}
	c, ok := x.(*plan.Call)
	if !ok || len(c.Args) == 0 {
		return x
	}
	n := *c
	n.Args = make([]plan.Expr, len(c.Args))
	for i, a := range c.Args {
		n.Args[i] = overColumns(a, cols)
	}
	return &n
}

// withTies appends to the order of a grouped stage its group keys that the
// order does not already name, ascending: the keys identify a row, so
// rows that tie on the order come back in the same order every time and a
// limit cuts them at the same place (spec §5.5).
func withTies(s *plan.Stage, order []plan.SortKey) []plan.SortKey {
	if !s.Grouped || len(order) == 0 {
		return order
	}
	out := order
	for _, k := range tieKeys(s, order) {
		if len(out) == len(order) {
			out = append([]plan.SortKey(nil), order...)
		}
		out = append(out, plan.SortKey{X: s.Keys[k].X})
	}
	return out
}

// tieKeys returns the indexes of the group keys of s that break ties of
// order: the keys that are not constants and that order does not name
// (as the expression or as the key's output name).
func tieKeys(s *plan.Stage, order []plan.SortKey) []int {
	named := map[string]bool{}
	for _, o := range order {
		named[o.X.String()] = true
		if r, ok := o.X.(*plan.Ref); ok {
			named[r.Name] = true
		}
	}
	var out []int
	for i, k := range s.Keys {
		if isConst(k.X) || named[k.X.String()] || named[k.Name] {
			continue
		}
		out = append(out, i)
	}
	return out
}

// orderKeys renders the ORDER BY keys of one sort key (several for the
// natural order of text).
func (g *gen) orderKeys(x plan.Expr) []string {
	if s, ok := x.(*plan.Sys); ok && s.Name == "@timestamp" {
		return []string{"start"} // same order as start * 1000, and cheaper
	}
	if col := plan.Unwritten(x); col != nil && col.Field.Kind.Numeric() {
		// the text of a number, or "-" (not a number: first ascending);
		// a grouped stage orders by what it groups by
		if g.grouped {
			w := g.expr(x)
			return []string{"(" + w + " <> " + g.d.Str("-") + ")", g.fn("tonumber", w)}
		}
		e := g.column(col.Field)
		return []string{"(" + e + " IS NOT NULL)", e}
	}
	if col := plan.Unwritten(x); col != nil && col.Field.Kind == flowlog.KindIP {
		return g.naturalIP(g.expr(x))
	}
	if t := x.Type(); t == plan.TypeString || t == plan.TypeAny {
		if c, ok := x.(*plan.Column); ok && c.Field.Kind == flowlog.KindIP {
			return g.naturalIP(g.expr(x))
		}
		return g.natural(g.expr(x))
	}
	return []string{g.expr(x)}
}

// lateColumns reports whether a stage that orders and limits raw rows
// computes columns worth computing after the limit only.
func (g *gen) lateColumns(s *plan.Stage, last bool) bool {
	if g.late || s.Grouped || s.Star || len(s.Dedup) > 0 || len(s.Joins) > 0 || s.Windowed || len(s.Order) == 0 {
		return false
	}
	if s.Limit == 0 && !(last && g.opt.Limit > 0) {
		return false
	}
	for _, c := range s.Cols {
		costly := false
		plan.Walk(c.X, func(e plan.Expr) {
			switch e := e.(type) {
			case *plan.Call:
				costly = true
			case *plan.Sys:
				costly = costly || e.Name != "@timestamp"
			}
		})
		if costly {
			return true
		}
	}
	return false
}

// natural returns the keys of the Logs Insights "natural" order of text:
// values that are not numbers first, numbers by value, text with its runs
// of digits compared by length then value (left-padded to 20 digits).
func (g *gen) natural(e string) []string {
	num := g.fn("tonumber", e)
	// the first key is NULL for NULL (last in both directions), else
	// whether the value is a number
	return append([]string{"CASE WHEN " + e + " IS NOT NULL THEN " + num + " IS NOT NULL END", num}, g.naturalText(e)...)
}

// naturalText is the natural order of text that is never a number (an
// address): its runs of digits compared by length then value; NULL is
// NULL.
func (g *gen) naturalText(e string) []string {
	padded := g.fn("regexreplace", e, g.d.Str(`([0-9]+)`), g.d.Str(strings.Repeat("0", 19)+`\1`))
	return []string{g.fn("regexreplace", padded, g.d.Str(`0*([0-9]{20})`), g.d.Str(`\1`))}
}

// naturalIP is naturalText for addresses. On ClickHouse, which computes
// every key of every row it sorts (18.16 has no LIMIT WITH TIES to sort
// the top rows alone), the two regular expressions over every group of a
// top-N by address cost 10x the aggregation: an IPv4 address's key is
// built from its number instead (the same text: each octet padded to 20
// digits), and the expressions run on the other addresses only (0.0.0.0
// among them: its number is 0, and the expressions give its key too).
func (g *gen) naturalIP(e string) []string {
	if g.d.Name() != "clickhouse" {
		return g.naturalText(e)
	}
	// only dotted quads reach IPv4StringToNum: current releases throw on
	// anything else (0.0.0.0 reads 0 and takes the regular expressions)
	octet := `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	v := "IPv4StringToNum(if(match(" + e + ", " + g.d.Str(`^`+octet+`(\.`+octet+`){3}$`) + "), " + e + ", '0.0.0.0'))"
	pad := func(o string) string {
		return "concat('" + strings.Repeat("0", 17) + "', substring(toString(" + o + " + 1000), 2, 3))"
	}
	v4 := "concat(" + pad("intDiv("+v+", 16777216)") + ", '.', " + pad("(intDiv("+v+", 65536) % 256)") + ", '.', " +
		pad("(intDiv("+v+", 256) % 256)") + ", '.', " + pad("("+v+" % 256)") + ")"
	other := g.naturalText("if(" + v + " != 0, '', " + e + ")")[0]
	return []string{"if(" + v + " != 0, " + v4 + ", " + other + ")"}
}

// estimate renders `estimate`: the text size of the records the query
// would scan, at the default format's average of 112 bytes per record.
func (g *gen) estimate() string {
	var where []string
	where = append(where, g.scanFilters()...)
	s := g.p.Stages[0]
	for _, f := range s.Filters {
		where = append(where, strip(g.expr(f)))
	}
	sql := "SELECT count(*) * 112 AS " + g.d.Ident("estimatedBytes") + " FROM " + g.flows()
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	return sql
}

// strip removes one pair of outer parentheses, unless an OR inside them
// would then bind looser than the AND the caller joins the result with.
func strip(s string) string {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' || strings.ContainsAny(s, "'\"`") {
		return s
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 && i != len(s)-1 {
				return s
			}
		case ' ':
			if depth == 1 && strings.HasPrefix(s[i:], " OR ") {
				return s
			}
		}
	}
	return s[1 : len(s)-1]
}

// column renders a catalog column name, quoting the SQL keywords among them.
func (g *gen) column(f *flowlog.Field) string {
	if f.Column == "end" {
		return g.d.Ident(f.Column)
	}
	return f.Column
}

// isColumnName reports whether name is the column name of a flow log field.
func isColumnName(name string) bool {
	for i := range flowlog.Fields() {
		if flowlog.Fields()[i].Column == name {
			return true
		}
	}
	return false
}

// ipv4RangeColumn returns the address column of an ipv4_range or
// ipv4_between call that ipv4Range renders on its integer column alone.
func ipv4RangeColumn(c *plan.Call) (*plan.Column, bool) {
	if (c.Fn != "ipv4_range" && c.Fn != "ipv4_between") || len(c.Args) != 3 {
		return nil, false
	}
	col, ok := c.Args[0].(*plan.Column)
	if !ok || ipv4Column(col.Field) == "" {
		return nil, false
	}
	return col, true
}

// keyHint returns, on ClickHouse, a predicate implied by filter f that the
// ClickHouse store's primary index can prune with ("" for none): a source
// address range is also tested on ifNull(_srcaddr_v4, 0), the expression
// of its sort key. The filter itself stays as it is (its NULL semantics);
// the hint is one more conjunct of the WHERE, true wherever f is.
func (g *gen) keyHint(f plan.Expr) string {
	c, ok := f.(*plan.Call)
	if !ok || g.d.Name() != "clickhouse" || g.rollup || (c.Fn != "ipv4_range" && c.Fn != "ipv4_between") || len(c.Args) != 3 {
		return ""
	}
	col, ok := c.Args[0].(*plan.Column)
	if !ok || col.Field.ID != flowlog.SrcAddr {
		return ""
	}
	lo, hi := g.expr(c.Args[1]), g.expr(c.Args[2])
	if n, err := strconv.ParseInt(lo, 10, 64); err != nil || n <= 0 {
		return ""
	}
	if _, err := strconv.ParseInt(hi, 10, 64); err != nil {
		return ""
	}
	if lo == hi {
		return "ifNull(_srcaddr_v4, 0) = " + lo
	}
	return "ifNull(_srcaddr_v4, 0) BETWEEN " + lo + " AND " + hi
}

// sysColumns adds the flows-view columns behind system field name to set;
// false for a field that may read any column (@message and what is built
// from it).
func sysColumns(name string, set map[string]bool) bool {
	switch name {
	case "@timestamp":
		set["start"] = true
	case "@ingestionTime":
		set["_ingest_time"] = true
	case "@logStream":
		set["interface_id"] = true
	case "@log":
		set["account_id"], set["dataset"] = true, true
	default:
		return false
	}
	return true
}
