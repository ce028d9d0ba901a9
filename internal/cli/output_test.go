package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/store"
)

func TestWriteResult(t *testing.T) {
	res := &store.Result{
		Columns: []string{"srcaddr", "n", "t", "x"},
		Types:   []string{"VARCHAR", "BIGINT", "TIMESTAMP", "DOUBLE"},
		Rows: [][]any{
			{"10.0.0.1", int64(12), time.Date(2024, 5, 31, 14, 5, 0, 0, time.UTC), 1.5},
			{"a,\"b\"", nil, nil, nil},
		},
	}
	cases := []struct{ format, want string }{
		{"table", "srcaddr    n  t                          x\n--------  --  -----------------------  ---\n10.0.0.1  12  2024-05-31 14:05:00.000  1.5\na,\"b\"\n(2 rows)\n"},
		{"csv", "srcaddr,n,t,x\n10.0.0.1,12,2024-05-31 14:05:00.000,1.5\n\"a,\"\"b\"\"\",,,\n"},
		{"json", "[\n  {\"srcaddr\":\"10.0.0.1\",\"n\":12,\"t\":\"2024-05-31 14:05:00.000\",\"x\":1.5},\n  {\"srcaddr\":\"a,\\\"b\\\"\",\"n\":null,\"t\":null,\"x\":null}\n]\n"},
		{"jsonl", "{\"srcaddr\":\"10.0.0.1\",\"n\":12,\"t\":\"2024-05-31 14:05:00.000\",\"x\":1.5}\n{\"srcaddr\":\"a,\\\"b\\\"\",\"n\":null,\"t\":null,\"x\":null}\n"},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			var b strings.Builder
			if err := writeResult(&b, c.format, res); err != nil {
				t.Fatal(err)
			}
			if b.String() != c.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), c.want)
			}
		})
	}
	var b strings.Builder
	if err := writeResult(&b, "json", &store.Result{Columns: []string{"a"}}); err != nil || b.String() != "[]\n" {
		t.Errorf("empty json: %q %v", b.String(), err)
	}
	if err := writeResult(&b, "xml", res); err == nil {
		t.Error("xml: no error")
	}
}

// A DATE column prints as a date, in every output format.
func TestWriteResultDate(t *testing.T) {
	for _, format := range []string{"table", "csv", "json"} {
		res := &store.Result{Columns: []string{"date"}, Types: []string{"DATE"},
			Rows: [][]any{{time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC)}}}
		var b strings.Builder
		if err := writeResult(&b, format, res); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "2024-05-31") || strings.Contains(b.String(), "00:00:00") {
			t.Errorf("%s: %q", format, b.String())
		}
	}
}
