package query

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/store"
)

// fakeStore records the SQL it is given and answers with a fixed result.
type fakeStore struct {
	sql      []string
	res      *store.Result
	err      error
	datasets []store.Dataset
	catCalls int
	block    bool
}

func (f *fakeStore) Query(ctx context.Context, sql string, args ...any) (*store.Result, error) {
	f.sql = append(f.sql, sql)
	if f.block {
		<-ctx.Done()
		return nil, errors.New("interrupted")
	}
	if f.err != nil {
		return nil, f.err
	}
	return f.res, nil
}

func (f *fakeStore) Datasets(ctx context.Context) ([]store.Dataset, error) {
	f.catCalls++
	return f.datasets, nil
}

var now = time.Date(2024, 5, 31, 12, 0, 0, 0, time.UTC)

func newFake() *fakeStore {
	custom := "${version} ${srcaddr} ${dstaddr} ${action}"
	return &fakeStore{
		res: &store.Result{Columns: []string{"x"}, Rows: [][]any{{int64(1)}}},
		datasets: []store.Dataset{
			{Name: "prod", Formats: map[int]string{1: flowlog.DefaultFormatString}},
			{Name: "nat", Formats: map[int]string{2: custom}},
		},
	}
}

func engine(f *fakeStore) *Engine {
	return New(Config{Now: func() time.Time { return now }}, f, f)
}

func TestCompileSQL(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want []string // fragments of the SQL
		not  []string
	}{
		{"default limit, no time range", Request{Query: "stats count(*) by srcAddr"}, []string{"LIMIT 10000"}, []string{"_hour", "start >=", "start <="}},
		{"limit flag lifts the default", Request{Query: "fields srcAddr", Limit: 50000}, []string{"LIMIT 50000"}, nil},
		{"query limit wins over the default", Request{Query: "fields srcAddr | limit 7"}, []string{"LIMIT 7"}, []string{"10000"}},
		{"datasets", Request{Query: "stats count(*)", Datasets: []string{"prod", "nat"}}, []string{"dataset IN ('nat', 'prod')"}, nil},
		{"time range prunes hours first", Request{Query: "stats count(*)", Start: now.Add(-90 * time.Minute), End: now},
			[]string{"WHERE _hour >= 1717149600 AND _hour <= 1717156800 AND start >= 1717151400 AND start <= 1717156800"}, nil},
		{"source names datasets", Request{Query: "SOURCE 'nat' | stats count(*)"}, []string{"dataset = 'nat'"}, nil},
		{"source prefix", Request{Query: "SOURCE logGroups(namePrefix: ['pr']) | stats count(*)"}, []string{"dataset = 'prod'"}, nil},
		{"source relative start", Request{Query: "SOURCE 'prod' START=-1h END=0s | stats count(*)"}, []string{"start >= 1717153200 AND start <= 1717156800"}, nil},
		{"message uses the selected dataset's format", Request{Query: "fields @message", Datasets: []string{"nat"}},
			[]string{"concat_ws(' ', coalesce(CAST(version AS VARCHAR), '-'), coalesce(srcaddr, '-'), coalesce(dstaddr, '-'), coalesce(action, '-'))"}, []string{"CASE WHEN _format_id"}},
		{"message of several formats", Request{Query: "fields @message"}, []string{"CASE WHEN _format_id = 1 THEN", "WHEN _format_id = 2 THEN"}, nil},
		{"now is the query's time", Request{Query: "fields now() as n"}, []string{"1717156800 AS \"n\""}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := engine(newFake()).Compile(t.Context(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Statement.SQL, w) {
					t.Errorf("SQL lacks %q:\n%s", w, c.Statement.SQL)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(c.Statement.SQL, w) {
					t.Errorf("SQL has %q:\n%s", w, c.Statement.SQL)
				}
			}
		})
	}
}

func TestCatalogOnlyWhenNeeded(t *testing.T) {
	f := newFake()
	if _, err := engine(f).Compile(t.Context(), Request{Query: "stats sum(bytes) as b by srcaddr | sort b desc | limit 10"}); err != nil {
		t.Fatal(err)
	}
	if f.catCalls != 0 {
		t.Fatalf("a query without @message listed the datasets %d times", f.catCalls)
	}
}

func TestRunShapesTimes(t *testing.T) {
	f := newFake()
	f.res = &store.Result{Columns: []string{"t", "n"}, Rows: [][]any{{int64(1717164000000), int64(3)}, {nil, int64(1)}}}
	res, _, err := engine(f).Run(t.Context(), Request{Query: "stats count(*) as n by bin(1h) as t"})
	if err != nil {
		t.Fatal(err)
	}
	tm, ok := res.Rows[0][0].(time.Time)
	if !ok || tm.Format("2006-01-02 15:04:05.000") != "2024-05-31 14:00:00.000" || tm.Location() != time.UTC {
		t.Fatalf("bin value %#v", res.Rows[0][0])
	}
	if res.Rows[1][0] != nil || res.Columns[0] != "t" {
		t.Fatalf("rows %v columns %v", res.Rows, res.Columns)
	}
}

