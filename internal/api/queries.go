package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/catalog"
	"github.com/flowlens/flowlens/internal/insights/plan"
	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
)

// Column is a result column with its type: time, number, string, bool or json.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Statistics describe a query's work. RecordsScanned counts the records of
// the selected datasets and time range (a synchronous query with a time
// range leaves it 0 rather than scan twice); RecordsMatched those that pass
// the query's filters before its first aggregation or sort (asynchronous
// queries only); BytesScanned estimates their size on disk.
type Statistics struct {
	RecordsScanned int64 `json:"recordsScanned"`
	RecordsMatched int64 `json:"recordsMatched"`
	BytesScanned   int64 `json:"bytesScanned"`
	ElapsedMs      int64 `json:"elapsedMs"`
}

// Shape is what the console needs to pick a chart.
type Shape struct {
	TimeColumn  *string  `json:"timeColumn"`
	Keys        []string `json:"keys"`
	Values      []string `json:"values"`
	AddressKeys []string `json:"addressKeys"`
}

// Result is a query's answer.
type Result struct {
	Columns    []Column   `json:"columns"`
	Rows       [][]any    `json:"rows"`
	Statistics Statistics `json:"statistics"`
	Truncated  bool       `json:"truncated"`
	Shape      *Shape     `json:"shape"`
}

// acquire takes a query slot or answers 429.
func (s *Server) acquire() (func(), error) {
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem }, nil
	default:
		e := errorf(TypeTooManyRequests, "%d queries are running, the most this server runs at once (flowlens serve --max-concurrent); retry shortly", s.cfg.MaxConcurrent)
		e.retryAfter = 1
		return nil, e
	}
}

// execute runs a checked request to its result.
func (s *Server) execute(ctx context.Context, p *parsed, stats *Statistics) (*Result, error) {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	res, err := s.executeInner(ctx, p, stats)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, s.timeoutErr(ctx, p)
	}
	return res, err
}

func (s *Server) executeInner(ctx context.Context, p *parsed, stats *Statistics) (*Result, error) {
	if p.Language == "sql" {
		if s.deps.SQL == nil {
			return nil, errorf(TypeBadRequest, "this server does not run SQL")
		}
		res, err := s.deps.SQL.RunSQL(ctx, p.Query)
		if err != nil {
			return nil, err
		}
		out := convert(res, nil, p.Limit)
		out.Shape = inferShape(out.Columns)
		return out, nil
	}
	res, c, err := s.deps.Engine.Run(ctx, p.engineRequest())
	if err != nil {
		return nil, err
	}
	if stats.RecordsScanned == 0 && c.Start.IsZero() && c.End.IsZero() {
		// Without a time range the catalogue's totals are exact: no
		// second scan on the synchronous path (asynchronous queries count
		// the range before they run).
		stats.RecordsScanned, stats.BytesScanned = s.catalogTotals(ctx, c.Datasets)
	}
	out := convert(res, c.Statement.Types, 0)
	out.Shape = shapeOf(c.Plan)
	return out, nil
}

// scanned counts the records in a request's datasets and range, and
// estimates their bytes from the datasets' size per record.
func (s *Server) scanned(ctx context.Context, r query.Request) (int64, int64, error) {
	req := query.Request{Query: "stats count(*) as n", Datasets: r.Datasets, Start: r.Start, End: r.End}
	res, c, err := s.deps.Engine.Run(ctx, req)
	if err != nil || len(res.Rows) != 1 {
		return 0, 0, err
	}
	n, _ := res.Rows[0][0].(int64)
	var bytes int64
	if recs, size := s.catalogTotals(ctx, c.Datasets); recs > 0 {
		bytes = int64(float64(size) / float64(recs) * float64(n))
	}
	return n, bytes, nil
}

// catalogTotals sums the records and bytes of the named datasets (all when none).
func (s *Server) catalogTotals(ctx context.Context, names []string) (records, bytes int64) {
	if s.deps.Datasets == nil {
		return 0, 0
	}
	ds, err := s.deps.Datasets.Datasets(ctx)
	if err != nil {
		return 0, 0
	}
	for _, d := range ds {
		if len(names) == 0 || contains(names, d.Name) {
			records += d.Records
			bytes += d.Bytes
		}
	}
	return records, bytes
}

