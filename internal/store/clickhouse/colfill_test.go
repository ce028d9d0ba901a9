package clickhouse

import (
	"bytes"
	"testing"

	"github.com/ClickHouse/ch-go/proto"
	chcolumn "github.com/ClickHouse/clickhouse-go/v2/lib/column"

	"github.com/flowlens/flowlens/internal/flowlog"
)

func newDriverColumn(t *testing.T, typ string) chcolumn.Interface {
	t.Helper()
	c, err := chcolumn.Type(typ).Column("c", &chcolumn.ServerContext{VersionMajor: 18, VersionMinor: 16})
	if err != nil {
		t.Fatalf("column of type %s: %v", typ, err)
	}
	return c
}

func encoded(c chcolumn.Interface) []byte {
	var b proto.Buffer
	c.Encode(&b)
	return b.Buf
}

// fillColumn must give the driver's column exactly what its public Append
// of the same values gives (same rows, same bytes on the wire), whether
// it takes the direct path or falls back.
func TestFillColumnEncodesAsAppend(t *testing.T) {
	u32 := nullableUInt32{vals: []uint32{7, 0, 1 << 31}, nulls: []uint8{0, 1, 0}}
	// "abc", "", "abc", "xy": ranges may share bytes
	text := textValues{buf: []byte("abcxy"), pos: []proto.Position{{Start: 0, End: 3}, {Start: 3, End: 3}, {Start: 0, End: 3}, {Start: 3, End: 5}}}
	cases := []struct {
		typ    string
		fill   any
		append any
		direct bool // on the driver of go.mod, the direct path
	}{
		{"Int64", []int64{1, -2, 3}, []int64{1, -2, 3}, true},
		{"Int32", []int32{1, -2, 3}, []int32{1, -2, 3}, true},
		{"UInt64", []uint64{1, 2, 1 << 63}, []uint64{1, 2, 1 << 63}, true},
		{"UInt16", []uint16{1, 2, 65535}, []uint16{1, 2, 65535}, true},
		{"UInt8", []uint8{1, 2, 255}, []uint8{1, 2, 255}, true},
		{"Nullable(UInt32)", u32, []*uint32{&u32.vals[0], nil, &u32.vals[2]}, true},
		{"String", text, []string{"abc", "", "abc", "xy"}, true},
		// a newer server's text columns: the public Append
		{"LowCardinality(String)", text, []string{"abc", "", "abc", "xy"}, false},
		{"Array(UInt8)", [][]uint8{{1}, {}, {2, 3}}, [][]uint8{{1}, {}, {2, 3}}, false},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			got, want := newDriverColumn(t, c.typ), newDriverColumn(t, c.typ)
			if err := fillColumn(got, c.fill); err != nil {
				t.Fatal(err)
			}
			if _, err := want.Append(c.append); err != nil {
				t.Fatal(err)
			}
			if got.Rows() != want.Rows() {
				t.Fatalf("rows: got %d, want %d", got.Rows(), want.Rows())
			}
			if g, w := encoded(got), encoded(want); !bytes.Equal(g, w) {
				t.Fatalf("encoded:\n got %x\nwant %x", g, w)
			}
			if direct := isDirect(got); direct != c.direct {
				t.Errorf("direct path: %v, want %v (the driver's column layout changed?)", direct, c.direct)
			}
		})
	}
}

// isDirect reports whether fillColumn reaches the proto column inside c.
func isDirect(c chcolumn.Interface) bool {
	if base := innerField[chcolumn.Interface](c, "base"); base != nil {
		return innerField[proto.ColUInt8](c, "nulls") != nil && isDirect(*base)
	}
	return innerField[proto.ColInt64](c, "col") != nil || innerField[proto.ColInt32](c, "col") != nil ||
		innerField[proto.ColUInt64](c, "col") != nil || innerField[proto.ColUInt32](c, "col") != nil ||
		innerField[proto.ColUInt16](c, "col") != nil || innerField[proto.ColUInt8](c, "col") != nil ||
		innerField[proto.ColStr](c, "col") != nil
}

func TestFillColumnRefusesAFilledColumn(t *testing.T) {
	c := newDriverColumn(t, "Int64")
	if err := fillColumn(c, []int64{1}); err != nil {
		t.Fatal(err)
	}
	if err := fillColumn(c, []int64{2}); err == nil {
		t.Fatal("a second fill of the same column succeeded")
	}
}

func TestDatasetValues(t *testing.T) {
	v := datasetValues([]blockPart{{b: &flowlog.Batch{N: 2}, dataset: "a"}, {b: &flowlog.Batch{N: 1}, dataset: "a"}, {b: &flowlog.Batch{N: 2}, dataset: "bc"}}, 5)
	got := v.strings()
	want := []string{"a", "a", "a", "bc", "bc"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if string(v.buf) != "abc" {
		t.Errorf("buffer %q: each dataset once", v.buf)
	}
}
