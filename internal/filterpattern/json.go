package filterpattern

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// jsonExpr is a parsed JSON pattern.
type jsonExpr struct {
	root *node
}

// selector is a path into a JSON document: keys, indexes and wildcards.
type selector struct {
	text  string
	steps []step
}

type step struct {
	key   string
	index int  // >= 0 for [n]
	wild  bool // .* or [*]
	isKey bool
}

// jsonParser parses text[i:end].
type jsonParser struct {
	text    string
	i, end  int
	regexes int
	wilds   int
}

// parseJSON parses a JSON pattern:
//
//	pattern  = "{" expr "}"
//	expr     = and { "||" and }
//	and      = term { "&&" term }
//	term     = "(" expr ")" | selector op value
//	         | selector "IS" ( "NULL" | "TRUE" | "FALSE" ) | selector "NOT" "EXISTS"
//	selector = "$" { "." key | "[" n "]" | ".*" | "[*]" | "['" key "']" }
func parseJSON(text string, start, end int) (*jsonExpr, error) {
	if text[end-1] != '}' {
		return nil, errAt(text, end-1, "a JSON pattern ends with }; found %q", string(text[end-1]))
	}
	jp := &jsonParser{text: text, i: start + 1, end: end - 1}
	jp.blanks()
	if jp.i >= jp.end {
		return nil, errAt(text, start, "an empty { } pattern: write a condition such as { $.action = \"REJECT\" }")
	}
	n, err := jp.or(0)
	if err != nil {
		return nil, err
	}
	jp.blanks()
	if jp.i < jp.end {
		return nil, errAt(text, jp.i, "expected && or || or }, found %q", jp.rest())
	}
	return &jsonExpr{root: n}, nil
}

func (jp *jsonParser) blanks() {
	for jp.i < jp.end && isBlank(jp.text[jp.i]) {
		jp.i++
	}
}

