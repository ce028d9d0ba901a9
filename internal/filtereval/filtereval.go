// Package filtereval is the server component that evaluates every metric
// filter of a dataset on every batch ingested into it, whatever path wrote
// the batch (files, S3, Firehose, PutLogEvents): it is the store's
// IngestObserver, so only committed batches count and a retried, already
// ingested object counts once. Matches become samples aggregated per series
// (namespace, metric, dimension values) and per minute of the record's
// start (spec/metric-filters.md §5.3); the minutes are kept in
// DIR/metrics/minutes.json across restarts, queried through Datapoints and
// exported to Prometheus by Collector.
package filtereval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/atomicfile"
	"github.com/flowlens/flowlens/internal/filterpattern"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/store"
)

// Config configures the evaluator.
type Config struct {
	// Dir is the data folder (metrics in DIR/metrics/).
	Dir string
	// Reload is how often the filter definitions are checked for changes.
	Reload time.Duration
	// Flush is how often the minutes are written to disk.
	Flush time.Duration
	// Keep is how long minutes are kept.
	Keep time.Duration
	// MaxSeries bounds the dimension combinations of one filter; further
	// combinations are dropped (and counted) as AWS disables such a filter.
	MaxSeries int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Reload: time.Second, Flush: 10 * time.Second, Keep: 15 * 24 * time.Hour, MaxSeries: 1000}
}

// Deps are what the evaluator uses.
type Deps struct {
	Logger  *slog.Logger
	Filters *metricfilter.Store
	// Now returns the current time (nil: time.Now).
	Now func() time.Time
	// History is the store the backfill API reads (nil: no backfill API).
	History History
	// WriteLock is held during a backfill through the API, so that
	// nothing commits meanwhile (the server's writeMu).
	WriteLock sync.Locker
	// Recovery, when set, makes Start evaluate the files committed after
	// the minutes were last written (a crash lost their samples).
	Recovery Recovery
}

// Stat is the statistic set of one series over one minute (or period).
type Stat struct {
	SampleCount float64 `json:"n"`
	Sum         float64 `json:"sum"`
	Minimum     float64 `json:"min"`
	Maximum     float64 `json:"max"`
}

func (s *Stat) add(v float64) {
	if s.SampleCount == 0 || v < s.Minimum {
		s.Minimum = v
	}
	if s.SampleCount == 0 || v > s.Maximum {
		s.Maximum = v
	}
	s.SampleCount++
	s.Sum += v
}

func (s *Stat) merge(o Stat) {
	if o.SampleCount == 0 {
		return
	}
	if s.SampleCount == 0 || o.Minimum < s.Minimum {
		s.Minimum = o.Minimum
	}
	if s.SampleCount == 0 || o.Maximum > s.Maximum {
		s.Maximum = o.Maximum
	}
	s.SampleCount += o.SampleCount
	s.Sum += o.Sum
}

// Value returns the named statistic: SampleCount, Sum, Average, Minimum or
// Maximum.
func (s Stat) Value(statistic string) (float64, bool) {
	switch statistic {
	case "SampleCount":
		return s.SampleCount, true
	case "Sum":
		return s.Sum, true
	case "Average":
		if s.SampleCount == 0 {
			return 0, false
		}
		return s.Sum / s.SampleCount, true
	case "Minimum":
		return s.Minimum, true
	case "Maximum":
		return s.Maximum, true
	}
	return 0, false
}

// Statistics lists the statistics Stat.Value knows.
var Statistics = []string{"SampleCount", "Sum", "Average", "Minimum", "Maximum"}