// matched counts the records that pass the query's leading filters: the
// query cut before its first command that is not fields, display, filter
// or parse, with a count appended.
func (s *Server) matched(ctx context.Context, text string, r query.Request) (int64, error) {
	q, err := syntax.Parse(text)
	if err != nil {
		return 0, err
	}
	cut := len(text)
	for _, cmd := range q.Commands {
		switch cmd.Name() {
		case "fields", "display", "filter", "parse", "source", "filterindex":
			continue
		}
		cut = int(cmd.Pos())
		break
	}
	prefix := strings.TrimRight(strings.TrimSpace(text[:cut]), "|")
	prefix = strings.TrimSpace(prefix)
	count := "stats count(*) as n"
	if prefix != "" {
		count = prefix + " | " + count
	}
	req := r
	req.Query, req.Limit = count, 0
	res, _, err := s.runUnchecked(ctx, req)
	if err != nil || len(res.Rows) != 1 {
		return 0, err
	}
	n, _ := res.Rows[0][0].(int64)
	return n, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// convert turns a store result into the API's, typed by the plan's types
// when known; rowCap > 0 truncates (SQL results).
func convert(res *store.Result, types []plan.Type, rowCap int64) *Result {
	out := &Result{Columns: make([]Column, len(res.Columns)), Rows: res.Rows}
	for i, name := range res.Columns {
		t := ""
		if i < len(types) {
			t = planType(types[i])
		}
		if t == "" && i < len(res.Types) {
			t = dbType(res.Types[i])
		}
		out.Columns[i] = Column{Name: name, Type: t}
	}
	if rowCap > 0 && int64(len(out.Rows)) > rowCap {
		out.Rows, out.Truncated = out.Rows[:rowCap], true
	}
	if out.Rows == nil {
		out.Rows = [][]any{}
	}
	for _, row := range out.Rows {
		for j, v := range row {
			row[j] = jsonValue(v)
		}
	}
	return out
}

func planType(t plan.Type) string {
	switch t {
	case plan.TypeNumber, plan.TypeFlag:
		return "number"
	case plan.TypeString, plan.TypeList:
		return "string"
	case plan.TypeBool:
		return "bool"
	case plan.TypeTime:
		return "time"
	case plan.TypeJSON:
		return "json"
	}
	return ""
}

func dbType(t string) string {
	t = strings.ToUpper(t)
	switch {
	case strings.Contains(t, "INT"), strings.HasPrefix(t, "DOUBLE"), strings.HasPrefix(t, "FLOAT"),
		strings.HasPrefix(t, "DECIMAL"), t == "REAL", strings.HasPrefix(t, "HUGEINT"):
		return "number"
	case strings.HasPrefix(t, "TIMESTAMP"), t == "DATE", strings.HasPrefix(t, "DATETIME"):
		return "time"
	case t == "BOOLEAN" || t == "BOOL":
		return "bool"
	}
	return "string"
}

// shapeOf reads the chart shape off the plan: the keys of its last
// grouping that reach the output, which of them is a time bin, which are
// addresses, and the numeric values.
func shapeOf(p *plan.Plan) *Shape {
	sh := &Shape{Keys: []string{}, Values: []string{}, AddressKeys: []string{}}
	out := map[string]plan.Type{}
	for _, c := range p.Output {
		out[c.Name] = c.Type
	}
	keys := map[string]bool{}
	for i := len(p.Stages) - 1; i >= 0; i-- {
		st := p.Stages[i]
		if !st.Grouped {
			continue
		}
		for _, k := range st.Keys {
			if _, ok := out[k.Name]; !ok {
				continue
			}
			keys[k.Name] = true
			sh.Keys = append(sh.Keys, k.Name)
			if c, ok := k.X.(*plan.Call); ok && c.Fn == "bin" && sh.TimeColumn == nil {
				name := k.Name
				sh.TimeColumn = &name
			} else if k.X.Type() == plan.TypeTime && sh.TimeColumn == nil {
				name := k.Name
				sh.TimeColumn = &name
			}
			if col, ok := k.X.(*plan.Column); ok && col.Field.Type == "ip" {
				sh.AddressKeys = append(sh.AddressKeys, k.Name)
			}
		}
		break
	}
	for _, c := range p.Output {
		if !keys[c.Name] && (c.Type == plan.TypeNumber || c.Type == plan.TypeFlag) {
			sh.Values = append(sh.Values, c.Name)
		}
	}
	return sh
}

// inferShape guesses the shape of an SQL result from its column types.
func inferShape(cols []Column) *Shape {
	sh := &Shape{Keys: []string{}, Values: []string{}, AddressKeys: []string{}}
	for _, c := range cols {
		switch c.Type {
		case "time":
			if sh.TimeColumn == nil {
				name := c.Name
				sh.TimeColumn = &name
			}
			sh.Keys = append(sh.Keys, c.Name)
		case "number":
			sh.Values = append(sh.Values, c.Name)
		default:
			sh.Keys = append(sh.Keys, c.Name)
			if strings.Contains(strings.ToLower(c.Name), "addr") {
				sh.AddressKeys = append(sh.AddressKeys, c.Name)
			}
		}
	}
	return sh
}

// querySync runs a query and answers with its result.
func (s *Server) querySync(w http.ResponseWriter, r *http.Request) {
	p, err := s.parseQueryRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	release, err := s.acquire()
	if err != nil {
		writeError(w, err)
		return
	}
	defer release()
	began := s.deps.Now()
	var stats Statistics
	res, err := s.execute(r.Context(), p, &stats)
	stats.ElapsedMs = s.deps.Now().Sub(began).Milliseconds()
	s.record(r.Context(), newID(), p, began, stats.ElapsedMs, res, err)
	if err != nil {
		writeError(w, err)
		return
	}
	res.Statistics = stats
	writeOK(w, res)
}

// record adds a finished query to the history.
func (s *Server) record(ctx context.Context, id string, p *parsed, began time.Time, elapsed int64, res *Result, err error) {
	e := catalog.HistoryEntry{ID: id, Query: p.Query, Language: p.Language, Datasets: p.Datasets, Since: p.Since,
		Start: fmtRange(p.start), End: fmtRange(p.end), Status: statusComplete, SubmittedAt: began.UTC(),
		ElapsedMs: elapsed, User: identity(ctx).Name}
	if e.Datasets == nil {
		e.Datasets = []string{}
	}
	if p.Since != "" {
		e.Start, e.End = "", ""
	}
	if res != nil {
		e.Rows = len(res.Rows)
	}
	if err != nil {
		e.Status, e.Error = statusFor(err), classify(err).Message
	}
	if herr := s.deps.Catalog.AddHistory(context.WithoutCancel(ctx), e); herr != nil {
		s.log.Warn("record history", "err", herr)
	}
	level := s.log.Info
	if err != nil && classify(err).Type == TypeInternal {
		level = s.log.Error
	}
	level("query", "id", id, "language", p.Language, "status", e.Status, "elapsed_ms", elapsed, "rows", e.Rows, "user", e.User)
}

// Statuses of an asynchronous query, as GetQueryResults names them.
const (
	statusScheduled = "Scheduled"
	statusRunning   = "Running"
	statusComplete  = "Complete"
	statusFailed    = "Failed"
	statusCancelled = "Cancelled"
	statusTimeout   = "Timeout"
)

func statusFor(err error) string {
	switch {
	case err == nil:
		return statusComplete
	case errors.Is(err, context.DeadlineExceeded):
		return statusTimeout
	case errors.Is(err, context.Canceled):
		return statusCancelled
	}
	return statusFailed
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "q-" + hex.EncodeToString(b)
}

// run is one asynchronous query.
type run struct {
	id, query, language string
	submitted           time.Time
	cancel              context.CancelFunc

	mu       sync.Mutex
	status   string
	stats    Statistics
	result   *Result
	partial  *Result   // rows of the slices done, while it runs
	progress *Progress // of a query run slice by slice
	err      *Error
	finished time.Time
}

// publish sets the statistics, partial rows and progress of a running query.
func (q *run) publish(stats Statistics, partial *Result, progress *Progress) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stats = stats
	if partial != nil {
		q.partial = partial
	}
	if progress != nil {
		q.progress = progress
	}
}

