package plan

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"

	isyntax "github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/textdist"
)

// fnSpec describes a function: arity (max -1: variadic), result type and
// how each argument is coerced: n number, s string, t time, a any, b
// condition; the last letter repeats for variadic functions.
type fnSpec struct {
	min, max int
	ret      Type
	args     string
	agg      bool
}

// functions is the immutable table of functions by lower-case name.
var functions = map[string]fnSpec{
	// aggregates
	"count":          {0, 1, TypeNumber, "a", true},
	"count_distinct": {1, 1, TypeNumber, "a", true},
	"sum":            {1, 1, TypeNumber, "n", true},
	"avg":            {1, 1, TypeNumber, "n", true},
	"min":            {1, 1, TypeAny, "a", true},
	"max":            {1, 1, TypeAny, "a", true},
	"pct":            {2, 2, TypeAny, "an", true},
	"stddev":         {1, 1, TypeNumber, "n", true},
	"earliest":       {1, 1, TypeAny, "a", true},
	"latest":         {1, 1, TypeAny, "a", true},
	"sortsfirst":     {1, 1, TypeAny, "a", true},
	"sortslast":      {1, 1, TypeAny, "a", true},
	"countovertime":  {1, 1, TypeNumber, "a", true},
	"rate":           {2, 2, TypeNumber, "na", true},
	"sumovertime":    {1, 1, TypeNumber, "n", true},
	"histogram":      {2, 2, TypeJSON, "nn", true},
	// numeric
	"abs": {1, 1, TypeNumber, "n", false}, "ceil": {1, 1, TypeNumber, "n", false},
	"floor": {1, 1, TypeNumber, "n", false}, "greatest": {1, -1, TypeNumber, "n", false},
	"least": {1, -1, TypeNumber, "n", false}, "log": {1, 1, TypeNumber, "n", false},
	"round": {1, 2, TypeNumber, "nn", false}, "sqrt": {1, 1, TypeNumber, "n", false},
	"haversine": {4, 4, TypeNumber, "nnnn", false}, "tonumber": {1, 1, TypeNumber, "a", false},
	"toint": {1, 1, TypeNumber, "a", false}, "tolong": {1, 1, TypeNumber, "a", false},
	"todouble": {1, 1, TypeNumber, "a", false},
	// datetime
	"bin": {1, 1, TypeTime, "a", false}, "datefloor": {2, 2, TypeTime, "ta", false},
	"dateceil": {2, 2, TypeTime, "ta", false}, "frommillis": {1, 1, TypeTime, "n", false},
	"tomillis": {1, 1, TypeNumber, "t", false}, "now": {0, 0, TypeNumber, "", false},
	"formatdate": {2, 2, TypeString, "ts", false},
	// general
	"ispresent": {1, 1, TypeBool, "a", false}, "coalesce": {1, -1, TypeAny, "a", false},
	"case": {2, 21, TypeAny, "ba", false}, "if": {3, 3, TypeAny, "baa", false},
	"isnumeric": {1, 1, TypeBool, "s", false}, "messagesize": {1, 1, TypeNumber, "s", false},
	"querystarttime": {0, 0, TypeNumber, "", false}, "queryendtime": {0, 0, TypeNumber, "", false},
	"querytimerange": {0, 0, TypeNumber, "", false},
	// IP addresses
	"isvalidip": {1, 1, TypeBool, "s", false}, "isvalidipv4": {1, 1, TypeBool, "s", false},
	"isvalidipv6": {1, 1, TypeBool, "s", false}, "isipinsubnet": {2, 2, TypeBool, "ss", false},
	"isipv4insubnet": {2, 2, TypeBool, "ss", false}, "isipv6insubnet": {2, 2, TypeBool, "ss", false},
	"ipv4tonumber": {1, 1, TypeNumber, "s", false}, "isprivateip": {1, 1, TypeBool, "s", false},
	"ispublicip": {1, 1, TypeBool, "s", false}, "isreservedip": {1, 1, TypeBool, "s", false},
	// strings
	"isempty": {1, 1, TypeFlag, "a", false}, "isblank": {1, 1, TypeFlag, "a", false},
	"concat": {1, -1, TypeString, "s", false}, "ltrim": {1, 2, TypeString, "ss", false},
	"rtrim": {1, 2, TypeString, "ss", false}, "trim": {1, 2, TypeString, "ss", false},
	"strlen": {1, 1, TypeNumber, "s", false}, "toupper": {1, 1, TypeString, "s", false},
	"tolower": {1, 1, TypeString, "s", false}, "substr": {2, 3, TypeString, "snn", false},
	"replace": {3, 3, TypeString, "sss", false}, "regexreplace": {3, 3, TypeString, "sss", false},
	"strcontains": {2, 3, TypeFlag, "ssn", false}, "startswith": {2, 2, TypeFlag, "ss", false},
	"endswith": {2, 2, TypeFlag, "ss", false}, "urlencode": {1, 1, TypeString, "s", false},
	"urldecode": {1, 1, TypeString, "s", false}, "base64encode": {1, 1, TypeString, "s", false},
	"base64decode": {1, 1, TypeString, "s", false}, "hextoascii": {1, 1, TypeString, "s", false},
	"hextodec": {1, 1, TypeNumber, "s", false}, "dectohex": {1, 1, TypeString, "n", false},
	"md5": {1, 1, TypeString, "s", false}, "sha256": {1, 1, TypeString, "s", false},
	"split":     {2, 2, TypeList, "ss", false},
	"parsedate": {2, 3, TypeTime, "sss", false},
	// JSON
	"jsonparse": {1, 1, TypeJSON, "s", false}, "jsonstringify": {1, 1, TypeString, "a", false},
	"jsonarraysize": {1, 1, TypeNumber, "s", false}, "jsonarraycontains": {2, 2, TypeFlag, "ss", false},
}

