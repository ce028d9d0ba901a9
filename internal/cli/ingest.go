package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/bucket"
	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/ingest"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/source"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

const ingestExamples = `  flowlens ingest ./AWSLogs                          # every .log.gz / Parquet / JSON file below
  flowlens ingest --dataset nat-gw nat/*.log.gz
  aws logs filter-log-events --log-group-name vpc | flowlens ingest -
  flowlens ingest --format '${version} ${srcaddr} ${dstaddr} ${action}' custom.log
  flowlens ingest --rejects rejects.jsonl --force ./AWSLogs
  flowlens ingest s3://my-flow-logs/AWSLogs/              # every object below the prefix
  flowlens ingest --since 2024-05-30 --until 2024-06-01 s3://my-flow-logs/
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 flowlens ingest s3://bucket/prefix/

S3 objects (text .log.gz with a header line, or Parquet; plain or
hive-compatible keys) are read with the AWS configuration: the environment
(AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_REGION…), the shared config files, or
the instance role. AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL name an
S3-compatible server (addressed path-style). Each object is stored once by
key + ETag: ingesting again stores nothing new. --since and --until select
objects by the time in their keys (since <= time < until; keys without a
time are then left out) and list only the date folders that can hold them.
An object that cannot be read is tried again with backoff, then reported
with its key and the reason.

Memory: an ingest keeps the Go heap under a soft limit of 512 MiB (896 MiB
into ClickHouse; a lower GOMEMLIMIT is kept) and, on the embedded store,
DuckDB under 400 MB, its
final sort of finished days included (it spills to the data directory past
that); a day of 20 M records peaks near 1 GB. A day whose sort fits in
memory under the store's own DuckDB limit (1 GB by default; up to ~3.4 M
records) is sorted under a limit sized for it (~260 B per record) instead.
A day whose sort still runs out of memory is sorted again once under the
store's own limit, with a warning.
`

