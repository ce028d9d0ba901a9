package syntax

import "strings"

// ParseCmd is `parse [field] "glob * pattern" as a, b` or `parse [field] /(?<name>re)/`.
type ParseCmd struct {
	Span
	// Field is the parsed field; nil means @message.
	Field Expr
	// Glob is set for the glob form, Regex for the regex form; CSV for
	// `parse [field] csv as a, b`.
	Glob  *String
	Regex *Regex
	CSV   bool
	Names []*Field
}

func (*ParseCmd) command()     {}
func (*ParseCmd) Name() string { return "parse" }

func (c *ParseCmd) String() string {
	var b strings.Builder
	b.WriteString("parse ")
	if c.Field != nil {
		b.WriteString(c.Field.String())
		b.WriteByte(' ')
	}
	if c.CSV {
		b.WriteString("csv as ")
		b.WriteString(nameList(c.Names))
	} else if c.Glob != nil {
		b.WriteString(c.Glob.String())
		b.WriteString(" as ")
		b.WriteString(nameList(c.Names))
	} else {
		b.WriteString(c.Regex.String())
	}
	return b.String()
}

func (c *ParseCmd) children() []Node {
	var out []Node
	if c.Field != nil {
		out = append(out, c.Field)
	}
	if c.Glob != nil {
		out = append(out, c.Glob)
	} else if c.Regex != nil {
		out = append(out, c.Regex)
	}
	return append(out, fieldNodes(c.Names)...)
}

// parse = "parse" [ fieldref ] ( string "as" ident { "," ident } | regex | "csv" "as" ident { "," ident } ) ;
func (p *parser) parseParse(kw token) Command {
	c := &ParseCmd{}
	t := p.peekOperand()
	if (t.kind == tIdent || t.kind == tBacktick) && !t.is("csv") {
		p.consume(t)
		c.Field = &Field{Span: Span{t.pos, t.end}, Name: t.text, Quoted: t.kind == tBacktick}
		t = p.peekOperand()
	}
	if t.is("csv") {
		p.consume(t)
		p.expectKeyword("as")
		c.CSV = true
		c.Names = p.parseNameList("a field name")
		c.Span = p.span(kw.pos)
		return c
	}
	switch t.kind {
	case tString:
		p.consume(t)
		c.Glob = &String{Span: Span{t.pos, t.end}, Value: t.text}
		p.expectKeyword("as")
		c.Names = p.parseNameList("a field name")
	case tRegex:
		p.consume(t)
		c.Regex = &Regex{Span: Span{t.pos, t.end}, Pattern: t.text}
	default:
		p.unexpected(t, `a "glob * pattern" or a /regex/`)
	}
	c.Span = p.span(kw.pos)
	return c
}
