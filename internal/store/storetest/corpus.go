package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/insights/sqlgen"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
)

// Backend is what the corpus needs of a store.
type Backend interface {
	store.Writer
	store.Querier
	store.Cataloger
}

// Case is one scripted query with its answer computed in Go.
type Case struct {
	Name     string
	Query    string
	Datasets []string
	// Start and End restrict the time range (zero: open).
	Start, End time.Time
	// Want returns every row of the answer before any limit, columns in
	// output order.
	Want func(rs []record) [][]any
	// Order names the columns the answer must be sorted by (Desc per key);
	// Limit is the query's limit (0: none).
	Order []int
	Desc  []bool
	Limit int
	// Ties, when set, are the columns (the group keys) that break ties of
	// Order, ascending: the answer must then be exactly these rows in
	// this order (spec §5.5: ties are broken deterministically).
	Ties []int
	// SQL, when set, is text the generated SQL must contain (to check
	// that the compiler took the path the case is about).
	SQL string
}

var (
	accept = func(r record) bool { return r.v["action"] == "ACCEPT" }
	reject = func(r record) bool { return r.v["action"] == "REJECT" }
)

func rowsOf(keys [][]any, groups [][]record, aggs ...func([]record) any) [][]any {
	out := make([][]any, len(keys))
	for i, k := range keys {
		row := append([]any(nil), k...)
		for _, a := range aggs {
			row = append(row, a(groups[i]))
		}
		out[i] = row
	}
	return out
}

func agg(f func([]record, string) any, col string) func([]record) any {
	return func(rs []record) any { return f(rs, col) }
}

func hourKey(r record) []any { return []any{binStart(r, 3600)} }

// Cases returns the corpus: every sample query of the spec's VPC flow log
// section, the benchmark questions Q1–Q7, and behavioural details.
func Cases() []Case {
	return append(append(append(append(coreCases(), extendedCases()...), jsonCases()...), systemCases()...), parseCases()...)
}

