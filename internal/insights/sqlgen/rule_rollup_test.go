package sqlgen

import (
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

func TestRollupRange(t *testing.T) {
	const q = `stats count(*) as n, sum(bytes) as b by bin(5m)`
	p, err := plan.Compile(q, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := func(name string, opt Options, d Dialect, want bool, where string) {
		t.Helper()
		st, err := Generate(p, d, opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := strings.Contains(st.SQL, "FROM flows_5m"); got != want {
			t.Errorf("%s: rollup %v, want %v:\n%s", name, got, want, st.SQL)
		}
		if !strings.Contains(st.SQL, where) {
			t.Errorf("%s: want %q in\n%s", name, where, st.SQL)
		}
	}
	const h = 1_700_000_400 // a multiple of 300
	f("open", Options{}, DuckDB{}, true, "FROM flows_5m GROUP BY")
	f("aligned", Options{Start: h, End: h + 3600 - 1}, DuckDB{}, true, "WHERE bin >= 1700000400 AND bin <= 1700003999")
	f("start only", Options{Start: h}, DuckDB{}, true, "WHERE bin >= 1700000400 GROUP")
	f("datasets", Options{Datasets: []string{"b", "a"}, End: h - 1}, DuckDB{}, true, "WHERE dataset IN ('a', 'b') AND bin <= 1700000399")
	f("start off the bins", Options{Start: h + 1, End: h + 3600 - 1}, DuckDB{}, false, "start >= 1700000401")
	f("end off the bins", Options{Start: h, End: h + 3600}, DuckDB{}, false, "start <= 1700004000")
	f("clickhouse", Options{}, ClickHouse{}, false, "FROM flows GROUP BY")
}
