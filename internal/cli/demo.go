package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/generate"
	"github.com/flowlens/flowlens/internal/ingest"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/termchart"
)

const demoExamples = `  flowlens demo                        # a realistic day for 300 interfaces, into ./flowlens-demo
  flowlens demo --records 300000       # a smaller day, faster
  flowlens demo --dir /var/tmp/fl      # somewhere else
  flowlens demo --store clickhouse://127.0.0.1:9000/flowlens_demo   # the records into ClickHouse
`

// demoSection is one question of the demo report.
type demoSection struct {
	title string
	query string
	// bar names the column drawn as a bar; cols are printed in order.
	bar  string
	cols []string
}

// demoSections are the questions a network engineer asks first.
var demoSections = []demoSection{
	{
		title: "Top talkers (bytes by source and destination)",
		query: `filter logStatus = "OK" | stats sum(bytes) as bytes, sum(packets) as packets by srcAddr, dstAddr | sort bytes desc | limit 10`,
		bar:   "bytes", cols: []string{"srcAddr", "dstAddr", "bytes", "packets"},
	},
	{
		title: "Rejected traffic by source (security groups and network ACLs)",
		query: `filter action = "REJECT" | stats count(*) as rejects, count_distinct(dstPort) as ports, count_distinct(dstAddr) as targets by srcAddr | sort rejects desc | limit 10`,
		bar:   "rejects", cols: []string{"srcAddr", "rejects", "ports", "targets"},
	},
	{
		title: "SSH (22) and RDP (3389) attempts",
		query: `filter dstPort = 22 or dstPort = 3389 | stats count(*) as attempts, sum(action = "REJECT") as rejected by srcAddr, dstPort | sort attempts desc | limit 10`,
		bar:   "attempts", cols: []string{"srcAddr", "dstPort", "attempts", "rejected"},
	},
	{
		title: "Port scanners (distinct ports or hosts probed, rejected probes)",
		query: `filter action = "REJECT" | stats count_distinct(dstPort) as ports, count_distinct(dstAddr) as hosts, count(*) as probes by srcAddr | filter ports >= 20 or hosts >= 20 | sort ports desc | limit 10`,
		bar:   "ports", cols: []string{"srcAddr", "ports", "hosts", "probes"},
	},
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "demo", "demo [--dir DIR] [--store URL] [--records N] [--seed S]", demoExamples)
	dir := fs.String("dir", "flowlens-demo", "`directory` for the generated flow logs and the database (kept, so you can explore it afterwards)")
	records := fs.Int64("records", 0, "number of `records` to generate (default: the demo preset's 1.5 M)")
	seed := fs.Int64("seed", 0, "random `seed` (default: the preset's; the same seed gives the same day)")
	storeURL := storeFlag(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("demo takes no arguments")
	}
	out := env.Stdout
	cfg, err := generate.Preset("demo")
	if err != nil {
		return err
	}
	if *records > 0 {
		cfg.Records = *records
	}
	if *seed != 0 {
		cfg.Seed = *seed
	}
	logsDir := filepath.Join(*dir, "logs")
	dbDir := filepath.Join(*dir, "db")
	for _, d := range []string{logsDir, dbDir} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("clear %s: %w", d, err)
		}
	}
	cfg.Out = logsDir
	cfg.Truth = filepath.Join(*dir, "truth.json")
	cfg.Inventory = filepath.Join(*dir, "inventory.json")

	// 1. Generate.
	fmt.Fprintf(out, "flowlens demo: a day of VPC flow logs for %d network interfaces in %d accounts, with attacks mixed in\n\n",
		cfg.ENIs, len(cfg.Accounts))
	fmt.Fprintf(out, "1/3 Generating %s records (S3 layout, .log.gz, version 5 format) into %s\n", humanCount(float64(cfg.Records)), logsDir)
	gbar := newProgress(env.Stderr, env.StderrIsTerminal)
	cfg.Progress = func(p generate.Progress) {
		if env.StderrIsTerminal {
			gbar.Update(progressState{Done: p.Files, Total: p.TotalFiles, Records: p.Records, Bytes: p.OutputBytes,
				Elapsed: p.Elapsed, Finished: p.Files == p.TotalFiles})
		}
	}
	gsum, err := generate.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Fprintf(out, "    %s records in %d files, %s, in %s\n\n", humanCount(float64(gsum.Records)), gsum.Files, humanBytes(gsum.OutputBytes), formatDuration(gsum.Elapsed))

	// 2. Ingest.
	where := "the embedded database " + dbDir
	if isExternal(*storeURL) {
		where = redact(*storeURL)
	}
	fmt.Fprintf(out, "2/3 Ingesting them into %s\n", where)
	st, err := openStore(ctx, env, dbDir, *storeURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	// A store outside the demo folder may hold an earlier demo and other
	// datasets: the demo dataset starts empty (its files are ingested
	// again) and the report reads it alone.
	var only []string
	if isExternal(*storeURL) {
		only = []string{"demo"}
		if _, err := st.DropBefore(ctx, "demo", time.Now().AddDate(100, 0, 0)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	ibar := newProgress(env.Stderr, env.StderrIsTerminal)
	icfg := ingest.Config{Paths: []string{logsDir}, Dataset: "demo", Logger: env.Logger, Force: isExternal(*storeURL),
		Progress: func(p ingest.Progress) {
			ibar.Update(progressState{Done: p.FilesDone, Total: p.Files, Bytes: p.BytesDone, BytesTotal: p.Bytes,
				Records: p.Records, Rejected: p.Rejected, Elapsed: p.Elapsed, Finished: p.Done})
		}}
	if !env.StderrIsTerminal {
		icfg.ProgressEvery = 5 * time.Second
	}
	isum, err := ingest.Run(ctx, icfg, st)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	fmt.Fprintf(out, "    %s records from %d files in %s (%s records/s), %d rejected lines\n\n",
		humanCount(float64(isum.Records)), isum.Files, formatDuration(isum.Elapsed),
		humanCount(float64(isum.Records)/max(isum.Elapsed.Seconds(), 1e-9)), isum.Rejected)

	// 3. Report.
	fmt.Fprintf(out, "3/3 What happened on this network (%s to %s UTC)\n",
		isum.MinTime.UTC().Format("2006-01-02 15:04"), isum.MaxTime.UTC().Format("2006-01-02 15:04"))
	eng := newEngine(query.Config{}, st)
	for _, sec := range demoSections {
		res, _, err := eng.Run(ctx, query.Request{Query: sec.query, Datasets: only})
		if err != nil {
			return fmt.Errorf("%s: %w", sec.title, err)
		}
		fmt.Fprintf(out, "\n── %s\n   flowlens query '%s'\n\n", sec.title, sec.query)
		writeBarTable(out, res, sec.cols, sec.bar)
	}
	if err := demoTimeChart(ctx, out, eng, only); err != nil {
		return err
	}
	if gsum.Truth != nil {
		demoTruth(out, gsum.Truth)
	}
	loc := "--data " + dbDir
	if isExternal(*storeURL) {
		loc = "--store " + redact(*storeURL)
	}
	fmt.Fprintf(out, `
Next steps
  Explore this day:     %[2]s query %[1]s 'filter dstPort = 443 | stats sum(bytes) as b by bin(1h)'
                        %[2]s sql %[1]s 'SELECT action, count(*) FROM flows GROUP BY 1'
                        %[2]s datasets %[1]s
  Your own flow logs:   aws s3 sync s3://YOUR-BUCKET/AWSLogs/ ./AWSLogs/ && %[2]s ingest ./AWSLogs
  From CloudWatch Logs: aws logs get-log-events --log-group-name G --log-stream-name eni-…-all > eni.json && %[2]s ingest eni.json
  What flowlens makes of a line: echo '2 123456789012 eni-0a1b2c3d 10.0.1.5 10.0.2.9 443 49152 6 10 840 1717171200 1717171260 ACCEPT OK' | %[2]s decode
`, loc, env.program())
	return nil
}

// demoTimeChart draws bytes over time, accepted and rejected together.
func demoTimeChart(ctx context.Context, out io.Writer, eng *query.Engine, datasets []string) error {
	q := `stats sum(bytes) as bytes by bin(15m)`
	res, _, err := eng.Run(ctx, query.Request{Query: q, Datasets: datasets})
	if err != nil {
		return fmt.Errorf("bytes over time: %w", err)
	}
	fmt.Fprintf(out, "\n── Bytes over time (15-minute bins)\n   flowlens query '%s'\n\n", q)
	ti, vi := colIndex(res, "bin(15m)"), colIndex(res, "bytes")
	if ti < 0 {
		ti = 0
	}
	if vi < 0 {
		vi = len(res.Columns) - 1
	}
	var series []termchart.Point
	for _, row := range res.Rows {
		t, ok := asTime(row[ti])
		if !ok {
			continue
		}
		series = append(series, termchart.Point{T: t, V: asFloat(row[vi])})
	}
	sortPoints(series)
	return termchart.Columns(out, series, 96, 8, "B")
}

func demoTruth(out io.Writer, t *generate.Truth) {
	byKind := map[generate.ScenarioKind][]string{}
	var kinds []generate.ScenarioKind
	for _, s := range t.Scenarios {
		if _, ok := byKind[s.Kind]; !ok {
			kinds = append(kinds, s.Kind)
		}
		desc := s.Source
		switch {
		case s.Port > 0:
			desc += " → port " + strconv.Itoa(s.Port)
		case s.Ports > 0:
			desc += fmt.Sprintf(" → %d ports", s.Ports)
		case s.External != "":
			desc += " → " + s.External + " (" + termchart.HumanBytes(float64(s.Transferred)) + ")"
		}
		byKind[s.Kind] = append(byKind[s.Kind], desc)
	}
	fmt.Fprintln(out, "\n── What the generator injected (ground truth, from truth.json): compare with the tables above")
	for _, k := range kinds {
		fmt.Fprintf(out, "   %-16s %s\n", k, strings.Join(byKind[k], ", "))
	}
}

// writeBarTable prints the named columns of res with a bar for one of them.
func writeBarTable(w io.Writer, res *store.Result, cols []string, bar string) {
	if len(res.Rows) == 0 {
		fmt.Fprintln(w, "   (nothing)")
		return
	}
	idx := make([]int, 0, len(cols))
	for _, c := range cols {
		if i := colIndex(res, c); i >= 0 {
			idx = append(idx, i)
		}
	}
	bi := colIndex(res, bar)
	maxV := 0.0
	for _, row := range res.Rows {
		if bi >= 0 {
			maxV = max(maxV, asFloat(row[bi]))
		}
	}
	cells := make([][]string, len(res.Rows)+1)
	widths := make([]int, len(idx))
	for j, i := range idx {
		cells[0] = append(cells[0], res.Columns[i])
		widths[j] = len(res.Columns[i])
	}
	for r, row := range res.Rows {
		for j, i := range idx {
			s := demoCell(res.Columns[i], row[i])
			cells[r+1] = append(cells[r+1], s)
			widths[j] = max(widths[j], len(s))
		}
	}
	for r, line := range cells {
		var b strings.Builder
		b.WriteString("   ")
		for j, s := range line {
			if isNumeric(res.Rows, idx[j]) {
				fmt.Fprintf(&b, "%*s  ", widths[j], s)
			} else {
				fmt.Fprintf(&b, "%-*s  ", widths[j], s)
			}
		}
		if r > 0 && bi >= 0 {
			b.WriteString(termchart.Bar(asFloat(res.Rows[r-1][bi]), maxV, 24))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func demoCell(col string, v any) string {
	if v == nil {
		return "-"
	}
	if col == "bytes" {
		return termchart.HumanBytes(asFloat(v))
	}
	return textValue(v)
}

func colIndex(res *store.Result, name string) int {
	for i, c := range res.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

func isNumeric(rows [][]any, i int) bool {
	for _, r := range rows {
		switch r[i].(type) {
		case nil:
		case int64, int32, int, float64, uint64, uint32:
			return true
		default:
			return false
		}
	}
	return false
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case int:
		return float64(x)
	case uint64:
		return float64(x)
	case uint32:
		return float64(x)
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.000", time.RFC3339, "2006-01-02 15:04:05"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, true
			}
		}
	case int64:
		return time.Unix(x, 0).UTC(), true
	}
	return time.Time{}, false
}

func sortPoints(p []termchart.Point) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j].T.Before(p[j-1].T); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}
