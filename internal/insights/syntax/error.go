package syntax

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrQuery is matched (errors.Is) by every error that a query's text causes:
// syntax errors and the checker's errors alike.
var ErrQuery = errors.New("invalid query")

// Pos is a byte offset in the query text.
type Pos int

// Span is the byte range [Start, End) of a node in the query text.
type Span struct{ Start, End Pos }

// Pos returns the start of the span.
func (s Span) Pos() Pos { return s.Start }

// EndPos returns the end of the span.
func (s Span) EndPos() Pos { return s.End }

// Error is a problem at a position of the query text.
type Error struct {
	Span Span
	// Line and Col are 1-based; Col counts runes.
	Line, Col int
	Msg       string
	// Query is the full query text, for the caret display.
	Query string
}

// NewError returns an error at span of query.
func NewError(query string, span Span, format string, args ...any) *Error {
	e := &Error{Span: span, Msg: fmt.Sprintf(format, args...), Query: query}
	e.Line, e.Col = LineCol(query, span.Start)
	return e
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Is makes errors.Is(err, ErrQuery) true.
func (e *Error) Is(target error) bool { return target == ErrQuery }

// Detail returns the message followed by the offending line and a caret
// under the position, the way the CLI prints it.
func (e *Error) Detail() string {
	line := lineText(e.Query, e.Line)
	var b strings.Builder
	b.WriteString(e.Error())
	b.WriteString("\n  ")
	b.WriteString(strings.ReplaceAll(line, "\t", " "))
	b.WriteString("\n  ")
	b.WriteString(strings.Repeat(" ", max(e.Col-1, 0)))
	n := max(min(int(e.Span.End-e.Span.Start), len([]rune(line))-e.Col+1), 1)
	b.WriteString(strings.Repeat("^", n))
	return b.String()
}

// LineCol converts a byte offset into a 1-based line and rune column.
func LineCol(s string, p Pos) (line, col int) {
	if int(p) > len(s) {
		p = Pos(len(s))
	}
	line = 1 + strings.Count(s[:p], "\n")
	start := strings.LastIndexByte(s[:p], '\n') + 1
	return line, 1 + len([]rune(s[start:p]))
}

func lineText(s string, line int) string {
	for i := 1; i < line; i++ {
		j := strings.IndexByte(s, '\n')
		if j < 0 {
			return ""
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, '\n'); j >= 0 {
		s = s[:j]
	}
	return s
}

// ErrorList is a sorted list of errors; it is an error itself.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrQuery) true.
func (l ErrorList) Is(target error) bool { return target == ErrQuery }

// Unwrap returns the errors of the list.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Sort orders the list by position and removes duplicates.
func (l *ErrorList) Sort() {
	s := *l
	sort.SliceStable(s, func(i, j int) bool { return s[i].Span.Start < s[j].Span.Start })
	out := s[:0]
	for i, e := range s {
		if i > 0 && e.Span == s[i-1].Span && e.Msg == s[i-1].Msg {
			continue
		}
		out = append(out, e)
	}
	*l = out
}

// Err returns the list as an error, nil when empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Detail renders every error of err (an *Error or ErrorList) with its caret
// display; other errors print as they are.
func Detail(err error) string {
	var l ErrorList
	if errors.As(err, &l) {
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = e.Detail()
		}
		return strings.Join(parts, "\n")
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Detail()
	}
	return err.Error()
}
