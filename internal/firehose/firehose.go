// Package firehose is flowlens serve's Amazon Data Firehose HTTP endpoint
// (POST /firehose): a Firehose stream whose destination is "HTTP Endpoint"
// delivers its batches here. The access key of the stream
// (X-Amz-Firehose-Access-Key) is an API token of package auth; the target
// dataset is the common attribute "dataset" (default "default").
//
// Each record's data is decoded by package decode: flow log lines (one or
// several, with or without a newline), {"message": …} documents, and gzip
// CloudWatch Logs subscription payloads (DATA_MESSAGE events are records,
// CONTROL_MESSAGE is acknowledged and dropped). Lines that are not flow log
// records are counted and kept aside in a JSON lines file, as 'flowlens
// ingest --rejects' writes them.
//
// A batch is written through store.Writer under the server's write lock
// with the source key "firehose:<stream ARN>/<request id>": the answer 200
// comes only after the commit, and a retry of the same request (Firehose
// keeps the request id across retries) finds the key in the ingest
// registry and stores nothing twice, also after a restart.
package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/awshttp"
	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// Path is where the endpoint is mounted.
const Path = "/firehose"

// Firehose's own limits: an HTTP endpoint buffer holds at most 64 MiB of
// record data, and one record is at most 1,000 KiB before base64.
const (
	MaxBufferBytes = 64 << 20
	MaxRecordBytes = 1000 << 10
	// maxKeyBytes is the longest access key Firehose sends.
	maxKeyBytes = 4096
)

// Config tunes the endpoint.
type Config struct {
	// MaxBodyBytes bounds the request body as received (gzip or not) and
	// after gzip decoding (0 → the JSON of a full 64 MiB buffer: base64
	// makes it 4/3 larger, plus the envelope).
	MaxBodyBytes int64
	// MaxRecordBytes bounds one record's data (0 → Firehose's 1,000 KiB);
	// a larger record is rejected (kept aside), the rest of the batch stored.
	MaxRecordBytes int
	// DefaultDataset receives batches without a "dataset" attribute.
	DefaultDataset string
	// RejectsFile receives each rejected line as a JSON object (""
	// → not kept, only counted).
	RejectsFile string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: MaxBufferBytes/3*4 + 8<<20, MaxRecordBytes: MaxRecordBytes, DefaultDataset: "default"}
}

// Store is what the endpoint needs of the store.
type Store interface {
	store.Writer
	// DeclaredFormat is the format of header-less text of a dataset (nil:
	// the default format).
	DeclaredFormat(ctx context.Context, dataset string) (*flowlog.Format, error)
}

// Tokens verifies access keys.
type Tokens interface {
	Verify(plain string) (auth.Identity, error)
}

// Deps are the endpoint's collaborators.
type Deps struct {
	Logger *slog.Logger
	Store  Store
	Tokens Tokens
	// WriteMu is the server's write lock, taken around every store write.
	WriteMu sync.Locker
	// ValidDataset checks a dataset name (nil: any non-empty name).
	ValidDataset func(string) error
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Stats counts what the endpoint did since it started.
type Stats struct {
	Requests   int64 `json:"requests"`
	Failed     int64 `json:"failed"`     // answered 4xx/5xx
	Duplicates int64 `json:"duplicates"` // retries of a batch already stored
	FHRecords  int64 `json:"firehoseRecords"`
	Records    int64 `json:"records"`  // flow log records stored
	Rejected   int64 `json:"rejected"` // lines kept aside
	Bytes      int64 `json:"bytes"`    // request bodies as received
	// LastDelivery is the time of the last batch stored (zero: none yet).
	LastDelivery time.Time `json:"lastDelivery"`
}

// Endpoint is the component: New, Start, Stop; Handlers serve POST /firehose.
type Endpoint struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	rejMu sync.Mutex // the rejects file

	requests, failed, dups, fhRecords, records, rejected, bytes atomic.Int64
	last                                                        atomic.Int64 // ms
	inflight                                                    sync.WaitGroup
	stopping                                                    atomic.Bool
}

