package syntax

// Dedup is `dedup field {, field}`.
type Dedup struct {
	Span
	Fields []*Field
}

// Unmask is `unmask field`; flowlens masks nothing, so it changes nothing.
type Unmask struct {
	Span
	Field Expr
}

func (*Dedup) command()           {}
func (*Unmask) command()          {}
func (*Dedup) Name() string       { return "dedup" }
func (*Unmask) Name() string      { return "unmask" }
func (c *Dedup) String() string   { return "dedup " + nameList(c.Fields) }
func (c *Dedup) children() []Node { return fieldNodes(c.Fields) }

func (c *Unmask) String() string {
	if c.Field == nil {
		return "unmask"
	}
	return "unmask " + c.Field.String()
}

func (c *Unmask) children() []Node {
	if c.Field == nil {
		return nil
	}
	return []Node{c.Field}
}

// dedup = "dedup" ident { "," ident } ;
func (p *parser) parseDedup(kw token) Command {
	fs := p.parseNameList("a field name")
	return &Dedup{Span: p.span(kw.pos), Fields: fs}
}

// unmask = "unmask" [ expr ] ;
func (p *parser) parseUnmask(kw token) Command {
	c := &Unmask{}
	if t := p.peek(); t.kind != tPipe && t.kind != tEOF {
		c.Field = p.parseExpr()
	}
	c.Span = p.span(kw.pos)
	return c
}
