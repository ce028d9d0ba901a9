package syntax

import (
	"errors"
	"testing"
)

// FuzzParse: the parser never panics, every error carries a position, and
// print → parse → print is stable.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`fields @timestamp, @message | sort @timestamp desc | limit 20`,
		`filter action = "REJECT" | stats count(*) as n by srcAddr | sort n desc | limit 20`,
		`stats sum(bytes) / 1024 as kb by bin(5m) offset 1h`,
		`parse @message /(?<eni>eni-[0-9a-f]+) / | display eni`,
		`parse "a=*, b=*" as a, b | dedup a | limit any 3`,
		"filter `log-status` not like /x\\/y/ and dstPort not in [22, 3389] or -2 ^ 3 % 4 >= .5e1",
		`SOURCE logGroups(namePrefix: ["a"]) START=-1h | countFrequent srcAddr # c`,
		`pattern @message | diff previousDay`,
		`filter a =~ /(?i)x/ | where not (b == 'q\'') | unmask`,
		"fields jsonParse(@message) as j | fields j.a, j.`odd.key`, j.l[0].b, j.`x`.`y`[1]",
		`parse multi @message "x=*," as x | parse logfmt as m | parse m.k csv as a, b`,
		`stats histogram(bytes, 10) as h, countOverTime(bytes) by bin(5m) | unnest h into x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		q, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrQuery) || e.Line < 1 || e.Col < 1 {
				t.Fatalf("Parse(%q): error without a position: %v", s, err)
			}
			_ = e.Detail()
			return
		}
		p1 := q.String()
		q2, err := Parse(p1)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its print %q does not parse: %v", s, p1, err)
		}
		if p2 := q2.String(); p2 != p1 {
			t.Fatalf("print → parse unstable:\n in  %q\n p1  %q\n p2  %q", s, p1, p2)
		}
	})
}
