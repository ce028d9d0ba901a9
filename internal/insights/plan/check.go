package plan

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/textdist"
)

// MaxStats is how many stats commands a query may have (AWS documents two;
// newer releases allow ten).
const MaxStats = 10

// Options are what the checker needs to know of the data.
type Options struct {
	// Formats are the formats the selected datasets hold, by _format_id;
	// @message is rebuilt from them and parse maps onto them. Empty means
	// the default format only, under id 0.
	Formats map[int]*flowlog.Format
	// LoadFormats, when set and Formats is empty, is called the first time
	// the query needs formats (so that a query that does not touch
	// @message costs no catalog lookup).
	LoadFormats func() map[int]*flowlog.Format
	// Lookups are the lookup tables lookup and cidrlookup may name.
	Lookups map[string]*Table
}

// Table is a lookup table: a header and rows of text.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Compile parses and checks a query.
func Compile(src string, opt Options) (*Plan, error) {
	q, err := syntax.Parse(src)
	if err != nil {
		return nil, err
	}
	return Check(q, src, opt)
}

// Check resolves names and types of a parsed query and builds its plan.
// Errors are a syntax.ErrorList (errors.Is(err, syntax.ErrQuery)).
func Check(q *syntax.Query, src string, opt Options) (p *Plan, err error) {
	c := &checker{src: src, opt: opt, plan: &Plan{}}
	c.cur = &Stage{}
	c.plan.Stages = []*Stage{c.cur}
	c.sc = newScope()
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			c.errs = append(c.errs, b.err)
		}
		if len(c.errs) > 0 {
			c.errs.Sort()
			p, err = nil, c.errs
		}
	}()
	for i, cmd := range q.Commands {
		c.command(i, q.Commands, cmd)
	}
	c.finish()
	return c.plan, nil
}

// bailout stops checking at the first error that makes the rest meaningless.
type bailout struct{ err *syntax.Error }

type checker struct {
	src  string
	opt  Options
	plan *Plan
	errs syntax.ErrorList
	cur  *Stage
	sc   *scope

	nstats    int
	statsSpan syntax.Span
	sortSpan  *syntax.Span // a sort seen before any later stats
	// output bookkeeping since the last stats
	fields    []string
	display   []string
	hasDisp   bool
	parsed    []string
	statsOut  []string
	explicit  bool // a sort was written for the current rows
	nextID    int
	lastLimit bool
	nested    bool // checking a subquery
	joinLeft  string
}

// scope maps the names visible at a point of the query to expressions over
// the current stage's input.
type scope struct {
	defs       map[string]Expr
	afterStats bool
	// keyCols maps catalog fields used as stats keys to their output name.
	keyCols map[flowlog.FieldID]string
}

func newScope() *scope { return &scope{defs: map[string]Expr{}} }

func (c *checker) errorf(n interface{ Pos() syntax.Pos }, end syntax.Pos, format string, args ...any) {
	c.errs = append(c.errs, syntax.NewError(c.src, syntax.Span{Start: n.Pos(), End: end}, format, args...))
}

func (c *checker) fail(n syntax.Node, format string, args ...any) {
	panic(bailout{syntax.NewError(c.src, syntax.Span{Start: n.Pos(), End: n.EndPos()}, format, args...)})
}

func (c *checker) warn(format string, args ...any) {
	c.plan.Warnings = append(c.plan.Warnings, fmt.Sprintf(format, args...))
}

