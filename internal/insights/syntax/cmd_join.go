package syntax

import "strings"

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
