// Package loadtest drives a flowlens server's query API with many
// concurrent clients, as `flowlens loadtest` and `make bench-serve` do: each
// client runs the workload's queries in turn through POST /api/v1/query
// until the duration ends. It reports per query the count, p50/p99
// latency and errors; an HTTP 429 (the server's concurrency limit) is
// waited out as its Retry-After says and counted apart, never as an error.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Query is one query of the workload.
type Query struct {
	Name  string `json:"name"`
	Query string `json:"query"`
	// Language is "insights" (default) or "sql".
	Language string `json:"language,omitempty"`
}

// Workload returns Q1–Q7 of the standard benchmark; needle is Q7's address.
func Workload(needle string) []Query {
	return []Query{
		{Name: "Q1", Query: "stats sum(bytes) as b by srcaddr, dstaddr | sort b desc | limit 10"},
		{Name: "Q2", Query: `filter action = "REJECT" | stats count(*) as n by srcaddr | sort n desc | limit 20`},
		{Name: "Q3", Query: "stats sum(bytes) as b by bin(5m)"},
		{Name: "Q4", Query: `filter action = "REJECT" and dstport = 22 | stats count(*) as n by srcaddr | sort n desc | limit 20`},
		{Name: "Q5", Query: "stats count_distinct(dstport) as p by srcaddr | filter p > 100"},
		{Name: "Q6", Query: `filter isIpv4InSubnet(srcaddr, "10.1.0.0/16") | stats sum(bytes) as b by dstaddr | sort b desc | limit 10`},
		{Name: "Q7", Query: `filter srcaddr = "` + needle + `" | fields @timestamp, srcaddr, dstaddr, srcport, dstport, bytes`},
	}
}

// Config is one load test.
type Config struct {
	URL, Token string
	Clients    int
	Duration   time.Duration
	Queries    []Query
	// Client sends the requests (nil: a client with its own transport).
	Client *http.Client
}

// Stats summarise one query's runs.
type Stats struct {
	Name      string        `json:"name"`
	Count     int           `json:"count"`
	Errors    int           `json:"errors"`
	Throttled int           `json:"throttled"`
	P50       time.Duration `json:"p50Ns"`
	P99       time.Duration `json:"p99Ns"`
	Max       time.Duration `json:"maxNs"`
	// First is the first run's latency (Sequential only).
	First time.Duration `json:"firstNs,omitempty"`
}

// Report is the outcome of a load test.
type Report struct {
	Clients   int           `json:"clients"`
	Duration  time.Duration `json:"durationNs"`
	Queries   []Stats       `json:"queries"`
	Total     Stats         `json:"total"`
	Errors    []string      `json:"firstErrors"`
	PerSecond float64       `json:"queriesPerSecond"`
}

type sample struct {
	query     int
	latency   time.Duration
	throttled int
	err       error
}

// Run runs the load test until cfg.Duration has passed (or ctx ends).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Clients <= 0 || len(cfg.Queries) == 0 || cfg.Duration <= 0 {
		return nil, errors.New("loadtest: clients, queries and a duration are needed")
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients, Proxy: nil}}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	began := time.Now()
	results := make(chan sample, 1024)
	var wg sync.WaitGroup
	for c := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ctx.Err() == nil; i++ {
				qi := i % len(cfg.Queries)
				start := time.Now()
				thr, err := runOne(ctx, client, cfg, cfg.Queries[qi])
				if ctx.Err() != nil && err != nil {
					return // cut off by the end of the test: not a result
				}
				results <- sample{query: qi, latency: time.Since(start), throttled: thr, err: err}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	lat := make([][]time.Duration, len(cfg.Queries))
	rep := &Report{Clients: cfg.Clients, Queries: make([]Stats, len(cfg.Queries))}
	for i, q := range cfg.Queries {
		rep.Queries[i].Name = q.Name
	}
	var all []time.Duration
	for s := range results {
		st := &rep.Queries[s.query]
		st.Throttled += s.throttled
		if s.err != nil {
			st.Errors++
			if len(rep.Errors) < 10 {
				rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", cfg.Queries[s.query].Name, s.err))
			}
			continue
		}
		st.Count++
		lat[s.query] = append(lat[s.query], s.latency)
		all = append(all, s.latency)
	}
	rep.Duration = time.Since(began)
	rep.Total.Name = "all"
	for i := range rep.Queries {
		st := &rep.Queries[i]
		st.P50, st.P99, st.Max = percentiles(lat[i])
		rep.Total.Count += st.Count
		rep.Total.Errors += st.Errors
		rep.Total.Throttled += st.Throttled
	}
	rep.Total.P50, rep.Total.P99, rep.Total.Max = percentiles(all)
	rep.PerSecond = float64(rep.Total.Count) / rep.Duration.Seconds()
	return rep, nil
}

