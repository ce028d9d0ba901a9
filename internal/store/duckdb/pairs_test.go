package duckdb

import (
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/store"
)

// TestPairsRollup: flows_pairs holds the distinct (source, port) pairs of
// all records, each once, through every change a day file goes through:
// table rows only, a sealed day (its pairs from the rollup), a late file
// (table rows beside the day file, some of their pairs in it too), a
// replaced file, retention of an hour, of one dataset and of the whole
// day, and a read-only reopen; the rollup keeps the pairs of registered
// day files only.
func TestPairsRollup(t *testing.T) {
	day := int64(t0 - t0%86400)
	now := time.Unix(day+86400+2*3600+600, 0) // 02:10 the next day
	dir := t.TempDir()
	open := func(ro bool) *Store {
		s, err := Open(t.Context(), Config{Dir: dir, MemoryLimit: "512MB", Threads: 2, Now: func() time.Time { return now },
			SealBatch: 1, SealQuiet: -1, ReadOnly: ro}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.pairsMin = 0 // the pairs of every day file
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	s := open(false)
	sealFiles(t, s, 12, 7)
	next := day + 86400 // an hour of the next day: sealed, its day not over
	ingestBatch(t, s, "", "next", defaultBatch(t, []rec{{"10.0.0.3", "10.1.0.3", 1, 443, 6, 9, next + 60, "ACCEPT", "OK"}}))
	// the same pair in another dataset: counted once
	ingestBatch(t, s, "other", "o1", defaultBatch(t, []rec{{"10.0.0.1", "10.1.0.1", 1, 443, 6, 7, t0 + 3600 + 10, "ACCEPT", "OK"},
		{"10.0.0.1", "10.1.0.1", 1, 443, 6, 7, t0 + 10, "ACCEPT", "OK"}}))
	check := func(step string, dayFiles int64) {
		t.Helper()
		const key = "_srcaddr_v4, srcaddr, dstport"
		got := fmtRows(queryRows(t, s, `SELECT count(*), count(DISTINCT (`+key+`)), sum(hash(`+key+`)) FROM flows_pairs`))
		want := fmtRows(queryRows(t, s, `SELECT count(*), count(*), sum(hash(`+key+`)) FROM (`+pairsFromFlows+`)`))
		if got != want {
			t.Errorf("%s: flows_pairs %s (rows, distinct, hash), want %s", step, got, want)
		}
		if got := fmtRows(queryRows(t, s, `SELECT count(*), count(*) FILTER (WHERE file IN (SELECT file FROM sealed_hours)),
			(SELECT count(DISTINCT file) FROM rollup_pairs) FROM rollup_pairs_files`)); got != fmtRows([][]any{{dayFiles, dayFiles, dayFiles}}) {
			t.Errorf("%s: rollup files (all, registered, with rows) %s, want %d registered", step, got, dayFiles)
		}
	}
	check("table rows", 0)
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	check("seal", 1)
	if got := fmtRows(queryRows(t, s, `SELECT count(*) > 0 FROM rollup_pairs`)); got != "[[true]]" {
		t.Errorf("no rollup rows after the seal: %s", got)
	}

	// A late file, one pair the day has and one it has not: table rows
	// beside the day file until the next Seal writes the day anew.
	ingestBatch(t, s, "", "late1", defaultBatch(t, []rec{{"10.0.0.1", "10.1.0.0", 1, 443, 6, 1, t0 + 3600 + 5, "REJECT", "OK"},
		{"10.9.9.9", "10.1.0.0", 1, 8080, 6, 1, t0 + 3600 + 6, "REJECT", "OK"},
		{"fe80::1", "10.1.0.0", 1, 8080, 6, 1, t0 + 3600 + 7, "REJECT", "OK"}}))
	check("late file", 1)
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	check("late file sealed", 1)

	// f1 again with force: its hours go back into the table.
	tx, err := s.BeginFile(t.Context(), "", store.Source{Key: "f1", Size: 1, Checksum: "sum-f1-again"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(t.Context(), defaultBatch(t, []rec{{"10.0.0.9", "10.1.0.9", 1, 9999, 6, 3, t0 + 20, "ACCEPT", "OK"}})); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("replaced file", 0) // f1 has rows in every hour of the day: all go back into the table
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	check("replaced file sealed", 1)

	if _, err := s.DropBefore(t.Context(), "", time.Unix(t0+3600+1800, 0)); err != nil {
		t.Fatal(err)
	}
	check("retention of hour 0", 1)
	if _, err := s.DropBefore(t.Context(), "other", time.Unix(t0+3*3600, 0)); err != nil {
		t.Fatal(err)
	}
	check("retention of other", 1)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(true)
	check("read-only reopen", 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(false)
	if _, err := s.DropBefore(t.Context(), "", time.Unix(day+86400, 0)); err != nil {
		t.Fatal(err)
	}
	check("retention of the day", 0)
}
