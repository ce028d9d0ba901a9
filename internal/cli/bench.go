package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate"
	"github.com/flowlens/flowlens/internal/ingest"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

const benchExamples = `  flowlens bench                         # the standard day-20m benchmark (generates it once into ./bench-data)
  flowlens bench --records 2000000 --runs 3   # a quicker run on the same shape, scaled down
  make bench                              # the same as the first line, after building
`

// benchQuery is one workload question asked in SQL of both stores.
type benchQuery struct {
	id, question string
	flowlens     string // SQL over the flowlens store (may use internal columns)
	baseline     string // the same question over the plain table
	insights     string // the Logs Insights form, for the record
}

// benchQueries returns Q1–Q7 of the standard workload. needle is the Q7 address.
func benchQueries(needle string) []benchQuery {
	q := func(id, question, fl, base, li string) benchQuery {
		return benchQuery{id, question, fl, base, li}
	}
	lit := "'" + strings.ReplaceAll(needle, "'", "''") + "'"
	return []benchQuery{
		q("Q1", "top talkers",
			`SELECT srcaddr, dstaddr, sum(bytes) AS b FROM flows GROUP BY srcaddr, dstaddr ORDER BY b DESC LIMIT 10`,
			`SELECT srcaddr, dstaddr, sum(bytes) AS b FROM base.flows GROUP BY srcaddr, dstaddr ORDER BY b DESC LIMIT 10`,
			`stats sum(bytes) as b by srcaddr, dstaddr | sort b desc | limit 10`),
		q("Q2", "who is rejected most",
			`SELECT srcaddr, count(*) AS n FROM flows WHERE action = 'REJECT' GROUP BY srcaddr ORDER BY n DESC LIMIT 20`,
			`SELECT srcaddr, count(*) AS n FROM base.flows WHERE action = 'REJECT' GROUP BY srcaddr ORDER BY n DESC LIMIT 20`,
			`filter action = "REJECT" | stats count(*) as n by srcaddr | sort n desc | limit 20`),
		q("Q3", "traffic over time",
			`SELECT start - start % 300 AS t, sum(bytes) AS b FROM flows GROUP BY t ORDER BY t`,
			`SELECT start - start % 300 AS t, sum(bytes) AS b FROM base.flows GROUP BY t ORDER BY t`,
			`stats sum(bytes) as b by bin(5m)`),
		q("Q4", "SSH knocking",
			`SELECT srcaddr, count(*) AS n FROM flows WHERE action = 'REJECT' AND dstport = 22 GROUP BY srcaddr ORDER BY n DESC LIMIT 20`,
			`SELECT srcaddr, count(*) AS n FROM base.flows WHERE action = 'REJECT' AND dstport = 22 GROUP BY srcaddr ORDER BY n DESC LIMIT 20`,
			`filter action = "REJECT" and dstport = 22 | stats count(*) as n by srcaddr | sort n desc | limit 20`),
		q("Q5", "wide port fan-out",
			`SELECT srcaddr, count(DISTINCT dstport) AS p FROM flows GROUP BY srcaddr HAVING count(DISTINCT dstport) > 100`,
			`SELECT srcaddr, count(DISTINCT dstport) AS p FROM base.flows GROUP BY srcaddr HAVING count(DISTINCT dstport) > 100`,
			`stats count_distinct(dstport) as p by srcaddr | filter p > 100`),
		q("Q6", "one VPC's destinations",
			`SELECT dstaddr, sum(bytes) AS b FROM flows WHERE _srcaddr_v4 BETWEEN 167837696 AND 167903231 GROUP BY dstaddr ORDER BY b DESC LIMIT 10`,
			`SELECT dstaddr, sum(bytes) AS b FROM base.flows WHERE srcaddr LIKE '10.1.%' GROUP BY dstaddr ORDER BY b DESC LIMIT 10`,
			`filter isIpv4InSubnet(srcaddr, "10.1.0.0/16") | stats sum(bytes) as b by dstaddr | sort b desc | limit 10`),
		q("Q7", "one host's records",
			`SELECT start, srcaddr, dstaddr, srcport, dstport, bytes FROM flows WHERE srcaddr = `+lit,
			`SELECT start, srcaddr, dstaddr, srcport, dstport, bytes FROM base.flows WHERE srcaddr = `+lit,
			`filter srcaddr = "`+needle+`" | fields @timestamp, srcaddr, dstaddr, srcport, dstport, bytes`),
	}
}

