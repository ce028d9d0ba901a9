// Package athena makes the Athena (Presto/Trino) SQL that AWS users write for
// their flow logs run on flowlens's DuckDB views. It provides the Presto
// functions as DuckDB macros (Macros), a tokenizer (Tokenize) and token-level
// rewrites (Rewrite: legacy column names, `day = 'yyyy/MM/dd'`, `col = '-'`,
// `db.table`, backticks, date_format/date_parse) that never touch string
// literals or comments, and a classification of statements (Prepare,
// Classify) that tells queries from Athena's catalog DDL (accepted as
// no-ops) and from statements that change the database. It is pure: it
// returns SQL text and does no I/O.
//
// Differences it cannot hide (see docs): `bigint / bigint` is a float
// division in DuckDB (write `//` or CAST), and Athena's "$path" and other
// pseudo-columns do not exist.
package athena

// Macro is one Presto/Athena function and the DuckDB macro that implements it.
type Macro struct {
	// Name is the Presto/Athena function name.
	Name string
	// Params are the macro's parameter names.
	Params string
	// Body is the DuckDB expression.
	Body string
	// Doc says what the function does.
	Doc string
}

// macros lists every function; DuckDB built-ins with the same name and
// meaning (date_trunc, date_diff, split_part, strpos, count_if, max_by,
// min_by, regexp_extract, regexp_replace) need none.
var macros = []Macro{
	{"from_unixtime", "x", "make_timestamp(CAST(round(CAST(x AS DOUBLE) * 1000000) AS BIGINT))",
		"epoch seconds → timestamp (UTC, no zone)"},
	{"to_unixtime", "ts", "epoch(CAST(ts AS TIMESTAMP))", "timestamp → epoch seconds (double)"},
	{"day_of_week", "d", "isodow(d)", "ISO day of week, 1 = Monday"},
	{"dow", "d", "isodow(d)", "ISO day of week, 1 = Monday"},
	{"day_of_year", "d", "dayofyear(d)", "day of the year"},
	{"approx_distinct", "x", "approx_count_distinct(x)", "approximate count of distinct values"},
	{"approx_percentile", "x, p", "approx_quantile(x, p)", "approximate percentile"},
	{"arbitrary", "x", "any_value(x)", "any value of the group"},
	{"regexp_like", "s, re", "regexp_matches(s, re)", "whether s matches the regular expression"},
	{"bitwise_and", "a, b", "(a & b)", "bitwise AND"},
	{"bitwise_or", "a, b", "(a | b)", "bitwise OR"},
	{"bitwise_xor", "a, b", "xor(a, b)", "bitwise XOR"},
	{"bitwise_not", "a", "(~a)", "bitwise NOT"},
	{"date_add_presto", "unit, n, ts", "(ts + n * CAST('1 ' || unit AS INTERVAL))",
		"Presto date_add(unit, value, timestamp) (Rewrite sends date_add with three arguments here)"},
	{"from_iso8601_timestamp", "s", "CAST(CAST(s AS TIMESTAMPTZ) AS TIMESTAMP)", "ISO 8601 text → timestamp (UTC)"},
	{"from_iso8601_date", "s", "CAST(s AS DATE)", "ISO 8601 text → date"},
	{"to_iso8601", "ts", "strftime(CAST(ts AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ')", "timestamp → ISO 8601 text (UTC)"},
	{"ip4_text", "v", "printf('%d.%d.%d.%d', v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255)",
		"UINTEGER IPv4 (_srcaddr_v4) → dotted text"},
	{"ip4_int", "s", "CAST(split_part(s, '.', 1) AS UBIGINT) * 16777216 + CAST(split_part(s, '.', 2) AS UBIGINT) * 65536 + CAST(split_part(s, '.', 3) AS UBIGINT) * 256 + CAST(split_part(s, '.', 4) AS UBIGINT)",
		"dotted IPv4 text → integer (compare with _srcaddr_v4)"},
}

// Macros returns the CREATE TEMP MACRO statements, to run on every
// connection (TEMP macros are the connection's own, and need no write
// access to the database).
func Macros() []string {
	out := make([]string, 0, len(macros))
	for _, m := range macros {
		out = append(out, "CREATE OR REPLACE TEMP MACRO "+m.Name+"("+m.Params+") AS "+m.Body)
	}
	return out
}

// List returns the functions the macros provide.
func List() []Macro {
	out := make([]Macro, len(macros))
	copy(out, macros)
	return out
}
