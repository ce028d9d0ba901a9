package filterpattern

import (
	"strconv"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// msgFields are the fields of a raw event message: split on runs of
// blanks, text between [ and ] or between two " is one field with the
// brackets or quotes removed.
type msgFields struct {
	spans [][2]int
	msg   string
}

func (m *msgFields) split(msg string) {
	m.msg = msg
	m.spans = m.spans[:0]
	i := 0
	for i < len(msg) {
		c := msg[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '[' || c == '"' {
			closer := byte(']')
			if c == '"' {
				closer = '"'
			}
			j := i + 1
			for j < len(msg) && msg[j] != closer {
				j++
			}
			if j < len(msg) && (j+1 == len(msg) || msg[j+1] == ' ' || msg[j+1] == '\t') {
				m.spans = append(m.spans, [2]int{i + 1, j})
				i = j + 1
				continue
			}
		}
		j := i
		for j < len(msg) && msg[j] != ' ' && msg[j] != '\t' {
			j++
		}
		m.spans = append(m.spans, [2]int{i, j})
		i = j
	}
}

func (m *msgFields) count() int { return len(m.spans) }

func (m *msgFields) str(j int) string { return m.msg[m.spans[j][0]:m.spans[j][1]] }

func (m *msgFields) text(j int) []byte { return []byte(m.str(j)) }

func (m *msgFields) number(j int) (float64, bool) { return parseNumber(m.text(j)) }

// Match reports whether the event message msg matches. A by-name pattern
// (the $name extension) reads msg in the default flow log format; use
// MatchFormat for another one.
func (p *Pattern) Match(msg string) bool {
	ok, _ := p.extract(msg, nil, false)
	return ok
}

// Extract reports whether msg matches and, for a space-delimited pattern,
// returns AWS's extractedValues: every field of the event under "$name"
// for a named item and "$N" (1-based position) otherwise. Term, regex and
// JSON patterns return an empty, non-nil map on a match.
func (p *Pattern) Extract(msg string) (map[string]string, bool) {
	ok, vals := p.extract(msg, nil, true)
	return vals, ok
}

// ExtractFormat is Extract for a by-name pattern over messages written in
// format f (nil: the default format). Positional patterns ignore f.
func (p *Pattern) ExtractFormat(msg string, f *flowlog.Format) (map[string]string, bool) {
	ok, vals := p.extract(msg, f, true)
	return vals, ok
}

var defaultFormat = flowlog.DefaultFormat()

func (p *Pattern) extract(msg string, f *flowlog.Format, want bool) (bool, map[string]string) {
	var vals map[string]string
	if want {
		vals = map[string]string{}
	}
	switch p.kind {
	case KindAll:
		return true, vals
	case KindTerms:
		return p.terms.match([]byte(msg)), vals
	case KindRegex:
		return p.re.MatchString(msg), vals
	case KindJSON:
		return p.json.match([]byte(msg)), vals
	}
	var mf msgFields
	mf.split(msg)
	sp := p.space
	if sp.byName {
		if f == nil {
			f = defaultFormat
		}
		assign := make([]int, len(sp.items))
		for k, it := range sp.items {
			assign[k] = f.Index(it.field.ID)
			if assign[k] >= mf.count() {
				assign[k] = -1
			}
		}
		if mf.count() != f.Len() {
			return false, nil
		}
		for _, it := range sp.items {
			if it.cond != nil && !it.cond.eval(&mf, assign) {
				return false, nil
			}
		}
		if want {
			fillValues(vals, sp, assign, mf.count(), mf.str)
		}
		return true, vals
	}
	var a aligner
	if !a.align(sp, &mf) {
		return false, nil
	}
	if want {
		fillValues(vals, sp, a.assign, mf.count(), mf.str)
	}
	return true, vals
}

// fillValues puts every field of an event in vals: "$name" for a named
// item's field, "$N" for the others.
func fillValues(vals map[string]string, sp *spacePattern, assign []int, nf int, text func(int) string) {
	named := make([]string, nf)
	for k, it := range sp.items {
		if it.name != "" && !it.ellipsis && assign[k] >= 0 && assign[k] < nf {
			named[assign[k]] = it.name
		}
	}
	for j := 0; j < nf; j++ {
		key := named[j]
		if key == "" {
			key = strconv.Itoa(j + 1)
		}
		vals["$"+key] = text(j)
	}
}
