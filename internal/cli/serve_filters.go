package cli

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// startMetricFilters starts the metric filter evaluation of the server: it
// sees every batch committed to st, and its handlers (the metric filter and
// metrics API, Prometheus /metrics) join the API's authenticated ones.
func startMetricFilters(ctx context.Context, dir string, st *duckdb.Store, logger *slog.Logger, extra map[string]http.Handler) (*filtereval.Evaluator, error) {
	cfg := filtereval.DefaultConfig()
	cfg.Dir = dir
	ev, err := filtereval.New(cfg, filtereval.Deps{Logger: logger.With("component", "metric-filters"), Filters: metricfilter.Open(dir)})
	if err != nil {
		return nil, err
	}
	if err := ev.Start(ctx); err != nil {
		return nil, err
	}
	st.SetIngestObserver(ev)
	reg := prometheus.NewRegistry()
	reg.MustRegister(ev.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for p, h := range ev.Handlers() {
		extra[p] = h
	}
	extra["GET /metrics"] = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return ev, nil
}