// command checks one command. i and all give its place in the query.
func (c *checker) command(i int, all []syntax.Command, cmd syntax.Command) {
	if i > 0 {
		switch prev := all[i-1].(type) {
		case *syntax.Dedup:
			if _, ok := cmd.(*syntax.Limit); !ok {
				c.fail(cmd, "only limit may follow dedup (dedup at %s); move %s before dedup", posOf(c.src, prev), cmd.Name())
			}
		case *syntax.Estimate:
			c.fail(cmd, "estimate must be the last command")
		}
	}
	switch cmd := cmd.(type) {
	case *syntax.Source:
		if i != 0 {
			c.fail(cmd, "SOURCE must be the first command")
		}
		c.source(cmd)
	case *syntax.Fields:
		c.fieldsCmd(cmd.Items, false)
	case *syntax.Display:
		c.fieldsCmd(cmd.Items, true)
	case *syntax.Filter:
		c.filter(cmd.X)
	case *syntax.FilterIndex:
		c.filter(cmd.X)
	case *syntax.Stats:
		c.stats(cmd)
	case *syntax.Sort:
		c.sort(cmd)
	case *syntax.Limit:
		c.limit(cmd)
	case *syntax.ParseCmd:
		c.parse(cmd)
	case *syntax.Dedup:
		c.dedup(cmd)
	case *syntax.Unmask:
		if cmd.Field != nil {
			c.expr(cmd.Field, exprCtx{})
		}
	case *syntax.CountFrequent:
		c.countFrequent(cmd)
	case *syntax.Accum:
		c.accum(cmd)
	case *syntax.Autoregress:
		c.autoregress(cmd)
	case *syntax.Filldown:
		c.filldown(cmd)
	case *syntax.Pattern:
		c.pattern(cmd)
	case *syntax.Addtotals:
		c.addtotals(cmd)
	case *syntax.Sessionize:
		c.sessionize(cmd)
	case *syntax.Outlier:
		c.outlier(cmd)
	case *syntax.Unnest:
		c.unnest(cmd.Field, cmd.Into.Name)
	case *syntax.Expand:
		c.unnest(cmd.Field, cmd.Field.Name)
	case *syntax.Fillmissing:
		c.fillmissing(cmd)
	case *syntax.Lookup:
		c.lookup(cmd)
	case *syntax.JoinCmd:
		c.join(cmd)
	case *syntax.Appendcols:
		c.appendcols(cmd)
	case *syntax.Anomaly:
		c.anomaly(cmd)
	case *syntax.RelevantFields:
		c.relevantFields(cmd)
	case *syntax.Diff:
		c.diff(cmd, cmd.Mode, 0)
	case *syntax.LogCompare:
		c.pattern(&syntax.Pattern{Span: cmd.Span})
		c.diff(cmd, "", c.period(cmd.Shift).Millis())
	case *syntax.Estimate:
		c.plan.Estimate = true
	default:
		c.fail(cmd, "BUG: unhandled command %T", cmd)
	}
}

func posOf(src string, n syntax.Node) string {
	l, col := syntax.LineCol(src, n.Pos())
	return fmt.Sprintf("%d:%d", l, col)
}

func (c *checker) source(cmd *syntax.Source) {
	for _, s := range cmd.Names {
		for _, n := range strings.Split(s.Value, ",") {
			if n = strings.TrimSpace(n); n != "" {
				c.plan.Datasets = append(c.plan.Datasets, n)
			}
		}
	}
	for _, s := range cmd.Prefixes {
		c.plan.Prefixes = append(c.plan.Prefixes, s.Value)
	}
	if cmd.LogGroups && len(cmd.Prefixes) == 0 {
		c.plan.Prefixes = []string{""}
	}
	if cmd.Start != nil {
		c.plan.SourceStart = timeSpec(cmd.Start)
	}
	if cmd.End != nil {
		c.plan.SourceEnd = timeSpec(cmd.End)
	}
}

func timeSpec(e syntax.Expr) string {
	if s, ok := e.(*syntax.String); ok {
		return s.Value
	}
	return e.String()
}

// closed reports whether the current stage can take no more row filters.
func (c *checker) closedForFilter() bool {
	s := c.cur
	return s.Grouped || len(s.Order) > 0 || s.Limit > 0 || len(s.Dedup) > 0 || s.Windowed
}

// newStage starts a stage that reads the current one.
func (c *checker) newStage() {
	prev := c.cur
	next := newScope()
	next.afterStats = c.sc.afterStats
	next.keyCols = c.sc.keyCols
	if !prev.Grouped {
		prev.Star = true
		prev.Cols = nil
		for _, name := range sortedKeys(c.sc.defs) {
			x := c.sc.defs[name]
			id := c.id()
			prev.Cols = append(prev.Cols, Named{Name: id, X: x})
			next.defs[name] = &Ref{Name: id, T: x.Type()}
		}
	} else {
		ids := make([]string, len(prev.Cols))
		for i := range prev.Cols {
			ids[i] = c.id()
		}
		for _, name := range sortedKeys(c.sc.defs) {
			x := c.sc.defs[name]
			found := false
			for i, col := range prev.Cols {
				if col.Name == name {
					next.defs[name] = &Ref{Name: ids[i], T: x.Type()}
					found = true
				}
			}
			if !found { // defined after stats (accum, autoregress, …): carry it
				id := c.id()
				ids = append(ids, id)
				prev.Cols = append(prev.Cols, Named{Name: name, X: x})
				next.defs[name] = &Ref{Name: id, T: x.Type()}
			}
		}
		for i := range prev.Cols {
			prev.Cols[i].Name = ids[i]
		}
	}
	c.sc = next
	c.cur = &Stage{}
	c.plan.Stages = append(c.plan.Stages, c.cur)
}

