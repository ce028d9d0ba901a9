package cwlogs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/awshttp"
	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
)

// Query statuses, as AWS names them.
const (
	statusScheduled = "Scheduled"
	statusRunning   = "Running"
	statusComplete  = "Complete"
	statusFailed    = "Failed"
	statusCancelled = "Cancelled"
	statusTimeout   = "Timeout"
)

type runningQuery struct {
	id, text, language string
	groups             []string
	created            time.Time
	cancel             context.CancelFunc

	mu       sync.Mutex
	status   string
	results  [][]resultField
	stats    queryStats
	err      string
	finished time.Time
}

type resultField struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

type queryStats struct {
	RecordsMatched          float64 `json:"recordsMatched"`
	RecordsScanned          float64 `json:"recordsScanned"`
	EstimatedRecordsSkipped float64 `json:"estimatedRecordsSkipped"`
	BytesScanned            float64 `json:"bytesScanned"`
	EstimatedBytesSkipped   float64 `json:"estimatedBytesSkipped"`
	LogGroupsScanned        float64 `json:"logGroupsScanned"`
}

type queryManager struct {
	ttl time.Duration
	now func() time.Time
	// slots holds a token per query the engine runs
	slots chan struct{}

	mu      sync.Mutex
	queries map[string]*runningQuery
	wg      sync.WaitGroup
}

func newQueryManager(ttl time.Duration, running int, now func() time.Time) *queryManager {
	return &queryManager{ttl: ttl, now: now, slots: make(chan struct{}, running), queries: map[string]*runningQuery{}}
}

// acquire waits for an engine slot until ctx ends.
func (m *queryManager) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case m.slots <- struct{}{}:
		return func() { <-m.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *queryManager) gcLocked() {
	for id, q := range m.queries {
		q.mu.Lock()
		old := !q.finished.IsZero() && m.now().Sub(q.finished) > m.ttl
		q.mu.Unlock()
		if old {
			delete(m.queries, id)
		}
	}
}

func (m *queryManager) running() int {
	n := 0
	for _, q := range m.queries {
		q.mu.Lock()
		if q.finished.IsZero() {
			n++
		}
		q.mu.Unlock()
	}
	return n
}

func (m *queryManager) get(id string) *runningQuery {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gcLocked()
	return m.queries[id]
}

func (m *queryManager) stopAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, q := range m.queries {
		q.cancel()
	}
}

func (m *queryManager) wait() { m.wg.Wait() }

