package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"

	isyntax "github.com/flowlens/flowlens/internal/insights/syntax"
)

// The row-wise analytic commands (accum, autoregress, filldown,
// sessionize, addtotals) and the heuristic pattern become window functions
// and expressions over the current rows.

// windowStage prepares the current stage for window columns: a limit or
// dedup applies after windows in SQL, so they need a stage of their own.
func (c *checker) windowStage() {
	if c.cur.Limit > 0 || len(c.cur.Dedup) > 0 {
		c.newStage()
	}
	c.cur.Windowed = true
}

// rowOrder is the order the rows are in at this point of the query.
func (c *checker) rowOrder() []SortKey {
	if len(c.cur.Order) > 0 {
		return c.cur.Order
	}
	if !c.sc.afterStats {
		return []SortKey{{X: &Sys{Name: "@timestamp"}, Desc: true}}
	}
	if c.cur.Grouped && len(c.cur.Keys) > 0 {
		return []SortKey{{X: c.cur.Keys[0].X}}
	}
	return nil
}

// addOutput adds a new column to the output the query currently shows.
func (c *checker) addOutput(name string) {
	switch {
	case c.hasDisp:
	case len(c.fields) > 0:
		if !contains(c.fields, name) {
			c.fields = append(c.fields, name)
		}
	case c.nstats > 0:
		if !contains(c.statsOut, name) {
			c.statsOut = append(c.statsOut, name)
		}
	default:
		c.addParsed(name)
	}
}

// visibleNames are the output columns at this point (for filldown and
// addtotals without a field list).
func (c *checker) visibleNames() []string {
	switch {
	case c.hasDisp:
		return c.display
	case len(c.fields) > 0:
		return c.fields
	case c.nstats > 0:
		return c.statsOut
	}
	return c.parsed
}

func (c *checker) accum(cmd *isyntax.Accum) {
	c.windowStage()
	x := c.num(c.expr(cmd.Field, exprCtx{aggOK: c.cur.Grouped}))
	name := cmd.Field.Name + "_accum"
	if cmd.Alias != nil {
		name = cmd.Alias.Name
	}
	c.define(name, &Call{Fn: "running_sum", Args: []Expr{x}, T: TypeNumber, Win: &Window{Order: c.rowOrder()}})
	c.addOutput(name)
}

func (c *checker) autoregress(cmd *isyntax.Autoregress) {
	c.windowStage()
	x := c.expr(cmd.Field, exprCtx{aggOK: c.cur.Grouped})
	base := cmd.Field.Name
	if cmd.Alias != nil {
		base = cmd.Alias.Name
	}
	for k := cmd.From; k <= cmd.To; k++ {
		name := fmt.Sprintf("%s_p%d", base, k)
		if cmd.Alias != nil && !cmd.P {
			name = cmd.Alias.Name
		}
		c.define(name, &Call{Fn: "lag", Args: []Expr{x, &Lit{Value: k, T: TypeNumber}}, T: x.Type(), Win: &Window{Order: c.rowOrder()}})
		c.addOutput(name)
	}
}

func (c *checker) filldown(cmd *isyntax.Filldown) {
	names := make([]string, 0, len(cmd.Fields))
	for _, f := range cmd.Fields {
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		for _, n := range c.visibleNames() {
			if !strings.HasPrefix(n, "@") {
				names = append(names, n)
			}
		}
	}
	c.windowStage()
	for _, n := range names {
		x := c.resolveName(cmd, n, false)
		c.define(n, &Call{Fn: "filldown", Args: []Expr{x}, T: x.Type(), Win: &Window{Order: c.rowOrder()}})
	}
}

