package sqlgen

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

// TestClickHouseParseDate: parseDate's ClickHouse SQL gives DuckDB's
// epoch_ms(try_strptime(text, pattern)) (the DuckDB dialect's SQL) for
// every text and pattern here, asked of both: the patterns parseDate()
// produces, texts that parse and texts strptime rejects.
func TestClickHouseParseDate(t *testing.T) {
	cases := []struct{ pat, in string }{}
	add := func(pat string, ins ...string) {
		for _, in := range ins {
			cases = append(cases, struct{ pat, in string }{pat, in})
		}
	}
	add("%Y-%m-%d %H:%M:%S.%g", "2024-05-31 14:05:12.250", "2024-5-31 14:05:12.250", "2024-05-31 4:5:2.250",
		"2024-05-31 14:05:12.25", "2024-05-31 14:05:12.2", "2024-05-31 14:05:12.2500", "2024-02-30 14:05:12.250",
		"2024-05-31  14:05:12.250", " 2024-05-31 14:05:12.250", "2024-05-31 14:05:12.250 ", "24-05-31 14:05:12.250",
		"12024-05-31 14:05:12.250", "0024-05-31 14:05:12.250", "2024-05-31 24:05:12.250", "2024-05-31 14:60:12.250",
		"2024-05-31 14:05:60.250", "2024-13-31 14:05:12.250", "2024-00-31 14:05:12.250", "2024-05-00 14:05:12.250",
		"2024-05-31T14:05:12.250", "+2024-05-31 14:05:12.250", "-2024-05-31 14:05:12.250", "1960-05-31 14:05:12.250",
		"2024-005-31 14:05:12.250", "2024-05-31 14:05:12.", "", "2024-05-31 14:05:12.250x", "2024-05-31\t14:05:12.001")
	add("%d/%b/%Y", "31/May/2024", "31/may/2024", "31/MAY/2024", "31/June/2024", "30/Jun/2024", "30/Sept/2024",
		"30/Sep/2024", "31/ May/2024", "31/Mayo/2024", "1/Dec/1969", "29/Feb/2023", "29/Feb/2000")
	add("%y-%m-%d", "24-05-31", "69-05-31", "68-05-31", "2024-05-31", "4-05-31")
	add("%Y-%m-%dT%H:%M:%S%z", "2024-05-31T14:05:12Z", "2024-05-31T14:05:12+02:00", "2024-05-31T14:05:12+0200",
		"2024-05-31T14:05:12-05", "2024-05-31T14:05:12", "2024-05-31T14:05:12+02:", "2024-05-31T14:05:12+02:0",
		"2024-05-31T14:05:12+02:30", "2024-05-31T14:05:12-0230", "2024-05-31T14:05:12+25:00", "2024-05-31T14:05:12+02:61",
		"2024-05-31T14:05:12+020", "2024-05-31T14:05:12 +02:00", "2024-05-31T14:05:12+2:00", "1970-01-01T00:30:00+01:00")
	add("%Y%m%d", "20240531", "2024531", "2024 0531", "20240531 x", "202405")
	add("%Y%m", "202405", "20245", "2024")
	add("%H:%M", "14:05", "23:59", "-1:05")
	add("%Y %%", "2024 %", "2024%")
	add("%Y-%m-%d", "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "0000-02-29", "0004-02-29",
		"0000-03-01", "1969-12-31", "9999-12-31", "99999-01-01", "2024-05-31 ", "2024-05-31\v", "\f2024-05-31",
		"2024 -05-31", "2024- 05-31", "2024-05- 31", "2024-05-3 1", "2024-04-31", "2024-05-1", "2024-5-031",
		"2024-05-31x", "２０２４-05-31")
	add("%Y %m", "2024    05", "202405", "2024\r05", "2024_05")
	add("%Y  %m", "2024 05")
	add("%S.%g", "5.007", "1.5", "1.05", "14:05")
	add("%m", "5", "0", "13")
	add("%d", "31", "0", "00")
	add("%b %Y", "Dec 2024", "dec 2024")
	add("%Y.%m.%d", "2024.05.31", "2024x05x31")
	add("%z", "+02:00", "-11")
	add("(%Y) [%m]*", "(2024) [05]*", "2024 05", "(2024) [05]")
	add("%Y-%m-%d", "2024-05-31\n", "2024-05-31\n\n")

	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	ch := chtest.Start(t)
	d := ClickHouse{}
	for _, c := range cases {
		var want sql.NullInt64
		if err := duck.QueryRow("SELECT epoch_ms(try_strptime(?, ?))", c.in, c.pat).Scan(&want); err != nil {
			t.Fatalf("DuckDB %q %q: %v", c.pat, c.in, err)
		}
		expr, ok := d.chParseDate(d.Str(c.in), d.Str(c.pat))
		if !ok {
			t.Fatalf("pattern %q not rendered", c.pat)
		}
		out, err := ch.Query(t.Context(), "SELECT "+expr)
		if err != nil {
			t.Fatalf("ClickHouse %q %q: %v\n%s", c.pat, c.in, err, expr)
		}
		got := strings.TrimSpace(out)
		w := `\N`
		if want.Valid {
			w = itoa(want.Int64)
		}
		if got != w {
			t.Errorf("parseDate(%q, %q): ClickHouse %s, DuckDB %s", c.in, c.pat, got, w)
		}
	}
	// a NULL text is NULL
	expr, _ := d.chParseDate("CAST(NULL AS Nullable(String))", d.Str("%Y-%m-%d %z"))
	if out, err := ch.Query(t.Context(), "SELECT "+expr); err != nil || strings.TrimSpace(out) != `\N` {
		t.Errorf("parseDate(NULL): %q, %v", out, err)
	}
	t.Logf("%d texts", len(cases))
}
