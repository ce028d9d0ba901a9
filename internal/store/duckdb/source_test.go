package duckdb

import (
	"context"
	"strings"
	"testing"
)

// TestFlowsSource: the narrow FROM item holds the flows view's rows with
// the named columns, computed as the view computes them, over table rows
// and sealed files alike (a late file leaves rows of a sealed hour in the
// table), also on a read-only open; names it cannot offer give false.
func TestFlowsSource(t *testing.T) {
	dir := t.TempDir()
	s := openSealTest(t, dir)
	sealFiles(t, s, 6, 3)
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	// late: table rows of a sealed hour
	ingestBatch(t, s, "", "late", defaultBatch(t, []rec{{"10.0.0.9", "2001:db8::1", 3, 22, 6, 10, t0 + 60, "REJECT", "OK"}}))
	if got := fmtRows(queryRows(t, s, `SELECT (SELECT count(*) FROM records) > 0, (SELECT count(*) FROM _sealed_records(['start'])) > 0`)); got != "[[true true]]" {
		t.Fatalf("table rows, sealed rows: %s", got)
	}
	check := func(s *Store) {
		t.Helper()
		for _, cols := range [][]string{
			{"start"},
			{"srcaddr", "start", "_srcaddr_v4"},
			{"dataset", "dstaddr", "end", "bytes", "_dstaddr_v4", "_hour", "action"},
			{"account_id", "interface_id", "tcp_flags", "year", "dt", "aws-service", "_ingest_time", "_format_id"},
			{"aws-service"},
		} {
			from, ok := s.FlowsSource(cols)
			if !ok {
				t.Fatalf("%v: no FROM item", cols)
			}
			q := make([]string, len(cols))
			for i, c := range cols {
				q[i] = quoteIdent(c)
			}
			list := strings.Join(q, ", ")
			want := fmtRows(queryRows(t, s, "SELECT count(*), sum(hash("+list+")) FROM flows"))
			got := fmtRows(queryRows(t, s, "SELECT count(*), sum(hash("+list+")) FROM "+from))
			if got != want {
				t.Errorf("%v: %s through %s, want %s", cols, got, from, want)
			}
		}
		for _, cols := range [][]string{nil, {"nope"}, {"start", "accid"}, {"aws-region"}} {
			if from, ok := s.FlowsSource(cols); ok {
				t.Errorf("%v: got %s, want none", cols, from)
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(context.Background(), Config{Dir: dir, ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	check(ro)
}
