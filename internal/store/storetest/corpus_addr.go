package storetest

import (
	"strings"
	"time"
)

// addrCases cover the DuckDB compiler's paths for stats grouped by
// addresses: the IPv4 branch and the branches of IPv6 and NULL
// addresses, and the top-N bound that prunes the IPv4 branch (SQL names
// its CTE "_tu"). Each mixes IPv4, IPv6 and NULL addresses.
func addrCases() []Case {
	ipv4Src := func(r record) bool {
		s, _ := r.v["srcaddr"].(string)
		return strings.Contains(s, ".")
	}
	return []Case{
		// One heavy source and many light ones: every light source's total
		// is below the heavy pairs', so the bound drops them.
		{Name: "addr_topn_pruned", Query: `filter srcAddr = "8.8.8.8" or bytes < 30000 | stats sum(bytes) as b, count(*) as n by srcAddr, dstAddr | sort b desc | limit 10`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					b, ok := num(r, "bytes")
					return r.v["srcaddr"] == "8.8.8.8" || ok && b < 30000
				})
				k, g := groupBy(rs, cols("srcaddr", "dstaddr"))
				return rowsOf(k, g, agg(sum, "bytes"), countOf)
			}, Order: []int{2}, Desc: []bool{true}, Limit: 10, SQL: `"_tu"`},
		// Few rows per source: most sources' bound is one pair's sum, so
		// the sources at the bound decide the answer.
		{Name: "addr_topn_sparse", Query: `filter bytes > 900000 and dstPort = 443 | stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 6`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					b, _ := num(r, "bytes")
					p, _ := num(r, "dstport")
					return b > 900000 && p == 443
				})
				k, g := groupBy(rs, cols("srcaddr", "dstaddr"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{2}, Desc: []bool{true}, Limit: 6, SQL: `"_tu"`},
		// Groups whose values are all NULL sort first: the sources of the
		// 10.x → NATAddr pairs seen only in the prod dataset (no
		// traffic_path) have no bound and must still be read.
		{Name: "addr_topn_null_sums", Query: `filter (srcAddr = "8.8.8.8" and ispresent(trafficPath)) or (dstAddr = "` + NATAddr + `" and srcAddr like "10.") | stats sum(trafficPath) as t by srcAddr, dstAddr | sort t desc | limit 8`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					if r.v["srcaddr"] == "8.8.8.8" && r.v["traffic_path"] != nil {
						return true
					}
					return r.v["dstaddr"] == NATAddr && strings.Contains(str(r, "srcaddr"), "10.")
				})
				k, g := groupBy(rs, cols("srcaddr", "dstaddr"))
				return rowsOf(k, g, agg(sum, "traffic_path"))
			}, Order: []int{2}, Desc: []bool{true}, Limit: 8, SQL: `"_tu"`},
		// The bound on the destination (the first address key), with IPv6
		// and NULL destinations in their own branches.
		{Name: "addr_topn_count_by_dst", Query: `stats count(*) as n by dstAddr, srcAddr | sort n desc | limit 7`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("dstaddr", "srcaddr"))
				return rowsOf(k, g, countOf)
			}, Order: []int{2}, Desc: []bool{true}, Limit: 7, SQL: `"_tu"`},
		// count(x) as the order, a port as the other key, one dataset and
		// a time range.
		{Name: "addr_topn_count_field_by_port", Datasets: []string{dsEdge}, Query: `stats count(trafficPath) as c, sum(bytes) as b by srcAddr, dstPort | sort c desc | limit 4`,
			Start: Base.Add(time.Hour), End: Base.Add(3*time.Hour - time.Second),
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { s := r.start(); return s >= Base.Unix()+3600 && s < Base.Unix()+3*3600 })
				k, g := groupBy(rs, cols("srcaddr", "dstport"))
				return rowsOf(k, g, agg(countNotNull, "traffic_path"), agg(sum, "bytes"))
			}, Order: []int{2}, Desc: []bool{true}, Limit: 4, SQL: `"_tu"`},
		// Every group of every branch: IPv4 pairs, IPv4 sources with IPv6
		// destinations, IPv6 sources, NULL addresses.
		{Name: "addr_pairs_all_branches", Query: `stats count(*) as n, count_distinct(dstPort) as p, sum(bytes) as b by srcAddr, dstAddr`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr", "dstaddr"))
				return rowsOf(k, g, countOf, agg(distinct, "dstport"), agg(sum, "bytes"))
			}, SQL: "UNION ALL"},
		// count_distinct by source over IPv4 sources only, then a filter on
		// the count (the shape of benchmark Q5), with a time range.
		{Name: "addr_port_fanout_ipv4", Query: `filter isIpv4InSubnet(srcAddr, "0.0.0.0/0") | stats count_distinct(dstPort) as p by srcAddr | filter p >= 8`,
			Start: Base.Add(30 * time.Minute), End: Base.Add(150*time.Minute - time.Second),
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					s := r.start()
					return ipv4Src(r) && s >= Base.Unix()+30*60 && s <= Base.Unix()+150*60-1
				})
				k, g := groupBy(rs, cols("srcaddr"))
				var out [][]any
				for _, row := range rowsOf(k, g, agg(distinct, "dstport")) {
					if row[1].(int64) >= 8 {
						out = append(out, row)
					}
				}
				return out
			}},
		// An OR filter next to another filter and the time range: the OR
		// keeps its parentheses in the WHERE clause.
		{Name: "or_filter_beside_and", Query: `filter srcPort < 20000 or dstPort = 22 | filter bytes > 500000 | stats count(*) as n by action`,
			Start: Base.Add(time.Hour), End: Base.Add(2*time.Hour - time.Second),
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					sp, _ := num(r, "srcport")
					dp, _ := num(r, "dstport")
					b, _ := num(r, "bytes")
					s := r.start()
					return (sp < 20000 || dp == 22) && b > 500000 && s >= Base.Unix()+3600 && s < Base.Unix()+7200
				})
				k, g := groupBy(rs, cols("action"))
				return rowsOf(k, g, countOf)
			}},
	}
}
