package decode

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// awsRow is the default format as AWS writes it in Parquet: INT32/INT64 and
// STRING columns named with '_', nullable (pointer fields: parquet-go's
// optional tag on a value would turn 0 into NULL).
type awsRow struct {
	Version     *int32  `parquet:"version,optional"`
	AccountID   *string `parquet:"account_id,optional"`
	InterfaceID *string `parquet:"interface_id,optional"`
	SrcAddr     *string `parquet:"srcaddr,optional"`
	DstAddr     *string `parquet:"dstaddr,optional"`
	SrcPort     *int32  `parquet:"srcport,optional"`
	DstPort     *int32  `parquet:"dstport,optional"`
	Protocol    *int32  `parquet:"protocol,optional"`
	Packets     *int64  `parquet:"packets,optional"`
	Bytes       *int64  `parquet:"bytes,optional"`
	Start       *int64  `parquet:"start,optional"`
	End         *int64  `parquet:"end,optional"`
	Action      *string `parquet:"action,optional"`
	LogStatus   *string `parquet:"log_status,optional"`
}

// hyphenRow uses the hyphenated names, a later-version field, '-' strings
// for NULL and a column flowlens does not know.
type hyphenRow struct {
	Version          *int32  `parquet:"version,optional"`
	InterfaceID      *string `parquet:"interface-id,optional"`
	SrcAddr          *string `parquet:"srcaddr,optional"`
	TrafficPath      *int32  `parquet:"traffic-path,optional"`
	EncryptionStatus *string `parquet:"encryption-status,optional"`
	FlowDirection    *string `parquet:"flow-direction,optional"`
	Future           *string `parquet:"future_field,optional"`
}

func ptr[T any](v T) *T { return &v }

func writeParquet[T any](t testing.TB, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pq.NewGenericWriter[T](&buf, pq.Compression(&pq.Gzip))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func rowOf(line string) awsRow {
	b := flowlog.NewBatch(flowlog.DefaultFormat(), 1)
	if le := NewDecoder(flowlog.DefaultFormat()).DecodeLine(b, []byte(line), 1); le != nil {
		panic(le)
	}
	i32 := func(id flowlog.FieldID) *int32 {
		if c := b.Col(id); c.Valid[0] {
			return ptr(int32(c.Ints[0]))
		}
		return nil
	}
	i64 := func(id flowlog.FieldID) *int64 {
		if c := b.Col(id); c.Valid[0] {
			return ptr(c.Ints[0])
		}
		return nil
	}
	str := func(id flowlog.FieldID) *string {
		if c := b.Col(id); c.Valid[0] {
			return ptr(string(c.Bytes(0)))
		}
		return nil
	}
	return awsRow{i32(flowlog.Version), str(flowlog.AccountID), str(flowlog.InterfaceID), str(flowlog.SrcAddr), str(flowlog.DstAddr),
		i32(flowlog.SrcPort), i32(flowlog.DstPort), i32(flowlog.Protocol), i64(flowlog.Packets), i64(flowlog.Bytes),
		i64(flowlog.Start), i64(flowlog.End), str(flowlog.Action), str(flowlog.LogStatus)}
}

func TestParquetAWSSchema(t *testing.T) {
	var rows []awsRow
	for _, l := range goodLines {
		rows = append(rows, rowOf(l))
	}
	// Port 0 (ICMP) must stay 0, not NULL.
	icmp := rowOf("2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 10.20.0.2 0 0 1 4 336 1717171210 1717171240 ACCEPT OK")
	rows = append(rows, icmp)
	// A bad row between good ones, a port outside its range (kept with a
	// warning), and the string "-" as NULL.
	bad := rowOf(goodLines[0])
	bad.SrcPort = ptr(int32(-7))
	wide := rowOf(goodLines[0])
	wide.SrcPort = ptr(int32(70000))
	dash := rowOf(goodLines[0])
	dash.Action = ptr("-")
	rows = append(rows, bad, dash, rowOf(goodLines[1]), wide)
	data := writeParquet(t, rows)

	want := append(append([]string{}, goodLines...),
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 10.20.0.2 0 0 1 4 336 1717171210 1717171240 ACCEPT OK",
		strings.Replace(goodLines[0], "ACCEPT", "-", 1), goodLines[1], strings.Replace(goodLines[0], "49812", "70000", 1))
	for name, r := range map[string]*result{
		"Read": read(t, data, Options{Name: "f.parquet", BatchSize: 3}),
		"ReadFile": func() *result {
			p := filepath.Join(t.TempDir(), "f.parquet")
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return readFile(t, p, Options{BatchSize: 3})
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			if r.err != nil {
				t.Fatal(r.err)
			}
			equalLines(t, r.lines, want)
			if len(r.rejects) != 1 || r.rejects[0].Line != 7 || r.rejects[0].Field != "srcport" || !strings.HasSuffix(r.rejects[0].File, "f.parquet") {
				t.Errorf("rejects %v", r.rejectText())
			}
			if len(r.warns) != 1 || r.warns[0].Line != 10 || r.warns[0].Field != "srcport" || r.stats.Warnings != 1 {
				t.Errorf("warnings %v", r.warnText())
			}
			if r.stats.Container != ContainerParquet || r.stats.Lines != int64(len(rows)) || !r.batches[0].Format.Equal(flowlog.DefaultFormat()) {
				t.Errorf("stats %+v", r.stats)
			}
		})
	}
}

