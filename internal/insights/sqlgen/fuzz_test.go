package sqlgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
)

// sqlWords is the fixed vocabulary of bare words the generator may emit:
// SQL keywords, the functions of both dialects, and the flows view's columns
// (added from the catalog below). Anything else outside a literal or a
// quoted identifier means user text escaped its quotes.
var sqlWords = strings.Fields(`AND AS BETWEEN BIGINT BOTH BY CASE CAST DESC DISTINCT DOUBLE ELSE END FALSE
FIRST FROM GROUP IN INTEGER IS LAST LEADING LIKE LIMIT NOT NULL NULLS OR ORDER OVER PARTITION QUALIFY
SELECT THEN TRAILING TRUE TRY_CAST VARCHAR WHEN WHERE UNION ALL MATERIALIZED HAVING UINTEGER bool_or
IPv4NumToString _z0 _z1 _z2 Nullable UInt32 String Int64 IPv4StringToNum MD5 SHA256 abs argMax argMin arg_max arg_min asin avg base64Decode base64Encode bitAnd
ceil coalesce concat concatWithSeparator concat_ws contains cos count decode decodeURLComponent
encode encodeURLComponent endsWith ends_with epoch_ms extractGroups floor formatDateTime from_base64
greatest hex if ifNull intDiv isIPv4String isIPv6String least length lengthUTF8 ln log lower ltrim
makeDateTime make_timestamp match max md5 min month pow position quantileExact quantile_disc radians
regexp_extract regexp_full_match regexp_matches regexp_replace reinterpretAsUInt64 repeat replace
replaceAll replaceRegexpAll replaceRegexpOne reverse round row_number rtrim sha256 sin split_part sqrt
startsWith starts_with stddevSamp stddev_samp strftime strlen strpos substring substringUTF8 sum
toDateTime toFloat64OrNull toInt32 toInt32OrNull toInt64 toInt64OrNull toMonth toString toUInt64
toUnixTimestamp toYear to_base64 trim trimBoth trimLeft trimRight trunc unhex uniqExact upper
url_decode url_encode year try splitByChar FILTER quantileIf tupleElement arrayZip toFloat64 count_if countIf INNER VALUES values lagInFrame try_strptime toUnixTimestamp64Milli parseDateTime64BestEffortOrNull range WITH LEFT JOIN ON string_split list_extract to_json unnest splitByString arrayJoin arrayElement lag quantile_cont quantile last_value anyLast IGNORE ROWS UNBOUNDED PRECEDING CURRENT ROW flows dataset _hour _srcaddr_v4 _dstaddr_v4 _format_id _ingest_time
flows_5m flows_rejects flows_pairs bin records printf
list_transform lambda _f _s _p _h _i _e _j key value json_valid json_type json json_extract json_extract_string
json_array_length list_contains regexp_extract_all len array_to_string list_zip to_json histogram map_keys
map_entries list_min list_max list_sum cardinality nullif extractAll isValidJSON JSONType JSONExtractRaw
JSONExtractString JSONLength JSONExtractArrayRaw has arrayMap extractAllGroupsVertical toJSONString empty
arrayStringConcat nullIf arrayMin arrayMax arrayCount groupArray struct_pack map_extract_value list_aggregate list_sort
w m p lo hi e _b _c _d _q _x assumeNotNull isNotNull arrayFilter arrayReduce pi
arraySort isNull _l _r _v emptyArrayString rowNumberInAllBlocks materialize tuple addMonths toDate
toNullable arrayCumSum arrayEnumerate ARRAY _nn _ws _wb _wc _wd _t _g arrayPushFront arrayPopBack transform multiIf
toInt64OrZero reinterpretAsUInt32 log10 _gs _gx _gf _gn _gm _ge _dY _dy _dm _db _dd _dH _dM _dS _dg _dz`)

