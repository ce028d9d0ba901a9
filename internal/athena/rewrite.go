package athena

import (
	"regexp"
	"strings"
)

// dateFormatRE finds date_format(…, '<literal>') and date_parse(…, '<literal>')
// calls whose format is a string literal (DuckDB needs a constant format).
var dateFormatRE = regexp.MustCompile(`(?i)\b(date_format|date_parse)\s*\(`)

// Rewrite turns the Presto calls that cannot be macros into DuckDB
// equivalents: date_format(ts, 'fmt') → strftime(CAST(ts AS TIMESTAMP),
// 'fmt2') and date_parse(s, 'fmt') → strptime(s, 'fmt2'), with the
// MySQL-style format converted. Calls whose format is not a literal are left
// alone (DuckDB then reports the unknown function).
func Rewrite(sql string) string {
	var out strings.Builder
	i := 0
	for {
		loc := dateFormatRE.FindStringSubmatchIndex(sql[i:])
		if loc == nil {
			out.WriteString(sql[i:])
			return out.String()
		}
		start, open := i+loc[0], i+loc[1]
		name := strings.ToLower(sql[i+loc[2] : i+loc[3]])
		arg, fmtLit, end, ok := splitFormatCall(sql, open)
		if !ok {
			out.WriteString(sql[i:open])
			i = open
			continue
		}
		out.WriteString(sql[i:start])
		conv := quote(ConvertFormat(fmtLit))
		if name == "date_format" {
			out.WriteString("strftime(CAST(" + arg + " AS TIMESTAMP), " + conv + ")")
		} else {
			out.WriteString("strptime(" + arg + ", " + conv + ")")
		}
		i = end
	}
}

// splitFormatCall parses `arg, 'literal')` starting at pos (just after the
// opening parenthesis). It returns the first argument's text, the literal's
// value and the position after the closing parenthesis.
func splitFormatCall(s string, pos int) (arg, lit string, end int, ok bool) {
	depth := 0
	inStr := false
	comma := -1
	for j := pos; j < len(s); j++ {
		c := s[j]
		if inStr {
			if c == '\'' {
				if j+1 < len(s) && s[j+1] == '\'' {
					j++
					continue
				}
				inStr = false
			}
			continue
		}
		switch c {
		case '\'':
			inStr = true
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				comma = j
			}
		}
		if comma >= 0 {
			break
		}
	}
	if comma < 0 {
		return "", "", 0, false
	}
	j := comma + 1
	for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
		j++
	}
	if j >= len(s) || s[j] != '\'' {
		return "", "", 0, false
	}
	var b strings.Builder
	j++
	for ; j < len(s); j++ {
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				b.WriteByte('\'')
				j++
				continue
			}
			break
		}
		b.WriteByte(s[j])
	}
	if j >= len(s) {
		return "", "", 0, false
	}
	j++
	for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
		j++
	}
	if j >= len(s) || s[j] != ')' {
		return "", "", 0, false
	}
	return strings.TrimSpace(s[pos:comma]), b.String(), j + 1, true
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

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
