package cli

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestServeMetricFiltersEveryPath: a metric filter counts the records of
// every ingest path of the server — files through the CLI, Firehose, and
// PutLogEvents (of aws-sdk-go-v2's client) — once each, retries included,
// and the count equals a query of the same condition.
func TestServeMetricFiltersEveryPath(t *testing.T) {
	data := t.TempDir()
	mustStore(t, nil, "filters", "add", "--data", data, "--log-group-name", "my-flow-log", "--filter-name", "SSHAccess",
		"--filter-pattern", walkthroughPattern22, "--metric-transformations", "metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess")
	akid, secret := createKey(t, data, "paths")
	srv := startServe(t, data)
	ctx := t.Context()
	base := time.Now().Add(-time.Hour).Truncate(time.Minute).Unix()
	ssh := func(i int) string {
		return fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f60718 203.0.113.%d 10.0.1.5 %d 22 6 1 60 %d %d REJECT OK", i%200+1, 40000+i, base+int64(i), base+int64(i)+5)
	}
	other := func(i int) string {
		return fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.%d 10.0.1.5 %d 443 6 9 900 %d %d ACCEPT OK", i%200+1, 50000+i, base+int64(i), base+int64(i)+5)
	}
	// files: 10 SSH records of 20
	var b strings.Builder
	for i := range 20 {
		if i%2 == 0 {
			b.WriteString(ssh(i) + "\n")
		} else {
			b.WriteString(other(i) + "\n")
		}
	}
	mustStore(t, strings.NewReader(b.String()), "ingest", "--data", data, "--dataset", "my-flow-log", "--format", "default", "-")
	// Firehose: 7 SSH records of 10, sent twice (a retry of the same request id)
	var recs []string
	for i := 100; i < 110; i++ {
		if i < 107 {
			recs = append(recs, ssh(i))
		} else {
			recs = append(recs, other(i))
		}
	}
	for range 2 {
		if status, ans, err := firehosePost(srv.url, srv.token, "req-paths-1", "my-flow-log", recs); err != nil || status != 200 {
			t.Fatalf("firehose: %d %v %v", status, ans, err)
		}
	}
	// PutLogEvents: 5 SSH records of 8, sent twice
	c := cwlClient(srv.url, akid, secret)
	// (the interface's stream exists: its records are there)
	var evs []types.InputLogEvent
	for i := 200; i < 208; i++ {
		msg := other(i)
		if i < 205 {
			msg = ssh(i)
		}
		evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64((base + int64(i)) * 1000), Message: aws.String(msg)})
	}
	for range 2 {
		if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("my-flow-log"),
			LogStreamName: aws.String("eni-0a1b2c3d4e5f60718-all"), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	want := sqlCSV(t, data, "SELECT count(*) FROM flows WHERE dataset = 'my-flow-log' AND dstport = 22")[0][0]
	m := scrape(t, srv)
	got := promValue(t, m, `flowlens_metric_filter_value_total{dataset="my-flow-log",filter="SSHAccess",metric="SSHAccess",namespace="LogMetrics",unit="None"}`)
	if strconv.FormatFloat(got, 'f', -1, 64) != want || want != "22" {
		t.Fatalf("SSHAccess = %v, SQL says %s (want 22 = 10 + 7 + 5)", got, want)
	}
	if v := promValue(t, m, `flowlens_ingest_records_total{dataset="my-flow-log"}`); v != 38 {
		t.Errorf("records committed = %v, want 38", v)
	}
}
