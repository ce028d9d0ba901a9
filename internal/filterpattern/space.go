package filterpattern

import (
	"fmt"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// spacePattern is a space-delimited pattern: one item per field.
type spacePattern struct {
	items    []item
	byName   bool // flowlens extension: $name items
	ellipses int  // number of ... items (consecutive ones collapsed)
	cross    bool // a condition names another item
	// fixed is the number of non-ellipsis items.
	fixed int
	// after[k] is the number of non-ellipsis items from item k on;
	// ellAfter[k] the number of ellipsis items from item k on.
	after, ellAfter []int
}

// item is one comma-separated element of a space-delimited pattern.
type item struct {
	name     string
	ellipsis bool
	cond     *node
	cross    bool // cond names another item
	pos      int  // offset in the pattern
	field    *flowlog.Field
}

// node is a condition tree: && and || over comparisons.
type node struct {
	and, or bool
	kids    []*node
	// comparison (space-delimited): target item index; (JSON): sel.
	item int
	sel  *selector
	op   op
	val  value
	// JSON tests.
	is        string // "NULL", "TRUE", "FALSE", or "NOTEXISTS"
	pos       int
	crossName string
}

// spaceParser parses text[start:end] ('[' … ']').
type spaceParser struct {
	text    string
	i, end  int
	regexes int
}

// parseSpace parses a space-delimited pattern:
//
//	pattern = "[" [ item { "," item } ] "]"
//	item    = "..." | "…" | [ name | "$" name ] [ cond ]
//	cond    = and { "||" and }
//	and     = prim { "&&" prim }
//	prim    = "(" cond ")" | [ name ] op value
//	value   = number | bare | '"' string '"' | "%" regex "%"
func parseSpace(text string, start, end int) (*spacePattern, error) {
	if text[end-1] != ']' {
		return nil, errAt(text, end-1, "a space-delimited pattern ends with ]; found %q", string(text[end-1]))
	}
	ps := &spaceParser{text: text, i: start + 1, end: end - 1}
	sp := &spacePattern{}
	dollar, plain := false, false
	for {
		it, err := ps.item(len(sp.items))
		if err != nil {
			return nil, err
		}
		if it.ellipsis && len(sp.items) > 0 && sp.items[len(sp.items)-1].ellipsis {
			// ..., ... is one ...
		} else {
			sp.items = append(sp.items, it)
		}
		ps.blanks()
		if ps.i >= ps.end {
			break
		}
		if ps.text[ps.i] != ',' {
			return nil, errAt(text, ps.i, "expected , or ] after the item, found %q", ps.rest())
		}
		ps.i++
	}
	if len(sp.items) == 1 && sp.items[0].name == "" && !sp.items[0].ellipsis && sp.items[0].cond == nil {
		return nil, errAt(text, start, "an empty [ ] pattern matches nothing; use \"\" to match every event")
	}
	// Names: $name items (extension) or plain ones, never both; no repeats.
	names := map[string]int{}
	for k := range sp.items {
		it := &sp.items[k]
		if it.ellipsis {
			sp.ellipses++
			continue
		}
		sp.fixed++
		if it.field != nil {
			dollar = true
		} else if it.name != "" || it.cond != nil {
			plain = true
		}
		if it.name != "" {
			if _, dup := names[it.name]; dup {
				return nil, errAt(text, it.pos, "the field name %q appears twice", it.name)
			}
			names[it.name] = k
		}
	}
	if dollar {
		sp.byName = true
		for _, it := range sp.items {
			if it.ellipsis {
				return nil, errAt(text, it.pos, "... has no place in a pattern of $names (fields named by the format are found wherever they are)")
			}
			if it.field == nil {
				return nil, errAt(text, it.pos, "every item of a pattern of $names names a field with $ (a flowlens extension); this one does not")
			}
		}
	}
	_ = plain
	// Resolve cross-field names.
	for k := range sp.items {
		it := &sp.items[k]
		if it.cond == nil {
			continue
		}
		var err error
		it.cond.walk(func(n *node) {
			if err != nil || n.crossName == "" {
				n.item = k
				return
			}
			t, ok := names[n.crossName]
			if !ok {
				err = errAt(text, n.pos, "%q names no field of this pattern", n.crossName)
				return
			}
			n.item = t
			if t != k {
				it.cross = true
				sp.cross = true
			}
		})
		if err != nil {
			return nil, err
		}
	}
	if sp.cross && sp.ellipses > 1 {
		return nil, errAt(text, start, "a condition on another field needs a fixed layout of fields: use at most one ... in such a pattern")
	}
	sp.after = make([]int, len(sp.items)+1)
	sp.ellAfter = make([]int, len(sp.items)+1)
	for k := len(sp.items) - 1; k >= 0; k-- {
		sp.after[k], sp.ellAfter[k] = sp.after[k+1], sp.ellAfter[k+1]
		if sp.items[k].ellipsis {
			sp.ellAfter[k]++
		} else {
			sp.after[k]++
		}
	}
	return sp, nil
}

func (n *node) walk(f func(*node)) {
	if n.and || n.or {
		for _, k := range n.kids {
			k.walk(f)
		}
		return
	}
	f(n)
}

func (ps *spaceParser) blanks() {
	for ps.i < ps.end && isBlank(ps.text[ps.i]) {
		ps.i++
	}
}

func (ps *spaceParser) rest() string {
	r := ps.text[ps.i:ps.end]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (ps *spaceParser) errorf(off int, format string, args ...any) *Error {
	return errAt(ps.text, off, format, args...)
}

func (ps *spaceParser) item(k int) (item, error) {
	ps.blanks()
	it := item{pos: ps.i}
	t := ps.text[ps.i:ps.end]
	switch {
	case strings.HasPrefix(t, "..."):
		ps.i += 3
		it.ellipsis = true
		return it, nil
	case strings.HasPrefix(t, "…"):
		ps.i += len("…")
		it.ellipsis = true
		return it, nil
	case strings.HasPrefix(t, `"..."`):
		ps.i += 5
		it.ellipsis = true
		return it, nil
	}
	if ps.i < ps.end && ps.text[ps.i] == '$' {
		ps.i++
		name := ps.name(true)
		if name == "" {
			return it, ps.errorf(it.pos, "$ must be followed by the name of a flow log field")
		}
		f, ok := flowlog.LookupFold(name)
		if !ok {
			msg := fmt.Sprintf("$%s is not a flow log field", name)
			if s := flowlog.Suggest(name); s != "" {
				msg += fmt.Sprintf(" (did you mean $%s?)", s)
			}
			return it, ps.errorf(it.pos+1, "%s", msg)
		}
		it.name, it.field = name, f
	} else {
		it.name = ps.name(false)
	}
	ps.blanks()
	if ps.i >= ps.end || ps.text[ps.i] == ',' {
		return it, nil
	}
	if o, _ := readOp(ps.text, ps.i, ps.end); o == 0 && ps.text[ps.i] != '(' {
		if it.name == "" {
			return it, ps.errorf(ps.i, "expected a field name, ... or a condition, found %q", ps.rest())
		}
		return it, ps.errorf(ps.i, "expected , or an operator (= != < > <= >=) after %q, found %q", it.name, ps.rest())
	}
	n, err := ps.or(true, 0)
	if err != nil {
		return it, err
	}
	it.cond = n
	if it.name == "" {
		// (dstport = 22 || dstport = 3389): the item is the field its
		// first comparison names.
		first := n
		for first.and || first.or {
			first = first.kids[0]
		}
		it.name = first.crossName
	}
	return it, nil
}

// name reads a field name (letters, digits, _; also - after $).
func (ps *spaceParser) name(dash bool) string {
	j := ps.i
	for j < ps.end {
		c := ps.text[j]
		if isWordByte(c) && c < 0x80 || dash && c == '-' {
			j++
			continue
		}
		break
	}
	s := ps.text[ps.i:j]
	ps.i = j
	return s
}

func (ps *spaceParser) at(s string) bool {
	return strings.HasPrefix(ps.text[ps.i:ps.end], s)
}

func (ps *spaceParser) or(first bool, depth int) (*node, error) {
	n, err := ps.and(first, depth)
	if err != nil {
		return nil, err
	}
	for {
		ps.blanks()
		if !ps.at("||") {
			return n, nil
		}
		ps.i += 2
		m, err := ps.and(false, depth)
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

func (ps *spaceParser) and(first bool, depth int) (*node, error) {
	n, err := ps.prim(first, depth)
	if err != nil {
		return nil, err
	}
	for {
		ps.blanks()
		if !ps.at("&&") {
			return n, nil
		}
		ps.i += 2
		m, err := ps.prim(false, depth)
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

const maxDepth = 50

func (ps *spaceParser) prim(first bool, depth int) (*node, error) {
	ps.blanks()
	if ps.i >= ps.end {
		return nil, ps.errorf(ps.i, "expected a condition, found the end of the item")
	}
	if ps.text[ps.i] == '(' {
		if depth >= maxDepth {
			return nil, ps.errorf(ps.i, "conditions nest more than %d parentheses deep", maxDepth)
		}
		open := ps.i
		ps.i++
		n, err := ps.or(first, depth+1)
		if err != nil {
			return nil, err
		}
		ps.blanks()
		if ps.i >= ps.end || ps.text[ps.i] != ')' {
			return nil, ps.errorf(open, "this ( is never closed")
		}
		ps.i++
		return n, nil
	}
	n := &node{pos: ps.i}
	if o, _ := readOp(ps.text, ps.i, ps.end); o == 0 {
		if ps.text[ps.i] == '$' {
			ps.i++
			n.crossName = ps.name(true)
		} else {
			n.crossName = ps.name(false)
		}
		if n.crossName == "" {
			return nil, ps.errorf(ps.i, "expected a field name or an operator (= != < > <= >=), found %q", ps.rest())
		}
		ps.blanks()
	}
	o, w := readOp(ps.text, ps.i, ps.end)
	if o == 0 {
		return nil, ps.errorf(ps.i, "expected an operator (= != < > <= >=), found %q", ps.rest())
	}
	opPos := ps.i
	ps.i += w
	if ps.i < ps.end && ps.text[ps.i] == '=' {
		return nil, ps.errorf(opPos, "unknown operator %q (use = for equality)", ps.text[opPos:ps.i+1])
	}
	if ps.i < ps.end && ps.text[ps.i] == '~' {
		return nil, ps.errorf(opPos, "unknown operator %q (a regex is written = %%regex%%)", ps.text[opPos:ps.i+1])
	}
	n.op = o
	ps.blanks()
	v, err := ps.value(o, opPos)
	if err != nil {
		return nil, err
	}
	n.val = v
	return n, nil
}

// value reads the right-hand side of a comparison with operator o.
func (ps *spaceParser) value(o op, opPos int) (value, error) {
	var v value
	start := ps.i
	if ps.i >= ps.end || ps.text[ps.i] == ',' {
		return v, ps.errorf(ps.i, "expected a value after %s", opText[o])
	}
	switch ps.text[ps.i] {
	case '"':
		s, next, err := readQuoted(ps.text, ps.i, ps.end)
		if err != nil {
			return v, err
		}
		ps.i = next
		v.text = s
		v.glob = newGlob(s, false)
	case '%':
		j := ps.i + 1
		for j < ps.end && ps.text[j] != '%' {
			if ps.text[j] == '\\' {
				j++
			}
			j++
		}
		if j >= ps.end {
			return v, ps.errorf(ps.i, "unterminated regular expression (a %% opened here is never closed)")
		}
		ps.regexes++
		if ps.regexes > maxRegexPieces {
			return v, ps.errorf(ps.i, "a pattern holds at most %d regular expressions", maxRegexPieces)
		}
		re, err := compileRegex(ps.text, ps.i+1, j)
		if err != nil {
			return v, err
		}
		v.text, v.re = ps.text[ps.i:j+1], re
		ps.i = j + 1
	default:
		j := ps.i
		for j < ps.end {
			c := ps.text[j]
			if isBlank(c) || c == ',' || c == ')' || c == '(' || c == '"' ||
				(c == '&' || c == '|') && j+1 < ps.end && ps.text[j+1] == c {
				break
			}
			j++
		}
		s := ps.text[ps.i:j]
		if s == "" {
			return v, ps.errorf(ps.i, "expected a value after %s, found %q", opText[o], ps.rest())
		}
		ps.i = j
		v.text = s
		if isNumber([]byte(s)) {
			v.isNum = true
			v.num, _ = parseNumber([]byte(s))
		} else {
			v.glob = newGlob(s, false)
		}
	}
	if o != opEq && o != opNe && !v.isNum {
		return v, ps.errorf(start, "%s compares numbers: %q is not a number (strings and regexes take = or !=)", opText[o], v.text)
	}
	return v, nil
}

// eval evaluates n with field values from f; assign maps items to field
// positions (-1: the field is absent).
func (n *node) eval(f fields, assign []int) bool {
	switch {
	case n.and:
		for _, k := range n.kids {
			if !k.eval(f, assign) {
				return false
			}
		}
		return true
	case n.or:
		for _, k := range n.kids {
			if k.eval(f, assign) {
				return true
			}
		}
		return false
	}
	j := assign[n.item]
	if j < 0 {
		return false
	}
	if n.val.isNum {
		x, ok := f.number(j)
		return ok && n.val.compareNumber(n.op, x)
	}
	return n.val.compareText(n.op, f.text(j))
}

// fields are the fields of one event, by position.
type fields interface {
	count() int
	// text returns field j's text, valid until the next call.
	text(j int) []byte
	// number returns field j as a number, false when it is not one.
	number(j int) (float64, bool)
}

// aligner finds the positions of a space-delimited pattern's items in one
// event: positional with backtracking over the ... items.
type aligner struct {
	sp     *spacePattern
	f      fields
	nf     int
	assign []int
	failed []bool // memo of (item, field) states that cannot complete
}

// align reports whether the event matches, leaving the positions in
// a.assign.
func (a *aligner) align(sp *spacePattern, f fields) bool {
	a.sp, a.f, a.nf = sp, f, f.count()
	if cap(a.assign) < len(sp.items) {
		a.assign = make([]int, len(sp.items))
	}
	a.assign = a.assign[:len(sp.items)]
	if a.nf < sp.fixed || sp.ellipses == 0 && a.nf != sp.fixed {
		return false
	}
	if sp.ellipses > 1 {
		sz := (len(sp.items) + 1) * (a.nf + 1)
		if cap(a.failed) < sz {
			a.failed = make([]bool, sz)
		}
		a.failed = a.failed[:sz]
		clear(a.failed)
	}
	return a.step(0, 0)
}

func (a *aligner) step(k, j int) bool {
	sp := a.sp
	if k == len(sp.items) {
		if j != a.nf {
			return false
		}
		if sp.cross {
			for t := range sp.items {
				it := &sp.items[t]
				if it.cross && !it.cond.eval(a.f, a.assign) {
					return false
				}
			}
		}
		return true
	}
	if a.failed != nil && sp.ellipses > 1 && a.failed[k*(a.nf+1)+j] {
		return false
	}
	ok := a.try(k, j)
	if !ok && a.failed != nil && sp.ellipses > 1 {
		a.failed[k*(a.nf+1)+j] = true
	}
	return ok
}

func (a *aligner) try(k, j int) bool {
	sp := a.sp
	it := &sp.items[k]
	if it.ellipsis {
		a.assign[k] = j
		if sp.ellAfter[k+1] == 0 {
			// The last ...: it takes exactly what the fixed items leave.
			l := a.nf - sp.after[k+1]
			return l >= j && a.step(k+1, l)
		}
		for l := j; l <= a.nf-sp.after[k+1]; l++ {
			if a.step(k+1, l) {
				return true
			}
		}
		return false
	}
	if j >= a.nf {
		return false
	}
	a.assign[k] = j
	if it.cond != nil && !it.cross && !it.cond.eval(a.f, a.assign) {
		return false
	}
	return a.step(k+1, j+1)
}
