package storetest

import (
	"strconv"
	"strings"
)

// written returns field i of the record's line, as the line writes it
// ("-" for an absent value): what parse yields (spec §5.7).
func written(r record, i int) string { return strings.Fields(r.message())[i] }

// writtenNum is the number of a written field, nil for "-".
func writtenNum(r record, i int) any {
	v, err := strconv.ParseInt(written(r, i), 10, 64)
	if err != nil {
		return nil
	}
	return v
}

// globDefault parses the 14 fields of the default format.
const globDefault = `parse @message "* * * * * * * * * * * * * *" as v, acct, eni, src, dst, sp, dp, proto, pk, byt, st, en, act, status`

// parseCases check that parse yields strings as written ("-" kept, a
// group of its own), converted where a number is needed.
func parseCases() []Case {
	return []Case{
		{Name: "parse_dash_is_a_string", Datasets: []string{dsProd}, Query: globDefault + ` | stats sum(byt) as b, count(*) as n by src | sort b desc | limit 40`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any { return []any{written(r, 3)} })
				return rowsOf(k, g, agg(sum, "bytes"), countOf)
			}, Order: []int{1}, Desc: []bool{true}, Limit: 40, Ties: []int{0}},
		{Name: "parse_dash_filter_and_numbers", Datasets: []string{dsProd}, Query: globDefault + ` | filter src = "-" or dp = 22 | stats count(*) as n by status, act, dp`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { return written(r, 3) == "-" || written(r, 6) == "22" })
				k, g := groupBy(rs, func(r record) []any { return []any{written(r, 13), written(r, 12), written(r, 6)} })
				return rowsOf(k, g, countOf)
			}},
		{Name: "parse_not_equal_keeps_dash", Datasets: []string{dsProd}, Query: globDefault + ` | filter act != "ACCEPT" | stats count(*) as n by act`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { return written(r, 12) != "ACCEPT" })
				k, g := groupBy(rs, func(r record) []any { return []any{written(r, 12)} })
				return rowsOf(k, g, countOf)
			}},
		{Name: "parse_arithmetic_converts", Datasets: []string{dsProd}, Query: globDefault + ` | filter byt > 500000 | stats sum(byt / pk) as per, max(byt) as top by proto | sort proto`,
			Want: func(rs []record) [][]any {
				rs = where(rs, func(r record) bool { b, ok := writtenNum(r, 9).(int64); return ok && b > 500000 })
				k, g := groupBy(rs, func(r record) []any { return []any{written(r, 7)} })
				return rowsOf(k, g, func(rs []record) any {
					s := 0.0
					for _, r := range rs {
						s += float64(writtenNum(r, 9).(int64)) / float64(writtenNum(r, 8).(int64))
					}
					return s
				}, agg(maxOf, "bytes"))
			}, Order: []int{0}, Desc: []bool{false}},
		// "-" is text, the numbers numbers: "-" first ascending (spec §5.5)
		{Name: "parse_sort_written_number", Datasets: []string{dsProd}, Query: globDefault + ` | stats count(*) as n by dp | sort dp asc | limit 3`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any { return []any{written(r, 6)} })
				return rowsOf(k, g, countOf)
			}, Order: []int{0}, Desc: []bool{false}, Limit: 3},
	}
}
