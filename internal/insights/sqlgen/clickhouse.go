package sqlgen

import (
	"strings"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

// ClickHouse renders SQL for a ClickHouse store (MergeTree tables behind
// the same flows view).
type ClickHouse struct{}

var _ Dialect = ClickHouse{}

// Name implements Dialect.
func (ClickHouse) Name() string { return "clickhouse" }

var chEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "'", `\'`)

// Ident quotes an identifier with backticks.
func (ClickHouse) Ident(s string) string { return "`" + chEscaper.Replace(s) + "`" }

// Str writes a string literal with backslash escapes.
func (ClickHouse) Str(s string) string { return "'" + chEscaper.Replace(s) + "'" }

// Dedup keeps the first row per key with LIMIT 1 BY; rows with a NULL key
// are never duplicates (as in DuckDB): they get a key of their own, their
// row number.
func (ClickHouse) Dedup(keys []string, order string) (string, string) {
	nulls := make([]string, len(keys))
	for i, k := range keys {
		nulls[i] = "isNull(" + k + ")"
	}
	own := "if(" + strings.Join(nulls, " OR ") + ", rowNumberInAllBlocks() + 1, 0)"
	return "", "LIMIT 1 BY " + strings.Join(keys, ", ") + ", " + own
}

// chGroup renders capture group k of the first match of the regular
// expression literal re in s (NULL without a match). extractGroups (the
// 20.x series) is not in 18.16; replaceRegexpOne is in every release but
// its replacement names groups 0 to 9 only.
func (d ClickHouse) chGroup(s, re, k string) string {
	if len(k) == 1 && k[0] >= '0' && k[0] <= '9' {
		whole := "concat(" + d.Str(`\A(?s:.*?)(?:`) + ", " + re + ", " + d.Str(`)(?s:.*)\z`) + ")"
		return "if(match(" + s + ", " + re + "), replaceRegexpOne(" + s + ", " + whole + ", " + d.Str(`\`+k) + "), NULL)"
	}
	return "if(match(" + s + ", " + re + "), extractGroups(" + s + ", " + re + ")[" + k + "], NULL)"
}

// chCharClass turns a rendered string literal into a regular expression
// class of its characters (ok is false for anything but a literal).
func chCharClass(lit string) (string, bool) {
	if len(lit) < 3 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", false
	}
	var b strings.Builder
	b.WriteString("[")
	body := lit[1 : len(lit)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\\' && i+1 < len(body) {
			i++
			c = body[i]
		} else if c == '\'' || c == '\\' {
			return "", false
		}
		if c < 0x20 || c >= 0x7f {
			return "", false
		}
		if strings.IndexByte(`\^]-[`, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteString("]")
	return b.String(), true
}

// chNotNullText is s as a non-Nullable string for the functions that
// return an array (an array cannot be Nullable): NULL becomes the empty string.
func chNotNullText(s string) string { return "ifNull(" + s + ", '')" }

// chIPv6Hex is ipv6Hex with the functions of every ClickHouse release (no
// trim(BOTH … FROM …), no CAST AS INTEGER, concat for ||).
func (d ClickHouse) chIPv6Hex(x string) string {
	colons := "(length(" + x + ") - length(replaceAll(" + x + ", ':', '')))"
	edges := "(if(startsWith(" + x + ", ':'), 1, 0) + if(endsWith(" + x + ", ':'), 1, 0))"
	missing := "toUInt64(greatest(8 - " + colons + " + " + edges + ", 0))"
	// '::' becomes the missing zero groups (replaceAll's replacement must
	// be a constant in 18.16: the text is cut around it instead)
	at := "position(" + x + ", '::')"
	zeros := "arrayStringConcat(arrayMap(_r -> '0:', range(ifNull(" + missing + ", 0))))"
	filled := "if(" + at + " = 0, " + x + ", concat(substring(" + x + ", 1, " + at + " - 1), ':', " + zeros + ", substring(" + x + ", " + at + " + 2)))"
	full := "replaceRegexpAll(" + filled + ", '^:+|:+$', '')"
	padded := "replaceAll(concat(':', " + full + "), ':', ':000')"
	return "replaceAll(replaceRegexpAll(" + padded + ", ':0*([0-9a-f]{4})', " + d.Str(`\1`) + "), ':', '')"
}

// Values renders an inline table: the tuples of an arrayJoin (the values()
// table function is not in 18.16), each value cast to its column's type.
func (d ClickHouse) Values(alias string, cols []string, types []plan.Type, rows [][]string) string {
	typ := make([]string, len(cols))
	for i := range cols {
		typ[i] = "Nullable(String)"
		if types[i] == plan.TypeNumber {
			typ[i] = "Nullable(Int64)"
		}
	}
	sel := make([]string, len(cols))
	if len(rows) == 0 {
		for i, c := range cols {
			sel[i] = "CAST(NULL AS " + typ[i] + ") AS " + c
		}
		return "(SELECT " + strings.Join(sel, ", ") + " LIMIT 0) AS " + d.Ident(alias)
	}
	tuples := make([]string, len(rows))
	for i, r := range rows {
		vals := make([]string, len(r))
		for j, v := range r {
			vals[j] = "CAST(" + v + " AS " + typ[j] + ")"
		}
		tuples[i] = "tuple(" + strings.Join(vals, ", ") + ")"
	}
	for i, c := range cols {
		sel[i] = "tupleElement(_v, " + itoa(int64(i+1)) + ") AS " + c
	}
	return "(SELECT " + strings.Join(sel, ", ") + " FROM (SELECT arrayJoin([" + strings.Join(tuples, ", ") + "]) AS _v)) AS " + d.Ident(alias)
}

// JSONGet implements Dialect: keys as arguments, indexes 1-based, a
// missing value (”) or JSON null read as NULL.
func (d ClickHouse) JSONGet(x string, path []JSONStep) string {
	args := []string{x}
	for _, s := range path {
		if s.IsKey {
			args = append(args, d.Str(s.Key))
		} else {
			args = append(args, "toInt64("+s.Index+") + 1")
		}
	}
	return "nullIf(nullIf(JSONExtractRaw(" + strings.Join(args, ", ") + "), ''), 'null')"
}

// chBase64Encode renders base64 with padding (DuckDB's to_base64):
// base64Encode is not in Debian's 18.16 build. The text's hex is cut into
// groups of 3 bytes, each read as a number whose 6-bit parts index the
// alphabet; a short last group ends in '='.
func chBase64Encode(x string) string {
	const alphabet = "'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'"
	char := func(v string) string { return "substring(" + alphabet + ", " + v + " % 64 + 1, 1)" }
	group := "concat(" + char("intDiv(_v, 262144)") + ", " + char("intDiv(_v, 4096)") +
		", if(length(_c) < 4, '=', " + char("intDiv(_v, 64)") + "), if(length(_c) < 6, '=', " + char("_v") + "))"
	value := "reinterpretAsUInt32(reverse(unhex(concat('00', _c, substring('0000', 1, 6 - length(_c))))))"
	groups := "arrayMap(_c -> " + chLet(value, "_v", group) + ", extractAll(hex(" + chNotNullText(x) + "), '[0-9A-F]{1,6}'))"
	return "if(isNull(" + x + "), NULL, arrayStringConcat(" + groups + "))"
}

// chJSONObject reports, on ClickHouse, whether x is JSON text of an
// object or NULL by construction (histogram), which json_text leaves as
// it is: there it needs JSONType (20.1) to tell.
func (g *gen) chJSONObject(x plan.Expr) bool {
	c, ok := x.(*plan.Call)
	return ok && g.d.Name() == "clickhouse" && c.Fn == "histogram"
}

// chLet binds x to name for body, computing x once.
func chLet(x, name, body string) string {
	return "arrayMap(" + name + " -> " + body + ", [" + x + "])[1]"
}

// chG12 renders printf('%.12g', x) (DuckDB's text of a histogram bound)
// for x not 0: ClickHouse has no printf. The 12 significant digits are
// the integer round(|x| · 10^(11-e)) (half to even), e the decimal exponent (one more
// when the rounding carries), written with the point after e+1 digits and
// the trailing zeros dropped, or as d.ddde±XX when e < -4 or e ≥ 12.
func chG12(x string) string {
	digits := "toString(_gm)"
	frac := func(from string) string {
		return "replaceRegexpOne(substring(" + digits + ", " + from + "), '0+$', '')"
	}
	point := func(f string) string { return "if(" + f + " = '', '', concat('.', " + f + "))" }
	fixed := "if(_ge >= 0, concat(substring(" + digits + ", 1, _ge + 1), " + point(frac("_ge + 2")) + "), " +
		"concat('0.', substring('0000', 1, -1 - _ge), " + frac("1") + "))"
	exp := "concat(substring(" + digits + ", 1, 1), " + point(frac("2")) + ", if(_ge < 0, 'e-', 'e+'), if(abs(_ge) < 10, '0', ''), toString(abs(_ge)))"
	text := "concat(if(_gx < 0, '-', ''), if(_ge < -4 OR _ge >= 12, " + exp + ", " + fixed + "))"
	carried := chLet("if(_gn >= 1000000000000, intDiv(_gn, 10), _gn)", "_gm", chLet("if(_gn >= 1000000000000, _gf + 1, _gf)", "_ge", text))
	// half to even, as printf rounds an exact half
	even := "toInt64(floor(_gs)) + if(_gs - floor(_gs) > 0.5 OR (_gs - floor(_gs) = 0.5 AND toInt64(floor(_gs)) % 2 = 1), 1, 0)"
	scaled := chLet(chLet("abs(_gx) * pow(10, 11 - _gf)", "_gs", even), "_gn", carried)
	return chLet(x, "_gx", chLet("toInt64(floor(log10(abs(_gx))))", "_gf", scaled))
}

// chHistogram renders histogram(v, n) like duckHistogram, over the array
// of the group's values.
func chHistogram(v, n string) string {
	lo, hi := "arrayReduce('min', _h)", "arrayReduce('max', _h)"
	w := "((" + hi + " - " + lo + ") / " + n + ")"
	bound := "(" + lo + " + _i * " + w + ")"
	key := "if(" + bound + " = trunc(" + bound + ") AND abs(" + bound + ") < 1e15, toString(toInt64(" + bound + ")), " + chG12(bound) + ")"
	idx := "if(" + hi + " = " + lo + ", 0, least(toInt64(floor((_e - " + lo + ") / " + w + ")), " + n + " - 1))"
	count := "arrayCount(_e -> " + idx + " = _i, _h)"
	buckets := "range(if(" + hi + " = " + lo + ", 1, " + n + "))"
	body := "if(empty(_h), NULL, concat('{', arrayStringConcat(arrayMap(_i -> concat('\"', " + key + ", '\":', toString(" + count + ")), " + buckets + "), ','), '}'))"
	return chLet("groupArray("+v+")", "_h", body)
}

// Func implements Dialect.
func (d ClickHouse) Func(fn string, a []string) (string, bool) {
	one := func(name string) (string, bool) { return name + "(" + a[0] + ")", true }
	switch fn {
	case "checked", "try":
		return a[0], true
	case "todouble_raw":
		return "toFloat64(" + a[0] + ")", true
	case "tobigint":
		return "toInt64OrNull(toString(" + a[0] + "))", true
	case "fdiv":
		return "(" + a[0] + " / " + a[1] + ")", true
	case "intdiv":
		return "intDiv(" + a[0] + ", " + a[1] + ")", true
	case "contains":
		return "(position(" + a[0] + ", " + a[1] + ") > 0)", true
	case "starts_with":
		return "startsWith(" + a[0] + ", " + a[1] + ")", true
	case "ends_with":
		return "endsWith(" + a[0] + ", " + a[1] + ")", true
	case "regexp":
		return "match(" + a[0] + ", " + a[1] + ")", true
	case "regexp_extract":
		return d.chGroup(a[0], a[1], a[2]), true
	case "tonumber", "todouble":
		return "toFloat64OrNull(toString(" + a[0] + "))", true
	case "tostring":
		return one("toString")
	case "bool2int":
		return one("toInt32")
	case "toint":
		return "toInt32OrNull(toString(trunc(toFloat64OrNull(toString(" + a[0] + ")))))", true
	case "tolong":
		return "toInt64OrNull(toString(trunc(toFloat64OrNull(toString(" + a[0] + ")))))", true
	case "strlen":
		return one("lengthUTF8")
	case "messagesize":
		return one("length")
	case "toupper":
		return one("upper")
	case "tolower":
		return one("lower")
	case "replace":
		return "replaceAll(" + strings.Join(a, ", ") + ")", true
	case "regexreplace":
		return "replaceRegexpAll(" + strings.Join(a, ", ") + ")", true
	case "urlencode":
		// encodeURLComponent is 22.3: every byte as %25XX, the unreserved
		// ones (A-Z a-z 0-9 - . _ ~) as %XX, then decoded (DuckDB's
		// url_encode: upper-case hex)
		marked := "replaceRegexpAll(hex(" + a[0] + "), '(..)', " + d.Str(`%25\1`) + ")"
		return "decodeURLComponent(replaceRegexpAll(" + marked + ", '%25(2[DE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE])', " + d.Str(`%\1`) + "))", true
	case "urldecode":
		return one("decodeURLComponent")
	case "base64encode":
		return chBase64Encode(a[0]), true
	case "base64decode":
		return one("base64Decode")
	case "hextoascii":
		return one("unhex")
	case "hextodec":
		return "reinterpretAsUInt64(reverse(unhex(replaceRegexpOne(" + a[0] + ", '^0[xX]', ''))))", true
	case "dectohex":
		return "concat(if(" + a[0] + " < 0, '-0x', '0x'), lower(hex(toUInt64(abs(trunc(" + a[0] + "))))))", true
	case "md5":
		return "lower(hex(MD5(" + a[0] + ")))", true
	case "sha256":
		return "lower(hex(SHA256(" + a[0] + ")))", true
	case "count_distinct":
		// an all-NULL group counts 0 distinct values (NULL in 18.16)
		return "ifNull(uniqExact(" + a[0] + "), 0)", true
	case "stddev":
		return one("stddevSamp")
	case "sortsfirst":
		return one("min")
	case "sortslast":
		return one("max")
	case "pct":
		// the nearest rank: the ceil(p·n)-th smallest value (quantileExact
		// takes the floor(p·n)+1-th)
		return "if(count(" + a[0] + ") = 0, NULL, arrayElement(arraySort(groupArray(" + a[0] + ")), toUInt64(greatest(ceil(" + a[1] + " * count(" + a[0] + ")), 1))))", true
	case "earliest":
		return "argMin(" + a[0] + ", " + a[1] + ")", true
	case "latest":
		return "argMax(" + a[0] + ", " + a[1] + ")", true
	case "concat":
		parts := make([]string, len(a))
		for i, s := range a {
			parts[i] = "ifNull(toString(" + s + "), '')"
		}
		return "concat(" + strings.Join(parts, ", ") + ")", true
	case "concat_ws":
		// concat_ws skips NULLs; arrayStringConcat (every ClickHouse
		// release) joins non-Nullable strings.
		return "arrayStringConcat(arrayMap(_x -> assumeNotNull(_x), arrayFilter(_x -> isNotNull(_x), [" + strings.Join(a[1:], ", ") + "])), " + a[0] + ")", true
	case "bool_literal":
		// TRUE and FALSE are literals from ClickHouse 21 on; 1 and 0 are
		// booleans in every release.
		if a[0] == "TRUE" {
			return "1", true
		}
		return "0", true
	case "ltrim", "rtrim", "trim":
		if len(a) == 1 {
			// trimLeft/trimRight/trimBoth are not in 18.16: spaces by regex
			re := map[string]string{"ltrim": "^ +", "rtrim": " +$", "trim": "^ +| +$"}[fn]
			return "replaceRegexpAll(" + a[0] + ", " + d.Str(re) + ", '')", true
		}
		if set, ok := chCharClass(a[1]); ok {
			// trim(BOTH … FROM …) is not in 18.16: the characters by regex
			re := map[string]string{"ltrim": "^" + set + "+", "rtrim": set + "+$", "trim": "^" + set + "+|" + set + "+$"}[fn]
			return "replaceRegexpAll(" + a[0] + ", " + d.Str(re) + ", '')", true
		}
		side := map[string]string{"ltrim": "LEADING", "rtrim": "TRAILING", "trim": "BOTH"}[fn]
		return "trim(" + side + " " + a[1] + " FROM " + a[0] + ")", true
	case "substr":
		return "substringUTF8(" + strings.Join(a, ", ") + ")", true
	case "formatdate":
		return "formatDateTime(toDateTime(intDiv(" + a[0] + ", 1000), 'UTC'), " + a[1] + ")", true
	case "parsedate":
		if sql, ok := d.chParseDate(a[0], a[1]); ok {
			return sql, true
		}
		return "(toUnixTimestamp64Milli(parseDateTime64BestEffortOrNull(" + a[0] + ", 3, 'UTC')))", true
	case "month_index":
		ts := "toDateTime(intDiv(" + a[0] + ", 1000), 'UTC')"
		return "(toYear(" + ts + ") * 12 + toMonth(" + ts + ") - 1)", true
	case "month_start":
		// makeDateTime is not in 18.16: months added to 1970-01-01
		return "(toUnixTimestamp(toDateTime(addMonths(toDate(0), toInt32(" + a[0] + ") - 23640), 'UTC')) * 1000)", true
	case "ipv4num":
		// isIPv4String is not in 18.16: a dotted quad by pattern
		octet := `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
		return "if(match(" + a[0] + ", " + d.Str(`^`+octet+`(\.`+octet+`){3}$`) + "), toInt64(IPv4StringToNum(" + a[0] + ")), NULL)", true
	case "isipv6":
		// isIPv6String is not in 18.16: DuckDB's test
		return "(position(" + a[0] + ", ':') > 0 AND match(" + a[0] + ", '^[0-9A-Fa-f:.]+$'))", true
	case "ipv6hex":
		return d.chIPv6Hex(a[0]), true
	case "hexdigit":
		return "(position('0123456789abcdef', " + a[0] + ") - 1)", true
	case "bitand":
		return "bitAnd(" + a[0] + ", " + a[1] + ")", true
	case "pow":
		return "pow(" + a[0] + ", " + a[1] + ")", true
	case "filldown":
		return one("anyLast")
	case "lag":
		return "lagInFrame(" + a[0] + ", " + a[1] + ")", true
	case "count_if":
		return one("countIf")
	case "csv_field":
		f := d.chGroup(a[0], a[1], "1")
		return chLet(f, "_f", `if(startsWith(_f, '"'), replaceAll(substring(_f, 2, length(_f) - 2), '""', '"'), replaceRegexpAll(_f, '^ +| +$', ''))`), true
	case "regexp_extract_all":
		// an array cannot be NULL in ClickHouse: no match is an empty list
		return "extractAll(" + chNotNullText(a[0]) + ", " + a[1] + ")", true
	case "json_parse":
		return chLet(a[0], "_j", "if(isValidJSON(_j) AND JSONType(_j) IN ('Object', 'Array'), JSONExtractRaw(_j), NULL)"), true
	case "json_text":
		return chLet(a[0], "_j", "if(JSONType(_j) = 'String', JSONExtractString(_j), _j)"), true
	case "json_array_size":
		return chLet(a[0], "_j", "if(isValidJSON(_j) AND JSONType(_j) = 'Array', toInt64(JSONLength(_j)), NULL)"), true
	case "json_array_contains":
		elems := chLet(a[0], "_j", "if(isValidJSON(_j) AND JSONType(_j) = 'Array', arrayMap(_e -> if(JSONType(_e) = 'String', JSONExtractString(_e), _e), JSONExtractArrayRaw(_j)), [])")
		return "if(has(" + elems + ", " + a[1] + "), 1, 0)", true
	case "unnest_json":
		return "arrayJoin(JSONExtractArrayRaw(" + a[0] + "))", true
	case "logfmt":
		value := "if(_p[2] = '', 'true', if(_p[4] = '' AND startsWith(_p[2], '=\"'), replaceRegexpAll(_p[3], " + d.Str(`\\(.)`) + ", " + d.Str(`\1`) + "), _p[4]))"
		pairs := "arrayMap(_p -> concat(toJSONString(_p[1]), ':', toJSONString(" + value + ")), extractAllGroupsVertical(_s, " + d.Str(logfmtRegex) + "))"
		return chLet(a[0], "_s", chLet(pairs, "_q", "if(empty(_q), NULL, concat('{', arrayStringConcat(_q, ','), '}'))")), true
	case "histogram":
		return chHistogram(a[0], a[1]), true
	case "quantile_if":
		return "quantileIf(" + a[1] + ")(" + a[0] + ", " + a[2] + ")", true
	case "unpivot":
		// arrayZip is not in 18.16 (20.1): arrayMap over several arrays
		// builds the same tuples in every release
		params := make([]string, len(a)-1)
		for i := range params {
			params[i] = "_z" + itoa(int64(i))
		}
		zip := "arrayMap((" + strings.Join(params, ", ") + ") -> tuple(" + strings.Join(params, ", ") + "), " + strings.Join(a[1:], ", ") + ")"
		return "tupleElement(arrayJoin(" + zip + "), " + a[0] + ")", true
	case "split":
		// NULL splits into no parts (DuckDB: a NULL list; unnest gives no row either way)
		return "if(isNull(" + a[0] + "), emptyArrayString(), splitByString(" + a[1] + ", " + chNotNullText(a[0]) + "))", true
	case "unnest":
		return one("arrayJoin")
	case "list_get":
		// out of range is NULL as in DuckDB (arrayElement gives '' or 0)
		// (not through chLet: 18.16 gives '' for if(…, NULL, arrayElement(…))
		// inside a lambda; ClickHouse computes the repeated array once)
		i := "toInt64(" + a[1] + ") + 1"
		// materialize: 18.16 reads '' at a constant signed positive index
		return "if(" + i + " = 0 OR abs(" + i + ") > length(" + a[0] + "), NULL, arrayElement(" + a[0] + ", materialize(" + i + ")))", true
	case "list_text":
		// JSON text of a list of strings (toJSONString is not in 18.16)
		elem := "concat('\"', replaceAll(replaceAll(toString(_e), " + d.Str(`\`) + ", " + d.Str(`\\`) + "), '\"', " + d.Str(`\"`) + "), '\"')"
		return "concat('[', arrayStringConcat(arrayMap(_e -> " + elem + ", " + a[0] + "), ','), ']')", true
	case "quantile_cont":
		return "quantile(" + a[1] + ")(" + a[0] + ")", true
	}
	return "", false
}