func (c *checker) id() string {
	c.nextID++
	return fmt.Sprintf("_c%d", c.nextID)
}

func (c *checker) define(name string, x Expr) {
	c.sc.defs[name] = x
}

// fields and display: compute and name expressions, record the output.
func (c *checker) fieldsCmd(items []syntax.Proj, display bool) {
	if c.cur.Grouped {
		c.newStage()
	}
	var names []string
	for _, it := range items {
		x := c.expr(it.X, exprCtx{})
		name := projName(it)
		if it.Alias != nil || !isPlainRef(it.X, name) {
			c.define(name, x)
		} else if _, ok := c.sc.defs[name]; !ok {
			c.define(name, x)
		}
		names = append(names, name)
	}
	if display {
		c.display, c.hasDisp = names, true
		return
	}
	for _, n := range names {
		if !contains(c.fields, n) {
			c.fields = append(c.fields, n)
		}
	}
}

func isPlainRef(e syntax.Expr, name string) bool {
	f, ok := e.(*syntax.Field)
	return ok && f.Name == name
}

// projName is the output name of a projection: its alias, else its text.
func projName(it syntax.Proj) string {
	if it.Alias != nil {
		return it.Alias.Name
	}
	if f, ok := it.X.(*syntax.Field); ok {
		return f.Name
	}
	return it.X.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *checker) filter(e syntax.Expr) {
	if c.closedForFilter() {
		c.newStage()
	}
	x := c.cond(e)
	if l, ok := x.(*Lit); ok && l.Value == true {
		return
	}
	c.cur.Filters = append(c.cur.Filters, splitAnd(x)...)
}

// splitAnd splits a conjunction so that each part can be pushed down alone.
func splitAnd(x Expr) []Expr {
	if call, ok := x.(*Call); ok && call.Fn == "and" {
		return append(splitAnd(call.Args[0]), splitAnd(call.Args[1])...)
	}
	return []Expr{x}
}

func (c *checker) limit(cmd *syntax.Limit) {
	if c.cur.Limit == 0 || cmd.N < c.cur.Limit {
		c.cur.Limit = cmd.N
	}
	c.plan.Limit = c.cur.Limit
	c.lastLimit = true
}

func (c *checker) sort(cmd *syntax.Sort) {
	if c.cur.Limit > 0 || len(c.cur.Dedup) > 0 {
		c.newStage()
	}
	var keys []SortKey
	for _, k := range cmd.Keys {
		x := jsonText(c.expr(k.X, exprCtx{aggOK: c.cur.Grouped}))
		if x.Type() == TypeBool {
			x = &Call{Fn: "bool2int", Args: []Expr{x}, T: TypeNumber}
		}
		keys = append(keys, SortKey{X: x, Desc: k.Desc})
	}
	c.cur.Order = keys
	c.explicit = true
	if c.sortSpan == nil {
		s := syntax.Span{Start: cmd.Pos(), End: cmd.EndPos()}
		c.sortSpan = &s
	}
}

func (c *checker) dedup(cmd *syntax.Dedup) {
	var keys []Expr
	for _, f := range cmd.Fields {
		keys = append(keys, jsonText(c.expr(f, exprCtx{aggOK: c.cur.Grouped})))
	}
	order := c.cur.Order
	if len(order) == 0 && !c.sc.afterStats {
		order = []SortKey{{X: &Sys{Name: "@timestamp"}, Desc: true}}
	}
	c.cur.Dedup = keys
	c.cur.DedupOrder = order
}

