// Package query runs Logs Insights queries against a store: it compiles the
// text (syntax → plan → SQL for the store's dialect), selects datasets,
// turns the time range into `_hour` and `start` predicates, applies the
// default row limit, enforces timeouts and cancellation, and shapes the
// result (timestamps as UTC times, columns named as the query names them).
package query

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
	"github.com/flowlens/flowlens/internal/insights/sqlgen"
	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/textdist"
)

// DefaultLimit is the number of rows a query without limit returns, as in
// Logs Insights.
const DefaultLimit = 10000

// ErrUnknownDataset is matched by errors about a dataset that does not exist.
var ErrUnknownDataset = errors.New("unknown dataset")

// ErrBackend is matched by errors the database returned for generated SQL:
// always a flowlens bug, never the user's mistake.
var ErrBackend = errors.New("the database rejected the generated SQL (a flowlens bug)")

// Config tunes an Engine.
type Config struct {
	// DefaultLimit caps results of queries without limit (0: DefaultLimit).
	DefaultLimit int64
	// Timeout bounds each query (0: no bound).
	Timeout time.Duration
	// Dialect is the SQL dialect of the store (nil: DuckDB).
	Dialect sqlgen.Dialect
	// Now returns the current time (nil: time.Now).
	Now func() time.Time
	// LookupDir holds the lookup tables of lookup and cidrlookup (NAME.csv).
	LookupDir string
	// Source renders a FROM item with only some columns of the flows view
	// (sqlgen.Options.Source; DuckDB only). nil: the querier's or the
	// cataloger's FlowsSource when it has one (the DuckDB store), else the
	// flows view.
	Source func(cols []string) (string, bool)
	// Scan renders a FROM item with only some columns of the flows view
	// that may also apply the scan's filters (sqlgen.Options.Scan;
	// ClickHouse only). nil: the querier's or the cataloger's FlowsScan
	// when it has one (the ClickHouse store), else the flows view.
	Scan func(cols []string, filters []sqlgen.ScanFilter) (string, bool)
	// Pairs says that the store has the `flows_pairs` view of the distinct
	// (source, destination port) pairs (sqlgen.Options.Pairs; DuckDB only).
	// false: set when the querier or the cataloger is a PairsViewer that
	// says so (the DuckDB store).
	Pairs bool
}

// PairsViewer is a store whose SQL can read the `flows_pairs` view (the
// DuckDB store).
type PairsViewer interface {
	PairsView() bool
}

// FlowsSourcer is a store that renders FROM items with only some columns
// of its flows view (the DuckDB store).
type FlowsSourcer interface {
	FlowsSource(cols []string) (string, bool)
}

// FlowsScanner is a store that renders FROM items with only some columns
// of its flows view and the scan's filters applied (the ClickHouse store).
type FlowsScanner interface {
	FlowsScan(cols []string, filters []sqlgen.ScanFilter) (string, bool)
}

// DefaultConfig returns the configuration of the CLI.
func DefaultConfig() Config {
	return Config{DefaultLimit: DefaultLimit, Dialect: sqlgen.DuckDB{}, Now: time.Now}
}

// Engine compiles and runs queries. It is safe for concurrent use.
type Engine struct {
	cfg Config
	q   store.Querier
	cat store.Cataloger
}

