package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/loadtest"
	"github.com/flowlens/flowlens/internal/store"
)

const loadtestExamples = `  flowlens loadtest --data ./bench-serve                 # the server that owns the folder, Q1–Q7, 50 clients, 60 s
  flowlens loadtest --url http://127.0.0.1:8080 --token-file tok --clients 10 --duration 10s
  flowlens loadtest --data D --sequential 5              # each query 5 times warm, one at a time
  flowlens loadtest --data D --async 3                   # each query 3 times as the console runs it: first rows, Complete

HTTP 429 answers (the server's --max-concurrent) are waited out as their
Retry-After says and counted as throttled, not as errors. With --data the
server's peak memory (VmHWM) is reported too. Exit status 1 when any query failed.
`

// runLoadtest drives a running server with concurrent clients.
func runLoadtest(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "loadtest", "loadtest (--data DIR | --url URL --token-file F) [--clients N] [--duration D] [--sequential RUNS | --async RUNS] [--needle ADDR] [--output table|json]", loadtestExamples)
	data := fs.String("data", "", "data `directory` of a running flowlens serve (its address and CLI token are read there)")
	url := fs.String("url", "", "server `URL` (with --token-file)")
	tokenFile := fs.String("token-file", "", "`file` holding an API token")
	clients := fs.Int("clients", 50, "concurrent clients")
	duration := fs.Duration("duration", 60*time.Second, "how long to run")
	sequential := fs.Int("sequential", 0, "instead: run each query this many `times` warm, one at a time (after one first run)")
	async := fs.Int("async", 0, "instead: run each query this many `times` one at a time through the asynchronous API (the console's path): time to the first rows and to Complete")
	needle := fs.String("needle", "", "Q7's address (default: a remote source with about 100 records, found through the API)")
	output := fs.String("output", "table", "table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := loadtest.Config{Clients: *clients, Duration: *duration}
	pid := 0
	switch {
	case *data != "" && *url == "":
		info, err := readServeInfo(*data)
		if err != nil || !serverOwns(*data) {
			return fmt.Errorf("no flowlens serve owns %s (start one with 'flowlens serve --data %s')", *data, *data)
		}
		tok, err := os.ReadFile(filepath.Join(*data, serveTokenName))
		if err != nil {
			return err
		}
		cfg.URL, cfg.Token, pid = info.URL, strings.TrimSpace(string(tok)), info.PID
	case *url != "" && *tokenFile != "":
		tok, err := os.ReadFile(*tokenFile)
		if err != nil {
			return err
		}
		cfg.URL, cfg.Token = *url, strings.TrimSpace(string(tok))
	default:
		return usageError("give --data DIR of a running server, or --url and --token-file")
	}
	if *output != "table" && *output != "json" {
		return usageError("--output is table or json")
	}
	if *needle == "" {
		n, err := findNeedle(ctx, cfg)
		if err != nil {
			return err
		}
		*needle = n
	}
	cfg.Queries = loadtest.Workload(*needle)
	if *async > 0 {
		st, err := loadtest.Async(ctx, cfg, *async)
		if err != nil {
			return err
		}
		if *output == "json" {
			return json.NewEncoder(env.Stdout).Encode(st)
		}
		res := &store.Result{Columns: []string{"query", "sliced", "slices", "first_rows_ms", "complete_ms"}}
		for _, s := range st {
			res.Rows = append(res.Rows, []any{s.Name, s.Sliced, int64(s.Slices), ms(s.FirstRows), ms(s.Complete)})
		}
		fmt.Fprintf(env.Stdout, "%s, each query %d times through POST /api/v1/queries, medians (Q7 address %s)\n", cfg.URL, *async, *needle)
		return writeResult(env.Stdout, "table", res)
	}
	if *sequential > 0 {
		st, err := loadtest.Sequential(ctx, cfg, *sequential)
		if err != nil {
			return err
		}
		if *output == "json" {
			return json.NewEncoder(env.Stdout).Encode(st)
		}
		res := &store.Result{Columns: []string{"query", "first_ms", "median_ms", "max_ms"}}
		for _, s := range st {
			res.Rows = append(res.Rows, []any{s.Name, ms(s.First), ms(s.P50), ms(s.Max)})
		}
		fmt.Fprintf(env.Stdout, "%s, each query once then %d warm runs (Q7 address %s)\n", cfg.URL, *sequential, *needle)
		return writeResult(env.Stdout, "table", res)
	}
	fmt.Fprintf(env.Stderr, "loadtest: %d clients for %s against %s (Q7 address %s)\n", cfg.Clients, cfg.Duration, cfg.URL, *needle)
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rss := ""
	if pid > 0 {
		rss = processPeakRSS(pid)
	}
	if *output == "json" {
		if err := json.NewEncoder(env.Stdout).Encode(struct {
			*loadtest.Report
			ServerPeakRSS string `json:"serverPeakRSS,omitempty"`
		}{rep, rss}); err != nil {
			return err
		}
	} else {
		res := &store.Result{Columns: []string{"query", "count", "errors", "throttled", "p50_ms", "p99_ms", "max_ms"}}
		for _, s := range append(rep.Queries, rep.Total) {
			res.Rows = append(res.Rows, []any{s.Name, int64(s.Count), int64(s.Errors), int64(s.Throttled), ms(s.P50), ms(s.P99), ms(s.Max)})
		}
		if err := writeResult(env.Stdout, "table", res); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%.1f queries/s over %s with %d clients", rep.PerSecond, rep.Duration.Round(time.Millisecond), rep.Clients)
		if rss != "" {
			fmt.Fprintf(env.Stdout, "; server peak RSS %s", rss)
		}
		fmt.Fprintln(env.Stdout)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(env.Stderr, "error: %s\n", e)
	}
	if rep.Total.Errors > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d queries failed", rep.Total.Errors, rep.Total.Errors+rep.Total.Count)}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// findNeedle asks the server for Q7's address: a remote source with about
// 100 records.
func findNeedle(ctx context.Context, cfg loadtest.Config) (string, error) {
	c := cfg
	c.Clients, c.Duration = 1, time.Minute
	var addr string
	err := loadtest.QueryRows(ctx, c, loadtest.Query{Language: "sql", Query: `SELECT srcaddr FROM flows WHERE srcaddr NOT LIKE '10.%'
		GROUP BY srcaddr HAVING count(*) BETWEEN 50 AND 200 ORDER BY abs(count(*) - 100), srcaddr LIMIT 1`}, func(row []any) {
		addr, _ = row[0].(string)
	})
	if err != nil {
		return "", fmt.Errorf("find Q7's address: %w", err)
	}
	if addr == "" {
		addr = "203.0.113.1"
	}
	return addr, nil
}

// processPeakRSS reads a process's high-water resident memory (Linux).
func processPeakRSS(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return ""
	}
	n := parseStatusKB(string(b), "VmHWM:") // bytes
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}
