package duckdb

import (
	"testing"

	"github.com/flowlens/flowlens/internal/store"
)

// TestQueryScan: a query marked by store.WithScan answers as Query does and leaves no setting
// behind on the connection it used (the pool has one connection here).
func TestQueryScan(t *testing.T) {
	s, err := Open(t.Context(), Config{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ingestBatch(t, s, "", "f1", defaultBatch(t, []rec{{"10.0.0.1", "10.1.0.1", 1, 443, 6, 7, t0 + 10, "ACCEPT", "OK"},
		{"10.0.0.2", "10.1.0.1", 1, 22, 6, 9, t0 + 20, "REJECT", "OK"}}))
	s.db.SetMaxOpenConns(1)
	const q = `SELECT srcaddr, dstport FROM flows WHERE _srcaddr_v4 = 167772162 ORDER BY start DESC`
	want, err := s.Query(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Query(store.WithScan(t.Context()), q)
	if err != nil {
		t.Fatal(err)
	}
	if fmtRows(got.Rows) != fmtRows(want.Rows) || fmtRows(got.Rows) != "[[10.0.0.2 22]]" {
		t.Errorf("scan %v, Query %v", got.Rows, want.Rows)
	}
	if _, err := s.Query(store.WithScan(t.Context()), `SELECT no_such_column FROM flows`); err == nil {
		t.Error("a bad scan query: no error")
	}
	in, err := s.Query(store.WithScan(t.Context()), `SELECT current_setting('disabled_optimizers')`)
	if err != nil || fmtRows(in.Rows) != "[["+scanOptimizers+"]]" {
		t.Errorf("disabled_optimizers during the scan: %v, %v", in, err)
	}
	if got := fmtRows(queryRows(t, s, `SELECT current_setting('disabled_optimizers')`)); got != "[[]]" {
		t.Errorf("disabled_optimizers after the scan: %s", got)
	}
}
