package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/alarm"
	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/telemetry"
)

// metricFilterFlags are serve's flags of the metric filters and alarms.
type metricFilterFlags struct {
	alarmEvery *time.Duration
	alarmGrace *time.Duration
	smtpServer *string
	smtpFrom   *string
	smtpUser   *string
	smtpTLS    *string
	getenv     func(string) string
}

func addMetricFilterFlags(fs *flag.FlagSet, env *Env) *metricFilterFlags {
	return &metricFilterFlags{
		alarmEvery: fs.Duration("alarm-interval", 20*time.Second, "how often the alarms ('flowlens alarms') are evaluated"),
		alarmGrace: fs.Duration("alarm-grace", 0, "how long after a period ends alarms first evaluate it, for records that arrive late (flow logs are delivered minutes after their window)"),
		smtpServer: fs.String("smtp-server", "", "`host:port` of the SMTP server that sends the e-mail of alarms' mailto: actions"),
		smtpFrom:   fs.String("smtp-from", "", "the sender `address` of alarm e-mail"),
		smtpUser:   fs.String("smtp-user", "", "SMTP AUTH `user` (its password in $FLOWLENS_SMTP_PASSWORD; sent over TLS only)"),
		smtpTLS:    fs.String("smtp-tls", "auto", "SMTP encryption: auto (STARTTLS when offered), always (STARTTLS required), never, or tls (implicit TLS, port 465)"),
		getenv:     env.Getenv,
	}
}

// smtp is the alarms' SMTP configuration of the flags.
func (f *metricFilterFlags) smtp() (alarm.SMTP, error) {
	c := alarm.SMTP{Addr: *f.smtpServer, From: *f.smtpFrom, Username: *f.smtpUser, TLS: *f.smtpTLS}
	if c.Addr == "" {
		if c.From != "" || c.Username != "" {
			return c, usageError("--smtp-from and --smtp-user need --smtp-server")
		}
		return c, nil
	}
	if c.Username != "" {
		c.Password = f.getenv("FLOWLENS_SMTP_PASSWORD")
	}
	if err := c.Check(); err != nil {
		return c, usageError("%v", err)
	}
	return c, nil
}

