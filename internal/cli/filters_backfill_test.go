package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// walkthroughPattern22 is the walkthrough's SSHAccess pattern.
const walkthroughPattern22 = `[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`

// TestFiltersBackfill: a filter added after its records were stored counts
// them with 'filters backfill'; a second backfill of the same range, and a
// backfill over minutes already counted at ingest (through the running
// server), count every record once; the counts equal SQL's.
func TestFiltersBackfill(t *testing.T) {
	data := t.TempDir()
	base := time.Now().Unix()/60 - 120 // two hours ago, within the metrics kept
	text, ssh := flowLines(base, 900)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", writeTemp(t, "a.log", []byte(text)))
	mustStore(t, nil, "filters", "add", "--data", data, "--log-group-name", "my-flow-log", "--filter-name", "SSHAccess",
		"--filter-pattern", walkthroughPattern22,
		"--metric-transformations", "metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess")
	mustStore(t, nil, "filters", "add", "--data", data, "--dataset", "my-flow-log", "--name", "RejectedBytesBySource",
		"--pattern", `[..., srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action = REJECT, status]`,
		"--metric-namespace", "VPC", "--metric-name", "RejectedBytes", "--metric-value", "$bytes", "--dimension", "Source=$srcaddr")

	backfill := func(name string, from, to int64) map[string]any {
		t.Helper()
		out := mustStore(t, nil, "filters", "backfill", "--data", data, "--dataset", "my-flow-log", name,
			"--start", strconv.FormatInt(from, 10), "--end", strconv.FormatInt(to, 10), "--output", "json")
		var res map[string]any
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return res
	}
	res := backfill("SSHAccess", base*60, (base+10)*60)
	if res["records"].(float64) != 900 || res["matched"].(float64) != 300 || res["samples"].(float64) != 300 || res["replaced"].(float64) != 0 {
		t.Fatalf("first backfill: %v", res)
	}
	res = backfill("SSHAccess", base*60+7, (base+10)*60) // rounded out to the same minutes
	if res["samples"].(float64) != 300 || res["replaced"].(float64) != float64(len(ssh)) {
		t.Fatalf("second backfill: %v", res)
	}
	backfill("RejectedBytesBySource", base*60, (base+10)*60)
	// Usage errors: an unknown filter, a range out of the minutes kept.
	if code, _, errs := storeRun(t, nil, "filters", "backfill", "--data", data, "--dataset", "my-flow-log", "Nope", "--start", "-1h"); code != 2 {
		t.Fatalf("unknown filter: exit %d %s", code, errs)
	}
	if code, _, errs := storeRun(t, nil, "filters", "backfill", "--data", data, "--dataset", "my-flow-log", "SSHAccess", "--start", "2020-01-01", "--end", "2020-01-02"); code != 2 || !strings.Contains(errs, "kept") {
		t.Fatalf("old range: exit %d %s", code, errs)
	}

	srv := startServe(t, data)
	sshTotal := `flowlens_metric_filter_value_total{dataset="my-flow-log",filter="SSHAccess",metric="SSHAccess",namespace="LogMetrics",unit="None"}`
	if v := promValue(t, scrape(t, srv), sshTotal); v != 300 {
		t.Fatalf("SSHAccess after two backfills = %v, want 300", v)
	}
	code, _, env := srv.call(t, "GET", fmt.Sprintf("/api/v1/metrics/datapoints?namespace=LogMetrics&metric=SSHAccess&period=60&statistic=Sum&start=%d&end=%d", base*60, (base+10)*60), srv.token, nil)
	dps := dataOf(t, env).(map[string]any)["datapoints"].([]any)
	if code != 200 || len(dps) != len(ssh) {
		t.Fatalf("datapoints: %d %v", code, env)
	}
	for i, dp := range dps {
		if v := dp.(map[string]any)["value"].(float64); int(v) != ssh[base+int64(i)] {
			t.Errorf("minute %d: %v, want %d", i, v, ssh[base+int64(i)])
		}
	}

	// Records ingested through the server are counted as they arrive; a
	// backfill over them (through the server, since it owns the folder)
	// changes nothing.
	text2, _ := flowLines(base+1, 30)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", writeTemp(t, "b.log", []byte(text2)))
	want := sqlCSV(t, data, "SELECT count(*) FROM flows WHERE dataset = 'my-flow-log' AND dstport = 22")[0][0]
	if v := promValue(t, scrape(t, srv), sshTotal); strconv.FormatFloat(v, 'f', -1, 64) != want || want != "310" {
		t.Fatalf("SSHAccess live = %v, SQL says %s", v, want)
	}
	res = backfill("SSHAccess", base*60-3600, (base+60)*60)
	if res["matched"].(float64) != 310 || res["samples"].(float64) != 310 {
		t.Fatalf("server backfill: %v", res)
	}
	m := scrape(t, srv)
	if v := promValue(t, m, sshTotal); v != 310 {
		t.Fatalf("SSHAccess after the server's backfill = %v, want 310", v)
	}
	for _, r := range sqlCSV(t, data, "SELECT srcaddr, sum(bytes) FROM flows WHERE dataset = 'my-flow-log' AND action = 'REJECT' AND start < "+strconv.FormatInt((base+10)*60, 10)+" GROUP BY 1 ORDER BY 1") {
		v := promValue(t, m, `flowlens_metric_filter_value_total{Source="`+r[0]+`",dataset="my-flow-log",filter="RejectedBytesBySource",metric="RejectedBytes",namespace="VPC",unit="None"}`)
		if strconv.FormatFloat(v, 'f', -1, 64) != r[1] {
			t.Errorf("RejectedBytes{Source=%s} = %v, SQL says %s", r[0], v, r[1])
		}
	}
	// The API answers the same way.
	code, _, env = srv.call(t, "POST", "/api/v1/metric-filters/my-flow-log/SSHAccess/backfill", srv.token,
		map[string]any{"start": time.Unix(base*60, 0).UTC().Format(time.RFC3339), "end": (base + 10) * 60})
	if code != 200 || dataOf(t, env).(map[string]any)["samples"].(float64) != 310 {
		t.Fatalf("API backfill: %d %v", code, env)
	}
	code, _, env = srv.call(t, "POST", "/api/v1/metric-filters/my-flow-log/Nope/backfill", srv.token, map[string]any{"start": 0, "end": 1})
	if code != 404 {
		t.Fatalf("API backfill of an unknown filter: %d %v", code, env)
	}
}

