package athena

import (
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	cases := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT date_format(from_unixtime(start), '%Y-%m-%d %H:%i:%s') FROM flows`,
			`SELECT strftime(CAST(from_unixtime(start) AS TIMESTAMP), '%Y-%m-%d %H:%M:%S') FROM flows`},
		{`select DATE_FORMAT(ts , '%M %e, %Y' ) x`, `select strftime(CAST(ts AS TIMESTAMP), '%B %-d, %Y') x`},
		{`SELECT date_parse('2024/05/31', '%Y/%m/%d')`, `SELECT strptime('2024/05/31', '%Y/%m/%d')`},
		{`SELECT date_format(concat(a, ','), 'it''s %T')`, `SELECT strftime(CAST(concat(a, ',') AS TIMESTAMP), 'it''s %H:%M:%S')`},
		// a format that is not a literal is left to DuckDB
		{`SELECT date_format(ts, fmt)`, `SELECT date_format(ts, fmt)`},
		{`SELECT my_date_format(ts, '%i')`, `SELECT my_date_format(ts, '%i')`},
		{`SELECT date_format(ts`, `SELECT date_format(ts`},
	}
	for _, c := range cases {
		if got := Rewrite(c.in); got != c.want {
			t.Errorf("Rewrite(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestConvertFormat(t *testing.T) {
	cases := map[string]string{
		"%Y-%m-%d %H:%i:%s": "%Y-%m-%d %H:%M:%S",
		"%W %M %e %c %k %l": "%A %B %-d %-m %-H %-I",
		"100%":              "100%",
		"%%":                "%%",
		"%r":                "%I:%M:%S %p",
	}
	for in, want := range cases {
		if got := ConvertFormat(in); got != want {
			t.Errorf("ConvertFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMacros(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range List() {
		if seen[m.Name] || m.Name == "" || m.Body == "" || m.Doc == "" {
			t.Errorf("macro %+v", m)
		}
		seen[m.Name] = true
	}
	for _, name := range []string{"from_unixtime", "to_unixtime", "day_of_week", "approx_distinct", "regexp_like", "bitwise_and"} {
		if !seen[name] {
			t.Errorf("no macro %s", name)
		}
	}
	if len(Macros()) != len(List()) || !strings.HasPrefix(Macros()[0], "CREATE OR REPLACE MACRO ") {
		t.Errorf("Macros: %v", Macros())
	}
}

// FuzzRewrite: Rewrite never panics, leaves text without a date_format or
// date_parse call alone, and only ever replaces such calls.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		`SELECT date_format(from_unixtime(start), '%Y-%m-%d %H:%i') FROM flows`,
		`date_parse('x', '%Y')`, `date_format(a, 'b'`, `date_format((((, ''')`, `SELECT 'date_format(' FROM t`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		out := Rewrite(s)
		low := strings.ToLower(s)
		if !strings.Contains(low, "date_format") && !strings.Contains(low, "date_parse") && out != s {
			t.Fatalf("Rewrite changed %q into %q", s, out)
		}
		if out != s && !strings.Contains(out, "strftime(") && !strings.Contains(out, "strptime(") {
			t.Fatalf("Rewrite changed %q into %q without a strftime/strptime call", s, out)
		}
	})
}
