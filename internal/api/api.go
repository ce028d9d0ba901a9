// Package api is flowlens serve's REST API under /api/v1/: Logs Insights
// and SQL queries (synchronous, and asynchronous like StartQuery /
// GetQueryResults / StopQuery), explain and validate for the editor,
// datasets and their fields, query history, saved queries and dashboards.
// Every endpoint answers in one JSON envelope; every endpoint that reads or
// writes data needs a bearer token. Guardrails: a limit on concurrent
// queries (429 with Retry-After beyond it), a per-query timeout, a row cap
// the client can raise up to a maximum, and a request body size limit.
//
// The package sees the store only through the query engine and the
// store's interfaces; cli wires the concrete backend.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/catalog"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
)

// Config tunes the API.
type Config struct {
	// Listen is the address of the HTTP server ("127.0.0.1:8080").
	Listen string
	// TLSCert and TLSKey serve HTTPS when both are set.
	TLSCert, TLSKey string
	// MaxConcurrent bounds the queries running at once; beyond it a query
	// gets 429 with Retry-After.
	MaxConcurrent int
	// QueryTimeout bounds each query (a request may ask for less).
	QueryTimeout time.Duration
	// DefaultRows caps the rows of a query without limit; a request may
	// raise it up to MaxRows.
	DefaultRows, MaxRows int64
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64
	// ResultTTL is how long the results of an asynchronous query are kept.
	ResultTTL time.Duration
}

// DefaultConfig returns the defaults of flowlens serve.
func DefaultConfig() Config {
	return Config{
		Listen:        "127.0.0.1:8080",
		MaxConcurrent: 8,
		QueryTimeout:  5 * time.Minute,
		DefaultRows:   query.DefaultLimit,
		MaxRows:       1_000_000,
		MaxBodyBytes:  1 << 20,
		ResultTTL:     time.Hour,
	}
}

// SQLRunner runs the read-only SQL of `flowlens sql` (Athena column names
// and functions) and returns the last statement's result.
type SQLRunner interface {
	RunSQL(ctx context.Context, text string) (*store.Result, error)
	ExplainSQL(ctx context.Context, text string) (string, error)
}

// Deps are the API's collaborators.
type Deps struct {
	Logger   *slog.Logger
	Engine   *query.Engine
	SQL      SQLRunner
	Datasets store.Cataloger
	Tokens   *auth.Store
	Catalog  *catalog.Catalog
	// Ready reports whether the store is open and answers (nil: ready).
	Ready func(ctx context.Context) error
	// Console serves the web console at / (nil: none).
	Console http.Handler
	// Extra handlers mounted with their pattern (e.g. the CLI forwarding
	// endpoint), behind the same authentication.
	Extra map[string]http.Handler
	// Public handlers are mounted with their pattern without the API's
	// bearer authentication and body limit: each authenticates its callers
	// and bounds its bodies itself (the CloudWatch Logs JSON endpoint with
	// access keys, the Firehose endpoint with its access key header).
	Public map[string]http.Handler
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Observe, when set, sees the status of an asynchronous query each
	// time a time slice of it is done (partial rows and statistics).
	Observe func(QueryStatus)
}

// Server is the HTTP API component: New, then Start, then Stop.
type Server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	sem     chan struct{}
	queries *manager

	mu       sync.Mutex
	http     *http.Server
	listener net.Listener
	done     chan error
}

