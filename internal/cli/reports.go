package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/report"
	"github.com/flowlens/flowlens/internal/s3"
	"github.com/flowlens/flowlens/internal/sched"
	"github.com/flowlens/flowlens/internal/store"
)

const reportsExamples = `  flowlens reports add nat-top100 --dataset nat-gw --sql-file top100.sql --table nat_flowlog_table \
      --schedule '0 2 * * *' --window 1d --format csv --out ./archive
  flowlens reports add rejects --dataset prod --query-file rejects.insights --schedule 'CRON_TZ=Europe/Paris 30 6 * * *' --out ./daily
  flowlens reports list
  flowlens reports run nat-top100                      # yesterday's window, now
  flowlens reports run nat-top100 --for 2026-12-05 --out ./check
  flowlens reports run nat-top100 --for 2026-12-05 --out s3://my-archive/nat/
  flowlens reports history nat-top100
  flowlens reports delete rejects

A report's query has no date clause: a run sees only its window's data. For
SQL (--sql-file) the flows view, the dataset's view, vpc_flow_logs and the
--table names hold the dataset's records of the window; for Logs Insights
(--query-file) the window is the query's time range. A run at T covers the
--window that ends where T's day starts (in the schedule's time zone,
CRON_TZ=…, default UTC): a nightly run writes yesterday's file
NAME-YYYY-MM-DD.FORMAT into --out. CSV has a header row and RFC 4180 quoting
(CRLF line ends); a window without data gives the header alone.
--out s3://bucket/prefix/ puts the file as the object
prefix/NAME-YYYY-MM-DD.FORMAT, with the AWS configuration of 'flowlens ingest
s3://…' (AWS_PROFILE, AWS_ENDPOINT_URL_S3…; the server's own when it runs a
scheduled report).

While 'flowlens serve' owns the folder it runs the reports on their schedules
(see 'flowlens jobs'), and these commands go to it.
`

// runReports manages and runs scheduled reports.
func runReports(ctx context.Context, env *Env, args []string) error {
	// A forwarded command names the folder first: reports --data DIR run …
	if len(args) >= 3 && (args[0] == "--data" || args[0] == "-data") {
		args = append([]string{args[2], args[0], args[1]}, args[3:]...)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stdout, "Usage: flowlens reports add|list|delete|history|run [flags]\n\nExamples:\n%s", reportsExamples)
		if len(args) == 0 {
			return usageError("give a subcommand: add, list, delete, history or run")
		}
		return nil
	}
	switch args[0] {
	case "add":
		return reportsAdd(ctx, env, args[1:])
	case "list":
		return reportsList(ctx, env, args[1:])
	case "delete":
		return reportsDelete(ctx, env, args[1:])
	case "history":
		return reportsHistory(ctx, env, args[1:])
	case "run":
		return reportsRun(ctx, env, args[1:])
	}
	return usageError("unknown subcommand %q: add, list, delete, history or run", args[0])
}

// absPath resolves a path of the command line (the client's, when the
// server runs the command).
func (e *Env) absPath(p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "s3://") {
		return p, nil
	}
	if e.Dir != "" {
		return e.abs(p), nil
	}
	return filepath.Abs(p)
}

