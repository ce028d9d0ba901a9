package sqlgen

import (
	"strings"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

// chFillStage renders fillmissing on ClickHouse without a WITH query
// inside FROM (the 20.x series) and without range(start, end, step) (18.16
// has range(n) only): the previous stage's rows, sorted by their bin, are
// gathered into one array of tuples (the bin first, not Nullable), spread
// again by ARRAY JOIN beside the previous row's bin, and each row brings
// the empty bins before it (arrayJoin over the bins from the previous
// one's to its own). A column of an empty bin is NULL (an empty list for
// a list: an array cannot be NULL), a filled column's NULL its value.
func (g *gen) chFillStage(s *plan.Stage, inner string) string {
	key := g.d.Ident(s.Fill.Key)
	step := itoa(s.Fill.StepMs)
	elems := []string{"assumeNotNull(" + key + ")"}
	at := map[string]string{}
	for _, c := range s.Cols {
		ref, ok := c.X.(*plan.Ref)
		if !ok {
			g.fail("fill column %s", c.X)
		}
		if _, ok := at[ref.Name]; !ok && ref.Name != s.Fill.Key {
			elems = append(elems, g.d.Ident(ref.Name))
			at[ref.Name] = "tupleElement(_r, " + itoa(int64(len(elems))) + ")"
		}
	}
	var cols []string
	for _, c := range s.Cols {
		ref := c.X.(*plan.Ref)
		var e string
		switch v, filled := s.Fill.Values[ref.Name]; {
		case ref.Name == s.Fill.Key:
			e = "_t"
		case c.X.Type() == plan.TypeList:
			e = "if(_t = tupleElement(_r, 1), " + at[ref.Name] + ", arrayFilter(_e -> 0, " + at[ref.Name] + "))"
		case filled:
			// as DuckDB's coalesce: a NULL of a row's own is filled too
			e = "coalesce(if(_t = tupleElement(_r, 1), " + at[ref.Name] + ", NULL), " + g.expr(v) + ")"
		default:
			e = "if(_t = tupleElement(_r, 1), " + at[ref.Name] + ", NULL)"
		}
		cols = append(cols, e+" AS "+g.d.Ident(c.Name))
	}
	rows := "SELECT arraySort(_x -> tupleElement(_x, 1), groupArray(tuple(" + strings.Join(elems, ", ") + "))) AS _g FROM (" + inner + ") AS " + g.d.Ident("_f") + " WHERE " + key + " IS NOT NULL"
	// the previous row's bin (the first row's: one step before its own)
	prev := "arrayPopBack(arrayPushFront(arrayMap(_x -> tupleElement(_x, 1), _g), tupleElement(_g[1], 1) - " + step + "))"
	bins := "arrayJoin(arrayMap(_i -> toInt64(_p + (_i + 1) * " + step + "), range(toUInt64(intDiv(tupleElement(_r, 1) - _p, " + step + ")))))"
	return "SELECT " + strings.Join(cols, ", ") + " FROM (SELECT _r, " + bins + " AS _t FROM (" + rows + ") ARRAY JOIN _g AS _r, " + prev + " AS _p) ORDER BY _t"
}
