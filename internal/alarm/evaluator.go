package alarm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowlens/flowlens/internal/filtereval"
)

// Metrics is where alarms read their datapoints.
type Metrics interface {
	Datapoints(q filtereval.Query) ([]filtereval.Datapoint, error)
}

// Config configures the evaluator.
type Config struct {
	// Interval is how often every alarm is evaluated.
	Interval time.Duration
	// Grace is how long after a period ends it is first evaluated, for
	// late data.
	Grace time.Duration
	// SMTP sends the notifications of mailto: targets.
	SMTP SMTP
}

// DefaultConfig returns the defaults: every 20 s, no grace.
func DefaultConfig() Config { return Config{Interval: 20 * time.Second} }

// Deps are what the evaluator uses.
type Deps struct {
	Logger  *slog.Logger
	Alarms  *Store
	Metrics Metrics
	// Client sends notifications (nil: a client with a 10 s timeout).
	Client *http.Client
	// Now returns the current time (nil: time.Now).
	Now func() time.Time
}

// Evaluator is the server component that evaluates alarms and delivers
// their notifications.
type Evaluator struct {
	cfg    Config
	deps   Deps
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns an evaluator.
func New(cfg Config, deps Deps) (*Evaluator, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultConfig().Interval
	}
	if err := cfg.SMTP.Check(); err != nil {
		return nil, err
	}
	if deps.Alarms == nil || deps.Metrics == nil {
		return nil, errors.New("alarm: Alarms and Metrics are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Client == nil {
		deps.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Evaluator{cfg: cfg, deps: deps}, nil
}

// Start evaluates at once and then every Interval.
func (e *Evaluator) Start(ctx context.Context) error {
	ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		t := time.NewTicker(e.cfg.Interval)
		defer t.Stop()
		for {
			if err := e.Evaluate(ctx); err != nil && ctx.Err() == nil {
				e.deps.Logger.Warn("evaluate alarms", "err", err)
			}
			e.Deliver(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop ends the evaluation; undelivered notifications stay in the outbox.
func (e *Evaluator) Stop(ctx context.Context) error {
	if e.cancel == nil {
		return nil
	}
	e.cancel()
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Points returns the evaluation range of d at now: 2 × N periods, oldest
// first, the newest ending at the last period boundary before now − grace.
func (e *Evaluator) Points(d *Definition, now time.Time) ([]Point, time.Time, error) {
	p := d.Period
	end := now.Add(-e.cfg.Grace).Unix()
	end -= end % p
	n := int64(2 * d.EvaluationPeriods)
	start := end - n*p
	dps, err := e.deps.Metrics.Datapoints(filtereval.Query{Namespace: d.Namespace, Metric: d.MetricName, Dimensions: d.Dimensions,
		Start: time.Unix(start, 0), End: time.Unix(end, 0), Period: p})
	if err != nil {
		return nil, time.Time{}, err
	}
	byStart := map[int64]filtereval.Stat{}
	for _, dp := range dps {
		byStart[dp.Timestamp.Unix()] = dp.Stat
	}
	points := make([]Point, 0, n)
	for t := start; t < end; t += p {
		st, ok := byStart[t]
		pt := Point{Start: time.Unix(t, 0).UTC(), Missing: !ok}
		if ok {
			v, vok := st.Value(d.Statistic)
			pt.Value, pt.Missing = v, !vok
		}
		points = append(points, pt)
	}
	return points, time.Unix(end, 0).UTC(), nil
}

// Evaluate evaluates every alarm once, records state changes and queues
// their notifications.
func (e *Evaluator) Evaluate(ctx context.Context) error {
	now := e.deps.Now()
	return e.deps.Alarms.update(ctx, func(doc *document) error {
		for i := range doc.Alarms {
			a := &doc.Alarms[i]
			points, evaluated, err := e.Points(&a.Definition, now)
			if err != nil {
				return err
			}
			a.State.Evaluated = evaluated
			state, reason, keep := Decide(&a.Definition, points)
			if keep || state == a.State.Value {
				continue
			}
			old := a.State.Value
			data := reasonData(&a.Definition, points, now)
			a.State = State{Value: state, Reason: reason, Data: data, Updated: now.UTC(), Evaluated: evaluated}
			doc.addHistory(HistoryItem{Alarm: a.Name, Timestamp: now.UTC(), Old: old, New: state, Reason: reason, Data: data, Kind: "StateUpdate"})
			e.deps.Logger.Info("alarm state changed", "alarm", a.Name, "from", old, "to", state, "reason", reason)
			if a.ActionsDisabled {
				continue
			}
			var targets []string
			switch state {
			case Alarm:
				targets = a.AlarmActions
			case OK:
				targets = a.OKActions
			default:
				targets = a.InsufficientDataActions
			}
			for _, t := range targets {
				doc.Outbox = append(doc.Outbox, Notification{ID: newID(), Target: t, Alarm: a.Name, Old: old, New: state, Reason: reason,
					Namespace: a.Namespace, Metric: a.MetricName, Dimensions: a.Dimensions, Threshold: a.Threshold, Timestamp: now.UTC(), NextTry: now.UTC()})
			}
		}
		return nil
	})
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Deliver sends the notifications that are due, outside the file lock, and
// records the outcome: delivered ones leave the outbox, failed ones are
// retried with exponential backoff, up to maxAttempts.
func (e *Evaluator) Deliver(ctx context.Context) {
	now := e.deps.Now()
	var due []Notification
	_ = e.deps.Alarms.view(ctx, func(d *document) {
		for _, n := range d.Outbox {
			if !n.NextTry.After(now) {
				due = append(due, n)
			}
		}
	})
	if len(due) == 0 {
		return
	}
	results := map[string]error{}
	for i := range due {
		results[due[i].ID] = send(ctx, e.deps.Client, e.cfg.SMTP, &due[i])
	}
	err := e.deps.Alarms.update(ctx, func(d *document) error {
		var keep []Notification
		for _, n := range d.Outbox {
			err, tried := results[n.ID]
			switch {
			case !tried:
				keep = append(keep, n)
			case err == nil:
				d.addHistory(HistoryItem{Alarm: n.Alarm, Timestamp: now.UTC(), Old: n.Old, New: n.New, Kind: "Action",
					Reason: fmt.Sprintf("Successfully notified %s", redact(n.Target))})
			default:
				n.Attempts++
				n.LastError = err.Error()
				if n.Attempts >= maxAttempts {
					d.addHistory(HistoryItem{Alarm: n.Alarm, Timestamp: now.UTC(), Old: n.Old, New: n.New, Kind: "Action",
						Reason: fmt.Sprintf("Failed to notify %s after %d attempts: %v", redact(n.Target), n.Attempts, err)})
					continue
				}
				n.NextTry = now.Add(backoff(n.Attempts)).UTC()
				keep = append(keep, n)
				e.deps.Logger.Warn("alarm notification failed", "alarm", n.Alarm, "target", redact(n.Target), "attempt", n.Attempts, "err", err)
			}
		}
		d.Outbox = keep
		return nil
	})
	if err != nil {
		e.deps.Logger.Warn("record alarm notifications", "err", err)
	}
}

func redact(t string) string {
	kind, u, err := parseTarget(t)
	if err != nil || kind == "email" {
		return t
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Collector exports flowlens_alarm_state{alarm,state} (1 for the current
// state, 0 for the others).
func (e *Evaluator) Collector() prometheus.Collector { return stateCollector{e} }

type stateCollector struct{ e *Evaluator }

var stateDesc = prometheus.NewDesc("flowlens_alarm_state", "1 for the alarm's current state, 0 for the others.", []string{"alarm", "state"}, nil)

func (stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- stateDesc }

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	items, err := c.e.deps.Alarms.List(context.Background(), "")
	if err != nil {
		return
	}
	for _, a := range items {
		for _, s := range []string{OK, Alarm, InsufficientData} {
			v := 0.0
			if a.State.Value == s {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, v, a.Name, s)
		}
	}
}
