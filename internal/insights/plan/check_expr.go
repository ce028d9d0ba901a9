package plan

import (
	"math"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	isyntax "github.com/flowlens/flowlens/internal/insights/syntax"
)

func regexpCompile(s string) (*regexp.Regexp, error) { return regexp.Compile(s) }

func isNum(t Type) bool { return t == TypeNumber || t == TypeTime || t == TypeFlag }

// expr checks an expression and returns its plan form.
func (c *checker) expr(e isyntax.Expr, ctx exprCtx) Expr {
	if c.sc.afterStats {
		// a stats output named by its expression: sort bin(5m), sort count(*)
		if _, isField := e.(*isyntax.Field); !isField {
			if x, ok := c.sc.defs[e.String()]; ok {
				return x
			}
		}
	}
	switch e := e.(type) {
	case *isyntax.Field:
		return c.resolveName(e, e.Name, e.Quoted)
	case *isyntax.Number:
		if e.IsInt {
			return &Lit{Value: e.Int, T: TypeNumber}
		}
		return &Lit{Value: e.Float, T: TypeNumber}
	case *isyntax.String:
		return strLit(e.Value)
	case *isyntax.Regex:
		c.fail(e, "a /regex/ can only follow like or =~, or be a parse pattern")
	case *isyntax.Duration:
		c.fail(e, "a time period can only be an argument of bin(), datefloor() or dateceil()")
	case *isyntax.List:
		c.fail(e, "a list can only follow in")
	case *isyntax.Index:
		l := c.expr(e.X, ctx)
		i := c.num(c.expr(e.Index, ctx))
		if l.Type() == TypeJSON {
			return jsonGet(l, i)
		}
		if l.Type() != TypeList {
			c.fail(e.X, "%s is not a list: only lists from split(), parse multi and jsonParse() can be indexed", e.X)
		}
		return &Call{Fn: "list_get", Args: []Expr{l, i}, T: TypeString}
	case *isyntax.Member:
		return c.member(e, ctx)
	case *isyntax.Paren:
		return c.expr(e.X, ctx)
	case *isyntax.Unary:
		if e.Op == "not" {
			return not(c.cond(e.X, ctx))
		}
		x := c.num(c.expr(e.X, ctx))
		if l, ok := x.(*Lit); ok {
			switch v := l.Value.(type) {
			case int64:
				if v != math.MinInt64 {
					return &Lit{Value: -v, T: TypeNumber}
				}
			case float64:
				return &Lit{Value: -v, T: TypeNumber}
			}
		}
		return &Call{Fn: "neg", Args: []Expr{x}, T: TypeNumber}
	case *isyntax.Binary:
		switch e.Op {
		case "and", "or":
			x, y := c.cond(e.X, ctx), c.cond(e.Y, ctx)
			return &Call{Fn: e.Op, Args: []Expr{x, y}, T: TypeBool}
		case "=", "!=", "<", "<=", ">", ">=":
			return c.compare(e, e.Op, c.expr(e.X, ctx), c.expr(e.Y, ctx))
		}
		if e.Op == "-" {
			c.hyphenated(e)
		}
		x, y := c.num(c.expr(e.X, ctx)), c.num(c.expr(e.Y, ctx))
		return &Call{Fn: e.Op, Args: []Expr{x, y}, T: TypeNumber}
	case *isyntax.Match:
		return c.match(e, ctx)
	case *isyntax.In:
		if e.Sub != nil {
			r := c.subquery(e, c.expr(e.X, ctx))
			if e.Not {
				return not(r)
			}
			return r
		}
		x := c.expr(e.X, ctx)
		var lhs []Expr
		var rhs []Expr
		for _, el := range e.List.Elems {
			x2, y, ok := c.coerce(el, x, c.expr(el, ctx))
			if !ok {
				continue // can never match
			}
			lhs, rhs = append(lhs, x2), append(rhs, y)
		}
		if u := unwriteEq(x, &Lit{Value: "", T: TypeString}); u != x {
			// written text in a list of text other than "-": the column
			all := true
			for _, y := range rhs {
				all = all && unwriteEq(x, y) != x
			}
			for i := range lhs {
				if all && lhs[i] == x {
					lhs[i] = u
				}
			}
		}
		var r Expr
		switch {
		case len(rhs) == 0:
			r = &Lit{Value: false, T: TypeBool}
		case sameType(lhs):
			r = &Call{Fn: "in", Args: append([]Expr{lhs[0]}, rhs...), T: TypeBool}
		default: // elements of different types: one comparison each
			for i := range rhs {
				eq := &Call{Fn: "=", Args: []Expr{lhs[i], rhs[i]}, T: TypeBool}
				if r == nil {
					r = eq
				} else {
					r = &Call{Fn: "or", Args: []Expr{r, eq}, T: TypeBool}
				}
			}
		}
		if e.Not {
			return not(r)
		}
		return r
	case *isyntax.Call:
		return c.call(e, ctx)
	}
	c.fail(e, "BUG: unhandled expression %T", e)
	return nil
}

