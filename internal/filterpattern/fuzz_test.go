package filterpattern

import (
	"errors"
	"maps"
	"testing"
	"unicode/utf8"

	"github.com/flowlens/flowlens/internal/flowlog"
)

var fuzzPatterns = []string{
	``, `""`, `ERROR`, `"a phrase" -x ?y`, `?NODATA ?SKIPDATA`, `%^REJ\s*%`, `%a(b)%`,
	`[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`,
	`[..., dstport = 3389 || dstport = 22, protocol = 6, ...]`,
	`[..., bytes > 1e7, start, end, action, status = OK]`,
	`[a, (b = 1 || b = 2) && c != x, c]`, `[…, x = %^R%, ...]`, `[$dstport = 22, $action = REJECT]`,
	`{ ($.action = "REJECT") && ($.dstport = 22 || $.dstport = 3389) }`, `{ $.a[*].b NOT EXISTS }`, `{ $.['x.y'] IS NULL }`,
	`[a = "unterminated`, `{ $.a = }`,
}

// FuzzParse checks that Parse never panics, that its errors point inside
// the pattern, and that a parsed pattern matches the flow records of a
// decoded batch exactly as it matches their text.
func FuzzParse(f *testing.F) {
	for _, p := range fuzzPatterns {
		f.Add(p)
	}
	fm := flowlog.DefaultFormat()
	recs := []string{recSSH, recRDP, recHTTP, recBig, recNoData, recSkip}
	b := decodeBatch(f, fm, recs...)
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > MaxLen+16 {
			return
		}
		p, err := Parse(text)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): %T %v", text, err, err)
			}
			if pe.Offset < 0 || pe.Offset > len(text) {
				t.Fatalf("Parse(%q): offset %d outside the pattern", text, pe.Offset)
			}
			_ = pe.Caret()
			return
		}
		m := p.Compile(fm)
		sel, _ := m.Select(b, nil)
		for i, r := range recs {
			if sel[i] != m.Match(b, i) {
				t.Fatalf("%q on %q: Select %v, Match %v", text, r, sel[i], !sel[i])
			}
			vals, ok := p.Extract(r)
			if ok != p.Match(r) {
				t.Fatalf("%q on %q: Match and Extract disagree", text, r)
			}
			if m.Match(b, i) != ok {
				t.Fatalf("%q on %q: batch %v, text %v", text, r, !ok, ok)
			}
			if ok && !maps.Equal(m.Extract(b, i), vals) {
				t.Fatalf("%q on %q: batch values %v, text %v", text, r, m.Extract(b, i), vals)
			}
		}
	})
}

// FuzzMatch checks that matching any message never panics and that every
// extracted value is a field of the message.
func FuzzMatch(f *testing.F) {
	for _, m := range []string{recSSH, recNoData, apache, `{"action":"REJECT","dstport":22,"a":[{"b":1}]}`, "", " [x ", `"a b" c`} {
		f.Add(m)
	}
	var ps []*Pattern
	for _, t := range fuzzPatterns {
		if p, err := Parse(t); err == nil {
			ps = append(ps, p)
		}
	}
	f.Fuzz(func(t *testing.T, msg string) {
		if len(msg) > 1<<16 {
			return
		}
		for _, p := range ps {
			vals, ok := p.Extract(msg)
			if ok != p.Match(msg) {
				t.Fatalf("%q on %q: Match and Extract disagree", p.Text(), msg)
			}
			for k, v := range vals {
				if k == "" || k[0] != '$' || utf8.ValidString(msg) && !utf8.ValidString(v) {
					t.Fatalf("%q on %q: bad extracted value %q=%q", p.Text(), msg, k, v)
				}
			}
		}
	})
}
