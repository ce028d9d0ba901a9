package duckdb

import (
	"testing"
)

// TestDatasetsCache: Datasets is kept between changes and computed anew
// after a commit, a retention setting or a writing statement.
func TestDatasetsCache(t *testing.T) {
	s := openTest(t, t.TempDir())
	count := func() int64 {
		t.Helper()
		ds, err := s.Datasets(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, d := range ds {
			n += d.Records
		}
		return n
	}
	ingestBatch(t, s, "", "a", defaultBatch(t, []rec{{"10.0.0.1", "10.1.0.1", 1, 443, 6, 7, t0 + 10, "ACCEPT", "OK"}}))
	if n := count(); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
	ingestBatch(t, s, "", "b", defaultBatch(t, []rec{{"10.0.0.2", "10.1.0.1", 1, 443, 6, 7, t0 + 10, "ACCEPT", "OK"}}))
	if n := count(); n != 2 {
		t.Fatalf("after a commit: %d records, want 2", n)
	}
	if _, err := s.Query(t.Context(), `DELETE FROM records WHERE srcaddr = '10.0.0.2'`); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("after a DELETE through Query: %d records, want 1", n)
	}
	for q, want := range map[string]bool{
		"SELECT 1": true, " with x as (select 1) select * from x": true, "FROM flows": true,
		"SELECT 1; DELETE FROM records": false, "DELETE FROM records": false, "INSERT INTO t VALUES (1)": false,
		"WITH x AS (SELECT 1) DELETE FROM records": false, "COPY flows TO 'x'": false, "SELECT 1;": true,
	} {
		if got := plainRead(q); got != want {
			t.Errorf("plainRead(%q) = %v, want %v", q, got, want)
		}
	}
}
