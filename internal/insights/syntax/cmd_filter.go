package syntax

import "strings"

// Filter is `filter expr` or its synonym `where expr`.
type Filter struct {
	Span
	Keyword string // "filter" or "where"
	X       Expr
}

// FilterIndex is `filterIndex field = value` or `filterIndex field in [..]`;
// flowlens treats it as a filter.
type FilterIndex struct {
	Span
	X Expr
}

func (*Filter) command()      {}
func (*FilterIndex) command() {}

// Name returns "filter" for both spellings.
func (*Filter) Name() string          { return "filter" }
func (*FilterIndex) Name() string     { return "filterIndex" }
func (c *Filter) String() string      { return c.Keyword + " " + c.X.String() }
func (c *FilterIndex) String() string { return "filterIndex " + c.X.String() }
func (c *Filter) children() []Node    { return []Node{c.X} }
func (c *FilterIndex) children() []Node {
	return []Node{c.X}
}

// filter = ( "filter" | "where" ) expr ;
func (p *parser) parseFilter(kw token) Command {
	x := p.parseExpr()
	return &Filter{Span: p.span(kw.pos), Keyword: strings.ToLower(kw.text), X: x}
}

// filterindex = "filterIndex" expr ;
func (p *parser) parseFilterIndex(kw token) Command {
	x := p.parseExpr()
	return &FilterIndex{Span: p.span(kw.pos), X: x}
}