// runOne runs a query until it is not throttled; it returns how often it was.
func runOne(ctx context.Context, client *http.Client, cfg Config, q Query) (int, error) {
	body, _ := json.Marshal(map[string]any{"query": q.Query, "language": q.Language})
	raw, code, throttled, err := do(ctx, client, cfg, http.MethodPost, "/api/v1/query", body)
	if err != nil {
		return throttled, err
	}
	var env struct {
		Status string `json:"status"`
		Error  *struct {
			Type, Message string
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return throttled, fmt.Errorf("HTTP %d: not JSON: %.200s", code, raw)
	}
	if code != http.StatusOK || env.Status != "ok" {
		if env.Error != nil {
			return throttled, fmt.Errorf("HTTP %d %s: %s", code, env.Error.Type, env.Error.Message)
		}
		return throttled, fmt.Errorf("HTTP %d", code)
	}
	return throttled, nil
}

// do sends one API request, waiting out HTTP 429 answers (the server's
// concurrency limit) as its Retry-After says; it returns the body and status
// of the first answer that is not a 429 and how many were.
func do(ctx context.Context, client *http.Client, cfg Config, method, path string, body []byte) ([]byte, int, int, error) {
	throttled := 0
	for {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(cfg.URL, "/")+path, rd)
		if err != nil {
			return nil, 0, throttled, err
		}
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, 0, throttled, err
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, 0, throttled, err
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			return raw, resp.StatusCode, throttled, nil
		}
		throttled++
		wait := time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		// Waiting a fraction of Retry-After spreads the retries.
		wait = wait / 10 * time.Duration(1+throttled%10)
		select {
		case <-ctx.Done():
			return nil, 0, throttled, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func percentiles(d []time.Duration) (p50, p99, mx time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return at(0.50), at(0.99), d[len(d)-1]
}

// Sequential runs each query runs times, one at a time, and returns the
// first run's and the median of the others' latency per query (the warm
// figures of docs/BENCHMARKS.md).
func Sequential(ctx context.Context, cfg Config, runs int) ([]Stats, error) {
	client := cfg.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{Proxy: nil}}
	}
	var out []Stats
	for _, q := range cfg.Queries {
		st := Stats{Name: q.Name}
		var warm []time.Duration
		for i := range runs + 1 {
			start := time.Now()
			if _, err := runOne(ctx, client, cfg, q); err != nil {
				return nil, fmt.Errorf("%s: %w", q.Name, err)
			}
			el := time.Since(start)
			if i == 0 {
				st.First = el
				continue
			}
			warm = append(warm, el)
		}
		st.Count = runs
		st.P50, st.P99, st.Max = percentiles(warm)
		out = append(out, st)
	}
	return out, nil
}

