package athena

import (
	"strings"
)

// TokenKind is the class of a lexical token.
type TokenKind uint8

// Token kinds. Concatenating the Text of every token of Tokenize gives back
// the input, so a rewrite that replaces some tokens leaves everything else
// byte for byte as written.
const (
	TokSpace   TokenKind = iota // spaces, tabs, newlines
	TokComment                  // -- to end of line, or /* … */ (nested, as DuckDB reads them)
	TokIdent                    // unquoted identifier or keyword
	TokQIdent                   // "double-quoted" identifier, "" escapes a quote
	TokBIdent                   // `backticked` identifier (Athena DDL), `` escapes a backtick
	TokString                   // 'string' ('' escapes a quote), E'…', X'…', $$…$$, $tag$…$tag$
	TokNumber                   // 42, 3.5, .5, 1e6, 1_000
	TokParam                    // $1, $name, ?
	TokOp                       // punctuation and operators: ( ) , ; . = <> != <= >= || :: …
)

func (k TokenKind) String() string {
	switch k {
	case TokSpace:
		return "space"
	case TokComment:
		return "comment"
	case TokIdent:
		return "identifier"
	case TokQIdent:
		return "quoted identifier"
	case TokBIdent:
		return "backticked identifier"
	case TokString:
		return "string"
	case TokNumber:
		return "number"
	case TokParam:
		return "parameter"
	case TokOp:
		return "operator"
	}
	return "token"
}

// Token is one lexical token of an SQL text.
type Token struct {
	Kind TokenKind
	// Text is the token as written.
	Text string
	// Pos is the byte offset of the token in the text.
	Pos int
}

// Significant reports whether the token is neither space nor comment.
func (t Token) Significant() bool { return t.Kind != TokSpace && t.Kind != TokComment }

// Name returns the identifier a token names: an unquoted identifier
// lower-cased (Athena and DuckDB ignore its case), a quoted or backticked
// one unescaped. Other tokens have no name.
func (t Token) Name() (string, bool) {
	switch t.Kind {
	case TokIdent:
		return strings.ToLower(t.Text), true
	case TokQIdent:
		return strings.ReplaceAll(t.Text[1:len(t.Text)-1], `""`, `"`), true
	case TokBIdent:
		return strings.ReplaceAll(t.Text[1:len(t.Text)-1], "``", "`"), true
	}
	return "", false
}

// StringValue returns the value of a plain '…' string literal.
func (t Token) StringValue() (string, bool) {
	if t.Kind != TokString || len(t.Text) < 2 || t.Text[0] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(t.Text[1:len(t.Text)-1], "''", "'"), true
}

// operators are the multi-byte operators, longest first.
var operators = []string{
	"!~~*", "->>", "!~~", "!~*", "~~*", "<=>", "**", "//", "<>", "!=", "<=", ">=", "||", "::", "->", "=>", "==",
	"<<", ">>", "~~", "!~", "~*", "@>", "<@", ":=", "^@", "&&",
}

// Tokenize splits an SQL text into tokens. It fails only on an unterminated
// string, quoted identifier or block comment, with the position where it
// starts.
func Tokenize(sql string) ([]Token, error) {
	var toks []Token
	for i := 0; i < len(sql); {
		kind, end, err := scan(sql, i)
		if err != nil {
			return nil, err
		}
		toks = append(toks, Token{Kind: kind, Text: sql[i:end], Pos: i})
		i = end
	}
	return toks, nil
}

