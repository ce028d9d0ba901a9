package parquet

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/flowlens/flowlens/internal/decode/record"
	"github.com/flowlens/flowlens/internal/flowlog"
)

func TestFormatFromSchema(t *testing.T) {
	type under struct {
		Version   int32  `parquet:"version"`
		LogStatus string `parquet:"log_status"`
		PktSrc    string `parquet:"pkt_src_aws_service"`
		New       string `parquet:"brand_new"`
	}
	type hyphen struct {
		Version   int32  `parquet:"version"`
		LogStatus string `parquet:"log-status"`
	}
	type nested struct {
		A struct {
			B int32 `parquet:"b"`
		} `parquet:"a"`
	}
	f, err := Format(pq.SchemaOf(under{}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 4 || f.Index(flowlog.LogStatus) < 0 || f.Index(flowlog.PktSrcAWSService) < 0 || !f.Extra[f.Len()-1] {
		t.Errorf("format %s extra %v", f, f.Extra)
	}
	g, err := Format(pq.SchemaOf(hyphen{}))
	if err != nil || g.Len() != 2 || g.Index(flowlog.LogStatus) < 0 {
		t.Errorf("hyphen names: %v %v", g, err)
	}
	if _, err := Format(pq.SchemaOf(nested{})); !errors.Is(err, ErrSchema) {
		t.Errorf("nested: %v", err)
	}
}

func TestReadRows(t *testing.T) {
	type row struct {
		SrcPort *int32  `parquet:"srcport,optional"`
		Action  *string `parquet:"action,optional"`
	}
	p := func(v int32) *int32 { return &v }
	s := func(v string) *string { return &v }
	var buf bytes.Buffer
	w := pq.NewGenericWriter[row](&buf)
	w.Write([]row{{p(0), s("ACCEPT")}, {p(-1), s("REJECT")}, {nil, nil}, {p(22), s("-")}})
	w.Close()
	var b *flowlog.Batch
	var rejects []*record.LineError
	var rows int64
	err := Read(t.Context(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), Options{
		Batch: func(f *flowlog.Format) (*flowlog.Batch, error) {
			if b == nil {
				b = flowlog.NewBatch(f, 4)
			}
			return b, nil
		},
		Full:     func() error { return nil },
		OnReject: func(e *record.LineError) { rejects = append(rejects, e) },
		Rows:     &rows,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := 0; i < b.N; i++ {
		got = append(got, string(b.AppendLine(nil, i)))
	}
	if want := "0 ACCEPT|- -|22 -"; strings.Join(got, "|") != want {
		t.Errorf("records %q, want %q", got, want)
	}
	if rows != 4 || len(rejects) != 1 || rejects[0].Line != 2 || rejects[0].Field != "srcport" || rejects[0].Text != "-1 REJECT" {
		t.Errorf("rows %d rejects %+v", rows, rejects)
	}
}

// TestFooterCheckedBeforeParquetGo: parquet-go allocates the metadata size
// a footer claims before comparing it with the file size; eight bytes
// must not cost 800 MB.
func TestFooterCheckedBeforeParquetGo(t *testing.T) {
	for _, in := range []string{"PAR1PAR1", "PAR1\xff\xff\xff\x7fPAR1", "PAR1" + strings.Repeat("x", 20) + "\x10\x00\x00\x00PAR1", "PAR1 truncated"} {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		err := Read(t.Context(), strings.NewReader(in), int64(len(in)), Options{})
		runtime.ReadMemStats(&m1)
		if err == nil {
			t.Errorf("%q: no error", in)
		}
		if d := m1.TotalAlloc - m0.TotalAlloc; d > 1<<20 {
			t.Errorf("%q: allocated %d bytes", in, d)
		}
	}
}
