package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

// useCaseQueries are the questions of the use cases and of the standard
// benchmark (Q1–Q7 of BENCHMARK.md) asked of the demo day.
var useCaseQueries = []string{
	// rejected traffic
	`filter action = "REJECT" | stats count(*) as n by srcAddr | sort n desc | limit 20`,
	`filter action = "REJECT" | stats count(*) as rejects, count_distinct(dstPort) as ports by srcAddr, dstAddr | sort rejects desc | limit 15`,
	// SSH / RDP
	`filter (dstPort = 22 or dstPort = 3389) and action = "REJECT" | stats count(*) as n by srcAddr, dstPort | sort n desc | limit 20`,
	// port scans
	`stats count_distinct(dstPort) as p by srcAddr | filter p > 100 | sort p desc, srcAddr`,
	// top talkers
	`stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 10`,
	// traffic over time
	`stats sum(bytes) as b by bin(5m) | sort b desc | limit 20`,
	`stats sum(bytes) as b, count(*) as n by bin(1h), action`,
	// one VPC's destinations
	`filter isIpv4InSubnet(srcAddr, "10.1.0.0/16") | stats sum(bytes) as b by dstAddr | sort b desc | limit 10`,
	// the commonest values, averages, percentiles
	`stats count(*) as n, avg(bytes) as a, max(packets) as p by protocol, action | sort n desc`,
	`filter logStatus = "OK" | stats count(*) as n by interfaceId | sort n desc | limit 5`,
}

// demoReport returns the report part of the demo's output (what it found,
// without the timings of generation and ingest and the folders).
func demoReport(t *testing.T, out string) string {
	t.Helper()
	i, j := strings.Index(out, "3/3 What happened"), strings.Index(out, "Next steps")
	if i < 0 || j < i {
		t.Fatalf("no report in the demo's output:\n%s", out)
	}
	return out[i:j]
}