// runIngest loads files, folders and standard input into the database.
func runIngest(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "ingest", "ingest [--data DIR] [--store URL] [--dataset NAME] [--format F] [--force] [--rejects FILE] [--since T] [--until T] PATH|s3://BUCKET/PREFIX/...", ingestExamples)
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	dataset := fs.String("dataset", duckdb.DefaultDataset, "dataset that receives the records")
	format := fs.String("format", "", "format of header-less text: a ${field} string or \"default\" (default: the file's header line, else the default format)")
	force := fs.Bool("force", false, "replace files that were ingested before")
	rejects := fs.String("rejects", "", "write each rejected line (file, line, field, reason, text) as JSON lines to `FILE`")
	workers := fs.Int("workers", 0, "files decoded in parallel (default: one per core)")
	sinceS := fs.String("since", "", "S3 only: objects whose key time is at or after `T` (2024-05-31, 2024-05-31T14:00:00Z, -2h)")
	untilS := fs.String("until", "", "S3 only: objects whose key time is before `T`")
	attempts := fs.Int("read-attempts", 4, "S3 only: reads of an object before it is reported as failed (waiting 1s, 2s, 4s… between them)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("name at least one file, folder, s3://bucket/prefix/ or - (standard input)")
	}
	local, urls, err := splitS3(fs.Args())
	if err != nil {
		return err
	}
	var rng bucket.Range
	now := time.Now().UTC()
	if *sinceS != "" {
		if rng.Since, err = query.ParseTime(*sinceS, now); err != nil {
			return usageError("--since: %v", err)
		}
	}
	if *untilS != "" {
		if rng.Until, err = query.ParseTime(*untilS, now); err != nil {
			return usageError("--until: %v", err)
		}
	}
	if (*sinceS != "" || *untilS != "") && len(urls) == 0 {
		return usageError("--since and --until select S3 objects by their keys: name an s3://bucket/prefix/")
	}
	if !rng.Since.IsZero() && !rng.Until.IsZero() && !rng.Until.After(rng.Since) {
		return usageError("--until (%s) is not after --since (%s)", rng.Until.Format(time.RFC3339), rng.Since.Format(time.RFC3339))
	}
	paths := make([]string, len(local))
	for i, p := range local {
		if p != "-" {
			p = env.abs(p)
		}
		paths[i] = p
	}
	*rejects = env.abs(*rejects)
	if err := duckdb.ValidDatasetName(*dataset); err != nil {
		return usageError("%v", err)
	}
	var fm *flowlog.Format
	switch *format {
	case "":
	case "default":
		fm = flowlog.DefaultFormat()
	default:
		f, err := flowlog.ParseFormat(*format)
		if err != nil {
			return usageError("--format: %v", err)
		}
		fm = f
	}
	var objects []source.File
	outOfRange := 0
	if len(urls) > 0 {
		if objects, outOfRange, err = listS3(ctx, env, urls, rng); err != nil {
			return err
		}
	}
	var rej io.Writer
	if *rejects != "" {
		f, err := os.Create(*rejects)
		if err != nil {
			return err
		}
		defer f.Close()
		rej = f
	}

	st, err := openStore(ctx, env, *data, *storeURL, false)
	if err != nil {
		return err
	}
	defer env.release(st)
	var filters *filtereval.Evaluator // the metric filters of a standalone ingest
	if env.shared == nil {
		stop, ev, err := ingestMetricFilters(ctx, *data, st, env.Logger)
		if err != nil {
			return err
		}
		defer stop()
		filters = ev
	}
	if fm == nil {
		// The column order declared with flowlens sql's CREATE EXTERNAL TABLE.
		if fm, err = st.DeclaredFormat(ctx, *dataset); err != nil {
			return err
		}
		if fm != nil {
			fmt.Fprintf(env.Stderr, "header-less text is read with the format declared for dataset %s: %s\n", *dataset, fm)
		}
	}

	restore, err := applyIngestMemory(ctx, st, env.Logger)
	if err != nil {
		return err
	}
	defer restore()

	bar := newProgress(env.Stderr, env.StderrIsTerminal)
	cfg := ingest.Config{
		Paths: paths, Objects: objects, FetchAttempts: *attempts, Dataset: *dataset, Format: fm, Force: *force, Workers: *workers,
		Rejects: rej, Stdin: env.Stdin, SpoolDir: filepath.Join(*data, "tmp"), Logger: env.Logger,
		Progress: func(p ingest.Progress) {
			bar.Update(progressState{Done: p.FilesDone, Total: p.Files, Bytes: p.BytesDone, BytesTotal: p.Bytes,
				Records: p.Records, Rejected: p.Rejected, Elapsed: p.Elapsed, Finished: p.Done})
		},
	}
	if !env.StderrIsTerminal {
		cfg.ProgressEvery = 10e9
	}
	sum, runErr := ingest.Run(ctx, cfg, st)
	if errors.Is(runErr, source.ErrNoInput) {
		if len(urls) > 0 && len(paths) == 0 {
			fmt.Fprintf(env.Stdout, "no S3 objects to ingest below %s", strings.Join(fs.Args(), " "))
			if outOfRange > 0 {
				fmt.Fprintf(env.Stdout, " (%d outside --since/--until)", outOfRange)
			}
			fmt.Fprintln(env.Stdout)
			return nil
		}
		return usageError("no files found in %s", strings.Join(fs.Args(), " "))
	}
	printIngestSummary(env.Stdout, sum, *rejects)
	env.countRejects("ingest", sum.Rejected)
	if *force && sum.Records > 0 {
		if err := env.refreshMetricFilters(ctx, st, filters, *data, sum.Dataset, sum.MinTime, sum.MaxTime); err != nil {
			return fmt.Errorf("recompute the metric filters over the replaced records: %w", err)
		}
	}
	if outOfRange > 0 {
		fmt.Fprintf(env.Stdout, "left out %d listed S3 object%s whose key time is outside --since/--until (older date folders are not listed)\n", outOfRange, plural(outOfRange))
	}
	if d := embedded(st); runErr == nil && d != nil {
		if _, err := sealIngested(ctx, d); err != nil {
			return err
		}
	}
	if runErr == nil {
		if ds, err := st.Datasets(ctx); err == nil {
			for _, d := range ds {
				if d.Name == *dataset {
					fmt.Fprintf(env.Stdout, "dataset %s now holds %d records from %d files (%s on disk)\n",
						d.Name, d.Records, d.Files, humanBytes(d.Bytes))
				}
			}
		}
	}
	if runErr != nil {
		return runErr
	}
	if sum.Failed > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d file(s) could not be ingested", sum.Failed)}
	}
	return nil
}

// applyIngestMemory sets the memory settings of a bulk ingest into st
// (`flowlens ingest`, and `flowlens bench`'s ingest, which measures the
// same path) and returns the function that restores the previous ones.
// They hold until restore, so for the Seal that ends an ingest too.
//
// Bulk loads keep garbage short-lived: a lower GC target halves the peak
// memory for a few percent of CPU, and a soft limit on the Go heap keeps
// the garbage of the decoded records from adding to the peak when the
// live heap is large (docs/BENCHMARKS.md, issue #18 step 15: 1.55 → 1.26
// GB at the same CPU on day-20m). On the embedded store, DuckDB's own
// memory stays under a lower limit for the whole ingest: its day sort
// spills to disk past it at about the same CPU (Seal's peak 1.42 → 0.80
// GB on day-20m), and the commits then leave more room to the decoded
// records (step 16).
func applyIngestMemory(ctx context.Context, st store.Backend, logger *slog.Logger) (restore func(), err error) {
	d := embedded(st)
	oldGC := debug.SetGCPercent(50)
	oldLimit := debug.SetMemoryLimit(-1)
	if d != nil {
		debug.SetMemoryLimit(min(oldLimit, ingestGoMemoryLimit))
	} else {
		// Into ClickHouse the live heap (two groups of decoded records
		// and the INSERT blocks being built) is close to the embedded
		// store's limit, and a heap at the limit is collected over and
		// over (day-20m: 120 instead of 28 core-seconds of flowlens's
		// process, docs/BENCHMARKS.md).
		debug.SetMemoryLimit(min(oldLimit, ingestGoMemoryLimitClickHouse))
	}
	restoreGo := func() {
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(oldGC)
	}
	if d == nil {
		return restoreGo, nil
	}
	restoreDuck, err := d.LimitMemory(ctx, ingestDuckDBMemoryLimit)
	if err != nil {
		restoreGo()
		return nil, err
	}
	return func() {
		if err := restoreDuck(); err != nil {
			logger.Warn("reset the memory limit", "err", err)
		}
		restoreGo()
	}, nil
}