// QueryRows runs one query and calls row for each result row.
func QueryRows(ctx context.Context, cfg Config, q Query, row func([]any)) error {
	client := cfg.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{Proxy: nil}}
	}
	body, _ := json.Marshal(map[string]any{"query": q.Query, "language": q.Language})
	raw, code, _, err := do(ctx, client, cfg, http.MethodPost, "/api/v1/query", body)
	if err != nil {
		return err
	}
	var env struct {
		Status string `json:"status"`
		Data   struct {
			Rows [][]any `json:"rows"`
		} `json:"data"`
		Error *struct{ Type, Message string } `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("HTTP %d: %w", code, err)
	}
	if env.Status != "ok" {
		if env.Error != nil {
			return fmt.Errorf("%s: %s", env.Error.Type, env.Error.Message)
		}
		return fmt.Errorf("HTTP %d", code)
	}
	for _, r := range env.Data.Rows {
		row(r)
	}
	return nil
}

// AsyncStats summarise one query's asynchronous runs (the console's path:
// POST /api/v1/queries, then its status polled every 10 ms).
type AsyncStats struct {
	Name string `json:"name"`
	// Sliced: the server ran it slice by slice (its status had progress).
	Sliced bool `json:"sliced"`
	Slices int  `json:"slices,omitempty"`
	// FirstRows is the median time to the first status with rows (partial
	// or complete), Complete the median time to the Complete status.
	FirstRows time.Duration `json:"firstRowsNs"`
	Complete  time.Duration `json:"completeNs"`
}

// Async runs each query runs times, one at a time, through the
// asynchronous API.
func Async(ctx context.Context, cfg Config, runs int) ([]AsyncStats, error) {
	client := cfg.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{Proxy: nil}}
	}
	var out []AsyncStats
	for _, q := range cfg.Queries {
		st := AsyncStats{Name: q.Name}
		var first, done []time.Duration
		for range runs {
			f, d, slices, err := runAsync(ctx, client, cfg, q)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", q.Name, err)
			}
			first, done = append(first, f), append(done, d)
			if slices > 0 {
				st.Sliced, st.Slices = true, slices
			}
		}
		st.FirstRows, _, _ = percentiles(first)
		st.Complete, _, _ = percentiles(done)
		out = append(out, st)
	}
	return out, nil
}

func runAsync(ctx context.Context, client *http.Client, cfg Config, q Query) (first, done time.Duration, slices int, err error) {
	call := func(method, path string, body []byte, into any) error {
		raw, code, _, err := do(ctx, client, cfg, method, path, body)
		if err != nil {
			return err
		}
		var env struct {
			Status string          `json:"status"`
			Data   json.RawMessage `json:"data"`
			Error  *struct{ Type, Message string }
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			return fmt.Errorf("HTTP %d: %w", code, err)
		}
		if env.Status != "ok" {
			if env.Error != nil {
				return fmt.Errorf("HTTP %d %s: %s", code, env.Error.Type, env.Error.Message)
			}
			return fmt.Errorf("HTTP %d", code)
		}
		return json.Unmarshal(env.Data, into)
	}
	body, _ := json.Marshal(map[string]any{"query": q.Query, "language": q.Language})
	start := time.Now()
	var started struct {
		QueryID string `json:"queryId"`
	}
	if err := call(http.MethodPost, "/api/v1/queries", body, &started); err != nil {
		return 0, 0, 0, err
	}
	for {
		var st struct {
			Status   string  `json:"status"`
			Rows     [][]any `json:"rows"`
			Progress *struct {
				Slices int `json:"slices"`
			} `json:"progress"`
			Error *struct{ Message string } `json:"error"`
		}
		if err := call(http.MethodGet, "/api/v1/queries/"+started.QueryID, nil, &st); err != nil {
			return 0, 0, 0, err
		}
		if st.Progress != nil {
			slices = st.Progress.Slices
		}
		if first == 0 && (len(st.Rows) > 0 || st.Status == "Complete") {
			first = time.Since(start)
		}
		switch st.Status {
		case "Complete":
			return first, time.Since(start), slices, nil
		case "Failed", "Cancelled", "Timeout":
			msg := st.Status
			if st.Error != nil {
				msg += ": " + st.Error.Message
			}
			return 0, 0, 0, errors.New(msg)
		}
		select {
		case <-ctx.Done():
			return 0, 0, 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
