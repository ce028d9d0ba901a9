package sqlgen

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
)

func (g *gen) fail(format string, args ...any) {
	panic(genError(fmt.Sprintf(format, args...)))
}

// value renders an expression for a SELECT list.
func (g *gen) value(x plan.Expr) string { return g.expr(x) }

// partial lists the primitives that fail on some input (overflow, invalid
// text): the dialect turns such a failure into NULL with "try", which
// cannot hold an aggregate or window function.
var partial = map[string]bool{
	"checked": true, "tobigint": true, "log": true, "sqrt": true, "round": true, "urldecode": true,
	"base64decode": true, "hextoascii": true, "dectohex": true, "substr": true, "formatdate": true,
	"month_index": true, "month_start": true, "list_get": true,
}

// fn renders a dialect primitive.
func (g *gen) fn(name string, args ...string) string {
	s, ok := g.d.Func(name, args)
	if !ok {
		s = name + "(" + strings.Join(args, ", ") + ")"
	}
	if partial[name] && !g.noTry {
		s, _ = g.d.Func("try", []string{s})
	}
	return s
}

func (g *gen) lit(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case bool:
		t := "FALSE"
		if v {
			t = "TRUE"
		}
		if s, ok := g.d.Func("bool_literal", []string{t}); ok {
			return s
		}
		return t
	case int64:
		return itoa(v)
	case int:
		return strconv.Itoa(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "NULL"
		}
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case string:
		return g.d.Str(v)
	}
	g.fail("literal of type %T", v)
	return ""
}

// expr renders an expression.
func (g *gen) expr(x plan.Expr) string {
	switch x := x.(type) {
	case *plan.Column:
		return g.column(x.Field)
	case *plan.Ref:
		if e, ok := g.lookups[x.Name]; ok {
			return e
		}
		return g.d.Ident(x.Name)
	case *plan.Lit:
		if _, ok := x.Value.(plan.Period); ok {
			g.fail("period outside a time function")
		}
		return g.lit(x.Value)
	case *plan.Sys:
		return g.sys(x.Name)
	case *plan.Call:
		return g.call(x)
	}
	g.fail("expression %T", x)
	return ""
}

func (g *gen) sys(name string) string {
	switch name {
	case "@timestamp":
		return "(start * 1000)"
	case "@ingestionTime":
		return "_ingest_time"
	case "@logStream":
		// Absent for a format without the interface.
		return "CASE WHEN interface_id IS NULL THEN NULL ELSE " + g.fn("concat", "interface_id", g.d.Str("-all")) + " END"
	case "@log":
		// account-id:dataset, the dataset alone for a format without the
		// account.
		return "CASE WHEN account_id IS NULL THEN dataset ELSE " + g.fn("concat", "account_id", g.d.Str(":"), "dataset") + " END"
	case "@message":
		return g.message()
	}
	g.fail("system field %s", name)
	return ""
}

// message rebuilds @message in each record's own format.
func (g *gen) message() string {
	line := func(f *flowlog.Format) string {
		parts := make([]string, len(f.Fields))
		for i, fl := range f.Fields {
			c := g.column(fl)
			if f.Extra[i] {
				parts[i] = g.d.Str("-")
				continue
			}
			if fl.Kind.Numeric() {
				c = g.fn("tostring", c)
			}
			parts[i] = g.fn("coalesce", c, g.d.Str("-"))
		}
		return g.fn("concat_ws", append([]string{g.d.Str(" ")}, parts...)...)
	}
	return g.perFormat(line)
}

// messagePattern is the pattern of @message (every token with a digit
// turned into <*>) built field by field: values hold no spaces, numbers
// always become <*>, so only text fields need a look.
func (g *gen) messagePattern() string {
	star, dash := g.d.Str("<*>"), g.d.Str("-")
	line := func(f *flowlog.Format) string {
		parts := make([]string, len(f.Fields))
		for i, fl := range f.Fields {
			c := g.column(fl)
			switch {
			case f.Extra[i]:
				parts[i] = dash
			case fl.Kind.Numeric():
				parts[i] = "CASE WHEN " + c + " IS NULL THEN " + dash + " ELSE " + star + " END"
			default:
				parts[i] = "CASE WHEN " + c + " IS NULL THEN " + dash + " WHEN " + g.fn("regexp", c, g.d.Str("[0-9]")) + " THEN " + star + " ELSE " + c + " END"
			}
		}
		return g.fn("concat_ws", append([]string{g.d.Str(" ")}, parts...)...)
	}
	return g.perFormat(line)
}

