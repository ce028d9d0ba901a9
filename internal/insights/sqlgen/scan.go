package sqlgen

import (
	"cmp"
	"math"
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
	// Excludes, when not nil, reports whether the filter is false where
	// its one column (Cols[0]) holds v, an int64 or a string (false when
	// that is not known): a FROM item that keeps only the rows passing
	// the filter then has no row holding v there. It is set only for a
	// column that the query reads nowhere but in the first stage's
	// filters (none of them with an aggregate, a window or a subquery;
	// the stage has no join): there a column's values decide the answer,
	// its type does not (an empty aggregate, an array's default or a
	// join's missing row is NULL only for a Nullable type), so such a
	// FROM item may give the column as a type without NULL.
	Excludes func(v any) bool
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
	only := filterOnly(g.p.Stages[0])
	for _, f := range g.p.Stages[0].Filters {
		set := map[string]bool{}
		if !scanFilterOf(f, set) {
			continue
		}
		sf := ScanFilter{SQL: strip(g.expr(f)), Cols: sortedKeys(set)}
		if len(sf.Cols) == 1 && only[sf.Cols[0]] {
			sf.Excludes = func(v any) bool {
				holds, known := holdsOn(f, v)
				return known && !holds
			}
		}
		out = append(out, sf)
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

// filterOnly returns the flows-view columns that stage s reads in its
// filters and nowhere else, where no filter that reads them has an
// aggregate, a window or a subquery (nil when the stage has joins).
func filterOnly(s *plan.Stage) map[string]bool {
	if len(s.Joins) > 0 || s.Star {
		return nil
	}
	in, elsewhere := map[string]bool{}, map[string]bool{}
	for _, f := range s.Filters {
		clean := true
		plan.Walk(f, func(x plan.Expr) {
			if c, ok := x.(*plan.Call); ok && (c.Agg || c.Win != nil || c.Sub != nil) {
				clean = false
			}
		})
		set := in
		if !clean {
			set = elsewhere
		}
		if !columnsRead(f, set) {
			return nil
		}
	}
	var xs []plan.Expr
	for _, k := range s.Keys {
		xs = append(xs, k.X)
	}
	for _, c := range s.Cols {
		xs = append(xs, c.X)
	}
	xs = append(xs, s.Dedup...)
	for _, k := range append(append([]plan.SortKey(nil), s.DedupOrder...), s.Order...) {
		xs = append(xs, k.X)
	}
	for _, x := range xs {
		if !columnsRead(x, elsewhere) {
			return nil
		}
	}
	out := map[string]bool{}
	for c := range in {
		if !elsewhere[c] {
			out[c] = true
		}
	}
	return out
}

// columnsRead adds the flows-view columns x reads to set (the columns
// behind the system fields too); false when x may read any column
// (@message and what is built from it).
func columnsRead(x plan.Expr, set map[string]bool) bool {
	ok := true
	var visit func(x plan.Expr)
	visit = func(x plan.Expr) {
		switch x := x.(type) {
		case *plan.Column:
			set[x.Field.Column] = true
		case *plan.Sys:
			if !sysColumns(x.Name, set) {
				ok = false
			}
		case *plan.Call:
			for _, a := range x.Args {
				visit(a)
			}
			if x.Win != nil {
				for _, p := range x.Win.Partition {
					visit(p)
				}
				for _, k := range x.Win.Order {
					visit(k.X)
				}
			}
		case *plan.Lit, *plan.Ref:
		default:
			ok = false
		}
	}
	visit(x)
	return ok
}

// holdsOn evaluates a filter that scanFilterOf accepts (comparisons of
// one column with constants under AND, OR and NOT) where the column holds
// v, an int64 or a string; known is false when it cannot tell (a constant
// of another type, or any other expression).
func holdsOn(x plan.Expr, v any) (holds, known bool) {
	c, ok := x.(*plan.Call)
	if !ok || c.Agg || c.Win != nil || c.Sub != nil {
		return false, false
	}
	switch c.Fn {
	case "and", "or":
		if len(c.Args) != 2 {
			return false, false
		}
		a, ka := holdsOn(c.Args[0], v)
		b, kb := holdsOn(c.Args[1], v)
		if !ka || !kb {
			return false, false
		}
		if c.Fn == "and" {
			return a && b, true
		}
		return a || b, true
	case "not":
		if len(c.Args) != 1 {
			return false, false
		}
		a, k := holdsOn(c.Args[0], v)
		return !a, k
	case "=", "!=", "<", "<=", ">", ">=", "in":
		if len(c.Args) < 2 {
			return false, false
		}
		if _, isCol := c.Args[0].(*plan.Column); !isCol {
			return false, false
		}
		if c.Fn != "in" && len(c.Args) != 2 {
			return false, false
		}
		res := false
		for _, a := range c.Args[1:] {
			lit, isLit := a.(*plan.Lit)
			if !isLit {
				return false, false
			}
			d, ok := compareTo(v, lit.Value)
			if !ok {
				return false, false
			}
			switch c.Fn {
			case "=", "in":
				res = res || d == 0
			case "!=":
				res = d != 0
			case "<":
				res = d < 0
			case "<=":
				res = d <= 0
			case ">":
				res = d > 0
			case ">=":
				res = d >= 0
			}
		}
		return res, true
	}
	return false, false
}

// compareTo compares v (an int64 or a string) with a constant of the same
// kind (an int64 or float64 with an int64): -1, 0 or 1; ok false for any
// other pair.
func compareTo(v, lit any) (int, bool) {
	switch v := v.(type) {
	case int64:
		switch l := lit.(type) {
		case int64:
			return cmp.Compare(v, l), true
		case float64:
			// exact as a float64 (the stored defaults are 0)
			if math.IsNaN(l) || v > 1<<53 || v < -(1<<53) {
				return 0, false
			}
			return cmp.Compare(float64(v), l), true
		}
	case string:
		if l, ok := lit.(string); ok {
			return strings.Compare(v, l), true
		}
	}
	return 0, false
}