type startQueryIn struct {
	QueryLanguage       string   `json:"queryLanguage"`
	LogGroupName        string   `json:"logGroupName"`
	LogGroupNames       []string `json:"logGroupNames"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	QueryString         string   `json:"queryString"`
	Limit               *int     `json:"limit"`
}

func (s *Server) startQuery(c *call) (any, error) {
	var in startQueryIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	switch in.QueryLanguage {
	case "", "CWLI":
	default:
		return nil, invalid("queryLanguage %q: flowlens runs CWLI (Logs Insights) queries here; run SQL with 'flowlens sql' or POST /api/v1/query", in.QueryLanguage)
	}
	if in.StartTime == nil || in.EndTime == nil {
		return nil, invalid("startTime and endTime (epoch seconds) are required")
	}
	if *in.EndTime < *in.StartTime {
		return nil, invalid("endTime is before startTime")
	}
	if in.QueryString == "" || len(in.QueryString) > 10000 {
		return nil, invalid("queryString is required (at most 10000 characters)")
	}
	limit, err := pageLimit(in.Limit, 10000, 10000, "limit")
	if err != nil {
		return nil, err
	}
	var idents []string
	n := 0
	if in.LogGroupName != "" {
		idents, n = append(idents, in.LogGroupName), n+1
	}
	if len(in.LogGroupNames) > 0 {
		idents, n = append(idents, in.LogGroupNames...), n+1
	}
	if len(in.LogGroupIdentifiers) > 0 {
		idents, n = append(idents, in.LogGroupIdentifiers...), n+1
	}
	if n > 1 {
		return nil, invalid("give one of logGroupName, logGroupNames and logGroupIdentifiers")
	}
	if len(idents) > 50 {
		return nil, invalid("at most 50 log groups")
	}
	var groups, datasets []string
	var scanned, bytes int64
	for _, id := range idents {
		g, ds, err := s.group(c.ctx, id, false)
		if err != nil {
			return nil, err
		}
		groups, datasets = append(groups, g.Name), append(datasets, g.Dataset)
		if ds != nil {
			scanned, bytes = scanned+ds.Records, bytes+ds.Bytes
		}
	}
	if len(idents) == 0 && !hasSource(in.QueryString) {
		return nil, invalid("name the log groups (logGroupName, logGroupNames or logGroupIdentifiers) or start the query with SOURCE")
	}
	req := query.Request{Query: in.QueryString, Datasets: datasets, Start: time.Unix(*in.StartTime, 0), End: time.Unix(*in.EndTime, 0), Limit: int64(limit)}
	compiled, err := s.deps.Engine.Compile(c.ctx, req)
	if err != nil {
		return nil, malformed(in.QueryString, err)
	}
	s.queries.mu.Lock()
	defer s.queries.mu.Unlock()
	s.queries.gcLocked()
	if s.queries.running() >= s.cfg.MaxQueries {
		// AWS's words for its concurrency quota
		return nil, errf("LimitExceededException", "Account maximum query concurrency limit of [%d] reached.", s.cfg.MaxQueries)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), s.cfg.QueryTimeout)
	deadline, _ := ctx.Deadline()
	q := &runningQuery{id: awshttp.NewRequestID(), text: in.QueryString, language: "CWLI", groups: groups, created: s.deps.Now(), cancel: cancel, status: statusScheduled}
	q.stats.RecordsScanned, q.stats.BytesScanned, q.stats.LogGroupsScanned = float64(scanned), float64(bytes), float64(len(groups))
	s.queries.queries[q.id] = q
	s.queries.wg.Add(1)
	go func() {
		defer s.queries.wg.Done()
		defer cancel()
		// Scheduled until the engine has a slot for it
		release, err := s.queries.acquire(ctx)
		var rows [][]resultField
		if err == nil {
			q.mu.Lock()
			if q.status == statusScheduled {
				q.status = statusRunning
			}
			q.mu.Unlock()
			var res *store.Result
			if res, err = s.deps.Engine.Exec(ctx, compiled); err == nil {
				rows = awsRows(res, groupOf(groups), !compiledGrouped(compiled))
			}
			// free before the status says the query ended
			release()
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.finished.IsZero() {
			q.finished = s.deps.Now()
		}
		switch {
		case q.status == statusCancelled:
		case errors.Is(ctx.Err(), context.DeadlineExceeded) || !time.Now().Before(deadline):
			// an answer that came after the deadline is a timeout too
			q.status, q.err, q.results = statusTimeout, fmt.Sprintf("the query ran longer than %s", s.cfg.QueryTimeout), nil
		case errors.Is(err, context.Canceled):
			q.status = statusCancelled
		case err != nil:
			q.status, q.err = statusFailed, err.Error()
			s.log.Warn("query failed", "query_id", q.id, "err", err)
		default:
			q.status, q.results = statusComplete, rows
			q.stats.RecordsMatched = float64(len(rows))
		}
	}()
	return map[string]string{"queryId": q.id}, nil
}

func hasSource(text string) bool {
	q, err := syntax.Parse(text)
	return err == nil && q != nil && len(q.Commands) > 0 && isSource(q.Commands[0])
}

func isSource(c syntax.Command) bool {
	_, ok := c.(*syntax.Source)
	return ok
}

func groupOf(groups []string) string {
	if len(groups) == 1 {
		return groups[0]
	}
	return ""
}

func compiledGrouped(c *query.Compiled) bool {
	for _, st := range c.Plan.Stages {
		if st.Grouped {
			return true
		}
	}
	return false
}

// malformed turns a query error into MalformedQueryException with its
// position, as AWS reports it.
func malformed(text string, err error) error {
	if errors.Is(err, query.ErrUnknownDataset) {
		return &apiError{Code: "ResourceNotFoundException", Message: err.Error(), Status: 400}
	}
	if !errors.Is(err, syntax.ErrQuery) {
		return err
	}
	e := &apiError{Code: "MalformedQueryException", Message: err.Error(), Status: 400}
	var se *syntax.Error
	var list syntax.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		se = list[0]
	} else {
		errors.As(err, &se)
	}
	if se != nil {
		end := int(se.Span.End)
		if end <= int(se.Span.Start) {
			end = int(se.Span.Start) + 1
		}
		e.Extra = map[string]any{"queryCompileError": map[string]any{
			"location": map[string]int{"startCharOffset": int(se.Span.Start), "endCharOffset": end},
			"message":  se.Msg,
		}}
	}
	_ = text
	return e
}

// awsRows renders a result as AWS does: every value a string, absent
// fields omitted, @ptr on rows that are one event.
func awsRows(res *store.Result, group string, events bool) [][]resultField {
	out := make([][]resultField, 0, len(res.Rows))
	ts, msg, stream := -1, -1, -1
	for i, c := range res.Columns {
		switch c {
		case "@timestamp":
			ts = i
		case "@message":
			msg = i
		case "@logStream":
			stream = i
		}
	}
	for _, row := range res.Rows {
		fields := make([]resultField, 0, len(row)+1)
		for i, v := range row {
			if v == nil {
				continue
			}
			fields = append(fields, resultField{Field: res.Columns[i], Value: valueString(v)})
		}
		if events && ts >= 0 && msg >= 0 && group != "" {
			p := logPointer{Group: group, Timestamp: millis(row[ts]), Message: str(row[msg])}
			if stream >= 0 {
				p.Stream = str(row[stream])
			}
			b, _ := json.Marshal(p)
			fields = append(fields, resultField{Field: "@ptr", Value: base64.RawURLEncoding.EncodeToString(b)})
		}
		out = append(out, fields)
	}
	return out
}

// logPointer is what @ptr encodes: enough to find the event again.
type logPointer struct {
	Group     string `json:"g"`
	Stream    string `json:"s,omitempty"`
	Timestamp int64  `json:"t"`
	Message   string `json:"m"`
}

func valueString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case time.Time:
		return t.UTC().Format("2006-01-02 15:04:05.000")
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.FormatInt(int64(t), 10)
		}
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	case []byte:
		return string(t)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

type queryIDIn struct {
	QueryID string `json:"queryId"`
}

func (s *Server) getQueryResults(c *call) (any, error) {
	var in queryIDIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	q := s.queries.get(in.QueryID)
	if q == nil {
		return nil, errf("ResourceNotFoundException", "The specified query (%s) does not exist, or its results have expired.", in.QueryID)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	out := struct {
		QueryLanguage string          `json:"queryLanguage"`
		Results       [][]resultField `json:"results"`
		Statistics    queryStats      `json:"statistics"`
		Status        string          `json:"status"`
		// flowlens's own member: why a query failed.
		Error string `json:"flowlensError,omitempty"`
	}{QueryLanguage: q.language, Results: q.results, Statistics: q.stats, Status: q.status, Error: q.err}
	if out.Results == nil {
		out.Results = [][]resultField{}
	}
	return out, nil
}

func (s *Server) stopQuery(c *call) (any, error) {
	var in queryIDIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	q := s.queries.get(in.QueryID)
	if q == nil {
		return nil, errf("ResourceNotFoundException", "The specified query (%s) does not exist.", in.QueryID)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.finished.IsZero() {
		return map[string]bool{"success": false}, nil
	}
	// Cancelled and no longer counted against MaxQueries from now on;
	// its goroutine frees the engine slot once the engine has stopped.
	q.status, q.finished = statusCancelled, s.deps.Now()
	q.cancel()
	return map[string]bool{"success": true}, nil
}

type describeQueriesIn struct {
	LogGroupName  string `json:"logGroupName"`
	Status        string `json:"status"`
	MaxResults    *int   `json:"maxResults"`
	NextToken     string `json:"nextToken"`
	QueryLanguage string `json:"queryLanguage"`
}

type queryInfo struct {
	QueryLanguage string `json:"queryLanguage"`
	QueryID       string `json:"queryId"`
	QueryString   string `json:"queryString"`
	Status        string `json:"status"`
	CreateTime    int64  `json:"createTime"`
	LogGroupName  string `json:"logGroupName,omitempty"`
}

func (s *Server) describeQueries(c *call) (any, error) {
	var in describeQueriesIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.MaxResults, 1000, 1000, "maxResults")
	if err != nil {
		return nil, err
	}
	after := ""
	if in.NextToken != "" {
		if after, err = parseNameToken(in.NextToken); err != nil {
			return nil, err
		}
	}
	s.queries.mu.Lock()
	s.queries.gcLocked()
	list := make([]*runningQuery, 0, len(s.queries.queries))
	for _, q := range s.queries.queries {
		list = append(list, q)
	}
	s.queries.mu.Unlock()
	// newest first; the key orders ties by id
	key := func(q *runningQuery) string { return fmt.Sprintf("%020d/%s", math.MaxInt64-q.created.UnixNano(), q.id) }
	sort.Slice(list, func(i, j int) bool { return key(list[i]) < key(list[j]) })
	out := struct {
		Queries   []queryInfo `json:"queries"`
		NextToken string      `json:"nextToken,omitempty"`
	}{Queries: []queryInfo{}}
	var last string
	for _, q := range list {
		k := key(q)
		if in.NextToken != "" && k <= after {
			continue
		}
		q.mu.Lock()
		status := q.status
		q.mu.Unlock()
		if in.Status != "" && status != in.Status {
			continue
		}
		name := groupFromIdent(in.LogGroupName)
		if name != "" && !containsStr(q.groups, name) {
			continue
		}
		if len(out.Queries) == limit {
			out.NextToken = nameToken(last)
			break
		}
		last = k
		out.Queries = append(out.Queries, queryInfo{QueryLanguage: q.language, QueryID: q.id, QueryString: q.text,
			Status: status, CreateTime: q.created.UnixMilli(), LogGroupName: groupOf(q.groups)})
	}
	return out, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type getLogRecordIn struct {
	LogRecordPointer string `json:"logRecordPointer"`
	Unmask           bool   `json:"unmask"`
}

// getLogRecord finds the event of an @ptr and returns its fields.
func (s *Server) getLogRecord(c *call) (any, error) {
	var in getLogRecordIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	b, err := base64.RawURLEncoding.DecodeString(in.LogRecordPointer)
	var p logPointer
	if err != nil || json.Unmarshal(b, &p) != nil || p.Group == "" {
		return nil, invalid("logRecordPointer is not an @ptr value of a query result")
	}
	g, _, err := s.group(c.ctx, p.Group, false)
	if err != nil {
		return nil, err
	}
	sec := p.Timestamp / 1000
	req := query.Request{Query: "filter @message = " + quote(p.Message) + " | limit 1", Datasets: []string{g.Dataset},
		Start: time.Unix(sec, 0), End: time.Unix(sec, 0)}
	res, _, err := s.deps.Engine.Run(c.ctx, req)
	if err != nil {
		return nil, err
	}
	record := map[string]string{}
	if len(res.Rows) == 0 {
		// an event kept aside, or gone since
		evs, _ := s.aside.events(g)
		for _, e := range evs {
			if e.Timestamp == p.Timestamp && e.Message == p.Message {
				record["@message"], record["@logStream"] = e.Message, e.Stream
				record["@timestamp"] = strconv.FormatInt(e.Timestamp, 10)
				record["@log"] = s.cfg.Account + ":" + g.Name
				return map[string]any{"logRecord": record}, nil
			}
		}
		return nil, errf("ResourceNotFoundException", "the log record of this pointer no longer exists")
	}
	for i, col := range res.Columns {
		if v := res.Rows[0][i]; v != nil {
			record[col] = valueString(v)
		}
	}
	if _, ok := record["@message"]; !ok {
		record["@message"] = p.Message
	}
	return map[string]any{"logRecord": record}, nil
}
