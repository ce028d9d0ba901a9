package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/flowlens/flowlens/internal/alarm"
	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/metricfilter"
)

// TestServeHealthMetrics: the server's own health on /metrics: records
// committed (a counter, whose rate is records/s), rejects by ingest path,
// and query latency by kind (Logs Insights and SQL through the REST API,
// the CloudWatch Logs API's queries).
func TestServeHealthMetrics(t *testing.T) {
	data := t.TempDir()
	srv := startServe(t, data)
	base := time.Now().Unix()/60 - 30
	text, _ := flowLines(base, 90)
	text += "this is not a flow log record\n2 111122223333 eni-1 1.2.3.4\n"
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", writeTemp(t, "a.log", []byte(text)))

	if code, _, env := srv.call(t, "POST", "/api/v1/query", srv.token, map[string]any{"query": "stats count(*)"}); code != 200 {
		t.Fatalf("query: %d %v", code, env)
	}
	if code, _, env := srv.call(t, "POST", "/api/v1/query", srv.token, map[string]any{"language": "sql", "query": "SELECT count(*) FROM flows"}); code != 200 {
		t.Fatalf("sql: %d %v", code, env)
	}
	akid, secret := createKey(t, data, "health")
	c := cwlClient(srv.url, akid, secret)
	ctx := t.Context()
	now := time.Now()
	sq, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("my-flow-log"), QueryString: aws.String("stats count(*)"),
		StartTime: aws.Int64(now.Add(-time.Hour).Unix()), EndTime: aws.Int64(now.Unix())})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: sq.QueryId})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == types.QueryStatusComplete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query status %s", r.Status)
		}
	}
	// A message that is not a flow log record, and one too far in the future.
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String("app"),
		LogEvents: []types.InputLogEvent{
			{Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String("hello")},
			{Timestamp: aws.Int64(now.Add(3 * time.Hour).UnixMilli()), Message: aws.String("later")},
		}})
	if err != nil || out.RejectedLogEventsInfo == nil || aws.ToInt32(out.RejectedLogEventsInfo.TooNewLogEventStartIndex) != 1 {
		t.Fatalf("PutLogEvents: %v %+v", err, out)
	}

	m := scrape(t, srv)
	if v := promValue(t, m, `flowlens_ingest_records_total{dataset="my-flow-log"}`); v != 90 {
		t.Errorf("records = %v, want 90", v)
	}
	if v := promValue(t, m, `flowlens_ingest_rejects_total{path="ingest"}`); v != 2 {
		t.Errorf("ingest rejects = %v, want 2", v)
	}
	if v := promValue(t, m, `flowlens_ingest_rejects_total{path="cwlogs"}`); v != 2 {
		t.Errorf("cwlogs rejects = %v, want 2 (one aside, one too new)", v)
	}
	if v := promValue(t, m, `flowlens_ingest_rejects_total{path="firehose"}`); v != 0 {
		t.Errorf("firehose rejects = %v", v)
	}
	for _, kind := range []string{"insights", "sql", "cwlogs"} {
		if v := promValue(t, m, `flowlens_query_duration_seconds_count{kind="`+kind+`",outcome="ok"}`); v < 1 {
			t.Errorf("%s queries timed: %v", kind, v)
		}
		if !strings.Contains(m, `flowlens_query_duration_seconds_bucket{kind="`+kind+`",outcome="ok",le="0.005"}`) {
			t.Errorf("%s: no histogram buckets", kind)
		}
	}
	for _, want := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestServeOpenAPIMetricFilters: every endpoint of the metric filters,
// metrics and alarms is in /api/v1/openapi.json.
func TestServeOpenAPIMetricFilters(t *testing.T) {
	data := t.TempDir()
	srv := startServe(t, data)
	code, _, doc := srv.call(t, "GET", "/api/v1/openapi.json", srv.token, nil)
	if code != 200 {
		t.Fatalf("openapi.json: %d", code)
	}
	paths, _ := doc["paths"].(map[string]any)
	ev, err := filtereval.New(filtereval.Config{Dir: data}, filtereval.Deps{Filters: metricfilter.Open(data)})
	if err != nil {
		t.Fatal(err)
	}
	al, err := alarm.New(alarm.Config{}, alarm.Deps{Alarms: alarm.Open(data), Metrics: ev})
	if err != nil {
		t.Fatal(err)
	}
	patterns := []string{"GET /metrics"}
	for p := range ev.Handlers() {
		patterns = append(patterns, p)
	}
	for p := range al.Handlers() {
		patterns = append(patterns, p)
	}
	for _, p := range patterns {
		method, path, _ := strings.Cut(p, " ")
		item, _ := paths[path].(map[string]any)
		if item[strings.ToLower(method)] == nil {
			t.Errorf("%s is not in openapi.json", p)
		}
	}
}

// TestServeHealthForwardedQueries: 'flowlens query' and 'flowlens sql'
// that the server runs for a client are timed on /metrics like the REST
// API's queries, each under its kind and outcome.
func TestServeHealthForwardedQueries(t *testing.T) {
	data := t.TempDir()
	srv := startServe(t, data)
	text, _ := flowLines(time.Now().Unix()/60-30, 20)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", writeTemp(t, "a.log", []byte(text)))
	if out := mustStore(t, nil, "query", "--data", data, "--output", "csv", "stats count(*) as n"); !strings.Contains(out, "20") {
		t.Fatalf("query: %s", out)
	}
	if out := mustStore(t, nil, "sql", "--data", data, "--output", "csv", "SELECT count(*) AS n FROM flows; SELECT 1 AS one"); !strings.Contains(out, "20") {
		t.Fatalf("sql: %s", out)
	}
	if code, _, errs := storeRun(t, nil, "sql", "--data", data, "SELECT no_such_column FROM flows"); code == 0 || !strings.Contains(errs, "no_such_column") {
		t.Fatalf("a failing statement: exit %d, %s", code, errs)
	}
	m := scrape(t, srv)
	for series, want := range map[string]float64{
		`flowlens_query_duration_seconds_count{kind="insights",outcome="ok"}`: 1,
		`flowlens_query_duration_seconds_count{kind="sql",outcome="ok"}`:      2,
		`flowlens_query_duration_seconds_count{kind="sql",outcome="error"}`:   1,
	} {
		if v := promValue(t, m, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	if !strings.Contains(m, `flowlens_query_duration_seconds_bucket{kind="insights",outcome="ok",le="+Inf"} 1`) {
		t.Errorf("no histogram of the forwarded query:\n%s", m)
	}
}
