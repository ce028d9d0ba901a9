package sqlgen

import (
	"regexp"
	"strings"
	"testing"
)

// TestCSVFieldRegex runs the pattern both dialects use for parse … csv
// with Go's RE2 (the engine they share) and the unquoting they render.
func TestCSVFieldRegex(t *testing.T) {
	field := func(line string, n int64) (string, bool) {
		re := regexp.MustCompile(csvFieldRegex(n))
		m := re.FindStringSubmatch(line)
		if m == nil {
			return "", false
		}
		f := m[1]
		if strings.HasPrefix(f, `"`) {
			return strings.ReplaceAll(f[1:len(f)-1], `""`, `"`), true
		}
		return strings.TrimSpace(f), true
	}
	for _, tc := range []struct {
		line string
		want []any // string, or nil for absent
	}{
		{`a,b,c`, []any{"a", "b", "c", nil}},
		{` a , b ,c `, []any{"a", "b", "c", nil}},
		{`"x, y",z`, []any{"x, y", "z", nil}},
		{`"say ""hi""", "", last`, []any{`say "hi"`, "", "last", nil}},
		{`a,,c,`, []any{"a", "", "c", ""}},
		{`"multi
line",b`, []any{"multi\nline", "b", nil}},
		{`"x,y",z`, []any{"x,y", "z", nil}}, // never split inside quotes, even past the last field
		{`"unterminated, a`, []any{nil, nil}},
		{``, []any{"", nil}},
	} {
		for i, w := range tc.want {
			got, ok := field(tc.line, int64(i+1))
			switch {
			case w == nil && ok:
				t.Errorf("%q field %d = %q, want absent", tc.line, i+1, got)
			case w != nil && (!ok || got != w):
				t.Errorf("%q field %d = %q (%v), want %q", tc.line, i+1, got, ok, w)
			}
		}
	}
}

// TestLogfmtRegex: the pairs parse … logfmt finds, with the value rule
// the dialects render (bare key "true", quoted values unescaped).
func TestLogfmtRegex(t *testing.T) {
	re := regexp.MustCompile(logfmtRegex)
	unescape := regexp.MustCompile(`\\(.)`)
	pairs := func(s string) string {
		var out []string
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			v := m[4]
			switch {
			case m[2] == "":
				v = "true"
			case m[4] == "" && strings.HasPrefix(m[2], `="`):
				v = unescape.ReplaceAllString(m[3], "$1")
			}
			out = append(out, m[1]+"→"+v)
		}
		return strings.Join(out, " ")
	}
	for in, want := range map[string]string{
		`a=1 b="x y" c= d="q\"r\\" e`:  `a→1 b→x y c→ d→q"r\ e→true`,
		`level=info msg="" n=-1.5e3 x`: `level→info msg→ n→-1.5e3 x→true`,
		`k="unterminated v=2`:          `k→"unterminated v→2`,
		`no pairs here`:                `no→true pairs→true here→true`,
		`=v`:                           `v→true`,
	} {
		if got := pairs(in); got != want {
			t.Errorf("logfmt %q:\n got %s\nwant %s", in, got, want)
		}
	}
}

func TestJSONPointer(t *testing.T) {
	d := DuckDB{}
	for _, tc := range []struct {
		steps []JSONStep
		want  string
	}{
		{[]JSONStep{{Key: "a", IsKey: true}, {Index: "0"}, {Key: "b.c", IsKey: true}}, `'/a/0/b.c'`},
		{[]JSONStep{{Key: "x/y~z'", IsKey: true}}, `'/x~1y~0z'''`},
		{[]JSONStep{{Key: "l", IsKey: true}, {Index: `"i"`}, {Key: "k", IsKey: true}}, `('/l/' || CAST(TRY_CAST("i" AS BIGINT) AS VARCHAR) || '/k')`},
		{[]JSONStep{{Index: "-1"}}, `('/' || CAST(TRY_CAST(-1 AS BIGINT) AS VARCHAR))`},
	} {
		if got := jsonPointer(d, tc.steps); got != tc.want {
			t.Errorf("jsonPointer(%v) = %s, want %s", tc.steps, got, tc.want)
		}
	}
}
