package syntax

import "strings"

// ParseCmd is `parse [multi] [field] "glob * pattern" as a, b`,
// `parse [multi] [field] /(?<name>re)/`, `parse [field] csv as a, b` or
// `parse [field] logfmt as m`.
type ParseCmd struct {
	Span
	// Field is the parsed field; nil means @message.
	Field Expr
	// Glob is set for the glob form, Regex for the regex form; CSV for
	// `parse [field] csv as a, b`; Logfmt for `parse [field] logfmt as m`
	// (one name: the map of all key=value pairs).
	Glob   *String
	Regex  *Regex
	CSV    bool
	Logfmt bool
	// Multi (`parse multi …`) extracts every match into a list instead of
	// the first match.
	Multi bool
	Names []*Field
	// Piped marks a glob form written with "|" before "as" or after a
	// comma of the name list, as the name list broken over lines with a
	// leading "|" (user-docs/000 writes it so): read as line breaks.
	Piped bool
}

func (*ParseCmd) command()     {}
func (*ParseCmd) Name() string { return "parse" }

func (c *ParseCmd) String() string {
	var b strings.Builder
	b.WriteString("parse ")
	if c.Multi {
		b.WriteString("multi ")
	}
	if c.Field != nil {
		b.WriteString(c.Field.String())
		b.WriteByte(' ')
	}
	if c.CSV {
		b.WriteString("csv as ")
		b.WriteString(nameList(c.Names))
	} else if c.Logfmt {
		b.WriteString("logfmt as ")
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

// parse = "parse" [ "multi" ] [ fieldref ] ( string "as" ident { "," ident }
// | regex | "csv" "as" ident { "," ident } | "logfmt" "as" ident ) ;
//
// multi is the modifier when a field or pattern follows it (a field named
// multi is written in backticks); csv and logfmt likewise.
func (p *parser) parseParse(kw token) Command {
	c := &ParseCmd{}
	t := p.peekOperand()
	if t.is("multi") {
		switch n := p.lex(int(t.end), true); n.kind {
		case tIdent, tBacktick, tString, tRegex:
			p.consume(t)
			c.Multi = true
			t = p.peekOperand()
		}
	}
	if (t.kind == tIdent || t.kind == tBacktick) && !t.is("csv") && !t.is("logfmt") {
		p.consume(t)
		c.Field = p.parseFieldRef(t)
		t = p.peekOperand()
	}
	if t.is("csv") || t.is("logfmt") {
		p.consume(t)
		if c.Multi {
			p.failAt(Span{t.pos, t.end}, "multi extracts every match of a glob or regex pattern; %s takes no multi", strings.ToLower(t.text))
		}
		p.expectKeyword("as")
		c.CSV, c.Logfmt = t.is("csv"), t.is("logfmt")
		c.Names = p.parseNameList("a field name")
		if c.Logfmt && len(c.Names) != 1 {
			p.failAt(Span{c.Names[1].Pos(), c.Names[len(c.Names)-1].EndPos()}, "logfmt puts every key=value pair into one map: write parse … logfmt as m, then m.key")
		}
		c.Span = p.span(kw.pos)
		return c
	}
	switch t.kind {
	case tString:
		p.consume(t)
		c.Glob = &String{Span: Span{t.pos, t.end}, Value: t.text}
		if pipe := p.peek(); pipe.kind == tPipe && p.peek2(pipe).is("as") {
			p.consume(pipe)
			c.Piped = true
		}
		p.expectKeyword("as")
		c.Names = p.parseGlobNames(c)
	case tRegex:
		p.consume(t)
		c.Regex = &Regex{Span: Span{t.pos, t.end}, Pattern: t.text}
	default:
		p.unexpected(t, `a "glob * pattern", a /regex/, csv or logfmt`)
	}
	c.Span = p.span(kw.pos)
	return c
}

// parseGlobNames reads the names of a glob parse: name { "," name }, where
// a "|" right after a comma continues the list (a name list broken over
// lines that each start with "|"; a comma cannot end a command, so this
// reads no valid query differently).
func (p *parser) parseGlobNames(c *ParseCmd) []*Field {
	var out []*Field
	for {
		out = append(out, p.parseName("a field name"))
		if !p.accept(tComma) {
			return out
		}
		if pipe := p.peek(); pipe.kind == tPipe {
			if n := p.peek2(pipe); n.kind == tIdent || n.kind == tBacktick {
				p.consume(pipe)
				c.Piped = true
			}
		}
	}
}
