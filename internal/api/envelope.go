package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/flowlens/flowlens/internal/athena"
	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/catalog"
	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
)

// Error types of the envelope and the HTTP status each maps to.
const (
	TypeBadQuery        = "bad_query"
	TypeBadRequest      = "bad_request"
	TypeUnauthorized    = "unauthorized"
	TypeNotFound        = "not_found"
	TypeTooManyRequests = "too_many_requests"
	TypeTimeout         = "timeout"
	TypeCanceled        = "canceled"
	TypeTooLarge        = "payload_too_large"
	TypeInternal        = "internal"
)

var statusOf = map[string]int{
	TypeBadQuery:        http.StatusBadRequest,
	TypeBadRequest:      http.StatusBadRequest,
	TypeUnauthorized:    http.StatusUnauthorized,
	TypeNotFound:        http.StatusNotFound,
	TypeTooManyRequests: http.StatusTooManyRequests,
	TypeTimeout:         http.StatusGatewayTimeout,
	TypeCanceled:        499,
	TypeTooLarge:        http.StatusRequestEntityTooLarge,
	TypeInternal:        http.StatusInternalServerError,
}

// Position is where in the query text an error is: byte offsets
// [Offset, End), 1-based line and column (in characters).
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Offset int `json:"offset"`
	End    int `json:"end"`
}

// Error is the error member of the envelope.
type Error struct {
	Type     string    `json:"type"`
	Message  string    `json:"message"`
	Position *Position `json:"position,omitempty"`
	// retryAfter is the Retry-After of a 429, in seconds.
	retryAfter int
}

func (e *Error) Error() string { return e.Message }

func errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// classify turns an error into the envelope's error.
func classify(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var se *syntax.Error
	if errors.As(err, &se) {
		return &Error{Type: TypeBadQuery, Message: se.Error(), Position: &Position{
			Line: se.Line, Column: se.Col, Offset: int(se.Span.Start), End: int(max(se.Span.End, se.Span.Start)),
		}}
	}
	var sqlErr *athena.Error
	if errors.As(err, &sqlErr) {
		return &Error{Type: TypeBadQuery, Message: sqlErr.Error(), Position: &Position{
			Line: sqlErr.Pos.Line, Column: sqlErr.Pos.Col, Offset: sqlErr.Pos.Offset, End: sqlErr.Pos.Offset + 1,
		}}
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errorf(TypeTooLarge, "the request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, syntax.ErrQuery), errors.Is(err, errBadSQL):
		return &Error{Type: TypeBadQuery, Message: err.Error()}
	case errors.Is(err, query.ErrUnknownDataset), errors.Is(err, store.ErrNotFound), errors.Is(err, catalog.ErrNotFound):
		return &Error{Type: TypeNotFound, Message: err.Error()}
	case errors.Is(err, catalog.ErrInvalid):
		return &Error{Type: TypeBadRequest, Message: err.Error()}
	case errors.Is(err, auth.ErrInvalid):
		return &Error{Type: TypeUnauthorized, Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Type: TypeTimeout, Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &Error{Type: TypeCanceled, Message: "the query was cancelled"}
	}
	return &Error{Type: TypeInternal, Message: err.Error()}
}

// errBadSQL marks SQL the user must change (refused statements).
var errBadSQL = errors.New("SQL not accepted")

type envelope struct {
	Status string `json:"status"`
	Data   any    `json:"data,omitempty"`
	Error  *Error `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// DataHandler answers GET requests with data() in the API's envelope
// ({"status":"ok","data":…}): for the handlers of other components that
// join the API (api.Deps.Extra).
func DataHandler(data func() any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeOK(w, data()) })
}

func writeOK(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, envelope{Status: "ok", Data: data})
}

func writeError(w http.ResponseWriter, err error) {
	e := classify(err)
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.retryAfter))
	}
	writeJSON(w, statusOf[e.Type], envelope{Status: "error", Error: e})
}

// jsonValue makes a store value encodable: times as RFC 3339 (UTC), bytes
// as text, NaN and infinities as null.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	}
	return v
}