// New returns an engine over a store.
func New(cfg Config, q store.Querier, cat store.Cataloger) *Engine {
	if cfg.DefaultLimit == 0 {
		cfg.DefaultLimit = DefaultLimit
	}
	if cfg.Dialect == nil {
		cfg.Dialect = sqlgen.DuckDB{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Source == nil && cfg.Dialect.Name() == (sqlgen.DuckDB{}).Name() {
		if fs, ok := q.(FlowsSourcer); ok {
			cfg.Source = fs.FlowsSource
		} else if fs, ok := cat.(FlowsSourcer); ok {
			cfg.Source = fs.FlowsSource
		}
	}
	if cfg.Scan == nil && cfg.Dialect.Name() == (sqlgen.ClickHouse{}).Name() {
		if fs, ok := q.(FlowsScanner); ok {
			cfg.Scan = fs.FlowsScan
		} else if fs, ok := cat.(FlowsScanner); ok {
			cfg.Scan = fs.FlowsScan
		}
	}
	if !cfg.Pairs && cfg.Dialect.Name() == (sqlgen.DuckDB{}).Name() {
		if pv, ok := q.(PairsViewer); ok {
			cfg.Pairs = pv.PairsView()
		} else if pv, ok := cat.(PairsViewer); ok {
			cfg.Pairs = pv.PairsView()
		}
	}
	return &Engine{cfg: cfg, q: q, cat: cat}
}

// Request is one query.
type Request struct {
	Query string
	// Datasets to search (empty: every dataset, or SOURCE's).
	Datasets []string
	// Start and End bound the records' start time, inclusive; zero is open.
	Start, End time.Time
	// Limit replaces the default row limit of a query without limit (0: default).
	Limit int64
}

// Compiled is a checked query and its SQL.
type Compiled struct {
	Plan      *plan.Plan
	Statement *sqlgen.Statement
	// Datasets restrict the scan (empty: all).
	Datasets   []string
	Start, End time.Time
}

// Explain renders the plan and the SQL.
func (c *Compiled) Explain() string {
	var b strings.Builder
	b.WriteString("-- plan\n")
	b.WriteString(c.Plan.String())
	if !c.Start.IsZero() || !c.End.IsZero() {
		fmt.Fprintf(&b, "range: %s .. %s\n", fmtTime(c.Start), fmtTime(c.End))
	}
	b.WriteString("-- sql\n")
	b.WriteString(c.Statement.SQL)
	b.WriteString("\n")
	for i, a := range c.Statement.Args {
		fmt.Fprintf(&b, "-- $%d = %v\n", i+1, a)
	}
	return b.String()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return t.UTC().Format(time.RFC3339)
}

// Compile checks a query and generates its SQL. Query mistakes are
// syntax errors (errors.Is(err, syntax.ErrQuery)) with positions.
func (e *Engine) Compile(ctx context.Context, req Request) (*Compiled, error) {
	q, err := syntax.Parse(req.Query)
	if err != nil {
		return nil, err
	}
	src, _ := sourceOf(q)
	if src != nil && len(req.Datasets) > 0 {
		return nil, syntax.NewError(req.Query, syntax.Span{Start: src.Pos(), End: src.EndPos()},
			"a query with SOURCE must not also name datasets (-g); drop one of the two")
	}
	c := &Compiled{Datasets: req.Datasets, Start: req.Start, End: req.End}
	now := e.cfg.Now()
	var catErr error
	var cached []store.Dataset
	datasets := func() []store.Dataset {
		if cached == nil && catErr == nil && e.cat != nil {
			cached, catErr = e.cat.Datasets(ctx)
		}
		return cached
	}
	if src != nil {
		names, err := selectSource(src, datasets())
		if catErr != nil {
			return nil, fmt.Errorf("list datasets: %w", catErr)
		}
		if err != nil {
			return nil, syntax.NewError(req.Query, syntax.Span{Start: src.Pos(), End: src.EndPos()}, "%v", err)
		}
		c.Datasets = names
		if src.Start != nil || src.End != nil {
			c.Start, c.End, err = sourceRange(src, now)
			if err != nil {
				return nil, syntax.NewError(req.Query, syntax.Span{Start: src.Pos(), End: src.EndPos()}, "%v", err)
			}
		}
	}
	opt := plan.Options{LoadFormats: func() map[int]*flowlog.Format {
		return formatsOf(datasets(), c.Datasets)
	}}
	if names := plan.LookupNames(q); len(names) > 0 {
		if opt.Lookups, err = loadLookups(e.cfg.LookupDir, names); err != nil {
			return nil, err
		}
	}
	p, err := plan.Check(q, req.Query, opt)
	if catErr != nil {
		return nil, fmt.Errorf("list datasets: %w", catErr)
	}
	if err != nil {
		return nil, err
	}
	c.Plan = p
	if p.Compare != nil && (c.Start.IsZero() || c.End.IsZero()) {
		return nil, errors.New("diff and logcompare compare two time ranges: give the query's range with --since or --start and --end")
	}
	limit := e.cfg.DefaultLimit
	if req.Limit > 0 {
		limit = req.Limit
	}
	gopt := sqlgen.Options{Datasets: c.Datasets, Limit: limit, NowMillis: now.UnixMilli(), Source: e.cfg.Source, Scan: e.cfg.Scan, Pairs: e.cfg.Pairs}
	if !c.Start.IsZero() {
		gopt.Start = c.Start.Unix()
	}
	if !c.End.IsZero() {
		gopt.End = c.End.Unix()
	}
	if gopt.Start != 0 && gopt.End != 0 && gopt.End < gopt.Start {
		return nil, fmt.Errorf("the time range ends (%s) before it starts (%s)", fmtTime(c.End), fmtTime(c.Start))
	}
	st, err := sqlgen.Generate(p, e.cfg.Dialect, gopt)
	if err != nil {
		return nil, err
	}
	c.Statement = st
	return c, nil
}

// Run compiles and runs a query. Time values come back as time.Time (UTC),
// the other values as the store returns them.
func (e *Engine) Run(ctx context.Context, req Request) (*store.Result, *Compiled, error) {
	c, err := e.Compile(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	res, err := e.Exec(ctx, c)
	if err != nil {
		return nil, c, err
	}
	if len(req.Datasets) > 0 {
		// A misspelt dataset gives an empty answer without error: say so.
		if err := e.checkDatasets(ctx, req.Datasets); err != nil {
			return nil, c, err
		}
	}
	return res, c, nil
}

// Exec runs a compiled query.
func (e *Engine) Exec(ctx context.Context, c *Compiled) (*store.Result, error) {
	if e.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.Timeout)
		defer cancel()
	}
	if c.Statement.Scan {
		ctx = store.WithScan(ctx)
	}
	res, err := e.q.Query(ctx, c.Statement.SQL, c.Statement.Args...)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			if errors.Is(ctxErr, context.DeadlineExceeded) {
				return nil, fmt.Errorf("query timed out after %s: %w", e.cfg.Timeout, ctxErr)
			}
			return nil, ctxErr
		}
		return nil, fmt.Errorf("%w: %v\nSQL: %s", ErrBackend, err, c.Statement.SQL)
	}
	shape(res, c.Statement)
	return res, nil
}