// checkSQL lexes sql with the dialect's rules and reports the first bare
// word outside the vocabulary, or an unterminated literal.
func checkSQL(t *testing.T, d Dialect, sql string, vocab map[string]bool) {
	t.Helper()
	backslash := d.Name() == "clickhouse"
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for {
				if j >= len(sql) {
					t.Fatalf("%s: unterminated %c literal at %d in\n%s", d.Name(), c, i, sql)
				}
				if backslash && sql[j] == '\\' {
					j += 2
					continue
				}
				if sql[j] == c {
					if !backslash && j+1 < len(sql) && sql[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j + 1
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' || sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			if w := sql[i:j]; !vocab[w] {
				t.Fatalf("%s: word %q outside literals is not in the SQL vocabulary:\n%s", d.Name(), w, sql)
			}
			i = j
		case c >= '0' && c <= '9':
			for i < len(sql) && (sql[i] >= '0' && sql[i] <= '9' || sql[i] == '.' || sql[i] == 'e' || sql[i] == 'E' || sql[i] == '+' || sql[i] == '-') {
				i++
			}
		case strings.IndexByte(" ()[],.*/%+-<>=!&|:", c) >= 0:
			i++
		default:
			t.Fatalf("%s: unexpected character %q outside literals at %d:\n%s", d.Name(), c, i, sql)
		}
	}
}

func vocabulary() map[string]bool {
	v := map[string]bool{}
	for _, w := range sqlWords {
		v[w] = true
	}
	for _, f := range flowlog.Fields() {
		v[f.Column] = true
	}
	return v
}

// FuzzSQLSafety: whatever the query text, the SQL generated for it lexes
// into literals, quoted identifiers and words of a fixed vocabulary, so no
// string or name a user writes can change the structure of the SQL.
func FuzzSQLSafety(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txtar")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		_, secs := parseTxtar(string(data))
		f.Add(strings.TrimSpace(secs[0].data))
	}
	f.Add(`filter action = "'; DROP TABLE flows; --" | fields concat(action, "\\'") as ` + "`a\"b'c``d`")
	f.Add("fields jsonParse(action) as j | fields j.`x'); DROP TABLE flows; --` as a, j.`~/\\'\"`[0] as b, j[\"'\"] as c" +
		` | parse action logfmt as m | parse multi action /(?<q>'\\)/ | parse action csv as d | stats histogram(bytes, 3) as h by m.k`)
	vocab := vocabulary()
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 2000 {
			return
		}
		p, err := plan.Compile(q, plan.Options{})
		if err != nil {
			if !plan.IsQueryError(err) {
				t.Fatalf("compile error without a position: %v", err)
			}
			return
		}
		for _, d := range []Dialect{DuckDB{}, ClickHouse{}} {
			st, err := Generate(p, d, Options{Limit: 100, Datasets: []string{"d'x\"`"}, Start: 3600, End: 7200})
			if err != nil {
				t.Fatalf("generate %q: %v", q, err)
			}
			checkSQL(t, d, st.SQL, vocab)
		}
	})
}

func TestSQLSafetyGoldens(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txtar")
	vocab := vocabulary()
	for _, file := range files {
		data, _ := os.ReadFile(file)
		_, secs := parseTxtar(string(data))
		p, err := plan.Compile(strings.TrimSpace(secs[0].data), plan.Options{})
		if err != nil {
			continue
		}
		for _, d := range []Dialect{DuckDB{}, ClickHouse{}} {
			opt := goldenOptions
			if p.Compare != nil {
				opt = rangeOptions
			}
			st, err := Generate(p, d, opt)
			if err != nil {
				t.Fatal(err)
			}
			checkSQL(t, d, st.SQL, vocab)
		}
	}
}

func TestEscaping(t *testing.T) {
	for _, tc := range []struct {
		d           Dialect
		in, str, id string
	}{
		{DuckDB{}, `a'b"c\d`, `'a''b"c\d'`, `"a'b""c\d"`},
		{ClickHouse{}, "a'b`c\\d", `'a\'b` + "\\`" + `c\\d'`, "`a\\'b\\`c\\\\d`"},
	} {
		if got := tc.d.Str(tc.in); got != tc.str {
			t.Errorf("%s Str(%q) = %s, want %s", tc.d.Name(), tc.in, got, tc.str)
		}
		if got := tc.d.Ident(tc.in); got != tc.id {
			t.Errorf("%s Ident(%q) = %s, want %s", tc.d.Name(), tc.in, got, tc.id)
		}
	}
}