// QueryStatus is the answer of GET /api/v1/queries/{id}.
type QueryStatus struct {
	QueryID     string     `json:"queryId"`
	Status      string     `json:"status"`
	Query       string     `json:"query"`
	Language    string     `json:"language"`
	SubmittedAt time.Time  `json:"submittedAt"`
	Statistics  Statistics `json:"statistics"`
	Columns     []Column   `json:"columns,omitempty"`
	Rows        [][]any    `json:"rows,omitempty"`
	Truncated   bool       `json:"truncated,omitempty"`
	Shape       *Shape     `json:"shape,omitempty"`
	Error       *Error     `json:"error,omitempty"`
	// Partial marks the rows of a query that runs (or was stopped or timed
	// out) slice by slice: those of the time slices done (see Progress).
	Partial  bool      `json:"partial,omitempty"`
	Progress *Progress `json:"progress,omitempty"`
}

func (q *run) snapshot(now time.Time, withRows bool) QueryStatus {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := QueryStatus{QueryID: q.id, Status: q.status, Query: q.query, Language: q.language,
		SubmittedAt: q.submitted.UTC(), Statistics: q.stats, Error: q.err, Progress: q.progress}
	if q.finished.IsZero() {
		st.Statistics.ElapsedMs = now.Sub(q.submitted).Milliseconds()
	}
	if !withRows {
		return st
	}
	if q.result != nil {
		st.Columns, st.Rows, st.Truncated, st.Shape = q.result.Columns, q.result.Rows, q.result.Truncated, q.result.Shape
	} else if q.partial != nil && q.status != statusFailed {
		// Running, or stopped / timed out: the rows of the slices done.
		st.Columns, st.Rows, st.Shape, st.Partial = q.partial.Columns, q.partial.Rows, q.partial.Shape, true
	}
	return st
}

