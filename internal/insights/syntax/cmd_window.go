package syntax

import (
	"strconv"
	"strings"
)

// Autoregress is `autoregress field [as alias] [p=N | p=N-M]`: lagged
// copies of a field from previous rows.
type Autoregress struct {
	Span
	Field    *Field
	Alias    *Field
	From, To int64 // lags, 1 and 1 by default
	P        bool  // p= was written
}

// Filldown is `filldown [field …]`: a NULL takes the last non-NULL value
// of the field from the rows before it.
type Filldown struct {
	Span
	Fields []*Field
}

// Pattern is `pattern [field]`: values clustered into patterns (flowlens:
// every token with a digit becomes <*>).
type Pattern struct {
	Span
	Field Expr
}

// Addtotals is `addtotals [row=true|false] [col=true|false] [fieldname=name] [field …]`.
type Addtotals struct {
	Span
	Row, Col  bool
	FieldName string
	Fields    []*Field
}

// Sessionize is `sessionize f1 {, f} [maxspan period] [as out]`.
type Sessionize struct {
	Span
	Fields  []*Field
	MaxSpan *Duration
	Alias   *Field
}

func (*Autoregress) command() {}
func (*Filldown) command()    {}
func (*Pattern) command()     {}
func (*Addtotals) command()   {}
func (*Sessionize) command()  {}

func (*Autoregress) Name() string { return "autoregress" }
func (*Filldown) Name() string    { return "filldown" }
func (*Pattern) Name() string     { return "pattern" }
func (*Addtotals) Name() string   { return "addtotals" }
func (*Sessionize) Name() string  { return "sessionize" }

func (c *Autoregress) String() string {
	s := "autoregress " + c.Field.String()
	if c.Alias != nil {
		s += " as " + c.Alias.String()
	}
	if c.P {
		s += " p=" + strconv.FormatInt(c.From, 10)
		if c.To != c.From {
			s += "-" + strconv.FormatInt(c.To, 10)
		}
	}
	return s
}

func (c *Filldown) String() string {
	if len(c.Fields) == 0 {
		return "filldown"
	}
	return "filldown " + nameList(c.Fields)
}

func (c *Pattern) String() string {
	if c.Field == nil {
		return "pattern"
	}
	return "pattern " + c.Field.String()
}

func (c *Addtotals) String() string {
	var b strings.Builder
	b.WriteString("addtotals")
	if !c.Row {
		b.WriteString(" row=false")
	}
	if c.Col {
		b.WriteString(" col=true")
	}
	if c.FieldName != "Total" {
		b.WriteString(" fieldname=" + c.FieldName)
	}
	if len(c.Fields) > 0 {
		b.WriteString(" " + nameList(c.Fields))
	}
	return b.String()
}

func (c *Sessionize) String() string {
	s := "sessionize " + nameList(c.Fields)
	if c.MaxSpan != nil {
		s += " maxspan " + c.MaxSpan.String()
	}
	if c.Alias != nil {
		s += " as " + c.Alias.String()
	}
	return s
}

func (c *Autoregress) children() []Node {
	if c.Alias != nil {
		return []Node{c.Field, c.Alias}
	}
	return []Node{c.Field}
}
func (c *Filldown) children() []Node  { return fieldNodes(c.Fields) }
func (c *Addtotals) children() []Node { return fieldNodes(c.Fields) }
func (c *Pattern) children() []Node {
	if c.Field == nil {
		return nil
	}
	return []Node{c.Field}
}
func (c *Sessionize) children() []Node { return fieldNodes(c.Fields) }

// atEnd reports whether the command has no more arguments.
func (p *parser) atEnd() bool {
	t := p.peek()
	return t.kind == tEOF || t.kind == tPipe
}

// autoregress = "autoregress" ident [ "as" ident ] [ "p" "=" integer [ "-" integer ] ] ;
func (p *parser) parseAutoregress(kw token) Command {
	c := &Autoregress{Field: p.parseName("a field name"), From: 1, To: 1}
	if p.acceptKeyword("as") {
		c.Alias = p.parseName("a name after \"as\"")
	}
	if t := p.peek(); t.is("p") {
		p.consume(t)
		if eq := p.peek(); !eq.isOp("=") {
			p.unexpected(eq, `"=" after p`)
		}
		p.next()
		c.P = true
		c.From = p.smallInt()
		c.To = c.From
		if t := p.peek(); t.isOp("-") {
			p.consume(t)
			c.To = p.smallInt()
		}
		if c.From < 1 || c.To < c.From || c.To > 100 {
			p.failAt(p.span(kw.pos), "p= takes lags between 1 and 100, such as p=1 or p=1-4")
		}
	}
	c.Span = p.span(kw.pos)
	return c
}

