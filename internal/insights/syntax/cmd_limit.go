package syntax

import (
	"strconv"
)

// Limit is `limit [any] N`.
type Limit struct {
	Span
	Any bool
	N   int64
}

func (*Limit) command()     {}
func (*Limit) Name() string { return "limit" }

func (c *Limit) String() string {
	if c.Any {
		return "limit any " + strconv.FormatInt(c.N, 10)
	}
	return "limit " + strconv.FormatInt(c.N, 10)
}

// limit = "limit" [ "any" ] integer ;
func (p *parser) parseLimit(kw token) Command {
	c := &Limit{Any: p.acceptKeyword("any")}
	t := p.peekOperand()
	if t.kind != tNumber {
		p.unexpected(t, "a number of rows after \"limit\"")
	}
	p.consume(t)
	n, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil || n < 1 {
		p.failAt(Span{t.pos, t.end}, "limit must be a whole number of rows, at least 1 (got %s)", t.text)
	}
	c.N = n
	c.Span = p.span(kw.pos)
	return c
}
