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

func TestRejectsRule(t *testing.T) {
	const h = 1_700_002_800 // a multiple of 3600
	for _, c := range []struct {
		name, q string
		opt     Options
		d       Dialect
		want    bool
		where   string
	}{
		{"q2", `filter action = "REJECT" | stats count(*) as n by srcaddr | sort n desc | limit 20`, Options{}, DuckDB{}, true, "FROM flows_rejects WHERE (action = 'REJECT')"},
		{"q4 aligned", `filter action = "REJECT" and dstport = 22 | stats count(*) as n by srcaddr`, Options{Start: h, End: h + 7200 - 1}, DuckDB{}, true, "WHERE _hour >= 1700002800 AND _hour <= 1700006400 AND (action = 'REJECT')"},
		{"ports and sums", `filter action = "REJECT" | stats sum(bytes), sum(packets), count_distinct(srcaddr) by dstport`, Options{}, DuckDB{}, true, "FROM flows_rejects"},
		{"start off the hours", `filter action = "REJECT" | stats count(*) by srcaddr`, Options{Start: h + 300, End: h + 3600 - 1}, DuckDB{}, false, "start >= 1700003100"},
		{"end off the hours", `filter action = "REJECT" | stats count(*) by srcaddr`, Options{Start: h, End: h + 3600}, DuckDB{}, false, "start <= 1700006400"},
		{"no reject filter", `filter action = "ACCEPT" | stats count(*) by srcaddr`, Options{}, DuckDB{}, false, "FROM flows"},
		{"reject or", `filter action = "REJECT" or dstport = 22 | stats count(*) by srcaddr`, Options{}, DuckDB{}, false, "FROM flows"},
		{"other key", `filter action = "REJECT" | stats count(*) by dstaddr`, Options{}, DuckDB{}, false, "FROM flows"},
		{"other filter", `filter action = "REJECT" and protocol = 6 | stats count(*) by srcaddr`, Options{}, DuckDB{}, false, "FROM flows"},
		{"other aggregate", `filter action = "REJECT" | stats avg(bytes) by srcaddr`, Options{}, DuckDB{}, false, "FROM flows"},
		{"clickhouse", `filter action = "REJECT" | stats count(*) by srcaddr`, Options{}, ClickHouse{}, false, "FROM flows"},
	} {
		p, err := plan.Compile(c.q, plan.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		st, err := Generate(p, c.d, c.opt)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := strings.Contains(st.SQL, "FROM flows_rejects"); got != c.want {
			t.Errorf("%s: rollup %v, want %v:\n%s", c.name, got, c.want, st.SQL)
		}
		if !strings.Contains(st.SQL, c.where) {
			t.Errorf("%s: want %q in\n%s", c.name, c.where, st.SQL)
		}
	}
}

func TestPairsRule(t *testing.T) {
	for _, c := range []struct {
		name, q string
		opt     Options
		d       Dialect
		want    bool
	}{
		{"q5", `stats count_distinct(dstport) as p by srcaddr | filter p > 100`, Options{Pairs: true}, DuckDB{}, true},
		{"no view", `stats count_distinct(dstport) as p by srcaddr`, Options{}, DuckDB{}, false},
		{"clickhouse", `stats count_distinct(dstport) as p by srcaddr`, Options{Pairs: true}, ClickHouse{}, false},
		{"time range", `stats count_distinct(dstport) as p by srcaddr`, Options{Pairs: true, Start: 1_700_002_800, End: 1_700_006_399}, DuckDB{}, false},
		{"dataset", `stats count_distinct(dstport) as p by srcaddr`, Options{Pairs: true, Datasets: []string{"a"}}, DuckDB{}, false},
		{"filter", `filter action = "REJECT" | stats count_distinct(dstport) as p by srcaddr`, Options{Pairs: true}, DuckDB{}, false},
		{"order", `stats count_distinct(dstport) as p by srcaddr | sort p desc`, Options{Pairs: true}, DuckDB{}, false},
		{"other key", `stats count_distinct(dstport) as p by dstaddr`, Options{Pairs: true}, DuckDB{}, false},
		{"two keys", `stats count_distinct(dstport) as p by srcaddr, action`, Options{Pairs: true}, DuckDB{}, false},
		{"other value", `stats count_distinct(srcport) as p by srcaddr`, Options{Pairs: true}, DuckDB{}, false},
		{"count too", `stats count_distinct(dstport) as p, count(*) as n by srcaddr`, Options{Pairs: true}, DuckDB{}, false},
	} {
		p, err := plan.Compile(c.q, plan.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		st, err := Generate(p, c.d, c.opt)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := strings.Contains(st.SQL, "FROM flows_pairs"); got != c.want {
			t.Errorf("%s: flows_pairs %v, want %v:\n%s", c.name, got, c.want, st.SQL)
		}
		if c.want && strings.Contains(st.SQL, "GROUP BY _srcaddr_v4, dstport") {
			t.Errorf("%s: the pairs are grouped again:\n%s", c.name, st.SQL)
		}
	}
}

func TestScanStatement(t *testing.T) {
	for _, c := range []struct {
		name, q string
		d       Dialect
		want    bool
	}{
		{"q7", `filter srcaddr = "198.51.100.7" | fields @timestamp, srcaddr, dstaddr, srcport, dstport, bytes`, DuckDB{}, true},
		{"sort limit", `filter dstport = 22 | sort bytes desc | limit 5`, DuckDB{}, true},
		{"clickhouse", `filter srcaddr = "198.51.100.7" | fields srcaddr`, ClickHouse{}, false},
		{"grouped", `stats count(*) by srcaddr`, DuckDB{}, false},
		{"rollup", `stats sum(bytes) by bin(5m)`, DuckDB{}, false},
		{"two stages", `stats count(*) as n by srcaddr | filter n > 2`, DuckDB{}, false},
		{"dedup", `dedup srcaddr`, DuckDB{}, false},
	} {
		p, err := plan.Compile(c.q, plan.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		st, err := Generate(p, c.d, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if st.Scan != c.want {
			t.Errorf("%s: Scan %v, want %v:\n%s", c.name, st.Scan, c.want, st.SQL)
		}
	}
}
