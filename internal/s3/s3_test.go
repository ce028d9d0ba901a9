package s3_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/flowlens/flowlens/internal/s3"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    s3.URL
		wantErr bool
	}{
		{in: "s3://flow-logs/", want: s3.URL{Bucket: "flow-logs"}},
		{in: "s3://flow-logs", want: s3.URL{Bucket: "flow-logs"}},
		{in: "s3://flow-logs/AWSLogs/", want: s3.URL{Bucket: "flow-logs", Prefix: "AWSLogs/"}},
		{in: "s3://my.bucket-1/a/b", want: s3.URL{Bucket: "my.bucket-1", Prefix: "a/b"}},
		{in: "flow-logs/x", wantErr: true},
		{in: "s3:///x", wantErr: true},
		{in: "s3://Upper/x", wantErr: true},
		{in: "s3://ab/x", wantErr: true},
		{in: "s3://-ab/x", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := s3.ParseURL(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := s3.ParseURL("/tmp/x"); !errors.Is(err, s3.ErrNotS3) {
		t.Errorf("a path: %v", err)
	}
	u := s3.URL{Bucket: "b", Prefix: "reports"}
	if u.Join("x.csv") != "reports/x.csv" || (s3.URL{Bucket: "b", Prefix: "r/"}).Join("x") != "r/x" || (s3.URL{Bucket: "b"}).Join("x") != "x" {
		t.Error("Join")
	}
}

// server is gofakes3 (an S3-protocol server) on a local port, recording
// the prefixes listed.
type server struct {
	url    string
	mu     sync.Mutex
	listed []string
}

func startServer(t *testing.T) *server {
	t.Helper()
	fake := gofakes3.New(s3mem.New())
	s := &server{}
	h := fake.Server()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
			s.mu.Lock()
			s.listed = append(s.listed, r.URL.Query().Get("prefix"))
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

func (s *server) takeListed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.listed
	s.listed = nil
	return l
}

func newClient(t *testing.T, endpoint string) *s3.Client {
	t.Helper()
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1",
		"AWS_ENDPOINT_URL_S3": endpoint,
		// No shared files of this machine.
		"AWS_CONFIG_FILE": t.TempDir() + "/config", "AWS_SHARED_CREDENTIALS_FILE": t.TempDir() + "/credentials",
	}
	c, err := s3.New(t.Context(), s3.Config{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != endpoint {
		t.Fatalf("endpoint %q", c.Endpoint())
	}
	return c
}

func put(t *testing.T, c *s3.Client, bucket, key, body string) s3.Object {
	t.Helper()
	o, err := c.Put(t.Context(), bucket, key, strings.NewReader(body), int64(len(body)), "")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestClientPutListOpen(t *testing.T) {
	srv := startServer(t)
	c := newClient(t, srv.url)
	ctx := t.Context()
	if err := c.CreateBucket(ctx, "flow-logs"); err != nil {
		t.Fatal(err)
	}
	var keys []string
	etags := map[string]string{}
	for i := range 7 {
		k := "logs/" + string(rune('a'+i)) + ".log"
		o := put(t, c, "flow-logs", k, strings.Repeat("x", i+1))
		if o.ETag == "" || strings.Contains(o.ETag, `"`) {
			t.Fatalf("etag %q", o.ETag)
		}
		keys = append(keys, k)
		etags[k] = o.ETag
	}
	put(t, c, "flow-logs", "other/z.log", "z")

	var got []string
	pages := 0
	err := c.List(ctx, "flow-logs", "logs/", s3.ListOptions{PageSize: 3}, func(p s3.Page) error {
		pages++
		for _, o := range p.Objects {
			got = append(got, o.Key)
			if o.ETag != etags[o.Key] || o.Size != int64(strings.IndexByte("abcdefg", o.Key[5])+1) || o.LastModified.IsZero() {
				t.Errorf("listed %+v", o)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(keys, ",") || pages != 3 {
		t.Errorf("listed %v in %d pages", got, pages)
	}

	rc, o, err := c.Open(ctx, "flow-logs", "logs/c.log", etags["logs/c.log"])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "xxx" || o.ETag != etags["logs/c.log"] || o.Size != 3 {
		t.Errorf("read %q %+v", b, o)
	}
	if _, _, err := c.Open(ctx, "flow-logs", "logs/none.log", ""); !errors.Is(err, s3.ErrNotFound) {
		t.Errorf("missing key: %v", err)
	}
	if err := c.List(ctx, "no-such-bucket", "", s3.ListOptions{}, func(s3.Page) error { return nil }); !errors.Is(err, s3.ErrNotFound) {
		t.Errorf("missing bucket: %v", err)
	}
	// A body of 1 MiB goes through unchanged.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	if _, err := c.Put(ctx, "flow-logs", "big", bytes.NewReader(big), int64(len(big)), "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	rc, _, err = c.Open(ctx, "flow-logs", "big", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(b, big) {
		t.Errorf("big object: %d bytes back", len(b))
	}
}

func TestWalkPrunesDates(t *testing.T) {
	srv := startServer(t)
	c := newClient(t, srv.url)
	ctx := t.Context()
	if err := c.CreateBucket(ctx, "vpc"); err != nil {
		t.Fatal(err)
	}
	plain := "fl/AWSLogs/111122223333/vpcflowlogs/eu-west-1/"
	hive := "hv/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=us-east-1/"
	var all []string
	for _, k := range []string{
		plain + "2024/05/30/a.log.gz",
		plain + "2024/05/31/b.log.gz",
		plain + "2024/06/01/c.log.gz",
		plain + "2023/12/31/d.log.gz",
		hive + "year=2024/month=05/day=31/hour=10/e.log.parquet",
		hive + "year=2024/month=05/day=31/hour=14/f.log.parquet",
		hive + "year=2024/month=06/day=01/hour=00/g.log.parquet",
		"custom/2020/x.log.gz", // no flow log layout: always listed
	} {
		put(t, c, "vpc", k, "x")
		all = append(all, k)
	}
	walk := func(prefix string, from time.Time) []string {
		var got []string
		err := c.Walk(ctx, s3.URL{Bucket: "vpc", Prefix: prefix}, from, func(o s3.Object) error {
			got = append(got, o.Key)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		return got
	}
	got := walk("", time.Time{})
	sort.Strings(all)
	if strings.Join(got, "\n") != strings.Join(all, "\n") {
		t.Errorf("flat walk:\n%s", strings.Join(got, "\n"))
	}
	if l := srv.takeListed(); len(l) != 1 {
		t.Errorf("flat walk listed %v", l)
	}
	from := time.Date(2024, 5, 31, 12, 0, 0, 0, time.UTC)
	got = walk("", from)
	want := []string{
		"custom/2020/x.log.gz",
		plain + "2024/05/31/b.log.gz",
		plain + "2024/06/01/c.log.gz",
		hive + "year=2024/month=05/day=31/hour=14/f.log.parquet",
		hive + "year=2024/month=06/day=01/hour=00/g.log.parquet",
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walk from %s:\n%s", from, strings.Join(got, "\n"))
	}
	for _, p := range srv.takeListed() {
		for _, old := range []string{"2023/", "05/30/", "hour=10/"} {
			if strings.HasSuffix(p, old) {
				t.Errorf("listed %s, older than %s", p, from)
			}
		}
	}
	// A prefix that already names the service level.
	if got := walk(plain, from); len(got) != 2 {
		t.Errorf("walk below %s: %v", plain, got)
	}
}

// TestCredentialsTheAWSWay: with no keys in the environment, the profile
// of AWS_PROFILE in the shared credentials file signs the requests, and
// its config file's region is used; keys in the environment win.
func TestCredentialsTheAWSWay(t *testing.T) {
	fake := gofakes3.New(s3mem.New()).Server()
	var mu sync.Mutex
	var auth []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	defer hs.Close()
	dir := t.TempDir()
	creds, cfg := dir+"/credentials", dir+"/config"
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n\n[flowlens]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = p\n\n[local]\naws_access_key_id = AKIDLOCAL\naws_secret_access_key = l\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("[profile flowlens]\nregion = ap-southeast-2\n\n[profile local]\nregion = eu-west-1\nendpoint_url = "+hs.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"profile", map[string]string{"AWS_PROFILE": "flowlens"}, "Credential=AKIDPROFILE/"},
		{"default profile", map[string]string{"AWS_REGION": "eu-west-1"}, "Credential=AKIDDEFAULT/"},
		{"environment", map[string]string{"AWS_PROFILE": "flowlens", "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "e"}, "Credential=AKIDENV/"},
		{"profile endpoint", map[string]string{"AWS_PROFILE": "local", "AWS_ENDPOINT_URL": ""}, "Credential=AKIDLOCAL/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"AWS_ENDPOINT_URL": hs.URL, "AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_CONFIG_FILE": cfg}
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := s3.New(t.Context(), s3.Config{Getenv: func(k string) string { return env[k] }})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			auth = nil
			mu.Unlock()
			_ = c.List(t.Context(), "some-bucket", "", s3.ListOptions{}, func(s3.Page) error { return nil })
			mu.Lock()
			defer mu.Unlock()
			if len(auth) == 0 || !strings.Contains(auth[0], tc.want) {
				t.Errorf("Authorization %q, want %s", auth, tc.want)
			}
			if tc.name == "profile" && !strings.Contains(auth[0], "/ap-southeast-2/s3/") {
				t.Errorf("the profile's region is not used: %q", auth[0])
			}
		})
	}
}
