package syntax

import "strings"

// Proj is one item of fields, display and stats: an expression and an
// optional alias.
type Proj struct {
	X     Expr
	Alias *Field
}

func (pr Proj) String() string {
	if pr.Alias == nil {
		return pr.X.String()
	}
	return pr.X.String() + " as " + pr.Alias.String()
}

// Fields is `fields expr [as alias] {, …}`.
type Fields struct {
	Span
	Items []Proj
}

// Display is `display field {, field}` (flowlens also accepts `expr as alias`).
type Display struct {
	Span
	Items []Proj
}

func (*Fields) command()          {}
func (*Display) command()         {}
func (*Fields) Name() string      { return "fields" }
func (*Display) Name() string     { return "display" }
func (c *Fields) String() string  { return "fields " + projList(c.Items) }
func (c *Display) String() string { return "display " + projList(c.Items) }

func (c *Fields) children() []Node  { return projNodes(c.Items) }
func (c *Display) children() []Node { return projNodes(c.Items) }

func projList(items []Proj) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.String()
	}
	return strings.Join(parts, ", ")
}

func projNodes(items []Proj) []Node {
	var out []Node
	for _, it := range items {
		out = append(out, it.X)
		if it.Alias != nil {
			out = append(out, it.Alias)
		}
	}
	return out
}

// fields = "fields" proj { "," proj } ;
func (p *parser) parseFields(kw token) Command {
	items := p.parseProjList()
	return &Fields{Span: p.span(kw.pos), Items: items}
}

// display = "display" proj { "," proj } ;
func (p *parser) parseDisplay(kw token) Command {
	items := p.parseProjList()
	return &Display{Span: p.span(kw.pos), Items: items}
}

// proj = expr [ "as" ident ] ;
func (p *parser) parseProjList() []Proj {
	var items []Proj
	for {
		items = append(items, p.parseProj())
		if !p.accept(tComma) {
			return items
		}
	}
}

func (p *parser) parseProj() Proj {
	pr := Proj{X: p.parseExpr()}
	if p.acceptKeyword("as") {
		pr.Alias = p.parseName("a name after \"as\"")
	}
	return pr
}

// parseName reads a plain or backticked name.
func (p *parser) parseName(what string) *Field {
	t := p.peek()
	if t.kind != tIdent && t.kind != tBacktick {
		p.unexpected(t, what)
	}
	p.consume(t)
	return &Field{Span: Span{t.pos, t.end}, Name: t.text, Quoted: t.kind == tBacktick}
}

// parseNameList reads name { "," name }.
func (p *parser) parseNameList(what string) []*Field {
	var out []*Field
	for {
		out = append(out, p.parseName(what))
		if !p.accept(tComma) {
			return out
		}
	}
}

func nameList(fs []*Field) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, ", ")
}

func fieldNodes(fs []*Field) []Node {
	out := make([]Node, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return out
}
