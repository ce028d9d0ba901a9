package cli

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/s3"
)

// s3Server is gofakes3, an S3-protocol server flowlens did not write, on a
// local port; the process environment points the AWS SDK at it the way a
// user would (AWS_ENDPOINT_URL_S3, keys, region), so that every flowlens
// verb, forwarded or not, in this process or a child, reaches it.
type s3Server struct {
	url    string
	client *s3.Client

	mu   sync.Mutex
	deny map[string]int // key → GETs still refused (-1: always)
}

func startS3(t testing.TB) *s3Server {
	t.Helper()
	fake := gofakes3.New(s3mem.New())
	h := fake.Server()
	s := &s3Server{deny: map[string]int{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			s.mu.Lock()
			for k, n := range s.deny {
				if strings.HasSuffix(r.URL.Path, "/"+k) && n != 0 {
					s.deny[k] = n - 1
					s.mu.Unlock()
					w.WriteHeader(http.StatusForbidden)
					fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
					return
				}
			}
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3": hs.URL, "AWS_ACCESS_KEY_ID": "AKIDFLOWLENSTEST", "AWS_SECRET_ACCESS_KEY": "test-secret",
		"AWS_REGION": "eu-west-1", "AWS_CONFIG_FILE": filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	c, err := s3.New(t.Context(), s3.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.client = c
	return s
}

func (s *s3Server) bucket(t testing.TB, name string) {
	t.Helper()
	if err := s.client.CreateBucket(t.Context(), name); err != nil {
		t.Fatal(err)
	}
}

func (s *s3Server) put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	if _, err := s.client.Put(t.Context(), bucket, key, bytes.NewReader(body), int64(len(body)), ""); err != nil {
		t.Fatal(err)
	}
}

// generated is a generated day of flow logs as files in the AWS key layout.
type generated struct {
	dir  string
	keys []string // relative to dir, sorted
}

// generateDay writes records over 24 h from start in a layout of
// flowlens generate (s3, hive or parquet; extra flags such as --hive,
// --per-hour).
func generateDay(t *testing.T, records int, start, layout string, seed int, extra ...string) generated {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"generate", "--out", dir, "--records", fmt.Sprint(records), "--start", start,
		"--layout", layout, "--seed", fmt.Sprint(seed), "--enis", "40", "--vpcs", "1", "--inventory", "-", "--quiet"}, extra...)
	mustStore(t, nil, args...)
	g := generated{dir: dir}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		g.keys = append(g.keys, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(g.keys)
	if len(g.keys) == 0 {
		t.Fatalf("generate %s wrote nothing", layout)
	}
	return g
}

// upload puts every generated file below prefix.
func (s *s3Server) upload(t *testing.T, bucket, prefix string, g generated) []string {
	t.Helper()
	var keys []string
	for _, k := range g.keys {
		b, err := os.ReadFile(filepath.Join(g.dir, k))
		if err != nil {
			t.Fatal(err)
		}
		s.put(t, bucket, prefix+k, b)
		keys = append(keys, prefix+k)
	}
	return keys
}

func gz(t testing.TB, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(text))
	_ = zw.Close()
	return b.Bytes()
}

