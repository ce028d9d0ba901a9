// Package cwlogs is flowlens serve's CloudWatch-Logs-compatible API: the
// AWS JSON 1.1 protocol at POST / (X-Amz-Target: Logs_20140328.<Op>),
// authenticated with SigV4 access keys of package auth, so that the AWS
// CLI and SDKs work against flowlens with only the endpoint changed.
//
// Log groups are datasets; the log stream of a flow log record is
// `<interface-id>-all`, as AWS's flow log delivery names it. PutLogEvents
// parses every message as a flow log record in the group's format and
// writes the batch through store.Writer under the server's write lock,
// keyed by the batch's content so that a retried request is stored once;
// messages that are not flow log records are kept aside (with stream,
// timestamp and ingestion time), counted and returned by GetLogEvents and
// FilterLogEvents like any event. Logs Insights queries run on the query
// engine. The API's own metadata (groups' creation times, streams, metric
// filters) lives in DIR/cwlogs.
package cwlogs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/awshttp"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
)

// Config tunes the API.
type Config struct {
	// Dir is where the API keeps its metadata (DIR/cwlogs of the data folder).
	Dir string
	// Verify checks every request's SigV4 signature against the access
	// keys of the token store; false accepts any request (development only).
	Verify bool
	// Region and Account appear in ARNs when a request names no region.
	Region, Account string
	// MaxBodyBytes bounds a request body (after gzip decoding).
	MaxBodyBytes int64
	// MaxQueries bounds the Logs Insights queries not yet finished
	// (Scheduled or Running, AWS's concurrency quota); StartQuery beyond
	// it is LimitExceededException.
	MaxQueries int
	// MaxRunning bounds the queries the engine runs at once; the others
	// wait, Scheduled, for a slot.
	MaxRunning int
	// QueryTimeout bounds a query from StartQuery on, its wait for a slot
	// included; beyond it the query's status is Timeout (AWS: 60 minutes).
	QueryTimeout time.Duration
	// QueryTTL is how long finished queries and their results are kept.
	QueryTTL time.Duration
	// MaxEventAge: PutLogEvents reports older events in
	// rejectedLogEventsInfo (0: AWS's 14 days; negative: no bound, to load
	// history).
	MaxEventAge time.Duration
}

// DefaultConfig returns the defaults of flowlens serve.
func DefaultConfig() Config {
	return Config{Verify: true, Region: "us-east-1", Account: "000000000000", MaxBodyBytes: 8 << 20,
		MaxQueries: 30, MaxRunning: 8, QueryTimeout: 60 * time.Minute, QueryTTL: 24 * time.Hour}
}

// Store is what the API needs of the store.
type Store interface {
	store.Writer
	store.Cataloger
	store.Retainer
	store.Querier
	SetRetention(ctx context.Context, dataset string, keep time.Duration) error
	DeclareFormat(ctx context.Context, dataset string, f *flowlog.Format) error
	DeclaredFormat(ctx context.Context, dataset string) (*flowlog.Format, error)
}

// Deps are the API's collaborators.
type Deps struct {
	Logger *slog.Logger
	Store  Store
	Engine *query.Engine
	Tokens *auth.Store
	// Filters holds the metric filter definitions (nil: none).
	Filters *metricfilter.Store
	// WriteMu is the server's write lock, taken around every store write.
	WriteMu sync.Locker
	// ValidDataset checks a dataset name (nil: any non-empty name).
	ValidDataset func(string) error
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Server is the component: New, Start, Stop; Handler serves POST /.
type Server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	mu    sync.Mutex // state and its file
	state *state
	aside *asideStore

	queries *queryManager

	// events PutLogEvents dropped and reported in rejectedLogEventsInfo
	tooNew, tooOld, expired atomic.Int64
}

// Stats are the API's ingest counts.
type Stats struct {
	// NotFlowLog counts the messages kept aside (not flow log records in
	// their group's format), over every group (kept across restarts).
	NotFlowLog int64 `json:"notFlowLogEvents"`
	// TooNew, TooOld and Expired count the events PutLogEvents dropped and
	// reported in rejectedLogEventsInfo since the server started.
	TooNew  int64 `json:"tooNewLogEvents"`
	TooOld  int64 `json:"tooOldLogEvents"`
	Expired int64 `json:"expiredLogEvents"`
}