// TestIngestForceMetricFilters: 'ingest --force' of a file already
// ingested replaces its records, and the metric filters count them once —
// standalone and through the server.
func TestIngestForceMetricFilters(t *testing.T) {
	data := t.TempDir()
	mustStore(t, nil, "filters", "add", "--data", data, "--log-group-name", "my-flow-log", "--filter-name", "SSHAccess",
		"--filter-pattern", walkthroughPattern22, "--metric-transformations", "metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess")
	base := time.Now().Unix()/60 - 90
	text, _ := flowLines(base, 900)
	file := writeTemp(t, "a.log", []byte(text))
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", file)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", "--force", file)
	srv := startServe(t, data)
	series := `flowlens_metric_filter_value_total{dataset="my-flow-log",filter="SSHAccess",metric="SSHAccess",namespace="LogMetrics",unit="None"}`
	if v := promValue(t, scrape(t, srv), series); v != 300 {
		t.Fatalf("after a standalone --force: SSHAccess = %v, want 300", v)
	}
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", "--force", file)
	want := sqlCSV(t, data, "SELECT count(*) FROM flows WHERE dataset = 'my-flow-log' AND dstport = 22")[0][0]
	if v := promValue(t, scrape(t, srv), series); strconv.FormatFloat(v, 'f', -1, 64) != want || want != "300" {
		t.Fatalf("after --force through the server: SSHAccess = %v, SQL says %s", v, want)
	}
}
