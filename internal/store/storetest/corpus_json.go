package storetest

import (
	"encoding/json"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// jsonCases covers the JSON functions, histogram() and the parse forms
// logfmt, csv with quotes and multi. Flow logs hold no JSON, logfmt or
// quoted CSV: each query builds its text from the record's fields and the
// answer is computed in Go from the same fields.
func jsonCases() []Case {
	needle := func(rs []record) []record {
		return where(rs, func(r record) bool { return r.v["srcaddr"] == NeedleAddr })
	}
	return []Case{
		{Name: "json_access", Query: "fields concat(\"{\\\"src\\\": \\\"\", srcAddr, \"\\\", \\\"port\\\": \", dstPort, \", \\\"odd.key\\\": [1, \\\"two\\\"], \\\"tags\\\": [\\\"a\\\", \\\"b\\\"]}\") as raw" +
			" | filter srcAddr = \"" + NeedleAddr + "\" | fields jsonParse(raw) as j" +
			" | fields j.src as src, j.port + 1 as next, j.`odd.key`[1] as second, j.tags as tags, jsonArraySize(j.tags) as n," +
			" jsonArrayContains(j.tags, \"b\") as hasB, jsonArrayContains(j.tags, \"c\") as hasC, j.missing as m, jsonStringify(j.tags) as s" +
			" | display src, next, second, tags, n, hasB, hasC, m, s",
			Want: func(rs []record) [][]any {
				var out [][]any
				for _, r := range needle(rs) {
					p, ok := num(r, "dstport")
					if !ok { // "port": , is not JSON: every access is absent
						out = append(out, []any{nil, nil, nil, nil, nil, int64(0), int64(0), nil, nil})
						continue
					}
					out = append(out, []any{NeedleAddr, p + 1, "two", `["a","b"]`, int64(2), int64(1), int64(0), nil, `["a","b"]`})
				}
				return out
			}},
		{Name: "json_index_stats", Datasets: []string{dsEdge}, Query: `fields jsonParse(concat("[", bytes, ", ", packets, "]")) as j | stats count(*) as n, sum(j[1]) as p by j[0] as b`,
			Want: func(rs []record) [][]any {
				key := func(r record) []any {
					b, okb := num(r, "bytes")
					_, okp := num(r, "packets")
					if !okb || !okp {
						return []any{nil}
					}
					return []any{strconv.FormatInt(b, 10)}
				}
				k, g := groupBy(rs, key)
				return rowsOf(k, g, countOf, func(g []record) any {
					if g[0].v["bytes"] == nil || g[0].v["packets"] == nil {
						return nil
					}
					return sum(g, "packets")
				})
			}},
		{Name: "unnest_json", Datasets: []string{dsProd}, Query: `fields jsonParse(concat("{\"xs\": [", srcPort, ", ", dstPort, "]}")) as j | unnest j.xs into port | stats count(*) as n by port`,
			Want: func(rs []record) [][]any {
				counts := map[string]int64{}
				var order []string
				for _, r := range rs {
					s, oks := num(r, "srcport")
					d, okd := num(r, "dstport")
					if !oks || !okd {
						continue // not JSON: no list, no row
					}
					for _, p := range []int64{s, d} {
						k := strconv.FormatInt(p, 10)
						if _, seen := counts[k]; !seen {
							order = append(order, k)
						}
						counts[k]++
					}
				}
				var out [][]any
				for _, k := range order {
					out = append(out, []any{k, counts[k]})
				}
				return out
			}},
		{Name: "histogram_over_time", Query: `filter srcAddr = "` + NeedleAddr + `" | stats histogram(bytes, 4) as h, countOverTime(bytes) as c, sumOverTime(bytes) as s by action`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(needle(rs), cols("action"))
				return rowsOf(k, g, func(g []record) any { return histogramJSON(g, "bytes", 4) }, agg(countNotNull, "bytes"), agg(sum, "bytes"))
			}},
		{Name: "histogram_by_addr", Datasets: []string{dsEdge}, Query: `stats histogram(bytes, 3) as h, count(*) as n by srcAddr, bin(1h) as t`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any { return []any{r.v["srcaddr"], binStart(r, 3600)} })
				return rowsOf(k, g, func(g []record) any { return histogramJSON(g, "bytes", 3) }, countOf)
			}},
		{Name: "parse_logfmt", Query: `fields concat("src=", srcAddr, " msg=\"a \\\"b\\\" c\" port=", dstPort, " bare") as line | parse line logfmt as m | filter srcAddr = "` + NeedleAddr + `" | fields m.src as src, m.msg as msg, m.port as port, m.bare as bare, m.nokey as none, jsonStringify(m) as all | display src, msg, port, bare, none, all`,
			Want: func(rs []record) [][]any {
				var out [][]any
				for _, r := range needle(rs) {
					port := ""
					if p, ok := num(r, "dstport"); ok {
						port = strconv.FormatInt(p, 10)
					}
					all := "{" + jsonStr("src") + ":" + jsonStr(NeedleAddr) + "," + jsonStr("msg") + ":" + jsonStr(`a "b" c`) + "," +
						jsonStr("port") + ":" + jsonStr(port) + "," + jsonStr("bare") + ":" + jsonStr("true") + "}"
					out = append(out, []any{NeedleAddr, `a "b" c`, port, "true", nil, all})
				}
				return out
			}},
		{Name: "parse_csv_quoted", Query: `fields concat("\"", action, ", ok\",", srcAddr, ", \"say \"\"hi\"\"\"") as row | parse row csv as a, b, c, d | filter srcAddr = "` + NeedleAddr + `" | display a, b, c, d`,
			Want: func(rs []record) [][]any {
				var out [][]any
				for _, r := range needle(rs) {
					out = append(out, []any{str(r, "action") + ", ok", NeedleAddr, `say "hi"`, nil})
				}
				return out
			}},
		{Name: "parse_multi_unnest", Datasets: []string{dsEdge}, Query: `parse multi @message /(?<addr>[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)/ | unnest addr into a | stats count(*) as n by a`,
			Want: func(rs []record) [][]any {
				counts := map[string]int64{}
				var order []string
				for _, r := range rs {
					for _, m := range dottedQuad.FindAllString(r.message(), -1) {
						if _, seen := counts[m]; !seen {
							order = append(order, m)
						}
						counts[m]++
					}
				}
				var out [][]any
				for _, k := range order {
					out = append(out, []any{k, counts[k]})
				}
				return out
			}},
		{Name: "parse_multi_index", Query: `parse multi @message /(?<addr>[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)/ | filter srcAddr = "` + NeedleAddr + `" | fields addr[0] as a0, addr[1] as a1, jsonStringify(addr) as all`,
			Want: func(rs []record) [][]any {
				var out [][]any
				for _, r := range needle(rs) {
					ms := dottedQuad.FindAllString(r.message(), -1)
					row := []any{nil, nil, nil}
					for i := 0; i < 2 && i < len(ms); i++ {
						row[i] = ms[i]
					}
					if len(ms) > 0 {
						quoted := make([]string, len(ms))
						for i, m := range ms {
							quoted[i] = jsonStr(m)
						}
						row[2] = "[" + strings.Join(quoted, ",") + "]"
					}
					out = append(out, row)
				}
				return out
			}},
	}
}