func (jp *jsonParser) rest() string {
	r := jp.text[jp.i:jp.end]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (jp *jsonParser) at(s string) bool { return strings.HasPrefix(jp.text[jp.i:jp.end], s) }

func (jp *jsonParser) or(depth int) (*node, error) {
	n, err := jp.and(depth)
	if err != nil {
		return nil, err
	}
	for {
		jp.blanks()
		if !jp.at("||") {
			return n, nil
		}
		jp.i += 2
		m, err := jp.and(depth)
		if err != nil {
			return nil, err
		}
		if n.or {
			n.kids = append(n.kids, m)
		} else {
			n = &node{or: true, kids: []*node{n, m}}
		}
	}
}

func (jp *jsonParser) and(depth int) (*node, error) {
	n, err := jp.term(depth)
	if err != nil {
		return nil, err
	}
	for {
		jp.blanks()
		if !jp.at("&&") {
			return n, nil
		}
		jp.i += 2
		m, err := jp.term(depth)
		if err != nil {
			return nil, err
		}
		if n.and {
			n.kids = append(n.kids, m)
		} else {
			n = &node{and: true, kids: []*node{n, m}}
		}
	}
}

func (jp *jsonParser) term(depth int) (*node, error) {
	jp.blanks()
	if jp.i >= jp.end {
		return nil, errAt(jp.text, jp.i, "expected a condition ($.field = value), found the end of the pattern")
	}
	if jp.text[jp.i] == '(' {
		if depth >= maxDepth {
			return nil, errAt(jp.text, jp.i, "conditions nest more than %d parentheses deep", maxDepth)
		}
		open := jp.i
		jp.i++
		n, err := jp.or(depth + 1)
		if err != nil {
			return nil, err
		}
		jp.blanks()
		if jp.i >= jp.end || jp.text[jp.i] != ')' {
			return nil, errAt(jp.text, open, "this ( is never closed")
		}
		jp.i++
		return n, nil
	}
	n := &node{pos: jp.i}
	sel, err := jp.selector()
	if err != nil {
		return nil, err
	}
	n.sel = sel
	jp.blanks()
	switch {
	case jp.atWord("IS"):
		jp.i += 2
		jp.blanks()
		for _, w := range []string{"NULL", "TRUE", "FALSE"} {
			if jp.atWord(w) {
				jp.i += len(w)
				n.is = w
				return n, nil
			}
		}
		if jp.atWord("NOT") {
			return nil, errAt(jp.text, jp.i, "IS NOT is not supported: use != or NOT EXISTS")
		}
		return nil, errAt(jp.text, jp.i, "expected NULL, TRUE or FALSE after IS, found %q", jp.rest())
	case jp.atWord("NOT"):
		jp.i += 3
		jp.blanks()
		if !jp.atWord("EXISTS") {
			return nil, errAt(jp.text, jp.i, "expected EXISTS after NOT, found %q", jp.rest())
		}
		jp.i += 6
		n.is = "NOTEXISTS"
		return n, nil
	case jp.atWord("EXISTS"):
		return nil, errAt(jp.text, jp.i, "EXISTS alone is not supported: use %s = * (any value) or NOT EXISTS", sel.text)
	}
	o, w := readOp(jp.text, jp.i, jp.end)
	if o == 0 {
		return nil, errAt(jp.text, jp.i, "expected an operator (= != < > <= >=), IS or NOT EXISTS after %s, found %q", sel.text, jp.rest())
	}
	opPos := jp.i
	jp.i += w
	if jp.i < jp.end && jp.text[jp.i] == '=' {
		return nil, errAt(jp.text, opPos, "unknown operator %q (use = for equality)", jp.text[opPos:jp.i+1])
	}
	n.op = o
	jp.blanks()
	v, err := jp.value(o)
	if err != nil {
		return nil, err
	}
	n.val = v
	return n, nil
}

func (jp *jsonParser) atWord(w string) bool {
	if !jp.at(w) {
		return false
	}
	j := jp.i + len(w)
	return j >= jp.end || !isWordByte(jp.text[j])
}

func isKeyByte(c byte) bool { return isWordByte(c) && c < 0x80 || c == '-' || c == '@' }

func (jp *jsonParser) selector() (*selector, error) {
	start := jp.i
	if jp.text[jp.i] != '$' {
		return nil, errAt(jp.text, jp.i, "expected a selector starting with $ (such as $.action), found %q", jp.rest())
	}
	jp.i++
	sel := &selector{}
	wilds := 0
	for jp.i < jp.end {
		c := jp.text[jp.i]
		switch {
		case c == '.' && jp.i+1 < jp.end && jp.text[jp.i+1] == '*':
			sel.steps = append(sel.steps, step{wild: true, index: -1})
			jp.i += 2
			wilds++
		case c == '.' && jp.i+1 < jp.end && jp.text[jp.i+1] == '[':
			jp.i++
			continue
		case c == '.':
			j := jp.i + 1
			for j < jp.end && isKeyByte(jp.text[j]) {
				j++
			}
			if j == jp.i+1 {
				return nil, errAt(jp.text, jp.i, "expected a key after . in the selector")
			}
			sel.steps = append(sel.steps, step{key: jp.text[jp.i+1 : j], isKey: true, index: -1})
			jp.i = j
		case c == '[':
			j := jp.i + 1
			switch {
			case j < jp.end && jp.text[j] == '*':
				if j+1 >= jp.end || jp.text[j+1] != ']' {
					return nil, errAt(jp.text, jp.i, "expected [*]")
				}
				sel.steps = append(sel.steps, step{wild: true, index: -1})
				jp.i = j + 2
				wilds++
			case j < jp.end && jp.text[j] == '\'':
				k := strings.Index(jp.text[j+1:jp.end], "']")
				if k < 0 {
					return nil, errAt(jp.text, jp.i, "expected the quoted key to end with ']")
				}
				sel.steps = append(sel.steps, step{key: jp.text[j+1 : j+1+k], isKey: true, index: -1})
				jp.i = j + 1 + k + 2
			default:
				k := j
				for k < jp.end && jp.text[k] >= '0' && jp.text[k] <= '9' {
					k++
				}
				if k == j || k >= jp.end || jp.text[k] != ']' || k-j > 9 {
					return nil, errAt(jp.text, jp.i, "expected an array index [n], [*] or ['key']")
				}
				n, _ := strconv.Atoi(jp.text[j:k])
				sel.steps = append(sel.steps, step{index: n})
				jp.i = k + 1
			}
		default:
			goto done
		}
	}
done:
	sel.text = jp.text[start:jp.i]
	if len(sel.steps) == 0 {
		return nil, errAt(jp.text, start, "a selector names a field: $.name")
	}
	if wilds > 1 {
		return nil, errAt(jp.text, start, "a selector has at most one wildcard")
	}
	jp.wilds += wilds
	if jp.wilds > 3 {
		return nil, errAt(jp.text, start, "a JSON pattern has at most three wildcards")
	}
	return sel, nil
}

func (jp *jsonParser) value(o op) (value, error) {
	var v value
	start := jp.i
	if jp.i >= jp.end {
		return v, errAt(jp.text, jp.i, "expected a value after %s", opText[o])
	}
	switch c := jp.text[jp.i]; c {
	case '"':
		s, next, err := readQuoted(jp.text, jp.i, jp.end)
		if err != nil {
			return v, err
		}
		jp.i = next
		v.text = s
		v.glob = newGlob(s, true)
	case '%':
		j := jp.i + 1
		for j < jp.end && jp.text[j] != '%' {
			if jp.text[j] == '\\' {
				j++
			}
			j++
		}
		if j >= jp.end {
			return v, errAt(jp.text, jp.i, "unterminated regular expression (a %% opened here is never closed)")
		}
		jp.regexes++
		if jp.regexes > maxRegexPieces {
			return v, errAt(jp.text, jp.i, "a pattern holds at most %d regular expressions", maxRegexPieces)
		}
		re, err := compileRegex(jp.text, jp.i+1, j)
		if err != nil {
			return v, err
		}
		v.text, v.re = jp.text[jp.i:j+1], re
		jp.i = j + 1
	default:
		j := jp.i
		for j < jp.end {
			c := jp.text[j]
			if isBlank(c) || c == ')' || c == '(' || (c == '&' || c == '|') && j+1 < jp.end && jp.text[j+1] == c {
				break
			}
			if !(isWordByte(c) && c < 0x80 || c == '*' || c == '.' || c == '-' || c == '+') {
				return v, errAt(jp.text, j, "%q cannot appear in an unquoted value: quote the value", string(c))
			}
			j++
		}
		s := jp.text[jp.i:j]
		if s == "" {
			return v, errAt(jp.text, jp.i, "expected a value after %s, found %q", opText[o], jp.rest())
		}
		jp.i = j
		v.text = s
		switch {
		case s == "*":
			v.any = true
		case isNumber([]byte(s)):
			v.isNum = true
			v.num, _ = parseNumber([]byte(s))
		default:
			v.glob = newGlob(s, true)
		}
	}
	if o != opEq && o != opNe && !v.isNum {
		return v, errAt(jp.text, start, "%s compares numbers: %q is not a number (strings and regexes take = or !=)", opText[o], v.text)
	}
	if v.any && o != opEq {
		return v, errAt(jp.text, start, "* (any value) takes =")
	}
	return v, nil
}

// match reports whether msg, a JSON object, satisfies the pattern.
func (e *jsonExpr) match(msg []byte) bool {
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 || msg[0] != '{' {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return false
	}
	return e.root.evalJSON(doc)
}

func (n *node) evalJSON(doc any) bool {
	switch {
	case n.and:
		for _, k := range n.kids {
			if !k.evalJSON(doc) {
				return false
			}
		}
		return true
	case n.or:
		for _, k := range n.kids {
			if k.evalJSON(doc) {
				return true
			}
		}
		return false
	}
	found := false
	hit := false
	n.sel.each(doc, 0, func(v any) bool {
		found = true
		if n.is == "" && n.testJSON(v) || n.is != "" && n.isJSON(v) {
			hit = true
			return false
		}
		return true
	})
	if n.is == "NOTEXISTS" {
		return !found
	}
	return hit
}

func (n *node) isJSON(v any) bool {
	switch n.is {
	case "NULL":
		return v == nil
	case "TRUE":
		b, ok := v.(bool)
		return ok && b
	case "FALSE":
		b, ok := v.(bool)
		return ok && !b
	}
	return false
}

// testJSON compares one selected value; objects and arrays never match.
func (n *node) testJSON(v any) bool {
	var text string
	switch x := v.(type) {
	case map[string]any, []any:
		return false
	case json.Number:
		if n.val.isNum {
			f, err := x.Float64()
			return err == nil && n.val.compareNumber(n.op, f)
		}
		text = x.String()
	case string:
		if n.val.isNum {
			// A numeric literal against a string compares the text.
			eq := x == n.val.text
			if n.op == opEq {
				return eq
			}
			return n.op == opNe && !eq
		}
		text = x
	case bool:
		text = strconv.FormatBool(x)
	case nil:
		text = "null"
	}
	if n.val.any {
		return true
	}
	if n.val.isNum {
		return false
	}
	return n.val.compareText(n.op, []byte(text))
}

// each calls f for every value the selector reaches from v (f returns false
// to stop).
func (s *selector) each(v any, k int, f func(any) bool) bool {
	if k == len(s.steps) {
		return f(v)
	}
	st := s.steps[k]
	switch {
	case st.wild:
		switch x := v.(type) {
		case map[string]any:
			for _, m := range x {
				if !s.each(m, k+1, f) {
					return false
				}
			}
		case []any:
			for _, m := range x {
				if !s.each(m, k+1, f) {
					return false
				}
			}
		}
		return true
	case st.isKey:
		if m, ok := v.(map[string]any); ok {
			if c, ok := m[st.key]; ok {
				return s.each(c, k+1, f)
			}
		}
		return true
	default:
		if a, ok := v.([]any); ok && st.index < len(a) {
			return s.each(a[st.index], k+1, f)
		}
		return true
	}
}
