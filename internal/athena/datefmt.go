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
		if fn == "date_add" {
			// Presto's date_add(unit, value, timestamp); DuckDB's date_add
			// takes two arguments.
			if _, commas := r.matchParen(j+1, s.hi); len(commas) == 2 {
				r.set(j, "date_add_presto")
			}
			continue
		}
		if fn != "date_format" && fn != "date_parse" && fn != "format_datetime" {
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
		if fn == "format_datetime" {
			r.set(lit, quoteString(ConvertJodaFormat(v)))
		} else {
			r.set(lit, quoteString(ConvertFormat(v)))
		}
		if fn == "date_format" || fn == "format_datetime" {
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

// jodaFields maps Joda-Time pattern letters, by count, to strftime.
var jodaFields = map[string]string{
	"yyyy": "%Y", "yy": "%y", "y": "%Y", "YYYY": "%Y", "MMMM": "%B", "MMM": "%b", "MM": "%m", "M": "%-m",
	"dd": "%d", "d": "%-d", "HH": "%H", "H": "%-H", "hh": "%I", "h": "%-I", "mm": "%M", "m": "%-M",
	"ss": "%S", "s": "%-S", "SSS": "%g", "SSSSSS": "%f", "a": "%p", "EEEE": "%A", "EEE": "%a", "E": "%a",
	"DDD": "%j", "D": "%-j", "Z": "%z", "ZZ": "%z", "z": "%Z", "xxxx": "%G", "ww": "%V", "e": "%u",
}

// ConvertJodaFormat converts a Joda-Time pattern (Presto format_datetime)
// to a strftime pattern: 'yyyy-MM-dd HH:mm' → '%Y-%m-%d %H:%M'. Text in
// single quotes is literal; unknown letters are kept as written.
func ConvertJodaFormat(f string) string {
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == '\'':
			// 'text' is literal, '' is a quote (inside or outside text).
			j := i + 1
			if j < len(f) && f[j] == '\'' {
				b.WriteByte('\'')
				i = j + 1
				continue
			}
			for ; j < len(f); j++ {
				if f[j] == '\'' {
					if j+1 < len(f) && f[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				if f[j] == '%' {
					b.WriteByte('%')
				}
				b.WriteByte(f[j])
			}
			i = j + 1
		case c|0x20 >= 'a' && c|0x20 <= 'z':
			j := i
			for j < len(f) && f[j] == c {
				j++
			}
			if r, ok := jodaFields[f[i:j]]; ok {
				b.WriteString(r)
			} else {
				b.WriteString(f[i:j])
			}
			i = j
		case c == '%':
			b.WriteString("%%")
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
