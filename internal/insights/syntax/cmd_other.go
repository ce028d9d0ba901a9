package syntax

import "strings"

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

// Other is a command flowlens reads but does not run yet; Text is its
// arguments as written.
type Other struct {
	Span
	Cmd  string
	Text string
}

func (*CountFrequent) command() {}
func (*Accum) command()         {}
func (*Estimate) command()      {}
func (*Other) command()         {}

func (*CountFrequent) Name() string { return "countFrequent" }
func (*Accum) Name() string         { return "accum" }
func (*Estimate) Name() string      { return "estimate" }
func (c *Other) Name() string       { return strings.ToLower(c.Cmd) }

func (c *CountFrequent) String() string   { return "countFrequent " + nameList(c.Fields) }
func (c *CountFrequent) children() []Node { return fieldNodes(c.Fields) }
func (*Estimate) String() string          { return "estimate" }
func (c *Other) String() string {
	if c.Text == "" {
		return c.Cmd
	}
	return c.Cmd + " " + c.Text
}

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

// parseOther keeps the text of a command up to the next top-level "|".
func (p *parser) parseOther(kw token) Command {
	start := p.off
	depth := 0
	for {
		t := p.peekOperand()
		if t.kind == tEOF || (t.kind == tPipe || t.kind == tRParen) && depth == 0 {
			break
		}
		switch t.kind {
		case tLParen, tLBrack:
			depth++
		case tRParen, tRBrack:
			depth--
		}
		p.consume(t)
	}
	return &Other{Span: p.span(kw.pos), Cmd: kw.text, Text: strings.TrimSpace(p.src[start:p.off])}
}
