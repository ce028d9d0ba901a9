// Package filterpattern is the CloudWatch Logs filter pattern language of
// metric filters, subscription filters, FilterLogEvents and
// TestMetricFilter: term patterns (ERROR, "a phrase", -exclusion, ?or),
// standalone regex patterns (%…%), space-delimited patterns
// ([version, account, …, dstport=22, …]) and JSON patterns ({ $.x = 1 }),
// as specified in the project's spec/metric-filters.md.
//
// Parse checks a pattern once and reports a problem with its position
// (*Error, matched by errors.Is(err, ErrInvalid)). The parsed *Pattern is
// immutable and safe for concurrent use. It matches in two ways:
//
//   - over raw event messages (Pattern.Match, Pattern.Extract): what
//     FilterLogEvents and TestMetricFilter do; Extract returns AWS's
//     extractedValues ($name and $N keys, string values);
//   - over decoded flow log batches (Pattern.Compile gives a *BatchMatcher
//     bound to one flowlog.Format): each batch column is one space-delimited
//     field, so no record is turned back into text and split again (term and
//     regex patterns, which search the whole message, render each record once
//     into a reused buffer).
//
// flowlens extension: a space-delimited pattern whose items are written
// $name (e.g. [$dstport = 22, $action = REJECT]) names fields of the
// dataset's format instead of listing every position; the items may come in
// any order and fields that are not named are not constrained. AWS rejects
// such patterns; they are marked as an extension wherever they are
// documented.
package filterpattern

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MaxLen is the longest pattern accepted (the CloudWatch Logs API limit).
const MaxLen = 1024

// ErrInvalid is matched (errors.Is) by every error Parse returns.
var ErrInvalid = errors.New("invalid filter pattern")

// Error is a problem in a pattern at a byte offset.
type Error struct {
	Pattern string
	// Offset is the 0-based byte offset of the problem in Pattern.
	Offset int
	Msg    string
}

// Error returns "position N: msg" with a 1-based character position.
func (e *Error) Error() string {
	return fmt.Sprintf("position %d: %s", e.Column(), e.Msg)
}

// Column is the 1-based position (in characters) of the problem.
func (e *Error) Column() int {
	off := min(max(e.Offset, 0), len(e.Pattern))
	return len([]rune(e.Pattern[:off])) + 1
}

// Caret returns the pattern and, on a second line, a caret under the
// position of the problem.
func (e *Error) Caret() string {
	return e.Pattern + "\n" + strings.Repeat(" ", e.Column()-1) + "^"
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Kind is the kind of a pattern, decided by its first non-blank character.
type Kind int

const (
	// KindAll matches every event (the empty pattern, "" or " ").
	KindAll Kind = iota
	// KindTerms is a term pattern: words and quoted phrases.
	KindTerms
	// KindRegex is a standalone %regex% pattern.
	KindRegex
	// KindSpace is a space-delimited [ … ] pattern.
	KindSpace
	// KindJSON is a JSON { … } pattern.
	KindJSON
)

func (k Kind) String() string {
	switch k {
	case KindAll:
		return "all"
	case KindTerms:
		return "terms"
	case KindRegex:
		return "regex"
	case KindSpace:
		return "space-delimited"
	case KindJSON:
		return "json"
	}
	return "invalid"
}

// Pattern is a parsed filter pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	text     string
	kind     Kind
	warnings []string

	terms *termPattern
	re    *regexp.Regexp
	space *spacePattern
	json  *jsonExpr
}

// Text returns the pattern as written.
func (p *Pattern) Text() string { return p.text }

// Kind returns the kind of the pattern.
func (p *Pattern) Kind() Kind { return p.kind }

// Warnings lists legal constructs that most likely do not do what the
// writer meant (?-terms ignored beside plain terms, as AWS ignores them).
func (p *Pattern) Warnings() []string { return p.warnings }

// ByName reports whether the pattern uses the flowlens extension of naming
// format fields ($name items) instead of positions.
func (p *Pattern) ByName() bool { return p.space != nil && p.space.byName }

// Names returns the keys a match extracts by name ("$dstport", …), in
// pattern order; positional keys ($N) depend on the event and are not
// listed. Term, regex and JSON patterns extract nothing.
func (p *Pattern) Names() []string {
	if p.space == nil {
		return nil
	}
	var out []string
	for _, it := range p.space.items {
		if it.name != "" {
			out = append(out, "$"+it.name)
		}
	}
	return out
}

// HasKey reports whether key ("$name", "$3") can be extracted by a match of
// p on some event: a named item, or a position for a positional pattern.
// Metric filters use it to check metricValue and dimensions.
func (p *Pattern) HasKey(key string) bool {
	if p.space == nil || !strings.HasPrefix(key, "$") {
		return false
	}
	name := key[1:]
	if n, ok := positionKey(name); ok {
		return !p.space.byName && n >= 1
	}
	for _, it := range p.space.items {
		if it.name == name {
			return true
		}
	}
	return false
}

// positionKey parses the N of a $N key.
func positionKey(s string) (int, bool) {
	if s == "" || len(s) > 6 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// Parse parses a filter pattern.
func Parse(text string) (*Pattern, error) {
	p := &Pattern{text: text}
	if len(text) > MaxLen {
		return nil, &Error{Pattern: text, Offset: MaxLen, Msg: fmt.Sprintf("a filter pattern has at most %d characters (this one has %d)", MaxLen, len(text))}
	}
	start := 0
	for start < len(text) && isBlank(text[start]) {
		start++
	}
	end := len(text)
	for end > start && isBlank(text[end-1]) {
		end--
	}
	body := text[start:end]
	var err error
	switch {
	case body == "" || isBlankQuoted(body):
		p.kind = KindAll
	case body[0] == '{':
		p.kind = KindJSON
		p.json, err = parseJSON(text, start, end)
	case body[0] == '[':
		p.kind = KindSpace
		p.space, err = parseSpace(text, start, end)
	case body[0] == '%' && len(body) >= 2 && body[len(body)-1] == '%':
		p.kind = KindRegex
		p.re, err = compileRegex(text, start+1, end-1)
	default:
		p.kind = KindTerms
		p.terms, p.warnings, err = parseTerms(text, start, end)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// MustParse is Parse for constant patterns; it panics on error.
func MustParse(text string) *Pattern {
	p, err := Parse(text)
	if err != nil {
		panic("BUG: filter pattern " + text + ": " + err.Error())
	}
	return p
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isBlankQuoted reports whether s is "" or a quoted run of blanks.
func isBlankQuoted(s string) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	return strings.Trim(s[1:len(s)-1], " \t") == ""
}

func errAt(text string, off int, format string, args ...any) *Error {
	return &Error{Pattern: text, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// readQuoted reads a double-quoted string starting at text[i] == '"' and
// returns its content (\" and \\ unescaped) and the offset after the
// closing quote.
func readQuoted(text string, i, end int) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for j < end {
		c := text[j]
		switch {
		case c == '\\' && j+1 < end && (text[j+1] == '"' || text[j+1] == '\\'):
			b.WriteByte(text[j+1])
			j += 2
		case c == '"':
			return b.String(), j + 1, nil
		default:
			b.WriteByte(c)
			j++
		}
	}
	return "", 0, errAt(text, i, "unterminated quoted string (a \" opened here is never closed)")
}
