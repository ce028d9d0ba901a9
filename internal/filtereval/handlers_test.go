package filtereval

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/metricfilter"
)

// TestDatapointsAPI: the contract of GET /api/v1/metrics/datapoints in
// docs/API.md: one dimension set, every series merged or apart, the
// statistic, and its 400s.
func TestDatapointsAPI(t *testing.T) {
	const m0 = 1717171200
	e := newEval(t, Config{Keep: 100 * 365 * 24 * time.Hour},
		metricfilter.Filter{Dataset: "prod", Name: "bytes", Pattern: `[..., srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action = REJECT, status]`,
			Metric: metricfilter.Transformation{MetricNamespace: "VPC", MetricName: "RejectedBytes", MetricValue: "$bytes", Dimensions: map[string]string{"Source": "$srcaddr"}}})
	commit(e, "prod", batchOf(t,
		line("198.51.100.1", 22, "100", m0+1, "REJECT"),
		line("198.51.100.1", 22, "50", m0+61, "REJECT"),
		line("198.51.100.2", 443, "7", m0+3, "REJECT"),
	), true)
	mux := http.NewServeMux()
	for p, h := range e.Handlers() {
		mux.Handle(p, h)
	}
	get := func(q string) (int, map[string]any) {
		t.Helper()
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/metrics/datapoints?"+q, nil))
		var env map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s: %s", q, rec.Body)
		}
		return rec.Code, env
	}
	rng := "&start=1717171200&end=2024-05-31T17:00:00Z"
	code, env := get("namespace=VPC&metric=RejectedBytes&statistic=Sum&dim.Source=198.51.100.1" + rng)
	d := env["data"].(map[string]any)
	dps := d["datapoints"].([]any)
	if code != 200 || len(dps) != 2 || dps[0].(map[string]any)["value"].(float64) != 100 || d["statistic"] != "Sum" || d["period"].(float64) != 60 {
		t.Fatalf("one series: %d %v", code, env)
	}
	code, env = get("namespace=VPC&metric=RejectedBytes&statistic=Sum&period=300&dimensions=any" + rng)
	dps = env["data"].(map[string]any)["datapoints"].([]any)
	if code != 200 || len(dps) != 1 || dps[0].(map[string]any)["value"].(float64) != 157 || dps[0].(map[string]any)["n"].(float64) != 3 {
		t.Fatalf("merged: %d %v", code, env)
	}
	code, env = get("namespace=VPC&metric=RejectedBytes&statistic=Maximum&period=300&dimensions=each" + rng)
	series := env["data"].(map[string]any)["series"].([]any)
	if code != 200 || len(series) != 2 {
		t.Fatalf("each: %d %v", code, env)
	}
	first := series[0].(map[string]any)
	if first["dimensions"].(map[string]any)["Source"] != "198.51.100.1" || first["datapoints"].([]any)[0].(map[string]any)["value"].(float64) != 100 {
		t.Fatalf("each: %v", series)
	}
	for _, q := range []string{
		"metric=RejectedBytes",
		"namespace=VPC&metric=RejectedBytes&period=90",
		"namespace=VPC&metric=RejectedBytes&statistic=p99",
		"namespace=VPC&metric=RejectedBytes&dimensions=some",
		"namespace=VPC&metric=RejectedBytes&start=0&end=1717171200",
	} {
		if code, env := get(q); code != 400 || !strings.Contains(env["error"].(map[string]any)["type"].(string), "bad_request") {
			t.Errorf("%s: %d %v", q, code, env)
		}
	}
}
