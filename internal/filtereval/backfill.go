package filtereval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// History is the stored records a backfill reads: the datasets' formats
// and the flows view (dataset, _format_id and the catalog's columns).
type History interface {
	store.Cataloger
	store.Querier
}

// BackfillResult says what a backfill did.
type BackfillResult struct {
	Dataset string `json:"dataset"`
	Filter  string `json:"filter"`
	// Start and End are the whole minutes [Start, End) recomputed.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Records were read from the store, Matched of them matched.
	Records int64 `json:"records"`
	Matched int64 `json:"matched"`
	// Samples were published into Minutes minutes of Series series.
	Samples float64 `json:"samples"`
	Minutes int     `json:"minutes"`
	Series  int     `json:"series"`
	// Replaced minutes held samples before (counted at ingest or by an
	// earlier backfill): their samples were replaced, not added to.
	Replaced int `json:"replaced"`
}

// ErrBackfillRange marks a backfill range that is empty or out of reach.
var ErrBackfillRange = errors.New("bad backfill range")

// Backfill evaluates the metric filter dataset/name over the records
// stored with start in [start, end) (rounded out to whole minutes) and
// makes the filter's minutes of that range exactly what those records
// give: the minutes are recomputed and replace what the filter held there,
// so running a backfill again, or over minutes already counted at ingest,
// never counts a record twice (spec/metric-filters.md §5.3 per-minute
// statistic sets; the store is the truth of what was committed). Records
// without a start time are not in any range and are left out. The range
// is clipped to the minutes the evaluator keeps (Config.Keep).
//
// Nothing may commit to the dataset while a backfill runs, or the
// records committed meanwhile could be counted twice: the caller holds
// the store's write lock (the server's writeMu), or has the store to
// itself.
func (e *Evaluator) Backfill(ctx context.Context, h History, dataset, name string, start, end time.Time) (BackfillResult, error) {
	res := BackfillResult{Dataset: dataset, Filter: name}
	def, err := e.deps.Filters.Get(ctx, dataset, name)
	if err != nil {
		return res, err
	}
	c, err := compile(def)
	if err != nil {
		return res, err
	}
	from, to := floorDiv(start.Unix(), 60), -floorDiv(-end.Unix(), 60)
	if oldest := floorDiv(e.deps.Now().Add(-e.cfg.Keep).Unix(), 60); from < oldest {
		from = oldest
	}
	if to <= from {
		return res, fmt.Errorf("%w: no whole minute between %s and %s within the %s the metrics are kept",
			ErrBackfillRange, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), e.cfg.Keep)
	}
	res.Start, res.End = time.Unix(from*60, 0).UTC(), time.Unix(to*60, 0).UTC()

	dss, err := h.Datasets(ctx)
	if err != nil {
		return res, err
	}
	var formats map[int]string
	for _, d := range dss {
		if d.Name == dataset {
			formats = d.Formats
		}
	}
	t := &txObserver{e: e, dataset: dataset, filters: []*compiled{c}, now: e.deps.Now()}
	ids := make([]int, 0, len(formats))
	for id := range formats {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		f, err := flowlog.ParseFormat(formats[id])
		if err != nil {
			return res, fmt.Errorf("format %d of dataset %s: %w", id, dataset, err)
		}
		n, err := scanHistory(ctx, h, dataset, id, f, from*60, to*60, t.Append)
		res.Records += n
		if err != nil {
			return res, err
		}
	}
	if len(t.matched) > 0 {
		res.Matched = int64(t.matched[0])
	}
	e.replace(t, from, to, &res)
	return res, e.Flush()
}

