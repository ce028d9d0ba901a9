package api

import (
	"context"
	"time"

	"github.com/flowlens/flowlens/internal/insights/plan"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
)

// An asynchronous Logs Insights query whose answer is the union of its
// answers over disjoint time slices runs slice by slice, so that its status
// carries the rows and statistics of the slices done while it runs (the
// partial results of GetQueryResults). Two shapes qualify:
//   - records in time order (fields/filter/parse/display, sorted by
//     @timestamp, the default): the slices run in that order and the query
//     stops once its limit is reached;
//   - one stats grouped by a fixed bin() (with other keys too), sorted by
//     nothing or first by the bin: slice bounds fall on bin bounds, so no
//     group spans two slices.
// Everything else (a top-N over the whole range, dedup, windows, joins of
// subqueries, several stages) runs as one statement; its statistics come
// before and after it.

// slicesWanted is how many slices a range is cut into (one more when its
// start is not on a slice bound).
const slicesWanted = 8

// Progress tells how far a sliced query has come: slices done of the
// total, and the time range they covered.
type Progress struct {
	SlicesDone int        `json:"slicesDone"`
	Slices     int        `json:"slices"`
	Start      *time.Time `json:"start,omitempty"`
	End        *time.Time `json:"end,omitempty"`
}

// slicing is how a query runs slice by slice.
type slicing struct {
	unit    int64 // seconds: slice lengths are multiples of it
	desc    bool  // newest slice first
	cap     int64 // rows the whole answer keeps
	records bool  // one row per matching record (no stats)
}

// sliceable reports whether a checked plan's answer is the union of its
// answers over time slices, and how to slice it. rowCap is the request's
// row cap (applied when the query has no limit of its own).
func sliceable(p *plan.Plan, rowCap int64) (slicing, bool) {
	if p == nil || p.Compare != nil || len(p.Stages) != 1 || p.SourceStart != "" || p.SourceEnd != "" {
		return slicing{}, false
	}
	st := p.Stages[0]
	if len(st.Dedup) > 0 || st.Windowed || st.Fill != nil {
		return slicing{}, false
	}
	for _, j := range st.Joins {
		if j.Sub != nil {
			return slicing{}, false
		}
	}
	exprs := append([]plan.Expr{}, st.Filters...)
	for _, c := range st.Cols {
		exprs = append(exprs, c.X)
	}
	for _, k := range st.Keys {
		exprs = append(exprs, k.X)
	}
	for _, k := range st.Order {
		exprs = append(exprs, k.X)
	}
	for _, e := range exprs {
		bad := false
		plan.Walk(e, func(x plan.Expr) {
			if c, ok := x.(*plan.Call); ok && (c.Sub != nil || c.Win != nil) {
				bad = true
			}
		})
		if bad {
			return slicing{}, false
		}
	}
	sl := slicing{cap: rowCap}
	if p.Limit > 0 {
		sl.cap = p.Limit
	}
	if !st.Grouped {
		// Records: ordered by @timestamp alone.
		if len(st.Order) != 1 || !isTimestamp(st.Order[0].X) {
			return slicing{}, false
		}
		for _, c := range st.Cols {
			if plan.HasAgg(c.X) {
				return slicing{}, false
			}
		}
		sl.unit, sl.desc, sl.records = 3600, st.Order[0].Desc, true
		return sl, true
	}
	var bin *plan.Named
	for i := range st.Keys {
		if period := binPeriod(st.Keys[i].X); period > 0 {
			bin = &st.Keys[i]
			sl.unit = lcm(period, 3600)
			break
		}
	}
	if bin == nil {
		return slicing{}, false
	}
	if len(st.Order) > 0 {
		if st.Order[0].X.String() != bin.X.String() {
			return slicing{}, false
		}
		sl.desc = st.Order[0].Desc
	}
	return sl, true
}

func isTimestamp(e plan.Expr) bool {
	s, ok := e.(*plan.Sys)
	return ok && s.Name == "@timestamp"
}

// binPeriod returns the period in seconds of a bin() of fixed length in
// whole seconds without offset, else 0.
func binPeriod(e plan.Expr) int64 {
	c, ok := e.(*plan.Call)
	if !ok || c.Fn != "bin" || len(c.Args) != 2 {
		return 0
	}
	l, ok := c.Args[1].(*plan.Lit)
	if !ok {
		return 0
	}
	per, ok := l.Value.(plan.Period)
	if !ok {
		return 0
	}
	ms := per.Millis()
	if ms <= 0 || ms%1000 != 0 {
		return 0
	}
	return ms / 1000
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int64) int64 { return a / gcd(a, b) * b }

// timeSlice is an inclusive range of record start times, in seconds.
type timeSlice struct{ first, last int64 }

