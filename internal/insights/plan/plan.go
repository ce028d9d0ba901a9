package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// Named is an expression with its output name.
type Named struct {
	Name string
	X    Expr
}

// SortKey is one ORDER BY key.
type SortKey struct {
	X    Expr
	Desc bool
	// Tie marks a key added only to break ties (spec §5.5: the same rows
	// in the same order every time): any fixed order of its values does,
	// so it is rendered as the plain value.
	Tie bool
}

// Stage is one SELECT: it reads the rows of the previous stage (the flows
// view for the first), keeps those that pass Filters, groups them when
// Grouped, keeps the first row per Dedup key, orders and limits them, and
// projects Cols.
type Stage struct {
	Filters []Expr
	// Grouped: Keys are the GROUP BY keys and Cols hold keys then aggregates.
	Grouped bool
	Keys    []Named
	// Star makes a non-grouped stage pass every input column through, before Cols.
	Star  bool
	Cols  []Named
	Dedup []Expr
	// DedupOrder is the row order dedup keeps the first row of.
	DedupOrder []SortKey
	Order      []SortKey
	Limit      int64 // 0: none
	// Windowed marks a stage whose columns hold window functions: rows
	// can no longer be filtered or grouped in it.
	Windowed bool
	// Fill makes the stage add the empty bins of the previous one.
	Fill *Fill
	// Joins are lookup tables joined to the stage's input (LEFT JOIN, at
	// most one row per input row).
	Joins []*Join
}

// Join is a lookup table inlined into the query. Cols are generated
// column names; values are strings, or int64 for CIDR bounds.
type Join struct {
	Alias string
	Cols  []string
	Types []Type
	Rows  [][]any
	On    Expr
	// Sub, for join, is the subquery whose output columns (in order) are
	// Cols; Inner makes it an inner join.
	Sub   *Plan
	Inner bool
}

// Fill is fillmissing over a stats stage grouped by bin(): every bin from
// the first to the last, in order; Key names the bin column of the
// previous stage and Values give constants for the other columns.
type Fill struct {
	Key    string
	StepMs int64
	Values map[string]Expr
}

// Plan is a checked query.
type Plan struct {
	// Datasets named by SOURCE (empty: the caller's selection); Prefixes
	// from SOURCE logGroups(namePrefix: [...]).
	Datasets []string
	Prefixes []string
	// SourceStart and SourceEnd are SOURCE's START=/END= as written ("" if absent).
	SourceStart, SourceEnd string
	// Formats are the formats records may have, by _format_id.
	Formats map[int]*flowlog.Format
	Stages  []*Stage
	// Output names the result columns, in order, with their types; they
	// are the Cols of the last stage.
	Output []OutCol
	// Limit is the query's own limit (0: none; the engine applies its default).
	Limit    int64
	Estimate bool
	Warnings []string
	// Compare (diff, logcompare) makes the scan also read an earlier
	// range: the same length just before the query's range when ShiftMs
	// is 0, else the range shifted back by ShiftMs.
	Compare *Compare
}

// Compare describes the earlier range of diff and logcompare.
type Compare struct {
	ShiftMs int64
}

// OutCol is a result column.
type OutCol struct {
	Name string
	Type Type
}

// String prints the plan, one stage per block, for --explain and golden tests.
func (p *Plan) String() string {
	var b strings.Builder
	src := "all datasets"
	if len(p.Datasets) > 0 {
		src = "datasets " + strings.Join(p.Datasets, ", ")
	}
	if len(p.Prefixes) > 0 {
		src = "datasets with prefix " + strings.Join(p.Prefixes, ", ")
	}
	fmt.Fprintf(&b, "source: %s", src)
	if p.SourceStart != "" || p.SourceEnd != "" {
		fmt.Fprintf(&b, " start=%s end=%s", p.SourceStart, p.SourceEnd)
	}
	b.WriteByte('\n')
	if len(p.Formats) > 0 {
		ids := make([]int, 0, len(p.Formats))
		for id := range p.Formats {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		fmt.Fprintf(&b, "formats: %v\n", ids)
	}
	for i, s := range p.Stages {
		fmt.Fprintf(&b, "stage %d", i)
		if i == 0 {
			b.WriteString(" (flows)")
		} else {
			fmt.Fprintf(&b, " (stage %d)", i-1)
		}
		b.WriteByte('\n')
		for _, j := range s.Joins {
			if j.Sub != nil {
				kind := "left"
				if j.Inner {
					kind = "inner"
				}
				fmt.Fprintf(&b, "  %s join %s on %s: {%s}\n", kind, j.Alias, j.On, strings.ReplaceAll(strings.TrimSpace(j.Sub.String()), "\n", "; "))
				continue
			}
			fmt.Fprintf(&b, "  join %s (%d rows) on %s\n", j.Alias, len(j.Rows), j.On)
		}
		for _, f := range s.Filters {
			fmt.Fprintf(&b, "  filter %s\n", f)
		}
		if s.Grouped {
			fmt.Fprintf(&b, "  group by %s\n", namedList(s.Keys))
		}
		if s.Star {
			b.WriteString("  keep *\n")
		}
		fmt.Fprintf(&b, "  project %s\n", namedList(s.Cols))
		if len(s.Dedup) > 0 {
			fmt.Fprintf(&b, "  dedup %s order %s\n", exprList(s.Dedup), sortList(s.DedupOrder))
		}
		if s.Fill != nil {
			fmt.Fprintf(&b, "  fill %s every %dms\n", s.Fill.Key, s.Fill.StepMs)
		}
		if len(s.Order) > 0 {
			fmt.Fprintf(&b, "  order %s\n", sortList(s.Order))
		}
		if s.Limit > 0 {
			fmt.Fprintf(&b, "  limit %d\n", s.Limit)
		}
	}
	names := make([]string, len(p.Output))
	for i, c := range p.Output {
		names[i] = c.Name + ":" + c.Type.String()
	}
	fmt.Fprintf(&b, "output %s\n", strings.Join(names, ", "))
	if p.Limit > 0 {
		fmt.Fprintf(&b, "limit %d\n", p.Limit)
	}
	if p.Compare != nil {
		fmt.Fprintf(&b, "compare with the range shifted back by %dms (0: the previous range)\n", p.Compare.ShiftMs)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}

func namedList(ns []Named) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = n.X.String() + " as " + n.Name
	}
	return strings.Join(parts, ", ")
}

func exprList(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

func sortList(ks []SortKey) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.X.String()
		if k.Desc {
			parts[i] += " desc"
		}
		if k.Tie {
			parts[i] += " (tie)"
		}
	}
	return strings.Join(parts, ", ")
}