// benchTiming is what one query measured.
type benchTiming struct {
	first, median time.Duration
	peakRSS       int64
	rows          int
}

func runBench(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench", "bench [--dir DIR] [--preset day-20m] [--runs N]", benchExamples)
	dir := fs.String("dir", "bench-data", "working `directory`: the generated dataset is kept there and reused; the databases are rebuilt")
	preset := fs.String("preset", "day-20m", "generator `preset` of the dataset (day-20m is the standard one)")
	runs := fs.Int("runs", 5, "warm runs per query (the median is reported)")
	records := fs.Int64("records", 0, "scale the preset to this many `records` (0: the preset's own count) for a quicker run")
	memLimit := fs.String("memory-limit", "1GB", "DuckDB memory limit of the run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runs < 1 {
		return usageError("--runs must be at least 1")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(env.Stderr, "bench: "+format+"\n", a...) }

	// 1. The dataset, generated once.
	cfg, err := generate.Preset(*preset)
	if err != nil {
		return usageError("%v", err)
	}
	if cfg.Format != nil && !cfg.Format.Equal(flowlog.DefaultFormat()) {
		return usageError("preset %q does not write the default format; the baseline's read_csv table needs it (use day-20m or small)", *preset)
	}
	name := *preset
	if *records > 0 {
		cfg.Records = *records
		name = fmt.Sprintf("%s-%d", *preset, *records)
	}
	dataDir := filepath.Join(*dir, name)
	marker := filepath.Join(dataDir, ".complete")
	if _, err := os.Stat(marker); err != nil {
		if err := os.RemoveAll(dataDir); err != nil {
			return err
		}
		cfg.Out = dataDir
		logf("generating %s (%d records) into %s", *preset, cfg.Records, dataDir)
		sum, err := generate.Run(ctx, cfg)
		if err != nil {
			return fmt.Errorf("generate %s: %w", *preset, err)
		}
		logf("generated %d records in %s", sum.Records, sum.Elapsed.Round(time.Millisecond))
		if err := os.WriteFile(marker, []byte(strconv.FormatInt(sum.Records, 10)+"\n"), 0o644); err != nil {
			return err
		}
	}
	gzFiles, gzBytes, err := gzipFiles(dataDir)
	if err != nil {
		return err
	}

	// 2. flowlens ingest into a fresh database.
	dbDir := filepath.Join(*dir, "flowlens-db")
	if err := os.RemoveAll(dbDir); err != nil {
		return err
	}
	st, err := duckdb.Open(ctx, duckdb.Config{Dir: dbDir, MemoryLimit: *memLimit}, env.Logger)
	if err != nil {
		return err
	}
	defer st.Close()
	logf("ingesting %d files (%s) with flowlens", len(gzFiles), humanBytes(gzBytes))
	resetPeakRSS()
	isum, err := ingest.Run(ctx, ingest.Config{Paths: []string{dataDir}, Logger: env.Logger}, st)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	ingestRSS := peakRSS()
	// What `flowlens ingest` does next: rewrite the hours that are over.
	seal, err := st.Seal(ctx, nil)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	if err := st.Checkpoint(ctx); err != nil {
		return err
	}
	ingestElapsed := isum.Elapsed
	fileBytes := st.FileBytes()
	recordBytes, err := st.RecordBytes(ctx)
	if err != nil {
		return err
	}
	logf("flowlens: %d records in %s, then %d hours sealed in %s", isum.Records, ingestElapsed.Round(time.Millisecond),
		seal.Hours, seal.Elapsed.Round(time.Millisecond))

	// 3. The baseline: a plain DuckDB table loaded with read_csv, in the same process.
	basePath := filepath.Join(*dir, "baseline.duckdb")
	_ = os.Remove(basePath)
	_ = os.Remove(basePath + ".wal")
	if _, err := st.Query(ctx, "ATTACH '"+strings.ReplaceAll(basePath, "'", "''")+"' AS base"); err != nil {
		return fmt.Errorf("attach baseline: %w", err)
	}
	glob := strings.ReplaceAll(filepath.Join(dataDir, "**", "*.log.gz"), "'", "''")
	logf("loading the baseline with read_csv")
	runtime.GC()
	resetPeakRSS()
	t0 := time.Now()
	load := `CREATE TABLE base.flows AS SELECT * FROM read_csv('` + glob + `', delim = ' ', header = true, nullstr = '-',
		columns = {'version': 'INTEGER', 'account_id': 'VARCHAR', 'interface_id': 'VARCHAR', 'srcaddr': 'VARCHAR',
		'dstaddr': 'VARCHAR', 'srcport': 'INTEGER', 'dstport': 'INTEGER', 'protocol': 'INTEGER', 'packets': 'BIGINT',
		'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT', 'action': 'VARCHAR', 'log_status': 'VARCHAR'})`
	if _, err := st.Query(ctx, load); err != nil {
		return fmt.Errorf("baseline load: %w", err)
	}
	if _, err := st.Query(ctx, "CHECKPOINT base"); err != nil {
		return fmt.Errorf("baseline checkpoint: %w", err)
	}
	baseElapsed := time.Since(t0)
	baseRSS := peakRSS()
	baseRecords, err := scalarInt(ctx, st, "SELECT count(*) FROM base.flows")
	if err != nil {
		return err
	}
	baseBytes := fileSize(basePath)
	logf("baseline: %d records in %s", baseRecords, baseElapsed.Round(time.Millisecond))

	// 4. Q7's needle: a remote address with about 100 records.
	res, err := st.Query(ctx, `SELECT srcaddr FROM base.flows WHERE srcaddr NOT LIKE '10.%' GROUP BY srcaddr
		HAVING count(*) BETWEEN 90 AND 110 ORDER BY abs(count(*) - 100), srcaddr LIMIT 1`)
	if err != nil {
		return err
	}
	needle := "203.0.113.1"
	if len(res.Rows) > 0 {
		needle = fmt.Sprint(res.Rows[0][0])
	}

	// 5. Q1–Q7 on both.
	qs := benchQueries(needle)
	type pair struct{ fl, base, li benchTiming }
	eng := query.New(query.Config{}, st, st)
	liQuerier := querierFunc(func(ctx context.Context, text string, _ ...any) (*store.Result, error) {
		res, _, err := eng.Run(ctx, query.Request{Query: text, Limit: 1 << 40})
		return res, err
	})
	results := make([]pair, len(qs))
	for i, q := range qs {
		logf("%s %s", q.id, q.question)
		if results[i].fl, err = timeQuery(ctx, st, q.flowlens, *runs); err != nil {
			return fmt.Errorf("%s on flowlens: %w", q.id, err)
		}
		if results[i].base, err = timeQuery(ctx, st, q.baseline, *runs); err != nil {
			return fmt.Errorf("%s on the baseline: %w", q.id, err)
		}
		if results[i].li, err = timeQuery(ctx, liQuerier, q.insights, *runs); err != nil {
			return fmt.Errorf("%s through flowlens query: %w", q.id, err)
		}
		if results[i].fl.rows != results[i].base.rows || results[i].li.rows != results[i].base.rows {
			logf("warning: %s returned %d rows on flowlens SQL, %d through flowlens query and %d on the baseline",
				q.id, results[i].fl.rows, results[i].li.rows, results[i].base.rows)
		}
	}

	// 6. The report, ready for docs/BENCHMARKS.md.
	w := env.Stdout
	fmt.Fprintf(w, "Dataset %s: %d records, %d .log.gz files, %s compressed (%.1f B/record); %d CPUs, GOMAXPROCS %d, DuckDB memory limit %s; %s\n\n",
		name, isum.Records, len(gzFiles), humanBytes(gzBytes), float64(gzBytes)/float64(max(isum.Records, 1)),
		runtime.NumCPU(), runtime.GOMAXPROCS(0), *memLimit, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintln(w, "| | ingest rec/s | ingest peak RSS | bytes/record on disk |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	fmt.Fprintf(w, "| flowlens | %s | %s | %.1f (records only: %.1f) |\n",
		humanCount(float64(isum.Records)/ingestElapsed.Seconds()), humanBytes(ingestRSS),
		float64(fileBytes)/float64(max(isum.Records, 1)), float64(recordBytes)/float64(max(isum.Records, 1)))
	fmt.Fprintf(w, "| plain DuckDB table (read_csv) | %s | %s | %.1f |\n",
		humanCount(float64(baseRecords)/baseElapsed.Seconds()), humanBytes(baseRSS), float64(baseBytes)/float64(max(baseRecords, 1)))
	fmt.Fprintf(w, "| ratio | %.2fx | | %.2fx smaller |\n\n",
		(float64(isum.Records)/ingestElapsed.Seconds())/(float64(baseRecords)/baseElapsed.Seconds()),
		(float64(baseBytes)/float64(max(baseRecords, 1)))/(float64(fileBytes)/float64(max(isum.Records, 1))))
	fmt.Fprintf(w, "Sealing (rewriting the %d hours that are over as one sorted run each, after the ingest): %s, %s records/s.\n\n",
		seal.Hours, fmtDur(seal.Elapsed), humanCount(float64(seal.Records)/max(seal.Elapsed.Seconds(), 1e-9)))
	fmt.Fprintf(w, "| query | flowlens SQL warm median | first run | peak RSS | baseline warm median | first run | speed-up (warm) | flowlens query (Logs Insights) warm median | vs flowlens SQL | rows |\n")
	fmt.Fprintf(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, q := range qs {
		r := results[i]
		fmt.Fprintf(w, "| %s %s | %s | %s | %s | %s | %s | %.2fx | %s | %.2fx | %d |\n", q.id, q.question,
			fmtDur(r.fl.median), fmtDur(r.fl.first), humanBytes(r.fl.peakRSS),
			fmtDur(r.base.median), fmtDur(r.base.first), r.base.median.Seconds()/max(r.fl.median.Seconds(), 1e-9),
			fmtDur(r.li.median), r.li.median.Seconds()/max(r.fl.median.Seconds(), 1e-9), r.fl.rows)
	}
	fmt.Fprintf(w, "\nQ7 address: %s. Peak RSS is the process's high-water mark during each step (reset before it).\n", needle)
	return nil
}

// timeQuery runs sql once cold and runs more times warm; it returns the
// first run, the warm median and the peak RSS over all runs.
func timeQuery(ctx context.Context, q store.Querier, sql string, runs int) (benchTiming, error) {
	var t benchTiming
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	var warm []time.Duration
	for i := 0; i <= runs; i++ {
		if err := ctx.Err(); err != nil {
			return t, err
		}
		t0 := time.Now()
		res, err := q.Query(ctx, sql)
		d := time.Since(t0)
		if err != nil {
			return t, err
		}
		if i == 0 {
			t.first, t.rows = d, len(res.Rows)
			continue
		}
		warm = append(warm, d)
	}
	slices.Sort(warm)
	t.median = warm[len(warm)/2]
	t.peakRSS = peakRSS()
	return t, nil
}

func scalarInt(ctx context.Context, q store.Querier, sql string) (int64, error) {
	res, err := q.Query(ctx, sql)
	if err != nil {
		return 0, err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return 0, fmt.Errorf("%s: want one value, got %d rows", sql, len(res.Rows))
	}
	switch v := res.Rows[0][0].(type) {
	case int64:
		return v, nil
	default:
		return strconv.ParseInt(fmt.Sprint(v), 10, 64)
	}
}

func gzipFiles(dir string) ([]string, int64, error) {
	var files []string
	var total int64
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".log.gz") {
			files = append(files, p)
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return files, total, err
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
}

// resetPeakRSS resets the kernel's high-water mark of this process's
// resident set (Linux: writing 5 to /proc/self/clear_refs).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads the high-water mark of the resident set since the last reset.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return parseStatusKB(string(b), "VmHWM:")
}

func parseStatusKB(status, key string) int64 {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// querierFunc adapts a function to store.Querier.
type querierFunc func(ctx context.Context, sql string, args ...any) (*store.Result, error)

func (f querierFunc) Query(ctx context.Context, sql string, args ...any) (*store.Result, error) {
	return f(ctx, sql, args...)
}
