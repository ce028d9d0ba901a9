package athena

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// compareOps are the comparison operators a rewrite understands.
var compareOps = []string{"=", "==", "<>", "!=", "<", "<=", ">", ">="}

// flipOp returns the operator with its operands swapped: 'x' < day is day > 'x'.
func flipOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// columnStart returns the first significant index of the column reference
// ending at j (a.b.col starts at a).
func (s *scope) columnStart(j int) int {
	r := s.r
	for j-2 >= s.lo && r.isOp(j-1, ".") && isNameTok(r.tok(j-2)) {
		j -= 2
	}
	return j
}

// boundaryBefore reports whether an operand starting at j is a whole
// operand of a comparison (nothing binding tighter before it).
func (s *scope) boundaryBefore(j int) bool {
	r := s.r
	return j <= s.lo || r.isOp(j-1, "(", ",") ||
		r.keyword(j-1) && !r.isKw(j-1, "interval", "collate", "escape", "between", "like", "ilike", "in", "is", "as")
}

// boundaryAfter reports whether an operand ending just before j is a whole
// operand of a comparison.
func (s *scope) boundaryAfter(j int) bool {
	r := s.r
	return j >= s.hi || r.isOp(j, ")", ",") || r.keyword(j) && !r.isKw(j, "collate", "escape")
}

// isColumn reports whether significant token j can be a column reference
// operand: a name that is not a keyword, a function or a qualifier.
func (s *scope) isColumn(j int) bool {
	r := s.r
	return j >= s.lo && j < s.hi && isNameTok(r.tok(j)) && !r.keyword(j) &&
		!r.isOp(j+1, "(", ".") && s.clause[j-s.lo] != "from"
}

// sigText returns the output text of significant tokens [from, to].
func (r *rewriter) sigText(from, to int) string {
	if from > to {
		return ""
	}
	return r.text(r.sig[from], r.sig[to]+1)
}

// padded adds a space on each side of text where the neighbour of
// significant tokens [from, to] is not a space.
func (r *rewriter) padded(from, to int, text string) string {
	if i := r.sig[from]; i > 0 && r.toks[i-1].Kind != TokSpace {
		text = " " + text
	}
	if i := r.sig[to]; i+1 < len(r.toks) && r.toks[i+1].Kind != TokSpace {
		text += " "
	}
	return text
}

// rewriteDash turns `col = '-'` into `col IS NULL` and `col <> '-'` (or
// !=) into `col IS NOT NULL`: flowlens stores NULL for every field written
// as '-', where Athena's text SerDe kept the string.
func (s *scope) rewriteDash() {
	r := s.r
	isDash := func(j int) bool { v, ok := r.tok(j).StringValue(); return ok && v == "-" }
	for j := s.lo; j < s.hi; j++ {
		if !r.isOp(j, "=", "==", "<>", "!=") {
			continue
		}
		test := " IS NULL"
		if !r.isOp(j, "=", "==") {
			test = " IS NOT NULL"
		}
		switch {
		case isDash(j+1) && s.isColumn(j-1) && s.boundaryBefore(s.columnStart(j-1)) && s.boundaryAfter(j+2):
			r.replace(j, j+1, r.padded(j, j+1, strings.TrimPrefix(test, " ")))
			j++
		case isDash(j-1) && s.isColumn(j+1) && s.boundaryBefore(j-1) && s.columnStart(j+1) == j+1 && s.boundaryAfter(j+2):
			r.replace(j-1, j+1, r.sigText(j+1, j+1)+test)
			j++
		}
	}
}

// dayLiteralRE is the yyyy/MM/dd form of a projected `day` partition.
var dayLiteralRE = regexp.MustCompile(`^[0-9]{4}/[0-9]{2}/[0-9]{2}$`)

// dayValue returns the UTC midnight of a 'yyyy/MM/dd' literal.
func dayValue(v string) (time.Time, bool) {
	if !dayLiteralRE.MatchString(v) {
		return time.Time{}, false
	}
	t, err := time.Parse("2006/01/02", v)
	return t, err == nil
}

