package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/auth"
)

// firehosePost sends one batch to POST /firehose the way a Firehose stream
// with an HTTP endpoint destination does (gzip content encoding, base64
// records, the dataset as a common attribute).
func firehosePost(url, key, id, dataset string, records []string) (int, map[string]any, error) {
	type rec struct {
		Data string `json:"data"`
	}
	body := struct {
		RequestID string `json:"requestId"`
		Timestamp int64  `json:"timestamp"`
		Records   []rec  `json:"records"`
	}{RequestID: id, Timestamp: time.Now().UnixMilli()}
	for _, r := range records {
		body.Records = append(body.Records, rec{base64.StdEncoding.EncodeToString([]byte(r))})
	}
	j, _ := json.Marshal(body)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(j)
	_ = zw.Close()
	req, err := http.NewRequest("POST", url+"/firehose", &buf)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-Amz-Firehose-Protocol-Version", "1.0")
	req.Header.Set("X-Amz-Firehose-Request-Id", id)
	req.Header.Set("X-Amz-Firehose-Source-Arn", "arn:aws:firehose:eu-west-1:111122223333:deliverystream/flowlogs")
	req.Header.Set("X-Amz-Firehose-Access-Key", key)
	if dataset != "" {
		req.Header.Set("X-Amz-Firehose-Common-Attributes", `{"commonAttributes":{"dataset":"`+dataset+`"}}`)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("answer %q: %v", raw, err)
	}
	return resp.StatusCode, out, nil
}

// fhBatch is batch b of the kill -9 test: 100 records, one per line.
func fhBatch(base int64, b int) []string {
	out := make([]string, 100)
	for i := range out {
		out[i] = flowLine(fmt.Sprintf("eni-%08x", b), i, base+int64(b))
	}
	return out
}

func sqlCount(t *testing.T, srv *testServer, q string) int64 {
	t.Helper()
	status, _, env := srv.call(t, "POST", "/api/v1/query", srv.token, map[string]any{"language": "sql", "query": q})
	if status != 200 {
		t.Fatalf("%s: %d %s", q, status, jsonText(env))
	}
	res, _ := env["data"].(map[string]any)
	rows, ok := res["rows"].([]any)
	if !ok {
		t.Fatalf("%s: %s", q, jsonText(env))
	}
	return int64(rows[0].([]any)[0].(float64))
}

// TestServeFirehose: a batch through a real flowlens serve is queryable,
// a retry is stored once, the counters show both, a wrong key is refused.
func TestServeFirehose(t *testing.T) {
	data := t.TempDir()
	srv := startServe(t, data)
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Hour).Unix()
	recs := fhBatch(base, 1)
	for range 2 {
		status, ans, err := firehosePost(srv.url, srv.token, "req-1", "fh", recs)
		if err != nil || status != 200 || ans["requestId"] != "req-1" {
			t.Fatalf("post: %d %v %v", status, ans, err)
		}
	}
	if n := sqlCount(t, srv, "SELECT count(*) FROM flows WHERE dataset = 'fh'"); n != 100 {
		t.Errorf("%d records, want 100", n)
	}
	status, ans, err := firehosePost(srv.url, "flt_wrong", "req-2", "fh", recs)
	if err != nil || status != 403 || ans["errorMessage"] != "Access key invalid" {
		t.Errorf("wrong key: %d %v %v", status, ans, err)
	}
	status, _, env := srv.call(t, "GET", "/api/v1/ingest/firehose", srv.token, nil)
	fh, _ := env["data"].(map[string]any)
	if status != 200 || env["status"] != "ok" || fh["records"] != float64(100) || fh["duplicates"] != float64(1) || fh["failed"] != float64(1) {
		t.Errorf("stats: %d %s", status, jsonText(env))
	}
}

// TestServeFirehoseKill9 kills flowlens serve with SIGKILL while 4 senders
// push batches: after a restart every acknowledged record is stored once,
// and Firehose's retries of every batch (same request ids) add nothing twice.
func TestServeFirehoseKill9(t *testing.T) {
	data := t.TempDir()
	token := strings.TrimSpace(mustStore(t, nil, "tokens", "create", "--data", data, "--name", "firehose"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestCWLServeHelper$")
	cmd.Env = append(os.Environ(), "FLOWLENS_CWL_HELPER="+data)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var url string
	for deadline := time.Now().Add(60 * time.Second); ; {
		if info, err := readServeInfo(data); err == nil && info.URL != "" {
			url = info.URL
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper serve did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Hour).Unix()
	var mu sync.Mutex
	acked := map[int]bool{}
	var next atomic.Int64
	var killed atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				status, _, err := firehosePost(url, token, fmt.Sprintf("req-%d", b), "", fhBatch(base, b))
				if err != nil || status != 200 {
					return
				}
				mu.Lock()
				acked[b] = true
				if len(acked) == 20 && killed.CompareAndSwap(false, true) {
					_ = cmd.Process.Signal(os.Kill)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	_ = cmd.Wait()
	sent := int(next.Load())
	removeServeFiles(data)
	srv := startServe(t, data)
	n := sqlCount(t, srv, "SELECT count(*) FROM flows")
	distinct := sqlCount(t, srv, "SELECT count(DISTINCT (interface_id, srcaddr, dstport)) FROM flows")
	if n != distinct || n < int64(len(acked))*100 || n > int64(sent)*100 || n%100 != 0 {
		t.Errorf("after kill -9: %d records (%d distinct); %d batches acknowledged, %d sent", n, distinct, len(acked), sent)
	}
	for b := range acked {
		if got := sqlCount(t, srv, fmt.Sprintf("SELECT count(*) FROM flows WHERE interface_id = 'eni-%08x'", b)); got != 100 {
			t.Fatalf("acknowledged batch %d: %d records", b, got)
		}
	}
	// Firehose retries every batch whose answer it did not get (and this
	// test retries all): each is stored once.
	for b := range sent {
		if status, ans, err := firehosePost(srv.url, token, fmt.Sprintf("req-%d", b), "", fhBatch(base, b)); err != nil || status != 200 {
			t.Fatalf("retry %d: %d %v %v", b, status, ans, err)
		}
	}
	if n := sqlCount(t, srv, "SELECT count(*) FROM flows"); n != int64(sent)*100 {
		t.Errorf("after the retries: %d records, want %d", n, sent*100)
	}
}

// BenchmarkFirehose measures records/s through POST /firehose of a real
// flowlens serve: 4 senders, gzip batches of 500 default-format records,
// each acknowledged once durable. go test -tags duckdb_arrow,isal -run '^$'
// -bench Firehose -benchtime 400x ./internal/cli
func BenchmarkFirehose(b *testing.B) {
	data := b.TempDir()
	token, _, err := auth.Open(data).Create(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	go func() {
		done <- runServe(ctx, env, []string{"--data", data, "--listen", "127.0.0.1:0", "--log-level", "error"})
	}()
	defer func() { cancel(); <-done }()
	var url string
	for url == "" {
		if info, err := readServeInfo(data); err == nil {
			url = info.URL
		}
		time.Sleep(20 * time.Millisecond)
	}
	const senders, per = 4, 500
	base := time.Now().Add(-3 * time.Hour).Unix()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				recs := make([]string, per)
				for j := range recs {
					recs[j] = flowLine(fmt.Sprintf("eni-%08x", i%64), i*per+j, base+int64(i%3600))
				}
				if status, ans, err := firehosePost(url, token, fmt.Sprintf("bench-%d", i), "", recs); err != nil || status != 200 {
					b.Errorf("%d %v %v", status, ans, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*per)/time.Since(start).Seconds(), "records/s")
}
