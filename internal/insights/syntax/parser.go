package syntax

import (
	"fmt"
	"strings"

	"github.com/flowlens/flowlens/internal/textdist"
)

// MaxQueryLen caps the query text (Logs Insights allows 10,000 characters;
// flowlens is more generous but keeps a bound).
const MaxQueryLen = 1 << 20

// maxDepth caps the nesting of expressions.
const maxDepth = 200

// parser holds the state of one Parse call.
type parser struct {
	src   string
	off   int // offset just past the last consumed token
	depth int
	// one-token cache
	cache     token
	cacheOff  int
	cacheMode bool
	cached    bool
}

// bailout carries a parse error up to Parse through panic.
type bailout struct{ err *Error }

// Parse parses a query. The error, if any, is an *Error.
func Parse(src string) (q *Query, err error) {
	if len(src) > MaxQueryLen {
		return nil, NewError(src, Span{MaxQueryLen, MaxQueryLen}, "query too long (%d bytes; at most %d)", len(src), MaxQueryLen)
	}
	p := &parser{src: src}
	defer p.recover(&err)
	return p.parseQuery(), nil
}

// ParseExpr parses a single expression (used by tests and tools).
func ParseExpr(src string) (e Expr, err error) {
	p := &parser{src: src}
	defer p.recover(&err)
	e = p.parseExpr()
	if t := p.peek(); t.kind != tEOF {
		p.unexpected(t, "end of expression")
	}
	return e, nil
}

// recover turns the parser's own panics into an error and re-panics anything else.
func (p *parser) recover(errp *error) {
	r := recover()
	if r == nil {
		return
	}
	b, ok := r.(bailout)
	if !ok {
		panic(r) // not ours: a bug, keep the stack
	}
	*errp = b.err
}

func (p *parser) failAt(span Span, format string, args ...any) {
	panic(bailout{NewError(p.src, span, format, args...)})
}

// unexpected fails at t saying what was expected.
func (p *parser) unexpected(t token, expected string) {
	p.failAt(Span{t.pos, max(t.end, t.pos+1)}, "unexpected %s, expected %s", t.describe(), expected)
}

// peekMode returns the next token without consuming it.
func (p *parser) peekMode(operand bool) token {
	if p.cached && p.cacheOff == p.off && p.cacheMode == operand {
		return p.cache
	}
	t := p.lex(p.off, operand)
	p.cache, p.cacheOff, p.cacheMode, p.cached = t, p.off, operand, true
	return t
}

// peek returns the next token in operator position.
func (p *parser) peek() token { return p.peekMode(false) }

// peekOperand returns the next token in operand position ('/' opens a regex).
func (p *parser) peekOperand() token { return p.peekMode(true) }

// peek2 returns the token after t (operator position).
func (p *parser) peek2(t token) token { return p.lex(int(t.end), false) }

// consume moves past t, which must be the token just peeked.
func (p *parser) consume(t token) token {
	p.off = int(t.end)
	return t
}

// next consumes and returns the next token in operator position.
func (p *parser) next() token { return p.consume(p.peek()) }

// expect consumes a token of kind k or fails.
func (p *parser) expect(k tokKind, what string) token {
	t := p.peek()
	if t.kind != k {
		p.unexpected(t, what)
	}
	return p.consume(t)
}

// expectKeyword consumes the keyword kw or fails.
func (p *parser) expectKeyword(kw string) token {
	t := p.peek()
	if !t.is(kw) {
		p.unexpected(t, fmt.Sprintf("%q", kw))
	}
	return p.consume(t)
}

// acceptKeyword consumes kw when it is next.
func (p *parser) acceptKeyword(kw string) bool {
	if t := p.peek(); t.is(kw) {
		p.consume(t)
		return true
	}
	return false
}

func (p *parser) accept(k tokKind) bool {
	if t := p.peek(); t.kind == k {
		p.consume(t)
		return true
	}
	return false
}