func TestRunErrors(t *testing.T) {
	f := newFake()
	f.err = errors.New("Binder Error: boom")
	_, _, err := engine(f).Run(t.Context(), Request{Query: "fields srcAddr"})
	if !errors.Is(err, ErrBackend) || !strings.Contains(err.Error(), "SQL: SELECT") {
		t.Fatalf("backend error %v", err)
	}

	_, _, err = engine(newFake()).Run(t.Context(), Request{Query: "filter srcadr = 1"})
	if !errors.Is(err, syntax.ErrQuery) {
		t.Fatalf("query error %v", err)
	}

	_, _, err = engine(newFake()).Run(t.Context(), Request{Query: "stats count(*)", Datasets: []string{"prd"}})
	if !errors.Is(err, ErrUnknownDataset) || !strings.Contains(err.Error(), `did you mean "prod"`) {
		t.Fatalf("dataset error %v", err)
	}

	_, _, err = engine(newFake()).Run(t.Context(), Request{Query: "SOURCE 'prod' | stats count(*)", Datasets: []string{"prod"}})
	if !errors.Is(err, syntax.ErrQuery) || !strings.Contains(err.Error(), "must not also name datasets") {
		t.Fatalf("source and datasets: %v", err)
	}

	f = newFake()
	f.block = true
	e := New(Config{Timeout: time.Millisecond}, f, f)
	_, _, err = e.Run(t.Context(), Request{Query: "fields srcAddr"})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("timeout: %v", err)
	}

	f = newFake()
	f.block = true
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err = engine(f).Run(ctx, Request{Query: "fields srcAddr"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}

func TestDiffNeedsARange(t *testing.T) {
	_, err := engine(newFake()).Compile(t.Context(), Request{Query: "pattern @message | diff"})
	if err == nil || !strings.Contains(err.Error(), "--since") {
		t.Fatalf("diff without a range: %v", err)
	}
	c, err := engine(newFake()).Compile(t.Context(), Request{Query: "logcompare timeshift 1d", Start: now.Add(-time.Hour), End: now})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Statement.SQL, "(start >= 1717066800 AND start <= 1717070400)") {
		t.Fatalf("the earlier range is not scanned:\n%s", c.Statement.SQL)
	}
}

func TestLookupTables(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ports.csv"), []byte("port,service\n22,ssh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := New(Config{Now: func() time.Time { return now }, LookupDir: dir}, newFake(), newFake())
	c, err := e.Compile(t.Context(), Request{Query: "lookup ports port as dstPort OUTPUT service | stats count(*) by service"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Statement.SQL, "LEFT JOIN (VALUES ('22', 'ssh'))") {
		t.Fatalf("SQL:\n%s", c.Statement.SQL)
	}
	_, err = e.Compile(t.Context(), Request{Query: "lookup ../etc port OUTPUT x"})
	if !errors.Is(err, syntax.ErrQuery) {
		t.Fatalf("a path in a table name: %v", err)
	}
}

func TestParseTimeAndSince(t *testing.T) {
	for in, want := range map[string]string{
		"2024-05-31T14:00:00Z":      "2024-05-31T14:00:00Z",
		"2024-05-31T16:00:00+02:00": "2024-05-31T14:00:00Z",
		"2024-05-31":                "2024-05-31T00:00:00Z",
		"2024-05-31 14:05":          "2024-05-31T14:05:00Z",
		"1717164000":                "2024-05-31T14:00:00Z",
		"1717164000000":             "2024-05-31T14:00:00Z",
		"now":                       "2024-05-31T12:00:00Z",
		"-2h":                       "2024-05-31T10:00:00Z",
		"1d":                        "2024-05-30T12:00:00Z",
	} {
		got, err := ParseTime(in, now)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("ParseTime(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseTime("yesterday-ish", now); err == nil {
		t.Error("ParseTime accepted nonsense")
	}
	for in, want := range map[string]time.Duration{"15m": 15 * time.Minute, "1h30m": 90 * time.Minute, "1d": 24 * time.Hour, "2w": 14 * 24 * time.Hour} {
		if got, err := ParseSince(in); err != nil || got != want {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseSince("-5m"); err == nil {
		t.Error("ParseSince accepted a negative duration")
	}
}

func TestExplain(t *testing.T) {
	c, err := engine(newFake()).Compile(t.Context(), Request{Query: "filter dstPort = 22 | stats count(*) as n by srcAddr", Start: now.Add(-time.Hour), End: now})
	if err != nil {
		t.Fatal(err)
	}
	out := c.Explain()
	for _, s := range []string{"-- plan\n", "filter =(dstport, 22)", "range: 2024-05-31T11:00:00Z .. 2024-05-31T12:00:00Z", "-- sql\nSELECT ", "GROUP BY _srcaddr_v4"} {
		if !strings.Contains(out, s) {
			t.Errorf("explain lacks %q:\n%s", s, out)
		}
	}
}