// pattern [field] = stats count(*) as @sampleCount by <tokens with digits as <*>> as @pattern,
// with @ratio and @severityLabel.
func (c *checker) pattern(cmd *isyntax.Pattern) {
	if c.sortSpan != nil {
		c.fail(cmd, "pattern cannot follow sort")
	}
	var src Expr
	if cmd.Field != nil {
		src = c.str(c.expr(cmd.Field, exprCtx{}))
	} else {
		src = c.resolveName(cmd, "@message", false)
	}
	if c.cur.Grouped {
		c.newStage()
	}
	c.define("@pattern", &Call{Fn: "pattern_text", Args: []Expr{src}, T: TypeString})
	at := &isyntax.Field{Span: cmd.Span, Name: "@pattern"}
	star := &isyntax.Call{Span: cmd.Span, Name: "count", Star: true}
	c.stats(&isyntax.Stats{Span: cmd.Span, Aggs: []isyntax.Proj{{X: star, Alias: &isyntax.Field{Span: cmd.Span, Name: "@sampleCount"}}}, By: []isyntax.Proj{{X: at}}})
	count := c.sc.defs["@sampleCount"]
	ratio := &Call{Fn: "ratio", Args: []Expr{count}, T: TypeNumber, Agg: true, Win: &Window{}}
	sev := &Lit{Value: "UNKNOWN", T: TypeString}
	c.cur.Cols = append(c.cur.Cols, Named{Name: "@ratio", X: ratio}, Named{Name: "@severityLabel", X: sev})
	c.sc.defs["@ratio"], c.sc.defs["@severityLabel"] = ratio, sev
	c.statsOut = []string{"@pattern", "@ratio", "@sampleCount", "@severityLabel"}
	c.cur.Order = []SortKey{{X: count, Desc: true}}
	c.explicit = true
}

func (c *checker) addtotals(cmd *isyntax.Addtotals) {
	if cmd.Col {
		c.fail(cmd, "addtotals col=true is not supported yet (row totals are)")
	}
	if !cmd.Row {
		return
	}
	var names []string
	for _, f := range cmd.Fields {
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		for _, n := range c.visibleNames() {
			if x, ok := c.sc.defs[n]; ok && isNum(x.Type()) && x.Type() != TypeTime {
				names = append(names, n)
			} else if !ok && !strings.HasPrefix(n, "@") {
				if f := c.resolveName(cmd, n, false); isNum(f.Type()) {
					names = append(names, n)
				}
			}
		}
	}
	if len(names) == 0 {
		c.fail(cmd, "addtotals found no numeric field to add up; name them: addtotals bytes, packets")
	}
	if c.cur.Grouped {
		c.newStage()
	}
	var total Expr
	for _, n := range names {
		x := &Call{Fn: "coalesce", Args: []Expr{c.num(c.resolveName(cmd, n, false)), &Lit{Value: int64(0), T: TypeNumber}}, T: TypeNumber}
		if total == nil {
			total = x
		} else {
			total = &Call{Fn: "+", Args: []Expr{total, x}, T: TypeNumber}
		}
	}
	c.define(cmd.FieldName, total)
	c.addOutput(cmd.FieldName)
}

