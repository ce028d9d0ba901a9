package syntax

import "strings"

// Source is `SOURCE 'name' [START=t] [END=t]` or
// `SOURCE logGroups([namePrefix: [...]]) [START=t] [END=t]`; datasets play
// the role of log groups.
type Source struct {
	Span
	// Names are the quoted names; LogGroups marks the logGroups(...) form,
	// whose namePrefix list is Prefixes.
	Names     []*String
	LogGroups bool
	Prefixes  []*String
	// Start and End are relative periods (-1h, 0s) or time strings; nil
	// when absent.
	Start, End Expr
}

func (*Source) command()     {}
func (*Source) Name() string { return "source" }

func (c *Source) String() string {
	var b strings.Builder
	b.WriteString("source ")
	if c.LogGroups {
		b.WriteString("logGroups(")
		if len(c.Prefixes) > 0 {
			b.WriteString("namePrefix: [")
			for i, s := range c.Prefixes {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(s.String())
			}
			b.WriteString("]")
		}
		b.WriteString(")")
	} else {
		for i, s := range c.Names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.String())
		}
	}
	if c.Start != nil {
		b.WriteString(" start=")
		b.WriteString(c.Start.String())
	}
	if c.End != nil {
		b.WriteString(" end=")
		b.WriteString(c.End.String())
	}
	return b.String()
}

func (c *Source) children() []Node {
	var out []Node
	for _, s := range c.Names {
		out = append(out, s)
	}
	for _, s := range c.Prefixes {
		out = append(out, s)
	}
	if c.Start != nil {
		out = append(out, c.Start)
	}
	if c.End != nil {
		out = append(out, c.End)
	}
	return out
}

// source = "SOURCE" ( string { "," string } | "logGroups" "(" [ "namePrefix" ":" list ] ")" )
//
//	[ "START" "=" time ] [ "END" "=" time ] ;
func (p *parser) parseSource(kw token) Command {
	c := &Source{}
	t := p.peekOperand()
	switch {
	case t.kind == tString:
		for {
			t := p.expect(tString, "a dataset name in quotes")
			c.Names = append(c.Names, &String{Span: Span{t.pos, t.end}, Value: t.text})
			if !p.accept(tComma) {
				break
			}
		}
	case t.is("logGroups"):
		p.consume(t)
		c.LogGroups = true
		p.expect(tLParen, `"("`)
		for p.peek().kind != tRParen {
			key := p.expect(tIdent, "namePrefix, accountIdentifiers or class")
			p.expect(tColon, `":"`)
			var vals []*String
			if p.peekOperand().kind == tLBrack {
				l := p.parseList()
				for _, e := range l.Elems {
					s, ok := e.(*String)
					if !ok {
						p.failAt(Span{e.Pos(), e.EndPos()}, "expected a quoted name in the list")
					}
					vals = append(vals, s)
				}
			} else {
				s := p.expect(tString, "a quoted value")
				vals = append(vals, &String{Span: Span{s.pos, s.end}, Value: s.text})
			}
			switch strings.ToLower(key.text) {
			case "nameprefix":
				c.Prefixes = append(c.Prefixes, vals...)
			case "accountidentifiers", "class":
				// one account, one storage class: nothing to select
			default:
				p.failAt(Span{key.pos, key.end}, "unknown logGroups option %q (namePrefix, accountIdentifiers, class)", key.text)
			}
			if !p.accept(tComma) {
				break
			}
		}
		p.expect(tRParen, `")"`)
	default:
		p.unexpected(t, "a quoted dataset name or logGroups(...)")
	}
	for {
		t := p.peek()
		var dst *Expr
		switch {
		case t.is("start"):
			dst = &c.Start
		case t.is("end"):
			dst = &c.End
		default:
			c.Span = p.span(kw.pos)
			return c
		}
		p.consume(t)
		if eq := p.peek(); !eq.isOp("=") {
			p.unexpected(eq, `"="`)
		}
		p.next()
		*dst = p.parseUnary()
	}
}