// scan reads the token starting at i and returns its kind and end.
func scan(s string, i int) (TokenKind, int, error) {
	c := s[i]
	switch {
	case isSpace(c):
		j := i + 1
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		return TokSpace, j, nil
	case c == '-' && i+1 < len(s) && s[i+1] == '-':
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return TokComment, len(s), nil
		}
		return TokComment, i + j, nil
	case c == '/' && i+1 < len(s) && s[i+1] == '*':
		depth := 0
		for j := i; j+1 < len(s); j++ {
			switch {
			case s[j] == '/' && s[j+1] == '*':
				depth++
				j++
			case s[j] == '*' && s[j+1] == '/':
				depth--
				j++
				if depth == 0 {
					return TokComment, j + 1, nil
				}
			}
		}
		return 0, 0, errorAt(s, i, ErrSyntax, "unterminated comment: /* has no closing */")
	case c == '\'':
		return scanQuoted(s, i, '\'', TokString, "string: ' has no closing '")
	case c == '"':
		return scanQuoted(s, i, '"', TokQIdent, `quoted identifier: " has no closing "`)
	case c == '`':
		return scanQuoted(s, i, '`', TokBIdent, "backticked identifier: ` has no closing `")
	case c == '$':
		return scanDollar(s, i)
	case c == '?':
		return TokParam, i + 1, nil
	case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
		return TokNumber, scanNumber(s, i), nil
	case isIdentStart(c):
		j := i + 1
		for j < len(s) && isIdentPart(s[j]) {
			j++
		}
		// E'…' (backslash escapes), X'…', B'…', N'…' are strings.
		if j == i+1 && j < len(s) && s[j] == '\'' {
			switch c | 0x20 {
			case 'e':
				return scanEscaped(s, i)
			case 'x', 'b', 'n':
				_, end, err := scanQuoted(s, j, '\'', TokString, "string: ' has no closing '")
				return TokString, end, err
			}
		}
		return TokIdent, j, nil
	}
	for _, op := range operators {
		if strings.HasPrefix(s[i:], op) {
			return TokOp, i + len(op), nil
		}
	}
	return TokOp, i + 1, nil
}

// scanQuoted reads a token delimited by q in which qq stands for q.
func scanQuoted(s string, i int, q byte, kind TokenKind, what string) (TokenKind, int, error) {
	for j := i + 1; j < len(s); j++ {
		if s[j] != q {
			continue
		}
		if j+1 < len(s) && s[j+1] == q {
			j++
			continue
		}
		return kind, j + 1, nil
	}
	return 0, 0, errorAt(s, i, ErrSyntax, "unterminated "+what)
}

// scanEscaped reads E'…' in which a backslash escapes the next byte.
func scanEscaped(s string, i int) (TokenKind, int, error) {
	for j := i + 2; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '\'':
			if j+1 < len(s) && s[j+1] == '\'' {
				j++
				continue
			}
			return TokString, j + 1, nil
		}
	}
	return 0, 0, errorAt(s, i, ErrSyntax, "unterminated string: E' has no closing '")
}

// scanDollar reads $$…$$ or $tag$…$tag$ (a string), or a parameter $1 / $name.
func scanDollar(s string, i int) (TokenKind, int, error) {
	j := i + 1
	if j < len(s) && isDigit(s[j]) {
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		return TokParam, j, nil
	}
	for j < len(s) && isIdentPart(s[j]) && s[j] != '$' {
		j++
	}
	if j < len(s) && s[j] == '$' {
		tag := s[i : j+1]
		k := strings.Index(s[j+1:], tag)
		if k < 0 {
			return 0, 0, errorAt(s, i, ErrSyntax, "unterminated string: "+tag+" has no closing "+tag)
		}
		return TokString, j + 1 + k + len(tag), nil
	}
	if j == i+1 {
		return TokOp, j, nil
	}
	return TokParam, j, nil
}

func scanNumber(s string, i int) int {
	j := i
	for j < len(s) && (isDigit(s[j]) || s[j] == '_') {
		j++
	}
	if j < len(s) && s[j] == '.' && !(j+1 < len(s) && s[j+1] == '.') {
		j++
		for j < len(s) && (isDigit(s[j]) || s[j] == '_') {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			j = k
			for j < len(s) && isDigit(s[j]) {
				j++
			}
		}
	}
	return j
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c|0x20 >= 'a' && c|0x20 <= 'z' || c >= 0x80 }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '$' }