// splitArgs puts the positional arguments after the flags, so that
// "add NAME --flag" parses like "add --flag NAME".
func splitArgs(args []string, boolFlags map[string]bool) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !boolFlags[name] && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func reportsAdd(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "reports add", "reports add [--data DIR] [--store URL] NAME --dataset DS (--sql-file F | --query-file F) --schedule CRON [--window 1d] [--format csv|json|parquet] --out DIR|s3://BUCKET/PREFIX/ [--table NAME]... [--webhook URL] [--replace]", reportsExamples)
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	dataset := fs.String("dataset", "", "the `dataset` the report reads")
	sqlFile := fs.String("sql-file", "", "the report's SQL (one SELECT over flows, no date clause) from `file`")
	queryFile := fs.String("query-file", "", "the report's Logs Insights query from `file`")
	schedule := fs.String("schedule", "", "when it runs: a cron expression (\"0 2 * * *\"; \"CRON_TZ=Europe/Paris 0 2 * * *\"; @daily; EventBridge's \"cron(0 2 * * ? *)\")")
	window := fs.String("window", "1d", "how much data a run sees, ending where the run's day starts: 1d, 7d, 6h")
	format := fs.String("format", "csv", "output format: csv, json or parquet")
	out := fs.String("out", "", "output `folder` (or s3://bucket/prefix)")
	var tables stringList
	fs.Var(&tables, "table", "another `name` the SQL may read the window's data under (the Athena table of the text; repeatable)")
	webhook := fs.String("webhook", "", "POST a JSON note to this `URL` when a run has written its file")
	replace := fs.Bool("replace", false, "replace a report of the same name")
	if err := parseFlags(fs, splitArgs(args, map[string]bool{"replace": true})); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("give the report's NAME (once)")
	}
	if (*sqlFile == "") == (*queryFile == "") {
		return usageError("give --sql-file FILE or --query-file FILE")
	}
	if *schedule == "" {
		return usageError("give --schedule CRON (e.g. '0 2 * * *' for 02:00 UTC every day)")
	}
	if _, err := sched.ParseSchedule(*schedule); err != nil {
		return usageError("--schedule: %v", err)
	}
	if _, err := sched.Location(*schedule); err != nil {
		return usageError("--schedule: %v", err)
	}
	d := report.Definition{Name: fs.Arg(0), Dataset: *dataset, Schedule: *schedule, Window: *window, Format: *format,
		Tables: tables, Webhook: *webhook, Created: time.Now().UTC()}
	src := *sqlFile
	d.Language = report.SQL
	if src == "" {
		src, d.Language = *queryFile, report.Insights
	}
	src, err := env.absPath(src)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read the report's query: %w", err)
	}
	d.Query, d.Source = string(b), src
	if d.Out, err = env.absPath(*out); err != nil {
		return err
	}
	if s3.IsURL(d.Out) {
		if _, err := s3.ParseURL(d.Out); err != nil {
			return usageError("--out: %v", err)
		}
	}
	if err := d.Check(); err != nil {
		return usageError("%v", err)
	}
	// Check the text now: a mistake is reported with its file and line.
	if d.Language == report.Insights {
		if _, err := syntax.Parse(d.Query); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("%s: %s", src, syntax.Detail(err))}
		}
	} else if _, err := reportStatement(ctx, nil, d.Query); err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("%s: %v", src, err)}
	}
	dir := env.abs(*data)
	// The dataset must exist when the store can say.
	if st, err := openStore(ctx, env, dir, *storeURL, true); err == nil {
		ds, derr := st.Datasets(ctx)
		env.release(st)
		if derr == nil && !hasDataset(ds, d.Dataset) {
			return fmt.Errorf("dataset %s: %w (see 'flowlens datasets')", d.Dataset, store.ErrNotFound)
		}
	}
	defs, err := report.Load(dir)
	if err != nil {
		return err
	}
	for i, x := range defs {
		if x.Name == d.Name {
			if !*replace {
				return fmt.Errorf("report %s exists (add --replace to replace it)", d.Name)
			}
			defs = append(defs[:i], defs[i+1:]...)
			break
		}
	}
	if err := report.Save(dir, append(defs, d)); err != nil {
		return err
	}
	next := ""
	if s, err := sched.ParseSchedule(d.Schedule); err == nil {
		next = s.Next(time.Now()).UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(env.Stdout, "report %s: %s of dataset %s, window %s, %s to %s; next run %s\n", d.Name, d.Language, d.Dataset, d.Window, d.Format, d.Out, next)
	return nil
}

func hasDataset(ds []store.Dataset, name string) bool {
	for _, d := range ds {
		if d.Name == name {
			return true
		}
	}
	return false
}

func reportsList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "reports list", "reports list [--data DIR] [--output table|csv|json|jsonl]", reportsExamples)
	data := dataFlag(fs, env)
	output := fs.String("output", "table", "result format: table, csv, json or jsonl")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutputFormat(*output); err != nil {
		return err
	}
	defs, err := report.Load(env.abs(*data))
	if err != nil {
		return err
	}
	res := &store.Result{Columns: []string{"name", "dataset", "language", "schedule", "window", "format", "out", "source"}}
	for _, d := range defs {
		res.Rows = append(res.Rows, []any{d.Name, d.Dataset, d.Language, d.Schedule, d.Window, d.Format, d.Out, d.Source})
	}
	return writeResult(env.Stdout, *output, res)
}

