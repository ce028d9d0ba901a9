package syntax

import "strings"

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tBacktick
	tString
	tNumber
	tDuration
	tRegex
	tPipe
	tComma
	tColon
	tLParen
	tRParen
	tLBrack
	tRBrack
	tOp
)

var tokNames = [...]string{
	tEOF: "end of query", tIdent: "name", tBacktick: "quoted name", tString: "string",
	tNumber: "number", tDuration: "time period", tRegex: "regular expression",
	tPipe: `"|"`, tComma: `","`, tColon: `":"`, tLParen: `"("`, tRParen: `")"`,
	tLBrack: `"["`, tRBrack: `"]"`, tOp: "operator",
}

func (k tokKind) String() string { return tokNames[k] }

// token is one lexical item. Text is the decoded value for strings, quoted
// names and regexes, the source text otherwise.
type token struct {
	kind tokKind
	pos  Pos
	end  Pos
	text string
}

// is reports whether the token is the keyword kw (case-insensitive).
func (t token) is(kw string) bool {
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

// isOp reports whether the token is the operator op.
func (t token) isOp(op string) bool { return t.kind == tOp && t.text == op }

// describe renders the token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tIdent, tNumber, tDuration, tOp:
		return quoteClip(t.text)
	case tString:
		return "string " + quoteClip(t.text)
	case tBacktick:
		return "`" + clip(t.text) + "`"
	case tRegex:
		return "regex /" + clip(t.text) + "/"
	}
	return t.kind.String()
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

func quoteClip(s string) string { return `"` + clip(s) + `"` }

// units maps every accepted time unit spelling to its canonical short form.
var units = map[string]string{
	"ms": "ms", "msec": "ms", "millisecond": "ms",
	"s": "s", "sec": "s", "second": "s",
	"m": "m", "min": "m", "minute": "m",
	"h": "h", "hr": "h", "hour": "h",
	"d": "d", "day": "d",
	"w": "w", "week": "w",
	"mo": "mo", "mon": "mo", "month": "mo",
	"q": "q", "qtr": "q", "quarter": "q",
	"y": "y", "yr": "y", "year": "y",
}

// unitOf returns the canonical unit of a spelling ("mins" → "m").
func unitOf(s string) (string, bool) {
	s = strings.ToLower(s)
	if u, ok := units[s]; ok {
		return u, true
	}
	if len(s) > 2 && strings.HasSuffix(s, "s") {
		if u, ok := units[s[:len(s)-1]]; ok {
			return u, true
		}
	}
	return "", false
}