// hyphenated catches log-status written without backticks, which parses
// as a subtraction.
func (c *checker) hyphenated(e *isyntax.Binary) {
	text := c.src[e.Pos():e.EndPos()]
	if strings.ContainsAny(text, " \t\n\r`") {
		return
	}
	if f, ok := flowlog.Lookup(text); ok {
		if _, defined := c.sc.defs[strings.SplitN(text, "-", 2)[0]]; !defined {
			c.fail(e, "%s reads as a subtraction: quote the field name in backticks, `%s`, or write %s", text, f.Name, f.Insights)
		}
	}
}

// subquery checks x in ( query ): the subquery runs over the same time
// range, on its SOURCE datasets or the query's own, and must produce one
// column.
func (c *checker) subquery(e *isyntax.In, x Expr) Expr {
	p := c.compileSub(e.Sub)
	if len(p.Output) != 1 {
		c.fail(e.Sub, "a subquery after in must produce one field, this one produces %d: end it with fields <name>", len(p.Output))
	}
	last := p.Stages[len(p.Stages)-1]
	if last.Limit == 0 && len(last.Dedup) == 0 {
		last.Order = nil // order does not matter to membership
	}
	col := &Ref{Name: p.Output[0].Name, T: p.Output[0].Type}
	x2, _, ok := c.coerce(e, x, col)
	if !ok {
		return &Lit{Value: false, T: TypeBool}
	}
	if isNum(x2.Type()) != isNum(col.Type()) {
		x2 = c.str(x)
	}
	return &Call{Fn: "in_query", Args: []Expr{x2}, T: TypeBool, Sub: p}
}

// compileSub checks a subquery (of in or join) with its own scope.
func (c *checker) compileSub(q *isyntax.Query) *Plan {
	if c.nested {
		c.fail(q, "subqueries cannot nest")
	}
	sub := &checker{src: c.src, opt: c.opt, plan: &Plan{}, nested: true}
	sub.cur = &Stage{}
	sub.plan.Stages = []*Stage{sub.cur}
	sub.sc = newScope()
	sub.nextID = c.nextID + 1000
	for i, cmd := range q.Commands {
		sub.command(i, q.Commands, cmd)
	}
	sub.finish()
	c.errs = append(c.errs, sub.errs...)
	c.nextID = sub.nextID + 1
	p := sub.plan
	if len(p.Prefixes) > 0 {
		c.fail(q, "logGroups() is not supported in a subquery: name the datasets")
	}
	if p.SourceStart != "" || p.SourceEnd != "" {
		c.fail(q, "START= and END= are not supported in a subquery: it runs over the query's time range")
	}
	if p.Formats != nil && c.plan.Formats == nil {
		c.plan.Formats = p.Formats
	}
	return p
}

// sameType reports whether every coerced left operand is the same expression.
func sameType(xs []Expr) bool {
	for _, x := range xs[1:] {
		if x.String() != xs[0].String() || x.Type() != xs[0].Type() {
			return false
		}
	}
	return true
}

