package sqlgen

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

// TestClickHouseURLEncode: urlencode's ClickHouse SQL gives DuckDB's
// url_encode for every ASCII character and multi-byte UTF-8, asked of both.
func TestClickHouseURLEncode(t *testing.T) {
	var ascii strings.Builder
	for c := 1; c < 128; c++ {
		ascii.WriteByte(byte(c))
	}
	ins := []string{ascii.String(), "a b+c/d?e=f&g", "-_.~!*'()", "é€😀 ü", "%41", "%25%", ""}
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	ch := chtest.Start(t)
	d := ClickHouse{}
	for _, in := range ins {
		var want string
		if err := duck.QueryRow("SELECT url_encode(?)", in).Scan(&want); err != nil {
			t.Fatalf("DuckDB %q: %v", in, err)
		}
		expr, _ := d.Func("urlencode", []string{d.Str(in)})
		out, err := ch.Query(t.Context(), "SELECT "+expr+" FORMAT TSVRaw")
		if err != nil {
			t.Fatalf("ClickHouse %q: %v\n%s", in, err, expr)
		}
		if got := strings.TrimSuffix(out, "\n"); got != want {
			t.Errorf("urlencode(%q): ClickHouse %q, DuckDB %q", in, got, want)
		}
	}
	expr, _ := d.Func("urlencode", []string{"CAST(NULL AS Nullable(String))"})
	if out, err := ch.Query(t.Context(), "SELECT "+expr); err != nil || strings.TrimSpace(out) != `\N` {
		t.Errorf("urlencode(NULL): %q, %v", out, err)
	}
}

// TestClickHouseBase64Encode: base64encode's ClickHouse SQL gives DuckDB's
// to_base64(encode(x)) for texts of every length modulo 3, asked of both.
func TestClickHouseBase64Encode(t *testing.T) {
	var ascii strings.Builder
	for c := 1; c < 128; c++ {
		ascii.WriteByte(byte(c))
	}
	ins := []string{"", "a", "ab", "abc", "abcd", "REJECT", "é€😀", ascii.String(), "ÿ?>~\n"}
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	ch := chtest.Start(t)
	d := ClickHouse{}
	for _, in := range ins {
		var want string
		if err := duck.QueryRow("SELECT to_base64(encode(?))", in).Scan(&want); err != nil {
			t.Fatalf("DuckDB %q: %v", in, err)
		}
		expr, _ := d.Func("base64encode", []string{d.Str(in)})
		out, err := ch.Query(t.Context(), "SELECT "+expr+" FORMAT TSVRaw")
		if err != nil {
			t.Fatalf("ClickHouse %q: %v\n%s", in, err, expr)
		}
		if got := strings.TrimSuffix(out, "\n"); got != want {
			t.Errorf("base64encode(%q): ClickHouse %q, DuckDB %q", in, got, want)
		}
	}
	expr, _ := d.Func("base64encode", []string{"CAST(NULL AS Nullable(String))"})
	if out, err := ch.Query(t.Context(), "SELECT "+expr); err != nil || strings.TrimSpace(out) != `\N` {
		t.Errorf("base64encode(NULL): %q, %v", out, err)
	}
}