// New builds the endpoint.
func New(cfg Config, deps Deps) (*Endpoint, error) {
	def := DefaultConfig()
	if deps.Store == nil || deps.Tokens == nil || deps.WriteMu == nil {
		return nil, errors.New("firehose: the store, the token store and the write lock are required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = def.MaxRecordBytes
	}
	if cfg.DefaultDataset == "" {
		cfg.DefaultDataset = def.DefaultDataset
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
	return &Endpoint{cfg: cfg, deps: deps, log: deps.Logger.With("component", "firehose")}, nil
}

// Start prepares the rejects file's folder.
func (e *Endpoint) Start(ctx context.Context) error {
	if e.cfg.RejectsFile != "" {
		if err := os.MkdirAll(filepath.Dir(e.cfg.RejectsFile), 0o755); err != nil {
			return fmt.Errorf("firehose: %w", err)
		}
	}
	return nil
}

// Stop refuses new batches (503, Firehose retries them) and waits for the
// ones being stored.
func (e *Endpoint) Stop(ctx context.Context) error {
	e.stopping.Store(true)
	done := make(chan struct{})
	go func() { e.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handlers returns the handlers to mount without the API's bearer
// authentication (api.Deps.Public).
func (e *Endpoint) Handlers() map[string]http.Handler {
	return map[string]http.Handler{"POST " + Path: e}
}

// Stats returns the counters.
func (e *Endpoint) Stats() Stats {
	s := Stats{Requests: e.requests.Load(), Failed: e.failed.Load(), Duplicates: e.dups.Load(),
		FHRecords: e.fhRecords.Load(), Records: e.records.Load(), Rejected: e.rejected.Load(), Bytes: e.bytes.Load()}
	if ms := e.last.Load(); ms > 0 {
		s.LastDelivery = time.UnixMilli(ms).UTC()
	}
	return s
}

// httpError is an answer other than 200.
type httpError struct {
	status int
	msg    string
}

func (h *httpError) Error() string { return h.msg }

func fail(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// request is the body Firehose sends.
type request struct {
	RequestID string `json:"requestId"`
	Timestamp int64  `json:"timestamp"`
	Records   []struct {
		Data []byte `json:"data"` // base64, standard alphabet
	} `json:"records"`
}

func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.inflight.Add(1)
	defer e.inflight.Done()
	e.requests.Add(1)
	id := r.Header.Get("X-Amz-Firehose-Request-Id")
	if err := e.serve(r, id); err != nil {
		e.failed.Add(1)
		var he *httpError
		if !errors.As(err, &he) {
			e.log.Error("store a Firehose batch", "request_id", id, "err", err)
			he = fail(http.StatusInternalServerError, "internal error storing the batch")
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				he = fail(http.StatusServiceUnavailable, "server stopping, retry")
			}
		} else if he.status >= 500 || he.status == http.StatusRequestEntityTooLarge {
			e.log.Warn("refused a Firehose batch", "request_id", id, "status", he.status, "err", he.msg)
		}
		e.answer(w, he.status, id, he.msg)
		return
	}
	e.answer(w, http.StatusOK, id, "")
}

// answer writes the response Firehose expects: requestId and timestamp,
// and errorMessage on failure.
func (e *Endpoint) answer(w http.ResponseWriter, status int, id, msg string) {
	body := struct {
		RequestID    string `json:"requestId"`
		Timestamp    int64  `json:"timestamp"`
		ErrorMessage string `json:"errorMessage,omitempty"`
	}{id, e.deps.Now().UnixMilli(), msg}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "5")
	}
	awshttp.WriteJSON(w, status, "application/json", body, "")
}

func (e *Endpoint) serve(r *http.Request, id string) error {
	if e.stopping.Load() {
		return fail(http.StatusServiceUnavailable, "server stopping, retry")
	}
	key := r.Header.Get("X-Amz-Firehose-Access-Key")
	switch {
	case key == "":
		return fail(http.StatusUnauthorized, "Access key missing")
	case len(key) > maxKeyBytes:
		return fail(http.StatusForbidden, "Access key invalid")
	}
	if _, err := e.deps.Tokens.Verify(key); err != nil {
		if errors.Is(err, auth.ErrInvalid) {
			return fail(http.StatusForbidden, "Access key invalid")
		}
		return err
	}
	if v := r.Header.Get("X-Amz-Firehose-Protocol-Version"); v != "" && v != "1.0" {
		return fail(http.StatusBadRequest, "unsupported protocol version %q (1.0 only)", v)
	}
	if id == "" {
		return fail(http.StatusBadRequest, "X-Amz-Firehose-Request-Id missing")
	}
	if len(id) > 256 {
		return fail(http.StatusBadRequest, "X-Amz-Firehose-Request-Id longer than 256 bytes")
	}
	dataset, err := e.dataset(r.Header.Get("X-Amz-Firehose-Common-Attributes"))
	if err != nil {
		return err
	}
	if r.ContentLength > e.cfg.MaxBodyBytes {
		return fail(http.StatusRequestEntityTooLarge, "body of %d bytes exceeds %d", r.ContentLength, e.cfg.MaxBodyBytes)
	}
	req, size, err := e.readBody(r)
	if err != nil {
		return err
	}
	e.bytes.Add(size)
	if req.RequestID != "" && req.RequestID != id {
		return fail(http.StatusBadRequest, "body requestId %q differs from X-Amz-Firehose-Request-Id", req.RequestID)
	}
	return e.store(r.Context(), r.Header.Get("X-Amz-Firehose-Source-Arn"), id, dataset, req)
}

// dataset reads the "dataset" common attribute.
func (e *Endpoint) dataset(h string) (string, error) {
	ds := e.cfg.DefaultDataset
	if h == "" {
		return ds, nil
	}
	var attrs struct {
		CommonAttributes map[string]string `json:"commonAttributes"`
	}
	if err := json.Unmarshal([]byte(h), &attrs); err != nil {
		return "", fail(http.StatusBadRequest, "X-Amz-Firehose-Common-Attributes is not {\"commonAttributes\": {…}}: %v", err)
	}
	if v, ok := attrs.CommonAttributes["dataset"]; ok {
		if err := e.deps.ValidDataset(v); err != nil {
			return "", fail(http.StatusBadRequest, "common attribute dataset: %v", err)
		}
		ds = v
	}
	return ds, nil
}

// readBody reads and decodes the JSON body (gzip when Content-Encoding
// says so, or when the body starts with gzip's magic), bounded before and
// after decompression.
func (e *Endpoint) readBody(r *http.Request) (*request, int64, error) {
	limit := e.cfg.MaxBodyBytes
	body, err := awshttp.OpenBody(r, limit)
	defer body.Close()
	switch {
	case errors.Is(err, awshttp.ErrEncoding):
		return nil, body.Received(), fail(http.StatusUnsupportedMediaType, "%v", err)
	case err != nil:
		return nil, body.Received(), fail(http.StatusBadRequest, "%v", err)
	}
	var req request
	dec := json.NewDecoder(body)
	err = dec.Decode(&req)
	if err == nil {
		// Nothing but blanks may follow the document.
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = errors.New("data after the JSON document")
		}
	}
	if body.TooLarge() {
		return nil, body.Received(), fail(http.StatusRequestEntityTooLarge, "body exceeds %d bytes", limit)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, body.Received(), fail(http.StatusRequestEntityTooLarge, "body exceeds %d bytes", mbe.Limit)
		}
		return nil, body.Received(), fail(http.StatusBadRequest, "body is not a Firehose request (JSON with requestId, timestamp, records[].data in base64): %v", err)
	}
	return &req, body.Received(), nil
}

