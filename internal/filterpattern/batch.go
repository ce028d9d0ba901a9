package filterpattern

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// BatchMatcher is a Pattern bound to one flowlog.Format: it matches the
// records of decoded batches of that format directly on their columns
// (column j is space-delimited field j+1). Build one with Pattern.Compile
// per format; it keeps scratch buffers, so one BatchMatcher serves one
// goroutine at a time.
type BatchMatcher struct {
	p      *Pattern
	format *flowlog.Format
	never  bool
	// fixed: the positions of the items are the same for every record
	// (no more than one ...); assign holds them and conds the items with a
	// condition.
	fixed  bool
	assign []int
	conds  []int
	al     aligner
	bf     batchFields
	line   []byte
}

// Compile binds p to batches of format f.
func (p *Pattern) Compile(f *flowlog.Format) *BatchMatcher {
	m := &BatchMatcher{p: p, format: f}
	sp := p.space
	if sp == nil {
		return m
	}
	nf := f.Len()
	switch {
	case sp.byName:
		m.fixed = true
		m.assign = make([]int, len(sp.items))
		for k, it := range sp.items {
			m.assign[k] = f.Index(it.field.ID)
		}
	case sp.ellipses <= 1:
		if nf < sp.fixed || sp.ellipses == 0 && nf != sp.fixed {
			m.never = true
			return m
		}
		m.fixed = true
		m.assign = make([]int, len(sp.items))
		j := 0
		for k, it := range sp.items {
			m.assign[k] = j
			if it.ellipsis {
				j += nf - sp.fixed
			} else {
				j++
			}
		}
	}
	for k, it := range sp.items {
		if it.cond != nil {
			m.conds = append(m.conds, k)
		}
	}
	return m
}

// Pattern returns the pattern m matches.
func (m *BatchMatcher) Pattern() *Pattern { return m.p }

// Format returns the format m is bound to.
func (m *BatchMatcher) Format() *flowlog.Format { return m.format }

// Match reports whether record i of b (whose Format must be m's) matches.
func (m *BatchMatcher) Match(b *flowlog.Batch, i int) bool {
	switch m.p.kind {
	case KindAll:
		return true
	case KindTerms:
		if m.p.terms.inField {
			return m.matchTermsByField(b, i)
		}
		m.line = b.AppendLine(m.line[:0], i)
		return m.p.terms.match(m.line)
	case KindRegex:
		m.line = b.AppendLine(m.line[:0], i)
		return m.p.re.Match(m.line)
	case KindJSON:
		return false // a flow log record is not a JSON document
	}
	if m.never {
		return false
	}
	m.bf.b, m.bf.i = b, i
	if !m.fixed {
		return m.al.align(m.p.space, &m.bf)
	}
	items := m.p.space.items
	for _, k := range m.conds {
		if !items[k].cond.eval(&m.bf, m.assign) {
			return false
		}
	}
	return true
}

// matchTermsByField is the term match of record i without rendering the
// line: a term without blanks lies within one field.
func (m *BatchMatcher) matchTermsByField(b *flowlog.Batch, i int) bool {
	t := m.p.terms
	for _, w := range t.must {
		if !m.fieldContains(b, i, w) {
			return false
		}
	}
	for _, w := range t.not {
		if m.fieldContains(b, i, w) {
			return false
		}
	}
	if len(t.any) == 0 {
		return true
	}
	for _, w := range t.any {
		if m.fieldContains(b, i, w) {
			return true
		}
	}
	return false
}

// fieldContains reports whether some field of record i contains w.
func (m *BatchMatcher) fieldContains(b *flowlog.Batch, i int, w []byte) bool {
	// the fields the record writes (not the start a format without one is
	// placed by: flowlog.Format.Placed)
	for j := range b.Cols[:b.Format.Len()] {
		c := &b.Cols[j]
		var s []byte
		switch {
		case !c.Valid[i]:
			s = dash
		case c.Field.Kind.Numeric():
			if !numericTerm(w) {
				continue
			}
			m.line = strconv.AppendInt(m.line[:0], c.Ints[i], 10)
			s = m.line
		case c.Field.Kind == flowlog.KindIP && !addressTerm(w):
			continue
		default:
			s = c.Data[c.Offsets[i]:c.Offsets[i+1]]
		}
		if bytes.Contains(s, w) {
			return true
		}
	}
	return false
}

// addressTerm reports whether w could occur in an address's text.
func addressTerm(w []byte) bool {
	for _, c := range w {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') && c != '.' && c != ':' {
			return false
		}
	}
	return true
}