// perFormat renders line for each dataset format, chosen by _format_id
// when there is more than one.
func (g *gen) perFormat(line func(*flowlog.Format) string) string {
	ids := make([]int, 0, len(g.p.Formats))
	for id := range g.p.Formats {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	if len(ids) == 1 {
		return line(g.p.Formats[ids[0]])
	}
	var b strings.Builder
	// a searched CASE: ClickHouse 18.16's CASE x WHEN compares an Int32
	// column with a UInt32 literal as unequal
	b.WriteString("CASE")
	for _, id := range ids {
		fmt.Fprintf(&b, " WHEN _format_id = %d THEN %s", id, line(g.p.Formats[id]))
	}
	b.WriteString(" END")
	return b.String()
}

func (g *gen) args(c *plan.Call) []string {
	out := make([]string, len(c.Args))
	for i, a := range c.Args {
		out[i] = g.expr(a)
	}
	return out
}

func asFlag(cond string) string { return "CASE WHEN " + cond + " THEN 1 ELSE 0 END" }

// window renders a window function.
func (g *gen) window(c *plan.Call) string {
	var over []string
	var parts []string
	for _, p := range c.Win.Partition {
		if !isConst(p) {
			parts = append(parts, g.expr(p))
		}
	}
	if len(parts) > 0 {
		over = append(over, "PARTITION BY "+strings.Join(parts, ", "))
	}
	if o := g.order(c.Win.Order); o != "" {
		over = append(over, "ORDER BY "+o)
	}
	const running = " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
	a := g.args(c)
	switch c.Fn {
	case "running_sum":
		return "sum(" + a[0] + ") OVER (" + strings.Join(over, " ") + running + ")"
	case "lag":
		return g.fn("lag", a[0], a[1]) + " OVER (" + strings.Join(over, " ") + running + ")"
	case "filldown":
		return g.fn("filldown", a[0]) + " OVER (" + strings.Join(over, " ") + running + ")"
	case "ratio":
		return "(" + a[0] + " / sum(" + a[0] + ") OVER ())"
	case "row_number":
		return "row_number() OVER (" + strings.Join(over, " ") + ")"
	case "quantile_all":
		return g.fn("quantile_cont", a[0], a[1]) + " OVER (" + strings.Join(over, " ") + ")"
	}
	g.fail("window function %s", c.Fn)
	return ""
}

// inQuery renders x IN (SELECT col FROM (subquery)); the subquery scans
// its SOURCE datasets or the query's, over the same time range.
func (g *gen) inQuery(c *plan.Call) string {
	opt := g.opt
	opt.Limit = 0
	if len(c.Sub.Datasets) > 0 {
		opt.Datasets = c.Sub.Datasets
	}
	if c.Sub.Formats == nil {
		c.Sub.Formats = g.p.Formats
	}
	sub := &gen{d: g.d, p: c.Sub, opt: opt}
	var sql string
	for i, s := range c.Sub.Stages {
		sql = sub.stage(i, s, sql, i == len(c.Sub.Stages)-1)
	}
	col := g.d.Ident(c.Sub.Output[0].Name)
	return "(" + g.expr(c.Args[0]) + " IN (SELECT " + col + " FROM (" + sql + ") AS " + g.d.Ident("_q") + "))"
}

// hasWindow reports whether x contains a window function.
func hasWindow(x plan.Expr) bool {
	found := false
	plan.Walk(x, func(e plan.Expr) {
		if c, ok := e.(*plan.Call); ok && c.Win != nil {
			found = true
		}
	})
	return found
}

func (g *gen) call(c *plan.Call) string {
	// try() cannot hold an aggregate or a window function.
	saved := g.noTry
	g.noTry = plan.HasAgg(c) || hasWindow(c)
	defer func() { g.noTry = saved }()
	if c.Win != nil {
		return g.window(c)
	}
	switch c.Fn {
	case "csv_field":
		n := c.Args[1].(*plan.Lit).Value.(int64)
		return g.fn("csv_field", g.expr(c.Args[0]), g.d.Str(csvFieldRegex(n)))
	case "rate_span":
		a := g.args(c)
		return "(" + g.fn("todouble_raw", a[0]) + " * " + a[1] + " / ((max(start) - min(start) + 1) * 1000))"
	case "median":
		return g.fn("quantile_cont", g.expr(c.Args[0]), "0.5")
	case "median_if":
		return g.fn("quantile_if", g.expr(c.Args[0]), "0.5", g.expr(c.Args[1]))
	case "unpivot":
		a := g.args(c)
		n := (len(a) - 1) / 3
		lists := []string{a[0]}
		for i := 0; i < 3; i++ {
			lists = append(lists, "["+strings.Join(a[1+i*n:1+(i+1)*n], ", ")+"]")
		}
		return g.fn("unpivot", lists...)
	case "current_range":
		return "(start >= " + itoa(g.opt.Start) + " AND start <= " + itoa(g.opt.End) + ")"
	case "written":
		// the value as its record writes it (as @message does)
		col := c.Args[0].(*plan.Column)
		e := g.column(col.Field)
		if col.Field.Kind.Numeric() {
			e = g.fn("tostring", e)
		}
		return g.fn("coalesce", e, g.d.Str("-"))
	case "count_if":
		return g.fn("count_if", g.expr(c.Args[0]))
	case "split", "unnest", "unnest_json", "json_parse", "json_text", "json_array_size", "json_array_contains",
		"logfmt", "regexp_extract_all", "list_text":
		return g.fn(c.Fn, g.args(c)...)
	case "json_get":
		return g.jsonGet(c)
	case "json_stringify":
		return g.expr(c.Args[0]) // a JSON value is held as its JSON text
	case "histogram":
		return g.histogram(c)
	case "list_get":
		a := g.args(c)
		return g.fn("list_get", a[0], a[1])
	case "in_query":
		return g.inQuery(c)
	case "pattern_text":
		if sys, ok := c.Args[0].(*plan.Sys); ok && sys.Name == "@message" {
			return g.messagePattern()
		}
		return g.fn("regexreplace", g.expr(c.Args[0]), g.d.Str("[^ ]*[0-9][^ ]*"), g.d.Str("<*>"))
	case "and", "or":
		a := g.args(c)
		return "(" + a[0] + " " + strings.ToUpper(c.Fn) + " " + a[1] + ")"
	case "not":
		return "(NOT " + g.expr(c.Args[0]) + ")"
	case "=", "<", "<=", ">", ">=", "%":
		a := g.args(c)
		return "(" + a[0] + " " + c.Fn + " " + a[1] + ")"
	case "+", "-", "*":
		a := g.args(c)
		if g.noTry { // no try() here: compute in floating point, which cannot overflow
			return "(" + g.fn("todouble_raw", a[0]) + " " + c.Fn + " " + a[1] + ")"
		}
		return g.fn("checked", "("+a[0]+" "+c.Fn+" "+a[1]+")")
	case "!=":
		a := g.args(c)
		return "(" + a[0] + " <> " + a[1] + ")"
	case "/":
		a := g.args(c)
		return g.fn("fdiv", a[0], a[1])
	case "^":
		a := g.args(c)
		return g.fn("pow", a[0], a[1])
	case "neg":
		if g.noTry {
			return "(- " + g.fn("todouble_raw", g.expr(c.Args[0])) + ")"
		}
		return g.fn("checked", "(- "+g.expr(c.Args[0])+")")
	case "in":
		a := g.args(c)
		return "(" + a[0] + " IN (" + strings.Join(a[1:], ", ") + "))"
	case "contains", "starts_with", "ends_with", "regexp", "tonumber", "tostring", "bool2int",
		"toint", "tolong", "todouble", "log", "strlen", "messagesize", "toupper", "tolower", "replace",
		"regexreplace", "urlencode", "urldecode", "base64encode", "base64decode", "hextoascii",
		"hextodec", "md5", "sha256", "count_distinct", "stddev", "sortsfirst", "sortslast", "concat":
		return g.fn(c.Fn, g.args(c)...)
	case "sqrt":
		return g.fn("sqrt", g.expr(c.Args[0]))
	case "greatest", "least":
		a := g.args(c)
		if g.d.Name() == "clickhouse" && anyFloat(c.Args) {
			// ClickHouse (18.16 and current) has no common type for Int64
			// and Float64: DuckDB's is DOUBLE
			for i := range a {
				a[i] = g.fn("todouble_raw", a[i])
			}
		}
		return c.Fn + "(" + strings.Join(a, ", ") + ")"
	case "abs", "ceil", "floor", "sum", "avg", "min", "max", "count":
		return c.Fn + "(" + strings.Join(g.args(c), ", ") + ")"
	case "round":
		a := g.args(c)
		if len(a) == 1 {
			a = append(a, "0")
		}
		return g.fn("round", a...)
	case "count_star":
		if g.rollup && g.view == rejectsView {
			// a stage without keys has one row, also over no rollup rows
			return "coalesce(CAST(sum(records) AS BIGINT), 0)"
		}
		if g.rollup {
			return "CAST(sum(records) AS BIGINT)"
		}
		return "count(*)"
	case "pct":
		p, _ := c.Args[1].(*plan.Lit).Value.(float64)
		return g.fn("pct", g.expr(c.Args[0]), g.lit(p/100))
	case "earliest", "latest":
		return g.fn(c.Fn, g.expr(c.Args[0]), "start")
	case "regexp_extract":
		a := g.args(c)
		return g.fn("regexp_extract", a...)
	case "ispresent":
		return "(" + g.expr(c.Args[0]) + " IS NOT NULL)"
	case "isnumeric":
		return "(" + g.fn("tonumber", g.expr(c.Args[0])) + " IS NOT NULL)"
	case "coalesce", "if", "case":
		return g.conditional(c)
	case "isempty":
		a := g.expr(c.Args[0])
		if c.Args[0].Type() != plan.TypeString && c.Args[0].Type() != plan.TypeAny {
			return asFlag("(" + a + " IS NULL)")
		}
		return asFlag("(" + a + " IS NULL OR " + a + " = '')")
	case "isblank":
		a := g.expr(c.Args[0])
		if c.Args[0].Type() != plan.TypeString && c.Args[0].Type() != plan.TypeAny {
			return asFlag("(" + a + " IS NULL)")
		}
		return asFlag("(" + a + " IS NULL OR " + g.fn("trim", a) + " = '')")
	case "strcontains":
		a := g.args(c)
		if len(a) == 3 {
			return asFlag("(" + a[2] + " <> 0 AND " + g.fn("contains", g.fn("tolower", a[0]), g.fn("tolower", a[1])) + " OR NOT " + a[2] + " <> 0 AND " + g.fn("contains", a[0], a[1]) + ")")
		}
		return asFlag(g.fn("contains", a[0], a[1]))
	case "startswith":
		a := g.args(c)
		return asFlag(g.fn("starts_with", a[0], a[1]))
	case "endswith":
		a := g.args(c)
		return asFlag(g.fn("ends_with", a[0], a[1]))
	case "ltrim", "rtrim", "trim":
		return g.fn(c.Fn, g.args(c)...)
	case "substr":
		a := g.args(c)
		a[1] = "(" + a[1] + " + 1)"
		return g.fn("substr", a...)
	case "dectohex":
		return g.fn("dectohex", g.expr(c.Args[0]))
	case "haversine":
		a := g.args(c)
		r := func(s string) string { return "((" + s + ") * pi() / 180)" }
		return fmt.Sprintf("(2 * 6371 * asin(sqrt(%s + cos(%s) * cos(%s) * %s)))",
			g.fn("pow", "sin(("+r(a[2])+" - "+r(a[0])+") / 2)", "2"), r(a[0]), r(a[2]),
			g.fn("pow", "sin(("+r(a[3])+" - "+r(a[1])+") / 2)", "2"))
	case "bin":
		p := c.Args[1].(*plan.Lit).Value.(plan.Period)
		var off int64
		if len(c.Args) == 3 {
			off = c.Args[2].(*plan.Lit).Value.(int64)
		}
		return g.floorTime(c.Args[0], p, off, false)
	case "datefloor", "dateceil":
		p := c.Args[1].(*plan.Lit).Value.(plan.Period)
		return g.floorTime(c.Args[0], p, 0, c.Fn == "dateceil")
	case "frommillis", "tomillis":
		return g.expr(c.Args[0])
	case "now":
		return itoa(g.opt.NowMillis / 1000)
	case "querystarttime":
		return itoa(g.opt.Start * 1000)
	case "queryendtime":
		return itoa(g.opt.End * 1000)
	case "querytimerange":
		return itoa((g.opt.End - g.opt.Start) * 1000)
	case "formatdate":
		a := g.args(c)
		return g.fn("formatdate", a[0], a[1])
	case "parsedate":
		a := g.args(c)
		return g.fn("parsedate", a[0], a[1])
	case "ipv4_range":
		return g.ipv4Range(c)
	case "ipv4_between":
		return g.ipv4Range(c)
	case "ipv6_prefix":
		return g.ipv6Prefix(c)
	case "ipv4tonumber":
		return g.fn("ipv4num", g.expr(c.Args[0]))
	case "isvalidipv4":
		return "(" + g.fn("ipv4num", g.expr(c.Args[0])) + " IS NOT NULL)"
	case "isvalidipv6":
		return g.fn("isipv6", g.expr(c.Args[0]))
	case "isvalidip":
		a := g.expr(c.Args[0])
		return "(" + g.fn("ipv4num", a) + " IS NOT NULL OR " + g.fn("isipv6", a) + ")"
	case "isprivateip", "isreservedip", "ispublicip":
		return g.ipClass(c.Fn, c.Args[0])
	}
	g.fail("function %s", c.Fn)
	return ""
}

// conditional renders coalesce/if/case, bringing values to one type.
func (g *gen) conditional(c *plan.Call) string {
	val := func(x plan.Expr) string {
		s := g.expr(x)
		if c.T == plan.TypeString && x.Type() != plan.TypeString && x.Type() != plan.TypeAny {
			return g.fn("tostring", s)
		}
		if l, ok := x.(*plan.Lit); ok && l.Value == nil && c.T == plan.TypeString {
			return g.fn("tostring", s)
		}
		return s
	}
	switch c.Fn {
	case "coalesce":
		parts := make([]string, len(c.Args))
		for i, a := range c.Args {
			parts[i] = val(a)
		}
		return "coalesce(" + strings.Join(parts, ", ") + ")"
	case "if":
		return "CASE WHEN " + g.expr(c.Args[0]) + " THEN " + val(c.Args[1]) + " ELSE " + val(c.Args[2]) + " END"
	}
	var b strings.Builder
	b.WriteString("CASE")
	n := len(c.Args)
	for i := 0; i+1 < n; i += 2 {
		b.WriteString(" WHEN " + g.expr(c.Args[i]) + " THEN " + val(c.Args[i+1]))
	}
	if n%2 == 1 {
		b.WriteString(" ELSE " + val(c.Args[n-1]))
	}
	b.WriteString(" END")
	return b.String()
}

// floorTime floors a millisecond timestamp to a period (ceil rounds up).
func (g *gen) floorTime(ts plan.Expr, p plan.Period, offMs int64, ceil bool) string {
	if ms := p.Millis(); ms > 0 {
		// Weeks start on Monday: 1970-01-05 is 4 days after the epoch.
		var anchor int64
		if p.Unit == "w" {
			anchor = 4 * 86_400_000
		}
		shift := anchor + offMs
		if s, ok := ts.(*plan.Sys); ok && s.Name == "@timestamp" && ms%1000 == 0 && shift%1000 == 0 && !ceil {
			// on start (seconds) directly: integer arithmetic, no multiplication per row before the division
			sec, sh := ms/1000, shift/1000
			start := "start"
			if g.rollup && g.view == rollupView {
				start = "bin" // the 5-minute bin of start; useRollup checked the widths divide
			}
			if sh == 0 {
				return "(" + g.fn("intdiv", start, itoa(sec)) + " * " + itoa(ms) + ")"
			}
			return "(" + g.fn("intdiv", "("+start+" - "+itoa(sh)+")", itoa(sec)) + " * " + itoa(ms) + " + " + itoa(anchor) + ")"
		}
		t := g.fn("tobigint", g.expr(ts))
		if shift != 0 {
			t = "(" + t + " - " + itoa(shift) + ")"
		}
		floor := "(" + g.fn("intdiv", t, itoa(ms)) + " * " + itoa(ms) + ")"
		if anchor != 0 {
			floor = "(" + floor + " + " + itoa(anchor) + ")"
		}
		if ceil {
			return "CASE WHEN " + floor + " = " + g.expr(ts) + " THEN " + floor + " ELSE " + floor + " + " + itoa(ms) + " END"
		}
		return floor
	}
	months := p.N
	switch p.Unit {
	case "q":
		months *= 3
	case "y":
		months *= 12
	}
	t := g.expr(ts)
	if offMs != 0 {
		t = "(" + t + " - " + itoa(offMs) + ")"
	}
	idx := g.fn("month_index", t)
	floorIdx := "(" + g.fn("intdiv", idx, itoa(months)) + " * " + itoa(months) + ")"
	floor := g.fn("month_start", floorIdx)
	if ceil {
		return "CASE WHEN " + floor + " = " + g.expr(ts) + " THEN " + floor + " ELSE " + g.fn("month_start", floorIdx+" + "+itoa(months)) + " END"
	}
	return floor
}

// ipv4Range tests an address against [lo, hi], on the integer column
// when the address is srcaddr or dstaddr.
func (g *gen) ipv4Range(c *plan.Call) string {
	lo, hi := g.expr(c.Args[1]), g.expr(c.Args[2])
	var v string
	if col, ok := c.Args[0].(*plan.Column); ok && (col.Field.ID == flowlog.SrcAddr || col.Field.ID == flowlog.DstAddr) {
		v = "_" + col.Field.Column + "_v4"
	} else {
		v = g.fn("ipv4num", g.expr(c.Args[0]))
	}
	if lo == hi && c.Fn == "ipv4_range" {
		return "(" + v + " = " + lo + ")"
	}
	return "(" + v + " BETWEEN " + lo + " AND " + hi + ")"
}

// ipv6Prefix tests the first bits of an IPv6 address against a hex prefix.
func (g *gen) ipv6Prefix(c *plan.Call) string {
	hex := c.Args[1].(*plan.Lit).Value.(string)
	bits := c.Args[2].(*plan.Lit).Value.(int64)
	x := g.expr(c.Args[0])
	if _, ok := c.Args[0].(*plan.Column); !ok {
		x = g.fn("tolower", x) // stored addresses are already lower case
	}
	full := g.fn("ipv6hex", x)
	nd := int(bits / 4)
	cond := g.fn("starts_with", full, g.d.Str(hex[:nd]))
	if rem := bits % 4; rem != 0 {
		mask := (0xf << (4 - rem)) & 0xf
		want, _ := strconv.ParseUint(hex[nd:nd+1], 16, 8)
		digit := g.fn("hexdigit", g.fn("substr", full, itoa(int64(nd+1)), "1"))
		cond = "(" + cond + " AND " + g.fn("bitand", digit, itoa(int64(mask))) + " = " + itoa(int64(want)&int64(mask)) + ")"
	}
	return cond
}

// ipClass renders isPrivateIP, isReservedIP and isPublicIP.
func (g *gen) ipClass(fn string, x plan.Expr) string {
	var v string
	if col, ok := x.(*plan.Column); ok && (col.Field.ID == flowlog.SrcAddr || col.Field.ID == flowlog.DstAddr) {
		v = "_" + col.Field.Column + "_v4"
	} else {
		v = g.fn("ipv4num", g.expr(x))
	}
	s := g.expr(x)
	anyOf := func(ranges [][2]int64) string {
		parts := make([]string, len(ranges))
		for i, r := range ranges {
			parts[i] = v + " BETWEEN " + itoa(r[0]) + " AND " + itoa(r[1])
		}
		return "coalesce(" + strings.Join(parts, " OR ") + ", " + g.lit(false) + ")"
	}
	low := g.fn("tolower", s)
	private := "(" + anyOf(privateV4) + " OR " + g.fn("starts_with", low, "'fc'") + " OR " + g.fn("starts_with", low, "'fd'") + ")"
	reserved := "(" + anyOf(reservedV4) + " OR " + low + " = '::1' OR " + low + " = '::' OR " +
		g.fn("starts_with", low, "'fe8'") + " OR " + g.fn("starts_with", low, "'fe9'") + " OR " +
		g.fn("starts_with", low, "'fea'") + " OR " + g.fn("starts_with", low, "'feb'") + " OR " +
		g.fn("starts_with", low, "'ff'") + " OR " + g.fn("starts_with", low, "'2001:db8:'") + ")"
	switch fn {
	case "isprivateip":
		return private
	case "isreservedip":
		return reserved
	}
	valid := "(" + v + " IS NOT NULL OR " + g.fn("isipv6", s) + ")"
	return "(" + valid + " AND NOT " + private + " AND NOT " + reserved + ")"
}

var privateV4 = [][2]int64{
	{0x0A000000, 0x0AFFFFFF}, // 10.0.0.0/8
	{0xAC100000, 0xAC1FFFFF}, // 172.16.0.0/12
	{0xC0A80000, 0xC0A8FFFF}, // 192.168.0.0/16
}

var reservedV4 = [][2]int64{
	{0x00000000, 0x00FFFFFF}, // 0.0.0.0/8
	{0x64400000, 0x647FFFFF}, // 100.64.0.0/10
	{0x7F000000, 0x7FFFFFFF}, // 127.0.0.0/8
	{0xA9FE0000, 0xA9FEFFFF}, // 169.254.0.0/16
	{0xC0000000, 0xC00000FF}, // 192.0.0.0/24
	{0xC0000200, 0xC00002FF}, // 192.0.2.0/24
	{0xC6120000, 0xC613FFFF}, // 198.18.0.0/15
	{0xC6336400, 0xC63364FF}, // 198.51.100.0/24
	{0xCB007100, 0xCB0071FF}, // 203.0.113.0/24
	{0xE0000000, 0xFFFFFFFF}, // 224.0.0.0/4, 240.0.0.0/4, broadcast
}

// anyFloat reports whether one of xs is a floating-point number: a float
// literal, a division, a quantile or average, arithmetic on one (or over
// an aggregate or window function, computed in floating point).
func anyFloat(xs []plan.Expr) bool {
	for _, x := range xs {
		if isFloat(x) {
			return true
		}
	}
	return false
}

func isFloat(x plan.Expr) bool {
	switch x := x.(type) {
	case *plan.Lit:
		_, ok := x.Value.(float64)
		return ok
	case *plan.Call:
		switch x.Fn {
		case "/", "^", "avg", "stddev", "median", "median_if", "quantile_all", "ratio", "todouble", "tonumber", "log", "sqrt",
			"rate_span", "haversine":
			return true
		case "+", "-", "*", "neg":
			if plan.HasAgg(x) || hasWindow(x) {
				return true
			}
		}
		return anyFloat(x.Args)
	}
	return false
}
