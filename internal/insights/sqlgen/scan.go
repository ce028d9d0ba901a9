package sqlgen

import (
	"sort"
	"strings"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

// ScanFilter is a conjunct of the WHERE that every reading of the records
// by the first stage applies (see Options.Scan). A FROM item may drop the
// rows it rejects before the query sees them: the query applies it again.
type ScanFilter struct {
	// SQL is the predicate, over flows-view column names.
	SQL string
	// Cols are the flows-view columns it reads. It only compares them
	// with constants (=, <>, <, <=, >, >=, BETWEEN, IN a list; AND, OR and
	// NOT of those): it holds for an integer column's stored value
	// whatever integer type that is stored as.
	Cols []string
}

// scanFilterList returns the conjuncts every reading of the records by the
// first stage applies, that Options.Scan may apply to the rows it reads:
// the dataset and time predicates (scanFilters), and those of the stage's
// filters (and their key hints) whose columns are all known.
func (g *gen) scanFilterList() []ScanFilter {
	var out []ScanFilter
	for _, s := range g.scanFilters() {
		col := "start"
		switch {
		case strings.HasPrefix(s, "dataset "):
			col = "dataset"
		case strings.HasPrefix(s, "_hour "):
			col = "_hour"
		}
		out = append(out, ScanFilter{SQL: s, Cols: []string{col}})
	}
	for _, f := range g.p.Stages[0].Filters {
		set := map[string]bool{}
		if !scanFilterOf(f, set) {
			continue
		}
		out = append(out, ScanFilter{SQL: strip(g.expr(f)), Cols: sortedKeys(set)})
		if h := g.keyHint(f); h != "" {
			out = append(out, ScanFilter{SQL: h, Cols: []string{"_srcaddr_v4"}})
		}
	}
	return out
}

// scanFilterOf adds the flows-view columns filter x reads to set; ok is
// false unless x is comparisons of one column with constants under AND,
// OR and NOT, or an IPv4 range of an address with constant bounds (which
// reads the integer column alone).
func scanFilterOf(x plan.Expr, set map[string]bool) bool {
	switch x := x.(type) {
	case *plan.Call:
		if x.Agg || x.Win != nil || x.Sub != nil {
			return false
		}
		if col, isCol := ipv4RangeColumn(x); isCol {
			if _, lit1 := x.Args[1].(*plan.Lit); lit1 {
				if _, lit2 := x.Args[2].(*plan.Lit); lit2 {
					set[ipv4Column(col.Field)] = true // the integer column alone
					return true
				}
			}
			return false
		}
		switch x.Fn {
		case "and", "or", "not":
			for _, a := range x.Args {
				if !scanFilterOf(a, set) {
					return false
				}
			}
			return true
		case "=", "!=", "<", "<=", ">", ">=", "in":
			// a column against constants
			cols := 0
			for _, a := range x.Args {
				switch a := a.(type) {
				case *plan.Column:
					if ipv4Column(a.Field) != "" {
						return false // the text of an address is computed
					}
					set[a.Field.Column] = true
					cols++
				case *plan.Lit:
					if _, isPeriod := a.Value.(plan.Period); isPeriod || a.Value == nil {
						return false
					}
				default:
					return false
				}
			}
			if _, first := x.Args[0].(*plan.Column); !first || cols != 1 {
				return false
			}
			return true
		}
	}
	return false
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