// manager keeps asynchronous queries until their results expire.
type manager struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	runs map[string]*run
	wg   sync.WaitGroup
}

func newManager(ttl time.Duration, now func() time.Time) *manager {
	return &manager{ttl: ttl, now: now, runs: map[string]*run{}}
}

func (m *manager) add(q *run) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for id, r := range m.runs {
		r.mu.Lock()
		expired := !r.finished.IsZero() && now.Sub(r.finished) > m.ttl
		r.mu.Unlock()
		if expired {
			delete(m.runs, id)
		}
	}
	m.runs[q.id] = q
}

func (m *manager) get(id string) (*run, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.runs[id]
	return q, ok
}

func (m *manager) list() []*run {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*run, 0, len(m.runs))
	for _, q := range m.runs {
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].submitted.After(out[j].submitted) })
	return out
}

func (m *manager) stopAll() {
	for _, q := range m.list() {
		q.cancel()
	}
}

func (m *manager) wait() { m.wg.Wait() }

// queryStart checks a query, takes a slot and runs it in the background.
func (s *Server) queryStart(w http.ResponseWriter, r *http.Request) {
	p, err := s.parseQueryRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// Mistakes in the text are answered at once, as StartQuery does.
	if p.Language == "insights" {
		if _, err := s.deps.Engine.Compile(r.Context(), p.engineRequest()); err != nil {
			writeError(w, err)
			return
		}
	}
	acquired, err := s.acquire()
	if err != nil {
		writeError(w, err)
		return
	}
	release := sync.OnceFunc(acquired)
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	q := &run{id: newID(), query: p.Query, language: p.Language, submitted: s.deps.Now(), cancel: cancel, status: statusRunning}
	s.queries.add(q)
	s.queries.wg.Add(1)
	go func() {
		defer s.queries.wg.Done()
		defer release()
		defer cancel()
		var stats Statistics
		res, err := s.executeAsync(ctx, p, q, &stats)
		// The slot is free before the status says the query ended (a
		// client that saw it end may send the next one at once).
		release()
		if err != nil && ctx.Err() != nil {
			// Stopped or timed out, wherever the database noticed it.
			err = s.timeoutErr(ctx, p)
		}
		now := s.deps.Now()
		elapsed := now.Sub(q.submitted).Milliseconds()
		q.mu.Lock()
		q.finished = now
		q.stats.ElapsedMs = elapsed
		q.status = statusFor(err)
		if err != nil {
			q.err = classify(err)
		} else {
			q.result = res
		}
		q.mu.Unlock()
		s.record(ctx, q.id, p, q.submitted, elapsed, res, err)
	}()
	writeOK(w, map[string]string{"queryId": q.id})
}

