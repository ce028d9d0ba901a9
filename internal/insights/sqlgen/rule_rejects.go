package sqlgen

import (
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
)

// rejectsView is the store's rollup of the REJECT records: one row per
// dataset, file, hour (`_hour`), srcaddr (with `_srcaddr_v4`) and dstport,
// with the record count and the sums of bytes and packets; its `action`
// column is the constant 'REJECT'.
const rejectsView = "flows_rejects"

// useRejects reports whether the first stage of the plan can read
// `flows_rejects` instead of `flows` and give the same answer: one of its
// filters is action = "REJECT" (the rollup holds those records only), the
// other filters and the group keys use only srcaddr, dstport and action,
// it aggregates only count(*), sum(bytes), sum(packets) and
// count_distinct, min or max of srcaddr or dstport, and the time range is
// open or falls on whole hours. Only the DuckDB store keeps the rollup.
func (g *gen) useRejects() bool {
	p, opt := g.p, g.opt
	if g.d.Name() != "duckdb" || p.Estimate || p.Compare != nil || len(p.Stages) == 0 {
		return false
	}
	if (opt.Start != 0 && mod(opt.Start, 3600) != 0) || (opt.End != 0 && mod(opt.End+1, 3600) != 0) {
		return false
	}
	s := p.Stages[0]
	if !s.Grouped || s.Star || s.Windowed || s.Fill != nil || len(s.Joins) > 0 || len(s.Dedup) > 0 {
		return false
	}
	reject := false
	for _, f := range s.Filters {
		if isRejectFilter(f) {
			reject = true
		}
		if plan.HasAgg(f) || !rejectsExpr(f, false) {
			return false
		}
	}
	if !reject {
		return false
	}
	for _, k := range s.Keys {
		if plan.HasAgg(k.X) || !rejectsExpr(k.X, false) {
			return false
		}
	}
	for _, c := range s.Cols {
		if !rejectsExpr(c.X, true) {
			return false
		}
	}
	for _, o := range s.Order {
		if !rejectsExpr(o.X, true) {
			return false
		}
	}
	return true
}

// isRejectFilter reports whether x is action = "REJECT".
func isRejectFilter(x plan.Expr) bool {
	c, ok := x.(*plan.Call)
	if !ok || c.Fn != "=" || len(c.Args) != 2 {
		return false
	}
	for i := range 2 {
		col, ok1 := c.Args[i].(*plan.Column)
		lit, ok2 := c.Args[1-i].(*plan.Lit)
		if ok1 && ok2 && col.Field.ID == flowlog.Action && lit.Value == "REJECT" {
			return true
		}
	}
	return false
}

// isRejectsKey reports whether x is a column the rejects rollup keeps.
func isRejectsKey(x plan.Expr) bool {
	c, ok := x.(*plan.Column)
	return ok && (c.Field.ID == flowlog.SrcAddr || c.Field.ID == flowlog.DstPort || c.Field.ID == flowlog.Action)
}

// rejectsExpr reports whether x can be computed from the rejects rollup's
// rows: constants, its keys, row-wise functions of those and, when aggs,
// the aggregates useRejects lists.
func rejectsExpr(x plan.Expr, aggs bool) bool {
	switch x := x.(type) {
	case *plan.Lit:
		return true
	case *plan.Column:
		return isRejectsKey(x)
	case *plan.Call:
		if x.Win != nil || x.Sub != nil {
			return false
		}
		if x.Agg {
			if !aggs {
				return false
			}
			switch x.Fn {
			case "count_star":
				return true
			case "sum":
				c, ok := x.Args[0].(*plan.Column)
				return len(x.Args) == 1 && ok && (c.Field.ID == flowlog.Bytes || c.Field.ID == flowlog.Packets)
			case "count_distinct", "min", "max":
				c, ok := x.Args[0].(*plan.Column)
				return len(x.Args) == 1 && ok && (c.Field.ID == flowlog.SrcAddr || c.Field.ID == flowlog.DstPort)
			}
			return false
		}
		switch x.Fn {
		case "rate_span", "earliest", "latest", "now":
			return false
		}
		for _, a := range x.Args {
			if !rejectsExpr(a, aggs) {
				return false
			}
		}
		return true
	}
	return false
}

// rejectsScanFilters are the dataset and time predicates on
// `flows_rejects`: a record's start lies in [Start, End] exactly when its
// hour does, the range being aligned to hours.
func (g *gen) rejectsScanFilters() []string {
	out := g.datasetFilters()
	if g.opt.Start != 0 {
		out = append(out, "_hour >= "+itoa(g.opt.Start))
	}
	if g.opt.End != 0 {
		out = append(out, "_hour <= "+itoa(g.opt.End+1-3600))
	}
	return out
}