// sealIngested ends an ingest into the embedded store (with the settings
// of applyIngestMemory still in force): the hours and days that are over
// are rewritten once as sorted runs (smaller, and address lookups prune to
// a few row groups), by Seal without a lock, as the ingest has the store
// to itself. The decoded records are garbage by now: their heap goes back
// to the system before DuckDB sorts the days (else the peak memory is
// both).
func sealIngested(ctx context.Context, d *duckdb.Store) (duckdb.SealStats, error) {
	debug.FreeOSMemory()
	return d.Seal(ctx, nil)
}

// ingestGoMemoryLimit is the soft limit of the Go heap during an ingest
// (debug.SetMemoryLimit; a lower GOMEMLIMIT is kept), and
// ingestDuckDBMemoryLimit DuckDB's memory limit during an ingest into the
// embedded store, its Seal included (see docs/BENCHMARKS.md, issue #18
// steps 15 and 16).
const (
	ingestGoMemoryLimit = 512 << 20
	// ingestGoMemoryLimitClickHouse is the Go heap's soft limit during an
	// ingest into ClickHouse (which keeps no memory in this process).
	ingestGoMemoryLimitClickHouse = 896 << 20
	ingestDuckDBMemoryLimit       = "400MB"
)

func printIngestSummary(w io.Writer, s ingest.Summary, rejects string) {
	secs := s.Elapsed.Seconds()
	rate := ""
	if secs > 0 && s.Records > 0 {
		rate = fmt.Sprintf(" (%s records/s, %.1f MB/s)", humanCount(float64(s.Records)/secs), float64(s.InputBytes)/secs/1e6)
	}
	fmt.Fprintf(w, "ingested %d file%s into dataset %s: %d records in %s%s\n",
		s.Files, plural(s.Files), s.Dataset, s.Records, formatDuration(s.Elapsed), rate)
	if s.Skipped > 0 {
		fmt.Fprintf(w, "skipped %d file%s already ingested (use --force to replace):", s.Skipped, plural(s.Skipped))
		for i, p := range s.SkippedPaths {
			if i == 3 {
				fmt.Fprintf(w, " …")
				break
			}
			fmt.Fprintf(w, " %s", p)
		}
		fmt.Fprintln(w)
	}
	if n := len(s.NotFlowLogs); n > 0 {
		fmt.Fprintf(w, "skipped %d file%s holding no flow logs:", n, plural(n))
		for i, p := range s.NotFlowLogs {
			if i == 3 {
				fmt.Fprintf(w, " …")
				break
			}
			fmt.Fprintf(w, " %s", p)
		}
		fmt.Fprintln(w)
	}
	if n := len(s.UnknownFields); n > 0 {
		fmt.Fprintf(w, "not stored: %d field%s the flow log catalog does not define: %s\n", n, plural(n), strings.Join(s.UnknownFields, ", "))
	}
	if !s.MinTime.IsZero() {
		fmt.Fprintf(w, "time range: %s – %s UTC\n", s.MinTime.Format("2006-01-02 15:04:05"), s.MaxTime.Format("2006-01-02 15:04:05"))
	}
	if len(s.Containers) > 0 {
		var parts []string
		for c, n := range s.Containers {
			parts = append(parts, fmt.Sprintf("%s %d", c, n))
		}
		sortStrings(parts)
		fmt.Fprintf(w, "containers: %s\n", strings.Join(parts, ", "))
	}
	if s.Warnings > 0 {
		fmt.Fprintf(w, "kept %d record%s with a warning (stored as written):\n", s.Warnings, plural(int(s.Warnings)))
		for _, r := range s.WarningReasons {
			fmt.Fprintf(w, "  %8d  %s\n", r.Count, r.Reason)
			for _, ex := range r.Examples {
				fmt.Fprintf(w, "            e.g. %s\n", ex)
			}
		}
	}
	if s.Rejected > 0 {
		fmt.Fprintf(w, "rejected %d line%s:\n", s.Rejected, plural(int(s.Rejected)))
		for _, r := range s.Reasons {
			fmt.Fprintf(w, "  %8d  %s\n", r.Count, r.Reason)
			for _, ex := range r.Examples {
				fmt.Fprintf(w, "            e.g. %s\n", ex)
			}
		}
		if rejects != "" {
			fmt.Fprintf(w, "rejected lines written to %s\n", rejects)
		} else {
			fmt.Fprintln(w, "keep them with --rejects FILE")
		}
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "failed: %v\n", e.Err)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
