package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// flowLines writes n default-format records starting at minute base: every
// third record is SSH (dstport 22), rejected on odd ones, from one of
// three sources.
func flowLines(base int64, n int) (string, map[int64]int) {
	var b strings.Builder
	b.WriteString(decodeHeader + "\n")
	ssh := map[int64]int{}
	for i := 0; i < n; i++ {
		start := base*60 + int64(i%180) // three minutes
		port := 443
		if i%3 == 0 {
			port = 22
			ssh[start/60]++
		}
		action := "ACCEPT"
		if i%2 == 1 {
			action = "REJECT"
		}
		fmt.Fprintf(&b, "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.%d 10.0.1.5 %d %d 6 3 %d %d %d %s OK\n",
			i%3+1, 40000+i, port, 100+i, start, start+30, action)
	}
	return b.String(), ssh
}

func scrape(t *testing.T, srv *testServer) string {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+srv.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

func promValue(t *testing.T, text, series string) float64 {
	t.Helper()
	re := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(series) + " (\\S+)$")
	m := re.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no %s in\n%s", series, text)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestServeMetricFilters: the walkthrough's SSHAccess filter, typed as the
// user typed it, counts what a query of the same condition counts, on every
// ingest through the server (once per file, also when a file is sent
// twice); the counts are at /metrics and in the datapoints API, and survive
// a restart.
func TestServeMetricFilters(t *testing.T) {
	data := t.TempDir()
	mustStore(t, nil, "filters", "add", "--data", data, "--log-group-name", "my-flow-log", "--filter-name", "SSHAccess",
		"--filter-pattern", `[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`,
		"--metric-transformations", "metricValue=1,metricNamespace=foo,metricName=bar")
	mustStore(t, nil, "filters", "add", "--data", data, "--dataset", "my-flow-log", "--name", "RejectedBytesBySource",
		"--pattern", `[..., srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action = REJECT, status]`,
		"--metric-namespace", "VPC", "--metric-name", "RejectedBytes", "--metric-value", "$bytes", "--dimension", "Source=$srcaddr")
	srv := startServe(t, data)

	const base = 28619520 // 2024-05-31T00:00Z in minutes
	text, ssh := flowLines(base, 900)
	file := writeTemp(t, "a.log", []byte(text))
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", file)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", file) // already ingested: counts once
	// The same records into another dataset do not count.
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "other", file)

	want := sqlCSV(t, data, "SELECT count(*) FROM flows WHERE dataset = 'my-flow-log' AND dstport = 22")[0][0]
	wantRej := sqlCSV(t, data, "SELECT srcaddr, sum(bytes) FROM flows WHERE dataset = 'my-flow-log' AND action = 'REJECT' GROUP BY 1 ORDER BY 1")
	m := scrape(t, srv)
	got := promValue(t, m, `flowlens_metric_filter_value_total{dataset="my-flow-log",filter="SSHAccess",metric="bar",namespace="foo",unit="None"}`)
	if strconv.FormatFloat(got, 'f', -1, 64) != want || want != "300" {
		t.Fatalf("SSHAccess = %v, query says %s", got, want)
	}
	for _, r := range wantRej {
		v := promValue(t, m, `flowlens_metric_filter_value_total{Source="`+r[0]+`",dataset="my-flow-log",filter="RejectedBytesBySource",metric="RejectedBytes",namespace="VPC",unit="None"}`)
		if strconv.FormatFloat(v, 'f', -1, 64) != r[1] {
			t.Errorf("RejectedBytes{Source=%s} = %v, query says %s", r[0], v, r[1])
		}
	}
	if v := promValue(t, m, `flowlens_ingest_records_total{dataset="my-flow-log"}`); v != 900 {
		t.Errorf("ingest records = %v", v)
	}

	// Per-minute datapoints.
	code, _, env := srv.call(t, "GET", fmt.Sprintf("/api/v1/metrics/datapoints?namespace=foo&metric=bar&period=60&statistic=Sum&start=%d&end=%d", base*60, (base+10)*60), srv.token, nil)
	if code != 200 {
		t.Fatalf("datapoints: %d %v", code, env)
	}
	dps := dataOf(t, env).(map[string]any)["datapoints"].([]any)
	if len(dps) != len(ssh) {
		t.Fatalf("datapoints %v, want %d minutes", dps, len(ssh))
	}
	for i, dp := range dps {
		if v := dp.(map[string]any)["value"].(float64); int(v) != ssh[base+int64(i)] {
			t.Errorf("minute %d: %v, want %d", i, v, ssh[base+int64(i)])
		}
	}

	// A filter added through the API counts what is ingested after it.
	code, _, env = srv.call(t, "POST", "/api/v1/metric-filters", srv.token, map[string]any{
		"dataset": "my-flow-log", "filterName": "All", "filterPattern": "",
		"metricTransformation": map[string]any{"metricName": "Records", "metricNamespace": "VPC", "metricValue": "1"},
	})
	if code != 201 {
		t.Fatalf("create: %d %v", code, env)
	}
	code, _, env = srv.call(t, "POST", "/api/v1/metric-filters", srv.token, map[string]any{
		"dataset": "my-flow-log", "filterName": "Bad", "filterPattern": "[a, b == 1]",
		"metricTransformation": map[string]any{"metricName": "Records", "metricNamespace": "VPC", "metricValue": "1"},
	})
	if e, _ := env["error"].(map[string]any); code != 400 || e["position"].(map[string]any)["column"].(float64) != 7 {
		t.Fatalf("bad pattern: %d %v", code, env)
	}
	text2, _ := flowLines(base+10, 30)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", writeTemp(t, "b.log", []byte(text2)))
	m = scrape(t, srv)
	if v := promValue(t, m, `flowlens_metric_filter_value_total{dataset="my-flow-log",filter="All",metric="Records",namespace="VPC",unit="None"}`); v != 30 {
		t.Errorf("All = %v, want 30", v)
	}
	if v := promValue(t, m, `flowlens_metric_filter_value_total{dataset="my-flow-log",filter="SSHAccess",metric="bar",namespace="foo",unit="None"}`); v != 310 {
		t.Errorf("SSHAccess = %v, want 310", v)
	}
	// TestMetricFilter through the API.
	code, _, env = srv.call(t, "POST", "/api/v1/metric-filters/test", srv.token, map[string]any{
		"filterPattern": walkthroughPattern, "logEventMessages": []string{"x", walkthroughEvent},
	})
	matches := dataOf(t, env).(map[string]any)["matches"].([]any)
	if code != 200 || len(matches) != 1 || matches[0].(map[string]any)["eventNumber"].(float64) != 2 {
		t.Fatalf("test: %d %v", code, env)
	}
	code, _, env = srv.call(t, "GET", "/api/v1/metric-filters?dataset=my-flow-log", srv.token, nil)
	if list := dataOf(t, env).(map[string]any)["metricFilters"].([]any); code != 200 || len(list) != 3 {
		t.Fatalf("list: %d %v", code, env)
	}
	code, _, env = srv.call(t, "DELETE", "/api/v1/metric-filters/my-flow-log/All", srv.token, nil)
	if code != 200 {
		t.Fatalf("delete: %d %v", code, env)
	}
	if code, _, _ = srv.call(t, "DELETE", "/api/v1/metric-filters/my-flow-log/All", srv.token, nil); code != 404 {
		t.Fatalf("second delete: %d", code)
	}

	// The minutes survive a restart.
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "metrics", "minutes.json")); err != nil {
		t.Fatal(err)
	}
	srv = startServe(t, data)
	if v := promValue(t, scrape(t, srv), `flowlens_metric_filter_value_total{dataset="my-flow-log",filter="SSHAccess",metric="bar",namespace="foo",unit="None"}`); v != 310 {
		t.Errorf("after restart SSHAccess = %v, want 310", v)
	}
}

// TestIngestMetricFiltersStandalone: a 'flowlens ingest' without a server
// evaluates the metric filters too; the server started later has the counts.
func TestIngestMetricFiltersStandalone(t *testing.T) {
	data := t.TempDir()
	mustStore(t, nil, "filters", "add", "--data", data, "--dataset", "prod", "--name", "SSH",
		"--pattern", `[$dstport = 22]`, "--metric-namespace", "VPC", "--metric-name", "SSH")
	text, _ := flowLines(28619520, 90)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "prod", writeTemp(t, "a.log", []byte(text)))
	srv := startServe(t, data)
	if v := promValue(t, scrape(t, srv), `flowlens_metric_filter_value_total{dataset="prod",filter="SSH",metric="SSH",namespace="VPC",unit="None"}`); v != 30 {
		t.Fatalf("SSH = %v, want 30", v)
	}
}