// fnAliases maps other spellings to the table's names.
var fnAliases = map[string]string{"regex_replace": "regexreplace", "strftime": "formatdate", "percentile": "pct"}

// unsupported lists functions of the spec flowlens does not run, with why.
// Every function of the spec's tables (§7) runs today, so it is empty; a
// function added to the spec before flowlens runs it goes here.
var unsupported = map[string]string{}

func (c *checker) call(e *isyntax.Call, ctx exprCtx) Expr {
	name := strings.ToLower(e.Name)
	if a, ok := fnAliases[name]; ok {
		name = a
	}
	spec, ok := functions[name]
	if !ok {
		if why, ok := unsupported[name]; ok {
			c.fail(e, "%s() is not supported: %s", e.Name, why)
		}
		msg := "unknown function " + e.Name + "()"
		names := make([]string, 0, len(functions))
		for n := range functions {
			names = append(names, n)
		}
		sort.Strings(names)
		best, bestD := "", 3
		for _, n := range names {
			if d := textdist.Distance(name, n); d < bestD {
				best, bestD = n, d
			}
		}
		if best != "" {
			msg += " (did you mean " + best + "()?)"
		}
		c.fail(e, "%s", msg)
	}
	if e.Star && name != "count" {
		c.fail(e, "%s(*) is not allowed: only count(*) takes *", e.Name)
	}
	n := len(e.Args)
	if n < spec.min || spec.max >= 0 && n > spec.max {
		switch {
		case spec.max < 0:
			c.fail(e, "%s() takes at least %d argument(s), got %d", e.Name, spec.min, n)
		case spec.min == spec.max:
			c.fail(e, "%s() takes %d argument(s), got %d", e.Name, spec.min, n)
		default:
			c.fail(e, "%s() takes %d to %d arguments, got %d", e.Name, spec.min, spec.max, n)
		}
	}
	if spec.agg {
		if ctx.inAgg {
			c.fail(e, "aggregate functions cannot be nested")
		}
		if !ctx.aggOK {
			c.fail(e, "%s() is an aggregate function: it can only be used in stats", e.Name)
		}
		ctx = exprCtx{inAgg: true, binMs: ctx.binMs}
	}
	if name == "bin" {
		return c.bin(e, ctx)
	}
	var args []Expr
	for i, a := range e.Args {
		kind := byte('a')
		if spec.args != "" {
			kind = spec.args[min(i, len(spec.args)-1)]
		}
		if name == "case" {
			kind = 'a'
			if i%2 == 0 && !(i == n-1 && n%2 == 1) {
				kind = 'b'
			}
		}
		if (name == "datefloor" || name == "dateceil" || name == "rate") && i == 1 {
			d, ok := a.(*isyntax.Duration)
			if !ok {
				c.fail(a, "%s() needs a time period such as 5m as its second argument", e.Name)
			}
			args = append(args, &Lit{Value: c.period(d), T: TypeAny})
			continue
		}
		var x Expr
		if kind == 'b' {
			x = c.cond(a, ctx)
		} else {
			x = c.expr(a, ctx)
		}
		if x.Type() == TypeList && name != "ispresent" && name != "count" && name != "jsonstringify" {
			c.fail(a, "%s is a list: unnest or index it (list[0]) first", a)
		}
		if x.Type() == TypeJSON && name != "ispresent" && name != "count" && name != "jsonstringify" {
			x = jsonText(x)
		}
		switch kind {
		case 'n':
			x = c.num(x)
		case 's':
			x = c.str(x)
		case 't':
			if x.Type() != TypeTime {
				x = c.num(x)
			}
		}
		args = append(args, x)
	}
	if x, ok := c.jsonCall(e, name, args); ok {
		return x
	}
	ret := spec.ret
	switch name {
	case "count":
		if e.Star || n == 0 {
			return &Call{Fn: "count_star", T: TypeNumber, Agg: true}
		}
	case "earliest", "latest":
		if c.sc.afterStats {
			c.fail(e, "%s() reads @timestamp, which is gone after the first stats", e.Name)
		}
		ret = args[0].Type()
	case "min", "max", "sortsfirst", "sortslast":
		ret = args[0].Type()
	case "pct":
		l, ok := args[1].(*Lit)
		p, isNum := toFloat(l)
		if !ok || !isNum || p < 0 || p > 100 {
			c.fail(e.Args[1], "pct() needs a percentile between 0 and 100 as a number")
		}
		ret = args[0].Type()
		args[1] = &Lit{Value: p, T: TypeNumber}
	case "coalesce", "if":
		ret = commonType(args[len(args)-min(len(args), 2):]...)
		if name == "coalesce" {
			ret = commonType(args...)
		}
	case "case":
		var vals []Expr
		for i := 1; i < n; i += 2 {
			vals = append(vals, args[i])
		}
		if n%2 == 1 {
			vals = append(vals, args[n-1])
		}
		ret = commonType(vals...)
	case "isipv4insubnet", "isipv6insubnet", "isipinsubnet":
		return c.subnet(e, name, args)
	case "formatdate":
		l, ok := args[1].(*Lit)
		f, _ := l.Value.(string)
		if !ok || f == "" {
			c.fail(e.Args[1], "formatDate() needs a literal format string such as \"%%Y-%%m-%%d\"")
		}
		if err := checkStrftime(f); err != nil {
			c.fail(e.Args[1], "%v", err)
		}
	case "rate":
		// the sum per period p: over the stats bin when there is one, else
		// over the time the group's records span
		per := args[1].(*Lit).Value.(Period).Millis()
		if per == 0 {
			c.fail(e.Args[1], "rate() needs a fixed period (ms, s, m, h, d, w)")
		}
		total := &Call{Fn: "sum", Args: args[:1], T: TypeNumber, Agg: true}
		if ctx.binMs > 0 {
			return &Call{Fn: "*", Args: []Expr{total, &Lit{Value: float64(per) / float64(ctx.binMs), T: TypeNumber}}, T: TypeNumber, Agg: true}
		}
		if c.sc.afterStats {
			c.fail(e, "rate() without bin() reads @timestamp, which is gone after the first stats")
		}
		return &Call{Fn: "rate_span", Args: []Expr{total, &Lit{Value: per, T: TypeNumber}}, T: TypeNumber, Agg: true}
	case "countovertime":
		return &Call{Fn: "count", Args: args, T: TypeNumber, Agg: true}
	case "sumovertime":
		return &Call{Fn: "sum", Args: args, T: TypeNumber, Agg: true}
	case "parsedate":
		var pat string
		if l, ok := args[1].(*Lit); ok {
			pat, _ = l.Value.(string)
		}
		if pat == "" {
			c.fail(e.Args[1], "parseDate() needs a literal pattern such as \"yyyy-MM-dd HH:mm:ss\"")
		}
		f, err := javaToStrftime(pat)
		if err != nil {
			c.fail(e.Args[1], "%v", err)
		}
		if len(args) == 3 {
			if l, ok := args[2].(*Lit); !ok || l.Value != "UTC" && l.Value != "Z" {
				c.fail(e.Args[2], "parseDate() reads times in UTC only")
			}
		}
		return &Call{Fn: "parsedate", Args: []Expr{args[0], strLit(f)}, T: TypeTime}
	case "regexreplace":
		l, ok := args[1].(*Lit)
		if !ok {
			c.fail(e.Args[1], "regexReplace() needs a literal pattern")
		}
		s, _ := l.Value.(string)
		if _, err := regexpCompile(s); err != nil {
			c.fail(e.Args[1], "invalid regular expression: %s", regexErr(err))
		}
		args[1] = strLit(canonRegex(s))
	case "querystarttime", "queryendtime", "querytimerange":
		// the engine binds the range; the dialect renders these from Plan
	}
	return &Call{Fn: name, Args: args, T: ret, Agg: spec.agg}
}