// sessionize numbers the sessions of each key: a gap longer than maxspan
// (default 30m) between consecutive records starts a new session.
func (c *checker) sessionize(cmd *isyntax.Sessionize) {
	if c.sc.afterStats {
		c.fail(cmd, "sessionize reads @timestamp, which is gone after stats")
	}
	span := int64(30 * 60_000)
	if cmd.MaxSpan != nil {
		span = c.period(cmd.MaxSpan).Millis()
		if span == 0 {
			c.fail(cmd.MaxSpan, "maxspan needs a fixed period (ms, s, m, h, d, w)")
		}
	}
	c.windowStage()
	keys := func() []Expr {
		var out []Expr
		for _, f := range cmd.Fields {
			out = append(out, c.expr(f, exprCtx{}))
		}
		return out
	}
	ts := &Sys{Name: "@timestamp"}
	prev := &Call{Fn: "lag", Args: []Expr{ts, &Lit{Value: int64(1), T: TypeNumber}}, T: TypeTime, Win: &Window{Partition: keys(), Order: []SortKey{{X: ts}}}}
	gap := &Call{Fn: "or", T: TypeBool, Args: []Expr{
		not(&Call{Fn: "ispresent", Args: []Expr{prev}, T: TypeBool}),
		&Call{Fn: ">", Args: []Expr{&Call{Fn: "-", Args: []Expr{ts, prev}, T: TypeNumber}, &Lit{Value: span, T: TypeNumber}}, T: TypeBool},
	}}
	flag := "_session_start"
	c.define(flag, &Call{Fn: "bool2int", Args: []Expr{gap}, T: TypeNumber})
	c.newStage()
	c.cur.Windowed = true
	out := "session_id"
	if cmd.Alias != nil {
		out = cmd.Alias.Name
	}
	c.define(out, &Call{Fn: "running_sum", Args: []Expr{c.sc.defs[flag]}, T: TypeNumber, Win: &Window{Partition: keys(), Order: []SortKey{{X: ts}}}})
	c.addOutput(out)
}

// outlier clamps, removes or marks values beyond the IQR fences.
func (c *checker) outlier(cmd *isyntax.Outlier) {
	c.windowStage()
	type fence struct {
		name      string
		x, lo, hi Expr
		hasLo     bool
	}
	var fences []fence
	for _, f := range cmd.Fields {
		x := c.num(c.expr(f, exprCtx{aggOK: c.cur.Grouped}))
		q := func(p float64) Expr {
			return &Call{Fn: "quantile_all", Args: []Expr{x, &Lit{Value: p, T: TypeNumber}}, T: TypeNumber, Agg: c.cur.Grouped, Win: &Window{}}
		}
		q1, q3 := q(0.25), q(0.75)
		iqr := &Call{Fn: "-", Args: []Expr{q3, q1}, T: TypeNumber}
		k := &Call{Fn: "*", Args: []Expr{&Lit{Value: cmd.Param, T: TypeNumber}, iqr}, T: TypeNumber}
		fences = append(fences, fence{name: f.Name, x: x,
			hi: &Call{Fn: "+", Args: []Expr{q3, k}, T: TypeNumber},
			lo: &Call{Fn: "-", Args: []Expr{q1, k}, T: TypeNumber}, hasLo: cmd.UseLower})
	}
	outside := func(fe fence) Expr {
		var r Expr = &Call{Fn: ">", Args: []Expr{fe.x, fe.hi}, T: TypeBool}
		if fe.hasLo {
			r = &Call{Fn: "or", Args: []Expr{r, &Call{Fn: "<", Args: []Expr{fe.x, fe.lo}, T: TypeBool}}, T: TypeBool}
		}
		return r
	}
	if cmd.Mark {
		for _, fe := range fences {
			name := fe.name + "_outlier"
			c.define(name, &Call{Fn: "coalesce", Args: []Expr{outside(fe), &Lit{Value: false, T: TypeBool}}, T: TypeBool})
			c.addOutput(name)
		}
	}
	switch cmd.Action {
	case "transform":
		for _, fe := range fences {
			v := &Call{Fn: "least", Args: []Expr{fe.x, fe.hi}, T: TypeNumber}
			if fe.hasLo {
				v = &Call{Fn: "greatest", Args: []Expr{v, fe.lo}, T: TypeNumber}
			}
			c.define(fe.name, v)
		}
	case "remove":
		var keep Expr
		for _, fe := range fences {
			in := not(&Call{Fn: "coalesce", Args: []Expr{outside(fe), &Lit{Value: false, T: TypeBool}}, T: TypeBool})
			if keep == nil {
				keep = in
			} else {
				keep = &Call{Fn: "and", Args: []Expr{keep, in}, T: TypeBool}
			}
		}
		c.define("_outlier_keep", keep)
		c.newStage()
		c.cur.Filters = append(c.cur.Filters, c.sc.defs["_outlier_keep"])
	}
}

