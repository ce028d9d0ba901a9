package syntax

import "strings"

// Diff is `diff [previousDay|previousWeek|previousMonth]` after pattern:
// the patterns of the time range compared with an earlier range.
type Diff struct {
	Span
	Mode string // "", "previousDay", "previousWeek" or "previousMonth"
}

// LogCompare is `logcompare timeshift period`: the patterns of the time
// range compared with the same range shifted back by the period.
type LogCompare struct {
	Span
	Shift *Duration
}

func (*Diff) command()       {}
func (*LogCompare) command() {}

func (*Diff) Name() string       { return "diff" }
func (*LogCompare) Name() string { return "logcompare" }

func (c *Diff) String() string {
	if c.Mode == "" {
		return "diff"
	}
	return "diff " + c.Mode
}

func (c *LogCompare) String() string   { return "logcompare timeshift " + c.Shift.String() }
func (c *LogCompare) children() []Node { return []Node{c.Shift} }

// diff = "diff" [ "previousDay" | "previousWeek" | "previousMonth" ] ;
func (p *parser) parseDiff(kw token) Command {
	c := &Diff{}
	if !p.atEnd() {
		t := p.expect(tIdent, "previousDay, previousWeek or previousMonth")
		switch strings.ToLower(t.text) {
		case "previousday":
			c.Mode = "previousDay"
		case "previousweek":
			c.Mode = "previousWeek"
		case "previousmonth":
			c.Mode = "previousMonth"
		default:
			p.unexpected(t, "previousDay, previousWeek or previousMonth")
		}
	}
	c.Span = p.span(kw.pos)
	return c
}

// logcompare = "logcompare" "timeshift" period ;
func (p *parser) parseLogCompare(kw token) Command {
	p.expectKeyword("timeshift")
	t := p.peekOperand()
	if t.kind != tDuration {
		p.unexpected(t, "a time period after timeshift (1d)")
	}
	p.consume(t)
	c := &LogCompare{Shift: p.duration(t)}
	c.Span = p.span(kw.pos)
	return c
}

// Anomaly is `anomaly` after pattern (and diff): flags unusual patterns.
type Anomaly struct{ Span }

func (*Anomaly) command()       {}
func (*Anomaly) Name() string   { return "anomaly" }
func (*Anomaly) String() string { return "anomaly" }

// anomaly = "anomaly" ;
func (p *parser) parseAnomaly(kw token) Command { return &Anomaly{Span: p.span(kw.pos)} }

// RelevantFields is `relevantfields`: the fields whose values differ most
// between the matching events and all events of the range.
type RelevantFields struct{ Span }

func (*RelevantFields) command()       {}
func (*RelevantFields) Name() string   { return "relevantfields" }
func (*RelevantFields) String() string { return "relevantfields" }

// relevantfields = "relevantfields" ;
func (p *parser) parseRelevantFields(kw token) Command {
	return &RelevantFields{Span: p.span(kw.pos)}
}
