package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/catalog"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
)

func testServer(t *testing.T) *Server {
	t.Helper()
	cat, err := catalog.Open(context.Background(), t.TempDir(), 10)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 31, 12, 0, 0, 0, time.UTC)
	s, err := New(Config{MaxRows: 100, DefaultRows: 10}, Deps{
		Engine: query.New(query.Config{}, nil, nil), Tokens: auth.Open(t.TempDir()), Catalog: cat,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckRequest(t *testing.T) {
	s := testServer(t)
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	tests := []struct {
		in         QueryRequest
		start, end string // RFC 3339, "" for zero
		limit      int64
		err        string
	}{
		{in: QueryRequest{Query: "stats count(*)"}, limit: 10},
		{in: QueryRequest{Query: "x", Since: "1h"}, start: "2024-05-31T11:00:00Z", end: "2024-05-31T12:00:00Z", limit: 10},
		{in: QueryRequest{Query: "x", Start: raw("2024-05-31T10:00:00Z")}, start: "2024-05-31T10:00:00Z", end: "2024-05-31T12:00:00Z", limit: 10},
		{in: QueryRequest{Query: "x", Start: raw(1717149600000), End: raw("1717153200000")}, start: "2024-05-31T10:00:00Z", end: "2024-05-31T11:00:00Z", limit: 10},
		{in: QueryRequest{Query: "x", Start: raw("-2h")}, start: "2024-05-31T10:00:00Z", end: "2024-05-31T12:00:00Z", limit: 10},
		{in: QueryRequest{Query: "x", Limit: 50}, limit: 50},
		{in: QueryRequest{Query: " "}, err: "empty"},
		{in: QueryRequest{Query: "x", Language: "promql"}, err: "language"},
		{in: QueryRequest{Query: "x", Since: "1h", End: raw("2024-05-31")}, err: "not both"},
		{in: QueryRequest{Query: "x", Since: "soon"}, err: "since"},
		{in: QueryRequest{Query: "x", Start: raw(true)}, err: "RFC 3339"},
		{in: QueryRequest{Query: "x", Start: raw("2024-05-31T11:00:00Z"), End: raw("2024-05-31T10:00:00Z")}, err: "before it starts"},
		{in: QueryRequest{Query: "x", Limit: 101}, err: "maximum of 100"},
		{in: QueryRequest{Query: "x", Limit: -1}, err: "positive"},
		{in: QueryRequest{Query: "x", Datasets: []string{""}}, err: "empty name"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc.in), func(t *testing.T) {
			p, err := s.checkRequest(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if classify(err).Type != TypeBadRequest {
					t.Fatalf("type %s", classify(err).Type)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmtRange(p.start) != tc.start || fmtRange(p.end) != tc.end || p.Limit != tc.limit {
				t.Fatalf("got %s..%s limit %d", fmtRange(p.start), fmtRange(p.end), p.Limit)
			}
		})
	}
}

func TestShapeOf(t *testing.T) {
	e := query.New(query.Config{}, nil, nil)
	tests := []struct {
		q                   string
		time                string
		keys, values, addrs string
	}{
		{"stats sum(bytes) as b by bin(5m)", "bin(5m)", "bin(5m)", "b", ""},
		{"stats sum(bytes) as b by bin(1h) as t, action", "t", "t,action", "b", ""},
		{"stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 10", "", "srcAddr,dstAddr", "b", "srcAddr,dstAddr"},
		{"stats count(*) as n by dstPort | sort n desc", "", "dstPort", "n", ""},
		{"fields srcAddr, bytes | limit 3", "", "", "bytes", ""},
	}
	for _, tc := range tests {
		c, err := e.Compile(context.Background(), query.Request{Query: tc.q})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		sh := shapeOf(c.Plan)
		tm := ""
		if sh.TimeColumn != nil {
			tm = *sh.TimeColumn
		}
		got := fmt.Sprintf("%s|%s|%s|%s", tm, strings.Join(sh.Keys, ","), strings.Join(sh.Values, ","), strings.Join(sh.AddressKeys, ","))
		want := fmt.Sprintf("%s|%s|%s|%s", tc.time, tc.keys, tc.values, tc.addrs)
		if got != want {
			t.Errorf("%s: shape %s, want %s", tc.q, got, want)
		}
	}
}

func TestClassifyAndConvert(t *testing.T) {
	e := query.New(query.Config{}, nil, nil)
	_, err := e.Compile(context.Background(), query.Request{Query: "filter srcAdr = 1"})
	ce := classify(err)
	if ce.Type != TypeBadQuery || ce.Position == nil || ce.Position.Offset != 7 || ce.Position.End != 13 || ce.Position.Column != 8 {
		t.Fatalf("%+v %+v", ce, ce.Position)
	}
	for err, typ := range map[error]string{
		context.DeadlineExceeded:                  TypeTimeout,
		context.Canceled:                          TypeCanceled,
		fmt.Errorf("x: %w", catalog.ErrNotFound):  TypeNotFound,
		fmt.Errorf("x: %w", catalog.ErrInvalid):   TypeBadRequest,
		fmt.Errorf("x: %w", store.ErrNotFound):    TypeNotFound,
		errors.New("disk on fire"):                TypeInternal,
		fmt.Errorf("%w", query.ErrUnknownDataset): TypeNotFound,
	} {
		if got := classify(err).Type; got != typ {
			t.Errorf("%v: %s, want %s", err, got, typ)
		}
	}
	res := convert(&store.Result{Columns: []string{"t", "n", "s"}, Types: []string{"TIMESTAMP", "BIGINT", "VARCHAR"},
		Rows: [][]any{{time.Unix(0, 0), int64(1), []byte("a")}, {nil, 2.5, "b"}, {nil, int64(3), "c"}}}, nil, 2)
	b, _ := json.Marshal(res)
	want := `{"columns":[{"name":"t","type":"time"},{"name":"n","type":"number"},{"name":"s","type":"string"}],"rows":[["1970-01-01T00:00:00Z",1,"a"],[null,2.5,"b"]],"statistics":{"recordsScanned":0,"recordsMatched":0,"bytesScanned":0,"elapsedMs":0},"truncated":true,"shape":null}`
	if string(b) != want {
		t.Fatalf("%s\nwant %s", b, want)
	}
}

// TestPublicMounts: a public handler is reached without a bearer token and
// past the body limit, while the API next to it still asks for a token.
func TestPublicMounts(t *testing.T) {
	cat, err := catalog.Open(context.Background(), t.TempDir(), 10)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{MaxRows: 100, DefaultRows: 10, MaxBodyBytes: 16}, Deps{
		Engine: query.New(query.Config{}, nil, nil), Tokens: auth.Open(t.TempDir()), Catalog: cat,
		Public: map[string]http.Handler{"POST /firehose": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "got %d", len(b))
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/firehose", strings.NewReader(strings.Repeat("x", 100))))
	if rec.Code != 200 || rec.Body.String() != "got 100" {
		t.Fatalf("public handler: %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/datasets", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("API without a token: %d, want 401", rec.Code)
	}
}
