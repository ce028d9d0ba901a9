package sqlgen

import (
	"strings"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

// DuckDB renders SQL for the embedded store (DuckDB 1.5).
type DuckDB struct{}

var _ Dialect = DuckDB{}

// Name implements Dialect.
func (DuckDB) Name() string { return "duckdb" }

// Ident quotes an identifier: "name" with " doubled.
func (DuckDB) Ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Str writes a string literal: 'text' with ' doubled (backslashes are
// ordinary characters in DuckDB strings).
func (DuckDB) Str(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Dedup keeps the first row per key with QUALIFY; rows with a NULL key are
// never duplicates.
func (DuckDB) Dedup(keys []string, order string) (string, string) {
	q := "row_number() OVER (PARTITION BY " + strings.Join(keys, ", ")
	if order != "" {
		q += " ORDER BY " + order
	}
	q += ") = 1"
	for _, k := range keys {
		q += " OR " + k + " IS NULL"
	}
	return q, ""
}

// Values renders an inline table.
func (d DuckDB) Values(alias string, cols []string, types []plan.Type, rows [][]string) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = d.Ident(c)
	}
	if len(rows) == 0 {
		parts := make([]string, len(cols))
		for i := range cols {
			t := "VARCHAR"
			if types[i] == plan.TypeNumber {
				t = "BIGINT"
			}
			parts[i] = "CAST(NULL AS " + t + ") AS " + names[i]
		}
		return "(SELECT " + strings.Join(parts, ", ") + " LIMIT 0) AS " + d.Ident(alias)
	}
	var b strings.Builder
	b.WriteString("(VALUES ")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + strings.Join(r, ", ") + ")")
	}
	b.WriteString(") AS " + d.Ident(alias) + "(" + strings.Join(names, ", ") + ")")
	return b.String()
}

const ipv4Regex = `((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`

