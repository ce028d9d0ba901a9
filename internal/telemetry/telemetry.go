// Package telemetry is the server's own health on /metrics: one
// Prometheus registry per server (never the global one) holding the
// components' collectors, plus the counters and histograms that several
// components feed:
//
//	flowlens_ingest_rejects_total{path}                 lines or messages kept aside, not stored as records
//	flowlens_query_duration_seconds{kind,outcome}       query latency: kind insights, sql or cwlogs; outcome ok, error or canceled
//
// The insights and sql kinds include the CLI's 'flowlens query' and
// 'flowlens sql' that a running server runs for its clients.
//
// Records committed per dataset (flowlens_ingest_records_total, whose rate
// is the ingest rate in records/s) come from the metric filter evaluator,
// which sees every commit; the Go runtime and process collectors are
// registered here.
package telemetry

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Query kinds.
const (
	KindInsights = "insights"
	KindSQL      = "sql"
	KindCWLogs   = "cwlogs"
)

// QueryBuckets are the latency buckets in seconds (5 ms to 5 min).
var QueryBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// Health is the registry and the shared instruments of one server.
type Health struct {
	reg     *prometheus.Registry
	queries *prometheus.HistogramVec

	mu      sync.Mutex
	rejects map[string]float64        // path → counted by AddRejects
	sources map[string]func() float64 // path → a component's own count
}

// New returns a Health with its registry, the Go and process collectors
// included.
func New() *Health {
	h := &Health{
		reg: prometheus.NewRegistry(),
		queries: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flowlens_query_duration_seconds",
			Help:    "Time queries took, by kind (insights: Logs Insights through the REST API and 'flowlens query' run by the server; sql: SQL statements of the REST API and of 'flowlens sql' run by the server; cwlogs: StartQuery of the CloudWatch Logs API) and outcome.",
			Buckets: QueryBuckets,
		}, []string{"kind", "outcome"}),
		rejects: map[string]float64{"ingest": 0},
		sources: map[string]func() float64{},
	}
	h.reg.MustRegister(h.queries, rejectCollector{h}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return h
}

// Registry is where components register their collectors.
func (h *Health) Registry() *prometheus.Registry { return h.reg }

// Handler serves the registry in the Prometheus exposition format.
func (h *Health) Handler() http.Handler {
	return promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{Registry: h.reg})
}

// ObserveQuery records one query's latency.
func (h *Health) ObserveQuery(kind string, d time.Duration, err error) {
	outcome := "ok"
	switch {
	case errors.Is(err, context.Canceled):
		outcome = "canceled"
	case err != nil:
		outcome = "error"
	}
	h.queries.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// AddRejects counts n rejected lines of an ingest path ("ingest" for
// files, stdin and S3).
func (h *Health) AddRejects(path string, n int64) {
	if n <= 0 {
		return
	}
	h.mu.Lock()
	h.rejects[path] += float64(n)
	h.mu.Unlock()
}

// RejectSource makes fn the count of path's rejects, for a component
// that keeps its own (the Firehose endpoint, the CloudWatch Logs API).
func (h *Health) RejectSource(path string, fn func() float64) {
	h.mu.Lock()
	h.sources[path] = fn
	h.mu.Unlock()
}

var rejectDesc = prometheus.NewDesc("flowlens_ingest_rejects_total",
	"Lines or messages an ingest path kept aside instead of storing them as records (not flow log records, too long, …), by path: ingest (files, stdin, S3), firehose, cwlogs (PutLogEvents).",
	[]string{"path"}, nil)

type rejectCollector struct{ h *Health }

func (rejectCollector) Describe(ch chan<- *prometheus.Desc) { ch <- rejectDesc }

func (c rejectCollector) Collect(ch chan<- prometheus.Metric) {
	c.h.mu.Lock()
	vals := map[string]float64{}
	for p, v := range c.h.rejects {
		vals[p] += v
	}
	fns := map[string]func() float64{}
	for p, fn := range c.h.sources {
		fns[p] = fn
	}
	c.h.mu.Unlock()
	for p, fn := range fns {
		vals[p] += fn()
	}
	paths := make([]string, 0, len(vals))
	for p := range vals {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		ch <- prometheus.MustNewConstMetric(rejectDesc, prometheus.CounterValue, vals[p], p)
	}
}
