package bucket_test

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/flowlens/flowlens/internal/bucket"
	"github.com/flowlens/flowlens/internal/s3"
)

func TestListRange(t *testing.T) {
	hs := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer hs.Close()
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": hs.URL,
		"AWS_CONFIG_FILE": t.TempDir() + "/c", "AWS_SHARED_CREDENTIALS_FILE": t.TempDir() + "/k"}
	c, err := s3.New(t.Context(), s3.Config{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != hs.URL {
		t.Fatalf("AWS_ENDPOINT_URL not used: %q", c.Endpoint())
	}
	if err := c.CreateBucket(t.Context(), "logs"); err != nil {
		t.Fatal(err)
	}
	dir := "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/31/"
	name := func(hhmm string) string {
		return dir + "111122223333_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20240531T" + hhmm + "Z_1a2b3c4d.log.gz"
	}
	for _, k := range []string{name("1400"), name("1405"), name("1410"), "AWSLogs/README", dir} {
		if _, err := c.Put(t.Context(), "logs", k, bytes.NewReader([]byte("x")), 1, ""); err != nil {
			t.Fatal(err)
		}
	}
	u := s3.URL{Bucket: "logs"}
	l, err := bucket.List(t.Context(), c, u, bucket.Range{})
	if err != nil || len(l.Objects) != 4 || l.OutOfRange != 0 || !l.Newest.Equal(time.Date(2024, 5, 31, 14, 10, 0, 0, time.UTC)) {
		t.Fatalf("all: %+v %v", l, err)
	}
	if f := l.Objects[0]; f.Key != "s3://logs/"+name("1400") || f.ETag == "" || f.Remote == nil || f.Size != 1 {
		t.Errorf("source %+v", f)
	}
	r := bucket.Range{Since: time.Date(2024, 5, 31, 14, 5, 0, 0, time.UTC), Until: time.Date(2024, 5, 31, 14, 10, 0, 0, time.UTC)}
	l, err = bucket.List(t.Context(), c, u, r)
	if err != nil || len(l.Objects) != 1 || l.Objects[0].Key != "s3://logs/"+name("1405") || l.OutOfRange != 3 {
		t.Fatalf("range: %+v %v", l, err)
	}
}