// Func implements Dialect.
func (d DuckDB) Func(fn string, a []string) (string, bool) {
	switch fn {
	case "fdiv":
		return "(" + a[0] + " / " + a[1] + ")", true
	case "intdiv":
		return "(" + a[0] + " // " + a[1] + ")", true
	case "regexp":
		return "regexp_matches(" + a[0] + ", " + a[1] + ")", true
	case "regexp_extract":
		return "CASE WHEN regexp_matches(" + a[0] + ", " + a[1] + ") THEN regexp_extract(" + a[0] + ", " + a[1] + ", " + a[2] + ") END", true
	case "tonumber", "todouble":
		return "TRY_CAST(" + a[0] + " AS DOUBLE)", true
	case "tostring":
		return "CAST(" + a[0] + " AS VARCHAR)", true
	case "bool2int":
		return "CAST(" + a[0] + " AS INTEGER)", true
	case "toint":
		return "TRY_CAST(trunc(TRY_CAST(" + a[0] + " AS DOUBLE)) AS INTEGER)", true
	case "tolong":
		return "TRY_CAST(trunc(TRY_CAST(" + a[0] + " AS DOUBLE)) AS BIGINT)", true
	case "checked":
		return a[0], true
	case "try":
		return "try(" + a[0] + ")", true
	case "todouble_raw":
		return "CAST(" + a[0] + " AS DOUBLE)", true
	case "tobigint":
		return "CAST(" + a[0] + " AS BIGINT)", true
	case "log":
		return "ln(" + a[0] + ")", true
	case "sqrt":
		return "sqrt(" + a[0] + ")", true
	case "round":
		return "round(" + a[0] + ", CAST(" + a[1] + " AS INTEGER))", true
	case "strlen":
		return "length(" + a[0] + ")", true
	case "messagesize":
		return "strlen(" + a[0] + ")", true
	case "toupper":
		return "upper(" + a[0] + ")", true
	case "tolower":
		return "lower(" + a[0] + ")", true
	case "regexreplace":
		return "regexp_replace(" + a[0] + ", " + a[1] + ", " + a[2] + ", 'g')", true
	case "urlencode":
		return "url_encode(" + a[0] + ")", true
	case "urldecode":
		return "url_decode(" + a[0] + ")", true
	case "base64encode":
		return "to_base64(encode(" + a[0] + "))", true
	case "base64decode":
		return "decode(from_base64(" + a[0] + "))", true
	case "hextoascii":
		return "decode(unhex(" + a[0] + "))", true
	case "hextodec":
		return "TRY_CAST(('0x' || regexp_replace(" + a[0] + ", '^0[xX]', '')) AS BIGINT)", true
	case "dectohex":
		return "CASE WHEN " + a[0] + " < 0 THEN '-0x' || lower(hex(CAST(trunc(- " + a[0] + ") AS BIGINT))) ELSE '0x' || lower(hex(CAST(trunc(" + a[0] + ") AS BIGINT))) END", true
	case "count_distinct":
		return "count(DISTINCT " + a[0] + ")", true
	case "stddev":
		return "stddev_samp(" + a[0] + ")", true
	case "sortsfirst":
		return "min(" + a[0] + ")", true
	case "sortslast":
		return "max(" + a[0] + ")", true
	case "pct":
		return "quantile_disc(" + a[0] + ", " + a[1] + ")", true
	case "earliest":
		return "arg_min(" + a[0] + ", " + a[1] + ")", true
	case "latest":
		return "arg_max(" + a[0] + ", " + a[1] + ")", true
	case "substr":
		args := make([]string, len(a))
		args[0] = a[0]
		for i := 1; i < len(a); i++ {
			args[i] = "CAST(" + a[i] + " AS BIGINT)"
		}
		return "substring(" + strings.Join(args, ", ") + ")", true
	case "formatdate":
		return "strftime(make_timestamp(CAST(" + a[0] + " AS BIGINT) * 1000), " + a[1] + ")", true
	case "parsedate":
		return "epoch_ms(try_strptime(" + a[0] + ", " + a[1] + "))", true
	case "month_index":
		ts := "make_timestamp(CAST(" + a[0] + " AS BIGINT) * 1000)"
		return "(year(" + ts + ") * 12 + month(" + ts + ") - 1)", true
	case "month_start":
		return "epoch_ms(make_timestamp(CAST((" + a[0] + ") // 12 AS BIGINT), CAST((" + a[0] + ") % 12 + 1 AS BIGINT), 1, 0, 0, 0))", true
	case "ipv4num":
		x := a[0]
		part := func(i string) string { return "CAST(split_part(" + x + ", '.', " + i + ") AS BIGINT)" }
		return "CASE WHEN regexp_full_match(" + x + ", '" + ipv4Regex + "') THEN " +
			part("1") + " * 16777216 + " + part("2") + " * 65536 + " + part("3") + " * 256 + " + part("4") + " END", true
	case "isipv6":
		return "(contains(" + a[0] + ", ':') AND regexp_full_match(" + a[0] + ", '[0-9A-Fa-f:.]+'))", true
	case "ipv6hex":
		return ipv6Hex(a[0], "regexp_replace(%s, %s, %s, 'g')", func(s, chars string) string { return "trim(" + s + ", " + chars + ")" }), true
	case "hexdigit":
		return "(strpos('0123456789abcdef', " + a[0] + ") - 1)", true
	case "bitand":
		return "(" + a[0] + " & " + a[1] + ")", true
	case "filldown":
		return "last_value(" + a[0] + " IGNORE NULLS)", true
	case "csv_field":
		// a[1] is the pattern of csvFieldRegex; the field is unquoted ("" → ")
		// or trimmed
		f := "CASE WHEN regexp_matches(" + a[0] + ", " + a[1] + ") THEN regexp_extract(" + a[0] + ", " + a[1] + ", 1) END"
		return let(f, "_f", `CASE WHEN starts_with(_f, '"') THEN replace(substring(_f, 2, length(_f) - 2), '""', '"') ELSE trim(_f) END`), true
	case "regexp_extract_all":
		return "CASE WHEN regexp_matches(" + a[0] + ", " + a[1] + ") THEN regexp_extract_all(" + a[0] + ", " + a[1] + ", 1) END", true
	case "json_parse":
		return let(a[0], "_j", "CASE WHEN json_valid(_j) AND json_type(_j) IN ('OBJECT', 'ARRAY') THEN CAST(json(_j) AS VARCHAR) END"), true
	case "json_text":
		return "json_extract_string(" + a[0] + ", '$')", true
	case "json_array_size":
		return let(a[0], "_j", "CASE WHEN json_valid(_j) AND json_type(_j) = 'ARRAY' THEN CAST(json_array_length(_j) AS BIGINT) END"), true
	case "json_array_contains":
		// the elements as text (NULL unless an array), then the test; the
		// value stays outside the lambda (it may read a column named _j)
		elems := let(a[0], "_j", "CASE WHEN json_valid(_j) AND json_type(_j) = 'ARRAY' THEN json_extract_string(_j, '$[*]') END")
		return "CASE WHEN list_contains(" + elems + ", " + a[1] + ") THEN 1 ELSE 0 END", true
	case "unnest_json":
		return "unnest(CAST(json_extract(" + a[0] + ", '$[*]') AS VARCHAR[]))", true
	case "logfmt":
		re := d.Str(logfmtRegex)
		all := func(n string) string { return "regexp_extract_all(_s, " + re + ", " + n + ")" }
		// a group that took no part in the match is NULL
		value := `CASE WHEN coalesce(_p[2], '') = '' THEN 'true' WHEN coalesce(_p[4], '') = '' AND starts_with(_p[2], '="') THEN regexp_replace(coalesce(_p[3], ''), '\\(.)', '\1', 'g') ELSE _p[4] END`
		pair := "CAST(to_json(_p[1]) AS VARCHAR) || ':' || CAST(to_json(" + value + ") AS VARCHAR)"
		obj := "CASE WHEN len(" + all("1") + ") = 0 THEN NULL ELSE '{' || array_to_string(list_transform(list_zip(" +
			all("1") + ", " + all("2") + ", " + all("3") + ", " + all("4") + "), lambda _p: " + pair + "), ',') || '}' END"
		return let(a[0], "_s", obj), true
	case "histogram":
		return duckHistogram(a[0], a[1]), true
	case "quantile_if":
		return "quantile_cont(" + a[0] + ", " + a[1] + ") FILTER (WHERE " + a[2] + ")", true
	case "unpivot":
		k := map[string]int{"1": 1, "2": 2, "3": 3}[a[0]]
		return "unnest(" + a[k] + ")", true
	case "split":
		return "string_split(" + a[0] + ", " + a[1] + ")", true
	case "list_get":
		return "list_extract(" + a[0] + ", CAST(" + a[1] + " AS BIGINT) + 1)", true
	case "list_text":
		return "CAST(to_json(" + a[0] + ") AS VARCHAR)", true
	}
	return "", false
}

