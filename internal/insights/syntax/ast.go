// Package syntax reads CloudWatch Logs Insights queries: a hand-written
// lexer and recursive-descent parser that produce an AST whose every node
// knows its byte range, a printer that writes the canonical text of any node
// (parse → print → parse is stable), and the Error/ErrorList types that carry
// a query position. It knows nothing of fields, types or storage: the plan
// package checks names and types.
package syntax

// Node is any AST node.
type Node interface {
	Pos() Pos
	EndPos() Pos
	String() string
}

// Query is a whole query: commands separated by '|'.
type Query struct {
	Span
	Commands []Command
}

// Command is one pipeline stage.
type Command interface {
	Node
	// Name is the canonical (lower-case) command name.
	Name() string
	command()
}

// Expr is an expression.
type Expr interface {
	Node
	expr()
}

// Field names a field: a plain name (srcAddr, @timestamp, a.b.c) or a
// backticked one (`log-status`).
type Field struct {
	Span
	Name   string
	Quoted bool
}

// Number is a numeric literal.
type Number struct {
	Span
	Text  string
	IsInt bool
	Int   int64
	Float float64
}

// String is a string literal; Value is decoded.
type String struct {
	Span
	Value string
}

// Regex is a /regex/ literal; Pattern has \/ decoded to /.
type Regex struct {
	Span
	Pattern string
}

// Duration is a time period literal: N units (5m, 1h, 2mo).
type Duration struct {
	Span
	N    int64
	Unit string // canonical: ms, s, m, h, d, w, mo, q, y
	Text string // as written
}

// List is [a, b, …].
type List struct {
	Span
	Elems []Expr
}

// Call is a function call; Star marks count(*). Name keeps the spelling
// written; functions are matched case-insensitively.
type Call struct {
	Span
	Name string
	Args []Expr
	Star bool
}

// Unary is -x or not x.
type Unary struct {
	Span
	Op string // "-" or "not"
	X  Expr
}

// Binary is x op y for arithmetic, comparison, and, or.
type Binary struct {
	Span
	Op   string // + - * / % ^ = == != < <= > >= and or
	X, Y Expr
}

// Match is x like "s", x like /re/, x not like …, x =~ /re/.
type Match struct {
	Span
	X       Expr
	Not     bool
	Op      string // "like" or "=~"
	Pattern Expr   // *String or *Regex
}

// In is x in [..], x not in [..], or x in (subquery).
type In struct {
	Span
	X    Expr
	Not  bool
	List *List
	// Sub is the subquery of x in ( query ); List is nil then.
	Sub *Query
}

// Paren is (x); kept so that the printer writes what the user wrote.
type Paren struct {
	Span
	X Expr
}

// Index is x[i].
type Index struct {
	Span
	X, Index Expr
}

// Member is x.key on a map (from jsonParse or parse … logfmt) written
// where the lexer does not take the dot into the name: after "]", after a
// quoted name, or before a quoted key (j.`odd.key`). A plain a.b.c is a
// Field named "a.b.c"; the checker splits it.
type Member struct {
	Span
	X      Expr
	Key    string
	Quoted bool
}

func (*Field) expr()    {}
func (*Member) expr()   {}
func (*Number) expr()   {}
func (*String) expr()   {}
func (*Regex) expr()    {}
func (*Duration) expr() {}
func (*List) expr()     {}
func (*Call) expr()     {}
func (*Unary) expr()    {}
func (*Binary) expr()   {}
func (*Match) expr()    {}
func (*In) expr()       {}
func (*Paren) expr()    {}
func (*Index) expr()    {}

// Inspect calls f for n and every node below it, depth first, while f
// returns true.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	switch n := n.(type) {
	case *Query:
		for _, c := range n.Commands {
			Inspect(c, f)
		}
	case *List:
		for _, e := range n.Elems {
			Inspect(e, f)
		}
	case *Call:
		for _, e := range n.Args {
			Inspect(e, f)
		}
	case *Unary:
		Inspect(n.X, f)
	case *Binary:
		Inspect(n.X, f)
		Inspect(n.Y, f)
	case *Match:
		Inspect(n.X, f)
		Inspect(n.Pattern, f)
	case *In:
		Inspect(n.X, f)
		if n.Sub != nil {
			Inspect(n.Sub, f)
		} else {
			Inspect(n.List, f)
		}
	case *Paren:
		Inspect(n.X, f)
	case *Index:
		Inspect(n.X, f)
		Inspect(n.Index, f)
	case *Member:
		Inspect(n.X, f)
	case interface{ children() []Node }:
		for _, c := range n.children() {
			Inspect(c, f)
		}
	}
}

// Unparen strips parentheses.
func Unparen(e Expr) Expr {
	for {
		p, ok := e.(*Paren)
		if !ok {
			return e
		}
		e = p.X
	}
}
