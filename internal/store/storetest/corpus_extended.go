package storetest

import (
	"math"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// extendedCases cover the newer commands: window commands, heuristics,
// lookups, joins, subqueries, fillmissing, parse csv; then addrCases.
func extendedCases() []Case {
	return append([]Case{
		{Name: "accum_running", Query: `filter action = "REJECT" | stats count(*) as n by bin(1h) as hour | sort hour | accum n as running`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, reject), hourKey)
				rows := rowsOf(k, g, countOf)
				sortRows(rows, []int{0}, []bool{false})
				var run int64
				for i := range rows {
					run += rows[i][1].(int64)
					rows[i] = append(rows[i], run)
				}
				return rows
			}, Order: []int{0}, Desc: []bool{false}},
		{Name: "autoregress_lags", Query: `stats count(*) as n by bin(1h) as hour | sort hour | autoregress n p=1-2`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, hourKey)
				rows := rowsOf(k, g, countOf)
				sortRows(rows, []int{0}, []bool{false})
				out := make([][]any, len(rows))
				for i := range rows {
					var l1, l2 any
					if i >= 1 {
						l1 = rows[i-1][1]
					}
					if i >= 2 {
						l2 = rows[i-2][1]
					}
					out[i] = []any{rows[i][0], rows[i][1], l1, l2}
				}
				return out
			}, Order: []int{0}, Desc: []bool{false}},
		{Name: "count_frequent", Query: `countFrequent dstPort`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("dstport"))
				return rowsOf(k, g, countOf)
			}, Order: []int{1}, Desc: []bool{true}},
		{Name: "sessionize_gaps", Datasets: []string{dsProd}, Query: `sessionize interfaceId maxspan 1m as s | stats max(s) as sessions by interfaceId`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, inDS(dsProd)), cols("interface_id"))
				var out [][]any
				for i, kk := range k {
					starts := make([]int64, len(g[i]))
					for j, r := range g[i] {
						starts[j] = r.start()
					}
					sortInts(starts)
					n := int64(1)
					for j := 1; j < len(starts); j++ {
						if starts[j]-starts[j-1] > 60 {
							n++
						}
					}
					out = append(out, []any{kk[0], n})
				}
				return out
			}},
		{Name: "pattern_heuristic", Datasets: []string{dsProd}, Query: `pattern @message`,
			Want: func(rs []record) [][]any {
				re := regexp.MustCompile(`[^ ]*[0-9][^ ]*`)
				rs = where(rs, inDS(dsProd))
				k, g := groupBy(rs, func(r record) []any { return []any{re.ReplaceAllString(r.message(), "<*>")} })
				var out [][]any
				for i, kk := range k {
					out = append(out, []any{kk[0], float64(len(g[i])) / float64(len(rs)), int64(len(g[i])), "UNKNOWN"})
				}
				return out
			}, Order: []int{2}, Desc: []bool{true}},
		{Name: "addtotals_rows", Query: `stats sum(bytes) as b, sum(packets) as p by interfaceId | addtotals`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("interface_id"))
				rows := rowsOf(k, g, agg(sum, "bytes"), agg(sum, "packets"))
				for i, r := range rows {
					var t int64
					for _, v := range r[1:] {
						if x, ok := v.(int64); ok {
							t += x
						}
					}
					rows[i] = append(r, t)
				}
				return rows
			}},
		{Name: "outlier_transform", Query: `stats sum(bytes) as b by interfaceId | outlier param=0 b`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("interface_id"))
				rows := rowsOf(k, g, agg(sum, "bytes"))
				var vals []float64
				for _, r := range rows {
					vals = append(vals, float64(r[1].(int64)))
				}
				hi := quantileCont(vals, 0.75)
				for _, r := range rows {
					r[1] = min(float64(r[1].(int64)), hi)
				}
				return rows
			}},
		{Name: "outlier_remove", Query: `stats count(*) as n by dstPort | outlier action=remove param=0.5 uselower=true n`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("dstport"))
				rows := rowsOf(k, g, countOf)
				var vals []float64
				for _, r := range rows {
					vals = append(vals, float64(r[1].(int64)))
				}
				q1, q3 := quantileCont(vals, 0.25), quantileCont(vals, 0.75)
				lo, hi := q1-0.5*(q3-q1), q3+0.5*(q3-q1)
				var out [][]any
				for _, r := range rows {
					if v := float64(r[1].(int64)); v >= lo && v <= hi {
						out = append(out, r)
					}
				}
				return out
			}},
		{Name: "subquery_in", Datasets: []string{dsProd}, Query: `filter srcAddr in (filter action = "REJECT" and dstPort = 22 | fields srcAddr) | stats count(*) as n by srcAddr`,
			Want: func(rs []record) [][]any {
				rs = where(rs, inDS(dsProd))
				bad := map[any]bool{}
				for _, r := range rs {
					if p, _ := num(r, "dstport"); reject(r) && p == 22 {
						bad[r.v["srcaddr"]] = true
					}
				}
				k, g := groupBy(where(rs, func(r record) bool { return bad[r.v["srcaddr"]] }), cols("srcaddr"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "subquery_source_not_in", Query: `filter interfaceId not in (SOURCE 'edge' | filter trafficPath = 8 and (interfaceId like "0ffee" or interfaceId like "9988") | fields interfaceId) | stats count(*) as n by interfaceId`,
			Want: func(rs []record) [][]any {
				in := map[any]bool{}
				for _, r := range where(rs, inDS(dsEdge)) {
					e := str(r, "interface_id")
					if tp, _ := num(r, "traffic_path"); tp == 8 && (strings.Contains(e, "0ffee") || strings.Contains(e, "9988")) {
						in[r.v["interface_id"]] = true
					}
				}
				k, g := groupBy(where(rs, func(r record) bool { return !in[r.v["interface_id"]] }), cols("interface_id"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "expand_split", Datasets: []string{dsProd}, Query: `fields split(concat(srcAddr, ",", dstAddr), ",") as addr | expand addr | stats sum(bytes) as b, count(*) as n by addr`,
			Want: func(rs []record) [][]any {
				type kv struct {
					b   any
					n   int64
					set bool
				}
				acc := map[string]*kv{}
				var order []string
				for _, r := range where(rs, inDS(dsProd)) {
					for _, a := range []string{str(r, "srcaddr"), str(r, "dstaddr")} {
						e, ok := acc[a]
						if !ok {
							e = &kv{}
							acc[a] = e
							order = append(order, a)
						}
						e.n++
						if b, ok := num(r, "bytes"); ok {
							if !e.set {
								e.b, e.set = int64(0), true
							}
							e.b = e.b.(int64) + b
						}
					}
				}
				var out [][]any
				for _, a := range order {
					out = append(out, []any{a, acc[a].b, acc[a].n})
				}
				return out
			}},
		{Name: "unnest_index", Datasets: []string{dsEdge}, Query: `fields split(interfaceId, "-") as parts, parts[0] as prefix | unnest parts into part | stats count(*) as n by prefix, part`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, inDS(dsEdge)), func(r record) []any { return []any{"eni"} })
				_ = k
				var out [][]any
				kk, gg := groupBy(g[0], cols("interface_id"))
				out = append(out, []any{"eni", "eni", countOf(g[0])})
				for i, e := range kk {
					out = append(out, []any{"eni", strings.TrimPrefix(e[0].(string), "eni-"), countOf(gg[i])})
				}
				return out
			}},
		{Name: "fillmissing_bins", Query: `filter srcAddr = "` + NeedleAddr + `" | stats count(*) as n, sum(bytes) as b by bin(10m) as t | fillmissing with 0 for n`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { return r.v["srcaddr"] == NeedleAddr })
				k, g := groupBy(rs, func(r record) []any { return []any{binStart(r, 600)} })
				have := map[int64][]any{}
				lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
				for i, kk := range k {
					ts := kk[0].(time.Time).Unix()
					lo, hi = min(lo, ts), max(hi, ts)
					have[ts] = []any{countOf(g[i]), sum(g[i], "bytes")}
				}
				var out [][]any
				for ts := lo; ts <= hi; ts += 600 {
					if v, ok := have[ts]; ok {
						out = append(out, []any{time.Unix(ts, 0).UTC(), v[0], v[1]})
					} else {
						out = append(out, []any{time.Unix(ts, 0).UTC(), int64(0), nil})
					}
				}
				return out
			}, Order: []int{0}, Desc: []bool{false}},
		{Name: "natural_sort_addresses", Query: `stats count(*) as n by srcAddr | sort srcAddr | limit 12`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr"))
				return rowsOf(k, g, countOf)
			}, Order: []int{0}, Desc: []bool{false}, Limit: 12},
		{Name: "natural_sort_desc", Query: `stats sum(bytes) as b by interfaceId, dstAddr | sort dstAddr desc, interfaceId | limit 15`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("interface_id", "dstaddr"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{1, 0}, Desc: []bool{true, false}, Limit: 15},
		{Name: "cidrlookup_longest_prefix", Query: `cidrlookup nets srcAddr as cidr OUTPUT owner | lookup ports port as dstPort OUTPUT service | stats count(*) as n by owner, service`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any {
					var owner, service any
					best := -1
					for _, row := range lookupNets {
						p := netip.MustParsePrefix(row[0])
						if inSubnet(r.v["srcaddr"], row[0]) && p.Bits() > best {
							best, owner = p.Bits(), row[1]
						}
					}
					if p, ok := num(r, "dstport"); ok {
						for _, row := range lookupPorts {
							if row[0] == itoa(p) {
								service = row[1]
								break
							}
						}
					}
					return []any{owner, service}
				})
				return rowsOf(k, g, countOf)
			}},
		{Name: "join_inner", Datasets: []string{dsProd}, Query: `join left=a right=b where a.srcAddr = b.addr (filter action = "REJECT" and dstPort = 22 | stats count(*) as hits by srcAddr as addr) | stats count(*) as n, max(b.hits) as h by a.srcAddr`,
			Want: func(rs []record) [][]any {
				rs = where(rs, inDS(dsProd))
				hits := map[any]int64{}
				for _, r := range rs {
					if p, _ := num(r, "dstport"); reject(r) && p == 22 {
						hits[r.v["srcaddr"]]++
					}
				}
				k, g := groupBy(where(rs, func(r record) bool { return hits[r.v["srcaddr"]] > 0 }), cols("srcaddr"))
				return rowsOf(k, g, countOf, func(g []record) any { return hits[g[0].v["srcaddr"]] })
			}},
		{Name: "pct_nearest_rank", Query: `stats pct(bytes, 90) as p90, pct(bytes, 50) as p50, pct(packets, 99) as p99 by action`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("action"))
				rank := func(col string, q float64) func([]record) any {
					return func(rs []record) any {
						var v []int64
						for _, r := range rs {
							if x, ok := num(r, col); ok {
								v = append(v, x)
							}
						}
						if len(v) == 0 {
							return nil
						}
						sortInts(v)
						return v[max(int(math.Ceil(q*float64(len(v))))-1, 0)]
					}
				}
				return rowsOf(k, g, rank("bytes", 0.9), rank("bytes", 0.5), rank("packets", 0.99))
			}},
		{Name: "diff_previous_range", Datasets: []string{dsProd}, Start: Base.Add(90 * time.Minute), End: Base.Add(3*time.Hour - time.Second),
			Query: `pattern @message | diff`,
			Want: func(rs []record) [][]any {
				return diffRows(where(rs, inDS(dsProd)), Base.Add(90*time.Minute).Unix(), Base.Add(3*time.Hour-time.Second).Unix(), 90*60)
			}, Order: []int{5}, Desc: []bool{true}},
		{Name: "logcompare_shift", Datasets: []string{dsEdge}, Start: Base.Add(2 * time.Hour), End: Base.Add(3*time.Hour - time.Second),
			Query: `logcompare timeshift 2h`,
			Want: func(rs []record) [][]any {
				return diffRows(where(rs, inDS(dsEdge)), Base.Add(2*time.Hour).Unix(), Base.Add(3*time.Hour-time.Second).Unix(), 2*3600)
			}, Order: []int{5}, Desc: []bool{true}},
		{Name: "appendcols_by_position", Query: `stats count(*) as n by bin(1h) as hour | sort hour | appendcols (filter action = "REJECT" | stats count(*) as rejects by bin(1h) as h | sort h desc)`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, hourKey)
				rows := rowsOf(k, g, countOf)
				sortRows(rows, []int{0}, []bool{false})
				k2, g2 := groupBy(where(rs, reject), hourKey)
				rej := rowsOf(k2, g2, countOf)
				sortRows(rej, []int{0}, []bool{true})
				for i := range rows {
					if i < len(rej) {
						rows[i] = append(rows[i], rej[i]...)
					} else {
						rows[i] = append(rows[i], nil, nil)
					}
				}
				return rows
			}, Order: []int{0}, Desc: []bool{false}},
		{Name: "anomaly_after_diff", Datasets: []string{dsProd}, Start: Base.Add(150 * time.Minute), End: Base.Add(3*time.Hour - time.Second),
			Query: `pattern @message | diff | anomaly`,
			Want: func(rs []record) [][]any {
				rows := diffRows(where(rs, inDS(dsProd)), Base.Add(150*time.Minute).Unix(), Base.Add(3*time.Hour-time.Second).Unix(), 30*60)
				for i, r := range rows {
					now, before := r[2].(int64), r[4].(int64)
					var kind any
					switch {
					case before == 0:
						kind = "new pattern"
					case now > 3*before || 3*now < before:
						kind = "pattern frequency"
					}
					rows[i] = append(r, kind, kind != nil)
				}
				return rows
			}, Order: []int{5}, Desc: []bool{true}},
		{Name: "relevantfields_medians", Datasets: []string{dsProd}, Query: `filter action = "REJECT" | relevantfields`,
			Want: func(rs []record) [][]any {
				rs = where(rs, inDS(dsProd))
				median := func(rs []record, col string) any {
					var v []float64
					for _, r := range rs {
						if x, ok := num(r, col); ok {
							v = append(v, float64(x))
						}
					}
					if len(v) == 0 {
						return nil
					}
					return quantileCont(v, 0.5)
				}
				var out [][]any
				for _, f := range []string{"bytes", "dstport", "packets", "protocol", "srcport"} {
					cm, bm := median(where(rs, reject), f), median(rs, f)
					score := math.Abs(cm.(float64)-bm.(float64)) / (math.Abs(bm.(float64)) + 1)
					out = append(out, []any{f, score, nil, cm, bm})
				}
				return out
			}, Order: []int{1}, Desc: []bool{true}},
		{Name: "rate_per_second", Query: `stats rate(bytes, 1s) as bps by bin(5m) as t`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any { return []any{binStart(r, 300)} })
				return rowsOf(k, g, func(g []record) any {
					s, ok := sum(g, "bytes").(int64)
					if !ok {
						return nil
					}
					return float64(s) / 300
				})
			}},
		{Name: "parse_csv", Datasets: []string{dsEdge}, Query: `fields concat(srcAddr, ", ", dstAddr, ",", dstPort) as row | parse row csv as a, b, c, d | filter srcAddr = "` + NeedleAddr + `" | display a, b, c, d`,
			Want: func(rs []record) [][]any {
				var out [][]any
				for _, r := range where(rs, func(r record) bool { return r.dataset == dsEdge && r.v["srcaddr"] == NeedleAddr }) {
					p, _ := num(r, "dstport")
					out = append(out, []any{NeedleAddr, str(r, "dstaddr"), itoa(p), nil})
				}
				return out
			}},
	}, addrCases()...)
}