// startMetricFilters starts the metric filter evaluation of the server: it
// sees every batch committed to st, and its handlers (the metric filter and
// metrics API with its backfill under writeMu, Prometheus /metrics from
// health's registry) join the API's authenticated ones.
func startMetricFilters(ctx context.Context, dir string, st store.Backend, writeMu sync.Locker, health *telemetry.Health,
	fl *metricFilterFlags, logger *slog.Logger, extra map[string]http.Handler) (*metricFilters, error) {
	cfg := filtereval.DefaultConfig()
	cfg.Dir = dir
	ev, err := filtereval.New(cfg, filtereval.Deps{Logger: logger.With("component", "metric-filters"), Filters: metricfilter.Open(dir),
		History: st, WriteLock: writeMu, Recovery: recoveryOf(st)})
	if err != nil {
		return nil, err
	}
	if err := ev.Start(ctx); err != nil {
		return nil, err
	}
	st.SetIngestObserver(ev)
	acfg := alarm.DefaultConfig()
	acfg.Interval, acfg.Grace = *fl.alarmEvery, *fl.alarmGrace
	if acfg.SMTP, err = fl.smtp(); err != nil {
		_ = ev.Stop(ctx)
		return nil, err
	}
	al, err := alarm.New(acfg, alarm.Deps{Logger: logger.With("component", "alarms"), Alarms: alarm.Open(dir), Metrics: ev})
	if err != nil {
		return nil, err
	}
	if err := al.Start(ctx); err != nil {
		return nil, err
	}
	health.Registry().MustRegister(ev.Collector(), al.Collector())
	for p, h := range ev.Handlers() {
		extra[p] = h
	}
	for p, h := range al.Handlers() {
		extra[p] = h
	}
	extra["GET /metrics"] = health.Handler()
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

// registryRecovery lists the files of a store's ingest registry for the
// metric filters' crash recovery; sql reads them in the store's schema.
type registryRecovery struct {
	store.Backend
	sql string
}

// recoveryOf returns the crash recovery reader of st.
func recoveryOf(st store.Backend) registryRecovery {
	if embedded(st) != nil {
		return registryRecovery{st, `SELECT d.name, r.key, CAST(r.file_id AS BIGINT), r.ingested_ms, r.records FROM ingest_registry r
		JOIN datasets d ON d.id = r.dataset_id WHERE r.ingested_ms >= ?`}
	}
	return registryRecovery{st, `SELECT dataset, key, toInt64(file_id), ingested_ms, records FROM ingest_registry WHERE ingested_ms >= ?`}
}

func (d registryRecovery) FilesIngestedSince(ctx context.Context, since time.Time) ([]filtereval.IngestedFile, error) {
	res, err := d.Query(ctx, d.sql, since.UnixMilli())
	if err != nil {
		return nil, err
	}
	out := make([]filtereval.IngestedFile, 0, len(res.Rows))
	for _, row := range res.Rows {
		name, _ := row[0].(string)
		key, _ := row[1].(string)
		id, _ := row[2].(int64)
		ms, _ := row[3].(int64)
		n, _ := row[4].(int64)
		out = append(out, filtereval.IngestedFile{Dataset: name, Key: key, FileID: id, Records: n, Ingested: time.UnixMilli(ms)})
	}
	return out, nil
}

// timedQuerier records the latency of every query of one kind.
type timedQuerier struct {
	q      store.Querier
	health *telemetry.Health
	kind   string
}

func (t timedQuerier) Query(ctx context.Context, sql string, args ...any) (*store.Result, error) {
	began := time.Now()
	res, err := t.q.Query(ctx, sql, args...)
	t.health.ObserveQuery(t.kind, time.Since(began), err)
	return res, err
}

// ingestMetricFilters evaluates the metric filters of dir on what a
// standalone 'flowlens ingest' commits (inside the server, the server's
// evaluator sees it). The returned function writes the metrics; the
// evaluator is nil when dir has no metric filters.
func ingestMetricFilters(ctx context.Context, dir string, st store.Backend, logger *slog.Logger) (func(), *filtereval.Evaluator, error) {
	defs, _, err := metricfilter.Open(dir).Load(ctx)
	if err != nil || len(defs) == 0 {
		return func() {}, nil, err
	}
	cfg := filtereval.DefaultConfig()
	cfg.Dir = dir
	ev, err := filtereval.New(cfg, filtereval.Deps{Logger: logger, Filters: metricfilter.Open(dir), Recovery: recoveryOf(st)})
	if err != nil {
		return nil, nil, err
	}
	if err := ev.Start(ctx); err != nil {
		return nil, nil, err
	}
	st.SetIngestObserver(ev)
	return func() {
		st.SetIngestObserver(nil)
		if err := ev.Stop(context.WithoutCancel(ctx)); err != nil && logger != nil {
			logger.Warn("write metric filter metrics", "err", err)
		}
	}, ev, nil
}

// refreshMetricFilters recomputes the metric filters of dataset over
// [from, to] after an 'ingest --force': the records it replaced were
// counted when first ingested and their new copies again as they were
// committed, so the minutes of the range are made those of the store
// (Backfill). ev is the standalone ingest's evaluator; inside the server,
// the server's, whose write lock the forwarded ingest already holds.
func (e *Env) refreshMetricFilters(ctx context.Context, st store.Backend, ev *filtereval.Evaluator, dir, dataset string, from, to time.Time) error {
	if e.shared != nil {
		ev = e.shared.filters
	}
	if ev == nil || from.IsZero() {
		return nil
	}
	list, err := metricfilter.Open(dir).List(ctx, dataset, "")
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range list {
		if _, err := ev.Backfill(ctx, st, dataset, f.Name, from, to.Add(time.Second)); err != nil && !errors.Is(err, filtereval.ErrBackfillRange) {
			errs = append(errs, fmt.Errorf("metric filter %s: %w", f.Name, err))
		}
	}
	return errors.Join(errs...)
}
