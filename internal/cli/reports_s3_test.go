package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// download reads an object of the test S3 server into a file.
func (s *s3Server) download(t *testing.T, bucket, key string) string {
	t.Helper()
	body, _, err := s.client.Open(t.Context(), bucket, key, "")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	p := filepath.Join(t.TempDir(), filepath.Base(key))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, body); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReportsS3: reports add --out s3://… and reports run --out s3://…
// publish NAME-YYYY-MM-DD.csv (and .parquet) to an S3-protocol server
// through the S3 client, standalone and through a running server.
func TestReportsS3(t *testing.T) {
	s3srv := startS3(t)
	s3srv.bucket(t, "reports")
	day0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	logs := natDays(t, day0, 2, 20000)
	recs := readRaw(t, logs)
	data := t.TempDir()
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "nat-gw", logs)
	code, _, errs := storeRun(t, nil, "reports", "add", "bad", "--data", data, "--dataset", "nat-gw", "--sql-file", exampleSQL(t),
		"--schedule", "0 2 * * *", "--out", "s3://Bad_Bucket/x")
	if code != 2 || !strings.Contains(errs, "bucket name") {
		t.Errorf("a bad bucket name: exit %d: %s", code, errs)
	}
	mustStore(t, nil, "reports", "add", "nat-top100", "--data", data, "--dataset", "nat-gw", "--sql-file", exampleSQL(t),
		"--table", "nat_flowlog_table", "--schedule", "0 2 * * *", "--window", "1d", "--format", "csv", "--out", "s3://reports/nat/")
	msg := mustStore(t, nil, "reports", "run", "nat-top100", "--data", data, "--for", "2026-03-01")
	if !strings.Contains(msg, "s3://reports/nat/nat-top100-2026-03-01.csv") {
		t.Errorf("run output %q does not name the object", msg)
	}
	p := s3srv.download(t, "reports", "nat/nat-top100-2026-03-01.csv")
	if n := checkTop(t, p, recs, day0, day0.AddDate(0, 0, 1)); n != 100 {
		t.Errorf("%d rows", n)
	}
	// --out elsewhere, a prefix without the slash; an empty day.
	mustStore(t, nil, "reports", "run", "nat-top100", "--data", data, "--for", "2026-03-09", "--out", "s3://reports/check")
	if b, _ := os.ReadFile(s3srv.download(t, "reports", "check/nat-top100-2026-03-09.csv")); string(b) != "pkt_srcaddr,pkt_dstaddr,srcaddr,dstaddr,flow_direction,bytes\r\n" {
		t.Errorf("empty day: %q", b)
	}
	// Parquet, run by the server the folder belongs to.
	mustStore(t, nil, "reports", "add", "top-pq", "--data", data, "--dataset", "nat-gw", "--sql-file", exampleSQL(t),
		"--table", "nat_flowlog_table", "--schedule", "@daily", "--format", "parquet", "--out", "s3://reports/pq/")
	srv := startServe(t, data)
	msg = mustStore(t, nil, "reports", "run", "top-pq", "--data", data, "--for", "2026-03-02")
	if !strings.Contains(msg, "s3://reports/pq/top-pq-2026-03-02.parquet") {
		t.Errorf("server run output %q", msg)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	pq := sqlCSV(t, data, "SELECT count(*) FROM read_parquet('"+s3srv.download(t, "reports", "pq/top-pq-2026-03-02.parquet")+"')")
	if pq[0][0] != "100" {
		t.Errorf("parquet report: %v", pq)
	}
}
