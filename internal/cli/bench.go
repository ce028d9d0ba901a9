package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
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
	"github.com/flowlens/flowlens/internal/loadtest"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

const benchExamples = `  flowlens bench                         # the standard day-20m benchmark (generates it once into ./bench-data)
  flowlens bench --records 2000000 --runs 3   # a quicker run on the same shape, scaled down
  flowlens bench --no-clickhouse          # without ClickHouse (peer and flowlens on it)
  make bench                              # the same as the first line, after building

The peers, loaded from the same .log.gz files in the same run: a plain DuckDB
table (read_csv, in this process and DuckDB instance) and Debian's
clickhouse-server when installed (started in DIR/clickhouse on free ports;
IPv4 as UInt32, ORDER BY (srcaddr, start), rows sent over HTTP as
TabSeparated, two files at a time). flowlens answers Q1-Q7 in Logs Insights
through a running flowlens serve, in fresh flowlens query processes and in
process; the report gives flowlens's ratio to the best peer per figure.
With clickhouse-server, flowlens's ClickHouse store is measured too, on the
same server: the files ingested as 'flowlens ingest --store' does it
(database flowlens_bench), Q1-Q7 through the query engine; its column and
rows stand beside the peers' (ingest rec/s, bytes/record, Q1-Q7). Without
clickhouse-server the bench says so and runs without both.
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
	memLimit := fs.String("memory-limit", "1GB", "DuckDB memory limit of the run (flowlens's ingest and its Seal run under flowlens ingest's own limits)")
	noClickHouse := fs.Bool("no-clickhouse", false, "leave out the ClickHouse peer (it is started when clickhouse-server is installed)")
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
	// The dataset may be a symbolic link to a shared copy.
	if real, err := filepath.EvalSymlinks(dataDir); err == nil {
		dataDir = real
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
	// Exactly what `flowlens ingest` does: its memory settings for the
	// ingest and its Seal, then the Seal that ends it. The peak RSS is
	// over both, as a user's ingest has it.
	runtime.GC()
	resetPeakRSS()
	restoreMem, err := applyIngestMemory(ctx, st, env.Logger)
	if err != nil {
		return err
	}
	isum, err := ingest.Run(ctx, ingest.Config{Paths: []string{dataDir}, SpoolDir: filepath.Join(dbDir, "tmp"), Logger: env.Logger}, st)
	if err != nil {
		restoreMem()
		return fmt.Errorf("ingest: %w", err)
	}
	seal, err := sealIngested(ctx, st)
	restoreMem()
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	ingestRSS := peakRSS()
	if err := st.Checkpoint(ctx); err != nil {
		return err
	}
	ingestElapsed := isum.Elapsed
	fileBytes := st.FileBytes()
	recordBytes, err := st.RecordBytes(ctx)
	if err != nil {
		return err
	}
	logf("flowlens: %d records in %s, then sealed in %s (%d days, %d records, into day files; %d hours, %d records, from the table)",
		isum.Records, ingestElapsed.Round(time.Millisecond), seal.Elapsed.Round(time.Millisecond),
		seal.Days, seal.DayRecords, seal.Hours, seal.Records)

	// 3. The peers: a plain DuckDB table loaded with read_csv in the same
	// process and DuckDB instance, and ClickHouse (when installed).
	// flowlens on its ClickHouse store goes on the ClickHouse peer's
	// server: measured as the peers are, shown beside them, left out of
	// the ratios to the best peer.
	base := &duckdbTablePeer{st: st, path: filepath.Join(*dir, "baseline.duckdb"), glob: filepath.Join(dataDir, "**", "*.log.gz")}
	peers := []benchPeer{base}
	var stores []benchPeer
	if *noClickHouse {
		logf("--no-clickhouse: no ClickHouse peer and no flowlens-on-ClickHouse figures")
	} else {
		ch, err := newClickHousePeer(ctx, filepath.Join(*dir, "clickhouse"))
		if err != nil {
			return err
		}
		if ch == nil {
			logf("clickhouse-server is not installed: no ClickHouse peer and no flowlens-on-ClickHouse figures (scripts/setup.sh installs it)")
		} else {
			defer ch.Close()
			fc := newFlowlensOnClickHouse(ch, dataDir, env.Logger)
			defer fc.Close()
			peers = append(peers, ch)
			stores = append(stores, fc)
		}
	}
	all := append(append([]benchPeer{}, peers...), stores...)
	loads := make([]benchLoad, len(all))
	for i, p := range all {
		logf("loading %s", p.Name())
		runtime.GC()
		resetPeakRSS()
		if loads[i], err = p.Load(ctx, gzFiles); err != nil {
			return fmt.Errorf("%s: load: %w", p.Name(), err)
		}
		logf("%s: %d records in %s", p.Name(), loads[i].records, loads[i].elapsed.Round(time.Millisecond))
	}

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

	// 5. Q1–Q7: the peers warm, flowlens's query engine warm in this
	// process (what a server runs), then a fresh `flowlens query` process
	// per run and a running `flowlens serve`.
	qs := benchQueries(needle)
	eng := query.New(query.Config{}, st, st)
	liQuerier := querierFunc(func(ctx context.Context, text string, _ ...any) (*store.Result, error) {
		res, _, err := eng.Run(ctx, query.Request{Query: text, Limit: 1 << 40})
		return res, err
	})
	inproc := make([]benchTiming, len(qs))
	peerT := make([][]benchTiming, len(qs))
	for i, q := range qs {
		logf("%s %s", q.id, q.question)
		if inproc[i], err = timeQuery(ctx, liQuerier, q.insights, *runs); err != nil {
			return fmt.Errorf("%s through flowlens query: %w", q.id, err)
		}
		peerT[i] = make([]benchTiming, len(all))
		for j, p := range all {
			if peerT[i][j], err = timePeer(ctx, p, q.id, needle, *runs); err != nil {
				return fmt.Errorf("%s on %s: %w", q.id, p.Name(), err)
			}
			if peerT[i][j].rows != inproc[i].rows {
				logf("warning: %s returned %d rows through flowlens and %d on %s", q.id, inproc[i].rows, peerT[i][j].rows, p.Name())
			}
		}
	}
	peerNames := make([]string, len(all))
	for i, p := range all {
		peerNames[i] = p.Name()
	}
	if err := st.Close(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cli := make([]benchTiming, len(qs))
	for i, q := range qs {
		logf("%s in fresh flowlens query processes", q.id)
		if cli[i], err = timeCLI(ctx, self, dbDir, q.insights, *runs); err != nil {
			return fmt.Errorf("%s through a fresh flowlens query: %w", q.id, err)
		}
	}
	logf("starting flowlens serve")
	served, serveRSS, err := timeServe(ctx, self, dbDir, needle, *runs)
	if err != nil {
		return fmt.Errorf("through flowlens serve: %w", err)
	}

	// 6. The report, ready for docs/BENCHMARKS.md.
	w := env.Stdout
	perRec := func(b, n int64) float64 { return float64(b) / float64(max(n, 1)) }
	rate := func(n int64, d time.Duration) float64 { return float64(n) / max(d.Seconds(), 1e-9) }
	fmt.Fprintf(w, "Dataset %s: %d records, %d .log.gz files, %s compressed (%.1f B/record); %d CPUs, GOMAXPROCS %d, DuckDB memory limit %s; %s\n\n",
		name, isum.Records, len(gzFiles), humanBytes(gzBytes), perRec(gzBytes, isum.Records),
		runtime.NumCPU(), runtime.GOMAXPROCS(0), *memLimit, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintln(w, "| | ingest rec/s | ingest peak RSS | bytes/record on disk |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	flRate := rate(isum.Records, ingestElapsed)
	flBytes := perRec(fileBytes, isum.Records)
	fmt.Fprintf(w, "| flowlens (until queryable) | %s | %s | %.1f (used blocks: %.1f) |\n",
		humanCount(flRate), humanBytes(ingestRSS), flBytes, perRec(recordBytes, isum.Records))
	fmt.Fprintf(w, "| flowlens incl. sealing | %s | | |\n", humanCount(rate(isum.Records, ingestElapsed+seal.Elapsed)))
	bestRate, bestBytes := 0.0, 0.0
	for i, p := range peers {
		l := loads[i]
		r, b := rate(l.records, l.elapsed), perRec(l.bytes, l.records)
		bestRate = max(bestRate, r)
		if bestBytes == 0 || b < bestBytes {
			bestBytes = b
		}
		note := ""
		if l.note != "" {
			note = " (" + l.note + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.1f%s |\n", p.Name(), humanCount(r), humanBytes(l.peakRSS), b, note)
	}
	fmt.Fprintf(w, "| flowlens / best peer | %.2fx (incl. sealing %.2fx) | | %.2fx smaller |\n",
		flRate/bestRate, rate(isum.Records, ingestElapsed+seal.Elapsed)/bestRate, bestBytes/flBytes)
	for i, p := range stores {
		l := loads[len(peers)+i]
		r, b := rate(l.records, l.elapsed), perRec(l.bytes, l.records)
		fmt.Fprintf(w, "| %s (until queryable) | %s | %s | %.1f (%s) |\n", p.Name(), humanCount(r), humanBytes(l.peakRSS), b, l.note)
		fmt.Fprintf(w, "| %s / best peer | %.2fx | | %.2fx smaller |\n", p.Name(), r/bestRate, bestBytes/max(b, 1e-9))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Sealing (as `flowlens ingest` ends: the %d days that are over written into one sorted day file each, %d records, %d of them from %d hours held in the table; then the file compacted): %s, %s records/s.\n\n",
		seal.Days, seal.DayRecords, seal.Records, seal.Hours, fmtDur(seal.Elapsed), humanCount(rate(seal.DayRecords, seal.Elapsed)))

	fmt.Fprint(w, "| query | flowlens serve warm median | fresh `flowlens query` median | flowlens engine in process | peak RSS (fresh process)")
	for _, n := range peerNames {
		fmt.Fprintf(w, " | %s warm median", n)
	}
	fmt.Fprint(w, " | best peer / serve | best peer / fresh CLI")
	for _, p := range stores {
		fmt.Fprintf(w, " | best peer / %s", p.Name())
	}
	fmt.Fprintln(w, " | rows |")
	fmt.Fprint(w, "| --- | --- | --- | --- | ---")
	for range len(peerNames) + len(stores) {
		fmt.Fprint(w, " | ---")
	}
	fmt.Fprintln(w, " | --- | --- | --- |")
	for i, q := range qs {
		best := time.Duration(0)
		var cells []string
		for j := range all {
			d := peerT[i][j].median
			cells = append(cells, fmtDur(d))
			if j < len(peers) && (best == 0 || d < best) {
				best = d
			}
		}
		ratio := func(d time.Duration) string { return fmt.Sprintf("%.2fx", best.Seconds()/max(d.Seconds(), 1e-9)) }
		cells = append(cells, ratio(served[i]), ratio(cli[i].median))
		for j := range stores {
			cells = append(cells, ratio(peerT[i][len(peers)+j].median))
		}
		fmt.Fprintf(w, "| %s %s | %s | %s | %s | %s | %s | %d |\n", q.id, q.question,
			fmtDur(served[i]), fmtDur(cli[i].median), fmtDur(inproc[i].median), humanBytes(cli[i].peakRSS),
			strings.Join(cells, " | "), inproc[i].rows)
	}
	fmt.Fprintf(w, "\nQ7 address: %s. Ratios above 1 mean flowlens is faster. flowlens serve's peak RSS over its runs: %s. Peers: ", needle, humanBytes(serveRSS))
	for i, p := range all {
		if i > 0 {
			fmt.Fprint(w, "; ")
		}
		fmt.Fprintf(w, "%s peak RSS over the queries %s", p.Name(), humanBytes(peakOver(peerT, i)))
	}
	fmt.Fprintln(w, ".")
	return nil
}

// peakOver is the largest peak RSS of peer j over the queries.
func peakOver(t [][]benchTiming, j int) int64 {
	var m int64
	for _, row := range t {
		m = max(m, row[j].peakRSS)
	}
	return m
}

// duckdbTablePeer is a plain DuckDB table loaded with read_csv over the
// .log.gz files, attached to flowlens's own DuckDB instance (same memory
// limit and threads).
type duckdbTablePeer struct {
	st         *duckdb.Store
	path, glob string
}

func (p *duckdbTablePeer) Name() string { return "DuckDB table" }

func (p *duckdbTablePeer) Load(ctx context.Context, _ []string) (benchLoad, error) {
	var l benchLoad
	_ = os.Remove(p.path)
	_ = os.Remove(p.path + ".wal")
	if _, err := p.st.Query(ctx, "ATTACH '"+strings.ReplaceAll(p.path, "'", "''")+"' AS base"); err != nil {
		return l, fmt.Errorf("attach baseline: %w", err)
	}
	glob := strings.ReplaceAll(p.glob, "'", "''")
	resetPeakRSS()
	t0 := time.Now()
	load := `CREATE TABLE base.flows AS SELECT * FROM read_csv('` + glob + `', delim = ' ', header = true, nullstr = '-',
		columns = {'version': 'INTEGER', 'account_id': 'VARCHAR', 'interface_id': 'VARCHAR', 'srcaddr': 'VARCHAR',
		'dstaddr': 'VARCHAR', 'srcport': 'INTEGER', 'dstport': 'INTEGER', 'protocol': 'INTEGER', 'packets': 'BIGINT',
		'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT', 'action': 'VARCHAR', 'log_status': 'VARCHAR'})`
	if _, err := p.st.Query(ctx, load); err != nil {
		return l, fmt.Errorf("baseline load: %w", err)
	}
	if _, err := p.st.Query(ctx, "CHECKPOINT base"); err != nil {
		return l, fmt.Errorf("baseline checkpoint: %w", err)
	}
	l.elapsed = time.Since(t0)
	l.peakRSS = peakRSS()
	n, err := scalarInt(ctx, p.st, "SELECT count(*) FROM base.flows")
	if err != nil {
		return l, err
	}
	l.records, l.bytes = n, fileSize(p.path)
	l.note = "read_csv in flowlens's process"
	return l, nil
}

func (p *duckdbTablePeer) Query(ctx context.Context, id, needle string) (int, error) {
	for _, q := range benchQueries(needle) {
		if q.id == id {
			res, err := p.st.Query(ctx, q.baseline)
			if err != nil {
				return 0, err
			}
			return len(res.Rows), nil
		}
	}
	return 0, fmt.Errorf("no query %s", id)
}

func (p *duckdbTablePeer) PeakRSS() int64 { return peakRSS() }
func (p *duckdbTablePeer) ResetPeak()     { resetPeakRSS() }
func (p *duckdbTablePeer) Close() error   { return nil }

// timePeer runs question id on a peer once cold and runs more times warm.
func timePeer(ctx context.Context, p benchPeer, id, needle string, runs int) (benchTiming, error) {
	return timeQuery(ctx, querierFunc(func(ctx context.Context, _ string, _ ...any) (*store.Result, error) {
		n, err := p.Query(ctx, id, needle)
		if err != nil {
			return nil, err
		}
		return &store.Result{Rows: make([][]any, n)}, nil
	}), id, runs, p)
}

// timeCLI runs `flowlens query` in a new process runs+1 times; the median
// of the last runs and the largest peak RSS.
func timeCLI(ctx context.Context, self, data, q string, runs int) (benchTiming, error) {
	var t benchTiming
	var ds []time.Duration
	// The peak RSS comes from /usr/bin/time (a child's own rusage would
	// count this process's resident set, inherited through exec).
	timeBin, _ := exec.LookPath("time")
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		timeBin = "/usr/bin/time"
	}
	for i := 0; i <= runs; i++ {
		args := []string{"query", "--data", data, "--output", "csv", q}
		name := self
		if timeBin != "" {
			name, args = timeBin, append([]string{"-f", "maxrss %M", self}, args...)
		}
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Stdout = io.Discard
		var stderr strings.Builder
		cmd.Stderr = &stderr
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return t, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
		}
		d := time.Since(t0)
		if _, kb, ok := strings.Cut(stderr.String(), "maxrss "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(kb), 10, 64); err == nil {
				t.peakRSS = max(t.peakRSS, n*1024)
			}
		}
		if i == 0 {
			t.first = d
			continue
		}
		ds = append(ds, d)
	}
	slices.Sort(ds)
	t.median = ds[len(ds)/2]
	return t, nil
}

// timeServe starts `flowlens serve` on the database, runs Q1–Q7 through
// it one at a time (loadtest.Sequential: a first run, then runs warm) and
// stops it; it returns the warm medians and the server's peak RSS.
func timeServe(ctx context.Context, self, data, needle string, runs int) ([]time.Duration, int64, error) {
	ports, err := freeTCPPorts(1)
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.CommandContext(ctx, self, "serve", "--data", data, "--listen", fmt.Sprintf("127.0.0.1:%d", ports[0]), "--log-level", "warn")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	var cfg loadtest.Config
	deadline := time.Now().Add(60 * time.Second)
	for {
		info, ierr := readServeInfo(data)
		tok, terr := os.ReadFile(filepath.Join(data, serveTokenName))
		if ierr == nil && terr == nil && info.PID == cmd.Process.Pid {
			cfg.URL, cfg.Token = info.URL, strings.TrimSpace(string(tok))
			break
		}
		if time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("flowlens serve did not start: %s", strings.TrimSpace(stderr.String()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	cfg.Queries = loadtest.Workload(needle)
	st, err := loadtest.Sequential(ctx, cfg, runs)
	if err != nil {
		return nil, 0, err
	}
	out := make([]time.Duration, len(st))
	for i, s := range st {
		out[i] = s.P50
	}
	var rss int64
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
		rss = parseStatusKB(string(b), "VmHWM:")
	}
	return out, rss, nil
}

// timeQuery runs sql once cold and runs more times warm; it returns the
// first run, the warm median and the peak RSS over all runs.
func timeQuery(ctx context.Context, q store.Querier, sql string, runs int, peer ...benchPeer) (benchTiming, error) {
	var t benchTiming
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	for _, p := range peer {
		p.ResetPeak()
	}
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
	for _, p := range peer {
		t.peakRSS = p.PeakRSS()
	}
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
