package sqlgen

import (
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
)

// maxTopN is the largest limit topNBound prunes for: past it the bound
// costs more than it saves.
const maxTopN = 1000

// topNBound prunes the IPv4 branch of an address-grouped stage that keeps
// the N largest groups (`stats sum(bytes) as b by srcaddr, dstaddr | sort
// b desc | limit 10`) to the groups that can be among them. Its order
// must be one aggregate, descending: count(*), count(x) or sum(c) of an
// integer field. With a = the first address key (a proper part of the
// group key), every group's value is at most its address's bound U(a):
// count(*), count(x), or the sum of max(c, 0) over the address's rows.
// Computing the exact value of the groups of the N addresses with the
// largest bounds gives N groups whose N-th largest value L is a lower
// bound of the answer's N-th value; any group of the answer then has
// value ≥ L, so its address has U(a) ≥ L (a group that ties with L at
// the cut-off too: ties are broken by the keys afterwards). A group whose
// values are all NULL sorts last (spec §5.5), so it is in the answer only
// when fewer than N groups have a value; all addresses are kept when
// fewer than N groups were found.
//
//	WITH "_tu" AS MATERIALIZED (SELECT _srcaddr_v4 AS "k", sum(greatest(bytes, 0)) AS "u"
//	                            FROM flows GROUP BY _srcaddr_v4),
//	"_tl" AS (SELECT min("b") AS "l", count(*) AS "c" FROM (SELECT sum(bytes) AS "b" FROM flows
//	          WHERE … AND _srcaddr_v4 IN (SELECT "k" FROM "_tu" ORDER BY "u" DESC LIMIT 10)
//	          GROUP BY … HAVING sum(bytes) IS NOT NULL ORDER BY "b" DESC LIMIT 10) AS "_tb")
//
// and the branch adds `_srcaddr_v4 IN (SELECT "k" FROM "_tu", "_tl" WHERE
// "_tl"."c" < 10 OR "_tu"."u" >= "_tl"."l")`. The sums are
// exact (integers), so the bound holds to the last unit. The bounds are
// taken over the rows of every branch (base: the scan and stage filters;
// more rows only raise a bound), which spares the scan the other address
// column; where and groupBy are the IPv4 branch's. cte is "" when the
// rule does not apply.
func (g *gen) topNBound(s *plan.Stage, addrs []int, base, where, groupBy []string, limit int64) (cte, in string) {
	if limit <= 0 || limit > maxTopN || len(addrs) == 0 || len(groupBy) < 2 || len(s.Order) != 1 || !s.Order[0].Desc {
		return "", ""
	}
	call, ok := s.Order[0].X.(*plan.Call)
	if !ok || !call.Agg || call.Win != nil {
		return "", ""
	}
	var bound string
	switch call.Fn {
	case "count_star":
		bound = "count(*)"
	case "count":
		bound = "count(" + g.expr(call.Args[0]) + ")"
	case "sum":
		c, ok := call.Args[0].(*plan.Column)
		if !ok || c.Field.Kind != flowlog.KindInt {
			return "", ""
		}
		x := g.column(c.Field)
		bound = "sum(greatest(" + x + ", 0))"
	default:
		return "", ""
	}
	id := g.d.Ident
	f, _ := addrKey(s.Keys[addrs[0]].X)
	key := ipv4Column(f)
	n := itoa(limit)
	agg := g.expr(call)
	cond := ""
	if len(base) > 0 {
		cond = " WHERE " + strings.Join(base, " AND ")
	}
	u := "SELECT " + key + " AS " + id("k") + ", " + bound + " AS " + id("u") + " FROM " + g.flows() + cond + " GROUP BY " + key
	top := key + " IN (SELECT " + id("k") + " FROM " + id("_tu") + " ORDER BY " + id("u") + " DESC LIMIT " + n + ")"
	l := "SELECT min(" + id("b") + ") AS " + id("l") + ", count(*) AS " + id("c") + " FROM (SELECT " + agg + " AS " + id("b") +
		" FROM " + g.flows() + " WHERE " + strings.Join(append(append([]string(nil), where...), top), " AND ") +
		" GROUP BY " + strings.Join(groupBy, ", ") + " HAVING " + agg + " IS NOT NULL ORDER BY " + id("b") + " DESC LIMIT " + n + ") AS " + id("_tb")
	keep := id("_tl") + "." + id("c") + " < " + n + " OR " + id("_tu") + "." + id("u") + " >= " + id("_tl") + "." + id("l")
	cte = "WITH " + id("_tu") + " AS MATERIALIZED (" + u + "), " + id("_tl") + " AS (" + l + ") "
	in = key + " IN (SELECT " + id("k") + " FROM " + id("_tu") + ", " + id("_tl") + " WHERE " + keep + ")"
	return cte, in
}