// unnest emits one row per element of a list field (none for an empty or
// absent list, or a JSON value that is not an array).
func (c *checker) unnest(f *isyntax.Field, into string) {
	if c.cur.Grouped {
		c.newStage()
	}
	x := c.expr(f, exprCtx{})
	var el Expr
	switch x.Type() {
	case TypeList:
		el = &Call{Fn: "unnest", Args: []Expr{x}, T: TypeString}
	case TypeJSON:
		el = &Call{Fn: "unnest_json", Args: []Expr{x}, T: TypeJSON}
	default:
		c.fail(f, "%s is not a list: unnest takes a list from split(), parse multi or jsonParse()", f.Name)
	}
	c.windowStage()
	c.define(into, el)
	c.addOutput(into)
}

// fillmissing adds the empty bins of a stats … by bin() (a fixed period,
// bin() the only key) between its first and last bin.
func (c *checker) fillmissing(cmd *isyntax.Fillmissing) {
	s := c.cur
	if !s.Grouped || len(s.Keys) != 1 || s.Limit > 0 || len(s.Dedup) > 0 || s.Windowed {
		c.fail(cmd, "fillmissing follows a stats grouped by bin() alone (stats … by bin(5m) | fillmissing)")
	}
	bin, ok := s.Keys[0].X.(*Call)
	if !ok || bin.Fn != "bin" {
		c.fail(cmd, "fillmissing follows a stats grouped by bin() alone (stats … by bin(5m) | fillmissing)")
	}
	step := bin.Args[1].(*Lit).Value.(Period).Millis()
	if step == 0 || len(bin.Args) == 3 {
		c.fail(cmd, "fillmissing needs a bin() of fixed length without offset (ms, s, m, h, d, w)")
	}
	keyName := s.Keys[0].Name
	values := map[string]Expr{}
	for _, v := range cmd.Values {
		if _, ok := c.sc.defs[v.Field.Name]; !ok || v.Field.Name == keyName {
			c.fail(v.Field, "%s is not a value column of the stats before fillmissing", v.Field.Name)
		}
		x := c.expr(v.Value, exprCtx{})
		if _, ok := x.(*Lit); !ok {
			c.fail(v.Value, "fillmissing fills with a constant such as 0")
		}
		values[v.Field.Name] = x
	}
	s.Order = nil
	c.newStage()
	fill := &Fill{Key: c.sc.defs[keyName].(*Ref).Name, StepMs: step, Values: map[string]Expr{}}
	for name, x := range values {
		ref := c.sc.defs[name].(*Ref)
		if isNum(ref.T) != isNum(x.Type()) {
			if isNum(ref.T) {
				x = c.num(x)
			} else {
				x = c.str(x)
			}
		}
		fill.Values[ref.Name] = x
	}
	c.cur.Fill = fill
	c.cur.Windowed = true
	c.newStage()
	c.cur.Order = []SortKey{{X: c.sc.defs[keyName]}}
	c.explicit = true
}

