package athena

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error classes; an *Error answers errors.Is with one of them.
var (
	// ErrSyntax: the text cannot be split into tokens (an unterminated
	// string, quoted identifier or comment).
	ErrSyntax = errors.New("SQL syntax error")
	// ErrUnsupported: an Athena construct flowlens cannot provide.
	ErrUnsupported = errors.New("not supported by flowlens")
)

// Position is a place in an SQL text: byte offset, 1-based line and
// 1-based column (in characters).
type Position struct {
	Offset, Line, Col int
}

func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// PositionOf returns the position of byte offset off in sql.
func PositionOf(sql string, off int) Position {
	if off > len(sql) {
		off = len(sql)
	}
	p := Position{Offset: off, Line: 1, Col: 1}
	lineStart := 0
	for i := 0; i < off; i++ {
		if sql[i] == '\n' {
			p.Line++
			lineStart = i + 1
		}
	}
	p.Col = utf8.RuneCountInString(sql[lineStart:off]) + 1
	return p
}

// Error is a user mistake or an unsupported construct at a position of the
// SQL text: "line:col: message".
type Error struct {
	Pos Position
	Msg string
	// Class is ErrSyntax or ErrUnsupported.
	Class error
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unwrap returns the error's class.
func (e *Error) Unwrap() error { return e.Class }

func errorAt(sql string, off int, class error, msg string) *Error {
	return &Error{Pos: PositionOf(sql, off), Msg: msg, Class: class}
}