func (p *parser) smallInt() int64 {
	t := p.peekOperand()
	if t.kind != tNumber {
		p.unexpected(t, "a whole number")
	}
	p.consume(t)
	n, err := strconv.ParseInt(t.text, 10, 64)
	if err != nil {
		p.failAt(Span{t.pos, t.end}, "expected a whole number, got %s", t.text)
	}
	return n
}

// filldown = "filldown" [ ident { [ "," ] ident } ] ;
func (p *parser) parseFilldown(kw token) Command {
	c := &Filldown{}
	for !p.atEnd() {
		c.Fields = append(c.Fields, p.parseName("a field name"))
		p.accept(tComma)
	}
	c.Span = p.span(kw.pos)
	return c
}

// pattern = "pattern" [ fieldref ] ;
func (p *parser) parsePattern(kw token) Command {
	c := &Pattern{}
	if !p.atEnd() {
		c.Field = p.parseName("a field name")
	}
	c.Span = p.span(kw.pos)
	return c
}

// addtotals = "addtotals" { ( "row" | "col" ) "=" bool | "fieldname" "=" ident | ident } ;
func (p *parser) parseAddtotals(kw token) Command {
	c := &Addtotals{Row: true, FieldName: "Total"}
	for !p.atEnd() {
		name := p.parseName("an option or a field name")
		if eq := p.peek(); eq.isOp("=") && !name.Quoted {
			p.consume(eq)
			val := p.parseName("a value")
			switch strings.ToLower(name.Name) {
			case "row", "col":
				v := strings.ToLower(val.Name)
				if v != "true" && v != "false" {
					p.failAt(val.Span, "%s= takes true or false", name.Name)
				}
				if strings.EqualFold(name.Name, "row") {
					c.Row = v == "true"
				} else {
					c.Col = v == "true"
				}
			case "fieldname":
				c.FieldName = val.Name
			default:
				p.failAt(name.Span, "unknown addtotals option %q (row, col, fieldname)", name.Name)
			}
		} else {
			c.Fields = append(c.Fields, name)
		}
		p.accept(tComma)
	}
	c.Span = p.span(kw.pos)
	return c
}

// sessionize = "sessionize" ident { "," ident } [ "maxspan" period ] [ "as" ident ] ;
func (p *parser) parseSessionize(kw token) Command {
	c := &Sessionize{}
	for {
		c.Fields = append(c.Fields, p.parseName("a field name"))
		if !p.accept(tComma) {
			break
		}
	}
	if p.acceptKeyword("maxspan") {
		t := p.peekOperand()
		if t.kind != tDuration {
			p.unexpected(t, "a time period after maxspan (30m)")
		}
		p.consume(t)
		c.MaxSpan = p.duration(t)
	}
	if p.acceptKeyword("as") {
		c.Alias = p.parseName("a name after \"as\"")
	}
	c.Span = p.span(kw.pos)
	return c
}

// Outlier is `outlier [action=remove|transform] [param=n] [uselower=true|false] [mark=true|false] field {field}`:
// values beyond Q3 + param·IQR (and Q1 − param·IQR with uselower) are
// clamped (transform), dropped (remove) or flagged (mark).
type Outlier struct {
	Span
	Action   string // "transform" or "remove"
	Param    float64
	UseLower bool
	Mark     bool
	Fields   []*Field
}

func (*Outlier) command()     {}
func (*Outlier) Name() string { return "outlier" }

func (c *Outlier) String() string {
	var b strings.Builder
	b.WriteString("outlier")
	if c.Action != "transform" {
		b.WriteString(" action=" + c.Action)
	}
	if c.Param != 2.5 {
		b.WriteString(" param=" + strconv.FormatFloat(c.Param, 'g', -1, 64))
	}
	if c.UseLower {
		b.WriteString(" uselower=true")
	}
	if c.Mark {
		b.WriteString(" mark=true")
	}
	b.WriteString(" " + nameList(c.Fields))
	return b.String()
}

func (c *Outlier) children() []Node { return fieldNodes(c.Fields) }

