// Package plan checks a parsed Logs Insights query and turns it into a
// logical plan: names resolved to catalog columns (every spelling of §4.3 of
// the spec), system fields, aliases and parse outputs; types inferred and
// literals coerced (§6.2); commands grouped into stages, each of which a SQL
// back end renders as one SELECT. It imports the syntax package and the
// flowlog catalog only: no SQL, no storage.
package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/syntax"
)

// Type is the static type of an expression.
type Type uint8

const (
	// TypeAny is unknown or mixed (a null literal).
	TypeAny Type = iota
	// TypeNumber is an integer or float.
	TypeNumber
	// TypeString is text.
	TypeString
	// TypeBool is true/false.
	TypeBool
	// TypeTime is a timestamp held as epoch milliseconds; results print it
	// as "YYYY-MM-DD HH:MM:SS.000" (UTC).
	TypeTime
	// TypeFlag is a 1/0 number produced by the string-test functions.
	TypeFlag
	// TypeList is a list of strings (from split() and parse multi).
	TypeList
	// TypeJSON is a map or list from jsonParse() or parse … logfmt, or a
	// value read from one, held as JSON text (see check_json.go).
	TypeJSON
)

func (t Type) String() string {
	return [...]string{"any", "number", "string", "bool", "time", "flag", "list", "json"}[t]
}

// Expr is a checked expression.
type Expr interface {
	Type() Type
	String() string
}

// Column is a stored column of the flows view.
type Column struct{ Field *flowlog.Field }

// Sys is a system field: @timestamp, @message, @logStream, @log, @ingestionTime.
type Sys struct{ Name string }

// Ref names a column produced by the previous stage.
type Ref struct {
	Name string
	T    Type
}

// Lit is a constant: nil, int64, float64, string, bool or Period.
type Lit struct {
	Value any
	T     Type
}

// Period is a time period literal after unit caps.
type Period struct {
	N    int64
	Unit string // ms, s, m, h, d, w, mo, q, y
}

// Seconds returns the fixed length of the period in milliseconds, 0 for
// calendar units (mo, q, y).
func (p Period) Millis() int64 {
	switch p.Unit {
	case "ms":
		return p.N
	case "s":
		return p.N * 1000
	case "m":
		return p.N * 60_000
	case "h":
		return p.N * 3_600_000
	case "d":
		return p.N * 86_400_000
	case "w":
		return p.N * 7 * 86_400_000
	}
	return 0
}

func (p Period) String() string { return strconv.FormatInt(p.N, 10) + p.Unit }

// Call is an operator, function or aggregate with canonical lower-case name.
type Call struct {
	Fn   string
	Args []Expr
	T    Type
	Agg  bool
	// Win makes the call a window function over the rows of its stage.
	Win *Window
	// Sub is the subquery of in_query(x): x is in its only column.
	Sub *Plan
}

// Window is the OVER clause of a window function.
type Window struct {
	Partition []Expr
	Order     []SortKey
}

func (c *Column) Type() Type {
	if c.Field.Kind.Numeric() {
		return TypeNumber
	}
	return TypeString
}

func (s *Sys) Type() Type {
	switch s.Name {
	case "@timestamp", "@ingestionTime":
		return TypeTime
	}
	return TypeString
}

func (r *Ref) Type() Type  { return r.T }
func (l *Lit) Type() Type  { return l.T }
func (c *Call) Type() Type { return c.T }

func (c *Column) String() string { return c.Field.Column }
func (s *Sys) String() string    { return s.Name }
func (r *Ref) String() string    { return "$" + r.Name }

func (l *Lit) String() string {
	switch v := l.Value.(type) {
	case nil:
		return "null"
	case string:
		return syntax.Quote(v)
	case Period:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

func (c *Call) String() string {
	parts := make([]string, len(c.Args))
	for i, a := range c.Args {
		parts[i] = a.String()
	}
	s := c.Fn + "(" + strings.Join(parts, ", ") + ")"
	if c.Sub != nil {
		s = c.Fn + "(" + strings.Join(parts, ", ") + ", {" + strings.ReplaceAll(strings.TrimSpace(c.Sub.String()), "\n", "; ") + "})"
	}
	if c.Win != nil {
		s += " over(" + exprList(c.Win.Partition) + "; " + sortList(c.Win.Order) + ")"
	}
	return s
}

// Written is the text a record has for a stored column, as its line
// writes it: the value as text, "-" when absent. It is what `parse
// @message "* * …"` yields when the glob maps onto the stored columns
// (spec §5.7: parse outputs are strings); numeric use reads the column
// itself (see Unwritten), which is the same number.
func Written(col *Column) *Call {
	return &Call{Fn: "written", Args: []Expr{col}, T: TypeString}
}

// Unwritten returns the column of a Written expression, or nil.
func Unwritten(x Expr) *Column {
	if c, ok := x.(*Call); ok && c.Fn == "written" {
		return c.Args[0].(*Column)
	}
	return nil
}

// Walk calls f for e and every expression below it.
func Walk(e Expr, f func(Expr)) {
	f(e)
	if c, ok := e.(*Call); ok {
		for _, a := range c.Args {
			Walk(a, f)
		}
	}
}

// HasAgg reports whether e contains an aggregate.
func HasAgg(e Expr) bool {
	found := false
	Walk(e, func(x Expr) {
		if c, ok := x.(*Call); ok && c.Agg {
			found = true
		}
	})
	return found
}
