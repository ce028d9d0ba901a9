package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/query"
)

// QueryRequest is the body of /query, /queries, /explain and /validate.
type QueryRequest struct {
	Query    string   `json:"query"`
	Language string   `json:"language,omitempty"`
	Datasets []string `json:"datasets,omitempty"`
	Since    string   `json:"since,omitempty"`
	// Start and End are RFC 3339 strings (or the forms of --start) or
	// epoch milliseconds.
	Start json.RawMessage `json:"start,omitempty"`
	End   json.RawMessage `json:"end,omitempty"`
	Limit int64           `json:"limit,omitempty"`
	// TimeoutMs shortens the server's query timeout for this query.
	TimeoutMs int64 `json:"timeoutMs,omitempty"`
}

// parsed is a checked request.
type parsed struct {
	QueryRequest
	start, end time.Time
	timeout    time.Duration
}

func decodeBody(r *http.Request, into any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return errorf(TypeBadRequest, "the request needs a JSON body")
		}
		return errorf(TypeBadRequest, "the request body is not valid JSON for this endpoint: %v", err)
	}
	if dec.More() {
		return errorf(TypeBadRequest, "the request body holds more than one JSON value")
	}
	return nil
}

func (s *Server) parseQueryRequest(r *http.Request) (*parsed, error) {
	var q QueryRequest
	if err := decodeBody(r, &q); err != nil {
		return nil, err
	}
	return s.checkRequest(q)
}

func (s *Server) checkRequest(q QueryRequest) (*parsed, error) {
	p := &parsed{QueryRequest: q}
	if strings.TrimSpace(q.Query) == "" {
		return nil, errorf(TypeBadRequest, "\"query\" is empty")
	}
	switch q.Language {
	case "", "insights":
		p.Language = "insights"
	case "sql":
	default:
		return nil, errorf(TypeBadRequest, "\"language\" is \"insights\" or \"sql\", not %q", q.Language)
	}
	now := s.deps.Now().UTC()
	if q.Since != "" {
		if len(q.Start) > 0 || len(q.End) > 0 {
			return nil, errorf(TypeBadRequest, "give either \"since\" or \"start\"/\"end\", not both")
		}
		d, err := query.ParseSince(q.Since)
		if err != nil {
			return nil, errorf(TypeBadRequest, "\"since\": %v", err)
		}
		p.start, p.end = now.Add(-d), now
	}
	var err error
	if p.start, err = parseWhen("start", q.Start, now, p.start); err != nil {
		return nil, err
	}
	if p.end, err = parseWhen("end", q.End, now, p.end); err != nil {
		return nil, err
	}
	if !p.start.IsZero() && p.end.IsZero() {
		p.end = now
	}
	if !p.start.IsZero() && !p.end.IsZero() && p.end.Before(p.start) {
		return nil, errorf(TypeBadRequest, "the time range ends (%s) before it starts (%s)", p.end.Format(time.RFC3339), p.start.Format(time.RFC3339))
	}
	switch {
	case q.Limit < 0:
		return nil, errorf(TypeBadRequest, "\"limit\" must be positive")
	case q.Limit > s.cfg.MaxRows:
		return nil, errorf(TypeBadRequest, "\"limit\" %d is above this server's maximum of %d rows (flowlens serve --max-rows)", q.Limit, s.cfg.MaxRows)
	case q.Limit == 0:
		p.Limit = s.cfg.DefaultRows
	}
	p.timeout = s.cfg.QueryTimeout
	if q.TimeoutMs < 0 {
		return nil, errorf(TypeBadRequest, "\"timeoutMs\" must be positive")
	}
	if t := time.Duration(q.TimeoutMs) * time.Millisecond; t > 0 && (p.timeout == 0 || t < p.timeout) {
		p.timeout = t
	}
	for _, d := range q.Datasets {
		if strings.TrimSpace(d) == "" {
			return nil, errorf(TypeBadRequest, "\"datasets\" holds an empty name")
		}
	}
	return p, nil
}

func parseWhen(name string, raw json.RawMessage, now, def time.Time) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var ms int64
	if err := json.Unmarshal(raw, &ms); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, errorf(TypeBadRequest, "%q is an RFC 3339 string or epoch milliseconds", name)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 12 {
		return time.UnixMilli(n).UTC(), nil
	}
	t, err := query.ParseTime(s, now)
	if err != nil {
		return time.Time{}, errorf(TypeBadRequest, "%q: %v", name, err)
	}
	return t.UTC(), nil
}

func (p *parsed) engineRequest() query.Request {
	return query.Request{Query: p.Query, Datasets: p.Datasets, Start: p.start, End: p.end, Limit: p.Limit}
}

func fmtRange(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
