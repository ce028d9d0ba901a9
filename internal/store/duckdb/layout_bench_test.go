package duckdb

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// sealedLayouts are the layouts BenchmarkSealedLayouts writes a sealed
// day in: DuckDB tables (with and without the address text, with 1 M-row
// row groups) and zstd Parquet (one file, or one file per hour with small
// row groups so that zone maps prune address lookups).
var sealedLayouts = []struct {
	name, sel string
	parquet   string // COPY options; "" for a DuckDB table
	rowGroup  int    // DuckDB table row group size (0: default)
	perHour   bool   // Parquet partitioned by _hour
}{
	{name: "table", sel: `*`},
	{name: "table-no-address-text", sel: `* EXCLUDE (srcaddr, dstaddr)`},
	{name: "table-1M-row-groups", sel: `*`, rowGroup: 1 << 20},
	{name: "parquet-zstd", sel: `*`, parquet: "COMPRESSION zstd, ROW_GROUP_SIZE 122880"},
	{name: "parquet-zstd-no-address-text", sel: `* EXCLUDE (srcaddr, dstaddr)`, parquet: "COMPRESSION zstd, ROW_GROUP_SIZE 122880"},
	{name: "parquet-zstd-no-address-text-per-hour-32k", sel: `* EXCLUDE (srcaddr, dstaddr)`, parquet: "COMPRESSION zstd, ROW_GROUP_SIZE 32768", perHour: true},
}

// sealedQueries are Q1, Q5, Q6 and Q7 of the standard workload in the
// integer form the compiler gives them (`t` is the layout's relation).
var sealedQueries = []struct{ name, sql string }{
	{"Q1", `SELECT _srcaddr_v4, _dstaddr_v4, sum(bytes) AS b FROM t GROUP BY ALL ORDER BY b DESC LIMIT 10`},
	{"Q5", `SELECT _srcaddr_v4, count(DISTINCT dstport) AS p FROM t GROUP BY ALL HAVING p > 100`},
	{"Q6", `SELECT _dstaddr_v4, sum(bytes) AS b FROM t WHERE _srcaddr_v4 BETWEEN 167837696 AND 167903231 GROUP BY ALL ORDER BY b DESC LIMIT 10`},
	{"Q7", `SELECT start, _srcaddr_v4, _dstaddr_v4, srcport, dstport, bytes FROM t WHERE _srcaddr_v4 = NEEDLE ORDER BY start DESC`},
}

// BenchmarkSealedLayouts writes the records of a flowlens database once
// per sealedLayouts entry, sorted per hour by (srcaddr, dstaddr, start) as
// a sealed hour is, and reports the bytes per record, the write cost and
// the time of each of sealedQueries (one warm-up, then b.N runs):
// FLOWLENS_BENCH_DATA=<data dir>.
func BenchmarkSealedLayouts(b *testing.B) {
	dir := os.Getenv("FLOWLENS_BENCH_DATA")
	if dir == "" {
		b.Skip("set FLOWLENS_BENCH_DATA to a flowlens data directory")
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	exec := func(q string) {
		b.Helper()
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	exec("SET threads = 2")
	exec("ATTACH " + quoteString(Path(dir)) + " AS src (READ_ONLY)")
	var rows, needle int64
	if err := db.QueryRow("SELECT count(*) FROM src.records").Scan(&rows); err != nil {
		b.Fatal(err)
	}
	// Q7's address: one with about 100 records, as in the standard workload.
	if err := db.QueryRow(`SELECT _srcaddr_v4 FROM src.records WHERE _srcaddr_v4 IS NOT NULL GROUP BY 1
		ORDER BY abs(count(*) - 100), 1 LIMIT 1`).Scan(&needle); err != nil {
		b.Fatal(err)
	}
	const order = `_hour, _srcaddr_v4, _dstaddr_v4, start`
	for _, l := range sealedLayouts {
		b.Run(l.name, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "layout")
			t0 := time.Now()
			var size int64
			if l.parquet == "" {
				opt := "STORAGE_VERSION 'v1.5.0'"
				if l.rowGroup > 0 {
					opt += fmt.Sprintf(", ROW_GROUP_SIZE %d", l.rowGroup)
				}
				exec("ATTACH " + quoteString(out+".duckdb") + " AS v (" + opt + ")")
				exec("SET preserve_insertion_order = true")
				exec("CREATE TABLE v.t AS SELECT " + l.sel + " FROM src.records ORDER BY " + order)
				exec("CHECKPOINT v")
				exec("CREATE OR REPLACE TEMP VIEW t AS SELECT * FROM v.t")
				st, err := os.Stat(out + ".duckdb")
				if err != nil {
					b.Fatal(err)
				}
				size = st.Size()
			} else {
				opts, glob := l.parquet, quoteString(out+".parquet")
				target := quoteString(out + ".parquet")
				if l.perHour {
					opts += ", PARTITION_BY (_hour)"
					target, glob = quoteString(out), quoteString(out+"/*/*.parquet")
				}
				exec("COPY (SELECT " + l.sel + " FROM src.records ORDER BY " + order + ") TO " + target + " (FORMAT parquet, " + opts + ")")
				exec("CREATE OR REPLACE TEMP VIEW t AS SELECT * FROM read_parquet(" + glob + ", hive_partitioning = true)")
				_ = filepath.Walk(out+map[bool]string{true: "", false: ".parquet"}[l.perHour], func(_ string, fi os.FileInfo, err error) error {
					if err == nil && !fi.IsDir() {
						size += fi.Size()
					}
					return nil
				})
			}
			write := time.Since(t0)
			for _, q := range sealedQueries {
				q.sql = strings.ReplaceAll(q.sql, "NEEDLE", strconv.FormatInt(needle, 10))
				exec(q.sql) // warm-up
				t1 := time.Now()
				for range b.N {
					exec(q.sql)
				}
				b.ReportMetric(float64(time.Since(t1).Microseconds())/float64(b.N)/1000, q.name+"-ms")
			}
			b.ReportMetric(float64(size)/float64(rows), "B/record")
			b.ReportMetric(float64(write.Nanoseconds())/float64(rows), "write-ns/record")
			if l.parquet == "" {
				exec("DETACH v")
			}
		})
	}
}