// executeAsync runs the query and, for Logs Insights, counts the records
// scanned and matched, publishing statistics (and, for a query run slice by
// slice, rows) as they become known.
func (s *Server) executeAsync(ctx context.Context, p *parsed, q *run, stats *Statistics) (*Result, error) {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	if p.Language != "insights" {
		res, err := s.execute(ctx, p, stats)
		if err != nil {
			return nil, err
		}
		stats.RecordsMatched = int64(len(res.Rows))
		q.publish(*stats, nil, nil)
		return res, nil
	}
	c, err := s.deps.Engine.Compile(ctx, p.engineRequest())
	if err != nil {
		return nil, err
	}
	if sl, ok := sliceable(c.Plan, p.Limit); ok && s.deps.Datasets != nil {
		// One look at the catalogue (it costs more than a slice's count).
		ds, _ := s.deps.Datasets.Datasets(ctx)
		if first, last, ok := dataRange(c, ds); ok {
			if cuts := sl.slices(first, last); cuts != nil {
				res, err := s.executeSliced(ctx, p, q, sl, cuts, bytesPerRecord(ds, c.Datasets), stats)
				if err != nil && ctx.Err() != nil {
					return nil, s.timeoutErr(ctx, p)
				}
				return res, err
			}
		}
	}
	req := p.engineRequest()
	req.Datasets, req.Start, req.End = c.Datasets, c.Start, c.End
	if n, b, err := s.scanned(ctx, req); err == nil {
		stats.RecordsScanned, stats.BytesScanned = n, b
		q.publish(*stats, nil, nil)
	}
	res, err := s.execute(ctx, p, stats)
	if err != nil {
		return nil, err
	}
	if n, err := s.matched(ctx, p.Query, p.engineRequest()); err == nil {
		stats.RecordsMatched = n
	} else if ctx.Err() != nil {
		return nil, s.timeoutErr(ctx, p)
	}
	q.publish(*stats, nil, nil)
	return res, nil
}

func (s *Server) timeoutErr(ctx context.Context, p *parsed) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the query ran longer than its timeout of %s: %w", p.timeout, context.DeadlineExceeded)
	}
	return ctx.Err()
}

func (s *Server) queryStatus(w http.ResponseWriter, r *http.Request) {
	q, ok := s.queries.get(r.PathValue("id"))
	if !ok {
		writeError(w, errorf(TypeNotFound, "no query %q (results are kept for %s after a query ends)", r.PathValue("id"), s.cfg.ResultTTL))
		return
	}
	writeOK(w, q.snapshot(s.deps.Now(), true))
}

func (s *Server) queryList(w http.ResponseWriter, _ *http.Request) {
	out := []QueryStatus{}
	for _, q := range s.queries.list() {
		out = append(out, q.snapshot(s.deps.Now(), false))
	}
	writeOK(w, out)
}

func (s *Server) queryStop(w http.ResponseWriter, r *http.Request) {
	q, ok := s.queries.get(r.PathValue("id"))
	if !ok {
		writeError(w, errorf(TypeNotFound, "no query %q", r.PathValue("id")))
		return
	}
	q.mu.Lock()
	running := q.finished.IsZero()
	q.mu.Unlock()
	if running {
		q.cancel()
	}
	writeOK(w, map[string]bool{"success": running})
}