// diff turns the pattern stage into a comparison of the query's range with
// an earlier one: counts of both, their difference and a description.
func (c *checker) diff(cmd isyntax.Node, mode string, shift int64) {
	s := c.cur
	if !s.Grouped || len(s.Keys) != 1 || s.Keys[0].Name != "@pattern" || c.plan.Compare != nil {
		c.fail(cmd, "diff follows pattern (pattern @message | diff)")
	}
	switch mode {
	case "previousDay":
		shift = 86_400_000
	case "previousWeek":
		shift = 7 * 86_400_000
	case "previousMonth":
		shift = 30 * 86_400_000
	}
	if shift == 0 && mode == "" {
		if _, ok := cmd.(*isyntax.LogCompare); ok {
			c.fail(cmd, "logcompare needs a fixed timeshift (ms, s, m, h, d, w)")
		}
	}
	c.plan.Compare = &Compare{ShiftMs: shift}
	cur := &Call{Fn: "current_range", T: TypeBool}
	num := func(x Expr) *Call { return &Call{Fn: "count_if", Args: []Expr{x}, T: TypeNumber, Agg: true} }
	now, before := num(cur), num(not(cur))
	delta := &Call{Fn: "-", Args: []Expr{now, before}, T: TypeNumber}
	zero := &Lit{Value: int64(0), T: TypeNumber}
	desc := &Call{Fn: "case", T: TypeString, Args: []Expr{
		&Call{Fn: "=", Args: []Expr{before, zero}, T: TypeBool}, strLit("new"),
		&Call{Fn: "=", Args: []Expr{now, zero}, T: TypeBool}, strLit("gone"),
		&Call{Fn: ">", Args: []Expr{delta, zero}, T: TypeBool}, strLit("increased"),
		&Call{Fn: "<", Args: []Expr{delta, zero}, T: TypeBool}, strLit("decreased"),
		strLit("unchanged"),
	}}
	ratio := &Call{Fn: "ratio", Args: []Expr{now}, T: TypeNumber, Agg: true, Win: &Window{}}
	cols := []Named{
		s.Keys[0],
		{Name: "@ratio", X: ratio},
		{Name: "@sampleCount", X: now},
		{Name: "@severityLabel", X: &Lit{Value: "UNKNOWN", T: TypeString}},
		{Name: "@previousSampleCount", X: before},
		{Name: "@diffEventCount", X: delta},
		{Name: "@differenceDescription", X: desc},
	}
	s.Cols = cols
	c.statsOut = nil
	for _, col := range cols {
		c.sc.defs[col.Name] = col.X
		c.statsOut = append(c.statsOut, col.Name)
	}
	s.Order = []SortKey{{X: delta, Desc: true}}
}

// anomaly flags patterns (a deterministic stand-in for AWS's models): after
// diff, a new pattern, or a count that tripled or fell to a third; without
// diff, a pattern under 0.1% of the events.
func (c *checker) anomaly(cmd *isyntax.Anomaly) {
	s := c.cur
	if !s.Grouped || len(s.Keys) != 1 || s.Keys[0].Name != "@pattern" {
		c.fail(cmd, "anomaly follows pattern (pattern @message | anomaly)")
	}
	now := c.sc.defs["@sampleCount"]
	three := &Lit{Value: int64(3), T: TypeNumber}
	var kind Expr
	if before, ok := c.sc.defs["@previousSampleCount"]; ok {
		zero := &Lit{Value: int64(0), T: TypeNumber}
		kind = &Call{Fn: "case", T: TypeString, Args: []Expr{
			&Call{Fn: "=", Args: []Expr{before, zero}, T: TypeBool}, strLit("new pattern"),
			&Call{Fn: ">", Args: []Expr{now, &Call{Fn: "*", Args: []Expr{before, three}, T: TypeNumber}}, T: TypeBool}, strLit("pattern frequency"),
			&Call{Fn: "<", Args: []Expr{&Call{Fn: "*", Args: []Expr{now, three}, T: TypeNumber}, before}, T: TypeBool}, strLit("pattern frequency"),
		}}
	} else {
		kind = &Call{Fn: "case", T: TypeString, Args: []Expr{
			&Call{Fn: "<", Args: []Expr{c.sc.defs["@ratio"], &Lit{Value: 0.001, T: TypeNumber}}, T: TypeBool}, strLit("rare pattern"),
		}}
	}
	is := &Call{Fn: "ispresent", Args: []Expr{kind}, T: TypeBool}
	s.Cols = append(s.Cols, Named{Name: "@anomalyType", X: kind}, Named{Name: "@isAnomaly", X: is})
	c.sc.defs["@anomalyType"], c.sc.defs["@isAnomaly"] = kind, is
	c.statsOut = append(c.statsOut, "@anomalyType", "@isAnomaly")
}