// Stats returns the counts.
func (s *Server) Stats() Stats {
	out := Stats{TooNew: s.tooNew.Load(), TooOld: s.tooOld.Load(), Expired: s.expired.Load()}
	s.mu.Lock()
	if s.state != nil {
		for _, g := range s.state.Groups {
			out.NotFlowLog += g.NotFlowLog
		}
	}
	s.mu.Unlock()
	return out
}

// New builds the API from its configuration.
func New(cfg Config, deps Deps) (*Server, error) {
	def := DefaultConfig()
	if cfg.Dir == "" {
		return nil, errors.New("cwlogs: a metadata folder is required")
	}
	if deps.Store == nil || deps.Engine == nil || deps.Tokens == nil || deps.WriteMu == nil {
		return nil, errors.New("cwlogs: the store, the engine, the token store and the write lock are required")
	}
	if cfg.Region == "" {
		cfg.Region = def.Region
	}
	if cfg.Account == "" {
		cfg.Account = def.Account
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	if cfg.MaxQueries <= 0 {
		cfg.MaxQueries = def.MaxQueries
	}
	if cfg.MaxRunning <= 0 {
		cfg.MaxRunning = def.MaxRunning
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = def.QueryTimeout
	}
	if cfg.QueryTTL <= 0 {
		cfg.QueryTTL = def.QueryTTL
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.ValidDataset == nil {
		deps.ValidDataset = func(s string) error {
			if s == "" {
				return errors.New("empty dataset name")
			}
			return nil
		}
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger.With("component", "cwlogs")}
	s.queries = newQueryManager(cfg.QueryTTL, cfg.MaxRunning, deps.Now)
	return s, nil
}

// Start loads the metadata.
func (s *Server) Start(ctx context.Context) error {
	st, err := loadState(s.cfg.Dir)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.state = st
	s.aside = newAsideStore(s.cfg.Dir)
	s.mu.Unlock()
	return nil
}

// Stop cancels running queries and waits for them.
func (s *Server) Stop(ctx context.Context) error {
	s.queries.stopAll()
	done := make(chan struct{})
	go func() { s.queries.wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handlers returns the handlers to mount without the API's bearer
// authentication (api.Deps.Public).
func (s *Server) Handlers() map[string]http.Handler {
	return map[string]http.Handler{"POST /{$}": s}
}

// apiError is an error answered in AWS's shape.
type apiError struct {
	Code    string
	Message string
	Status  int
	Extra   map[string]any
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func invalid(format string, args ...any) *apiError {
	return errf("InvalidParameterException", format, args...)
}

var (
	errGroupNotFound  = &apiError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist.", Status: 400}
	errStreamNotFound = &apiError{Code: "ResourceNotFoundException", Message: "The specified log stream does not exist.", Status: 400}
)

type call struct {
	ctx    context.Context
	region string
	id     auth.Identity
	body   []byte
}

// decode reads the JSON input into v, refusing unknown shapes.
func (c *call) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errf("SerializationException", "the request body is not the operation's JSON input: %v", err)
	}
	return nil
}

type handler func(s *Server, c *call) (any, error)

var operations = map[string]handler{
	"CreateLogGroup":        (*Server).createLogGroup,
	"DeleteLogGroup":        (*Server).deleteLogGroup,
	"DescribeLogGroups":     (*Server).describeLogGroups,
	"CreateLogStream":       (*Server).createLogStream,
	"DeleteLogStream":       (*Server).deleteLogStream,
	"DescribeLogStreams":    (*Server).describeLogStreams,
	"PutRetentionPolicy":    (*Server).putRetentionPolicy,
	"DeleteRetentionPolicy": (*Server).deleteRetentionPolicy,
	"PutLogEvents":          (*Server).putLogEvents,
	"GetLogEvents":          (*Server).getLogEvents,
	"FilterLogEvents":       (*Server).filterLogEvents,
	"StartQuery":            (*Server).startQuery,
	"GetQueryResults":       (*Server).getQueryResults,
	"StopQuery":             (*Server).stopQuery,
	"DescribeQueries":       (*Server).describeQueries,
	"GetLogRecord":          (*Server).getLogRecord,
	"PutMetricFilter":       (*Server).putMetricFilter,
	"DescribeMetricFilters": (*Server).describeMetricFilters,
	"DeleteMetricFilter":    (*Server).deleteMetricFilter,
	"TestMetricFilter":      (*Server).testMetricFilter,
}

const targetPrefix = "Logs_20140328."

// ServeHTTP answers one JSON 1.1 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := awshttp.NewRequestID()
	w.Header().Set("x-amzn-RequestId", rid)
	start := s.deps.Now()
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	out, err := s.serve(r, op)
	if err != nil {
		var ae *apiError
		var au *authError
		switch {
		case errors.As(err, &ae):
		case errors.As(err, &au):
			ae = &apiError{Code: au.code, Message: au.msg, Status: http.StatusBadRequest}
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			ae = &apiError{Code: "ServiceUnavailableException", Message: "the request was cancelled: " + err.Error(), Status: 500}
		default:
			s.log.Error("request failed", "op", op, "err", err, "request_id", rid)
			ae = &apiError{Code: "ServiceUnavailableException", Message: "internal failure (request " + rid + "): " + err.Error(), Status: 500}
		}
		body := map[string]any{"__type": ae.Code, "message": ae.Message}
		for k, v := range ae.Extra {
			body[k] = v
		}
		w.Header().Set("X-Amzn-ErrorType", ae.Code)
		writeJSON(w, ae.Status, body)
		s.log.Debug("request", "op", op, "error", ae.Code, "ms", s.deps.Now().Sub(start).Milliseconds())
		return
	}
	writeJSON(w, http.StatusOK, out)
	s.log.Debug("request", "op", op, "ms", s.deps.Now().Sub(start).Milliseconds())
}

func (s *Server) serve(r *http.Request, op string) (any, error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); ct != "" && mt != "application/x-amz-json-1.1" && mt != "application/json" {
		return nil, errf("SerializationException", "Content-Type %q: send application/x-amz-json-1.1", ct)
	}
	body, err := s.readBody(r)
	if err != nil {
		return nil, err
	}
	id, err := authenticate(r, body, s.deps.Tokens, s.cfg.Verify, s.deps.Now())
	if err != nil {
		return nil, err
	}
	h, ok := operations[op]
	if !ok {
		if !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) {
			return nil, errf("UnknownOperationException", "the X-Amz-Target header must be %s<Operation>, got %q", targetPrefix, r.Header.Get("X-Amz-Target"))
		}
		return nil, errf("UnknownOperationException", "operation %s is not supported by flowlens", op)
	}
	s.mu.Lock()
	ready := s.state != nil
	s.mu.Unlock()
	if !ready {
		return nil, &apiError{Code: "ServiceUnavailableException", Message: "the CloudWatch Logs API is not started", Status: 500}
	}
	region := s.cfg.Region
	if a, err := parseAuthorization(r.Header.Get("Authorization")); err == nil && a.region != "" {
		region = a.region
	}
	return h(s, &call{ctx: r.Context(), region: region, id: id, body: body})
}

func (s *Server) readBody(r *http.Request) ([]byte, error) {
	body, err := awshttp.OpenBody(r, s.cfg.MaxBodyBytes)
	defer body.Close()
	if err != nil {
		return nil, errf("SerializationException", "%v", err)
	}
	b, err := io.ReadAll(body)
	if body.TooLarge() {
		return nil, &apiError{Code: "InvalidParameterException", Message: fmt.Sprintf("the request body is larger than %d bytes", s.cfg.MaxBodyBytes), Status: http.StatusRequestEntityTooLarge}
	}
	if err != nil {
		return nil, errf("SerializationException", "reading the request body: %v", err)
	}
	return b, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	awshttp.WriteJSON(w, status, "application/x-amz-json-1.1", v, `{"__type":"ServiceUnavailableException","message":"response encoding failed"}`)
}

type empty struct{}
