package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is a flowlens serve running in-process on a free port.
type testServer struct {
	url   string
	token string
	stop  func() error
}

func startServe(t *testing.T, data string, extra ...string) *testServer {
	t.Helper()
	return startServeArgs(t, data, append([]string{"--data", data, "--listen", "127.0.0.1:0", "--log-format", "text", "--grace", "2s"}, extra...)...)
}

// startServeArgs runs flowlens serve with exactly args, its data folder
// being data.
func startServeArgs(t *testing.T, data string, args ...string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errb bytes.Buffer
	var mu sync.Mutex
	env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: lockedWriter{&mu, &errb}, Getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, env, args) }()
	deadline := time.Now().Add(60 * time.Second)
	var info serveInfo
	for {
		var err error
		if info, err = readServeInfo(data); err == nil && info.URL != "" {
			break
		}
		select {
		case err := <-done:
			cancel()
			mu.Lock()
			t.Fatalf("serve exited: %v\n%s", err, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := &testServer{url: info.URL}
	stopped := false
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("serve did not stop")
		}
	}
	t.Cleanup(func() { _ = s.stop() })
	s.token = strings.TrimSpace(mustStore(t, nil, "tokens", "create", "--data", data, "--name", "test"))
	return s
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// call sends a request and decodes the envelope.
func (s *testServer) call(t *testing.T, method, path, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: not JSON (%d): %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, env
}

// TestServeForwardsCLI: the verbs give the same output and exit status
// through a running server as without one, concurrently, and the database
// is never reported locked.
func TestServeForwardsCLI(t *testing.T) {
	data := queryDB(t)
	cases := [][]string{
		{"query", "--data", data, "stats count(*) as n by action | sort n desc"},
		{"query", "--data", data, "--output", "json", "filter dstPort = 22 | stats count(*) as n by srcAddr"},
		{"query", "--data", data, "stats count(* by"},
		{"query", "--data", data, "-g", "prdo", "stats count(*)"},
		{"sql", "--data", data, "--output", "csv", "SELECT action, count(*) AS n FROM flows GROUP BY 1 ORDER BY 1"},
		{"sql", "--data", data, "--integer-division", "SELECT 7 / 2 AS x"},
		{"sql", "--data", data, "DROP TABLE flows"},
		{"datasets", "--data", data, "--output", "json"},
	}
	type outcome struct {
		code     int
		out, err string
	}
	local := make([]outcome, len(cases))
	for i, c := range cases {
		code, out, errs := storeRun(t, nil, c...)
		local[i] = outcome{code, out, errs}
	}
	srv := startServe(t, data)
	if !serverOwns(data) {
		t.Fatal("the server does not hold the folder's lock")
	}
	var wg sync.WaitGroup
	got := make([]outcome, len(cases))
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out, errs := storeRun(t, nil, c...)
			got[i] = outcome{code, out, errs}
		}()
	}
	wg.Wait()
	for i, c := range cases {
		if got[i] != local[i] {
			t.Errorf("flowlens %s\nthrough the server: exit %d\n%s\n%s\nwithout: exit %d\n%s\n%s", strings.Join(c, " "),
				got[i].code, got[i].out, got[i].err, local[i].code, local[i].out, local[i].err)
		}
		if strings.Contains(got[i].err, "locked") {
			t.Errorf("%v: %s", c, got[i].err)
		}
	}
	// Writes through the server: standard input streamed, a relative path
	// resolved in the client's folder.
	lines := "2 111122223333 eni-0a1b2c3d4e5f60718 10.9.9.9 10.0.1.5 40000 443 6 5 500 1717167600 1717167660 ACCEPT OK\n"
	out := mustStore(t, strings.NewReader(lines), "ingest", "--data", data, "--dataset", "piped", "--format", "default", "-")
	if !strings.Contains(out, "dataset piped now holds 1 records") {
		t.Fatalf("ingest through the server: %s", out)
	}
	if rows := sqlCSV(t, data, "SELECT srcaddr FROM piped"); len(rows) != 1 || rows[0][0] != "10.9.9.9" {
		t.Fatalf("piped rows %v", rows)
	}
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	mustStore(t, nil, "export", "--data", data, "--dataset", "piped", "--parquet", rel)
	if _, err := os.Stat(filepath.Join(wd, rel, "piped")); err != nil {
		t.Fatalf("export through the server: %v", err)
	}
	// A second server on the folder refuses with a clear error.
	code, _, errs := storeRun(t, nil, "serve", "--data", data, "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "another flowlens serve owns") {
		t.Fatalf("second serve: exit %d: %s", code, errs)
	}
	if _, h, _ := srv.call(t, "GET", "/healthz", "", nil); h == nil {
		t.Fatal("no health answer")
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, serveInfoName)); !os.IsNotExist(err) {
		t.Fatalf("serve.json left behind: %v", err)
	}
	// Without the server the verbs open the database again.
	code, out, errs = storeRun(t, nil, "query", "--data", data, "-g", "piped", "stats count(*) as n")
	if code != 0 || !strings.Contains(out, "1") || errs != "" {
		t.Fatalf("after stop: exit %d %s %s", code, out, errs)
	}
}

func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSpace(buf.Bytes()), err
}

// TestLoadtestShort is CI's short load test (make bench-serve's, on a
// small generated demo day): concurrent clients mixing Q1–Q7 beyond the
// server's concurrency limit get no errors (429s are waited out); then each
// query once through the asynchronous API.
func TestLoadtestShort(t *testing.T) {
	dir := t.TempDir()
	logs, data := filepath.Join(dir, "logs"), filepath.Join(dir, "db")
	mustStore(t, nil, "generate", "--preset", "demo", "--records", "20000", "--out", logs, "--quiet")
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "demo", logs)
	startServe(t, data, "--max-concurrent", "2")
	code, out, errs := storeRun(t, nil, "loadtest", "--data", data, "--clients", "12", "--duration", "3s", "--output", "json")
	if code != 0 {
		t.Fatalf("loadtest: exit %d\n%s\n%s", code, out, errs)
	}
	var rep struct {
		Total struct {
			Count, Errors, Throttled int
		} `json:"total"`
		Queries []struct {
			Name  string
			Count int
		} `json:"queries"`
		ServerPeakRSS string `json:"serverPeakRSS"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Total.Errors != 0 || rep.Total.Count < 7 || len(rep.Queries) != 7 || rep.ServerPeakRSS == "" {
		t.Fatalf("report %+v\n%s", rep, errs)
	}
	for _, q := range rep.Queries {
		if q.Count == 0 {
			t.Errorf("%s never ran", q.Name)
		}
	}
	t.Logf("%d queries, %d throttled", rep.Total.Count, rep.Total.Throttled)

	// The console's path: each query through the asynchronous API.
	code, out, errs = storeRun(t, nil, "loadtest", "--data", data, "--async", "1", "--output", "json")
	if code != 0 {
		t.Fatalf("loadtest --async: exit %d\n%s\n%s", code, out, errs)
	}
	var async []struct {
		Name     string
		Sliced   bool
		Complete int64 `json:"completeNs"`
	}
	if err := json.Unmarshal([]byte(out), &async); err != nil || len(async) != 7 {
		t.Fatalf("%v: %s", err, out)
	}
	for _, q := range async {
		if q.Complete <= 0 {
			t.Errorf("%s: %+v", q.Name, q)
		}
	}
}