// countFrequent f1, f2 = stats count(*) as _approxcount by f1, f2 | sort _approxcount desc.
func (c *checker) countFrequent(cmd *syntax.CountFrequent) {
	by := make([]syntax.Proj, len(cmd.Fields))
	for i, f := range cmd.Fields {
		by[i] = syntax.Proj{X: f}
	}
	star := &syntax.Call{Span: cmd.Span, Name: "count", Star: true}
	alias := &syntax.Field{Span: cmd.Span, Name: "_approxcount"}
	c.stats(&syntax.Stats{Span: cmd.Span, Aggs: []syntax.Proj{{X: star, Alias: alias}}, By: by})
	c.cur.Order = []SortKey{{X: c.sc.defs["_approxcount"], Desc: true}}
	c.explicit = true
}

// finish decides the output columns and the default order.
func (c *checker) finish() {
	var names []string
	switch {
	case c.hasDisp:
		names = c.display
	case len(c.fields) > 0:
		names = c.fields
	case c.nstats > 0:
		names = c.statsOut
	default:
		names = append([]string{"@timestamp", "@message"}, c.parsed...)
	}
	if !c.cur.Grouped && !c.explicit && c.nstats == 0 {
		c.cur.Order = []SortKey{{X: &Sys{Name: "@timestamp"}, Desc: true}}
	}
	if c.cur.Grouped && !c.explicit && c.cur.Fill == nil && len(c.cur.Order) == 0 {
		c.cur.Order = binOrder(c.cur.Keys)
	}
	var cols []Named
	for _, n := range names {
		x := c.resolveName(&syntax.Field{Name: n}, n, false)
		cols = append(cols, Named{Name: n, X: x})
		c.plan.Output = append(c.plan.Output, OutCol{Name: n, Type: x.Type()})
	}
	c.cur.Cols = cols
	c.cur.Star = false
	if !c.cur.Grouped && c.explicit && len(c.cur.Order) > 0 && c.cur.Fill == nil {
		c.cur.Order = append(c.cur.Order, c.rowTies(c.cur.Order, cols)...)
	}
	if !c.cur.Grouped && len(c.cur.Dedup) > 0 && len(c.cur.DedupOrder) > 0 {
		// the row dedup keeps of rows that tie on its order
		c.cur.DedupOrder = append(c.cur.DedupOrder, c.rowTies(c.cur.DedupOrder, cols)...)
	}
	if c.plan.Estimate {
		c.plan.Output = []OutCol{{Name: "estimatedBytes", Type: TypeNumber}}
	}
}

// exprCtx says where an expression is.
type exprCtx struct {
	aggOK bool // aggregates allowed (stats, sort after stats)
	inAgg bool // inside an aggregate's arguments
	// binOffset shifts bin() (stats … offset d), in milliseconds.
	binOffset int64
	// binMs is the length of the stats' bin() key, for rate().
	binMs int64
}

// resolveName finds what a field name refers to.
func (c *checker) resolveName(n syntax.Node, name string, quoted bool) Expr {
	if x, ok := c.sc.defs[name]; ok {
		return x
	}
	if c.joinLeft != "" && strings.HasPrefix(name, c.joinLeft+".") {
		return c.resolveName(n, strings.TrimPrefix(name, c.joinLeft+"."), quoted)
	}
	if strings.HasPrefix(name, "@") {
		switch name {
		case "@timestamp", "@message", "@logStream", "@log", "@ingestionTime":
			if c.sc.afterStats {
				c.fail(n, "%s is not available after stats (stats at %s); keep it with an aggregate such as max(%s) as t", name, posOfSpan(c.src, c.statsSpan), name)
			}
			if name == "@message" {
				c.formats()
			}
			return &Sys{Name: name}
		case "@ptr":
			c.fail(n, "@ptr is not available: flowlens has no per-event pointers")
		}
	}
	if f, ok := flowlog.Lookup(name); ok {
		if c.sc.afterStats {
			if out, ok := c.sc.keyCols[f.ID]; ok {
				if x, ok := c.sc.defs[out]; ok {
					return x
				}
			}
			c.fail(n, "field %q is not available after stats (stats at %s produced %s)", name, posOfSpan(c.src, c.statsSpan), strings.Join(c.statsOut, ", "))
		}
		return &Column{Field: f}
	}
	if !quoted && strings.Contains(name, ".") {
		if x, ok := c.dotted(n, name); ok {
			return x
		}
	}
	msg := fmt.Sprintf("unknown field %q", name)
	if s := c.suggest(name); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else if strings.Contains(name, "-") && !quoted {
		msg += "; quote names with hyphens in backticks"
	}
	c.fail(n, "%s", msg)
	return nil
}