// shape names the columns as the query does and turns millisecond
// timestamps into times.
func shape(res *store.Result, st *sqlgen.Statement) {
	if len(res.Columns) == len(st.Columns) {
		res.Columns = append(res.Columns[:0], st.Columns...)
	}
	for i, t := range st.Types {
		if t != plan.TypeTime || i >= len(res.Columns) {
			continue
		}
		if i < len(res.Types) {
			res.Types[i] = "TIMESTAMP"
		}
		for _, row := range res.Rows {
			switch v := row[i].(type) {
			case int64:
				row[i] = time.UnixMilli(v).UTC()
			case float64:
				row[i] = time.UnixMilli(int64(v)).UTC()
			}
		}
	}
}

func (e *Engine) checkDatasets(ctx context.Context, names []string) error {
	if e.cat == nil {
		return nil
	}
	ds, err := e.cat.Datasets(ctx)
	if err != nil {
		return fmt.Errorf("list datasets: %w", err)
	}
	known := make([]string, len(ds))
	for i, d := range ds {
		known[i] = d.Name
	}
	for _, n := range names {
		if !containsStr(known, n) {
			msg := fmt.Sprintf("%v %q", ErrUnknownDataset, n)
			best, bestD := "", 4
			for _, k := range known {
				if d := textdist.Distance(n, k); d < bestD {
					best, bestD = k, d
				}
			}
			if best != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", best)
			} else if len(known) > 0 {
				sort.Strings(known)
				msg += " (datasets: " + strings.Join(known, ", ") + ")"
			}
			return fmt.Errorf("%w", &datasetError{msg: msg})
		}
	}
	return nil
}

type datasetError struct{ msg string }

func (e *datasetError) Error() string        { return e.msg }
func (e *datasetError) Is(target error) bool { return target == ErrUnknownDataset }

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// formatsOf collects the formats of the selected datasets (all when none is named).
func formatsOf(ds []store.Dataset, names []string) map[int]*flowlog.Format {
	out := map[int]*flowlog.Format{}
	for _, d := range ds {
		if len(names) > 0 && !containsStr(names, d.Name) {
			continue
		}
		for id, s := range d.Formats {
			f, err := flowlog.ParseFormat(s)
			if err != nil {
				f, err = flowlog.ParseHeader(strings.NewReplacer("${", "", "}", "").Replace(s))
			}
			if err == nil {
				out[id] = f
			}
		}
	}
	return out
}
