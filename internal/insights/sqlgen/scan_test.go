package sqlgen

import (
	"slices"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

// scanOf compiles query for ClickHouse and returns what its Scan was
// given: the columns and the filters.
func scanOf(t *testing.T, query string) ([]string, []ScanFilter) {
	t.Helper()
	p, err := plan.Compile(query, plan.Options{})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var cols []string
	var filters []ScanFilter
	opt := goldenOptions
	opt.Scan = func(c []string, f []ScanFilter) (string, bool) {
		cols, filters = c, f
		return goldenScan(c, f)
	}
	if _, err := Generate(p, ClickHouse{}, opt); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return cols, filters
}

// TestScanFilterExcludes: Excludes is set for a filter of one column that
// the query reads in its filters alone, and tells whether the filter is
// false on a value (a FROM item may then give the column without NULL).
func TestScanFilterExcludes(t *testing.T) {
	type probe struct {
		v    any
		want bool
	}
	for _, c := range []struct {
		query  string
		filter string // the filter's SQL
		set    bool   // Excludes is set
		probes []probe
	}{
		{`filter action = "REJECT" | stats count(*) as n by srcaddr`, "action = 'REJECT'", true,
			[]probe{{"", true}, {"REJECT", false}, {"ACCEPT", true}, {int64(0), false}}},
		{`filter dstport = 22 | stats count(*) as n by srcaddr`, "dstport = 22", true,
			[]probe{{int64(0), true}, {int64(22), false}, {"", false}}},
		{`filter dstport != 22 | stats count(*) as n by srcaddr`, "dstport <> 22", true,
			[]probe{{int64(0), false}, {int64(22), true}}},
		{`filter dstport < 1024 | stats count(*) as n by srcaddr`, "dstport < 1024", true,
			[]probe{{int64(0), false}, {int64(2000), true}}},
		{`filter dstport > 1023 | stats count(*) as n by srcaddr`, "dstport > 1023", true,
			[]probe{{int64(0), true}}},
		{`filter dstport >= 0.5 | stats count(*) as n by srcaddr`, "dstport >= 0.5", true,
			[]probe{{int64(0), true}, {int64(1), false}}},
		{`filter dstport in [22, 80] | stats count(*) as n by srcaddr`, "dstport IN (22, 80)", true,
			[]probe{{int64(0), true}, {int64(80), false}}},
		{`filter dstport in [0, 80] | stats count(*) as n by srcaddr`, "dstport IN (0, 80)", true,
			[]probe{{int64(0), false}}},
		{`filter not (action = "ACCEPT") | stats count(*) as n by srcaddr`, "NOT (action = 'ACCEPT')", true,
			[]probe{{"", false}, {"ACCEPT", true}}},
		{`filter action = "REJECT" or action = "ACCEPT" | stats count(*) as n by srcaddr`, "(action = 'REJECT') OR (action = 'ACCEPT')", true,
			[]probe{{"", true}, {"ACCEPT", false}}},
		{`filter dstport = 22 and dstport != 0 | stats count(*) as n by srcaddr`, "dstport <> 0", true, // each conjunct its own filter
			[]probe{{int64(0), true}, {int64(22), false}}},
		// the column is read elsewhere too: its type may matter
		{`filter dstport = 22 | stats count(*) as n by dstport`, "dstport = 22", false, nil},
		{`filter dstport = 22 | stats sum(dstport) as s`, "dstport = 22", false, nil},
		{`filter action = "REJECT" | fields action, srcaddr`, "action = 'REJECT'", false, nil},
		{`filter action = "REJECT" | sort action | fields srcaddr`, "action = 'REJECT'", false, nil},
		{`filter action = "REJECT" and strlen(action) > 1 | stats count(*) as n by srcaddr`, "action = 'REJECT'", true,
			[]probe{{"", true}}},
	} {
		_, filters := scanOf(t, c.query)
		var f *ScanFilter
		for i := range filters {
			if strings.Trim(filters[i].SQL, "()") == strings.Trim(c.filter, "()") {
				f = &filters[i]
			}
		}
		if f == nil {
			t.Errorf("%s: no scan filter %q in %+v", c.query, c.filter, filters)
			continue
		}
		if (f.Excludes != nil) != c.set {
			t.Errorf("%s: Excludes set %v, want %v", c.query, f.Excludes != nil, c.set)
			continue
		}
		for _, p := range c.probes {
			if got := f.Excludes(p.v); got != p.want {
				t.Errorf("%s: Excludes(%#v) = %v, want %v", c.query, p.v, got, p.want)
			}
		}
	}
	// a filter of two columns, and a time-range filter: never
	_, filters := scanOf(t, `filter action = "REJECT" or dstport = 22 | stats count(*) as n by srcaddr`)
	for _, f := range filters {
		if f.Excludes != nil {
			t.Errorf("Excludes set for %q (%v)", f.SQL, f.Cols)
		}
	}
}

// TestScanColumnsStart: on ClickHouse the FROM item has start only where
// the query reads the rows' times.
func TestScanColumnsStart(t *testing.T) {
	for _, c := range []struct {
		query string
		start bool
	}{
		{`filter action = "REJECT" | stats count(*) as n by srcaddr | sort n desc | limit 20`, false},
		{`stats count_distinct(dstport) as p by srcaddr | filter p > 100`, false},
		{`stats sum(bytes) as b by bin(5m)`, true},
		{`fields srcaddr | limit 5`, true}, // the default order is @timestamp
		{`stats latest(srcaddr) as s by dstport`, true},
		{`stats earliest(srcaddr) as s by dstport`, true},
		{`stats count(*) as n by dstport | sort n desc`, false},
	} {
		cols, _ := scanOf(t, c.query)
		if got := slices.Contains(cols, "start"); got != c.start {
			t.Errorf("%s: FROM item columns %v: start %v, want %v", c.query, cols, got, c.start)
		}
	}
	if cols, _ := scanOf(t, `stats count(*) as n`); !slices.Equal(cols, []string{"_hour"}) {
		t.Errorf("count(*) alone: FROM item columns %v, want [_hour]", cols)
	}
}
