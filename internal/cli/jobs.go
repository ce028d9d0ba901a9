package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/athena"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/report"
	"github.com/flowlens/flowlens/internal/s3"
	"github.com/flowlens/flowlens/internal/sched"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// RetentionJob is the scheduler's name of the retention job.
const RetentionJob = "retention"

// SealJob is the scheduler's name of the job that seals the hours written
// by many small commits (duckdb.Store.Seal), at 20 past every hour: an
// hour is sealed once it has been over for an hour.
const SealJob = "seal"

// serverJobs lists the server's jobs: retention on its schedule, and every
// report of the folder's reports.json (read at every look, so that reports
// added while the server runs are picked up).
func serverJobs(dir string, st store.Backend, writeMu sync.Locker, retentionSchedule string, logger *slog.Logger) func(context.Context) ([]sched.Job, error) {
	return func(ctx context.Context) ([]sched.Job, error) {
		jobs := []sched.Job{retentionJob(st, writeMu, retentionSchedule)}
		if d := embedded(st); d != nil {
			jobs = append(jobs, sealJob(d, writeMu))
		}
		defs, err := report.Load(dir)
		if err != nil {
			return jobs, err
		}
		for _, d := range defs {
			jobs = append(jobs, reportJob(st, dir, d, "", logger))
		}
		return jobs, nil
	}
}

// retentionJob drops, for every dataset with a retention, the whole hours
// older than it (at the run's scheduled time), under the server's write
// lock; DropBefore checkpoints, so that the freed blocks are reused.
func retentionJob(st store.Backend, writeMu sync.Locker, schedule string) sched.Job {
	return sched.Job{Name: RetentionJob, Schedule: schedule, Run: func(ctx context.Context, at time.Time) (sched.Outcome, error) {
		return applyRetention(ctx, st, writeMu, at)
	}}
}

// sealJob rewrites the hours a server's small commits left in many sorted
// runs, taking the write lock for one batch of hours at a time.
func sealJob(st *duckdb.Store, writeMu sync.Locker) sched.Job {
	return sched.Job{Name: SealJob, Schedule: "20 * * * *", Run: func(ctx context.Context, at time.Time) (sched.Outcome, error) {
		s, err := st.Seal(ctx, writeMu)
		if err != nil {
			return sched.Outcome{}, err
		}
		return sched.Outcome{Rows: s.Records, Detail: fmt.Sprintf("%d hours rewritten as one sorted run each (%d records, %s)",
			s.Hours, s.Records, s.Elapsed.Round(time.Millisecond))}, nil
	}}
}