// checkStrftime accepts the strftime directives every back end formats
// (a format the database cannot read would fail the whole query).
func checkStrftime(f string) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		j := i + 1
		if j < len(f) && f[j] == '-' {
			j++
		}
		if j >= len(f) {
			return fmt.Errorf("the format %q ends with %%: write %%%% for a percent sign", f)
		}
		if !strings.ContainsRune("aAwdbBmyYHIpMSfzZjUWcxX%", rune(f[j])) || j > i+1 && !strings.ContainsRune("dmyHIMSj", rune(f[j])) {
			return fmt.Errorf("format directive %q is not supported (%%Y %%m %%d %%H %%M %%S %%f %%j %%a %%A %%b %%B %%p %%z %%Z %%c %%x %%X %%%% are)", f[i:j+1])
		}
		i = j
	}
	return nil
}

// javaToStrftime converts a Java DateTimeFormatter pattern into strptime
// directives.
func javaToStrftime(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		j := i
		for j < len(p) && p[j] == c {
			j++
		}
		n := j - i
		switch {
		case c == 'y' && (n == 4 || n == 2):
			b.WriteString(map[int]string{4: "%Y", 2: "%y"}[n])
		case c == 'M' && n <= 2:
			b.WriteString("%m")
		case c == 'M' && n == 3:
			b.WriteString("%b")
		case c == 'd' && n <= 2:
			b.WriteString("%d")
		case c == 'H' && n <= 2:
			b.WriteString("%H")
		case c == 'm' && n <= 2:
			b.WriteString("%M")
		case c == 's' && n <= 2:
			b.WriteString("%S")
		case c == 'S' && n == 3:
			b.WriteString("%g")
		case c == 'X' || c == 'Z':
			b.WriteString("%z")
		case c == '\'':
			k := strings.IndexByte(p[i+1:], '\'')
			if k < 0 {
				return "", fmt.Errorf("unterminated quote in the date pattern %q", p)
			}
			b.WriteString(strings.ReplaceAll(p[i+1:i+1+k], "%", "%%"))
			j = i + k + 2
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return "", fmt.Errorf("date pattern letter %q is not supported (y M d H m s SSS X and quoted text are)", p[i:j])
		case c == '%':
			b.WriteString(strings.Repeat("%%", n))
		default:
			b.WriteString(p[i:j])
		}
		i = j
	}
	return b.String(), nil
}