// SeriesID identifies a metric series.
type SeriesID struct {
	Namespace  string            `json:"namespace"`
	Metric     string            `json:"metric"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
}

// key is a canonical string of the series.
func (id SeriesID) key() string {
	var b strings.Builder
	b.WriteString(id.Namespace)
	b.WriteByte(0)
	b.WriteString(id.Metric)
	for _, k := range slices.Sorted(keys(id.Dimensions)) {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte(1)
		b.WriteString(id.Dimensions[k])
	}
	return b.String()
}

func keys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// series is the state of one series of one filter.
type series struct {
	ID      SeriesID        `json:"id"`
	Dataset string          `json:"dataset"`
	Filter  string          `json:"filter"`
	Unit    string          `json:"unit,omitempty"`
	Minutes map[int64]*Stat `json:"minutes"` // minute (Unix seconds / 60) → stat
	Total   Stat            `json:"total"`   // since the series began
}

// compiled is one metric filter ready to run.
type compiled struct {
	def     metricfilter.Filter
	pattern *filterpattern.Pattern
	value   float64 // constant metric value
	ref     string  // or the extracted value's key
	dims    []string
	dimRefs []string
}

// Evaluator is the component.
type Evaluator struct {
	cfg    Config
	deps   Deps
	logger *slog.Logger

	mu       sync.Mutex
	filters  map[string][]*compiled // dataset → filters
	revision int64
	series   map[string]*series // filter key + series key → state
	perFilt  map[string]int     // filter key → number of series
	dropped  map[string]float64 // filter key → samples dropped past MaxSeries
	records  map[string]float64 // dataset → records committed
	matched  map[string]float64 // filter key → records matched
	dirty    bool
	// inflight are the transactions observed and not ended, with their
	// beginning; mergedKeys the files merged lately (see recover.go).
	inflight   map[*txObserver]time.Time
	mergedKeys []mergedKey
	recovered  RecoverResult

	cancel context.CancelFunc
	done   chan struct{}
}

// New returns an evaluator; Start loads the definitions and the minutes.
func New(cfg Config, deps Deps) (*Evaluator, error) {
	def := DefaultConfig()
	if cfg.Reload <= 0 {
		cfg.Reload = def.Reload
	}
	if cfg.Flush <= 0 {
		cfg.Flush = def.Flush
	}
	if cfg.Keep <= 0 {
		cfg.Keep = def.Keep
	}
	if cfg.MaxSeries <= 0 {
		cfg.MaxSeries = def.MaxSeries
	}
	if cfg.Dir == "" || deps.Filters == nil {
		return nil, errors.New("filtereval: Dir and Filters are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Evaluator{cfg: cfg, deps: deps, logger: deps.Logger,
		filters: map[string][]*compiled{}, series: map[string]*series{}, perFilt: map[string]int{},
		dropped: map[string]float64{}, records: map[string]float64{}, matched: map[string]float64{},
		inflight: map[*txObserver]time.Time{}}, nil
}

func (e *Evaluator) path() string { return filepath.Join(e.cfg.Dir, "metrics", "minutes.json") }

// Start loads the definitions and the stored minutes and starts reloading
// and flushing in the background.
func (e *Evaluator) Start(ctx context.Context) error {
	snap, err := e.load()
	if err != nil {
		return err
	}
	if err := e.Reload(ctx); err != nil {
		return err
	}
	switch {
	case snap == nil:
		// The first start: the marks are written at once, so that a crash
		// before the first write loses nothing either.
		e.mu.Lock()
		e.dirty = true
		e.mu.Unlock()
	case e.deps.Recovery != nil && snap.FlushedMs > 0:
		recent := make(map[string]bool, len(snap.Recent))
		for _, h := range snap.Recent {
			recent[h] = true
		}
		res, err := e.recover(ctx, e.deps.Recovery, time.UnixMilli(snap.FlushedMs), time.Duration(snap.MarginMs)*time.Millisecond, recent)
		if err != nil {
			return fmt.Errorf("recover the metric filter minutes: %w", err)
		}
		e.recovered = res
		if res.Files > 0 {
			e.logger.Info("metric filter minutes recovered", "files", res.Files, "records", res.Records)
		}
	}
	if err := e.Flush(); err != nil {
		return err
	}
	ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	e.done = make(chan struct{})
	go e.loop(ctx)
	return nil
}

// Recovered says what Start recovered after a crash.
func (e *Evaluator) Recovered() RecoverResult {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.recovered
}

// Stop ends the background work and writes the minutes.
func (e *Evaluator) Stop(ctx context.Context) error {
	if e.cancel != nil {
		e.cancel()
		select {
		case <-e.done:
		case <-ctx.Done():
		}
	}
	return e.Flush()
}

func (e *Evaluator) loop(ctx context.Context) {
	defer close(e.done)
	reload := time.NewTicker(e.cfg.Reload)
	defer reload.Stop()
	flush := time.NewTicker(e.cfg.Flush)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload.C:
			if err := e.Reload(ctx); err != nil && ctx.Err() == nil {
				e.logger.Warn("reload metric filters", "err", err)
			}
		case <-flush.C:
			if err := e.Flush(); err != nil {
				e.logger.Warn("write metric minutes", "err", err)
			}
		}
	}
}

// Reload reads the definitions if they changed.
func (e *Evaluator) Reload(ctx context.Context) error {
	defs, rev, err := e.deps.Filters.Load(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	same := rev == e.revision && e.filters != nil && rev != 0
	e.mu.Unlock()
	if same {
		return nil
	}
	next := map[string][]*compiled{}
	for _, d := range defs {
		c, err := compile(d)
		if err != nil {
			e.logger.Warn("metric filter skipped", "dataset", d.Dataset, "filter", d.Name, "err", err)
			continue
		}
		next[d.Dataset] = append(next[d.Dataset], c)
	}
	e.mu.Lock()
	e.filters, e.revision = next, rev
	e.mu.Unlock()
	e.logger.Debug("metric filters loaded", "filters", len(defs), "revision", rev)
	return nil
}

func compile(d metricfilter.Filter) (*compiled, error) {
	p, err := d.Validate()
	if err != nil {
		return nil, err
	}
	c := &compiled{def: d, pattern: p}
	if v, err := strconv.ParseFloat(d.Metric.MetricValue, 64); err == nil {
		c.value = v
	} else {
		c.ref = d.Metric.MetricValue
	}
	c.dims = slices.Sorted(keys(d.Metric.Dimensions))
	for _, k := range c.dims {
		c.dimRefs = append(c.dimRefs, d.Metric.Dimensions[k])
	}
	return c, nil
}

func filterKey(dataset, name string) string { return dataset + "\x00" + name }

// ObserveFile implements store.IngestObserver.
func (e *Evaluator) ObserveFile(dataset string, src store.Source) store.TxObserver {
	now := e.deps.Now()
	t := &txObserver{e: e, dataset: dataset, key: src.Key, now: now}
	e.mu.Lock()
	t.filters = e.filters[dataset]
	e.inflight[t] = now
	e.mu.Unlock()
	return t
}

// sample is a pending aggregate of one tx.
type pendingKey struct {
	filter int
	series string
	minute int64
}

type pending struct {
	dims []string // dimension values, parallel to compiled.dims
	stat Stat
}

// txObserver evaluates the filters on one FileTx's batches; its samples
// are merged at Committed.
type txObserver struct {
	e        *Evaluator
	dataset  string
	key      string // the source object's key
	filters  []*compiled
	now      time.Time
	matchers map[*flowlog.Format][]*txMatcher
	pend     map[pendingKey]*pending
	records  float64
	matched  []float64
	last     []lastPending
	sel      []bool
	buf      []byte
}

type txMatcher struct {
	m       *filterpattern.BatchMatcher
	valKey  filterpattern.Key
	valOK   bool // the value key resolves for this format
	dimKeys []filterpattern.Key
	dimsOK  bool
}

func (t *txObserver) matchersFor(f *flowlog.Format) []*txMatcher {
	if ms, ok := t.matchers[f]; ok {
		return ms
	}
	if t.matchers == nil {
		t.matchers = map[*flowlog.Format][]*txMatcher{}
	}
	ms := make([]*txMatcher, len(t.filters))
	for i, c := range t.filters {
		tm := &txMatcher{m: c.pattern.Compile(f), dimsOK: true}
		if c.ref != "" {
			k, err := tm.m.Key(c.ref)
			tm.valKey, tm.valOK = k, err == nil
		}
		for _, r := range c.dimRefs {
			k, err := tm.m.Key(r)
			if err != nil {
				tm.dimsOK = false
			}
			tm.dimKeys = append(tm.dimKeys, k)
		}
		ms[i] = tm
	}
	t.matchers[f] = ms
	return ms
}

// Append implements store.TxObserver.
func (t *txObserver) Append(b *flowlog.Batch) {
	t.records += float64(b.N)
	if len(t.filters) == 0 {
		return
	}
	if t.pend == nil {
		t.pend = map[pendingKey]*pending{}
		t.matched = make([]float64, len(t.filters))
		t.last = make([]lastPending, len(t.filters))
	}
	ms := t.matchersFor(b.Format)
	startCol := b.Col(flowlog.Start)
	nowMin := t.now.Unix() / 60
	var dimVals []string
	for fi, c := range t.filters {
		tm := ms[fi]
		def := c.def.Metric.DefaultValue
		var n int
		t.sel, n = tm.m.Select(b, t.sel)
		if n == 0 && def == nil {
			continue
		}
		for i := 0; i < b.N; i++ {
			if !t.sel[i] && def == nil {
				continue
			}
			minute := nowMin
			if startCol != nil && startCol.Valid[i] {
				minute = startCol.Ints[i] / 60
			}
			var v float64
			if !t.sel[i] {
				if def == nil {
					continue
				}
				v = *def
				t.add(fi, minute, "", nil, v)
				continue
			}
			t.matched[fi]++
			if c.ref != "" {
				if !tm.valOK {
					continue
				}
				x, ok := tm.m.Number(b, i, tm.valKey)
				if !ok {
					continue // a non-numeric value publishes nothing
				}
				v = x
			} else {
				v = c.value
			}
			if len(c.dims) == 0 {
				t.add(fi, minute, "", nil, v)
				continue
			}
			if !tm.dimsOK {
				continue
			}
			t.buf = t.buf[:0]
			for _, k := range tm.dimKeys {
				t.buf, _ = tm.m.Text(t.buf, b, i, k)
				t.buf = append(t.buf, 0)
			}
			if l := &t.last[fi]; l.p != nil && l.minute == minute && l.series == string(t.buf) {
				l.p.stat.add(v)
				continue
			}
			dimVals = dimVals[:0]
			for _, d := range strings.Split(string(t.buf[:len(t.buf)-1]), "\x00") {
				dimVals = append(dimVals, d)
			}
			t.add(fi, minute, string(t.buf), dimVals, v)
		}
	}
}

func (t *txObserver) add(fi int, minute int64, skey string, dims []string, v float64) {
	// Records of a batch mostly share their minute: the last entry of the
	// filter is tried before the map.
	if l := &t.last[fi]; l.p != nil && l.minute == minute && l.series == skey {
		l.p.stat.add(v)
		return
	}
	k := pendingKey{filter: fi, series: skey, minute: minute}
	p := t.pend[k]
	if p == nil {
		p = &pending{dims: slices.Clone(dims)}
		t.pend[k] = p
	}
	t.last[fi] = lastPending{minute: minute, series: k.series, p: p}
	p.stat.add(v)
}

// lastPending is the entry a filter added to last.
type lastPending struct {
	minute int64
	series string
	p      *pending
}

// Committed implements store.TxObserver: the samples count.
func (t *txObserver) Committed() { t.e.merge(t) }

// RolledBack implements store.TxObserver: the samples are dropped.
func (t *txObserver) RolledBack() {
	t.pend = nil
	t.e.mu.Lock()
	delete(t.e.inflight, t)
	t.e.mu.Unlock()
}

func (e *Evaluator) merge(t *txObserver) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.inflight, t)
	e.mergedKeys = append(e.mergedKeys, mergedKey{hash: fileHash(t.dataset, t.key), at: e.deps.Now().UnixMilli()})
	e.records[t.dataset] += t.records
	for fi, n := range t.matched {
		e.matched[filterKey(t.dataset, t.filters[fi].def.Name)] += n
	}
	for k, p := range t.pend {
		c := t.filters[k.filter]
		fk := filterKey(t.dataset, c.def.Name)
		sk := fk + "\x00" + k.series
		s := e.seriesFor(sk, fk, t.dataset, c, p)
		if s == nil {
			continue
		}
		m := s.Minutes[k.minute]
		if m == nil {
			m = &Stat{}
			s.Minutes[k.minute] = m
		}
		m.merge(p.stat)
		s.Total.merge(p.stat)
	}
	e.dirty = true
}

// Datapoint is one period of a series.
type Datapoint struct {
	Timestamp time.Time `json:"timestamp"`
	Stat
}

// Query selects series: Namespace and Metric, and Dimensions exactly (nil:
// every dimension set) — CloudWatch's GetMetricStatistics.
type Query struct {
	Namespace  string
	Metric     string
	Dimensions map[string]string
	// AnyDimensions selects every series of the metric.
	AnyDimensions bool
	Start, End    time.Time
	// Period in seconds, a multiple of 60.
	Period int64
}

// MaxPeriods bounds the periods of one query.
const MaxPeriods = 10080

func (q Query) check() error {
	if q.Period <= 0 || q.Period%60 != 0 {
		return fmt.Errorf("the period is a positive multiple of 60 seconds, not %d", q.Period)
	}
	return nil
}

// checkSize bounds the periods an API request asks for.
func (q Query) checkSize() error {
	if n := (q.End.Unix() - q.Start.Unix()) / q.Period; n > MaxPeriods {
		return fmt.Errorf("%d periods of %d s between start and end: at most %d (a longer period, or a shorter range)", n, q.Period, MaxPeriods)
	}
	return nil
}

// Datapoints returns the periods of [Start, End) that have samples, the
// stats of the matching series merged, oldest first.
func (e *Evaluator) Datapoints(q Query) ([]Datapoint, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	want := SeriesID{Namespace: q.Namespace, Metric: q.Metric, Dimensions: q.Dimensions}.key()
	periods := map[int64]*Stat{}
	e.mu.Lock()
	for _, s := range e.series {
		if s.ID.Namespace != q.Namespace || s.ID.Metric != q.Metric {
			continue
		}
		if !q.AnyDimensions && s.ID.key() != want {
			continue
		}
		addPeriods(periods, s, q)
	}
	e.mu.Unlock()
	return sortedPoints(periods), nil
}

func addPeriods(periods map[int64]*Stat, s *series, q Query) {
	from, to := q.Start.Unix(), q.End.Unix()
	for m, st := range s.Minutes {
		ts := m * 60
		if ts < from || ts >= to {
			continue
		}
		p := ts - ((ts%q.Period)+q.Period)%q.Period
		if periods[p] == nil {
			periods[p] = &Stat{}
		}
		periods[p].merge(*st)
	}
}

func sortedPoints(periods map[int64]*Stat) []Datapoint {
	out := make([]Datapoint, 0, len(periods))
	for p, st := range periods {
		out = append(out, Datapoint{Timestamp: time.Unix(p, 0).UTC(), Stat: *st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Timestamp.Before(out[j].Timestamp) })
	return out
}

// SeriesPoints are the datapoints of one dimension set.
type SeriesPoints struct {
	Dimensions map[string]string `json:"dimensions"`
	Datapoints []Datapoint       `json:"datapoints"`
}

// EachSeries returns the datapoints of every series of the metric apart
// (series of several filters with the same dimensions merged), sorted by
// dimensions; Query.Dimensions and AnyDimensions are ignored.
func (e *Evaluator) EachSeries(q Query) ([]SeriesPoints, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	type acc struct {
		dims    map[string]string
		periods map[int64]*Stat
	}
	by := map[string]*acc{}
	e.mu.Lock()
	for _, s := range e.series {
		if s.ID.Namespace != q.Namespace || s.ID.Metric != q.Metric {
			continue
		}
		k := s.ID.key()
		a := by[k]
		if a == nil {
			a = &acc{dims: s.ID.Dimensions, periods: map[int64]*Stat{}}
			by[k] = a
		}
		addPeriods(a.periods, s, q)
	}
	e.mu.Unlock()
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]SeriesPoints, 0, len(keys))
	for _, k := range keys {
		d := by[k].dims
		if d == nil {
			d = map[string]string{}
		}
		out = append(out, SeriesPoints{Dimensions: d, Datapoints: sortedPoints(by[k].periods)})
	}
	return out, nil
}

// SeriesInfo describes one series (ListMetrics).
type SeriesInfo struct {
	SeriesID
	Dataset string `json:"dataset"`
	Filter  string `json:"filter"`
	Unit    string `json:"unit,omitempty"`
	Total   Stat   `json:"total"`
}

// Series lists the series, by namespace, metric and dimensions.
func (e *Evaluator) Series() []SeriesInfo {
	e.mu.Lock()
	out := make([]SeriesInfo, 0, len(e.series))
	for _, s := range e.series {
		out = append(out, SeriesInfo{SeriesID: s.ID, Dataset: s.Dataset, Filter: s.Filter, Unit: s.Unit, Total: s.Total})
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

type snapshot struct {
	Series  []*series          `json:"series"`
	Records map[string]float64 `json:"records"`
	Matched map[string]float64 `json:"matched"`
	// FlushedMs is when the snapshot was taken; Recent lists the files
	// (fileHash) merged in the MarginMs before (see recover.go).
	FlushedMs int64    `json:"flushedMs,omitempty"`
	MarginMs  int64    `json:"marginMs,omitempty"`
	Recent    []string `json:"recent,omitempty"`
}

// Flush writes the minutes (those within Keep) to disk if they changed.
func (e *Evaluator) Flush() error {
	e.mu.Lock()
	if !e.dirty {
		e.mu.Unlock()
		return nil
	}
	now := e.deps.Now()
	oldest := now.Add(-e.cfg.Keep).Unix() / 60
	snap := snapshot{Records: cloneF(e.records), Matched: cloneF(e.matched)}
	e.snapshotMarks(&snap, now)
	for _, s := range e.series {
		for m := range s.Minutes {
			if m < oldest {
				delete(s.Minutes, m)
			}
		}
		c := *s
		c.Minutes = make(map[int64]*Stat, len(s.Minutes))
		for m, st := range s.Minutes {
			v := *st
			c.Minutes[m] = &v
		}
		snap.Series = append(snap.Series, &c)
	}
	e.dirty = false
	e.mu.Unlock()
	b, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(e.path()), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(e.path(), b, 0o600)
}

func cloneF(m map[string]float64) map[string]float64 {
	c := make(map[string]float64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (e *Evaluator) load() (*snapshot, error) {
	b, err := os.ReadFile(e.path())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("metric minutes %s: %w", e.path(), err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range snap.Series {
		if s.Minutes == nil {
			s.Minutes = map[int64]*Stat{}
		}
		fk := filterKey(s.Dataset, s.Filter)
		e.series[fk+"\x00"+seriesSuffix(s)] = s
		e.perFilt[fk]++
	}
	if snap.Records != nil {
		e.records = snap.Records
	}
	if snap.Matched != nil {
		e.matched = snap.Matched
	}
	return &snap, nil
}

// seriesSuffix rebuilds the pending series key (dimension values in
// sorted-name order, each followed by NUL).
func seriesSuffix(s *series) string {
	var b strings.Builder
	for _, k := range slices.Sorted(keys(s.ID.Dimensions)) {
		b.WriteString(s.ID.Dimensions[k])
		b.WriteByte(0)
	}
	return b.String()
}