func posOfSpan(src string, s syntax.Span) string {
	l, col := syntax.LineCol(src, s.Start)
	return fmt.Sprintf("%d:%d", l, col)
}

// suggest returns the visible name closest to name.
func (c *checker) suggest(name string) string {
	best, bestD := "", 3
	for n := range c.sc.defs {
		if d := textdist.Distance(strings.ToLower(name), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" || c.sc.afterStats {
		return best
	}
	for _, n := range []string{"@timestamp", "@message", "@logStream", "@log", "@ingestionTime"} {
		if d := textdist.Distance(strings.ToLower(name), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return best
	}
	if s := flowlog.Suggest(name); s != "" {
		if f, ok := flowlog.Lookup(s); ok {
			return f.Insights
		}
		return s
	}
	return ""
}

// formats returns the formats in play, loading them on first use.
func (c *checker) formats() map[int]*flowlog.Format {
	if c.plan.Formats != nil {
		return c.plan.Formats
	}
	f := c.opt.Formats
	if len(f) == 0 && c.opt.LoadFormats != nil {
		f = c.opt.LoadFormats()
	}
	if len(f) == 0 {
		f = map[int]*flowlog.Format{0: flowlog.DefaultFormat()}
	}
	c.plan.Formats = f
	return f
}

// IsQueryError reports whether err comes from the query text.
func IsQueryError(err error) bool { return errors.Is(err, syntax.ErrQuery) }

// binOrder is the order of a time series without sort: the rows of a
// stats grouped by bin() newest bin first, as the console lists them (the
// Knowledge Center article on custom formats prints `stats sum(bytes) as
// Data_Transferred by bin(1m)` from 15:23 down to 15:18), then by the
// other keys so that the order is the same every time. Nil without bin().
func binOrder(keys []Named) []SortKey {
	var bins, rest []SortKey
	for _, k := range keys {
		if b, ok := k.X.(*Call); ok && b.Fn == "bin" {
			bins = append(bins, SortKey{X: k.X, Desc: true})
		} else {
			rest = append(rest, SortKey{X: k.X})
		}
	}
	if len(bins) == 0 {
		return nil
	}
	return append(bins, rest...)
}

// rowTies are the keys that break ties of a sort of records (spec §5.5:
// ties are broken by the remaining output columns, so the same query over
// the same data returns the same rows in the same order, and a limit cuts
// at the same row): the stored columns the output shows, @timestamp, and
// when @message is shown every field of the formats in play. Keys the
// order already has are left out.
func (c *checker) rowTies(order []SortKey, cols []Named) []SortKey {
	seen := map[flowlog.FieldID]bool{}
	ts := false
	for _, k := range order {
		if col := storedColumn(k.X); col != nil {
			seen[col.Field.ID] = true
		}
		if s, ok := k.X.(*Sys); ok && s.Name == "@timestamp" {
			ts = true
		}
	}
	var out []SortKey
	add := func(f *flowlog.Field) {
		if f.ID < flowlog.NumFields && !seen[f.ID] {
			seen[f.ID] = true
			out = append(out, SortKey{X: &Column{Field: f}, Tie: true})
		}
	}
	message := false
	for _, n := range cols {
		if s, ok := n.X.(*Sys); ok {
			switch {
			case s.Name == "@timestamp" && !ts:
				ts = true
				out = append(out, SortKey{X: s, Tie: true})
			case s.Name == "@message":
				message = true
			}
			continue
		}
		if col := storedColumn(n.X); col != nil {
			add(col.Field)
		}
	}
	if message {
		var ids []int
		for _, f := range c.formats() {
			for _, fl := range f.Fields {
				if fl.ID < flowlog.NumFields && !seen[fl.ID] {
					ids = append(ids, int(fl.ID))
				}
			}
		}
		sort.Ints(ids)
		for _, id := range ids {
			add(flowlog.Get(flowlog.FieldID(id)))
		}
	}
	return out
}

// storedColumn is the stored column x reads as it is (a field, or what a
// parse yields from it), nil for anything else.
func storedColumn(x Expr) *Column {
	if col, ok := x.(*Column); ok {
		return col
	}
	return Unwritten(x)
}
