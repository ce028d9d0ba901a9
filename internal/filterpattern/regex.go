package filterpattern

import (
	"regexp"
)

// maxRegexPieces is how many %regex% values one space-delimited or JSON
// pattern may hold (AWS's quota).
const maxRegexPieces = 2

// compileRegex checks the regex text[start:end] (between the % signs)
// against AWS's restricted alphabet and compiles it for an unanchored
// search:
//
//	letters, digits, _ # = @ / ; , - : and space
//	operators ^ $ ? [ ] { } | \ * + .
//	escapes \d \D \s \S \w \W \xhh and \ before an operator or symbol
//
// No parentheses (groups) and no characters beyond ASCII.
func compileRegex(text string, start, end int) (*regexp.Regexp, error) {
	if start >= end {
		return nil, errAt(text, start, "empty regular expression between %% signs")
	}
	for i := start; i < end; i++ {
		c := text[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '\\':
			if i+1 >= end {
				return nil, errAt(text, i, "a \\ at the end of a regular expression escapes nothing")
			}
			n := text[i+1]
			switch {
			case n == 'd' || n == 'D' || n == 's' || n == 'S' || n == 'w' || n == 'W':
				i++
			case n == 'x':
				if i+3 >= end || !isHex(text, i+2) || !isHex(text, i+3) {
					return nil, errAt(text, i, "\\x must be followed by two hexadecimal digits")
				}
				i += 3
			case isRegexSymbol(n) || isRegexOperator(n) || n == '%' || n == '\\' || n == ' ':
				i++
			default:
				return nil, errAt(text, i, "unsupported escape \\%c in a filter regex (allowed: \\d \\D \\s \\S \\w \\W \\xhh and \\ before a symbol)", n)
			}
		case isRegexSymbol(c), isRegexOperator(c):
		case c == '(' || c == ')':
			return nil, errAt(text, i, "filter regexes have no parentheses (groups); use [...] or | instead")
		default:
			return nil, errAt(text, i, "%q is not allowed in a filter regex (allowed: letters, digits, _ # = @ / ; , - : space and the operators ^ $ ? [ ] { } | \\ * + .)", rune(c))
		}
	}
	re, err := regexp.Compile(text[start:end])
	if err != nil {
		return nil, errAt(text, start, "invalid regular expression: %v", err)
	}
	return re, nil
}

func isHex(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	c := text[i]
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isRegexSymbol(c byte) bool {
	switch c {
	case '_', '#', '=', '@', '/', ';', ',', '-', ':', ' ':
		return true
	}
	return false
}

func isRegexOperator(c byte) bool {
	switch c {
	case '^', '$', '?', '[', ']', '{', '}', '|', '*', '+', '.':
		return true
	}
	return false
}