// rewriteDay rewrites comparisons of `day` with strings containing '/'
// (the yyyy/MM/dd form of partition projection) into ranges of _hour, the
// record's hour, on which the store prunes. Literals that are not whole
// dates (LIKE '2024/05/%', >= '2024/05') compare the record's date in the
// yyyy/MM/dd form instead, exactly as Athena compared the strings.
func (s *scope) rewriteDay() {
	r := s.r
	if s.defined["day"] {
		return
	}
	for j := s.lo; j < s.hi; j++ {
		if n, _ := r.name(j); n != "day" || !s.isColumn(j) || s.defines[j-s.lo] || r.isKw(j-2, "interval") {
			continue
		}
		start := s.columnStart(j)
		qual := r.sigText(start, j-1)
		if end, repl, ok := s.dayForward(j, qual); ok && s.boundaryBefore(start) {
			r.replace(start, end, repl)
			j = end
			continue
		}
		// 'yyyy/MM/dd' op day
		if start-2 >= s.lo && r.isOp(start-1, compareOps...) && s.boundaryBefore(start-2) && s.boundaryAfter(j+1) {
			if v, ok := r.tok(start - 2).StringValue(); ok && strings.Contains(v, "/") {
				r.replace(start-2, j, dayCondition(qual, flipOp(r.tok(start-1).Text), v))
			}
		}
	}
}

// dayForward matches what follows `day` (significant index j): a
// comparison, [NOT] BETWEEN, [NOT] IN or [NOT] LIKE with '/' literals. It
// returns the last index replaced and the replacement of [column, end].
func (s *scope) dayForward(j int, qual string) (int, string, bool) {
	r := s.r
	slashLit := func(k int) (string, bool) {
		v, ok := r.tok(k).StringValue()
		return v, ok
	}
	k := j + 1
	not := r.isKw(k, "not")
	if not {
		k++
	}
	fallback := "strftime(" + qual + `"date", '%Y/%m/%d')`
	switch {
	case !not && r.isOp(k, compareOps...):
		v, ok := slashLit(k + 1)
		if !ok || !strings.Contains(v, "/") || !s.boundaryAfter(k+2) {
			return 0, "", false
		}
		return k + 1, dayCondition(qual, r.tok(k).Text, v), true
	case r.isKw(k, "between"):
		lo, ok1 := slashLit(k + 1)
		hi, ok2 := slashLit(k + 3)
		if !ok1 || !ok2 || !r.isKw(k+2, "and") || !strings.Contains(lo+hi, "/") || !s.boundaryAfter(k+4) {
			return 0, "", false
		}
		a, okA := dayValue(lo)
		b, okB := dayValue(hi)
		if !okA || !okB {
			return j, fallback, true
		}
		h := qual + "_hour"
		cond := "(" + h + " >= " + epoch(a) + " AND " + h + " < " + epoch(b.AddDate(0, 0, 1)) + ")"
		if not {
			cond = "(" + h + " < " + epoch(a) + " OR " + h + " >= " + epoch(b.AddDate(0, 0, 1)) + ")"
		}
		return k + 3, cond, true
	case r.isKw(k, "in") && r.isOp(k+1, "("):
		closing, commas := r.matchParen(k+1, s.hi)
		if closing < 0 || !s.boundaryAfter(closing+1) {
			return 0, "", false
		}
		items := append([]int{k + 1}, commas...)
		var vals []string
		slash, whole := false, true
		for _, c := range items {
			next := closing
			if len(vals) < len(commas) {
				next = commas[len(vals)]
			}
			v, ok := slashLit(c + 1)
			if !ok || next != c+2 {
				return 0, "", false
			}
			vals = append(vals, v)
			slash = slash || strings.Contains(v, "/")
			if _, ok := dayValue(v); !ok {
				whole = false
			}
		}
		if !slash {
			return 0, "", false
		}
		if !whole {
			return j, fallback, true
		}
		var parts []string
		for _, v := range vals {
			parts = append(parts, dayCondition(qual, "=", v))
		}
		cond := "(" + strings.Join(parts, " OR ") + ")"
		if not {
			cond = "NOT " + cond
		}
		return closing, cond, true
	case r.isKw(k, "like", "ilike"):
		v, ok := slashLit(k + 1)
		if !ok || !strings.Contains(v, "/") {
			return 0, "", false
		}
		return j, fallback, true
	}
	return 0, "", false
}

// dayCondition is `day op 'v'` on the record's hour (qual is the column's
// qualifier with its dot, or "").
func dayCondition(qual, op, v string) string {
	d, ok := dayValue(v)
	if !ok {
		return "(strftime(" + qual + `"date", '%Y/%m/%d') ` + op + " " + quoteString(v) + ")"
	}
	h := qual + "_hour"
	a, b := epoch(d), epoch(d.AddDate(0, 0, 1))
	switch op {
	case "=", "==":
		return "(" + h + " >= " + a + " AND " + h + " < " + b + ")"
	case "<>", "!=":
		return "(" + h + " < " + a + " OR " + h + " >= " + b + ")"
	case "<":
		return "(" + h + " < " + a + ")"
	case "<=":
		return "(" + h + " < " + b + ")"
	case ">":
		return "(" + h + " >= " + b + ")"
	default: // ">="
		return "(" + h + " >= " + a + ")"
	}
}

func epoch(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
