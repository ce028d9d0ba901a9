package plan

import (
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	isyntax "github.com/flowlens/flowlens/internal/insights/syntax"
)

func sortedKeys(m map[string]Expr) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stats = "stats" agg { "," agg } [ "by" group { "," group } [ "offset" period ] ]
func (c *checker) stats(cmd *isyntax.Stats) {
	if c.nstats >= MaxStats {
		c.fail(cmd, "too many stats commands (at most %d)", MaxStats)
	}
	if c.sortSpan != nil {
		c.errs = append(c.errs, isyntax.NewError(c.src, *c.sortSpan, "sort must come after the last stats (stats at %s)", posOf(c.src, cmd)))
		return
	}
	if c.cur.Grouped || c.cur.Limit > 0 || len(c.cur.Dedup) > 0 || c.cur.Windowed {
		c.newStage()
	}
	var offset int64
	if cmd.Offset != nil {
		offset = c.period(cmd.Offset).Millis()
	}
	seen := map[string]bool{}
	var keys, cols []Named
	keyCols := map[flowlog.FieldID]string{}
	for _, it := range cmd.By {
		ctx := exprCtx{binOffset: offset}
		x := jsonText(c.expr(it.X, ctx))
		if HasAgg(x) {
			c.fail(it.X, "a stats group key cannot contain an aggregate function")
		}
		if x.Type() == TypeBool {
			x = &Call{Fn: "bool2int", Args: []Expr{x}, T: TypeNumber}
		}
		name := projName(it)
		if seen[name] {
			c.fail(it.X, "duplicate output name %q in stats; add \"as name\"", name)
		}
		seen[name] = true
		keys = append(keys, Named{Name: name, X: x})
		if col, ok := x.(*Column); ok {
			keyCols[col.Field.ID] = name
		}
	}
	cols = append(cols, keys...)
	var binMs int64
	for _, k := range keys {
		if b, ok := k.X.(*Call); ok && b.Fn == "bin" {
			binMs = b.Args[1].(*Lit).Value.(Period).Millis()
		}
	}
	for _, it := range cmd.Aggs {
		x := c.expr(it.X, exprCtx{aggOK: true, binMs: binMs})
		if !HasAgg(x) {
			c.fail(it.X, "%s is not an aggregate: stats needs count(), sum(), avg(), min(), max(), pct(), … (group keys go after \"by\")", it.X)
		}
		if bare := bareField(x, keys); bare != "" {
			c.fail(it.X, "%s uses %s outside an aggregate function; put it inside one (max(%s)) or group by it", it.X, bare, bare)
		}
		if x.Type() == TypeBool {
			x = &Call{Fn: "bool2int", Args: []Expr{x}, T: TypeNumber}
		}
		name := projName(it)
		if seen[name] {
			c.fail(it.X, "duplicate output name %q in stats; add \"as name\"", name)
		}
		seen[name] = true
		cols = append(cols, Named{Name: name, X: x})
	}
	s := c.cur
	s.Grouped, s.Keys, s.Cols = true, keys, cols
	sc := newScope()
	sc.afterStats, sc.keyCols = true, keyCols
	c.statsOut = nil
	for _, col := range cols {
		sc.defs[col.Name] = col.X
		c.statsOut = append(c.statsOut, col.Name)
	}
	c.sc = sc
	c.nstats++
	c.statsSpan = cmd.Span
	c.fields, c.display, c.hasDisp, c.parsed, c.explicit = nil, nil, false, nil, false
}

// bareField returns a field that x reads outside any aggregate and that is
// not a group key, or "".
func bareField(x Expr, keys []Named) string {
	for _, k := range keys {
		if k.X.String() == x.String() {
			return ""
		}
	}
	switch x := x.(type) {
	case *Column, *Sys, *Ref:
		return x.String()
	case *Call:
		if x.Agg {
			return ""
		}
		if x.Fn == "bin" {
			return "bin() (@timestamp)"
		}
		for _, a := range x.Args {
			if b := bareField(a, keys); b != "" {
				return b
			}
		}
	}
	return ""
}