// TestClickHouseSameAnswers ingests the demo day through the CLI into the
// embedded database and into ClickHouse and checks that the demo report,
// the use-case queries, a host's records, SQL and the catalogue give the
// same answers on both.
func TestClickHouseSameAnswers(t *testing.T) {
	srv := chtest.Start(t)
	dsn := srv.DSN("e2e")
	dir := t.TempDir()
	const records = "40000"
	duck := mustStore(t, nil, "demo", "--dir", filepath.Join(dir, "duck"), "--records", records)
	ch := mustStore(t, nil, "demo", "--dir", filepath.Join(dir, "ch"), "--records", records, "--store", dsn)
	if !strings.Contains(ch, "Ingesting them into "+dsn) || !strings.Contains(ch, "--store "+dsn) {
		t.Errorf("the demo on ClickHouse does not say where the records are:\n%s", ch)
	}
	if a, b := demoReport(t, duck), demoReport(t, ch); a != b {
		t.Errorf("demo reports differ:\n--- embedded\n%s\n--- ClickHouse\n%s", a, b)
	}
	// A second demo on the same database replaces the first.
	ch2 := mustStore(t, nil, "demo", "--dir", filepath.Join(dir, "ch"), "--records", records, "--store", dsn)
	if a, b := demoReport(t, duck), demoReport(t, ch2); a != b {
		t.Errorf("demo report on ClickHouse, second run, differs:\n--- embedded\n%s\n--- ClickHouse\n%s", a, b)
	}

	db := filepath.Join(dir, "duck", "db")
	both := func(t *testing.T, args ...string) (string, string) {
		t.Helper()
		a := mustStore(t, nil, append([]string{args[0], "--data", db}, args[1:]...)...)
		b := mustStore(t, nil, append([]string{args[0], "--data", filepath.Join(dir, "none"), "--store", dsn}, args[1:]...)...)
		return a, b
	}
	// a host with a few dozen records: a remote peer of the day
	host := strings.TrimSpace(mustStore(t, nil, "query", "--data", db, "--output", "csv",
		`filter not isIpv4InSubnet(srcAddr, "10.0.0.0/8") | stats count(*) as n by srcAddr | filter n >= 5 and n <= 200 | sort n desc, srcAddr | limit 1 | fields srcAddr`))
	host = strings.TrimSpace(host[strings.Index(host, "\n")+1:])
	if host == "" {
		t.Fatal("no host with a few records in the demo day")
	}
	queries := append(useCaseQueries,
		fmt.Sprintf(`filter srcAddr = "%s" | fields @timestamp, srcAddr, dstAddr, srcPort, dstPort, bytes | sort @timestamp, dstAddr, dstPort, srcPort`, host),
		fmt.Sprintf(`filter srcAddr = "%s" or dstAddr = "%s" | stats count(*) as n, sum(bytes) as b by dstPort, action | sort n desc, dstPort`, host, host),
	)
	for _, q := range append(queries, demoBenchQueries...) {
		t.Run("", func(t *testing.T) {
			a, b := both(t, "query", "--output", "json", q)
			if !strings.Contains(q, "sort") {
				// no order asked for: the same rows in any order
				a, b = sortedLines(a), sortedLines(b)
			}
			if a != b {
				t.Errorf("%s\n--- embedded\n%s\n--- ClickHouse\n%s", q, a, b)
			}
			if !strings.Contains(a, "{") {
				t.Errorf("%s: no rows: %s", q, a)
			}
		})
	}
	// SQL over the same views (SQL that both dialects read alike)
	for _, q := range []string{
		`SELECT count(*) AS n, sum(bytes) AS b, count(DISTINCT srcaddr) AS s FROM flows`,
		`SELECT action, count(*) AS n FROM demo GROUP BY action ORDER BY action`,
		`SELECT dstport, count(*) AS n FROM vpc_flow_logs WHERE dstport IN (22, 3389) GROUP BY dstport ORDER BY dstport`,
	} {
		a, b := both(t, "sql", "--output", "csv", q)
		if a != b {
			t.Errorf("%s\n--- embedded\n%s\n--- ClickHouse\n%s", q, a, b)
		}
	}
	// ClickHouse SQL as written; what only the embedded store does says so
	if out := mustStore(t, nil, "sql", "--store", dsn, "--output", "csv", "SELECT intDiv(toInt64(count()), 1000) AS k FROM flows WHERE dataset = 'demo'"); out != "k\n40\n" {
		t.Errorf("ClickHouse SQL: %q", out)
	}
	if code, _, errs := storeRun(t, nil, "sql", "--store", dsn, "--integer-division", "SELECT 1"); code != 2 || !strings.Contains(errs, "intDiv") {
		t.Errorf("--integer-division on ClickHouse: exit %d %s", code, errs)
	}
	if code, _, errs := storeRun(t, nil, "export", "--store", dsn, "--parquet", filepath.Join(dir, "lake")); code != 1 || !strings.Contains(errs, "embedded database") {
		t.Errorf("export on ClickHouse: exit %d %s", code, errs)
	}
	// the catalogue: the same records, files, time range and formats
	var dsA, dsB []map[string]any
	a, b := both(t, "datasets", "--output", "json")
	for _, x := range []struct {
		raw string
		to  *[]map[string]any
	}{{a, &dsA}, {b, &dsB}} {
		if err := json.Unmarshal([]byte(x.raw), x.to); err != nil {
			t.Fatalf("datasets --output json: %v\n%s", err, x.raw)
		}
	}
	if len(dsA) != 1 || len(dsB) != 1 {
		t.Fatalf("datasets: %s / %s", a, b)
	}
	for _, k := range []string{"dataset", "records", "first", "last", "files", "formats", "retention"} {
		if fmt.Sprint(dsA[0][k]) != fmt.Sprint(dsB[0][k]) {
			t.Errorf("datasets: %s is %v embedded, %v on ClickHouse", k, dsA[0][k], dsB[0][k])
		}
	}

	// a Distributed table over two shards: the same report and answers
	srvs := chtest.StartCluster(t, 2, "two")
	cdsn := srvs[0].DSN("e2e") + "?cluster=two"
	cl := mustStore(t, nil, "demo", "--dir", filepath.Join(dir, "cl"), "--records", records, "--store", cdsn)
	if a, b := demoReport(t, duck), demoReport(t, cl); a != b {
		t.Errorf("demo reports differ on two shards:\n--- embedded\n%s\n--- ClickHouse cluster\n%s", a, b)
	}
	for _, q := range append(queries[len(queries)-2:], demoBenchQueries...) {
		a := mustStore(t, nil, "query", "--data", db, "--output", "json", q)
		b := mustStore(t, nil, "query", "--store", cdsn, "--output", "json", q)
		if !strings.Contains(q, "sort") {
			a, b = sortedLines(a), sortedLines(b)
		}
		if a != b {
			t.Errorf("two shards: %s\n--- embedded\n%s\n--- ClickHouse cluster\n%s", q, a, b)
		}
	}

	// flowlens ingest into ClickHouse: exactly once per file, --force replaces
	ing := srv.DSN("e2e_ingest")
	logs := filepath.Join(dir, "ch", "logs")
	out := mustStore(t, nil, "ingest", "--store", ing, "--data", filepath.Join(dir, "none"), "--dataset", "demo", logs)
	if !strings.Contains(out, "dataset demo now holds "+records+" records") {
		t.Errorf("ingest into ClickHouse:\n%s", out)
	}
	out = mustStore(t, nil, "ingest", "--store", ing, "--data", filepath.Join(dir, "none"), "--dataset", "demo", logs)
	if !strings.Contains(out, "skipped") || !strings.Contains(out, "now holds "+records+" records") {
		t.Errorf("second ingest into ClickHouse:\n%s", out)
	}
	q := useCaseQueries[0]
	if a, b := mustStore(t, nil, "query", "--data", db, "--output", "json", q), mustStore(t, nil, "query", "--store", ing, "--output", "json", q); a != b {
		t.Errorf("after flowlens ingest: %s\n--- embedded\n%s\n--- ClickHouse\n%s", q, a, b)
	}
	// retention: nothing is older than the day
	if out := mustStore(t, nil, "retention", "--store", ing, "--before", "2000-01-01T00:00:00Z"); !strings.Contains(out, "removed 0 records") {
		t.Errorf("retention: %s", out)
	}
}