// floorDiv is a / b rounded towards minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// scanHistory reads the records of one format of a dataset with start in
// [from, to) (Unix seconds), an hour at a time, as batches.
func scanHistory(ctx context.Context, h History, dataset string, formatID int, f *flowlog.Format, from, to int64, fn func(*flowlog.Batch)) (int64, error) {
	var total int64
	for lo := from; lo < to; lo += 3600 {
		hi := min(lo+3600, to)
		n, err := scanQuery(ctx, h, "dataset = ? AND _format_id = ? AND start >= ? AND start < ?", []any{dataset, formatID, lo, hi}, dataset, f, fn)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// scanQuery reads the records of the flows view that where selects (all
// of format f) as one batch.
func scanQuery(ctx context.Context, h History, where string, args []any, dataset string, f *flowlog.Format, fn func(*flowlog.Batch)) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	cols := make([]string, len(f.Fields))
	for i, fl := range f.Fields {
		cols[i] = `"` + strings.ReplaceAll(fl.Column, `"`, `""`) + `"`
	}
	r, err := h.Query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM flows WHERE "+where, args...)
	if err != nil {
		return 0, fmt.Errorf("read the records of %s: %w", dataset, err)
	}
	if len(r.Rows) == 0 {
		return 0, nil
	}
	b := flowlog.NewBatch(f, len(r.Rows))
	for _, row := range r.Rows {
		for j := range b.Cols {
			if err := appendValue(&b.Cols[j], row[j]); err != nil {
				return 0, fmt.Errorf("record of %s: %s: %w", dataset, b.Cols[j].Field.Column, err)
			}
		}
		b.EndRecord()
	}
	fn(b)
	return int64(b.N), nil
}

// appendValue appends a value as the store returns it to a column.
func appendValue(c *flowlog.Column, v any) error {
	if v == nil {
		c.AppendNull()
		return nil
	}
	if c.Field.Kind.Numeric() {
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case int32:
			n = int64(x)
		case int16:
			n = int64(x)
		case int8:
			n = int64(x)
		case int:
			n = int64(x)
		case uint64:
			if x > math.MaxInt64 {
				return fmt.Errorf("value %d out of range", x)
			}
			n = int64(x)
		case uint32:
			n = int64(x)
		case uint16:
			n = int64(x)
		case uint8:
			n = int64(x)
		case float64:
			n = int64(x)
		case time.Time:
			n = x.Unix()
		case string:
			p, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return err
			}
			n = p
		default:
			return fmt.Errorf("unexpected %T", v)
		}
		c.AppendInt(n)
		return nil
	}
	s, ok := v.(string)
	if !ok {
		s = fmt.Sprint(v)
	}
	if c.Field.Kind == flowlog.KindIP {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return err
		}
		c.AppendIP(a)
		return nil
	}
	c.AppendString(s)
	return nil
}

// replace makes the filter's minutes [from, to) those of t.
func (e *Evaluator) replace(t *txObserver, from, to int64, res *BackfillResult) {
	c := t.filters[0]
	fk := filterKey(t.dataset, c.def.Name)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.series {
		if s.Dataset != t.dataset || s.Filter != c.def.Name {
			continue
		}
		for m, st := range s.Minutes {
			if m >= from && m < to {
				s.Total.SampleCount -= st.SampleCount
				s.Total.Sum -= st.Sum
				delete(s.Minutes, m)
				res.Replaced++
			}
		}
	}
	series := map[string]bool{}
	for k, p := range t.pend {
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
		res.Samples += p.stat.SampleCount
		res.Minutes++
		series[sk] = true
	}
	res.Series = len(series)
	e.dirty = true
}

// seriesFor returns the series sk of filter fk, made if the filter has room
// for another (else the samples are counted as dropped and nil returned).
// e.mu is held.
func (e *Evaluator) seriesFor(sk, fk, dataset string, c *compiled, p *pending) *series {
	if s := e.series[sk]; s != nil {
		return s
	}
	if e.perFilt[fk] >= e.cfg.MaxSeries {
		e.dropped[fk] += p.stat.SampleCount
		return nil
	}
	id := SeriesID{Namespace: c.def.Metric.MetricNamespace, Metric: c.def.Metric.MetricName}
	if len(c.dims) > 0 {
		id.Dimensions = map[string]string{}
		for i, d := range c.dims {
			id.Dimensions[d] = p.dims[i]
		}
	}
	s := &series{ID: id, Dataset: dataset, Filter: c.def.Name, Unit: c.def.Metric.Unit, Minutes: map[int64]*Stat{}}
	e.series[sk] = s
	e.perFilt[fk]++
	return s
}
