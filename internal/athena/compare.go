package athena

import (
	"net/netip"
	"regexp"
	"slices"
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

// dayMatch is a comparison of day with 'yyyy/MM/dd' strings: significant
// tokens [from, to], the column's qualifier and the same test on _hour
// ("" when a literal is not a whole date).
type dayMatch struct {
	from, to int
	qual     string
	cond     string
}

// findDay finds the comparisons of `day` with strings containing '/' (the
// yyyy/MM/dd form of partition projection): =, <>, <, …, [NOT] BETWEEN,
// [NOT] IN, [NOT] LIKE.
func (s *scope) findDay() {
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
		qname := ""
		if start < j {
			qname, _ = r.name(j - 2)
		}
		if end, cond, ok := s.dayForward(j, qual); ok && s.boundaryBefore(start) {
			s.days = append(s.days, dayMatch{start, end, qname, cond})
			j = end
			continue
		}
		// 'yyyy/MM/dd' op day
		if start-2 >= s.lo && r.isOp(start-1, compareOps...) && s.boundaryBefore(start-2) && s.boundaryAfter(j+1) {
			if v, ok := r.tok(start - 2).StringValue(); ok && strings.Contains(v, "/") {
				cond := ""
				if _, whole := dayValue(v); whole {
					cond = dayCondition(qual, flipOp(r.tok(start-1).Text), v)
				}
				s.days = append(s.days, dayMatch{start - 2, j, qname, cond})
			}
		}
	}
}

// applyDay rewrites the day comparisons of a block that reads a view with
// the flows columns into ranges of _hour, on which the store prunes hours.
// The others compare strings, as Athena did, against the 'yyyy/MM/dd' day
// that rewriteViews gave the views.
func (s *scope) applyDay() {
	for _, m := range s.days {
		aliases := s.flowsAliases[s.block[m.from-s.lo]]
		if m.cond == "" || len(aliases) == 0 || m.qual != "" && !slices.Contains(aliases, m.qual) {
			continue
		}
		s.r.replace(m.from, m.to, m.cond)
	}
}

// dayForward matches what follows `day` (significant index j): a
// comparison, [NOT] BETWEEN, [NOT] IN or [NOT] LIKE with '/' literals. It
// returns the last index of the comparison and its form on _hour ("" when
// a literal is not a whole date).
func (s *scope) dayForward(j int, qual string) (int, string, bool) {
	r := s.r
	k := j + 1
	not := r.isKw(k, "not")
	if not {
		k++
	}
	switch {
	case !not && r.isOp(k, compareOps...):
		v, ok := r.tok(k + 1).StringValue()
		if !ok || !strings.Contains(v, "/") || !s.boundaryAfter(k+2) {
			return 0, "", false
		}
		if _, whole := dayValue(v); !whole {
			return k + 1, "", true
		}
		return k + 1, dayCondition(qual, r.tok(k).Text, v), true
	case r.isKw(k, "between"):
		lo, ok1 := r.tok(k + 1).StringValue()
		hi, ok2 := r.tok(k + 3).StringValue()
		if !ok1 || !ok2 || !r.isKw(k+2, "and") || !strings.Contains(lo+hi, "/") || !s.boundaryAfter(k+4) {
			return 0, "", false
		}
		a, okA := dayValue(lo)
		b, okB := dayValue(hi)
		if !okA || !okB {
			return k + 3, "", true
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
		seps := append(append([]int{k + 1}, commas...), closing)
		var parts []string
		slash, whole := false, true
		for i := 0; i+1 < len(seps); i++ {
			v, ok := r.tok(seps[i] + 1).StringValue()
			if !ok || seps[i+1] != seps[i]+2 {
				return 0, "", false
			}
			slash = slash || strings.Contains(v, "/")
			if _, ok := dayValue(v); !ok {
				whole = false
			}
			parts = append(parts, dayCondition(qual, "=", v))
		}
		if !slash {
			return 0, "", false
		}
		if !whole {
			return closing, "", true
		}
		cond := "(" + strings.Join(parts, " OR ") + ")"
		if not {
			cond = "NOT " + cond
		}
		return closing, cond, true
	case r.isKw(k, "like", "ilike"):
		v, ok := r.tok(k + 1).StringValue()
		if !ok || !strings.Contains(v, "/") || !s.boundaryAfter(k+2) {
			return 0, "", false
		}
		return k + 1, "", true
	}
	return 0, "", false
}

// dayCondition is `day op 'v'` on the record's hour (qual is the column's
// qualifier with its dot, or "").
func dayCondition(qual, op, v string) string {
	d, _ := dayValue(v)
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

// rewriteAddrEq adds the integer form to an equality of srcaddr or
// dstaddr with an IPv4 literal in a block that reads a view with the flows
// columns: `srcaddr = '10.0.0.1'` becomes `(srcaddr = '10.0.0.1' AND
// _srcaddr_v4 = 167772161)`. The store fills the integer column exactly
// for the records whose text is that canonical dotted quad, so the answer
// is the same; the store prunes on the integer (its sealed hours compute
// the text from it: the text test alone reads every record).
func (s *scope) rewriteAddrEq() {
	r := s.r
	for j := s.lo; j < s.hi; j++ {
		name, _ := r.name(j)
		if (name != "srcaddr" && name != "dstaddr") || !s.isColumn(j) || s.defines[j-s.lo] || s.defined[name] || s.defined["_"+name+"_v4"] {
			continue
		}
		start := s.columnStart(j)
		from, to, lit := 0, 0, -1
		switch {
		case r.isOp(j+1, "=", "==") && s.boundaryBefore(start) && s.boundaryAfter(j+3):
			from, to, lit = start, j+2, j+2
		case start-2 >= s.lo && r.isOp(start-1, "=", "==") && s.boundaryBefore(start-2) && s.boundaryAfter(j+1):
			from, to, lit = start-2, j, start-2
		default:
			continue
		}
		v, ok := r.tok(lit).StringValue()
		if !ok {
			continue
		}
		n, ok := canonicalIPv4(v)
		if !ok {
			continue
		}
		aliases := s.flowsAliases[s.block[j-s.lo]]
		qual := r.sigText(start, j-1)
		if len(aliases) == 0 || qual == "" && len(aliases) != 1 {
			continue
		}
		if qual != "" {
			q, _ := r.name(j - 2)
			if start != j-2 || !slices.Contains(aliases, q) {
				continue
			}
		}
		r.replace(from, to, "("+r.sigText(from, to)+" AND "+qual+"_"+name+"_v4 = "+strconv.FormatUint(uint64(n), 10)+")")
		j = to
	}
}

// canonicalIPv4 returns the value of a dotted quad written as the store
// writes one (no leading zeros).
func canonicalIPv4(v string) (uint32, bool) {
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is4() || a.String() != v {
		return 0, false
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
}