func toFloat(l *Lit) (float64, bool) {
	if l == nil {
		return 0, false
	}
	switch v := l.Value.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func commonType(xs ...Expr) Type {
	t := TypeAny
	for _, x := range xs {
		if l, ok := x.(*Lit); ok && l.Value == nil {
			continue
		}
		switch {
		case t == TypeAny:
			t = x.Type()
		case t != x.Type():
			return TypeString
		}
	}
	return t
}

// bin(period) floors @timestamp; with stats … offset d it floors @timestamp - d.
func (c *checker) bin(e *isyntax.Call, ctx exprCtx) Expr {
	if len(e.Args) != 1 {
		c.fail(e, "bin() takes one time period such as 5m")
	}
	d, ok := e.Args[0].(*isyntax.Duration)
	if !ok {
		c.fail(e.Args[0], "bin() needs a time period such as 5m, 1h or 1d")
	}
	if c.sc.afterStats {
		c.fail(e, "bin() reads @timestamp, which is gone after the first stats; carry a time (max(@timestamp) as t) and use datefloor(t, %s)", d.Text)
	}
	p := c.period(d)
	args := []Expr{&Sys{Name: "@timestamp"}, &Lit{Value: p, T: TypeAny}}
	if ctx.binOffset != 0 {
		args = append(args, &Lit{Value: ctx.binOffset, T: TypeNumber})
	}
	return &Call{Fn: "bin", Args: args, T: TypeTime}
}

// period applies the unit caps of §5.4 (a larger number is clamped, with a warning).
func (c *checker) period(d *isyntax.Duration) Period {
	p := Period{N: d.N, Unit: d.Unit}
	if p.N == 0 {
		c.fail(d, "a time period must be at least 1%s", d.Unit)
	}
	caps := map[string]int64{"ms": 1000, "s": 60, "m": 60, "h": 24}
	if m, ok := caps[p.Unit]; ok && p.N > m {
		c.warn("%s: %s is clamped to %d%s as in Logs Insights; write a larger unit", posOf(c.src, d), d.Text, m, p.Unit)
		p.N = m
	}
	return p
}

// subnet checks isIpv4InSubnet/isIpv6InSubnet/isIpInSubnet with a literal CIDR.
func (c *checker) subnet(e *isyntax.Call, name string, args []Expr) Expr {
	var s string
	if l, ok := args[1].(*Lit); ok {
		s, _ = l.Value.(string)
	}
	if s == "" {
		c.fail(e.Args[1], "%s() needs a literal CIDR block such as \"10.0.0.0/16\"", e.Name)
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		c.fail(e.Args[1], "invalid CIDR block %q", s)
	}
	pfx = pfx.Masked()
	if pfx.Addr().Is4() {
		if name == "isipv6insubnet" {
			c.fail(e.Args[1], "%q is an IPv4 block: use isIpv4InSubnet()", s)
		}
		lo := v4(pfx.Addr())
		hi := lo | (int64(1)<<(32-pfx.Bits()) - 1)
		if pfx.Bits() == 0 {
			hi = math.MaxUint32
		}
		return &Call{Fn: "ipv4_range", Args: []Expr{args[0], &Lit{Value: lo, T: TypeNumber}, &Lit{Value: hi, T: TypeNumber}}, T: TypeBool}
	}
	if name == "isipv4insubnet" {
		c.fail(e.Args[1], "%q is an IPv6 block: use isIpv6InSubnet()", s)
	}
	b := pfx.Addr().As16()
	hex := make([]byte, 0, 32)
	const digits = "0123456789abcdef"
	for _, x := range b {
		hex = append(hex, digits[x>>4], digits[x&15])
	}
	return &Call{Fn: "ipv6_prefix", Args: []Expr{args[0], strLit(string(hex)), &Lit{Value: int64(pfx.Bits()), T: TypeNumber}}, T: TypeBool}
}
