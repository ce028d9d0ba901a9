package firehose

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// line is a default-format record of interface eni-<n>.
func line(n int, start int64) string {
	return fmt.Sprintf("2 111122223333 eni-%08x 10.20.1.%d 198.51.100.23 %d 443 6 3 420 %d %d ACCEPT OK", n, n%250+1, 40000+n%20000, start, start+30)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// subscription builds a record the way CloudWatch Logs delivers a
// subscription to Firehose: gzip of the payload JSON.
func subscription(t testing.TB, msgType string, start int64, lines ...string) []byte {
	type ev struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	p := struct {
		MessageType         string   `json:"messageType"`
		Owner               string   `json:"owner"`
		LogGroup            string   `json:"logGroup"`
		LogStream           string   `json:"logStream"`
		SubscriptionFilters []string `json:"subscriptionFilters"`
		LogEvents           []ev     `json:"logEvents"`
	}{MessageType: msgType, Owner: "111122223333", LogGroup: "/flowlogs/prod", LogStream: "eni-0a1b2c3d4e5f60718-all",
		SubscriptionFilters: []string{"to-flowlens"}}
	if msgType == "CONTROL_MESSAGE" {
		p.Owner, p.LogGroup, p.LogStream, p.SubscriptionFilters = "CloudwatchLogs", "", "", []string{}
		p.LogEvents = []ev{{ID: "", Timestamp: start * 1000, Message: "CWL CONTROL MESSAGE: Checking health of destination Firehose."}}
	}
	for i, l := range lines {
		p.LogEvents = append(p.LogEvents, ev{ID: fmt.Sprintf("%056d", i), Timestamp: start * 1000, Message: l})
	}
	b, _ := json.Marshal(p)
	return gz(t, b)
}

// delivery is one Firehose HTTP endpoint request.
type delivery struct {
	id       string
	key      string
	attrs    string // X-Amz-Firehose-Common-Attributes
	gzip     bool
	records  [][]byte
	rawBody  []byte // replaces the JSON body
	noLength bool
}

// body is the JSON Firehose sends.
func (d delivery) body(t testing.TB) []byte {
	if d.rawBody != nil {
		return d.rawBody
	}
	type rec struct {
		Data string `json:"data"`
	}
	b := struct {
		RequestID string `json:"requestId"`
		Timestamp int64  `json:"timestamp"`
		Records   []rec  `json:"records"`
	}{RequestID: d.id, Timestamp: time.Now().UnixMilli(), Records: []rec{}}
	for _, r := range d.records {
		b.Records = append(b.Records, rec{base64.StdEncoding.EncodeToString(r)})
	}
	out, _ := json.Marshal(b)
	if d.gzip {
		out = gz(t, out)
	}
	return out
}

// send posts d as Firehose does and returns the status and the decoded answer.
func send(t testing.TB, url string, d delivery) (int, map[string]any) {
	t.Helper()
	body := d.body(t)
	req, err := http.NewRequest("POST", url+Path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Firehose-Protocol-Version", "1.0")
	req.Header.Set("X-Amz-Firehose-Request-Id", d.id)
	req.Header.Set("X-Amz-Firehose-Source-Arn", "arn:aws:firehose:us-east-1:111122223333:deliverystream/flowlogs")
	if d.key != "" {
		req.Header.Set("X-Amz-Firehose-Access-Key", d.key)
	}
	if d.attrs != "" {
		req.Header.Set("X-Amz-Firehose-Common-Attributes", d.attrs)
	}
	if d.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %q is not JSON: %v", raw, err)
	}
	return resp.StatusCode, out
}

type fixture struct {
	dir   string
	st    *duckdb.Store
	ep    *Endpoint
	srv   *httptest.Server
	token string
}

func open(t *testing.T, dir string, cfg Config) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := duckdb.Open(ctx, duckdb.Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.Open(dir)
	cfg.RejectsFile = filepath.Join(dir, "firehose", "rejects.jsonl")
	ep, err := New(cfg, Deps{Store: st, Tokens: tokens, WriteMu: &sync.Mutex{}, ValidDataset: duckdb.ValidDatasetName})
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Start(ctx); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, h := range ep.Handlers() {
		mux.Handle(p, h)
	}
	f := &fixture{dir: dir, st: st, ep: ep, srv: httptest.NewServer(mux)}
	return f
}

func (f *fixture) close(t *testing.T) {
	f.srv.Close()
	if err := f.ep.Stop(context.Background()); err != nil {
		t.Error(err)
	}
	if err := f.st.Close(); err != nil {
		t.Error(err)
	}
}

func (f *fixture) count(t *testing.T, dataset string) int64 {
	t.Helper()
	res, err := f.st.Query(context.Background(), "SELECT count(*) FROM flows WHERE dataset = ?", dataset)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows[0][0].(int64)
}

// TestFirehoseContract checks the endpoint field by field: record shapes,
// gzip, subscription payloads, control messages, retries, keys, limits.
func TestFirehoseContract(t *testing.T) {
	dir := t.TempDir()
	tok, _, err := auth.Open(dir).Create(context.Background(), "firehose")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 1 << 20
	cfg.MaxRecordBytes = 64 << 10
	f := open(t, dir, cfg)
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC).Unix()
	ds := `{"commonAttributes":{"dataset":"fh","other":"x"}}`

	big := bytes.Repeat([]byte(line(1, start)+"\n"), 20000) // over 1 MiB of lines
	cases := []struct {
		name    string
		d       delivery
		status  int
		message string // errorMessage contains
		dataset string
		added   int64 // records added to dataset
	}{
		{name: "lines without and with newlines", d: delivery{attrs: ds, records: [][]byte{
			[]byte(line(1, start)), []byte(line(2, start) + "\n" + line(3, start) + "\n")}}, status: 200, dataset: "fh", added: 3},
		{name: "message documents", d: delivery{attrs: ds, records: [][]byte{
			[]byte(`{"message":"` + line(4, start) + `"}`), []byte(`{"message":"` + line(5, start) + `"}`)}}, status: 200, dataset: "fh", added: 2},
		{name: "gzip body", d: delivery{attrs: ds, gzip: true, records: [][]byte{[]byte(line(6, start))}}, status: 200, dataset: "fh", added: 1},
		{name: "subscription payloads", d: delivery{attrs: ds, records: [][]byte{
			subscription(t, "DATA_MESSAGE", start, line(7, start), line(8, start), line(9, start)),
			subscription(t, "DATA_MESSAGE", start, line(10, start))}}, status: 200, dataset: "fh", added: 4},
		{name: "control message", d: delivery{attrs: ds, records: [][]byte{subscription(t, "CONTROL_MESSAGE", start)}}, status: 200, dataset: "fh", added: 0},
		{name: "no dataset attribute", d: delivery{records: [][]byte{[]byte(line(11, start))}}, status: 200, dataset: "default", added: 1},
		{name: "bad line kept aside, the rest stored", d: delivery{attrs: ds, records: [][]byte{
			[]byte("not a flow log line\n" + line(12, start))}}, status: 200, dataset: "fh", added: 1},
		{name: "oversize record kept aside", d: delivery{attrs: ds, records: [][]byte{
			bytes.Repeat([]byte(line(1, start)+"\n"), 1000), []byte(line(13, start))}}, status: 200, dataset: "fh", added: 1},
		{name: "empty batch", d: delivery{attrs: ds}, status: 200, dataset: "fh", added: 0},
		{name: "missing key", d: delivery{key: "-", attrs: ds, records: [][]byte{[]byte(line(14, start))}}, status: 401, message: "Access key missing", dataset: "fh"},
		{name: "wrong key", d: delivery{key: "flt_nope", attrs: ds, records: [][]byte{[]byte(line(14, start))}}, status: 403, message: "Access key invalid", dataset: "fh"},
		{name: "oversize body", d: delivery{attrs: ds, records: [][]byte{big[:600<<10], big[:600<<10]}}, status: 413, message: "exceeds", dataset: "fh"},
		{name: "oversize after gunzip", d: delivery{attrs: ds, gzip: true, records: [][]byte{big[:600<<10], big[:600<<10]}}, status: 413, message: "exceeds", dataset: "fh"},
		{name: "not JSON", d: delivery{attrs: ds, rawBody: []byte("hello")}, status: 400, message: "not a Firehose request", dataset: "fh"},
		{name: "bad base64", d: delivery{attrs: ds, rawBody: []byte(`{"requestId":"","timestamp":1,"records":[{"data":"%%%"}]}`)}, status: 400, dataset: "fh"},
		{name: "bad attributes", d: delivery{attrs: `{"commonAttributes":`, records: [][]byte{[]byte(line(1, start))}}, status: 400, message: "X-Amz-Firehose-Common-Attributes", dataset: "fh"},
		{name: "bad dataset", d: delivery{attrs: `{"commonAttributes":{"dataset":"no spaces"}}`, records: [][]byte{[]byte(line(1, start))}}, status: 400, message: "dataset", dataset: "fh"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			d.id = fmt.Sprintf("7c1e9b0a-52d4-4f6e-a3b8-%012d", i)
			switch d.key {
			case "":
				d.key = tok
			case "-":
				d.key = ""
			}
			before := f.count(t, tc.dataset)
			status, ans := send(t, f.srv.URL, d)
			if status != tc.status {
				t.Fatalf("status %d, want %d (%v)", status, tc.status, ans)
			}
			if ans["requestId"] != d.id {
				t.Errorf("requestId %v, want %s", ans["requestId"], d.id)
			}
			ts, ok := ans["timestamp"].(float64)
			if !ok || time.Since(time.UnixMilli(int64(ts))).Abs() > time.Minute {
				t.Errorf("timestamp %v is not now in epoch ms", ans["timestamp"])
			}
			msg, hasMsg := ans["errorMessage"].(string)
			if tc.status == 200 {
				if len(ans) != 2 {
					t.Errorf("a 200 answer holds requestId and timestamp only: %v", ans)
				}
			} else if !hasMsg || !strings.Contains(msg, tc.message) {
				t.Errorf("errorMessage %q, want it to contain %q", msg, tc.message)
			}
			if got := f.count(t, tc.dataset) - before; got != tc.added {
				t.Errorf("%d records added to %s, want %d", got, tc.dataset, tc.added)
			}
			if tc.status == 200 {
				// A retry (same request id) stores nothing twice.
				before := f.count(t, tc.dataset)
				if status, ans := send(t, f.srv.URL, d); status != 200 {
					t.Fatalf("retry: status %d (%v)", status, ans)
				}
				if got := f.count(t, tc.dataset); got != before {
					t.Errorf("retry added %d records", got-before)
				}
			}
		})
	}
	st := f.ep.Stats()
	if st.Duplicates == 0 || st.Rejected != 2 || st.Failed != 8 {
		t.Errorf("stats %+v: want duplicates, 2 rejects, 8 failures", st)
	}
	rej, err := os.ReadFile(filepath.Join(dir, "firehose", "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(rej), "\n"); n != 2 || !strings.Contains(string(rej), `"text":"not a flow log line"`) ||
		!strings.Contains(string(rej), "exceeds 65536") {
		t.Errorf("rejects file has %d lines:\n%s", n, rej)
	}

	// After a restart, a retry is still recognised.
	f.close(t)
	f = open(t, dir, cfg)
	defer f.close(t)
	before := f.count(t, "fh")
	d := cases[3].d
	d.id, d.key = fmt.Sprintf("7c1e9b0a-52d4-4f6e-a3b8-%012d", 3), tok
	if status, ans := send(t, f.srv.URL, d); status != 200 {
		t.Fatalf("retry after restart: %d %v", status, ans)
	}
	if got := f.count(t, "fh"); got != before || before != 12 {
		t.Errorf("after restart: %d records, then %d after the retry; want 12 both", before, got)
	}
}

// TestFirehoseConcurrent sends batches from 4 senders, each batch twice:
// every record is stored once.
func TestFirehoseConcurrent(t *testing.T) {
	dir := t.TempDir()
	tok, _, err := auth.Open(dir).Create(context.Background(), "firehose")
	if err != nil {
		t.Fatal(err)
	}
	f := open(t, dir, DefaultConfig())
	defer f.close(t)
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC).Unix()
	const senders, batches, per = 4, 10, 200
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var recs [][]byte
				for i := range per {
					recs = append(recs, []byte(line(s*100000+b*1000+i, start)))
				}
				d := delivery{id: fmt.Sprintf("req-%d-%d", s, b), key: tok, gzip: b%2 == 0, records: recs}
				for range 2 {
					if status, ans := send(t, f.srv.URL, d); status != 200 {
						t.Errorf("status %d %v", status, ans)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if got := f.count(t, "default"); got != senders*batches*per {
		t.Errorf("%d records, want %d", got, senders*batches*per)
	}
}