// parse [field] "glob" as a, b | parse [field] /(?<a>re)/
func (c *checker) parse(cmd *isyntax.ParseCmd) {
	if c.cur.Grouped {
		c.newStage()
	}
	var src Expr
	if cmd.Field != nil {
		src = c.expr(cmd.Field, exprCtx{})
	}
	if src == nil {
		src = c.resolveName(cmd, "@message", false)
	}
	if src.Type() == TypeList {
		c.fail(cmd.Field, "%s is a list: index it (%s[0]) or unnest it before parse", cmd.Field, cmd.Field)
	}
	src = jsonText(src)
	if src.Type() != TypeString {
		src = &Call{Fn: "tostring", Args: []Expr{src}, T: TypeString}
	}
	var names []string
	var re string
	var groups []int
	if cmd.CSV {
		// RFC 4180 fields: "quoted, with "" for a quote" or bare (trimmed)
		for i, n := range cmd.Names {
			c.define(n.Name, &Call{Fn: "csv_field", Args: []Expr{src, &Lit{Value: int64(i + 1), T: TypeNumber}}, T: TypeString})
			c.addParsed(n.Name)
		}
		return
	}
	if cmd.Logfmt {
		// every key=value pair into one map (see logfmt in sqlgen)
		c.define(cmd.Names[0].Name, &Call{Fn: "logfmt", Args: []Expr{src}, T: TypeJSON})
		c.addParsed(cmd.Names[0].Name)
		return
	}
	if cmd.Glob != nil {
		if cmd.Piped {
			c.warn(`parse: the "|" before "as" and after the commas of its names were read as line breaks (write parse @message "…" as a, b, …)`)
		}
		stars := strings.Count(cmd.Glob.Value, "*")
		if stars == 0 {
			c.fail(cmd.Glob, "a parse pattern needs at least one * (or use a /regex/ with named groups)")
		}
		if stars != len(cmd.Names) {
			c.fail(cmd.Glob, "the pattern has %d * but %d names follow \"as\"", stars, len(cmd.Names))
		}
		for i, n := range cmd.Names {
			names = append(names, n.Name)
			groups = append(groups, i+1)
		}
		if sys, ok := src.(*Sys); ok && sys.Name == "@message" && !cmd.Multi {
			if cols := c.mapGlob(cmd.Glob.Value, stars); cols != nil {
				// parse yields the strings written in the record: the
				// stored value as text, "-" for an absent one
				for i, n := range names {
					c.define(n, Written(cols[i].(*Column)))
					c.addParsed(n)
				}
				return
			}
		}
		re = globRegex(cmd.Glob.Value)
	} else {
		r, err := regexp.Compile(cmd.Regex.Pattern)
		if err != nil {
			c.fail(cmd.Regex, "invalid regular expression: %s", regexErr(err))
		}
		for i, n := range r.SubexpNames() {
			if n != "" {
				names = append(names, n)
				groups = append(groups, i)
			}
		}
		if len(names) == 0 {
			c.fail(cmd.Regex, "the regex has no named group: write (?<name>…) for each field to extract")
		}
		re = canonRegex(cmd.Regex.Pattern)
	}
	for i, n := range names {
		// Each field gets the pattern with its group as the only capturing
		// one: back ends number at most 9 groups.
		pat := strLit(onlyGroup(re, groups[i]))
		if cmd.Multi {
			// every match, in order; each field is its own list (element k
			// of each comes from match k)
			c.define(n, &Call{Fn: "regexp_extract_all", Args: []Expr{src, pat}, T: TypeList})
		} else {
			c.define(n, &Call{Fn: "regexp_extract", Args: []Expr{src, pat, &Lit{Value: int64(1), T: TypeNumber}}, T: TypeString})
		}
		c.addParsed(n)
	}
}

func (c *checker) addParsed(n string) {
	if !contains(c.parsed, n) {
		c.parsed = append(c.parsed, n)
	}
}

// mapGlob maps `parse @message "* * … *"` onto stored columns when every
// format in play has exactly that many fields and they agree by position.
func (c *checker) mapGlob(glob string, stars int) []Expr {
	if strings.Trim(glob, "* ") != "" || strings.Contains(glob, "  ") || strings.Contains(glob, "**") || len(glob) != 2*stars-1 {
		return nil
	}
	var cols []Expr
	for _, f := range c.formats() {
		if f.Len() != stars {
			return nil
		}
		for i, fl := range f.Fields {
			if f.Extra[i] {
				return nil
			}
			if cols == nil {
				cols = make([]Expr, stars)
			}
			if cols[i] == nil {
				cols[i] = &Column{Field: fl}
			} else if cols[i].(*Column).Field.ID != fl.ID {
				return nil
			}
		}
	}
	return cols
}

// globRegex turns a parse glob into an RE2 pattern: each * captures the
// shortest text, the last one (at the end of the pattern) takes the rest.
func globRegex(glob string) string {
	parts := strings.Split(glob, "*")
	var b strings.Builder
	for i, p := range parts {
		b.WriteString(regexp.QuoteMeta(p))
		if i == len(parts)-1 {
			break
		}
		if i == len(parts)-2 && parts[len(parts)-1] == "" {
			b.WriteString("(.*)")
		} else {
			b.WriteString("(.*?)")
		}
	}
	return b.String()
}

// canonRegex rewrites a checked pattern in the RE2 syntax every back end
// reads: (?<name>…) becomes (?P<name>…).
func canonRegex(p string) string {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return p
	}
	return re.String()
}

// onlyGroup rewrites pattern so that capture group n is its only group
// (group 1); the other groups become non-capturing.
func onlyGroup(pattern string, n int) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return pattern
	}
	var walk func(r *syntax.Regexp) *syntax.Regexp
	walk = func(r *syntax.Regexp) *syntax.Regexp {
		for i, sub := range r.Sub {
			r.Sub[i] = walk(sub)
		}
		if r.Op != syntax.OpCapture {
			return r
		}
		if r.Cap == n {
			r.Cap, r.Name = 1, ""
			return r
		}
		return r.Sub[0]
	}
	return walk(re).String()
}

func regexErr(err error) string {
	var e *syntax.Error
	if se, ok := err.(*syntax.Error); ok {
		e = se
		return e.Code.String() + ": " + e.Expr
	}
	return err.Error()
}

func strLit(s string) *Lit { return &Lit{Value: s, T: TypeString} }