// outlier = "outlier" { option "=" value } ident { [ "," ] ident } ;
func (p *parser) parseOutlier(kw token) Command {
	c := &Outlier{Action: "transform", Param: 2.5}
	for !p.atEnd() {
		name := p.parseName("an option or a field name")
		eq := p.peek()
		if !eq.isOp("=") || name.Quoted {
			c.Fields = append(c.Fields, name)
			p.accept(tComma)
			continue
		}
		p.consume(eq)
		switch strings.ToLower(name.Name) {
		case "action":
			v := p.parseName("remove or transform")
			if a := strings.ToLower(v.Name); a == "remove" || a == "transform" {
				c.Action = a
			} else {
				p.failAt(v.Span, "action= takes remove or transform")
			}
		case "param":
			t := p.peekOperand()
			if t.kind != tNumber {
				p.unexpected(t, "a number after param=")
			}
			p.consume(t)
			c.Param = p.number(t).Float
			if c.Param < 0 {
				p.failAt(Span{t.pos, t.end}, "param= must not be negative")
			}
		case "uselower", "mark":
			v := p.parseName("true or false")
			b := strings.ToLower(v.Name)
			if b != "true" && b != "false" {
				p.failAt(v.Span, "%s= takes true or false", name.Name)
			}
			if strings.EqualFold(name.Name, "mark") {
				c.Mark = b == "true"
			} else {
				c.UseLower = b == "true"
			}
		default:
			p.failAt(name.Span, "unknown outlier option %q (action, param, uselower, mark)", name.Name)
		}
	}
	if len(c.Fields) == 0 {
		p.failAt(p.span(kw.pos), "outlier needs at least one field")
	}
	c.Span = p.span(kw.pos)
	return c
}

// Unnest is `unnest listField into newField`: one row per element.
type Unnest struct {
	Span
	Field, Into *Field
}

// Expand is `expand listField`: one row per element, in place.
type Expand struct {
	Span
	Field *Field
}

func (*Unnest) command()           {}
func (*Expand) command()           {}
func (*Unnest) Name() string       { return "unnest" }
func (*Expand) Name() string       { return "expand" }
func (c *Unnest) String() string   { return "unnest " + c.Field.String() + " into " + c.Into.String() }
func (c *Expand) String() string   { return "expand " + c.Field.String() }
func (c *Unnest) children() []Node { return []Node{c.Field, c.Into} }
func (c *Expand) children() []Node { return []Node{c.Field} }

// unnest = "unnest" ident "into" ident ;
func (p *parser) parseUnnest(kw token) Command {
	c := &Unnest{Field: p.parseName("a list field")}
	p.expectKeyword("into")
	c.Into = p.parseName("a name after \"into\"")
	c.Span = p.span(kw.pos)
	return c
}

// expand = "expand" ident ;
func (p *parser) parseExpand(kw token) Command {
	c := &Expand{Field: p.parseName("a list field")}
	c.Span = p.span(kw.pos)
	return c
}

// FillValue is one "value for field" of fillmissing.
type FillValue struct {
	Value Expr
	Field *Field
}

// Fillmissing is `fillmissing [with value for field {, value for field}]`:
// after stats … by bin(), rows for the empty bins between the first and
// the last.
type Fillmissing struct {
	Span
	Values []FillValue
}

func (*Fillmissing) command()     {}
func (*Fillmissing) Name() string { return "fillmissing" }

func (c *Fillmissing) String() string {
	if len(c.Values) == 0 {
		return "fillmissing"
	}
	parts := make([]string, len(c.Values))
	for i, v := range c.Values {
		parts[i] = v.Value.String() + " for " + v.Field.String()
	}
	return "fillmissing with " + strings.Join(parts, ", ")
}

func (c *Fillmissing) children() []Node {
	var out []Node
	for _, v := range c.Values {
		out = append(out, v.Value, v.Field)
	}
	return out
}

// fillmissing = "fillmissing" [ "with" expr "for" ident { "," expr "for" ident } ] ;
func (p *parser) parseFillmissing(kw token) Command {
	c := &Fillmissing{}
	if p.acceptKeyword("with") {
		for {
			v := p.parseUnary()
			p.expectKeyword("for")
			c.Values = append(c.Values, FillValue{Value: v, Field: p.parseName("a field name")})
			if !p.accept(tComma) {
				break
			}
		}
	}
	c.Span = p.span(kw.pos)
	return c
}