func reportsDelete(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "reports delete", "reports delete [--data DIR] NAME", reportsExamples)
	data := dataFlag(fs, env)
	if err := parseFlags(fs, splitArgs(args, nil)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("give the report's NAME")
	}
	dir := env.abs(*data)
	defs, err := report.Load(dir)
	if err != nil {
		return err
	}
	if _, err := report.Find(defs, fs.Arg(0)); err != nil {
		return err
	}
	var keep []report.Definition
	for _, d := range defs {
		if d.Name != fs.Arg(0) {
			keep = append(keep, d)
		}
	}
	if err := report.Save(dir, keep); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "report %s deleted (its files and history stay)\n", fs.Arg(0))
	return nil
}

func reportsHistory(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "reports history", "reports history [--data DIR] [NAME] [--limit N] [--output table|csv|json|jsonl]", reportsExamples)
	data := dataFlag(fs, env)
	limit := fs.Int("limit", 20, "show at most this many runs (0: all)")
	output := fs.String("output", "table", "result format: table, csv, json or jsonl")
	if err := parseFlags(fs, splitArgs(args, nil)); err != nil {
		return err
	}
	if err := checkOutputFormat(*output); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageError("give at most one report NAME")
	}
	dir := env.abs(*data)
	runs, err := sched.History(dir, "", 0)
	if err != nil {
		return err
	}
	var out []sched.Run
	for _, r := range runs {
		if !strings.HasPrefix(r.Job, "report:") || (fs.NArg() == 1 && r.Job != report.JobName(fs.Arg(0))) {
			continue
		}
		out = append(out, r)
		if *limit > 0 && len(out) == *limit {
			break
		}
	}
	return writeRuns(env, *output, out)
}

// reportsRun runs one report now, for the window that starts on --for
// (default: the window the schedule would run now, yesterday for 1d).
func reportsRun(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "reports run", "reports run [--data DIR] [--store URL] NAME [--for YYYY-MM-DD] [--out DIR]", reportsExamples)
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	forDay := fs.String("for", "", "the `day` the window starts (YYYY-MM-DD, in the schedule's time zone; YYYY-MM-DDTHH for an hour window; default: the window a run now would cover, yesterday for 1d)")
	out := fs.String("out", "", "write into this `folder` (or s3://bucket/prefix/) instead of the report's --out")
	if err := parseFlags(fs, splitArgs(args, nil)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("give the report's NAME")
	}
	dir := env.abs(*data)
	defs, err := report.Load(dir)
	if err != nil {
		return err
	}
	d, err := report.Find(defs, fs.Arg(0))
	if err != nil {
		return err
	}
	loc, err := sched.Location(d.Schedule)
	if err != nil {
		return err
	}
	var start, end time.Time
	if *forDay != "" {
		start, end, err = report.WindowFrom(d.Window, *forDay, loc)
	} else {
		start, end, err = report.Window(d.Window, time.Now(), loc)
	}
	if err != nil {
		return usageError("%v", err)
	}
	outDir, err := env.absPath(*out)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, env, dir, *storeURL, true)
	if err != nil {
		return err
	}
	defer env.release(st)
	job := sched.Job{Name: report.JobName(d.Name), Schedule: d.Schedule, Run: func(ctx context.Context, _ time.Time) (sched.Outcome, error) {
		return runReport(ctx, st, dir, d, start, end, outDir, env.awsGetenv(), env.Logger)
	}}
	var run sched.Run
	if env.shared != nil && env.shared.jobs != nil {
		// Inside the server: through its scheduler, one run at a time.
		run, err = env.shared.jobs.RunJob(ctx, job, start)
		if errors.Is(err, sched.ErrRunning) {
			return err
		}
	} else {
		began := time.Now()
		o, rerr := job.Run(ctx, start)
		run = sched.Run{Job: job.Name, Trigger: "cli", Status: sched.StatusOK, Scheduled: start, Started: began.UTC(),
			Finished: time.Now().UTC(), Rows: o.Rows, Output: o.Output, Detail: o.Detail}
		run.DurationMS = run.Finished.Sub(began).Milliseconds()
		if rerr != nil {
			run.Status, run.Error = sched.StatusFailed, rerr.Error()
		}
		if err := sched.Record(dir, 0, run); err != nil {
			env.Logger.Warn("record the run in the job history", "err", err)
		}
		err = rerr
	}
	if err != nil || run.Status == sched.StatusFailed {
		if err == nil {
			err = errors.New(run.Error)
		}
		return fmt.Errorf("report %s for %s: %w", d.Name, report.Label(d.Window, start), err)
	}
	fmt.Fprintf(env.Stdout, "report %s: %d row%s to %s (%d ms)\n", d.Name, run.Rows, plural(int(run.Rows)), run.Output, run.DurationMS)
	return nil
}

