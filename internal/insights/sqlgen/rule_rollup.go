package sqlgen

import (
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
)

// rollupSeconds is the bin width of the store's `flows_5m` view: one row per
// dataset, file, bin (start floored to 5 minutes), action and log status,
// with the record count and the sums of bytes and packets.
const rollupSeconds = 300

// rollupView is the store's 5-minute rollup.
const rollupView = "flows_5m"

// useRollup reports whether the first stage of the plan can read
// `flows_5m` instead of `flows` and give the same answer: it groups by a
// bin() of @timestamp whose width and offset are whole multiples of five
// minutes (and optionally by action and log status), aggregates only
// count(*), sum(bytes) and sum(packets), filters on action and log status
// only, and the time range is open or falls on 5-minute bounds. Only the
// DuckDB store keeps the rollup.
func (g *gen) useRollup() bool {
	p, opt := g.p, g.opt
	if g.d.Name() != "duckdb" || p.Estimate || p.Compare != nil || len(p.Stages) == 0 {
		return false
	}
	if mod(opt.Start, rollupSeconds) != 0 || (opt.End != 0 && mod(opt.End+1, rollupSeconds) != 0) {
		return false
	}
	s := p.Stages[0]
	if !s.Grouped || s.Star || s.Windowed || s.Fill != nil || len(s.Joins) > 0 || len(s.Dedup) > 0 {
		return false
	}
	binned := false
	for _, k := range s.Keys {
		switch {
		case isRollupBin(k.X):
			binned = true
		case isRollupKey(k.X):
		default:
			return false
		}
	}
	if !binned {
		return false
	}
	for _, f := range s.Filters {
		if plan.HasAgg(f) || !rollupExpr(f) {
			return false
		}
	}
	for _, c := range s.Cols {
		if !rollupExpr(c.X) {
			return false
		}
	}
	for _, o := range s.Order {
		if !rollupExpr(o.X) {
			return false
		}
	}
	return true
}

// isRollupKey reports whether x is a column the rollup keeps.
func isRollupKey(x plan.Expr) bool {
	c, ok := x.(*plan.Column)
	return ok && (c.Field.ID == flowlog.Action || c.Field.ID == flowlog.LogStatus)
}

// isRollupBin reports whether x is bin(@timestamp, p [, offset]) with a
// fixed period and offset that are whole multiples of the rollup's bins
// (weeks too: they start 4 days after the epoch).
func isRollupBin(x plan.Expr) bool {
	c, ok := x.(*plan.Call)
	if !ok || c.Fn != "bin" || c.Agg || c.Win != nil || len(c.Args) < 2 {
		return false
	}
	if s, ok := c.Args[0].(*plan.Sys); !ok || s.Name != "@timestamp" {
		return false
	}
	l, ok := c.Args[1].(*plan.Lit)
	if !ok {
		return false
	}
	p, ok := l.Value.(plan.Period)
	const binMs = rollupSeconds * 1000
	if !ok || p.Millis() <= 0 || p.Millis()%binMs != 0 {
		return false
	}
	if len(c.Args) == 3 {
		l, ok := c.Args[2].(*plan.Lit)
		if !ok {
			return false
		}
		off, ok := l.Value.(int64)
		if !ok || off%binMs != 0 {
			return false
		}
	}
	return len(c.Args) <= 3
}

// rollupExpr reports whether x can be computed from the rollup's rows:
// constants, the rollup's keys, a rollup bin, count(*), sum(bytes),
// sum(packets), and row-wise functions of those.
func rollupExpr(x plan.Expr) bool {
	switch x := x.(type) {
	case *plan.Lit:
		return true
	case *plan.Column:
		return isRollupKey(x)
	case *plan.Call:
		if x.Win != nil {
			return false
		}
		if isRollupBin(x) {
			return true
		}
		if x.Agg {
			switch x.Fn {
			case "count_star":
				return true
			case "sum":
				if len(x.Args) != 1 {
					return false
				}
				c, ok := x.Args[0].(*plan.Column)
				return ok && (c.Field.ID == flowlog.Bytes || c.Field.ID == flowlog.Packets)
			}
			return false
		}
		switch x.Fn {
		case "rate_span", "earliest", "latest", "now":
			return false
		}
		for _, a := range x.Args {
			if !rollupExpr(a) {
				return false
			}
		}
		return true
	}
	return false
}

// rollupScanFilters are the dataset and time predicates on `flows_5m`: a
// record's start lies in [Start, End] exactly when its bin does, the range
// being aligned to the bins.
func (g *gen) rollupScanFilters() []string {
	out := g.datasetFilters()
	if g.opt.Start != 0 {
		out = append(out, "bin >= "+itoa(g.opt.Start))
	}
	if g.opt.End != 0 {
		out = append(out, "bin <= "+itoa(g.opt.End))
	}
	return out
}