func not(x Expr) Expr {
	if l, ok := x.(*Lit); ok {
		if b, ok := l.Value.(bool); ok {
			return &Lit{Value: !b, T: TypeBool}
		}
	}
	return &Call{Fn: "not", Args: []Expr{x}, T: TypeBool}
}

// cond checks an expression used as a condition.
func (c *checker) cond(e isyntax.Expr, ctx ...exprCtx) Expr {
	var cx exprCtx
	if len(ctx) > 0 {
		cx = ctx[0]
	}
	x := c.expr(e, cx)
	switch x.Type() {
	case TypeBool:
		return x
	case TypeNumber, TypeFlag:
		return &Call{Fn: "!=", Args: []Expr{x, &Lit{Value: int64(0), T: TypeNumber}}, T: TypeBool}
	}
	c.fail(e, "%s is not a condition: compare it (= != < > like in) or test it with a function such as ispresent()", e)
	return nil
}

// num converts x to a number the way Logs Insights does: numeric text is a
// number, anything else is null.
func (c *checker) num(x Expr) Expr {
	x = jsonText(x)
	switch x.Type() {
	case TypeNumber, TypeTime, TypeFlag:
		return x
	case TypeBool:
		return &Call{Fn: "bool2int", Args: []Expr{x}, T: TypeNumber}
	}
	if l, ok := x.(*Lit); ok {
		if s, ok := l.Value.(string); ok {
			return numLit(s)
		}
		return &Lit{T: TypeNumber}
	}
	if col := Unwritten(x); col != nil {
		// the number of the written text: the stored number ("-" is
		// absent, as it is not a number), or the text column converted
		if col.Field.Kind.Numeric() {
			return col
		}
		x = col
	}
	return &Call{Fn: "tonumber", Args: []Expr{x}, T: TypeNumber}
}

// numLit parses numeric text into a literal (null when not a number).
func numLit(s string) *Lit {
	s = strings.TrimSpace(s)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &Lit{Value: i, T: TypeNumber}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return &Lit{Value: f, T: TypeNumber}
	}
	return &Lit{T: TypeNumber}
}

// str converts x to text.
func (c *checker) str(x Expr) Expr {
	x = jsonText(x)
	if x.Type() == TypeString || x.Type() == TypeAny {
		return x
	}
	if l, ok := x.(*Lit); ok && l.Value != nil {
		return strLit(l.String())
	}
	return &Call{Fn: "tostring", Args: []Expr{x}, T: TypeString}
}

// compare builds x op y with the typing rules of §6.2.
func (c *checker) compare(n isyntax.Node, op string, x, y Expr) Expr {
	if op == "=" {
		x, y = unwriteEq(x, y), unwriteEq(y, x)
		if r := ipv4Eq(x, y); r != nil {
			return r
		}
		if r := ipv4Eq(y, x); r != nil {
			return r
		}
	}
	x, y, ok := c.coerce(n, x, y)
	if !ok {
		return &Lit{Value: false, T: TypeBool}
	}
	return &Call{Fn: op, Args: []Expr{x, y}, T: TypeBool}
}

// coerce brings two operands of a comparison to one type; ok is false when
// they can never compare true (a number against non-numeric text).
func (c *checker) coerce(n isyntax.Node, x, y Expr) (_, _ Expr, ok bool) {
	if x.Type() == TypeList || y.Type() == TypeList {
		c.fail(n, "a list cannot be compared: unnest or index it (list[0]) first")
	}
	x, y = jsonText(x), jsonText(y)
	if x.Type() == TypeBool {
		x = c.num(x)
	}
	if y.Type() == TypeBool {
		y = c.num(y)
	}
	tx, ty := x.Type(), y.Type()
	switch {
	case isNum(tx) && isNum(ty):
	case !isNum(tx) && !isNum(ty):
	default:
		// one side is a number, the other text
		nx, sx := &x, &y
		if !isNum(tx) {
			nx, sx = &y, &x
		}
		if l, ok := (*sx).(*Lit); ok {
			s, _ := l.Value.(string)
			nl := numLit(s)
			if nl.Value == nil {
				if (*nx).Type() == TypeTime {
					c.fail(n, "timestamps compare with epoch milliseconds, not text: write toMillis(@timestamp) > 1700000000000 or use --start/--end")
				}
				return x, y, false
			}
			*sx = nl
		} else {
			*sx = c.num(*sx)
		}
	}
	return x, y, true
}

