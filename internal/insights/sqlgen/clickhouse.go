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

// Dedup keeps the first row per key with LIMIT 1 BY (rows with NULL keys
// are grouped together here: a documented difference from DuckDB).
func (ClickHouse) Dedup(keys []string, order string) (string, string) {
	return "", "LIMIT 1 BY " + strings.Join(keys, ", ")
}

// Values renders an inline table with the values() table function.
func (d ClickHouse) Values(alias string, cols []string, types []plan.Type, rows [][]string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		t := "Nullable(String)"
		if types[i] == plan.TypeNumber {
			t = "Nullable(Int64)"
		}
		parts[i] = c + " " + t
	}
	structure := d.Str(strings.Join(parts, ", "))
	if len(rows) == 0 {
		return "(SELECT * FROM values(" + structure + ", (" + strings.Repeat("NULL, ", len(cols)-1) + "NULL)) LIMIT 0) AS " + d.Ident(alias)
	}
	tuples := make([]string, len(rows))
	for i, r := range rows {
		tuples[i] = "(" + strings.Join(r, ", ") + ")"
	}
	return "(SELECT * FROM values(" + structure + ", " + strings.Join(tuples, ", ") + ")) AS " + d.Ident(alias)
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

// chLet binds x to name for body, computing x once.
func chLet(x, name, body string) string {
	return "arrayMap(" + name + " -> " + body + ", [" + x + "])[1]"
}

// chHistogram renders histogram(v, n) like duckHistogram, over the array
// of the group's values.
func chHistogram(v, n string) string {
	lo, hi := "arrayReduce('min', _h)", "arrayReduce('max', _h)"
	w := "((" + hi + " - " + lo + ") / " + n + ")"
	bound := "(" + lo + " + _i * " + w + ")"
	key := "if(" + bound + " = trunc(" + bound + ") AND abs(" + bound + ") < 1e15, toString(toInt64(" + bound + ")), toString(round(" + bound + ", 10)))"
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
		return "if(match(" + a[0] + ", " + a[1] + "), extractGroups(" + a[0] + ", " + a[1] + ")[" + a[2] + "], NULL)", true
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
		return one("encodeURLComponent")
	case "urldecode":
		return one("decodeURLComponent")
	case "base64encode":
		return one("base64Encode")
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
		return "quantileExact(" + a[1] + ")(" + a[0] + ")", true
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
		name := map[string]string{"ltrim": "trimLeft", "rtrim": "trimRight", "trim": "trimBoth"}[fn]
		if len(a) == 1 {
			return one(name)
		}
		side := map[string]string{"ltrim": "LEADING", "rtrim": "TRAILING", "trim": "BOTH"}[fn]
		return "trim(" + side + " " + a[1] + " FROM " + a[0] + ")", true
	case "substr":
		return "substringUTF8(" + strings.Join(a, ", ") + ")", true
	case "formatdate":
		return "formatDateTime(toDateTime(intDiv(" + a[0] + ", 1000), 'UTC'), " + a[1] + ")", true
	case "parsedate":
		return "(toUnixTimestamp64Milli(parseDateTime64BestEffortOrNull(" + a[0] + ", 3, 'UTC')))", true
	case "month_index":
		ts := "toDateTime(intDiv(" + a[0] + ", 1000), 'UTC')"
		return "(toYear(" + ts + ") * 12 + toMonth(" + ts + ") - 1)", true
	case "month_start":
		return "(toUnixTimestamp(makeDateTime(intDiv(" + a[0] + ", 12), (" + a[0] + ") % 12 + 1, 1, 0, 0, 0, 'UTC')) * 1000)", true
	case "ipv4num":
		return "if(isIPv4String(" + a[0] + "), toInt64(IPv4StringToNum(" + a[0] + ")), NULL)", true
	case "isipv6":
		return one("isIPv6String")
	case "ipv6hex":
		return ipv6Hex(a[0], "replaceRegexpAll(%s, %s, %s)", func(s, chars string) string { return "trim(BOTH " + chars + " FROM " + s + ")" }), true
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
		f := "if(match(" + a[0] + ", " + a[1] + "), extractGroups(" + a[0] + ", " + a[1] + ")[1], NULL)"
		return chLet(f, "_f", `if(startsWith(_f, '"'), replaceAll(substring(_f, 2, length(_f) - 2), '""', '"'), trimBoth(_f))`), true
	case "regexp_extract_all":
		// an array cannot be NULL in ClickHouse: no match is an empty list
		return "extractAll(" + a[0] + ", " + a[1] + ")", true
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
		return "tupleElement(arrayJoin(arrayZip(" + a[1] + ", " + a[2] + ", " + a[3] + ")), " + a[0] + ")", true
	case "split":
		return "splitByString(" + a[1] + ", " + a[0] + ")", true
	case "unnest":
		return one("arrayJoin")
	case "list_get":
		return "arrayElement(" + a[0] + ", toInt64(" + a[1] + ") + 1)", true
	case "list_text":
		return one("toString")
	case "quantile_cont":
		return "quantile(" + a[1] + ")(" + a[0] + ")", true
	}
	return "", false
}