func coreCases() []Case {
	return []Case{
		{Name: "sample01_top_pairs", Query: "stats sum(packets) as pkts by srcAddr, dstAddr\n| sort pkts desc\n| limit 15",
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr", "dstaddr"))
				return rowsOf(k, g, agg(sum, "packets"))
			}, Order: []int{2}, Desc: []bool{true}, Limit: 15},
		{Name: "sample02_subnet_destinations", Query: `filter isIpv4InSubnet(srcAddr, "10.1.0.0/16") | stats sum(bytes) as totalBytes by dstAddr | sort totalBytes desc | limit 15`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { return inSubnet(r.v["srcaddr"], "10.1.0.0/16") })
				k, g := groupBy(rs, cols("dstaddr"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{1}, Desc: []bool{true}, Limit: 15},
		{Name: "sample03_udp_sources", Query: `filter protocol = 17 | stats count(*) by srcAddr`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { p, _ := num(r, "protocol"); return p == 17 })
				k, g := groupBy(rs, cols("srcaddr"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "sample04_skipdata_hourly", Query: `filter logStatus = "SKIPDATA" | stats count(*) as skipped by bin(1h) as hour | sort hour`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { return r.v["log_status"] == "SKIPDATA" })
				k, g := groupBy(rs, hourKey)
				return rowsOf(k, g, countOf)
			}, Order: []int{0}, Desc: []bool{false}},
		{Name: "sample05_dedup", Query: `filter interfaceId = "` + DedupENI + `" | fields @timestamp, srcAddr, dstAddr, srcPort, dstPort, protocol | dedup srcAddr, dstAddr, srcPort, dstPort, protocol`,
			Datasets: []string{dsProd},
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { return r.dataset == dsProd && r.v["interface_id"] == DedupENI })
				var out [][]any
				key := cols("srcaddr", "dstaddr", "srcport", "dstport", "protocol")
				k, g := groupBy(rs, key)
				for i, kk := range k {
					hasNull := false
					for _, x := range kk {
						hasNull = hasNull || x == nil
					}
					if hasNull { // rows with a NULL key are never duplicates
						for _, r := range g[i] {
							out = append(out, append([]any{time.Unix(r.start(), 0).UTC()}, key(r)...))
						}
						continue
					}
					newest := g[i][0]
					for _, r := range g[i] {
						if r.start() > newest.start() {
							newest = r
						}
					}
					out = append(out, append([]any{time.Unix(newest.start(), 0).UTC()}, kk...))
				}
				return out
			}, Order: []int{0}, Desc: []bool{true}},
		{Name: "sample06_avg_bytes", Query: `stats avg(bytes) by dstAddr`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("dstaddr"))
				return rowsOf(k, g, agg(avg, "bytes"))
			}},
		{Name: "sample07_avg_max_bytes", Query: `stats avg(bytes), max(bytes) by dstAddr`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("dstaddr"))
				return rowsOf(k, g, agg(avg, "bytes"), agg(maxOf, "bytes"))
			}},
		{Name: "sample08_parse_eni", Query: "parse @message /(?<eni>eni-[0-9a-f]+) /\n| display eni, @message",
			Want: func(rs []record) [][]any {
				re := regexp.MustCompile(`(eni-[0-9a-f]+) `)
				var out [][]any
				for _, r := range rs {
					m := r.message()
					var eni any
					if s := re.FindStringSubmatch(m); s != nil {
						eni = s[1]
					}
					out = append(out, []any{eni, m})
				}
				return out
			}},
		{Name: "sample09_rejects_hourly", Query: `filter action = "REJECT" | stats count(*) as rejects by bin(1h) as hour | sort hour`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, reject), hourKey)
				return rowsOf(k, g, countOf)
			}, Order: []int{0}, Desc: []bool{false}},
		{Name: "sample10_top_rejected", Query: `filter action = "REJECT" | stats count(*) as rejections by srcAddr | sort rejections desc | limit 20`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, reject), cols("srcaddr"))
				return rowsOf(k, g, countOf)
			}, Order: []int{1}, Desc: []bool{true}, Limit: 20, Ties: []int{0}},
		{Name: "sample11_nat_talkers", Query: `filter dstAddr like "` + NATAddr + `" and isIpv4InSubnet(srcAddr, "10.0.0.0/16") | stats sum(bytes) as viaNat by srcAddr, dstAddr | sort viaNat desc | limit 10`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					return strings.Contains(str(r, "dstaddr"), NATAddr) && inSubnet(r.v["srcaddr"], "10.0.0.0/16")
				})
				k, g := groupBy(rs, cols("srcaddr", "dstaddr"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{2}, Desc: []bool{true}, Limit: 10, Ties: []int{0, 1}},
		{Name: "sample12_ssh_rdp", Query: `filter dstPort in [22, 3389] and action = "ACCEPT" | stats count(*) as flows, sum(bytes) as adminBytes by srcAddr, dstAddr, dstPort | sort adminBytes desc`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					p, _ := num(r, "dstport")
					return (p == 22 || p == 3389) && accept(r)
				})
				k, g := groupBy(rs, cols("srcaddr", "dstaddr", "dstport"))
				return rowsOf(k, g, countOf, agg(sum, "bytes"))
			}, Order: []int{4}, Desc: []bool{true}},
		{Name: "sample13_mib_5m", Query: `stats sum(bytes)/1024/1024 as MiB by bin(5m)`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any { return []any{binStart(r, 300)} })
				return rowsOf(k, g, func(g []record) any {
					s := sum(g, "bytes")
					if s == nil {
						return nil
					}
					return float64(s.(int64)) / 1024 / 1024
				})
			}},
		{Name: "sample14_active_interfaces", Query: `stats sum(bytes) as total by interfaceId | sort total desc | limit 10`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("interface_id"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{1}, Desc: []bool{true}, Limit: 10},
		{Name: "sample15_two_stage", Query: `stats sum(bytes) as b by bin(5m) | stats max(b) as peak, avg(b) as mean`,
			Want: func(rs []record) [][]any {
				_, g := groupBy(rs, func(r record) []any { return []any{binStart(r, 300)} })
				var peak, total float64
				n := 0
				for _, gr := range g {
					if s, ok := sum(gr, "bytes").(int64); ok {
						peak = max(peak, float64(s))
						total += float64(s)
						n++
					}
				}
				return [][]any{{peak, total / float64(n)}}
			}},
		{Name: "sample16_v5_fields", Query: "filter `flow-direction` = \"egress\" and `traffic-path` = 8 | stats sum(bytes) by `pkt-dst-aws-service`",
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					tp, _ := num(r, "traffic_path")
					return r.v["flow_direction"] == "egress" && tp == 8
				})
				k, g := groupBy(rs, cols("pkt_dst_aws_service"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}},
		{Name: "q1_top_talkers", Query: `stats sum(bytes) as b by srcaddr, dstaddr | sort b desc | limit 10`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr", "dstaddr"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{2}, Desc: []bool{true}, Limit: 10, Ties: []int{0, 1}},
		// the NODATA records have no addresses and no bytes: their group
		// sorts last in both directions (spec §5.5)
		{Name: "nulls_last_ascending", Query: `stats sum(bytes) as b by srcaddr, logStatus | sort b asc | limit 40`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr", "log_status"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{2}, Desc: []bool{false}, Limit: 40, Ties: []int{0, 1}},
		{Name: "nulls_last_descending_all_rows", Query: `stats count(*) as n, sum(bytes) as b by srcaddr | sort b desc`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr"))
				return rowsOf(k, g, countOf, agg(sum, "bytes"))
			}, Order: []int{2}, Desc: []bool{true}, Ties: []int{0}},
		// a null group never leads a descending sort: through the top-N
		// rule (a limit after sort), the 5-minute rollup (DuckDB) and the
		// address-group rule; with a limit that cuts, a NODATA group first
		// pushes a real row out and the rows differ
		{Name: "nulls_last_desc_topn", Query: `stats sum(bytes) as b by srcaddr, dstaddr, logStatus | sort b desc | limit 7`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr", "dstaddr", "log_status"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{3}, Desc: []bool{true}, Limit: 7, Ties: []int{0, 1, 2}},
		{Name: "nulls_last_desc_rollup", Query: `stats sum(bytes) as b by bin(1h) as t, action | sort b desc | limit 5`,
			SQL: "FROM flows_5m",
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any { return []any{binStart(r, 3600), r.v["action"]} })
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{2}, Desc: []bool{true}, Limit: 5, Ties: []int{0, 1}},
		{Name: "nulls_last_desc_addr_group", Query: `stats sum(bytes) as b by srcAddr | sort b desc | limit 5`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{1}, Desc: []bool{true}, Limit: 5, Ties: []int{0}},
		{Name: "q3_traffic_over_time", Query: `stats sum(bytes) as b by bin(5m)`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any { return []any{binStart(r, 300)} })
				return rowsOf(k, g, agg(sum, "bytes"))
			}},
		{Name: "q4_ssh_knocking", Query: `filter action = "REJECT" and dstport = 22 | stats count(*) as n by srcaddr | sort n desc | limit 20`,
			SQL: "FROM flows_rejects",
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { p, _ := num(r, "dstport"); return reject(r) && p == 22 })
				k, g := groupBy(rs, cols("srcaddr"))
				return rowsOf(k, g, countOf)
			}, Order: []int{1}, Desc: []bool{true}, Limit: 20, Ties: []int{0}},
		{Name: "q5_port_fanout", Query: `stats count_distinct(dstport) as p by srcaddr | filter p > 6`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr"))
				var out [][]any
				for _, row := range rowsOf(k, g, agg(distinct, "dstport")) {
					if row[1].(int64) > 6 {
						out = append(out, row)
					}
				}
				return out
			}},
		{Name: "q6_vpc_destinations", Query: `filter isIpv4InSubnet(srcaddr, "10.1.0.0/16") | stats sum(bytes) as b by dstaddr | sort b desc | limit 10`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { return inSubnet(r.v["srcaddr"], "10.1.0.0/16") })
				k, g := groupBy(rs, cols("dstaddr"))
				return rowsOf(k, g, agg(sum, "bytes"))
			}, Order: []int{1}, Desc: []bool{true}, Limit: 10},
		{Name: "q7_one_host", Query: `filter srcaddr = "` + NeedleAddr + `" | fields @timestamp, srcaddr, dstaddr, srcport, dstport, bytes`,
			Want: func(rs []record) [][]any {
				var out [][]any
				for _, r := range where(rs, func(r record) bool { return r.v["srcaddr"] == NeedleAddr }) {
					out = append(out, []any{time.Unix(r.start(), 0).UTC(), r.v["srcaddr"], r.v["dstaddr"], r.v["srcport"], r.v["dstport"], r.v["bytes"]})
				}
				return out
			}, Order: []int{0}, Desc: []bool{true}},
		{Name: "parse_mapped_edge", Datasets: []string{dsEdge},
			Query: `parse @message "* * * * * * * * * * * * * * * *" as v, eni, src, dst, sp, dp, proto, pk, byt, st, en, act, status, dir, path, svc | filter dp = "443" and dir = "ingress" | stats count(*) as n, sum(byt) as b by svc`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					p, _ := num(r, "dstport")
					return r.dataset == dsEdge && p == 443 && r.v["flow_direction"] == "ingress"
				})
				// parse yields the written text: "-" for an absent service
				k, g := groupBy(rs, func(r record) []any { return []any{written(r, 15)} })
				return rowsOf(k, g, countOf, agg(sum, "bytes"))
			}},
		{Name: "parse_glob_regex", Datasets: []string{dsProd},
			Query: `parse @message "* eni-* * * *" as pre, eni, src, dst, rest | filter ispresent(eni) | stats count(*) as n by eni`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, inDS(dsProd)), func(r record) []any { return []any{strings.TrimPrefix(str(r, "interface_id"), "eni-")} })
				return rowsOf(k, g, countOf)
			}},
		{Name: "time_range", Start: Base.Add(time.Hour), End: Base.Add(2*time.Hour - time.Second),
			Query: `stats count(*) as n, min(start) as first, max(start) as last`,
			Want: func(rs []record) [][]any {
				lo, hi := Base.Add(time.Hour).Unix(), Base.Add(2*time.Hour-time.Second).Unix()
				rs = where(rs, func(r record) bool { return r.start() >= lo && r.start() <= hi })
				return [][]any{{countOf(rs), minOf(rs, "start"), maxOf(rs, "start")}}
			}},
		// The 5-minute rollup (flows_5m) answers stats of counts and sums
		// by bin, action and log status; a range off the 5-minute bounds
		// must read the records.
		{Name: "rollup_bins_action_status", Query: `stats count(*) as n, sum(bytes) as b, sum(packets) as p by bin(10m) as t, action, logStatus`,
			SQL: "FROM flows_5m",
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any { return []any{binStart(r, 600), r.v["action"], r.v["log_status"]} })
				return rowsOf(k, g, countOf, agg(sum, "bytes"), agg(sum, "packets"))
			}},
		{Name: "rollup_aligned_range", Datasets: []string{dsEdge}, Start: Base.Add(time.Hour), End: Base.Add(2*time.Hour - time.Second),
			Query: `filter action = "REJECT" or logStatus = "NODATA" | stats count() as n, sum(bytes) as b by bin(15m) as t | sort t`,
			SQL:   "FROM flows_5m",
			Want: func(rs []record) [][]any {
				lo, hi := Base.Add(time.Hour).Unix(), Base.Add(2*time.Hour-time.Second).Unix()
				rs = where(rs, func(r record) bool {
					return r.start() >= lo && r.start() <= hi && (reject(r) || r.v["log_status"] == "NODATA")
				})
				k, g := groupBy(rs, func(r record) []any { return []any{binStart(r, 900)} })
				return rowsOf(k, g, countOf, agg(sum, "bytes"))
			}, Order: []int{0}, Desc: []bool{false}},
		// The rejects rollup (flows_rejects) answers counts and sums of the
		// REJECT records by source and port over whole hours; anything
		// else (another field, a range off the hours) reads the records.
		{Name: "rejects_rollup_by_source_and_port", Query: `filter action = "REJECT" | stats count(*) as n, sum(bytes) as b, sum(packets) as p, count_distinct(dstport) as ports by srcAddr, dstPort`,
			SQL: "FROM flows_rejects",
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, reject), cols("srcaddr", "dstport"))
				return rowsOf(k, g, countOf, agg(sum, "bytes"), agg(sum, "packets"), agg(distinct, "dstport"))
			}},
		{Name: "rejects_rollup_total_aligned_range", Datasets: []string{dsEdge}, Start: Base.Add(time.Hour), End: Base.Add(3*time.Hour - time.Second),
			Query: `filter action = "REJECT" and dstport != 443 | stats count(*) as n, count_distinct(srcaddr) as sources`,
			SQL:   "FROM flows_rejects",
			Want: func(rs []record) [][]any {
				lo, hi := Base.Add(time.Hour).Unix(), Base.Add(3*time.Hour-time.Second).Unix()
				rs = where(rs, func(r record) bool {
					p, ok := num(r, "dstport")
					return inDS(dsEdge)(r) && r.start() >= lo && r.start() <= hi && reject(r) && ok && p != 443
				})
				return [][]any{{countOf(rs), distinct(rs, "srcaddr")}}
			}},
		{Name: "rejects_rollup_empty", Start: Base.Add(-48 * time.Hour), End: Base.Add(-47*time.Hour - time.Second),
			Query: `filter action = "REJECT" | stats count(*) as n, sum(bytes) as b`,
			SQL:   "FROM flows_rejects",
			Want:  func(rs []record) [][]any { return [][]any{{int64(0), nil}} }},
		// A filter false on the value a store keeps for a missing field
		// (0, '') drops every record lacking it; one true there keeps
		// them for the query's own filter to drop (the ClickHouse store
		// gives the column without its NULL only in the first case).
		{Name: "scan_filter_false_on_missing", Query: `filter action = "REJECT" and dstport in [22, 80, 443] | stats count(*) as n by srcaddr`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, func(r record) bool {
					p, ok := num(r, "dstport")
					return reject(r) && ok && (p == 22 || p == 80 || p == 443)
				}), cols("srcaddr"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "scan_filter_true_on_missing", Query: `filter dstport < 1024 and not (action = "ACCEPT") | stats count(*) as n by srcaddr`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, func(r record) bool {
					p, ok := num(r, "dstport")
					a, present := r.v["action"].(string)
					return ok && p < 1024 && present && a != "ACCEPT"
				}), cols("srcaddr"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "scan_filter_false_on_missing_empty", Query: `filter action = "NOSUCH" | stats count(*) as n, sum(bytes) as b`,
			Want: func(rs []record) [][]any { return [][]any{{int64(0), nil}} }},
		{Name: "scan_filter_false_on_missing_aggregated_empty", Query: `filter dstport = 65000 | stats sum(dstport) as s, max(dstport) as m, count(*) as n`,
			Want: func(rs []record) [][]any { return [][]any{{nil, nil, int64(0)}} }},
		{Name: "rejects_rollup_misaligned_range", Start: Base.Add(61 * time.Minute), End: Base.Add(3*time.Hour - time.Second),
			Query: `filter action = "REJECT" | stats count(*) as n by dstport`,
			SQL:   " flows WHERE", // the records (the flows view or a narrow FROM item named flows), not a rollup
			Want: func(rs []record) [][]any {
				lo, hi := Base.Add(61*time.Minute).Unix(), Base.Add(3*time.Hour-time.Second).Unix()
				rs = where(rs, func(r record) bool { return r.start() >= lo && r.start() <= hi && reject(r) })
				k, g := groupBy(rs, cols("dstport"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "rollup_misaligned_range", Start: Base.Add(67*time.Minute + 13*time.Second), End: Base.Add(2*time.Hour + 61*time.Second),
			Query: `stats count(*) as n, sum(bytes) as b by bin(5m) as t`,
			SQL:   " flows WHERE", // the records (the flows view or a narrow FROM item named flows), not a rollup
			Want: func(rs []record) [][]any {
				lo, hi := Base.Add(67*time.Minute+13*time.Second).Unix(), Base.Add(2*time.Hour+61*time.Second).Unix()
				rs = where(rs, func(r record) bool { return r.start() >= lo && r.start() <= hi })
				k, g := groupBy(rs, func(r record) []any { return []any{binStart(r, 300)} })
				return rowsOf(k, g, countOf, agg(sum, "bytes"))
			}},
		// Grouping by addresses runs on the integer IPv4 columns; IPv6 and
		// NULL addresses keep their own groups and text.
		{Name: "addr_groups_v4_v6_null", Query: "stats count(*) as n, sum(bytes) as b by srcAddr, dstaddr, action",
			SQL: "GROUP BY _srcaddr_v4",
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("srcaddr", "dstaddr", "action"))
				return rowsOf(k, g, countOf, agg(sum, "bytes"))
			}},
		{Name: "addr_groups_top_with_ties", Query: `stats count(*) as n by dstaddr | sort n desc | limit 3`,
			SQL: "GROUP BY _dstaddr_v4",
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("dstaddr"))
				return rowsOf(k, g, countOf)
			}, Order: []int{1}, Desc: []bool{true}, Limit: 3},
		{Name: "dataset_selection", Datasets: []string{dsEdge}, Query: `stats count(*) as n by action`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, inDS(dsEdge)), cols("action"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "source_command", Query: `SOURCE 'edge' | stats count(*) as n`,
			Want: func(rs []record) [][]any { return [][]any{{countOf(where(rs, inDS(dsEdge)))}} }},
		{Name: "match_forms", Query: `filter action like /^REJ/ or interfaceId like "0ffee" or interfaceId =~ /(?i)ABCDEF/ | stats count(*) as n by action, interfaceId`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					e := str(r, "interface_id")
					return strings.HasPrefix(str(r, "action"), "REJ") || strings.Contains(e, "0ffee") || strings.Contains(strings.ToLower(e), "abcdef")
				})
				k, g := groupBy(rs, cols("action", "interface_id"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "numeric_text_and_not_in", Query: `filter dstPort = "443" or (dstPort not in [443, 80, 53, 123, 5432, 8080] and protocol != 1) | stats count(*) as n by dstPort`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					p, ok := num(r, "dstport")
					proto, okp := num(r, "protocol")
					if !ok {
						return false
					}
					if p == 443 {
						return true
					}
					switch p {
					case 80, 53, 123, 5432, 8080:
						return false
					}
					return okp && proto != 1
				})
				k, g := groupBy(rs, cols("dstport"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "ipv6_subnets", Query: `filter isIpv6InSubnet(srcAddr, "2001:db8::/32") or isIpInSubnet(dstAddr, "fe80::/10") | stats count(*) as n by srcAddr, dstAddr`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool {
					return inSubnet(r.v["srcaddr"], "2001:db8::/32") || inSubnet(r.v["dstaddr"], "fe80::/10")
				})
				k, g := groupBy(rs, cols("srcaddr", "dstaddr"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "ipv6_subnet_odd_prefix", Query: `filter isIpv6InSubnet(srcAddr, "2001:db8:0:0::/63") | stats count(*) as n by srcAddr`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, func(r record) bool { return inSubnet(r.v["srcaddr"], "2001:db8::/63") }), cols("srcaddr"))
				return rowsOf(k, g, countOf)
			}},
		{Name: "private_addresses", Query: `filter ispresent(dstAddr) | stats count(*) as n by isPrivateIP(dstAddr) as private`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(where(rs, func(r record) bool { return r.v["dstaddr"] != nil }), func(r record) []any {
					d := r.v["dstaddr"]
					p := inSubnet(d, "10.0.0.0/8") || inSubnet(d, "172.16.0.0/12") || inSubnet(d, "192.168.0.0/16") || inSubnet(d, "fc00::/7")
					if p {
						return []any{int64(1)}
					}
					return []any{int64(0)}
				})
				return rowsOf(k, g, countOf)
			}},
		{Name: "count_field_vs_star", Query: `stats count(*) as c, count(srcPort) as cs, count_distinct(interfaceId) as e, min(bytes) as lo, max(bytes) as hi by logStatus`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("log_status"))
				return rowsOf(k, g, countOf, agg(countNotNull, "srcport"), agg(distinct, "interface_id"), agg(minOf, "bytes"), agg(maxOf, "bytes"))
			}},
		{Name: "fields_arithmetic", Datasets: []string{dsProd}, Query: `filter srcAddr = "` + NeedleAddr + `" | fields bytes / packets as per, concat(srcAddr, ":", srcPort) as src, strlen(interfaceId) as l | sort per desc`,
			Want: func(rs []record) [][]any {
				var out [][]any
				for _, r := range where(rs, func(r record) bool { return r.dataset == dsProd && r.v["srcaddr"] == NeedleAddr }) {
					b, _ := num(r, "bytes")
					p, _ := num(r, "packets")
					sp, _ := num(r, "srcport")
					out = append(out, []any{float64(b) / float64(p), NeedleAddr + ":" + itoa(sp), int64(len(str(r, "interface_id")))})
				}
				return out
			}, Order: []int{0}, Desc: []bool{true}},
		{Name: "post_stats_filter_sort", Query: `stats sum(bytes) as b, count(*) as n by interfaceId | fields b / n as mean, interfaceId | filter mean > 0 | sort mean desc | limit 3`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, cols("interface_id"))
				var out [][]any
				for i, kk := range k {
					s, ok := sum(g[i], "bytes").(int64)
					if !ok {
						continue
					}
					out = append(out, []any{float64(s) / float64(len(g[i])), kk[0]})
				}
				return out
			}, Order: []int{0}, Desc: []bool{true}, Limit: 3},
	}
}

