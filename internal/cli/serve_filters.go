package cli

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowlens/flowlens/internal/alarm"
	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// startMetricFilters starts the metric filter evaluation of the server: it
// sees every batch committed to st, and its handlers (the metric filter and
// metrics API, Prometheus /metrics) join the API's authenticated ones.
func startMetricFilters(ctx context.Context, dir string, st *duckdb.Store, alarmEvery time.Duration, logger *slog.Logger, extra map[string]http.Handler) (*metricFilters, error) {
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
	acfg := alarm.DefaultConfig()
	acfg.Interval = alarmEvery
	al, err := alarm.New(acfg, alarm.Deps{Logger: logger.With("component", "alarms"), Alarms: alarm.Open(dir), Metrics: ev})
	if err != nil {
		return nil, err
	}
	if err := al.Start(ctx); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(ev.Collector(), al.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for p, h := range ev.Handlers() {
		extra[p] = h
	}
	for p, h := range al.Handlers() {
		extra[p] = h
	}
	extra["GET /metrics"] = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return &metricFilters{ev: ev, alarms: al}, nil
}

// metricFilters is the evaluation of metric filters and of the alarms on
// their metrics.
type metricFilters struct {
	ev     *filtereval.Evaluator
	alarms *alarm.Evaluator
}

// Stop stops the alarms, then writes the metrics.
func (m *metricFilters) Stop(ctx context.Context) error {
	return errors.Join(m.alarms.Stop(ctx), m.ev.Stop(ctx))
}

// ingestMetricFilters evaluates the metric filters of dir on what a
// standalone 'flowlens ingest' commits (inside the server, the server's
// evaluator sees it). The returned function writes the metrics.
func ingestMetricFilters(ctx context.Context, dir string, st *duckdb.Store, logger *slog.Logger) (func(), error) {
	defs, _, err := metricfilter.Open(dir).Load(ctx)
	if err != nil || len(defs) == 0 {
		return func() {}, err
	}
	cfg := filtereval.DefaultConfig()
	cfg.Dir = dir
	ev, err := filtereval.New(cfg, filtereval.Deps{Logger: logger, Filters: metricfilter.Open(dir)})
	if err != nil {
		return nil, err
	}
	if err := ev.Start(ctx); err != nil {
		return nil, err
	}
	st.SetIngestObserver(ev)
	return func() {
		st.SetIngestObserver(nil)
		if err := ev.Stop(context.WithoutCancel(ctx)); err != nil && logger != nil {
			logger.Warn("write metric filter metrics", "err", err)
		}
	}, nil
}