// New builds the API. It does not listen until Start.
func New(cfg Config, deps Deps) (*Server, error) {
	def := DefaultConfig()
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = def.MaxConcurrent
	}
	if cfg.DefaultRows <= 0 {
		cfg.DefaultRows = def.DefaultRows
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = def.MaxRows
	}
	if cfg.MaxRows < cfg.DefaultRows {
		return nil, errors.New("api: the row cap maximum is below the default")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	if cfg.ResultTTL <= 0 {
		cfg.ResultTTL = def.ResultTTL
	}
	if deps.Engine == nil || deps.Tokens == nil || deps.Catalog == nil {
		return nil, errors.New("api: the engine, the token store and the catalog are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger.With("component", "api"),
		sem: make(chan struct{}, cfg.MaxConcurrent)}
	s.queries = newManager(cfg.ResultTTL, deps.Now)
	return s, nil
}

// Handler returns the whole HTTP handler: health, the API, the console.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeOK(w, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	api := func(pattern string, h func(http.ResponseWriter, *http.Request)) {
		mux.Handle(pattern, s.authenticated(http.HandlerFunc(h)))
	}
	api("GET /api/v1/whoami", s.whoami)
	api("POST /api/v1/query", s.querySync)
	api("POST /api/v1/queries", s.queryStart)
	api("GET /api/v1/queries", s.queryList)
	api("GET /api/v1/queries/{id}", s.queryStatus)
	api("POST /api/v1/queries/{id}/stop", s.queryStop)
	api("DELETE /api/v1/queries/{id}", s.queryStop)
	api("POST /api/v1/explain", s.explain)
	api("POST /api/v1/validate", s.validate)
	api("GET /api/v1/language", s.language)
	api("GET /api/v1/datasets", s.datasets)
	api("GET /api/v1/datasets/{name}", s.dataset)
	api("GET /api/v1/datasets/{name}/fields", s.datasetFields)
	api("GET /api/v1/fields", s.fields)
	api("GET /api/v1/history", s.history)
	api("GET /api/v1/saved-queries", s.savedList)
	api("POST /api/v1/saved-queries", s.savedCreate)
	api("GET /api/v1/saved-queries/{id}", s.savedGet)
	api("PUT /api/v1/saved-queries/{id}", s.savedPut)
	api("DELETE /api/v1/saved-queries/{id}", s.savedDelete)
	api("GET /api/v1/dashboards", s.dashList)
	api("POST /api/v1/dashboards", s.dashCreate)
	api("GET /api/v1/dashboards/{id}", s.dashGet)
	api("PUT /api/v1/dashboards/{id}", s.dashPut)
	api("DELETE /api/v1/dashboards/{id}", s.dashDelete)
	mux.HandleFunc("GET /api/v1/openapi.json", s.openapi)
	for pattern, h := range s.deps.Extra {
		mux.Handle(pattern, s.authenticated(h))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(TypeNotFound, "no endpoint %s %s (the API is documented at /api/v1/openapi.json)", r.Method, r.URL.Path))
	})
	if s.deps.Console != nil {
		mux.Handle("/", s.deps.Console)
	}
	if len(s.deps.Public) == 0 {
		return s.limitBody(mux)
	}
	outer := http.NewServeMux()
	outer.Handle("/", s.limitBody(mux))
	for pattern, h := range s.deps.Public {
		outer.Handle(pattern, h)
	}
	return outer
}

func (s *Server) limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && !strings.HasPrefix(r.URL.Path, "/api/v1/cli/") {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		h.ServeHTTP(w, r)
	})
}

type identityKey struct{}

// authenticated refuses requests without a valid bearer token.
func (s *Server) authenticated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(hdr, "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="flowlens"`)
			writeError(w, errorf(TypeUnauthorized, "this endpoint needs 'Authorization: Bearer TOKEN' (create one with 'flowlens tokens create')"))
			return
		}
		id, err := s.deps.Tokens.Verify(strings.TrimSpace(tok))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="flowlens", error="invalid_token"`)
			if errors.Is(err, auth.ErrInvalid) {
				writeError(w, errorf(TypeUnauthorized, "%v", err))
			} else {
				s.log.Error("token check", "err", err)
				writeError(w, errorf(TypeInternal, "the token store cannot be read"))
			}
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

func identity(ctx context.Context) auth.Identity {
	id, _ := ctx.Value(identityKey{}).(auth.Identity)
	return id
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.deps.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.deps.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, envelope{Status: "error", Error: errorf("unavailable", "not ready: %v", err)})
			return
		}
	}
	writeOK(w, map[string]string{"status": "ready"})
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	writeOK(w, identity(r.Context()))
}

// Start listens and serves in the background. It returns once the
// listener is bound (Addr then tells the address).
func (s *Server) Start(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	s.http, s.listener, s.done = srv, ln, make(chan error, 1)
	s.mu.Unlock()
	go func() {
		var err error
		if s.cfg.TLSCert != "" && s.cfg.TLSKey != "" {
			err = srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Addr is the address the server listens on (after Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// Done is closed-over error channel of the serving goroutine.
func (s *Server) Done() <-chan error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// Stop stops accepting requests, lets running requests finish until ctx
// ends, then cancels what still runs (asynchronous queries included).
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	srv := s.http
	s.mu.Unlock()
	var err error
	if srv != nil {
		if err = srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
	s.queries.stopAll()
	s.queries.wait()
	return err
}
