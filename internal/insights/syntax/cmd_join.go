package syntax

import (
	"strconv"
	"strings"
)

// JoinCmd is `join [type=inner|left] left=a right=b where a.key = b.key ( subquery )`.
type JoinCmd struct {
	Span
	Type        string // "inner" or "left"
	Left, Right string
	On          Expr
	Sub         *Query
}

func (*JoinCmd) command()     {}
func (*JoinCmd) Name() string { return "join" }

func (c *JoinCmd) String() string {
	var b strings.Builder
	b.WriteString("join ")
	if c.Type != "inner" {
		b.WriteString("type=" + c.Type + " ")
	}
	b.WriteString("left=" + c.Left + " right=" + c.Right + " where " + c.On.String() + " (" + c.Sub.String() + ")")
	return b.String()
}

func (c *JoinCmd) children() []Node { return []Node{c.On, c.Sub} }

// joinOn = name "=" name { "and" name "=" name } ;
func (p *parser) parseJoinOn() Expr {
	var on Expr
	for {
		l := p.parseName("a field such as a.key")
		op := p.peek()
		if !op.isOp("=") && !op.isOp("==") {
			p.unexpected(op, `"="`)
		}
		p.consume(op)
		r := p.parseName("a field such as b.key")
		eq := &Binary{Span: Span{l.Pos(), r.EndPos()}, Op: "=", X: l, Y: r}
		if on == nil {
			on = eq
		} else {
			on = &Binary{Span: Span{on.Pos(), eq.EndPos()}, Op: "and", X: on, Y: eq}
		}
		if !p.acceptKeyword("and") {
			return on
		}
	}
}

// join = "join" { ( "type" | "left" | "right" ) "=" ident } "where" expr "(" query ")" ;
func (p *parser) parseJoin(kw token) Command {
	c := &JoinCmd{Type: "inner"}
	for {
		t := p.peek()
		if t.is("where") || t.kind != tIdent {
			break
		}
		key := p.parseName("type=, left=, right= or where")
		if eq := p.peek(); !eq.isOp("=") {
			p.unexpected(eq, `"="`)
		}
		p.next()
		val := p.parseName("a value")
		switch strings.ToLower(key.Name) {
		case "type":
			v := strings.ToLower(val.Name)
			if v != "inner" && v != "left" {
				p.failAt(val.Span, "join type= takes inner or left")
			}
			c.Type = v
		case "left":
			c.Left = val.Name
		case "right":
			c.Right = val.Name
		default:
			p.failAt(key.Span, "unknown join option %q (type, left, right)", key.Name)
		}
	}
	if c.Left == "" || c.Right == "" || c.Left == c.Right {
		p.failAt(p.span(kw.pos), "join needs two different aliases: left=a right=b")
	}
	p.expectKeyword("where")
	c.On = p.parseJoinOn()
	t := p.expect(tLParen, `"(" and the subquery to join`)
	p.enter(t)
	c.Sub = p.parseQueryUntil(true)
	p.leave()
	p.expect(tRParen, `")" after the subquery`)
	c.Span = p.span(kw.pos)
	return c
}

// Appendcols is `appendcols [override=true|false] [max=N] ( subquery )`:
// the subquery's columns appended to the rows by position.
type Appendcols struct {
	Span
	Override bool
	Max      int64
	Sub      *Query
}

func (*Appendcols) command()           {}
func (*Appendcols) Name() string       { return "appendcols" }
func (c *Appendcols) children() []Node { return []Node{c.Sub} }

func (c *Appendcols) String() string {
	s := "appendcols "
	if c.Override {
		s += "override=true "
	}
	if c.Max != 10000 {
		s += "max=" + strconv.FormatInt(c.Max, 10) + " "
	}
	return s + "(" + c.Sub.String() + ")"
}

// appendcols = "appendcols" { ( "override" "=" bool | "max" "=" integer ) } "(" query ")" ;
func (p *parser) parseAppendcols(kw token) Command {
	c := &Appendcols{Max: 10000}
	for p.peek().kind == tIdent {
		key := p.parseName("override= or max=")
		if eq := p.peek(); !eq.isOp("=") {
			p.unexpected(eq, `"="`)
		}
		p.next()
		switch strings.ToLower(key.Name) {
		case "override":
			v := p.parseName("true or false")
			b := strings.ToLower(v.Name)
			if b != "true" && b != "false" {
				p.failAt(v.Span, "override= takes true or false")
			}
			c.Override = b == "true"
		case "max":
			c.Max = p.smallInt()
			if c.Max < 1 || c.Max > 100000 {
				p.failAt(p.span(kw.pos), "max= takes 1 to 100000")
			}
		default:
			p.failAt(key.Span, "unknown appendcols option %q (override, max)", key.Name)
		}
	}
	t := p.expect(tLParen, `"(" and the subquery`)
	p.enter(t)
	c.Sub = p.parseQueryUntil(true)
	p.leave()
	p.expect(tRParen, `")" after the subquery`)
	c.Span = p.span(kw.pos)
	return c
}