var dottedQuad = regexp.MustCompile(`[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+`)

func jsonStr(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// histogramJSON is histogram(col, n): n buckets of equal width between the
// least and the greatest value (one bucket when they are equal), as a JSON
// object from each bucket's lower bound to its count; nil without values.
func histogramJSON(rs []record, col string, n int64) any {
	var vals []float64
	for _, r := range rs {
		if x, ok := num(r, col); ok {
			vals = append(vals, float64(x))
		}
	}
	if len(vals) == 0 {
		return nil
	}
	sort.Float64s(vals)
	lo, hi := vals[0], vals[len(vals)-1]
	w := (hi - lo) / float64(n)
	buckets := n
	if hi == lo {
		buckets = 1
	}
	counts := make([]int64, buckets)
	for _, v := range vals {
		i := int64(0)
		if hi != lo {
			i = min(int64(math.Floor((v-lo)/w)), n-1)
		}
		counts[i]++
	}
	parts := make([]string, buckets)
	for i := range counts {
		b := lo + float64(i)*w
		key := strconv.FormatFloat(b, 'g', 12, 64) // printf("%.12g") of the SQL
		if b == math.Trunc(b) && math.Abs(b) < 1e15 {
			key = strconv.FormatInt(int64(b), 10)
		}
		parts[i] = strconv.Quote(key) + ":" + strconv.FormatInt(counts[i], 10)
	}
	return "{" + strings.Join(parts, ",") + "}"
}