func TestParquetHyphenNamesAndExtraColumn(t *testing.T) {
	rows := []hyphenRow{
		{ptr(int32(10)), ptr("eni-1"), ptr("10.0.0.1"), ptr(int32(8)), ptr("3"), ptr("egress"), ptr("x")},
		{ptr(int32(10)), ptr("eni-1"), ptr("2001:DB8::1"), nil, ptr("-"), ptr("ingress"), nil},
		{ptr(int32(10)), ptr("eni-1"), ptr("10.0.0.1"), nil, ptr("7"), ptr("ingress"), nil},
		{ptr(int32(10)), ptr("eni-1"), ptr("10.0.0.1"), nil, nil, ptr("sideways"), nil},
	}
	r := read(t, writeParquet(t, rows), Options{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	equalLines(t, r.lines, []string{"10 eni-1 10.0.0.1 8 3 egress x", "10 eni-1 2001:db8::1 - - ingress -", "10 eni-1 10.0.0.1 - 7 ingress -"})
	equalLines(t, r.rejectText(), []string{
		`in:4: field flow_direction: "sideways" is not one of [ingress egress]`,
	})
	equalLines(t, r.warnText(), []string{`in:3: warning: field encryption_status: "7" is outside 0-3: stored as written`})
	f := r.batches[0].Format
	if f.Fields[4].ID != flowlog.EncryptionStatus || !f.Extra[6] || f.Fields[6].Column != "future_field" {
		t.Errorf("format %s", f)
	}
	if c := r.batches[0].Col(flowlog.EncryptionStatus); c.Ints[0] != 3 {
		t.Errorf("encryption_status as text → %v", c.Value(0))
	}
}

func TestParquetDamaged(t *testing.T) {
	data := writeParquet(t, []awsRow{rowOf(goodLines[0])})
	for _, in := range [][]byte{data[:len(data)/2], append([]byte("PAR1"), bytes.Repeat([]byte{0xff}, 64)...)} {
		r := read(t, in, Options{Name: "bad.parquet"})
		if r.err == nil || !strings.Contains(r.err.Error(), "bad.parquet") {
			t.Errorf("err = %v", r.err)
		}
	}
	type nested struct {
		A struct {
			B int32 `parquet:"b"`
		} `parquet:"a"`
	}
	r := read(t, writeParquet(t, []nested{{}}), Options{})
	if r.err == nil || !strings.Contains(r.err.Error(), "nested") {
		t.Errorf("nested schema: %v", r.err)
	}
}
