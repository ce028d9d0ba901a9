package syntax

import (
	"strings"
	"unicode/utf8"
)

// The lexer is driven by the parser: the parser asks for the token at an
// offset and says whether an operand is expected there, which is what tells
// a /regex/ from a division.

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '@' || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// skipSpace skips white space and # comments from off.
func skipSpace(src string, off int) int {
	for off < len(src) {
		switch c := src[off]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			off++
		case c == '#':
			for off < len(src) && src[off] != '\n' {
				off++
			}
		default:
			return off
		}
	}
	return off
}

// lex returns the token starting at or after off. operand says whether the
// parser expects an operand (so '/' opens a regex).
func (p *parser) lex(off int, operand bool) token {
	src := p.src
	off = skipSpace(src, off)
	if off >= len(src) {
		return token{kind: tEOF, pos: Pos(off), end: Pos(off)}
	}
	start := off
	c := src[off]
	tok := func(k tokKind, end int) token {
		return token{kind: k, pos: Pos(start), end: Pos(end), text: src[start:end]}
	}
	switch {
	case isIdentStart(c):
		for off < len(src) && isIdentChar(src[off]) {
			if src[off] >= 0x80 {
				r, n := utf8.DecodeRuneInString(src[off:])
				if r == utf8.RuneError && n <= 1 {
					p.failAt(Span{Pos(off), Pos(off + 1)}, "invalid UTF-8 in the query")
				}
				off += n
				continue
			}
			off++
		}
		return tok(tIdent, off)
	case isDigit(c) || c == '.' && off+1 < len(src) && isDigit(src[off+1]):
		return p.lexNumber(off)
	case c == '`':
		end := strings.IndexByte(src[off+1:], '`')
		if end < 0 {
			p.failAt(Span{Pos(off), Pos(len(src))}, "unterminated quoted name: a closing ` is missing")
		}
		t := tok(tBacktick, off+end+2)
		t.text = src[off+1 : off+1+end]
		if t.text == "" {
			p.failAt(Span{t.pos, t.end}, "empty quoted name ``")
		}
		p.checkText(t, t.text)
		return t
	case c == '"' || c == '\'':
		return p.lexString(off)
	case c == '/' && operand:
		return p.lexRegex(off)
	case c == '|':
		return tok(tPipe, off+1)
	case c == ',':
		return tok(tComma, off+1)
	case c == ':':
		return tok(tColon, off+1)
	case c == '(':
		return tok(tLParen, off+1)
	case c == ')':
		return tok(tRParen, off+1)
	case c == '[':
		return tok(tLBrack, off+1)
	case c == ']':
		return tok(tRBrack, off+1)
	}
	two := ""
	if off+1 < len(src) {
		two = src[off : off+2]
	}
	switch two {
	case "==", "!=", "<=", ">=", "=~":
		return tok(tOp, off+2)
	case "<>":
		p.failAt(Span{Pos(off), Pos(off + 2)}, `"<>" is not an operator: write "!="`)
	}
	switch c {
	case '=', '<', '>', '+', '-', '*', '/', '%', '^':
		return tok(tOp, off+1)
	}
	r, n := utf8.DecodeRuneInString(src[off:])
	if r == utf8.RuneError && n <= 1 {
		p.failAt(Span{Pos(off), Pos(off + 1)}, "invalid UTF-8 in the query")
	}
	if strings.HasPrefix(src[off:], "...") || strings.HasPrefix(src[off:], "…") {
		// an article's elision of the lines above
		p.failAt(Span{Pos(off), Pos(off + n)}, "unexpected %q: it stands for the lines written before it in the text (such as the parse command): write them out", src[off:off+min(3, len(src)-off)])
	}
	p.failAt(Span{Pos(off), Pos(off + n)}, "unexpected character %q", r)
	return token{}
}

// lexNumber reads a number, a number with an exponent or a time period
// (a number immediately followed by a unit: 5m, 100ms, 2hrs).
func (p *parser) lexNumber(off int) token {
	src := p.src
	start := off
	for off < len(src) && isDigit(src[off]) {
		off++
	}
	if off < len(src) && src[off] == '.' && off+1 < len(src) && isDigit(src[off+1]) {
		off++
		for off < len(src) && isDigit(src[off]) {
			off++
		}
	}
	if off < len(src) && (src[off] == 'e' || src[off] == 'E') {
		j := off + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			off = j
		}
	}
	numEnd := off
	for off < len(src) && isLetter(src[off]) {
		off++
	}
	if off > numEnd {
		unit := src[numEnd:off]
		if _, ok := unitOf(unit); !ok || strings.ContainsAny(src[start:numEnd], ".eE") {
			p.failAt(Span{Pos(start), Pos(off)}, "invalid number or time period %q (units: ms, s, m, h, d, w, mo, q, y)", src[start:off])
		}
		if off < len(src) && isIdentChar(src[off]) {
			p.failAt(Span{Pos(start), Pos(off + 1)}, "invalid time period %q", src[start:off+1])
		}
		return token{kind: tDuration, pos: Pos(start), end: Pos(off), text: src[start:off]}
	}
	if off < len(src) && (isIdentChar(src[off]) && src[off] != '.') {
		p.failAt(Span{Pos(start), Pos(off + 1)}, "invalid number %q", src[start:off+1])
	}
	return token{kind: tNumber, pos: Pos(start), end: Pos(off), text: src[start:off]}
}

// lexString reads a quoted string with backslash escapes.
func (p *parser) lexString(off int) token {
	src := p.src
	q := src[off]
	start := off
	off++
	var b strings.Builder
	for {
		if off >= len(src) {
			p.failAt(Span{Pos(start), Pos(len(src))}, "unterminated string: a closing %c is missing", q)
		}
		c := src[off]
		if c == q {
			off++
			break
		}
		if c == '\\' && off+1 < len(src) {
			off++
			switch e := src[off]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				// Unknown escapes keep their backslash, as regex
				// patterns written in strings need (\d, \.).
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			off++
			continue
		}
		b.WriteByte(c)
		off++
	}
	t := token{kind: tString, pos: Pos(start), end: Pos(off), text: b.String()}
	p.checkText(t, t.text)
	return t
}

// lexRegex reads /pattern/; \/ stands for a slash.
func (p *parser) lexRegex(off int) token {
	src := p.src
	start := off
	off++
	var b strings.Builder
	for {
		if off >= len(src) {
			p.failAt(Span{Pos(start), Pos(len(src))}, "unterminated regular expression: a closing / is missing")
		}
		c := src[off]
		if c == '/' {
			off++
			break
		}
		if c == '\\' && off+1 < len(src) && src[off+1] == '/' {
			b.WriteByte('/')
			off += 2
			continue
		}
		b.WriteByte(c)
		off++
	}
	t := token{kind: tRegex, pos: Pos(start), end: Pos(off), text: b.String()}
	p.checkText(t, t.text)
	return t
}

// checkText rejects text that no back end can hold: invalid UTF-8 and NUL.
func (p *parser) checkText(t token, s string) {
	if !utf8.ValidString(s) {
		p.failAt(Span{t.pos, t.end}, "invalid UTF-8 in %s", t.kind)
	}
	if strings.IndexByte(s, 0) >= 0 {
		p.failAt(Span{t.pos, t.end}, "a NUL character is not allowed in %s", t.kind)
	}
}
