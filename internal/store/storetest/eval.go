package storetest

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The helpers below compute expected answers in Go from the records, with
// the semantics of the spec (NULL is absent, aggregates skip it).

func where(rs []record, f func(r record) bool) []record {
	var out []record
	for _, r := range rs {
		if f(r) {
			out = append(out, r)
		}
	}
	return out
}

func inDS(names ...string) func(r record) bool {
	return func(r record) bool {
		for _, n := range names {
			if r.dataset == n {
				return true
			}
		}
		return false
	}
}

// groupBy groups records by a key (nil parts allowed), in first-seen order.
func groupBy(rs []record, key func(r record) []any) (keys [][]any, groups [][]record) {
	idx := map[string]int{}
	for _, r := range rs {
		k := key(r)
		ks := fmt.Sprintf("%#v", k)
		i, ok := idx[ks]
		if !ok {
			i = len(keys)
			idx[ks] = i
			keys = append(keys, k)
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	return keys, groups
}

func cols(names ...string) func(r record) []any {
	return func(r record) []any {
		out := make([]any, len(names))
		for i, n := range names {
			out[i] = r.v[n]
		}
		return out
	}
}

func sum(rs []record, col string) any {
	var s int64
	n := 0
	for _, r := range rs {
		if x, ok := r.v[col].(int64); ok {
			s += x
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return s
}

func avg(rs []record, col string) any {
	var s float64
	n := 0
	for _, r := range rs {
		if x, ok := r.v[col].(int64); ok {
			s += float64(x)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return s / float64(n)
}

func maxOf(rs []record, col string) any {
	var m any
	for _, r := range rs {
		if x, ok := r.v[col].(int64); ok {
			if m == nil || x > m.(int64) {
				m = x
			}
		}
	}
	return m
}

func minOf(rs []record, col string) any {
	var m any
	for _, r := range rs {
		if x, ok := r.v[col].(int64); ok {
			if m == nil || x < m.(int64) {
				m = x
			}
		}
	}
	return m
}

func countOf(rs []record) any { return int64(len(rs)) }

func countNotNull(rs []record, col string) any {
	var n int64
	for _, r := range rs {
		if r.v[col] != nil {
			n++
		}
	}
	return n
}

func distinct(rs []record, col string) any {
	seen := map[any]bool{}
	for _, r := range rs {
		if x := r.v[col]; x != nil {
			seen[x] = true
		}
	}
	return int64(len(seen))
}

func str(r record, col string) string {
	s, _ := r.v[col].(string)
	return s
}

func num(r record, col string) (int64, bool) {
	x, ok := r.v[col].(int64)
	return x, ok
}

// binStart floors a record's start to a multiple of sec seconds.
func binStart(r record, sec int64) time.Time {
	s := r.start()
	return time.Unix(s-s%sec, 0).UTC()
}

func inSubnet(addr any, cidr string) bool {
	s, ok := addr.(string)
	if !ok {
		return false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	return netip.MustParsePrefix(cidr).Masked().Contains(a)
}

// normal renders a value for comparison: integral floats as integers,
// others with 9 significant digits, times in the Logs Insights format.
func normal(v any) string {
	switch x := v.(type) {
	case nil:
		return "<null>"
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', 9, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.000")
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func rowKey(row []any) string {
	parts := make([]string, len(row))
	for i, v := range row {
		parts[i] = normal(v)
	}
	return strings.Join(parts, "\x1f")
}

// cmpVal orders two values; NULL sorts after everything.
func cmpVal(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	fa, okA := toF(a)
	fb, okB := toF(b)
	if okA && okB {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return naturalCompare(normal(a), normal(b))
}

var numberRE = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$`)

// naturalCompare is the "natural" order of the spec (§5.5): text that is
// not a number first, numbers by value, other text chunk by chunk with
// runs of digits compared by length, then value.
func naturalCompare(a, b string) int {
	na, nb := numberRE.MatchString(a), numberRE.MatchString(b)
	switch {
	case na && nb:
		fa, _ := strconv.ParseFloat(a, 64)
		fb, _ := strconv.ParseFloat(b, 64)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	case na:
		return 1
	case nb:
		return -1
	}
	ca, cb := chunks(a), chunks(b)
	for i := 0; i < len(ca) && i < len(cb); i++ {
		x, y := ca[i], cb[i]
		if isDigits(x) && isDigits(y) {
			if len(x) != len(y) {
				return len(x) - len(y)
			}
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return len(ca) - len(cb)
}

func isDigits(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func chunks(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && isDigits(s[j:j+1]) == isDigits(s[i:i+1]) {
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}

func toF(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case time.Time:
		return float64(x.UnixMilli()), true
	}
	return 0, false
}

// sortRows orders rows by the key columns (desc per key).
func sortRows(rows [][]any, keys []int, desc []bool) {
	sort.SliceStable(rows, func(i, j int) bool {
		return less(rows[i], rows[j], keys, desc) < 0
	})
}

func less(a, b []any, keys []int, desc []bool) int {
	for k, c := range keys {
		r := cmpVal(a[c], b[c])
		if desc[k] && a[c] != nil && b[c] != nil {
			r = -r // nulls last in both directions (spec §5.5)
		}
		if r != 0 {
			return r
		}
	}
	return 0
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func sortInts(s []int64) { sort.Slice(s, func(i, j int) bool { return s[i] < s[j] }) }

// quantileCont interpolates linearly between the closest ranks, as SQL's
// quantile_cont does.
func quantileCont(vals []float64, q float64) float64 {
	s := append([]float64(nil), vals...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(s) {
		return s[lo]
	}
	return s[lo] + (pos-float64(lo))*(s[lo+1]-s[lo])
}
