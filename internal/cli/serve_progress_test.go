package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/api"
	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/catalog"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// TestAsyncPartialResults runs asynchronous queries over a generated day
// in the real store and watches every status they publish while they run:
// a query whose answer is a union over time slices (a bin() aggregation,
// records in time order) shows the rows of the slices done, growing, with
// statistics that grow too, and ends with the rows of the same query run
// at once; a top-N over the whole range runs as one statement; a sliced
// query stopped after its first slice keeps that slice's rows.
func TestAsyncPartialResults(t *testing.T) {
	dir := t.TempDir()
	logs, data := filepath.Join(dir, "logs"), filepath.Join(dir, "db")
	mustStore(t, nil, "generate", "--preset", "demo", "--records", "20000", "--out", logs, "--quiet")
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "demo", logs)

	ctx := t.Context()
	st, err := duckdb.Open(ctx, duckdb.Config{Dir: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := catalog.Open(ctx, data, 100)
	if err != nil {
		t.Fatal(err)
	}
	var hsURL string
	tokens := auth.Open(data)
	tok, _, err := tokens.Create(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string][]api.QueryStatus{}
	var srv *api.Server
	const stopMe = "stats count(*) as stopped by bin(5m)"
	srv, err = api.New(api.Config{}, api.Deps{
		Engine: query.New(query.Config{}, st, st), Datasets: st, Tokens: tokens, Catalog: cat,
		Observe: func(s api.QueryStatus) {
			mu.Lock()
			seen[s.QueryID] = append(seen[s.QueryID], s)
			mu.Unlock()
			if s.Query == stopMe && s.Progress.SlicesDone == 1 {
				// StopQuery right after the first slice: the status keeps its rows.
				req, _ := http.NewRequest("POST", hsURL+"/api/v1/queries/"+s.QueryID+"/stop", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	hsURL = hs.URL
	call := func(method, path string, body any, into any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, hs.URL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Status string          `json:"status"`
			Data   json.RawMessage `json:"data"`
			Error  any             `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Status != "ok" {
			t.Fatalf("%s %s: %d %v %v", method, path, resp.StatusCode, err, env.Error)
		}
		if err := json.Unmarshal(env.Data, into); err != nil {
			t.Fatal(err)
		}
	}
	var total int64
	{
		var res api.Result
		call("POST", "/api/v1/query", map[string]any{"query": "stats count(*) as n"}, &res)
		total = int64(res.Rows[0][0].(float64))
	}
	rowKeys := func(rows [][]any) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			b, _ := json.Marshal(r) // observed rows hold Go values, fetched ones JSON's
			out[i] = string(b)
		}
		return out
	}
	sorted := func(rows [][]any) []string {
		k := rowKeys(rows)
		sort.Strings(k)
		return k
	}

	tests := []struct {
		name, query string
		sliced      bool
		ordered     bool // compare rows in order, not as sets
		matched     int64
	}{
		{name: "bin aggregation", query: "stats count(*) as flows, sum(bytes) as b by bin(5m)", sliced: true, ordered: true, matched: total},
		{name: "bin and a second key", query: `filter action = "REJECT" | stats count(*) as n by bin(30m), dstPort`, sliced: true, ordered: true, matched: -1},
		{name: "bins newest first, limited", query: "stats count(*) as n by bin(1h) as t | sort t desc | limit 5", sliced: true, ordered: true, matched: -1},
		{name: "records newest first", query: `fields @timestamp, srcAddr | filter action = "REJECT" | limit 1000`, sliced: true, matched: -1},
		{name: "top-N over the whole range", query: "stats sum(bytes) as b by srcAddr | sort b desc | limit 5", ordered: true, matched: total},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want api.Result
			call("POST", "/api/v1/query", map[string]any{"query": tc.query}, &want)
			var started struct{ QueryID string }
			call("POST", "/api/v1/queries", map[string]any{"query": tc.query}, &started)
			var final api.QueryStatus
			deadline := time.Now().Add(time.Minute)
			for {
				final = api.QueryStatus{}
				call("GET", "/api/v1/queries/"+started.QueryID, nil, &final)
				if final.Status != "Running" && final.Status != "Scheduled" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the query did not end")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if final.Status != "Complete" || final.Partial {
				t.Fatalf("final status %s partial=%v error %+v", final.Status, final.Partial, final.Error)
			}
			if tc.ordered {
				// Without sort, bins come newest first, then by their other
				// keys; a top-N has no ties here.
				if fmt.Sprint(rowKeys(final.Rows)) != fmt.Sprint(rowKeys(want.Rows)) {
					t.Fatalf("rows %.300v\nwant %.300v", final.Rows, want.Rows)
				}
			} else if tc.name == "records newest first" {
				// Same timestamps, newest first (records of one second may differ).
				ts := func(rows [][]any) []any {
					var out []any
					for _, r := range rows {
						out = append(out, r[0])
					}
					return out
				}
				if fmt.Sprint(ts(final.Rows)) != fmt.Sprint(ts(want.Rows)) || len(final.Rows) != 1000 {
					t.Fatalf("%d timestamps %.300v\nwant %.300v", len(final.Rows), ts(final.Rows), ts(want.Rows))
				}
			} else if fmt.Sprint(sorted(final.Rows)) != fmt.Sprint(sorted(want.Rows)) {
				t.Fatalf("%d rows, want %d:\n%v\n%v", len(final.Rows), len(want.Rows), sorted(final.Rows)[:3], sorted(want.Rows)[:3])
			}
			if tc.matched >= 0 && final.Statistics.RecordsMatched != tc.matched {
				t.Errorf("recordsMatched %d, want %d", final.Statistics.RecordsMatched, tc.matched)
			}
			mu.Lock()
			steps := seen[started.QueryID]
			mu.Unlock()
			if !tc.sliced {
				if len(steps) != 0 || final.Progress != nil {
					t.Fatalf("a query over the whole range published %d slices, progress %+v", len(steps), final.Progress)
				}
				if final.Statistics.RecordsScanned != total {
					t.Errorf("recordsScanned %d, want %d", final.Statistics.RecordsScanned, total)
				}
				return
			}
			if len(steps) < 2 || final.Progress == nil {
				t.Fatalf("%d slices published, progress %+v", len(steps), final.Progress)
			}
			var prevRows int
			var prev api.Statistics
			for i, s := range steps {
				if s.Status != "Running" || !s.Partial || s.Progress.SlicesDone != i+1 {
					t.Fatalf("step %d: %s partial=%v progress %+v", i, s.Status, s.Partial, s.Progress)
				}
				if len(s.Rows) < prevRows || s.Statistics.RecordsScanned < prev.RecordsScanned || s.Statistics.RecordsMatched < prev.RecordsMatched {
					t.Fatalf("step %d shrank: %d rows after %d, %+v after %+v", i, len(s.Rows), prevRows, s.Statistics, prev)
				}
				// Every partial row is a row of the answer.
				all := map[string]bool{}
				for _, k := range rowKeys(final.Rows) {
					all[k] = true
				}
				if tc.name != "records newest first" {
					for _, k := range rowKeys(s.Rows) {
						if !all[k] {
							t.Fatalf("step %d: partial row %s is not in the answer", i, k)
						}
					}
				}
				prevRows, prev = len(s.Rows), s.Statistics
			}
			if steps[0].Statistics.RecordsScanned == 0 || steps[0].Statistics.RecordsScanned >= total && tc.name == "bin aggregation" {
				t.Errorf("first slice scanned %d of %d records", steps[0].Statistics.RecordsScanned, total)
			}
			if tc.name == "bin aggregation" && final.Statistics.RecordsScanned != total {
				t.Errorf("recordsScanned %d, want %d", final.Statistics.RecordsScanned, total)
			}
			t.Logf("%d slices, %d rows in the first, statistics %+v", len(steps), len(steps[0].Rows), final.Statistics)
		})
	}

	t.Run("stopped after a slice keeps its rows", func(t *testing.T) {
		var started struct{ QueryID string }
		call("POST", "/api/v1/queries", map[string]any{"query": stopMe}, &started)
		var final api.QueryStatus
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			final = api.QueryStatus{}
			call("GET", "/api/v1/queries/"+started.QueryID, nil, &final)
			if final.Status != "Running" || time.Now().After(deadline) {
				break
			}
		}
		mu.Lock()
		first := seen[started.QueryID][0]
		mu.Unlock()
		if final.Status != "Cancelled" || !final.Partial || final.Progress.SlicesDone != 1 || len(final.Rows) == 0 || len(final.Rows) != len(first.Rows) {
			t.Fatalf("status %s partial=%v progress %+v, %d rows (first slice %d)", final.Status, final.Partial, final.Progress, len(final.Rows), len(first.Rows))
		}
	})

	t.Run("a misspelt dataset fails, sliced or not", func(t *testing.T) {
		var started struct{ QueryID string }
		call("POST", "/api/v1/queries", map[string]any{"query": "stats count(*) by bin(5m)", "datasets": []string{"demo", "dmeo"}}, &started)
		var final api.QueryStatus
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			final = api.QueryStatus{}
			call("GET", "/api/v1/queries/"+started.QueryID, nil, &final)
			if final.Status != "Running" || time.Now().After(deadline) {
				break
			}
		}
		if final.Status != "Failed" || final.Error == nil || !strings.Contains(final.Error.Message, `"dmeo"`) {
			t.Fatalf("status %s, error %+v", final.Status, final.Error)
		}
	})
}
