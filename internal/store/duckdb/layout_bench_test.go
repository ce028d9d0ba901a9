package duckdb

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// layoutVariants are the column sets BenchmarkInsertColumnCost writes: the
// stored layout, then with more of its text columns left out or replaced
// by integer codes. They answer what the text columns cost an ingest.
var layoutVariants = []struct{ name, sel string }{
	{"layout-2", `*`},
	{"no-address-text", `* EXCLUDE (srcaddr, dstaddr)`},
	{"no-address-text+status-codes", `* EXCLUDE (srcaddr, dstaddr, action, log_status),
		CAST(CASE action WHEN 'ACCEPT' THEN 1 WHEN 'REJECT' THEN 2 END AS UTINYINT) AS action_code,
		CAST(CASE log_status WHEN 'OK' THEN 1 WHEN 'NODATA' THEN 2 WHEN 'SKIPDATA' THEN 3 END AS UTINYINT) AS log_status_code`},
	{"integers-only", `* EXCLUDE (srcaddr, dstaddr, action, log_status, interface_id, account_id)`},
}

// BenchmarkInsertColumnCost measures, on one thread, what writing the
// records of an existing flowlens database costs DuckDB (insert,
// compression and checkpoint into a new v1.5.0 file) for each of
// layoutVariants, and the size each leaves on disk. It needs a database:
// FLOWLENS_BENCH_DATA=<data dir> [FLOWLENS_BENCH_ROWS=5000000].
func BenchmarkInsertColumnCost(b *testing.B) {
	dir := os.Getenv("FLOWLENS_BENCH_DATA")
	if dir == "" {
		b.Skip("set FLOWLENS_BENCH_DATA to a flowlens data directory")
	}
	rows := 5_000_000
	if v, err := strconv.Atoi(os.Getenv("FLOWLENS_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	out := filepath.Join(b.TempDir(), "variant.duckdb")
	for _, q := range []string{
		"SET threads = 1", "SET preserve_insertion_order = false",
		"ATTACH " + quoteString(Path(dir)) + " AS src (READ_ONLY)",
		fmt.Sprintf("CREATE TEMP TABLE incoming AS SELECT * FROM src.records LIMIT %d", rows),
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	for _, v := range layoutVariants {
		b.Run(v.name, func(b *testing.B) {
			var size int64
			var took time.Duration
			for b.Loop() {
				_ = os.Remove(out)
				_ = os.Remove(out + ".wal")
				t0 := time.Now()
				for _, q := range []string{
					"ATTACH " + quoteString(out) + " AS v (STORAGE_VERSION 'v1.5.0')",
					"CREATE TABLE v.t AS SELECT " + v.sel + " FROM incoming",
					"CHECKPOINT v", "DETACH v",
				} {
					if _, err := db.Exec(q); err != nil {
						b.Fatalf("%s: %v", q, err)
					}
				}
				took += time.Since(t0)
				st, err := os.Stat(out)
				if err != nil {
					b.Fatal(err)
				}
				size = st.Size()
			}
			b.ReportMetric(float64(took.Nanoseconds())/float64(b.N)/float64(rows), "core-ns/record")
			b.ReportMetric(float64(size)/float64(rows), "B/record")
		})
	}
}

// BenchmarkAddressText compares grouping by the stored address text with
// grouping by text computed from the integer form at query time (what a
// layout without the text columns would make every SQL GROUP BY srcaddr
// do). FLOWLENS_BENCH_DATA=<data dir>.
func BenchmarkAddressText(b *testing.B) {
	dir := os.Getenv("FLOWLENS_BENCH_DATA")
	if dir == "" {
		b.Skip("set FLOWLENS_BENCH_DATA to a flowlens data directory")
	}
	s, err := Open(b.Context(), Config{Dir: dir, ReadOnly: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, q := range []struct{ name, sql string }{
		{"stored-text", `SELECT count(DISTINCT dstaddr) FROM records`},
		{"integer", `SELECT count(DISTINCT _dstaddr_v4) FROM records`},
		{"text-from-integer", `SELECT count(DISTINCT ip4_text(_dstaddr_v4)) FROM records`},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Query(b.Context(), q.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