// let binds x to name for body (DuckDB has no LET: a one-element list and
// a lambda); x is computed once and may not see the lambda's name.
func let(x, name, body string) string {
	return "list_transform([" + x + "], lambda " + name + ": " + body + ")[1]"
}

// JSONGet implements Dialect: a JSON pointer, JSON null read as NULL.
func (d DuckDB) JSONGet(x string, path []JSONStep) string {
	return "nullif(CAST(json_extract(" + x + ", " + jsonPointer(d, path) + ") AS VARCHAR), 'null')"
}

// duckHistogram renders histogram(v, n): the distinct values and their
// counts (DuckDB's histogram aggregate) sorted by value, each given the
// bucket of its value (n buckets of equal width between the least and the
// greatest value, one bucket when they are equal); as the buckets follow
// the values, bucket b holds the slice of entries after those of buckets
// before it, so its count is one list_sum: O(distinct values + n²) per
// group. The result is a JSON object from each bucket's lower bound to its
// count (see package plan).
func duckHistogram(v, n string) string {
	eq := "_b.hi = _b.lo"
	w := "((_b.hi - _b.lo) / " + n + ")"
	idx := "CASE WHEN " + eq + " THEN 0 ELSE least(CAST(floor((_e.key - _b.lo) / " + w + ") AS BIGINT), " + n + " - 1) END"
	// how many distinct values fall in each bucket (a map), then as a list
	entries := "list_aggregate(list_transform(_b.e, lambda _e: " + idx + "), 'histogram')"
	weights := "list_transform(_b.e, lambda _e: _e.value)"
	perBucket := "list_transform(range(CASE WHEN " + eq + " THEN 1 ELSE " + n + " END), lambda _i: coalesce(map_extract_value(_c.m, _i), 0))"
	start := "coalesce(list_sum(_d[1:_i]), 0)"
	count := "coalesce(list_sum(_c.w[" + start + " + 1:" + start + " + _d[_i + 1]]), 0)"
	bound := "(_b.lo + _i * " + w + ")"
	// 12 significant digits: a bound computed as 1 + 3 * 5403.2 prints as
	// 16210.6, not 16210.599999999999.
	key := "CASE WHEN " + bound + " = trunc(" + bound + ") AND abs(" + bound + ") < 1e15 THEN CAST(CAST(" + bound + " AS BIGINT) AS VARCHAR) ELSE printf('%.12g', " + bound + ") END"
	obj := "'{' || array_to_string(list_transform(range(len(_d)), lambda _i: '\"' || " + key + " || '\":' || CAST(" + count + " AS VARCHAR)), ',') || '}'"
	body := let("struct_pack(w := "+weights+", m := "+entries+")", "_c", let(perBucket, "_d", obj))
	sorted := let("struct_pack(e := list_sort(map_entries(_h)), lo := list_min(map_keys(_h)), hi := list_max(map_keys(_h)))", "_b", body)
	return let("histogram("+v+")", "_h", "CASE WHEN _h IS NULL OR cardinality(_h) = 0 THEN NULL ELSE "+sorted+" END")
}

// ipv6Hex expands a lower-case IPv6 address into its 32 hex digits with
// string functions only: fill "::" with the missing zero groups, trim the
// colons left at the edges, left-pad every group to 4 digits and drop the
// colons. replaceAll is a template with %s placeholders.
func ipv6Hex(x, replaceAll string, trim func(s, chars string) string) string {
	fill := func(tmpl string, args ...string) string {
		for _, a := range args {
			tmpl = strings.Replace(tmpl, "%s", a, 1)
		}
		return tmpl
	}
	colons := "(length(" + x + ") - length(replace(" + x + ", ':', '')))"
	edges := "(CASE WHEN " + x + " LIKE ':%' THEN 1 ELSE 0 END + CASE WHEN " + x + " LIKE '%:' THEN 1 ELSE 0 END)"
	missing := "CAST(8 - " + colons + " + " + edges + " AS INTEGER)"
	full := trim("replace("+x+", '::', ':' || repeat('0:', "+missing+"))", "':'")
	padded := fill(replaceAll, "':' || "+full, "':'", "':000'")
	return "replace(" + fill(replaceAll, padded, `':0*([0-9a-f]{4})'`, `'\1'`) + ", ':', '')"
}