// store decodes the records and commits them as one source object.
func (e *Endpoint) store(ctx context.Context, arn, id, dataset string, req *request) error {
	nrec := len(req.Records)
	fm, err := e.deps.Store.DeclaredFormat(ctx, dataset)
	if err != nil {
		return err
	}
	var batches []*flowlog.Batch
	var rejects []*decode.LineError
	var n int64
	// Records of plain lines are decoded together, as one text (one
	// decoder, one batch): a decode per record allocated a whole batch
	// for each line.
	var text []byte
	for i := 0; i < len(req.Records); i++ {
		d := req.Records[i].Data
		if len(d) == 0 || len(d) > e.cfg.MaxRecordBytes || d[0] == 0x1f || d[0] == '{' || bytes.HasPrefix(d, []byte("PAR1")) {
			continue
		}
		text = append(text, d...)
		if d[len(d)-1] != '\n' {
			text = append(text, '\n')
		}
		req.Records[i].Data = nil
	}
	if len(text) > 0 {
		req.Records = append(req.Records, struct {
			Data []byte `json:"data"`
		}{text})
	}
	for i, rec := range req.Records {
		name := fmt.Sprintf("firehose:%s#%d", id, i+1)
		if i < nrec && len(rec.Data) > e.cfg.MaxRecordBytes {
			rejects = append(rejects, &decode.LineError{File: name, Line: 1, Kind: decode.KindTooLong,
				Reason: fmt.Sprintf("Firehose record of %d bytes exceeds %d", len(rec.Data), e.cfg.MaxRecordBytes),
				Text:   clip(rec.Data)})
			continue
		}
		if len(bytes.TrimSpace(rec.Data)) == 0 {
			continue
		}
		// Now places the records of a format without start (Firehose
		// records carry no time of their own).
		opts := decode.Options{Name: name, Format: fm, Now: e.deps.Now().Unix(), OnReject: func(le *decode.LineError) {
			cp := *le
			rejects = append(rejects, &cp)
		}}
		_, err := decode.Read(ctx, bytes.NewReader(rec.Data), opts, func(b *flowlog.Batch) error {
			batches = append(batches, b)
			n += int64(b.N)
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// A record that is no container flowlens reads (a corrupt
			// gzip member): kept aside, the batch still stored.
			rejects = append(rejects, &decode.LineError{File: name, Line: 1, Kind: decode.KindNotRecord,
				Reason: err.Error(), Text: clip(rec.Data)})
		}
	}
	e.fhRecords.Add(int64(nrec))
	if n == 0 && len(rejects) == 0 {
		return nil // control messages, empty batches: nothing to keep
	}
	src := store.Source{Key: "firehose:" + arn + "/" + id, Checksum: "request-id", ModTime: time.UnixMilli(req.Timestamp)}
	e.deps.WriteMu.Lock()
	defer e.deps.WriteMu.Unlock()
	tx, err := e.deps.Store.BeginFile(ctx, dataset, src, false)
	if errors.Is(err, store.ErrAlreadyIngested) {
		e.dups.Add(1)
		return nil
	}
	if err != nil {
		return err
	}
	for _, b := range batches {
		if err := tx.Append(ctx, b); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	// The rejects are kept before the commit: a batch acknowledged has
	// its rejects on disk (a crash between the two may keep a retry's
	// rejects twice, never lose them).
	if err := e.keepRejects(rejects); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	e.records.Add(n)
	e.rejected.Add(int64(len(rejects)))
	e.last.Store(e.deps.Now().UnixMilli())
	return nil
}

func clip(b []byte) string {
	const max = 512
	if len(b) > max {
		b = b[:max]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// keepRejects appends the rejected lines to the rejects file and syncs it.
func (e *Endpoint) keepRejects(rejects []*decode.LineError) error {
	if len(rejects) == 0 || e.cfg.RejectsFile == "" {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, le := range rejects {
		_ = enc.Encode(struct {
			File   string `json:"file"`
			Line   int64  `json:"line"`
			Field  string `json:"field,omitempty"`
			Kind   string `json:"kind,omitempty"`
			Reason string `json:"reason"`
			Text   string `json:"text"`
		}{le.File, le.Line, le.Field, le.Kind, le.Reason, le.Text})
	}
	e.rejMu.Lock()
	defer e.rejMu.Unlock()
	f, err := os.OpenFile(e.cfg.RejectsFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