// numericTerm reports whether w could occur in a number's text.
func numericTerm(w []byte) bool {
	for _, c := range w {
		if (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Select sets sel[i] for every matching record of b and returns sel (grown
// to b.N) and the number of matches. Conditions of a fixed layout run
// column by column.
func (m *BatchMatcher) Select(b *flowlog.Batch, sel []bool) ([]bool, int) {
	if cap(sel) < b.N {
		sel = make([]bool, b.N)
	}
	sel = sel[:b.N]
	if m.p.kind == KindAll {
		for i := range sel {
			sel[i] = true
		}
		return sel, b.N
	}
	if m.p.kind == KindSpace && m.fixed && !m.never && !m.p.space.cross {
		for i := range sel {
			sel[i] = true
		}
		for _, k := range m.conds {
			m.andColumn(m.p.space.items[k].cond, b, sel)
		}
	} else {
		for i := 0; i < b.N; i++ {
			sel[i] = m.Match(b, i)
		}
	}
	n := 0
	for _, v := range sel {
		if v {
			n++
		}
	}
	return sel, n
}

// andColumn clears sel[i] where n is false for record i.
func (m *BatchMatcher) andColumn(n *node, b *flowlog.Batch, sel []bool) {
	if n.and {
		for _, k := range n.kids {
			m.andColumn(k, b, sel)
		}
		return
	}
	if !n.or {
		j := m.assign[n.item]
		if j < 0 {
			clear(sel)
			return
		}
		c := &b.Cols[j]
		if n.val.isNum && c.Field.Kind.Numeric() {
			for i, ok := range sel {
				if ok {
					sel[i] = c.Valid[i] && n.val.compareNumber(n.op, float64(c.Ints[i]))
				}
			}
			return
		}
		if !n.val.isNum && !c.Field.Kind.Numeric() && n.val.re == nil {
			for i, ok := range sel {
				if ok {
					s := dash
					if c.Valid[i] {
						s = c.Data[c.Offsets[i]:c.Offsets[i+1]]
					}
					sel[i] = n.val.compareText(n.op, s)
				}
			}
			return
		}
	}
	m.bf.b = b
	for i, ok := range sel {
		if ok {
			m.bf.i = i
			sel[i] = n.eval(&m.bf, m.assign)
		}
	}
}

// Key is a resolved reference to an extracted value ("$bytes", "$3") of a
// BatchMatcher.
type Key struct {
	item int // named item, or -1
	pos  int // 0-based position for $N, or -1
}

// Key resolves name ("$bytes", "$7") for records of m's format. It fails
// when the pattern extracts no such value.
func (m *BatchMatcher) Key(name string) (Key, error) {
	if !m.p.HasKey(name) {
		return Key{}, fmt.Errorf("the pattern extracts no %s (extracted values: the $names of a space-delimited pattern, or $N positions)", name)
	}
	if n, ok := positionKey(name[1:]); ok {
		return Key{item: -1, pos: n - 1}, nil
	}
	for k, it := range m.p.space.items {
		if it.name == name[1:] {
			return Key{item: k, pos: -1}, nil
		}
	}
	return Key{}, fmt.Errorf("the pattern extracts no %s", name)
}

// position returns the column of k for record i (after a match), -1 when
// absent.
func (m *BatchMatcher) position(b *flowlog.Batch, i int, k Key) int {
	if k.item < 0 {
		if k.pos < b.Format.Len() {
			return k.pos
		}
		return -1
	}
	if m.fixed {
		return m.assign[k.item]
	}
	m.bf.b, m.bf.i = b, i
	if !m.al.align(m.p.space, &m.bf) {
		return -1
	}
	return m.al.assign[k.item]
}

// Text appends the extracted value k of matching record i (as the event
// text shows it: "-" for NULL) to dst; ok is false when there is none.
func (m *BatchMatcher) Text(dst []byte, b *flowlog.Batch, i int, k Key) ([]byte, bool) {
	j := m.position(b, i, k)
	if j < 0 {
		return dst, false
	}
	return b.Cols[j].AppendText(dst, i), true
}

// Number returns the extracted value k of matching record i as a number;
// ok is false when the field is not a number (NULL included).
func (m *BatchMatcher) Number(b *flowlog.Batch, i int, k Key) (float64, bool) {
	j := m.position(b, i, k)
	if j < 0 {
		return 0, false
	}
	m.bf.b, m.bf.i = b, i
	return m.bf.number(j)
}

// Extract returns the extractedValues of matching record i, as
// Pattern.Extract does for its text.
func (m *BatchMatcher) Extract(b *flowlog.Batch, i int) map[string]string {
	vals := map[string]string{}
	if m.p.space == nil {
		return vals
	}
	assign := m.assign
	if !m.fixed {
		m.bf.b, m.bf.i = b, i
		if !m.al.align(m.p.space, &m.bf) {
			return vals
		}
		assign = m.al.assign
	}
	fillValues(vals, m.p.space, assign, b.Format.Len(), func(j int) string {
		return string(b.Cols[j].AppendText(nil, i))
	})
	return vals
}

// batchFields are the fields of record i of a batch.
type batchFields struct {
	b   *flowlog.Batch
	i   int
	buf []byte
}

var dash = []byte("-")

func (f *batchFields) count() int { return len(f.b.Cols) }

func (f *batchFields) text(j int) []byte {
	c := &f.b.Cols[j]
	if !c.Valid[f.i] {
		return dash
	}
	if c.Field.Kind.Numeric() {
		f.buf = strconv.AppendInt(f.buf[:0], c.Ints[f.i], 10)
		return f.buf
	}
	return c.Data[c.Offsets[f.i]:c.Offsets[f.i+1]]
}

func (f *batchFields) number(j int) (float64, bool) {
	c := &f.b.Cols[j]
	if !c.Valid[f.i] {
		return 0, false
	}
	if c.Field.Kind.Numeric() {
		return float64(c.Ints[f.i]), true
	}
	return parseNumber(c.Data[c.Offsets[f.i]:c.Offsets[f.i+1]])
}
