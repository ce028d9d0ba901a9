package plan

import (
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	isyntax "github.com/flowlens/flowlens/internal/insights/syntax"
)

// JSON values (§7.4): jsonParse() and parse … logfmt produce a TypeJSON
// value, held as its JSON text (an object or an array; NULL for
// anything else). Access reads into it:
//
//	j.a.b, j.`odd.key`   json_get(j, "a", "b"), json_get(j, "odd.key")
//	j.list[0], j[i]      json_get(j, "list", 0): indexes are 0-based
//
// The result of an access is again TypeJSON (an object, an array, a string
// with its quotes, a number…; NULL when the key or index is missing or the
// value is JSON null). Wherever text or a number is needed (comparisons,
// string and numeric functions, aggregates, stats keys, sort, output) the
// value is read as text with json_text: strings without their quotes,
// objects and arrays as their JSON text.

// jsonText reads a JSON value as text.
func jsonText(x Expr) Expr {
	if x.Type() != TypeJSON {
		return x
	}
	return &Call{Fn: "json_text", Args: []Expr{x}, T: TypeString}
}

// jsonGet reads path (keys as string literals, indexes as numbers) from a
// JSON value; consecutive accesses fold into one json_get.
func jsonGet(x Expr, path ...Expr) Expr {
	if c, ok := x.(*Call); ok && c.Fn == "json_get" {
		args := append(append([]Expr(nil), c.Args...), path...)
		return &Call{Fn: "json_get", Args: args, T: TypeJSON}
	}
	return &Call{Fn: "json_get", Args: append([]Expr{x}, path...), T: TypeJSON}
}

// keyPath turns the keys of a plain dotted name (a.b.c) into path literals.
func keyPath(keys []string) []Expr {
	out := make([]Expr, len(keys))
	for i, k := range keys {
		out[i] = strLit(k)
	}
	return out
}

// dotted resolves a.b.c where a (or a.b) names a JSON value: the longest
// defined prefix wins. ok is false when no prefix is a defined name; a
// prefix that is a field or value without keys is an error.
func (c *checker) dotted(n isyntax.Node, name string) (Expr, bool) {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return nil, false // an empty key: not an access
	}
	parts := strings.Split(name, ".")
	for i := len(parts) - 1; i >= 1; i-- {
		prefix := strings.Join(parts[:i], ".")
		x, ok := c.sc.defs[prefix]
		if !ok {
			continue
		}
		if x.Type() != TypeJSON {
			c.notMap(n, prefix, x)
		}
		return jsonGet(x, keyPath(parts[i:])...), true
	}
	if len(parts) > 1 && parts[0] != "" {
		if _, isField := c.catalogOrSystem(parts[0]); isField {
			c.fail(n, "%s is not a map: only values from jsonParse() or parse … logfmt have keys", parts[0])
		}
	}
	return nil, false
}

// catalogOrSystem reports whether name is a system or catalog field.
func (c *checker) catalogOrSystem(name string) (string, bool) {
	switch name {
	case "@timestamp", "@message", "@logStream", "@log", "@ingestionTime":
		return name, true
	}
	if f, ok := flowlog.Lookup(name); ok {
		return f.Name, true
	}
	return "", false
}

func (c *checker) notMap(n isyntax.Node, name string, x Expr) {
	if x.Type() == TypeList {
		c.fail(n, "%s is a list from split() or parse multi: index it (%s[0]) instead of reading a key", name, name)
	}
	c.fail(n, "%s is not a map: only values from jsonParse() or parse … logfmt have keys", name)
}

// member checks x.key written after "]" or a quoted name.
func (c *checker) member(e *isyntax.Member, ctx exprCtx) Expr {
	x := c.expr(e.X, ctx)
	if x.Type() != TypeJSON {
		c.notMap(e, e.X.String(), x)
	}
	keys := []string{e.Key}
	if !e.Quoted {
		keys = strings.Split(e.Key, ".")
		for _, k := range keys {
			if k == "" {
				c.fail(e, "empty key in %s: quote odd keys in backticks (x.`odd.key`)", e)
			}
		}
	}
	return jsonGet(x, keyPath(keys)...)
}

// jsonCall checks the JSON functions and histogram(); done is false for
// other functions.
func (c *checker) jsonCall(e *isyntax.Call, name string, args []Expr) (Expr, bool) {
	switch name {
	case "jsonparse":
		return &Call{Fn: "json_parse", Args: args, T: TypeJSON}, true
	case "jsonstringify":
		switch args[0].Type() {
		case TypeJSON:
			return &Call{Fn: "json_stringify", Args: args, T: TypeString}, true
		case TypeList:
			return &Call{Fn: "list_text", Args: args, T: TypeString}, true
		}
		c.fail(e.Args[0], "jsonStringify() takes a map or a list (from jsonParse(), parse … logfmt or split()), not %s", args[0].Type())
	case "jsonarraysize":
		return &Call{Fn: "json_array_size", Args: args, T: TypeNumber}, true
	case "jsonarraycontains":
		return &Call{Fn: "json_array_contains", Args: args, T: TypeFlag}, true
	case "histogram":
		l, ok := args[1].(*Lit)
		n, isInt := int64(0), false
		if ok {
			n, isInt = l.Value.(int64)
		}
		if !isInt || n < 1 || n > MaxHistogramBuckets {
			c.fail(e.Args[1], "histogram() needs a whole number of buckets between 1 and %d as its second argument", MaxHistogramBuckets)
		}
		return &Call{Fn: "histogram", Args: []Expr{args[0], &Lit{Value: n, T: TypeNumber}}, T: TypeJSON, Agg: true}, true
	}
	return nil, false
}

// MaxHistogramBuckets caps histogram()'s bucket count (Logs Insights charts show at most 100 bars).
const MaxHistogramBuckets = 100