func (p *parser) enter(t token) {
	p.depth++
	if p.depth > maxDepth {
		p.failAt(Span{t.pos, t.end}, "expression nested too deeply (more than %d levels)", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// query = [ "|" ] command { "|" command } ;
func (p *parser) parseQuery() *Query { return p.parseQueryUntil(false) }

// parseQueryUntil parses a query; a nested one (a subquery) ends at ")".
func (p *parser) parseQueryUntil(nested bool) *Query {
	q := &Query{}
	p.accept(tPipe)
	for {
		t := p.peek()
		if t.kind == tEOF {
			if len(q.Commands) == 0 {
				p.failAt(Span{t.pos, t.pos}, "empty query: expected a command such as fields, filter or stats")
			}
			p.failAt(Span{t.pos, t.pos}, "expected a command after \"|\"")
		}
		q.Commands = append(q.Commands, p.parseCommand())
		t = p.peek()
		if t.kind == tEOF || nested && t.kind == tRParen {
			break
		}
		if t.kind != tPipe {
			if nested {
				p.unexpected(t, `"|" or ")"`)
			}
			if t.kind == tIdent && commandParser(strings.ToLower(t.text)) != nil {
				// a command on a line of its own without its "|" (a
				// tutorial's "add these lines")
				p.failAt(Span{t.pos, max(t.end, t.pos+1)}, "unexpected %s, expected \"|\" or end of query: commands are separated by \"|\" (write | %s …)",
					t.describe(), strings.ToLower(t.text))
			}
			p.unexpected(t, `"|" or end of query`)
		}
		p.consume(t)
	}
	q.Span = Span{q.Commands[0].Pos(), q.Commands[len(q.Commands)-1].EndPos()}
	return q
}

// commandParsers maps each command name (lower case) to its parse method.
// The table is an immutable literal built per parse call.
func commandParser(name string) func(*parser, token) Command {
	switch name {
	case "fields":
		return (*parser).parseFields
	case "display":
		return (*parser).parseDisplay
	case "filter", "where":
		return (*parser).parseFilter
	case "filterindex":
		return (*parser).parseFilterIndex
	case "stats":
		return (*parser).parseStats
	case "sort":
		return (*parser).parseSort
	case "limit":
		return (*parser).parseLimit
	case "parse":
		return (*parser).parseParse
	case "dedup":
		return (*parser).parseDedup
	case "unmask":
		return (*parser).parseUnmask
	case "source":
		return (*parser).parseSource
	case "countfrequent", "count_frequent":
		return (*parser).parseCountFrequent
	case "accum":
		return (*parser).parseAccum
	case "estimate":
		return (*parser).parseEstimate
	case "autoregress":
		return (*parser).parseAutoregress
	case "filldown":
		return (*parser).parseFilldown
	case "pattern":
		return (*parser).parsePattern
	case "addtotals":
		return (*parser).parseAddtotals
	case "sessionize":
		return (*parser).parseSessionize
	case "outlier":
		return (*parser).parseOutlier
	case "unnest":
		return (*parser).parseUnnest
	case "expand":
		return (*parser).parseExpand
	case "fillmissing":
		return (*parser).parseFillmissing
	case "lookup", "cidrlookup":
		return (*parser).parseLookup
	case "join":
		return (*parser).parseJoin
	case "diff":
		return (*parser).parseDiff
	case "appendcols":
		return (*parser).parseAppendcols
	case "anomaly":
		return (*parser).parseAnomaly
	case "relevantfields":
		return (*parser).parseRelevantFields
	case "logcompare":
		return (*parser).parseLogCompare
	}
	return nil
}

// knownCommands lists the command names for suggestions.
var knownCommands = []string{"fields", "display", "filter", "where", "stats", "sort", "limit", "parse",
	"dedup", "unmask", "source", "filterIndex", "countFrequent", "accum", "estimate", "unnest", "lookup",
	"cidrlookup", "join", "pattern", "diff", "anomaly", "addtotals", "expand", "filldown", "fillmissing",
	"autoregress", "sessionize", "outlier", "appendcols", "logcompare", "relevantfields"}

// command = fields | display | filter | stats | … ;
func (p *parser) parseCommand() Command {
	t := p.peek()
	if t.kind != tIdent {
		p.unexpected(t, "a command (fields, filter, stats, sort, limit, parse, …)")
	}
	f := commandParser(strings.ToLower(t.text))
	if f == nil {
		msg := fmt.Sprintf("unknown command %q", t.text)
		if s := nearest(t.text, knownCommands); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		p.failAt(Span{t.pos, t.end}, "%s", msg)
	}
	p.consume(t)
	return f(p, t)
}

// nearest returns the candidate closest to s (case-insensitive edit
// distance at most 2), or "".
func nearest(s string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := textdist.Distance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// span returns the span from start to the end of the last consumed token.
func (p *parser) span(start Pos) Span { return Span{start, Pos(p.off)} }
