package sqlgen

import (
	"regexp"
	"strings"
)

// chSpace is the whitespace DuckDB's strptime skips and matches for a
// space of the pattern.
const chSpace = `[\t\n\v\f\r ]`

// chDateSpec is one conversion of a strptime pattern: the digits or text
// it reads.
type chDateSpec struct {
	re    string // what it reads, without a capture
	maxRe string // the same at its widest, when a number follows at once
}

var chDateSpecs = map[byte]chDateSpec{
	'Y': {`[0-9]{1,4}`, `[0-9]{4}`},
	'y': {`[0-9]{1,2}`, `[0-9]{2}`},
	'm': {`[0-9]{1,2}`, `[0-9]{2}`},
	'd': {`[0-9]{1,2}`, `[0-9]{2}`},
	'H': {`[0-9]{1,2}`, `[0-9]{2}`},
	'M': {`[0-9]{1,2}`, `[0-9]{2}`},
	'S': {`[0-9]{1,2}`, `[0-9]{2}`},
	'g': {`[0-9]{1,3}`, `[0-9]{3}`},
	'b': {`(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)`, ""},
	'z': {`[+-][0-9]{2}:?(?:[0-9]{2})?`, ""},
}

// chParseDate renders DuckDB's epoch_ms(try_strptime(s, pattern)) for the
// patterns parseDate() produces (%Y %y %m %b %d %H %M %S %g %z %% and
// text): parseDateTime64BestEffortOrNull (20.x) is not in 18.16, and a
// best-effort parse reads what strptime rejects. The pattern becomes a
// regular expression with DuckDB's rules: whitespace around the text is
// skipped, a space of the pattern matches one whitespace character or
// more, numbers are 1 to 4 (%Y), 2 (%m %d %H %M %S %y) or 3 (%g: the
// fraction's digits) digits, read as long as they go (a number directly
// followed by another reads its widest), %b a month's three letters in
// any case, %z ±HH[:][MM]. Each field is read by a replaceRegexpOne of its
// own, the date checked (month, days of the month, leap years, hours,
// minutes, seconds) and the epoch computed from the proleptic Gregorian
// calendar (year 0 and before 1970 included: no Date type); a missing
// field is that of 1900-01-01 00:00:00. ok is false for a pattern that is
// not a literal or has another conversion.
func (d ClickHouse) chParseDate(s, patLit string) (string, bool) {
	pat, ok := chUnquote(patLit)
	if !ok {
		return "", false
	}
	type part struct {
		conv byte   // 0: text
		re   string // text: its regular expression
	}
	var parts []part
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '%' && i+1 < len(pat) && pat[i+1] == '%':
			parts = append(parts, part{re: `%`})
			i++
		case c == '%' && i+1 < len(pat):
			if _, ok := chDateSpecs[pat[i+1]]; !ok {
				return "", false
			}
			parts = append(parts, part{conv: pat[i+1]})
			i++
		case c == '%':
			return "", false
		case strings.IndexByte(" \t\n\v\f\r", c) >= 0:
			if n := len(parts); n > 0 && parts[n-1].re == chSpace+"+" {
				continue
			}
			parts = append(parts, part{re: chSpace + "+"})
		default:
			parts = append(parts, part{re: regexp.QuoteMeta(string(c))})
		}
	}
	numeric := func(k int) bool {
		return k < len(parts) && parts[k].conv != 0 && chDateSpecs[parts[k].conv].maxRe != ""
	}
	// field returns the regular expression of the whole pattern with the
	// conversion at k captured (-1: none)
	field := func(k int) string {
		var b strings.Builder
		b.WriteString(`^` + chSpace + `*`)
		for i, p := range parts {
			re := p.re
			if p.conv != 0 {
				sp := chDateSpecs[p.conv]
				re = sp.re
				if numeric(i) && numeric(i+1) {
					re = sp.maxRe
				}
				if i == k {
					re = "(" + re + ")"
				}
			}
			b.WriteString(re)
		}
		b.WriteString(chSpace + `*$`)
		return b.String()
	}
	at := map[byte]int{}
	for i, p := range parts {
		if p.conv != 0 {
			at[p.conv] = i // the last one of a conversion wins
		}
	}
	// the fields' texts are the arguments of one lambda, whose body
	// reads each (several times) as a parameter
	var params, args []string
	text := func(conv byte, name string) (string, bool) {
		k, ok := at[conv]
		if !ok {
			return "", false
		}
		params = append(params, name)
		args = append(args, "[replaceRegexpOne("+s+", "+d.Str(field(k))+", "+d.Str(`\1`)+")]")
		return name, true
	}
	num := func(conv byte, name, missing string) string {
		if v, ok := text(conv, name); ok {
			return "toInt64OrZero(" + v + ")"
		}
		return missing
	}
	year := num('Y', "_dY", "1900")
	if _, hasY := at['Y']; !hasY {
		if v, ok := text('y', "_dy"); ok {
			year = "if(toInt64OrZero(" + v + ") < 69, 2000, 1900) + toInt64OrZero(" + v + ")"
			year = "(" + year + ")"
		}
	}
	month := num('m', "_dm", "1")
	if v, ok := text('b', "_db"); ok {
		month = "toInt64(transform(lower(" + v + "), ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 0))"
	}
	day, hour, minute, sec := num('d', "_dd", "1"), num('H', "_dH", "0"), num('M', "_dM", "0"), num('S', "_dS", "0")
	ms := "0"
	if v, ok := text('g', "_dg"); ok {
		// the fraction's digits: .2 is 200 ms
		ms = "toInt64OrZero(" + v + ") * [100, 10, 1][length(" + v + ")]"
	}
	offset := "0" // minutes east of UTC
	if v, ok := text('z', "_dz"); ok {
		hhmm := "replaceAll(" + v + ", ':', '')"
		offset = "(if(substring(" + v + ", 1, 1) = '-', -1, 1) * (toInt64OrZero(substring(" + hhmm + ", 2, 2)) * 60 + toInt64OrZero(substring(" + hhmm + ", 4, 2))))"
	}
	// days from 1970-01-01 of year, month, day (the inverse of civil from
	// days; the year is never negative: its era is a floor division)
	ys := "(" + year + " - if(" + month + " <= 2, 1, 0))"
	era := "(intDiv(" + ys + " + 400, 400) - 1)"
	yoe := "(" + ys + " - " + era + " * 400)"
	doy := "(intDiv(153 * (" + month + " + if(" + month + " > 2, -3, 9)) + 2, 5) + " + day + " - 1)"
	doe := "(" + yoe + " * 365 + intDiv(" + yoe + ", 4) - intDiv(" + yoe + ", 100) + " + doy + ")"
	days := "(" + era + " * 146097 + " + doe + " - 719468)"
	epoch := "((((" + days + " * 24 + " + hour + ") * 60 + " + minute + " - " + offset + ") * 60 + " + sec + ") * 1000 + " + ms + ")"
	leap := "((" + year + " % 4 = 0 AND " + year + " % 100 != 0) OR " + year + " % 400 = 0)"
	dim := "multiIf(" + month + " = 2, if(" + leap + ", 29, 28), " + month + " IN (4, 6, 9, 11), 30, 31)"
	valid := month + " BETWEEN 1 AND 12 AND " + day + " BETWEEN 1 AND " + dim +
		" AND " + hour + " <= 23 AND " + minute + " <= 59 AND " + sec + " <= 59"
	body := "if(" + valid + ", " + epoch + ", NULL)"
	if len(params) > 0 {
		body = "arrayMap((" + strings.Join(params, ", ") + ") -> " + body + ", " + strings.Join(args, ", ") + ")[1]"
	}
	return "if(match(" + s + ", " + d.Str(field(-1)) + "), " + body + ", NULL)", true
}

// chUnquote reads a string literal as Str writes it.
func chUnquote(lit string) (string, bool) {
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", false
	}
	var b strings.Builder
	body := lit[1 : len(lit)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\\' {
			if i+1 >= len(body) {
				return "", false
			}
			i++
			c = body[i]
		} else if c == '\'' {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}