// sortedLines returns the lines of s in sorted order.
func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(strings.TrimSpace(l), ",")
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// demoBenchQueries are Q1–Q6 of BENCHMARK.md (Q7 is the host query above).
var demoBenchQueries = []string{
	`stats sum(bytes) as b by srcaddr, dstaddr | sort b desc | limit 10`,
	`filter action = "REJECT" | stats count(*) as n by srcaddr | sort n desc | limit 20`,
	`stats sum(bytes) as b by bin(5m)`,
	`filter action = "REJECT" and dstport = 22 | stats count(*) as n by srcaddr | sort n desc | limit 20`,
	`stats count_distinct(dstport) as p by srcaddr | filter p > 100`,
	`filter isIpv4InSubnet(srcaddr, "10.1.0.0/16") | stats sum(bytes) as b by dstaddr | sort b desc | limit 10`,
}

// TestServeOnClickHouse runs flowlens serve with a ClickHouse store: the
// API's queries and SQL, the datasets, the console, a forwarded ingest
// and Firehose deliveries all work on it.
func TestServeOnClickHouse(t *testing.T) {
	ch := chtest.Start(t)
	dsn := ch.DSN("served")
	data := t.TempDir()
	akid, secret := createKey(t, data, "cwl")
	srv := startServe(t, data, "--store", dsn)
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Hour).Unix()
	var text strings.Builder
	for i := range 50 {
		text.WriteString(flowLine("eni-00000001", i, base) + "\n")
	}
	file := filepath.Join(t.TempDir(), "eni.log")
	if err := os.WriteFile(file, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// forwarded to the server, which writes its ClickHouse store
	out := mustStore(t, nil, "ingest", "--data", data, "--dataset", "prod", "--format", "default", file)
	if !strings.Contains(out, "dataset prod now holds 50 records") {
		t.Errorf("forwarded ingest: %s", out)
	}
	if code, _, errs := storeRun(t, nil, "query", "--data", data, "--store", ch.DSN("other"), "stats count(*)"); code == 0 || !strings.Contains(errs, "keeps its records in "+dsn) {
		t.Errorf("a forwarded verb naming another store: exit %d, %s", code, errs)
	}
	if status, ans, err := firehosePost(srv.url, srv.token, "req-1", "prod", fhBatch(base, 1)); err != nil || status != 200 {
		t.Fatalf("firehose: %d %v %v", status, ans, err)
	}
	// the CloudWatch Logs API: a group, a stream, events put and read back
	ctx := t.Context()
	c := cwlClient(srv.url, akid, secret)
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("cwl")}); err != nil {
		t.Fatal(err)
	}
	stream := "eni-00000002-all"
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("cwl"), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	var evs []types.InputLogEvent
	for i := range 5 {
		evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64((base + int64(i)) * 1000), Message: aws.String(flowLine("eni-00000002", i, base+int64(i)))})
	}
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("cwl"), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("cwl"), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 5 || aws.ToString(got.Events[0].Message) != flowLine("eni-00000002", 0, base) {
		t.Errorf("get-log-events: %d events", len(got.Events))
	}
	if n := sqlCount(t, srv, "SELECT count() FROM flows WHERE dataset = 'prod'"); n != 150 {
		t.Errorf("%d records through the API's SQL, want 150", n)
	}
	status, _, env := srv.call(t, "POST", "/api/v1/query", srv.token, map[string]any{"query": "stats count(*) as n by action | sort n desc"})
	if status != 200 || !strings.Contains(jsonText(env), `"rows":[[`) {
		t.Errorf("query: %d %s", status, jsonText(env))
	}
	status, _, env = srv.call(t, "GET", "/api/v1/datasets", srv.token, nil)
	if status != 200 || !strings.Contains(jsonText(env), `"records":150`) {
		t.Errorf("datasets: %d %s", status, jsonText(env))
	}
	// the CLI through the server gives what it gives on the store itself
	q := `stats count(*) as n, sum(bytes) as b by interfaceId | sort n desc`
	if a, b := mustStore(t, nil, "query", "--data", data, q), mustStore(t, nil, "query", "--store", dsn, q); a != b {
		t.Errorf("forwarded query:\n%s\ndirect:\n%s", a, b)
	}
	resp, err := http.Get(srv.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<html") {
		t.Errorf("console: %d %.200s", resp.StatusCode, page)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
}
