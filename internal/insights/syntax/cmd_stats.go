package syntax

import "strings"

// Stats is `stats agg [as a] {, …} [by group [as g] {, …} [offset period]]`.
type Stats struct {
	Span
	Aggs   []Proj
	By     []Proj
	Offset *Duration
}

func (*Stats) command()     {}
func (*Stats) Name() string { return "stats" }

func (c *Stats) String() string {
	var b strings.Builder
	b.WriteString("stats ")
	b.WriteString(projList(c.Aggs))
	if len(c.By) > 0 {
		b.WriteString(" by ")
		b.WriteString(projList(c.By))
	}
	if c.Offset != nil {
		b.WriteString(" offset ")
		b.WriteString(c.Offset.String())
	}
	return b.String()
}

func (c *Stats) children() []Node {
	out := append(projNodes(c.Aggs), projNodes(c.By)...)
	if c.Offset != nil {
		out = append(out, c.Offset)
	}
	return out
}

// stats = "stats" agg { "," agg } [ "by" group { "," group } [ "offset" period ] ] ;
func (p *parser) parseStats(kw token) Command {
	c := &Stats{Aggs: p.parseProjList()}
	if p.acceptKeyword("by") {
		c.By = p.parseProjList()
		if p.acceptKeyword("offset") {
			t := p.peekOperand()
			if t.kind != tDuration {
				p.unexpected(t, "a time period after \"offset\" (1h, 1d)")
			}
			p.consume(t)
			c.Offset = p.duration(t)
		}
	}
	c.Span = p.span(kw.pos)
	return c
}
