package sqlgen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/insights/plan"
	"github.com/flowlens/flowlens/internal/insights/syntax"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenOptions are the options every golden file is generated with: all
// datasets, no time range, the engine's default limit, and a Source that
// shows the columns a query reads (the DuckDB store's FlowsSource renders
// its own tables instead).
var goldenOptions = Options{Limit: 10000, NowMillis: 1_700_000_000_000, Source: goldenSource, Scan: goldenScan, Pairs: true}

// rangeOptions are used for queries that need a time range (diff).
var rangeOptions = Options{Limit: 10000, NowMillis: 1_700_000_000_000, Start: 1_699_999_200, End: 1_700_002_799, Source: goldenSource, Scan: goldenScan, Pairs: true}

// goldenSource is a Source over the flows view itself.
func goldenSource(cols []string) (string, bool) {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = DuckDB{}.Ident(c)
	}
	return "(SELECT " + strings.Join(q, ", ") + " FROM flows) AS flows", true
}

// goldenScan is a Scan over the flows view itself that applies every
// filter it is given (the ClickHouse store's FlowsScan reads `records`
// and applies those on stored columns).
func goldenScan(cols []string, filters []ScanFilter) (string, bool) {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = ClickHouse{}.Ident(c)
	}
	where := ""
	for i, f := range filters {
		if i == 0 {
			where = " WHERE "
		} else {
			where += " AND "
		}
		where += f.SQL
	}
	return "(SELECT " + strings.Join(q, ", ") + " FROM flows" + where + ") AS flows", true
}

// goldenLookups are the lookup tables golden queries may use.
var goldenLookups = map[string]*plan.Table{
	"owners": {Columns: []string{"addr", "team", "app"}, Rows: [][]string{
		{"10.0.1.5", "payments", "api"}, {"10.0.1.6", "search", "it's \"quoted\""}, {"10.0.1.5", "dup", "ignored"}}},
	"nets": {Columns: []string{"cidr", "owner"}, Rows: [][]string{
		{"10.0.0.0/8", "corp"}, {"10.1.0.0/16", "vpc1"}, {"2001:db8::/32", "v6 is skipped"}}},
}

// section is one "-- name --" part of a txtar file.
type section struct {
	name string
	data string
}

func parseTxtar(data string) (comment string, secs []section) {
	lines := strings.SplitAfter(data, "\n")
	cur := -1
	var b strings.Builder
	flush := func() {
		if cur < 0 {
			comment = b.String()
		} else {
			secs[cur].data = b.String()
		}
		b.Reset()
	}
	for _, l := range lines {
		t := strings.TrimRight(l, "\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			flush()
			secs = append(secs, section{name: strings.TrimSpace(t[3 : len(t)-3])})
			cur = len(secs) - 1
			continue
		}
		b.WriteString(l)
	}
	flush()
	return comment, secs
}

func formatTxtar(comment string, secs []section) []byte {
	var b bytes.Buffer
	b.WriteString(comment)
	for _, s := range secs {
		b.WriteString("-- " + s.name + " --\n")
		b.WriteString(s.data)
		if s.data != "" && !strings.HasSuffix(s.data, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// compileAll runs a query through the checker and both dialects; the
// sections it returns are what the golden files hold.
func compileAll(query string) []section {
	secs := []section{{name: "query", data: query}}
	p, err := plan.Compile(strings.TrimSpace(query), plan.Options{Lookups: goldenLookups})
	if err != nil {
		return append(secs, section{name: "error", data: syntax.Detail(err) + "\n"})
	}
	secs = append(secs, section{name: "plan", data: p.String()})
	for _, d := range []Dialect{DuckDB{}, ClickHouse{}} {
		opt := goldenOptions
		if p.Compare != nil {
			opt = rangeOptions
		}
		st, err := Generate(p, d, opt)
		if err != nil {
			secs = append(secs, section{name: d.Name(), data: "ERROR: " + err.Error() + "\n"})
			continue
		}
		secs = append(secs, section{name: d.Name(), data: st.SQL + "\n"})
	}
	return secs
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			comment, secs := parseTxtar(string(data))
			if len(secs) == 0 || secs[0].name != "query" {
				t.Fatalf("%s: first section must be -- query --", file)
			}
			got := formatTxtar(comment, compileAll(secs[0].data))
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !bytes.Equal(got, data) {
				t.Errorf("%s differs (run go test ./internal/insights/... -update and review the diff)\n--- got ---\n%s\n--- want ---\n%s", file, got, data)
			}
		})
	}
}