// unwriteEq returns the column of a Written text column x compared for
// equality with a text literal y other than "-": the written text equals
// y exactly when the stored value does, and the column keeps the store's
// fast paths (the integer IPv4 test, pruning).
func unwriteEq(x, y Expr) Expr {
	col := Unwritten(x)
	if col == nil {
		return x
	}
	if l, ok := y.(*Lit); ok {
		s, ok := l.Value.(string)
		switch {
		case !ok || s == "-":
		case !col.Field.Kind.Numeric():
			return col
		default:
			// a number's text equals y only when y is that number written
			// the way records write it
			if v, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(v, 10) == s {
				return col
			}
		}
	}
	return x
}

// ipv4Eq rewrites srcaddr = "10.0.0.1" into an integer test on the stored
// IPv4 column.
func ipv4Eq(x, y Expr) Expr {
	col, ok := x.(*Column)
	if !ok || col.Field.Kind != flowlog.KindIP {
		return nil
	}
	l, ok := y.(*Lit)
	if !ok {
		return nil
	}
	s, _ := l.Value.(string)
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return nil
	}
	v := v4(a)
	return &Call{Fn: "ipv4_range", Args: []Expr{x, &Lit{Value: v, T: TypeNumber}, &Lit{Value: v, T: TypeNumber}}, T: TypeBool}
}

func v4(a netip.Addr) int64 {
	b := a.As4()
	return int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
}

// match builds like / =~.
func (c *checker) match(e *isyntax.Match, ctx exprCtx) Expr {
	x := c.str(c.expr(e.X, ctx))
	var r Expr
	switch p := e.Pattern.(type) {
	case *isyntax.String:
		r = &Call{Fn: "contains", Args: []Expr{x, strLit(p.Value)}, T: TypeBool}
	case *isyntax.Regex:
		r = c.regexMatch(p, x)
	}
	if e.Not {
		return not(r)
	}
	return r
}

// regexMatch checks a regex and simplifies literal ones into substring,
// prefix or suffix tests.
func (c *checker) regexMatch(p *isyntax.Regex, x Expr) Expr {
	if _, err := regexp.Compile(p.Pattern); err != nil {
		c.fail(p, "invalid regular expression: %s", regexErr(err))
	}
	re, _ := syntax.Parse(p.Pattern, syntax.Perl)
	re = re.Simplify()
	lit := func(r *syntax.Regexp) (string, bool) {
		if r.Op == syntax.OpLiteral && r.Flags&syntax.FoldCase == 0 {
			return string(r.Rune), true
		}
		return "", false
	}
	if s, ok := lit(re); ok {
		return &Call{Fn: "contains", Args: []Expr{x, strLit(s)}, T: TypeBool}
	}
	if re.Op == syntax.OpConcat && len(re.Sub) == 2 {
		if re.Sub[0].Op == syntax.OpBeginText {
			if s, ok := lit(re.Sub[1]); ok {
				return &Call{Fn: "starts_with", Args: []Expr{x, strLit(s)}, T: TypeBool}
			}
		}
		if re.Sub[1].Op == syntax.OpEndText {
			if s, ok := lit(re.Sub[0]); ok {
				return &Call{Fn: "ends_with", Args: []Expr{x, strLit(s)}, T: TypeBool}
			}
		}
	}
	return &Call{Fn: "regexp", Args: []Expr{x, strLit(canonRegex(p.Pattern))}, T: TypeBool}
}
