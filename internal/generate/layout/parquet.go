package layout

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate/flowrec"
)

// orderedGroup is a Parquet group whose columns keep the format's order
// (parquet.Group sorts them by name).
type orderedGroup struct {
	parquet.Group
	order []string
}

func (g orderedGroup) Fields() []parquet.Field {
	byName := map[string]parquet.Field{}
	for _, f := range g.Group.Fields() {
		byName[f.Name()] = f
	}
	out := make([]parquet.Field, len(g.order))
	for i, n := range g.order {
		out[i] = byName[n]
	}
	return out
}

// ParquetSchema returns the schema AWS uses for a format: one optional
// column per field, named with '_', INT32 for version, ports, protocol,
// tcp-flags, traffic-path and encryption-status, INT64 for packets, bytes,
// start and end, STRING for everything else.
func ParquetSchema(f *flowlog.Format) *parquet.Schema {
	g := parquet.Group{}
	var order []string
	for _, fl := range f.Fields {
		var n parquet.Node
		switch fl.ParquetType {
		case "INT32":
			n = parquet.Leaf(parquet.Int32Type)
		case "INT64":
			n = parquet.Leaf(parquet.Int64Type)
		default:
			n = parquet.String()
		}
		g[fl.Column] = parquet.Optional(n)
		order = append(order, fl.Column)
	}
	return parquet.NewSchema("flowlogs", orderedGroup{Group: g, order: order})
}

// ParquetWriter renders records into Parquet files; one per goroutine.
type ParquetWriter struct {
	enc     *flowrec.Encoder
	format  *flowlog.Format
	schema  *parquet.Schema
	rows    []parquet.Row
	scratch []byte
}

// NewParquetWriter returns a writer for the format.
func NewParquetWriter(enc *flowrec.Encoder, f *flowlog.Format) *ParquetWriter {
	return &ParquetWriter{enc: enc, format: f, schema: ParquetSchema(f)}
}

// Write writes recs as one Parquet file (gzip codec) to w.
func (p *ParquetWriter) Write(w io.Writer, recs []flowrec.Record) error {
	pw := parquet.NewWriter(w, p.schema, parquet.Compression(&parquet.Gzip), parquet.CreatedBy("flowlens", "generate", ""))
	const chunk = 4096
	for lo := 0; lo < len(recs); lo += chunk {
		hi := min(lo+chunk, len(recs))
		p.rows = p.rows[:0]
		p.scratch = p.scratch[:0]
		for i := lo; i < hi; i++ {
			p.rows = append(p.rows, p.row(&recs[i]))
		}
		if _, err := pw.WriteRows(p.rows); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

func (p *ParquetWriter) row(r *flowrec.Record) parquet.Row {
	row := make(parquet.Row, len(p.format.Fields))
	for c, fl := range p.format.Fields {
		switch fl.ParquetType {
		case "INT32", "INT64":
			v, ok := p.enc.Int(r, fl.ID)
			if !ok {
				row[c] = parquet.NullValue().Level(0, 0, c)
			} else if fl.ParquetType == "INT32" {
				row[c] = parquet.Int32Value(int32(v)).Level(0, 1, c)
			} else {
				row[c] = parquet.Int64Value(v).Level(0, 1, c)
			}
		default:
			start := len(p.scratch)
			p.scratch = p.enc.AppendField(p.scratch, r, fl.ID)
			text := p.scratch[start:]
			if len(text) == 1 && text[0] == '-' {
				row[c] = parquet.NullValue().Level(0, 0, c)
			} else {
				row[c] = parquet.ByteArrayValue(text).Level(0, 1, c)
			}
		}
	}
	return row
}