// relevantFields ranks the numeric fields by how far their median over the
// matching events (the filters so far) lies from their median over every
// event of the range: |matching − all| / (|all| + 1).
func (c *checker) relevantFields(cmd *isyntax.RelevantFields) {
	s := c.cur
	if len(c.plan.Stages) != 1 || s.Grouped || len(s.Order) > 0 || s.Limit > 0 || len(s.Dedup) > 0 || s.Windowed || len(s.Joins) > 0 {
		c.fail(cmd, "relevantfields follows filters only (filter … | relevantfields)")
	}
	var cond Expr = &Lit{Value: true, T: TypeBool}
	for _, f := range s.Filters {
		if l, ok := cond.(*Lit); ok && l.Value == true {
			cond = f
		} else {
			cond = &Call{Fn: "and", Args: []Expr{cond, f}, T: TypeBool}
		}
	}
	s.Filters = nil
	var names []string
	seen := map[string]bool{}
	for _, id := range sortedFormatIDs(c.formats()) {
		for i, f := range c.formats()[id].Fields {
			if c.formats()[id].Extra[i] || f.Kind != flowlog.KindInt || f.Name == "version" || seen[f.Column] {
				continue
			}
			seen[f.Column] = true
			names = append(names, f.Column)
		}
	}
	if len(names) == 0 {
		c.fail(cmd, "relevantfields found no numeric field in the formats of the data")
	}
	sort.Strings(names)
	s.Grouped = true
	s.Cols = nil
	for i, n := range names {
		col := c.resolveName(cmd, n, false)
		s.Cols = append(s.Cols,
			Named{Name: fmt.Sprintf("_m%d", 2*i), X: &Call{Fn: "median_if", Args: []Expr{col, cond}, T: TypeNumber, Agg: true}},
			Named{Name: fmt.Sprintf("_m%d", 2*i+1), X: &Call{Fn: "median", Args: []Expr{col}, T: TypeNumber, Agg: true}})
	}
	sc := newScope()
	sc.afterStats = true
	for _, col := range s.Cols {
		sc.defs[col.Name] = col.X
	}
	c.sc = sc
	c.newStage()
	var args []Expr
	for _, n := range names {
		args = append(args, strLit(n))
	}
	for i := range names {
		args = append(args, c.sc.defs[fmt.Sprintf("_m%d", 2*i)])
	}
	for i := range names {
		args = append(args, c.sc.defs[fmt.Sprintf("_m%d", 2*i+1)])
	}
	part := func(k int64, t Type) Expr {
		return &Call{Fn: "unpivot", Args: append([]Expr{&Lit{Value: k, T: TypeNumber}}, args...), T: t}
	}
	c.define("@fieldName", part(1, TypeString))
	c.define("@conditionalMedian", part(2, TypeNumber))
	c.define("@baselineMedian", part(3, TypeNumber))
	c.cur.Windowed = true
	c.newStage()
	cm, bm := c.sc.defs["@conditionalMedian"], c.sc.defs["@baselineMedian"]
	score := &Call{Fn: "/", T: TypeNumber, Args: []Expr{
		&Call{Fn: "abs", Args: []Expr{&Call{Fn: "-", Args: []Expr{cm, bm}, T: TypeNumber}}, T: TypeNumber},
		&Call{Fn: "+", Args: []Expr{&Call{Fn: "abs", Args: []Expr{bm}, T: TypeNumber}, &Lit{Value: int64(1), T: TypeNumber}}, T: TypeNumber},
	}}
	c.define("@relevanceScore", score)
	c.define("@topRelevanceContributors", &Lit{T: TypeString})
	c.cur.Order = []SortKey{{X: score, Desc: true}}
	c.explicit = true
	c.nstats++
	c.statsOut = []string{"@fieldName", "@relevanceScore", "@topRelevanceContributors", "@conditionalMedian", "@baselineMedian"}
}

func sortedFormatIDs(m map[int]*flowlog.Format) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}
