package sqlgen

import (
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
)

// pairsView is the DuckDB store's view of the distinct (`_srcaddr_v4`,
// `srcaddr`, `dstport`) of all records, the text only where there is no
// IPv4 value; most of its rows come from a rollup kept per day file
// (internal/store/duckdb/pairs.go).
const pairsView = "flows_pairs"

// usePairs reports whether the first stage of the plan can read
// `flows_pairs` instead of `flows` and give the same answer: it groups by
// srcaddr alone, its only aggregate is count_distinct(dstport), it filters
// and orders nothing, and it reads every record (no time range, no
// dataset): `stats count_distinct(dstport) as p by srcaddr`. Each row of
// the view is then one (group, value) pair of distinctPairs, already
// distinct. Only the DuckDB store has the view (Options.Pairs).
func (g *gen) usePairs() bool {
	p, opt := g.p, g.opt
	if g.d.Name() != "duckdb" || !opt.Pairs || p.Estimate || p.Compare != nil || len(p.Stages) == 0 ||
		opt.Start != 0 || opt.End != 0 || len(opt.Datasets) > 0 {
		return false
	}
	s := p.Stages[0]
	if !s.Grouped || s.Star || s.Windowed || s.Fill != nil || len(s.Joins) > 0 || len(s.Dedup) > 0 ||
		len(s.Filters) > 0 || len(s.Order) > 0 || len(s.Keys) != 1 {
		return false
	}
	if c, ok := s.Keys[0].X.(*plan.Column); !ok || c.Field.ID != flowlog.SrcAddr {
		return false
	}
	aggs := 0
	for _, c := range s.Cols {
		if keyIndex(s, c.X) >= 0 {
			continue
		}
		call, ok := c.X.(*plan.Call)
		if !ok || call.Fn != "count_distinct" || !call.Agg || call.Win != nil || call.Sub != nil || len(call.Args) != 1 {
			return false
		}
		if a, ok := call.Args[0].(*plan.Column); !ok || a.Field.ID != flowlog.DstPort {
			return false
		}
		aggs++
	}
	return aggs > 0
}
