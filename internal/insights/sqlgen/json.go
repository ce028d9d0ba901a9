package sqlgen

import (
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

// JSONStep is one step of a path into a JSON value: a key (rendered by
// the dialect from Key) or a 0-based index (Index, a rendered numeric
// expression).
type JSONStep struct {
	Key   string
	Index string
	IsKey bool
}

// jsonGet renders json_get(x, steps…).
func (g *gen) jsonGet(c *plan.Call) string {
	steps := make([]JSONStep, 0, len(c.Args)-1)
	for _, a := range c.Args[1:] {
		if l, ok := a.(*plan.Lit); ok {
			if s, ok := l.Value.(string); ok {
				steps = append(steps, JSONStep{Key: s, IsKey: true})
				continue
			}
		}
		steps = append(steps, JSONStep{Index: g.expr(a)})
	}
	return g.d.JSONGet(g.expr(c.Args[0]), steps)
}

// jsonPointer renders steps as an RFC 6901 JSON pointer (DuckDB reads
// paths that start with "/" as pointers): keys escaped (~ as ~0, / as
// ~1) and written as one literal; an index given by an expression is
// concatenated.
func jsonPointer(d Dialect, steps []JSONStep) string {
	var parts []string
	var lit strings.Builder
	for _, s := range steps {
		lit.WriteByte('/')
		if s.IsKey {
			lit.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(s.Key))
			continue
		}
		if n, err := strconv.ParseInt(s.Index, 10, 64); err == nil && n >= 0 {
			lit.WriteString(s.Index)
			continue
		}
		parts = append(parts, d.Str(lit.String()), "CAST(TRY_CAST("+s.Index+" AS BIGINT) AS VARCHAR)")
		lit.Reset()
	}
	if lit.Len() > 0 || len(parts) == 0 {
		parts = append(parts, d.Str(lit.String()))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

// The regular expressions below are RE2, read the same way by both
// dialects; they reach SQL as string literals.

// logfmtRegex matches one key=value pair of a logfmt line: group 1 the
// key, group 2 "=…" (empty for a bare key), group 3 the text of a quoted
// value (backslash escapes still in), group 4 a bare value.
const logfmtRegex = `([^\s="]+)(=(?:"((?:[^"\\]|\\.)*)"|(\S*)))?`

// csvFieldRegex matches from the start of a CSV line to the end of field
// n (1-based), group 1 holding the field as written: RFC 4180 quoted
// ("a, ""b""") or bare. A bare field cannot start with a quote, so that a
// quoted field with commas is never split; a field must end at a comma or
// the end of the line, so a malformed quote leaves the field absent.
func csvFieldRegex(n int64) string {
	const field = `(?:"(?:[^"]|"")*"|[^,"\s][^,]*|)`
	return `^(?:\s*` + field + `\s*,){` + strconv.FormatInt(n-1, 10) + `}\s*("(?:[^"]|"")*"|[^,"\s][^,]*|)\s*(?:,|$)`
}

// histogram renders histogram(v, n): the value as a float, the bucket count.
func (g *gen) histogram(c *plan.Call) string {
	n := c.Args[1].(*plan.Lit).Value.(int64)
	return g.fn("histogram", g.fn("todouble_raw", g.expr(c.Args[0])), itoa(n))
}
