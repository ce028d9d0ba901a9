package filterpattern

import (
	"bytes"
	"regexp"
	"strconv"
)

// op is a comparison operator.
type op uint8

const (
	opEq op = iota + 1
	opNe
	opLt
	opGt
	opLe
	opGe
)

var opText = [...]string{opEq: "=", opNe: "!=", opLt: "<", opGt: ">", opLe: "<=", opGe: ">="}

// readOp reads a comparison operator at text[i]; n is its length, 0 when
// there is none.
func readOp(text string, i, end int) (op, int) {
	if i >= end {
		return 0, 0
	}
	two := i+1 < end
	switch text[i] {
	case '=':
		return opEq, 1
	case '!':
		if two && text[i+1] == '=' {
			return opNe, 2
		}
	case '<':
		if two && text[i+1] == '=' {
			return opLe, 2
		}
		return opLt, 1
	case '>':
		if two && text[i+1] == '=' {
			return opGe, 2
		}
		return opGt, 1
	}
	return 0, 0
}

// value is the right-hand side of a comparison.
type value struct {
	text  string // as written (quotes removed)
	isNum bool   // a bare numeric literal: compare numerically
	num   float64
	glob  glob
	re    *regexp.Regexp
	any   bool // JSON "= *": any scalar
}

// compare applies o between a field and v. text and num are the field's
// text and number (hasNum false when it is not a number).
func (v *value) compareNumber(o op, x float64) bool {
	switch o {
	case opEq:
		return x == v.num
	case opNe:
		return x != v.num
	case opLt:
		return x < v.num
	case opGt:
		return x > v.num
	case opLe:
		return x <= v.num
	case opGe:
		return x >= v.num
	}
	return false
}

func (v *value) compareText(o op, s []byte) bool {
	var eq bool
	if v.re != nil {
		eq = v.re.Match(s)
	} else {
		eq = v.glob.match(s)
	}
	if o == opNe {
		return !eq
	}
	return eq
}

// glob is a string with * wildcards: parts[0] * parts[1] * … .
type glob struct {
	parts [][]byte
}

// newGlob splits s on '*'; with edgesOnly, only a leading or trailing '*' is
// a wildcard (JSON patterns) and inner ones are literal.
func newGlob(s string, edgesOnly bool) glob {
	if !edgesOnly {
		var g glob
		for _, p := range bytes.Split([]byte(s), []byte("*")) {
			g.parts = append(g.parts, p)
		}
		return g
	}
	b := []byte(s)
	lead := len(b) > 0 && b[0] == '*'
	if lead {
		b = b[1:]
	}
	trail := len(b) > 0 && b[len(b)-1] == '*'
	if trail {
		b = b[:len(b)-1]
	}
	g := glob{parts: [][]byte{b}}
	if lead {
		g.parts = append([][]byte{nil}, g.parts...)
	}
	if trail {
		g.parts = append(g.parts, nil)
	}
	return g
}

func (g *glob) match(s []byte) bool {
	p := g.parts
	if len(p) == 1 {
		return bytes.Equal(s, p[0])
	}
	first, last := p[0], p[len(p)-1]
	if len(s) < len(first)+len(last) || !bytes.HasPrefix(s, first) || !bytes.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, mid := range p[1 : len(p)-1] {
		k := bytes.Index(s, mid)
		if k < 0 {
			return false
		}
		s = s[k+len(mid):]
	}
	return true
}

// isNumber reports whether s is a numeric literal: an optional sign,
// digits with an optional fraction (or a fraction alone), an optional
// exponent.
func isNumber(s []byte) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseNumber reads s as a number in the sense of isNumber.
func parseNumber(s []byte) (float64, bool) {
	if len(s) == 0 || len(s) > 64 {
		return 0, false
	}
	// Fast path: a plain non-negative integer that fits.
	if len(s) <= 15 {
		n := int64(0)
		plain := true
		for _, c := range s {
			if c < '0' || c > '9' {
				plain = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if plain {
			return float64(n), true
		}
	}
	if !isNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}
