package sqlgen

import (
	"strings"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

// chLookups renders, on ClickHouse, the lookups and cidrlookups of a
// stage (joins with a constant table) without a join: 18.16 takes one
// JOIN per query and equalities only in its ON (a cidrlookup's ranges are
// not), and the table is a constant, so each row finds its table row by
// an expression. It returns the WITH items of the stage, one per table:
// the 1-based index of the matching table row (0: none); and the
// expressions of the table's columns, read from the arrays of their
// values at that index (NULL without a match), which the stage renders in
// place of the references to them (18.16 does not match a GROUP BY on a
// WITH alias with a SELECT item naming it under another alias). The plan
// gives a table at most one matching row per event (lookup keeps the
// first row of a key, cidrlookup's ranges are disjoint), as the LEFT JOIN
// of the DuckDB dialect finds.
//
// A lookup on one key finds the index with transform (a hash lookup);
// any other condition (a cidrlookup's range, several keys) with multiIf
// over the table's rows, the condition with each row's values in place
// of the columns. (No lambda: a column that 18.16 reads inside a lambda
// only is not read from the table, "Unknown identifier".)
func (g *gen) chLookups(s *plan.Stage) (with []string, cols map[string]string) {
	for _, j := range s.Joins {
		if j.Sub != nil {
			continue
		}
		if cols == nil {
			cols = map[string]string{}
		}
		rows := g.lookupRows(j)
		idx := g.d.Ident(j.Alias + "_i")
		var find string
		switch key := g.chLookupKey(j); {
		case len(rows) == 0:
			find = "0"
		case key != nil:
			keys := make([]string, len(rows))
			nums := make([]string, len(rows))
			for r, row := range rows {
				keys[r] = row[0]
				nums[r] = itoa(int64(r + 1))
			}
			find = "ifNull(transform(" + g.expr(key) + ", [" + strings.Join(keys, ", ") + "], [" + strings.Join(nums, ", ") + "], 0), 0)"
		default:
			var arms []string
			for r := range j.Rows {
				vals := map[string]plan.Expr{}
				for c, name := range j.Cols {
					vals[name] = &plan.Lit{Value: j.Rows[r][c], T: j.Types[c]}
				}
				arms = append(arms, "ifNull("+g.expr(chSubstitute(j.On, vals))+", 0)", itoa(int64(r+1)))
			}
			find = "multiIf(" + strings.Join(arms, ", ") + ", 0)"
		}
		with = append(with, find+" AS "+idx)
		for c, name := range j.Cols {
			if len(rows) == 0 {
				typ := "Nullable(String)"
				if j.Types[c] == plan.TypeNumber {
					typ = "Nullable(Int64)"
				}
				cols[name] = "CAST(NULL AS " + typ + ")"
				continue
			}
			// an array of a Nullable type at an index that is not a
			// constant fails in 18.16 ("Bad cast from type
			// DB::DataTypeString to DB::DataTypeNullable"): the values
			// are not Nullable, NULL comes from the if
			vals := make([]string, len(rows))
			for r, row := range rows {
				vals[r] = row[c]
				if j.Types[c] == plan.TypeNumber {
					vals[r] = "toInt64(" + row[c] + ")"
				}
			}
			cols[name] = "if(" + idx + " = 0, NULL, [" + strings.Join(vals, ", ") + "][" + idx + "])"
		}
	}
	return with, cols
}

// chLookupKey returns the event's key expression of a lookup on one key
// (ON event = the table's first column), nil for any other join.
func (g *gen) chLookupKey(j *plan.Join) plan.Expr {
	c, ok := j.On.(*plan.Call)
	if !ok || c.Fn != "=" || len(c.Args) != 2 || len(j.Cols) == 0 {
		return nil
	}
	if r, ok := c.Args[1].(*plan.Ref); ok && r.Name == j.Cols[0] {
		return c.Args[0]
	}
	return nil
}

// chSubstitute returns x with the references named in vals replaced by
// their values, through the calls that hold them.
func chSubstitute(x plan.Expr, vals map[string]plan.Expr) plan.Expr {
	switch e := x.(type) {
	case *plan.Ref:
		if v, ok := vals[e.Name]; ok {
			return v
		}
	case *plan.Call:
		cp := *e
		cp.Args = make([]plan.Expr, len(e.Args))
		for i, a := range e.Args {
			cp.Args[i] = chSubstitute(a, vals)
		}
		return &cp
	}
	return x
}