const jobsExamples = `  flowlens jobs                       # the jobs and their last runs
  flowlens jobs --history --limit 50  # the job history, newest first
  flowlens jobs --history --job retention --output json
`

// runJobs shows the server's jobs and their history.
func runJobs(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "jobs", "jobs [--data DIR] [--history] [--job NAME] [--limit N] [--output table|csv|json|jsonl]", jobsExamples)
	data := dataFlag(fs, env)
	history := fs.Bool("history", false, "show the history of runs instead of the jobs")
	job := fs.String("job", "", "only this job (retention, seal, report:NAME)")
	limit := fs.Int("limit", 20, "with --history, at most this many runs (0: all)")
	output := fs.String("output", "table", "result format: table, csv, json or jsonl")
	retSched := fs.String("retention-schedule", "0 * * * *", "the retention schedule to show when no server runs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutputFormat(*output); err != nil {
		return err
	}
	dir := env.abs(*data)
	if *history {
		runs, err := sched.History(dir, *job, *limit)
		if err != nil {
			return err
		}
		return writeRuns(env, *output, runs)
	}
	s := (*sched.Scheduler)(nil)
	if env.shared != nil && env.shared.jobs != nil {
		s = env.shared.jobs
	} else {
		var err error
		s, err = sched.New(sched.Config{Dir: dir}, sched.Deps{Jobs: serverJobs(dir, nil, nil, *retSched, env.Logger)})
		if err != nil {
			return err
		}
	}
	all, err := s.Jobs(ctx)
	if err != nil {
		return err
	}
	infos := []sched.JobInfo{}
	for _, i := range all {
		if *job == "" || i.Name == *job {
			infos = append(infos, i)
		}
	}
	if *output == "json" || *output == "jsonl" {
		b, _ := json.MarshalIndent(infos, "", "  ")
		_, err := fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	res := &store.Result{Columns: []string{"job", "schedule", "running", "last_run", "next_run", "last_status", "rows", "output"}}
	for _, i := range infos {
		row := []any{i.Name, i.Schedule, i.Running, timeText(i.LastRun), timeText(i.NextRun), nil, nil, nil}
		if i.Last != nil {
			row[5], row[6], row[7] = i.Last.Status, i.Last.Rows, i.Last.Output
		}
		if i.Error != "" {
			row[5] = "bad schedule: " + i.Error
		}
		res.Rows = append(res.Rows, row)
	}
	if env.shared == nil {
		fmt.Fprintln(env.Stderr, "(no flowlens serve owns this folder: nothing runs on schedule until one does)")
	}
	return writeResult(env.Stdout, *output, res)
}

func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// writeRuns writes history entries.
func writeRuns(env *Env, output string, runs []sched.Run) error {
	if output == "json" || output == "jsonl" {
		if runs == nil {
			runs = []sched.Run{}
		}
		b, _ := json.MarshalIndent(runs, "", "  ")
		_, err := fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	res := &store.Result{Columns: []string{"id", "job", "trigger", "status", "scheduled", "started", "duration_ms", "rows", "output", "detail"}}
	for _, r := range runs {
		detail := r.Detail
		if r.Error != "" {
			detail = r.Error
		}
		res.Rows = append(res.Rows, []any{r.ID, r.Job, r.Trigger, r.Status, timeText(r.Scheduled), timeText(r.Started), r.DurationMS, r.Rows, r.Output, detail})
	}
	return writeResult(env.Stdout, output, res)
}
