package syntax

// CountFrequent is `countFrequent f1 {, f}`: a count per distinct value
// combination, most frequent first, in the column `_approxcount`.
type CountFrequent struct {
	Span
	Fields []*Field
}

// Accum is `accum field [as out]`: a running sum in the current row order.
type Accum struct {
	Span
	Field *Field
	Alias *Field
}

// Estimate is `estimate`: the number of bytes the query would scan.
type Estimate struct{ Span }

func (*CountFrequent) command() {}
func (*Accum) command()         {}
func (*Estimate) command()      {}

func (*CountFrequent) Name() string { return "countFrequent" }
func (*Accum) Name() string         { return "accum" }
func (*Estimate) Name() string      { return "estimate" }

func (c *CountFrequent) String() string   { return "countFrequent " + nameList(c.Fields) }
func (c *CountFrequent) children() []Node { return fieldNodes(c.Fields) }
func (*Estimate) String() string          { return "estimate" }

func (c *Accum) String() string {
	if c.Alias != nil {
		return "accum " + c.Field.String() + " as " + c.Alias.String()
	}
	return "accum " + c.Field.String()
}

func (c *Accum) children() []Node {
	if c.Alias != nil {
		return []Node{c.Field, c.Alias}
	}
	return []Node{c.Field}
}

// countfrequent = ( "countFrequent" | "count_frequent" ) ident { "," ident } ;
func (p *parser) parseCountFrequent(kw token) Command {
	fs := p.parseNameList("a field name")
	return &CountFrequent{Span: p.span(kw.pos), Fields: fs}
}

// accum = "accum" ident [ "as" ident ] ;
func (p *parser) parseAccum(kw token) Command {
	c := &Accum{Field: p.parseName("a field name")}
	if p.acceptKeyword("as") {
		c.Alias = p.parseName("a name after \"as\"")
	}
	c.Span = p.span(kw.pos)
	return c
}

// estimate = "estimate" ;
func (p *parser) parseEstimate(kw token) Command {
	return &Estimate{Span: p.span(kw.pos)}
}
