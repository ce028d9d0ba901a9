package sqlgen

import (
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

// TestClickHouseStringEncode: the ClickHouse SQL of urlencode and
// base64encode gives DuckDB's url_encode and to_base64(encode(x)), asked of
// both: every ASCII character, multi-byte UTF-8, texts of every length
// modulo 3, and NULL.
func TestClickHouseStringEncode(t *testing.T) {
	var ascii strings.Builder
	for c := 1; c < 128; c++ {
		ascii.WriteByte(byte(c))
	}
	cases := []struct {
		fn, duck string
		ins      []string
	}{
		{"urlencode", "url_encode(?)", []string{ascii.String(), "a b+c/d?e=f&g", "-_.~!*'()", "é€😀 ü", "%41", "%25%", ""}},
		{"base64encode", "to_base64(encode(?))", []string{"", "a", "ab", "abc", "abcd", "REJECT", "é€😀", ascii.String(), "ÿ?>~\n"}},
	}
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	ch := chtest.Start(t)
	d := ClickHouse{}
	for _, c := range cases {
		for _, in := range c.ins {
			var want string
			if err := duck.QueryRow("SELECT "+c.duck, in).Scan(&want); err != nil {
				t.Fatalf("DuckDB %s %q: %v", c.fn, in, err)
			}
			expr, _ := d.Func(c.fn, []string{d.Str(in)})
			out, err := ch.Query(t.Context(), "SELECT "+expr+" FORMAT TSVRaw")
			if err != nil {
				t.Fatalf("ClickHouse %s %q: %v\n%s", c.fn, in, err, expr)
			}
			if got := strings.TrimSuffix(out, "\n"); got != want {
				t.Errorf("%s(%q): ClickHouse %q, DuckDB %q", c.fn, in, got, want)
			}
		}
		expr, _ := d.Func(c.fn, []string{"CAST(NULL AS Nullable(String))"})
		if out, err := ch.Query(t.Context(), "SELECT "+expr); err != nil || strings.TrimSpace(out) != `\N` {
			t.Errorf("%s(NULL): %q, %v", c.fn, out, err)
		}
	}
}

// TestClickHouseG12: the text of a histogram bound on ClickHouse is
// DuckDB's printf('%.12g', x), asked of both.
func TestClickHouseG12(t *testing.T) {
	xs := []float64{383661.3333333333, 232363.3333333334, 16210.599999999999, 0.5, -0.5, 1.25e-5, 0.0001234,
		-0.00012345678901234, 1e12 + 0.5, 123456789012.5, 999999999999.96, 9.9999999999996, 1.0 / 3, -2.0 / 3,
		1e20 / 3, 1e-20 / 7, 5403.2 * 3, 0.1 + 0.2, 1234.5, 99.99999999999999, 1e15 + 0.5, -7.000000000001}
	duck, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	ch := chtest.Start(t)
	for _, x := range xs {
		lit := strconv.FormatFloat(x, 'g', -1, 64)
		var want string
		if err := duck.QueryRow("SELECT printf('%.12g', CAST(? AS DOUBLE))", lit).Scan(&want); err != nil {
			t.Fatalf("DuckDB %v: %v", x, err)
		}
		// the exact value from its bits (18.16 reads some decimal texts
		// one unit off in the last place)
		var le [8]byte
		binary.LittleEndian.PutUint64(le[:], math.Float64bits(x))
		out, err := ch.Query(t.Context(), "SELECT "+chG12("reinterpretAsFloat64(unhex('"+hex.EncodeToString(le[:])+"'))")+" FORMAT TSVRaw")
		if err != nil {
			t.Fatalf("ClickHouse %v: %v", x, err)
		}
		if got := strings.TrimSuffix(out, "\n"); got != want {
			t.Errorf("%%.12g of %s: ClickHouse %q, DuckDB %q", lit, got, want)
		}
	}
}