func applyRetention(ctx context.Context, st store.Backend, writeMu sync.Locker, at time.Time) (sched.Outcome, error) {
	ds, err := st.Datasets(ctx)
	if err != nil {
		return sched.Outcome{}, err
	}
	var out sched.Outcome
	var parts []string
	for _, d := range ds {
		if d.Retention <= 0 {
			continue
		}
		cutoff := at.Add(-d.Retention).UTC().Truncate(time.Hour)
		writeMu.Lock()
		before, _ := st.RecordBytes(ctx)
		n, err := st.DropBefore(ctx, d.Name, cutoff)
		after, _ := st.RecordBytes(ctx)
		writeMu.Unlock()
		if err != nil {
			return out, fmt.Errorf("dataset %s: %w", d.Name, err)
		}
		out.Rows += n
		p := fmt.Sprintf("%s: %d records in hours before %s UTC (keep %s)", d.Name, n, cutoff.Format("2006-01-02 15:04"), fmtKeep(d.Retention))
		if n > 0 {
			p += fmt.Sprintf(", database %s → %s used", fmtBytes(before), fmtBytes(after))
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		out.Detail = "no dataset has a retention ('flowlens retention --keep 7d' sets one)"
	} else {
		out.Detail = strings.Join(parts, "; ")
		if d := embedded(st); d != nil {
			out.Detail += fmt.Sprintf("; file %s", fmtBytes(d.FileBytes()))
		}
	}
	return out, nil
}

func fmtKeep(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// reportJob is the scheduler's job of a report: a run at T covers the
// window that ends where T's day starts (in the schedule's time zone),
// written to out (default the report's --out).
func reportJob(st store.Backend, dir string, d report.Definition, out string, logger *slog.Logger) sched.Job {
	return sched.Job{Name: report.JobName(d.Name), Schedule: d.Schedule, Run: func(ctx context.Context, at time.Time) (sched.Outcome, error) {
		loc, err := sched.Location(d.Schedule)
		if err != nil {
			return sched.Outcome{}, err
		}
		start, end, err := report.Window(d.Window, at, loc)
		if err != nil {
			return sched.Outcome{}, err
		}
		return runReport(ctx, st, dir, d, start, end, out, os.Getenv, logger)
	}}
}

// runReport evaluates a report over [start, end), writes its file into a
// temporary file and publishes it to out (default the report's --out); an
// S3 output reads the AWS configuration with getenv.
func runReport(ctx context.Context, st store.Backend, dir string, d report.Definition, start, end time.Time, out string,
	getenv func(string) string, logger *slog.Logger) (sched.Outcome, error) {
	if out == "" {
		out = d.Out
	}
	var o sched.Outcome
	target, err := reportTargetFor(ctx, out, filepath.Join(dir, "tmp"), getenv)
	if err != nil {
		return o, err
	}
	name := report.OutputName(d.Name, report.Label(d.Window, start), d.Format)
	tmp, err := target.temp(name)
	if err != nil {
		return o, err
	}
	defer os.Remove(tmp)
	if d.Format == "parquet" {
		if o.Rows, err = reportParquet(ctx, st, dir, d, start, end, tmp); err != nil {
			return o, err
		}
	} else {
		res, err := evalReport(ctx, st, dir, d, start, end)
		if err != nil {
			return o, err
		}
		var b bytes.Buffer
		if err := writeReport(&b, d.Format, res); err != nil {
			return o, err
		}
		if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
			return o, err
		}
		o.Rows = int64(len(res.Rows))
	}
	if o.Output, err = target.put(ctx, tmp, name); err != nil {
		return o, err
	}
	o.Detail = fmt.Sprintf("window %s .. %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	if d.Webhook != "" {
		if err := notify(ctx, d, start, end, o); err != nil {
			o.Detail += "; webhook: " + err.Error()
			logger.Warn("report webhook", "report", d.Name, "err", err)
		} else {
			o.Detail += "; webhook notified"
		}
	}
	return o, nil
}

// reportTarget is where a report's files go.
type reportTarget interface {
	// temp returns a local path to write the file named name into.
	temp(name string) (string, error)
	// put publishes the written file as name and returns its location.
	put(ctx context.Context, local, name string) (string, error)
}

func reportTargetFor(ctx context.Context, out, tmpDir string, getenv func(string) string) (reportTarget, error) {
	if s3.IsURL(out) {
		u, err := s3.ParseURL(out)
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		c, err := s3.New(ctx, s3.Config{Getenv: getenv})
		if err != nil {
			return nil, err
		}
		return s3Target{c: c, u: u, tmp: tmpDir}, nil
	}
	return dirTarget(out), nil
}

// s3Target is an s3://bucket/prefix: the file is written locally, then
// put as one object (a reader never sees half of it).
type s3Target struct {
	c   *s3.Client
	u   s3.URL
	tmp string
}

func (t s3Target) temp(name string) (string, error) {
	if err := os.MkdirAll(t.tmp, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(t.tmp, "report-*-"+name)
	if err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

func (t s3Target) put(ctx context.Context, local, name string) (string, error) {
	f, err := os.Open(local)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	types := map[string]string{".csv": "text/csv; charset=utf-8", ".json": "application/json", ".parquet": "application/vnd.apache.parquet"}
	key := t.u.Join(name)
	if _, err := t.c.Put(ctx, t.u.Bucket, key, f, fi.Size(), types[filepath.Ext(name)]); err != nil {
		return "", err
	}
	return t.u.KeyURL(key), nil
}

// dirTarget is a folder: the file is written beside its name and renamed,
// so that a reader never sees half a file.
type dirTarget string

func (t dirTarget) temp(name string) (string, error) {
	if err := os.MkdirAll(string(t), 0o755); err != nil {
		return "", err
	}
	return filepath.Join(string(t), ".tmp-"+name), nil
}

func (t dirTarget) put(_ context.Context, local, name string) (string, error) {
	p := filepath.Join(string(t), name)
	return p, os.Rename(local, p)
}

// evalReport runs the report's query over its window.
func evalReport(ctx context.Context, st store.Backend, dir string, d report.Definition, start, end time.Time) (*store.Result, error) {
	if d.Language == report.Insights {
		eng := newEngine(query.Config{LookupDir: filepath.Join(dir, "lookups"), DefaultLimit: 1 << 62}, st)
		res, _, err := eng.Run(ctx, query.Request{Query: d.Query, Datasets: []string{d.Dataset}, Start: start, End: end.Add(-time.Second)})
		if err != nil {
			return nil, queryError(err)
		}
		return res, nil
	}
	db := embedded(st)
	if db == nil {
		return nil, errSQLReport
	}
	sess, stmt, err := prepareReportSQL(ctx, db, d, start, end)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	res, err := sess.Query(ctx, stmt.SQL)
	if err != nil {
		return nil, reportSQLError(stmt, err)
	}
	return res, nil
}

// prepareReportSQL opens the window's session and prepares the report's
// one statement in it.
func prepareReportSQL(ctx context.Context, st *duckdb.Store, d report.Definition, start, end time.Time) (*duckdb.Session, athena.Statement, error) {
	var none athena.Statement
	sess, err := st.WindowSession(ctx, d.Dataset, start, end, d.Tables...)
	if err != nil {
		return nil, none, err
	}
	stmt, err := reportStatement(ctx, sess, d.Query)
	if err != nil {
		sess.Close()
		return nil, none, err
	}
	return sess, stmt, nil
}

// reportStatement prepares a report's SQL: one read-only statement.
func reportStatement(ctx context.Context, q store.Querier, text string) (athena.Statement, error) {
	var none athena.Statement
	opt := athena.Options{}
	if q != nil {
		var err error
		if opt, err = sqlOptions(ctx, q, nil); err != nil {
			return none, err
		}
	}
	stmts, err := athena.Prepare(text, opt)
	if err != nil {
		return none, err
	}
	var run []athena.Statement
	for _, s := range stmts {
		if s.Kind == athena.KindWrite {
			return none, fmt.Errorf("%s: %s changes the database: a report runs one read-only query", s.Pos, s.Verb)
		}
		if !s.Kind.NoOp() {
			run = append(run, s)
		}
	}
	if len(run) != 1 {
		return none, fmt.Errorf("a report runs one query (a SELECT); the text has %d", len(run))
	}
	return run[0], nil
}

func reportSQLError(s athena.Statement, err error) error {
	if s.SQL != s.Text {
		return fmt.Errorf("%w\n(after the Athena rewrites, the statement ran as: %s)", err, s.SQL)
	}
	return err
}

// reportParquet writes the report's result to path as Parquet with
// DuckDB's writer (types kept). Logs Insights reports are written from
// their generated SQL.
func reportParquet(ctx context.Context, bst store.Backend, dir string, d report.Definition, start, end time.Time, path string) (int64, error) {
	st := embedded(bst)
	if st == nil {
		return 0, errParquetReport
	}
	var q store.Querier
	var sqlText string
	var args []any
	if d.Language == report.Insights {
		eng := query.New(query.Config{LookupDir: filepath.Join(dir, "lookups"), DefaultLimit: 1 << 62}, st, st)
		c, err := eng.Compile(ctx, query.Request{Query: d.Query, Datasets: []string{d.Dataset}, Start: start, End: end.Add(-time.Second)})
		if err != nil {
			return 0, queryError(err)
		}
		q, sqlText, args = st, c.Statement.SQL, c.Statement.Args
	} else {
		sess, stmt, err := prepareReportSQL(ctx, st, d, start, end)
		if err != nil {
			return 0, err
		}
		defer sess.Close()
		q, sqlText = sess, stmt.SQL
	}
	res, err := q.Query(ctx, "COPY ("+sqlText+") TO "+quoteSQL(path)+" (FORMAT parquet)", args...)
	if err != nil {
		return 0, fmt.Errorf("write parquet: %w", err)
	}
	var n int64
	if len(res.Rows) == 1 && len(res.Rows[0]) == 1 {
		n, _ = res.Rows[0][0].(int64)
	}
	return n, nil
}

// writeReport writes a result as CSV (header row, RFC 4180: CRLF line
// ends, fields with a comma, quote or line break quoted, quotes doubled;
// NULL is empty) or as a JSON array of objects.
func writeReport(w *bytes.Buffer, format string, res *store.Result) error {
	switch format {
	case "csv":
		datesAsText(res)
		rec := make([]string, len(res.Columns))
		writeCSVRecord(w, res.Columns)
		for _, row := range res.Rows {
			for i, v := range row {
				rec[i] = textValue(v)
			}
			writeCSVRecord(w, rec)
		}
		return nil
	case "json":
		return writeResult(w, "json", res)
	}
	return fmt.Errorf("unknown report format %q", format)
}

// writeCSVRecord writes one RFC 4180 record: fields with a comma, a
// quote or a line break in quotes, quotes doubled, the field's text kept
// as it is (a line break inside stays what it was), CRLF at the end.
func writeCSVRecord(w *bytes.Buffer, fields []string) {
	for i, f := range fields {
		if i > 0 {
			w.WriteByte(',')
		}
		if !strings.ContainsAny(f, ",\"\r\n") {
			w.WriteString(f)
			continue
		}
		w.WriteByte('"')
		w.WriteString(strings.ReplaceAll(f, `"`, `""`))
		w.WriteByte('"')
	}
	w.WriteString("\r\n")
}

// notify POSTs a JSON note about a written report to its webhook.
func notify(ctx context.Context, d report.Definition, start, end time.Time, o sched.Outcome) error {
	body, _ := json.Marshal(map[string]any{
		"report": d.Name, "dataset": d.Dataset, "start": start.UTC(), "end": end.UTC(),
		"rows": o.Rows, "output": o.Output, "format": d.Format,
	})
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Webhook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// What reports need of the embedded database.
var (
	errSQLReport = errors.New("a SQL report runs on the embedded database (its window views); " +
		"with a ClickHouse store, write the report as a Logs Insights query (--query-file)")
	errParquetReport = errors.New("Parquet reports are written by the embedded database; " +
		"with a ClickHouse store, use --format csv or json")
)