// diffRows computes diff's answer: patterns of [s, e] against [s-shift, e-shift].
func diffRows(rs []record, s, e, shift int64) [][]any {
	re := regexp.MustCompile(`[^ ]*[0-9][^ ]*`)
	type counts struct{ now, before int64 }
	byPat := map[string]*counts{}
	var order []string
	var total int64
	for _, r := range rs {
		st := r.start()
		inNow, inBefore := st >= s && st <= e, st >= s-shift && st <= e-shift
		if !inNow && !inBefore {
			continue
		}
		p := re.ReplaceAllString(r.message(), "<*>")
		c, ok := byPat[p]
		if !ok {
			c = &counts{}
			byPat[p] = c
			order = append(order, p)
		}
		if inNow {
			c.now++
			total++
		} else {
			c.before++
		}
	}
	var out [][]any
	for _, p := range order {
		c := byPat[p]
		d := c.now - c.before
		desc := "unchanged"
		switch {
		case c.before == 0:
			desc = "new"
		case c.now == 0:
			desc = "gone"
		case d > 0:
			desc = "increased"
		case d < 0:
			desc = "decreased"
		}
		var ratio any
		if total > 0 {
			ratio = float64(c.now) / float64(total)
		}
		out = append(out, []any{p, ratio, c.now, "UNKNOWN", c.before, d, desc})
	}
	return out
}

