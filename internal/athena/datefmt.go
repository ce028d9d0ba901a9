package athena

import "strings"

// rewriteDateFormat turns date_format(ts, 'fmt') into
// strftime(CAST(ts AS TIMESTAMP), 'fmt2') and date_parse(s, 'fmt') into
// strptime(s, 'fmt2'), with the MySQL-style format converted. DuckDB needs
// a constant format, so calls whose format is not a string literal are left
// alone (DuckDB then reports the unknown function).
func (s *scope) rewriteDateFormat() {
	r := s.r
	for j := s.lo; j+1 < s.hi; j++ {
		t := r.tok(j)
		if t.Kind != TokIdent || !r.isOp(j+1, "(") || r.isOp(j-1, ".") {
			continue
		}
		fn := strings.ToLower(t.Text)
		if fn != "date_format" && fn != "date_parse" {
			continue
		}
		closing, commas := r.matchParen(j+1, s.hi)
		if closing < 0 || len(commas) != 1 || closing != commas[0]+2 || commas[0] == j+2 {
			continue
		}
		lit := commas[0] + 1
		v, ok := r.tok(lit).StringValue()
		if !ok {
			continue
		}
		r.set(lit, quoteString(ConvertFormat(v)))
		if fn == "date_format" {
			r.set(j, "strftime")
			r.set(j+1, "(CAST(")
			r.set(commas[0], " AS TIMESTAMP),")
		} else {
			r.set(j, "strptime")
		}
	}
}

// matchParen returns the significant index of the parenthesis closing the
// one at open (before limit), and the indices of the commas at its level;
// -1 when it is not closed.
func (r *rewriter) matchParen(open, limit int) (int, []int) {
	if open < 0 || open >= len(r.closing) || r.closing[open] < 0 || r.closing[open] >= limit {
		return -1, nil
	}
	var commas []int
	for j := open + 1; j < r.closing[open]; j++ {
		switch {
		case r.closing[j] > j:
			j = r.closing[j]
		case r.isOp(j, ","):
			commas = append(commas, j)
		}
	}
	return r.closing[open], commas
}

// formatMap converts MySQL-style (Presto date_format) specifiers to strftime's.
var formatMap = map[byte]string{
	'i': "%M", 's': "%S", 'S': "%S", 'M': "%B", 'W': "%A", 'T': "%H:%M:%S", 'e': "%-d",
	'c': "%-m", 'k': "%-H", 'l': "%-I", 'h': "%I", 'r': "%I:%M:%S %p", 'v': "%V", 'x': "%G",
}

// ConvertFormat converts a Presto date_format pattern to a strftime pattern.
func ConvertFormat(f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		if r, ok := formatMap[f[i]]; ok {
			b.WriteString(r)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(f[i])
	}
	return b.String()
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