// slices cuts [first, last] (seconds, inclusive) into slicesWanted (or one
// more) slices whose bounds are multiples of a multiple of unit, in the order
// the query wants them. Fewer than two slices: nil.
func (sl slicing) slices(first, last int64) []timeSlice {
	if last < first || sl.unit <= 0 {
		return nil
	}
	span := last - first + 1
	per := (span + slicesWanted - 1) / slicesWanted
	step := (per + sl.unit - 1) / sl.unit * sl.unit
	var out []timeSlice
	for a := floorDiv(first, step) * step; a <= last; a += step {
		s := timeSlice{first: max(a, first), last: min(a+step-1, last)}
		out = append(out, s)
	}
	if len(out) < 2 {
		return nil
	}
	if sl.desc {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// dataRange is the range of record start times a compiled query reads:
// its own bounds, else those of the data in its datasets (ds: the
// catalogue's list).
func dataRange(c *query.Compiled, ds []store.Dataset) (first, last int64, ok bool) {
	var lo, hi time.Time
	if c.Start.IsZero() || c.End.IsZero() {
		for _, d := range ds {
			if (len(c.Datasets) > 0 && !contains(c.Datasets, d.Name)) || d.Records == 0 {
				continue
			}
			if lo.IsZero() || d.MinTime.Before(lo) {
				lo = d.MinTime
			}
			if hi.IsZero() || d.MaxTime.After(hi) {
				hi = d.MaxTime
			}
		}
	}
	if !c.Start.IsZero() && (lo.IsZero() || c.Start.After(lo)) {
		lo = c.Start
	}
	if !c.End.IsZero() && (hi.IsZero() || c.End.Before(hi)) {
		hi = c.End
	}
	if lo.IsZero() || hi.IsZero() || hi.Before(lo) {
		return 0, 0, false
	}
	return lo.Unix(), hi.Unix(), true
}

// bytesPerRecord is the datasets' estimated size per record (all when
// names is empty).
func bytesPerRecord(ds []store.Dataset, names []string) float64 {
	var recs, size int64
	for _, d := range ds {
		if len(names) == 0 || contains(names, d.Name) {
			recs += d.Records
			size += d.Bytes
		}
	}
	if recs == 0 {
		return 0
	}
	return float64(size) / float64(recs)
}

// countRecords counts the records of datasets (all when empty) whose start
// is in [start, end].
func (s *Server) countRecords(ctx context.Context, datasets []string, start, end time.Time) (int64, error) {
	res, _, err := s.runUnchecked(ctx, query.Request{Query: "stats count(*) as n", Datasets: datasets, Start: start, End: end})
	if err != nil || len(res.Rows) != 1 {
		return 0, err
	}
	n, _ := res.Rows[0][0].(int64)
	return n, nil
}

// executeSliced runs a sliceable query slice by slice, publishing the rows
// and statistics of the slices done.
func (s *Server) executeSliced(ctx context.Context, p *parsed, q *run, sl slicing, cuts []timeSlice, perRecord float64, stats *Statistics) (*Result, error) {
	var out *Result
	rows := [][]any{}
	covered := timeSlice{first: cuts[0].first, last: cuts[0].last}
	for i, cut := range cuts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		req := p.engineRequest()
		req.Start, req.End = time.Unix(cut.first, 0).UTC(), time.Unix(cut.last, 0).UTC()
		// The first slice checks the dataset names (a misspelt one is an
		// error, not an empty answer); the others need not look again.
		run := s.runUnchecked
		if i == 0 {
			run = s.deps.Engine.Run
		}
		res, c, err := run(ctx, req)
		if err != nil {
			return nil, err
		}
		part := convert(res, c.Statement.Types, 0)
		if out == nil {
			out = &Result{Columns: part.Columns, Shape: shapeOf(c.Plan)}
		}
		rows = append(rows, part.Rows...)
		full := sl.cap > 0 && int64(len(rows)) >= sl.cap
		if full {
			rows = rows[:sl.cap]
		}
		n, err := s.countRecords(ctx, c.Datasets, req.Start, req.End)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		stats.RecordsScanned += n
		stats.BytesScanned += int64(perRecord * float64(n))
		switch {
		case sl.records && int64(len(part.Rows)) < sl.cap:
			// Every record that passed is a row of the slice: no count needed.
			stats.RecordsMatched += int64(len(part.Rows))
		case !hasFilters(c.Plan):
			stats.RecordsMatched += n
		default:
			m, err := s.matched(ctx, p.Query, req)
			if err != nil && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			stats.RecordsMatched += m
		}
		covered.first, covered.last = min(covered.first, cut.first), max(covered.last, cut.last)
		lo, hi := time.Unix(covered.first, 0).UTC(), time.Unix(covered.last, 0).UTC()
		q.publish(*stats, &Result{Columns: out.Columns, Rows: rows[:len(rows):len(rows)], Shape: out.Shape},
			&Progress{SlicesDone: i + 1, Slices: len(cuts), Start: &lo, End: &hi})
		if s.deps.Observe != nil {
			s.deps.Observe(q.snapshot(s.deps.Now(), true))
		}
		if full {
			break
		}
	}
	out.Rows = rows
	return out, nil
}

// hasFilters reports whether a one-stage plan drops records before its
// grouping (else every record scanned is matched).
func hasFilters(p *plan.Plan) bool {
	return len(p.Stages) == 0 || len(p.Stages[0].Filters) > 0
}

// runUnchecked compiles and runs a request without checking that its
// datasets exist (Engine.Run looks them up in the catalogue, which costs
// more than a slice's count on a large store).
func (s *Server) runUnchecked(ctx context.Context, req query.Request) (*store.Result, *query.Compiled, error) {
	c, err := s.deps.Engine.Compile(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	res, err := s.deps.Engine.Exec(ctx, c)
	return res, c, err
}