// Lookup tables of the corpus, written as NAME.csv into the engine's lookup folder.
var (
	lookupNets  = [][]string{{"10.0.0.0/8", "corp"}, {"10.1.0.0/16", "vpc-b"}, {"10.1.2.0/24", "db"}, {"10.0.1.0/24", "web"}, {"203.0.113.0/24", "scanner"}}
	lookupPorts = [][]string{{"443", "https"}, {"22", "ssh"}, {"53", "dns"}, {"22", "ignored: the first row of a key wins"}}
)

func writeLookups(t *testing.T) string {
	dir := t.TempDir()
	write := func(name, header string, rows [][]string) {
		var b strings.Builder
		b.WriteString(header + "\n")
		for _, r := range rows {
			b.WriteString(strings.Join(r, ",") + "\n")
		}
		if err := os.WriteFile(filepath.Join(dir, name+".csv"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("nets", "cidr,owner", lookupNets)
	write("ports", "port,service", lookupPorts)
	return dir
}

func itoa(v int64) string { return normal(v) }

// RunCorpus loads the corpus into b and checks every case (DuckDB SQL).
func RunCorpus(t *testing.T, b Backend) {
	t.Helper()
	RunCorpusDialect(t, b, sqlgen.DuckDB{}, nil)
}

// RunCorpusDialect is RunCorpus for a backend that speaks dialect d. The
// cases named in known (case name → why) are expected to fail there: they
// are skipped with the reason when they do, and the test fails when one of
// them passes (take it off the list). The SQL a case checks for is that of
// the DuckDB compiler's rules and is checked with DuckDB only.
func RunCorpusDialect(t *testing.T, b Backend, d sqlgen.Dialect, known map[string]string) {
	t.Helper()
	ctx := t.Context()
	recs := makeRecords()
	if err := load(ctx, b, recs); err != nil {
		t.Fatalf("load the corpus: %v", err)
	}
	cfg := query.DefaultConfig()
	cfg.Dialect = d
	cfg.LookupDir = writeLookups(t)
	eng := query.New(cfg, b, b)
	for _, c := range Cases() {
		if d.Name() != "duckdb" {
			c.SQL = ""
		}
		why, listed := known[c.Name]
		delete(known, c.Name)
		t.Run(c.Name, func(t *testing.T) {
			if !listed {
				runCase(ctx, t, eng, c, recs)
				return
			}
			r := &recorder{}
			func() {
				defer func() {
					if x := recover(); x != nil && x != r {
						panic(x)
					}
				}()
				runCase(ctx, r, eng, c, recs)
			}()
			if r.msg == "" {
				t.Errorf("%s passes on %s now: take it off the known failures (%s)", c.Name, d.Name(), why)
				return
			}
			t.Skipf("known failure on %s: %s\n%s", d.Name(), why, firstLine(r.msg))
		})
	}
	for name := range known {
		t.Errorf("the known failures name %s, which is not a corpus case", name)
	}
}

// fatalfer is what runCase needs of a test.
type fatalfer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// recorder keeps the failure of a case expected to fail.
type recorder struct{ msg string }

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(r)
}

func firstLine(s string) string {
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func runCase(ctx context.Context, t fatalfer, eng *query.Engine, c Case, recs []record) {
	rs := recs
	if len(c.Datasets) > 0 {
		rs = where(recs, inDS(c.Datasets...))
	}
	res, comp, err := eng.Run(ctx, query.Request{Query: c.Query, Datasets: c.Datasets, Start: c.Start, End: c.End})
	if err != nil {
		t.Fatalf("%s: %v", c.Query, err)
	}
	want := c.Want(rs)
	if len(want) == 0 {
		t.Fatalf("%s: the corpus has no answer for this case; a case must test something", c.Name)
	}
	got := res.Rows
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\n%s\nSQL: %s", c.Query, sprintf(format, args...), comp.Statement.SQL)
	}
	if c.SQL != "" && !strings.Contains(comp.Statement.SQL, c.SQL) {
		fail("the SQL does not contain %q", c.SQL)
	}
	if len(want) > 0 && len(got) > 0 && len(got[0]) != len(want[0]) {
		fail("got %d columns %v, want %d", len(got[0]), res.Columns, len(want[0]))
	}
	n := len(want)
	if c.Limit > 0 {
		n = min(n, c.Limit)
	}
	if len(got) != n {
		fail("got %d rows, want %d\ngot:  %v\nwant: %v", len(got), n, head(got), head(want))
	}
	pool := map[string]int{}
	for _, w := range want {
		pool[rowKey(w)]++
	}
	for _, g := range got {
		k := rowKey(g)
		if pool[k] == 0 {
			fail("unexpected row %v\nwant rows like: %v", strings.Split(k, "\x1f"), head(want))
		}
		pool[k]--
	}
	if len(c.Order) > 0 {
		for i := 1; i < len(got); i++ {
			if less(got[i-1], got[i], c.Order, c.Desc) > 0 {
				fail("rows %d and %d are out of order: %v, %v", i-1, i, got[i-1], got[i])
			}
		}
		if len(c.Ties) > 0 {
			keys := append(append([]int(nil), c.Order...), c.Ties...)
			desc := append(append([]bool(nil), c.Desc...), make([]bool, len(c.Ties))...)
			sortRows(want, keys, desc)
			for i := range got {
				if rowKey(got[i]) != rowKey(want[i]) {
					fail("row %d is %v, want %v (ties broken by columns %v)\ngot:  %v\nwant: %v", i, got[i], want[i], c.Ties, head(got), head(want))
				}
			}
		}
		if c.Limit > 0 && len(got) > 0 {
			sortRows(want, c.Order, c.Desc)
			last := got[len(got)-1]
			if less(last, want[len(got)-1], c.Order, c.Desc) != 0 {
				fail("the last row %v is not the %dth in order (%v)", last, len(got), want[len(got)-1])
			}
		}
	}
}

func head(rows [][]any) [][]any {
	if len(rows) > 5 {
		return rows[:5]
	}
	return rows
}

// Load writes the corpus records through w (for fuzzing and benchmarks).
func Load(ctx context.Context, w store.Writer) error { return load(ctx, w, makeRecords()) }

// EdgeQueries are queries at the edges of the functions' domains (overflow,
// invalid input, huge periods); none may reach the database as an error.
var EdgeQueries = []string{
	`fields bytes * bytes * bytes * bytes as x, -9223372036854775807 - 10 as y | limit 3`,
	`fields bytes / 0 as x, bytes % 0 as y, 2 ^ 5000 as p, sqrt(-1) as s, log(0) as l | limit 3`,
	`fields substr(action, -5, -2) as a, substr(action, 1e30) as b, round(bytes, 1.5) as r | limit 3`,
	`fields datefloor(fromMillis(1e18), 1mo) as x, dateceil(fromMillis(-5), 1w) as y, formatDate(fromMillis(9e18), "%Y") as z | limit 3`,
	`fields toInt("99999999999") as x, toLong("1e30") as y, hexToDec("zz") as h, decToHex(1e30) as d | limit 3`,
	`fields base64decode("!!") as b, urldecode("%zz") as u, hexToAscii("zz") as a | limit 3`,
	`filter srcAddr in ["10.0.0.1", 5, "x"] or dstPort in ["443", "https", 22] | limit 3`,
	`fields coalesce(srcAddr, bytes, @timestamp) as c, if(bytes > 1, "a", 2) as i, case(bytes > 1, 1, "x") as k | limit 3`,
	`stats pct(srcAddr, 50) as p, avg(@timestamp) as t, sum(action) as s, min(@message) as m`,
	`stats count(*) as n by srcAddr | dedup n | limit 3`,
	`fields isIpInSubnet(interfaceId, "::/0") as a, ipv4ToNumber(action) as b, isPublicIP(action) as c | limit 3`,
	`stats sum(bytes) - sum(packets) as d, -sum(bytes) as n, sqrt(sum(bytes)) as s, round(avg(bytes), 2) as r, log(count(*)) as l, count(*) * 9223372036854775807 as big by action`,
	`stats count(*) as n by bin(1h) as t | fields datefloor(t, 1mo) as m, n * n * n * n * n as p, -n as neg, substr(concat(n), 0, 1) as s`,
	`fields jsonParse(action) as j, jsonArraySize("[") as s, jsonArrayContains("{", "1") as c, jsonParse("[1,") as k | fields j.a as a, j[5] as b, k[-1] as k0, j[1e30] as big, s, c | limit 3`,
	`fields jsonParse("[[1], {\"a\": null}, \"x\"]") as j | fields j[0][0] as a, j[1].a as n, j[2].x as sx, j[0] + 1 as arr, jsonArraySize(j) as s | unnest j into e | limit 5`,
	`stats histogram(action, 3) as h, histogram(bytes, 100) as g, histogram(bytes * 0.001, 7) as f by protocol`,
	`parse action logfmt as m | parse action csv as a, b | parse multi action /(?<z>Z*)/ | fields m.x as x, m, a, b, z | limit 3`,
	`fields jsonParse(concat("{\"a\": ", bytes, ", \"k\": \"", action, "\"}")) as j | stats count_distinct(j.a) as d, earliest(j) as e, max(j.a) as m, histogram(j.a, 5) as h by j.k | fields h.0 as first, d, e | sort first | limit 3`,
	`fields jsonParse(concat("[", srcPort, "]")) as j, j[0] as p | accum p as run | fields jsonStringify(j) as s, j[0] * 2 as d | dedup s | limit 3`,
	`fields formatDate(@timestamp, "%-d/%-m %%") as d | limit 3`,
	`stats count(*) as n by bin(1y) as hour, dstPort | sort hour * 0, log(dstPort - 1000) desc, n | limit 3`,
}
