package syntax

import "strings"

// LookupKey pairs a lookup table column with an event field. For lookup
// Table is written first (keyColumn [as eventField]); for cidrlookup Event
// is (ipField [as cidrColumn]).
type LookupKey struct {
	Table, Event *Field
}

// LookupOut is one output column: col [as name].
type LookupOut struct {
	Col, As *Field
}

// Lookup is `lookup table key [as field] {, …} OUTPUT|OUTPUTNEW col [as name] {, …}`
// or, with CIDR, `cidrlookup table ipField [as cidrColumn] OUTPUT|OUTPUTNEW …`.
type Lookup struct {
	Span
	CIDR    bool
	Table   *Field
	Keys    []LookupKey
	New     bool // OUTPUTNEW: fill only absent fields
	Outputs []LookupOut
}

func (*Lookup) command() {}

// Name returns lookup or cidrlookup.
func (c *Lookup) Name() string {
	if c.CIDR {
		return "cidrlookup"
	}
	return "lookup"
}

func (c *Lookup) String() string {
	var b strings.Builder
	b.WriteString(c.Name() + " " + c.Table.String() + " ")
	for i, k := range c.Keys {
		if i > 0 {
			b.WriteString(", ")
		}
		first, second := k.Table, k.Event
		if c.CIDR {
			first, second = k.Event, k.Table
		}
		b.WriteString(first.String())
		if second != nil && second.Name != first.Name {
			b.WriteString(" as " + second.String())
		}
	}
	if c.New {
		b.WriteString(" OUTPUTNEW ")
	} else {
		b.WriteString(" OUTPUT ")
	}
	for i, o := range c.Outputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.Col.String())
		if o.As != nil && o.As.Name != o.Col.Name {
			b.WriteString(" as " + o.As.String())
		}
	}
	return b.String()
}

func (c *Lookup) children() []Node {
	out := []Node{c.Table}
	for _, k := range c.Keys {
		out = append(out, k.Table, k.Event)
	}
	for _, o := range c.Outputs {
		out = append(out, o.Col, o.As)
	}
	return out
}

// lookup     = "lookup" ident key { "," key } ( "OUTPUT" | "OUTPUTNEW" ) out { "," out } ;
// cidrlookup = "cidrlookup" ident ident [ "as" ident ] ( "OUTPUT" | "OUTPUTNEW" ) out { "," out } ;
// key        = ident [ "as" ident ] ;
// out        = ident [ "as" ident ] ;
func (p *parser) parseLookup(kw token) Command {
	c := &Lookup{CIDR: strings.EqualFold(kw.text, "cidrlookup"), Table: p.parseName("a lookup table name")}
	for {
		first := p.parseName("a field name")
		second := first
		if p.acceptKeyword("as") {
			second = p.parseName("a name after \"as\"")
		}
		if c.CIDR {
			c.Keys = append(c.Keys, LookupKey{Event: first, Table: second})
		} else {
			c.Keys = append(c.Keys, LookupKey{Table: first, Event: second})
		}
		if c.CIDR || !p.accept(tComma) {
			break
		}
	}
	switch t := p.peek(); {
	case t.is("output"):
		p.consume(t)
	case t.is("outputnew"):
		p.consume(t)
		c.New = true
	default:
		p.unexpected(t, `OUTPUT or OUTPUTNEW`)
	}
	for {
		o := LookupOut{Col: p.parseName("a column of the lookup table")}
		o.As = o.Col
		if p.acceptKeyword("as") {
			o.As = p.parseName("a name after \"as\"")
		}
		c.Outputs = append(c.Outputs, o)
		if !p.accept(tComma) {
			break
		}
	}
	c.Span = p.span(kw.pos)
	return c
}