// TestIngestS3 ingests a realistic bucket (a generated day in the AWS key
// layout: plain and hive-compatible keys, text and Parquet, daily and
// hourly folders) through aws-sdk-go-v2 from an S3-protocol server: the
// same records as the files ingested from disk, nothing stored twice on a
// second run, --since/--until by key time, unreadable objects retried then
// reported with their key, malformed lines rejected and kept aside.
func TestIngestS3(t *testing.T) {
	srv := startS3(t)
	srv.bucket(t, "vpc-flow-logs")
	day := "2026-01-15"
	sets := []struct {
		prefix string
		g      generated
	}{
		{"plain/", generateDay(t, 6000, day, "s3", 1, "--accounts", "111122223333,444455556666", "--regions", "us-east-1,eu-west-1", "--vpcs", "2", "--enis", "80")},
		{"hive/", generateDay(t, 6000, day, "hive", 2, "--per-hour")},
		{"parquet/", generateDay(t, 6000, day, "parquet", 3)},
		{"parquet-hive/", generateDay(t, 6000, day, "parquet", 4, "--hive")},
	}
	for _, want := range []string{"AWSLogs/444455556666/vpcflowlogs/eu-west-1/", "AWSLogs/111122223333/vpcflowlogs/us-east-1/"} {
		if !strings.Contains(strings.Join(sets[0].g.keys, "\n"), want) {
			var dirs []string
			for _, k := range sets[0].g.keys {
				dirs = append(dirs, k[:strings.Index(k, "/2026/")])
			}
			t.Fatalf("no key below %s: %v", want, slices.Compact(dirs))
		}
	}
	var keys []string
	local := t.TempDir()
	for _, s := range sets {
		keys = append(keys, srv.upload(t, "vpc-flow-logs", s.prefix, s.g)...)
		mustStore(t, nil, "ingest", "--data", local, s.g.dir)
	}

	data := t.TempDir()
	out := mustStore(t, nil, "ingest", "--data", data, "s3://vpc-flow-logs/")
	if !strings.Contains(out, fmt.Sprintf("ingested %d files", len(keys))) || !strings.Contains(out, "24000 records") {
		t.Fatalf("first ingest:\n%s", out)
	}
	const q = "SELECT count(*), sum(bytes), count(DISTINCT interface_id), min(start), max(start) FROM flows"
	if got, want := sqlCSV(t, data, q), sqlCSV(t, local, q); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("from S3 %v, from files %v", got, want)
	}
	reg := sqlCSV(t, data, "SELECT count(*) FROM flows WHERE dataset = 'default'")
	if reg[0][0] != "24000" {
		t.Errorf("dataset default: %v", reg)
	}

	out = mustStore(t, nil, "ingest", "--data", data, "s3://vpc-flow-logs/")
	if !strings.Contains(out, "ingested 0 files") || !strings.Contains(out, fmt.Sprintf("skipped %d files already ingested", len(keys))) {
		t.Errorf("second ingest:\n%s", out)
	}
	if got := sqlCSV(t, data, "SELECT count(*) FROM flows"); got[0][0] != "24000" {
		t.Errorf("after the second ingest: %v", got)
	}

	// --since/--until select by the key's time.
	since, until := time.Date(2026, 1, 15, 6, 0, 0, 0, time.UTC), time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)
	inRange := 0
	for _, k := range keys {
		if ok, err := keyIn(k, since, until); err != nil {
			t.Fatal(err)
		} else if ok {
			inRange++
		}
	}
	part := t.TempDir()
	out = mustStore(t, nil, "ingest", "--data", part, "--since", since.Format(time.RFC3339), "--until", until.Format(time.RFC3339), "s3://vpc-flow-logs/")
	if !strings.Contains(out, fmt.Sprintf("ingested %d files", inRange)) || !strings.Contains(out, "left out") {
		t.Errorf("--since/--until (%d of %d keys in range):\n%s", inRange, len(keys), out)
	}

	// Bad input: an object refused twice is read on the third attempt; one
	// always refused and a corrupt one are reported with their keys; bad
	// lines are rejected and kept aside; the rest is stored.
	bad := "bad/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/01/16/"
	name := func(h string) string {
		return bad + "111122223333_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20260116T0000Z_" + h + ".log.gz"
	}
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	line := "2 111122223333 eni-0a1b2c3d4e5f60718 10.0.0.1 10.0.0.2 443 49152 6 10 840 1768521600 1768521660 ACCEPT OK\n"
	srv.put(t, "vpc-flow-logs", name("flaky001"), gz(t, header+line))
	srv.put(t, "vpc-flow-logs", name("denied01"), gz(t, header+line))
	srv.put(t, "vpc-flow-logs", name("corrupt1"), append([]byte{0x1f, 0x8b, 8, 0}, []byte("not gzip at all")...))
	srv.put(t, "vpc-flow-logs", name("badlines"), gz(t, header+line+"2 111122223333 eni-x 10.0.0.1\n"+line))
	srv.mu.Lock()
	srv.deny[name("flaky001")] = 2
	srv.deny[name("denied01")] = -1
	srv.mu.Unlock()
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	code, out, errs := storeRun(t, nil, "ingest", "--data", data, "--read-attempts", "3", "--rejects", rejects, "s3://vpc-flow-logs/bad/")
	if code != 1 || !strings.Contains(out, "ingested 2 files") || !strings.Contains(out, "3 records") {
		t.Errorf("bad input: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"failed: read failed 3 times: read s3://vpc-flow-logs/" + name("denied01") + ": access denied",
		"failed: s3://vpc-flow-logs/" + name("corrupt1"),
		"rejected 1 line",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("bad input: no %q in\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(rejects); err != nil || !strings.Contains(string(b), name("badlines")) || !strings.Contains(string(b), "eni-x") {
		t.Errorf("rejects file: %s %v", b, err)
	}
	if got := sqlCSV(t, data, "SELECT count(*) FROM flows"); got[0][0] != "24003" {
		t.Errorf("after the bad input: %v", got)
	}
	// A missing bucket is an error that says so.
	code, _, errs = storeRun(t, nil, "ingest", "--data", data, "s3://no-such-bucket/")
	if code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("missing bucket: exit %d: %s", code, errs)
	}
}

func keyIn(key string, since, until time.Time) (bool, error) {
	k, ok := decode.ParseObjectKey(key)
	if !ok {
		return false, fmt.Errorf("%s: not an AWS key", key)
	}
	return !k.Time.Before(since) && k.Time.Before(until), nil
}
