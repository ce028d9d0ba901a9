package duckdb

import (
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/store"
)

// rejectsFromRecords is the rejects rollup computed from the records
// themselves, in the rollup view's order, for comparison.
const (
	rejectsFromRecords = `SELECT dataset, _hour, srcaddr, _srcaddr_v4, dstport, count(*), sum(bytes) FROM flows
		WHERE action = 'REJECT' GROUP BY ALL ORDER BY ALL`
	rejectsFromRollup = `SELECT dataset, _hour, srcaddr, _srcaddr_v4, dstport, CAST(sum(records) AS BIGINT), CAST(sum(bytes) AS BIGINT) FROM flows_rejects
		GROUP BY ALL ORDER BY ALL`
)

// rejectsRecs are REJECT and ACCEPT records over two hours, an IPv6 source
// among them.
func rejectsRecs() []rec {
	return []rec{
		{"10.0.0.1", "10.0.0.2", 40000, 22, 6, 60, t0, "REJECT", "OK"},
		{"10.0.0.1", "10.0.0.3", 40001, 22, 6, 60, t0 + 10, "REJECT", "OK"},
		{"10.0.0.1", "10.0.0.3", 40002, 3389, 6, 40, t0 + 20, "REJECT", "OK"},
		{"10.0.0.1", "10.0.0.3", 40002, 443, 6, 900, t0 + 30, "ACCEPT", "OK"},
		{"2001:db8::1", "10.0.0.3", 40002, 22, 6, 70, t0 + 3600, "REJECT", "OK"},
		{"10.0.0.9", "10.0.0.3", 40002, 22, 6, 80, t0 + 3700, "REJECT", "OK"},
	}
}

// TestRejectsRollup: the rejects rollup holds exactly the REJECT records'
// counts and sums by hour, source and port, through an ingest, the
// replacement of a file and retention.
func TestRejectsRollup(t *testing.T) {
	s := openTest(t, t.TempDir())
	check := func(when string) {
		t.Helper()
		want := fmtRows(queryRows(t, s, rejectsFromRecords))
		if got := fmtRows(queryRows(t, s, rejectsFromRollup)); got != want {
			t.Errorf("%s: rollup %s, records %s", when, got, want)
		}
	}
	ingestBatch(t, s, "", "k1", defaultBatch(t, rejectsRecs()))
	ingestBatch(t, s, "other", "k2", defaultBatch(t, rejectsRecs()[:3]))
	check("after the ingest")
	if got := fmtRows(queryRows(t, s, `SELECT count(*) FROM flows_rejects`)); got != "[[6]]" {
		t.Errorf("rollup rows %s, want 6 (4 + 2: one per file, hour, source and port)", got)
	}
	// Replacing k1 with fewer records replaces its rollup rows.
	tx, err := s.BeginFile(t.Context(), "", store.Source{Key: "k1", Size: 3, Checksum: "sum-k1b"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(t.Context(), defaultBatch(t, rejectsRecs()[3:])); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("after replacing a file")
	if _, err := s.DropBefore(t.Context(), "", time.Unix(t0+3600, 0)); err != nil {
		t.Fatal(err)
	}
	check("after retention")
	if got := fmtRows(queryRows(t, s, `SELECT min(_hour) FROM flows_rejects`)); got != "[[1717167600]]" {
		t.Errorf("hours left after retention: %s", got)
	}
}

// TestRejectsRollupUpgrade: a layout 3 database (no rejects rollup) reads
// through a view computing the rollup when opened read-only, and gets the
// rollup filled from its records when opened for writing.
func TestRejectsRollupUpgrade(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	ingestBatch(t, s, "", "k1", defaultBatch(t, rejectsRecs()))
	want := fmtRows(queryRows(t, s, rejectsFromRecords))
	for _, q := range []string{`DROP VIEW flows_rejects`, `DROP TABLE rollup_rejects`,
		`UPDATE flowlens_meta SET value = '3' WHERE key = 'schema_version'`} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(t.Context(), Config{Dir: dir, ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmtRows(queryRows(t, ro, rejectsFromRollup)); got != want {
		t.Errorf("layout 3 read-only: %s, want %s", got, want)
	}
	ro.Close()
	s = openTest(t, dir)
	if got := fmtRows(queryRows(t, s, `SELECT count(*) FROM rollup_rejects`)); got != "[[4]]" {
		t.Errorf("rollup rows after the upgrade: %s, want 4", got)
	}
	if got := fmtRows(queryRows(t, s, rejectsFromRollup)); got != want {
		t.Errorf("upgraded: %s, want %s", got, want)
	}
}
