// Package parquet decodes the Parquet files AWS delivers VPC flow logs in
// (one column per format field, named with '_' or '-', INT32/INT64/STRING,
// gzip-compressed) into flowlog batches, with the same value checks as the
// text decoder: nulls and the string "-" are NULL, numbers are range-checked,
// addresses validated. Unknown columns are kept as extra string fields.
package parquet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	pq "github.com/parquet-go/parquet-go"

	"github.com/flowlens/flowlens/internal/decode/record"
	"github.com/flowlens/flowlens/internal/flowlog"
)

// Options connect Read to the caller's batching.
type Options struct {
	// Batch returns the batch to append the next row to (a batch of format f).
	Batch func(f *flowlog.Format) (*flowlog.Batch, error)
	// Full is called after each appended row; it emits a full batch.
	Full func() error
	// OnReject receives every rejected row (File left empty).
	OnReject func(*record.LineError)
	// OnWarning receives every row kept with a warning (a value outside
	// its field's documented range, stored as written; File left empty).
	OnWarning func(*record.LineError)
	// Rows, when set, is incremented for every row read.
	Rows *int64
	// BatchSize is how many rows are read from the file at a time (0 → 1024).
	BatchSize int
}

// ErrSchema is matched (errors.Is) when the file's schema is not a flow log's.
var ErrSchema = errors.New("not a flow log Parquet schema")

// Format returns the flow log format named by a Parquet schema's columns.
func Format(s *pq.Schema) (*flowlog.Format, error) {
	var names []string
	for _, path := range s.Columns() {
		if len(path) != 1 {
			return nil, fmt.Errorf("%w: nested column %s", ErrSchema, strings.Join(path, "."))
		}
		names = append(names, path[0])
	}
	f, err := flowlog.ParseHeader(strings.Join(names, " "))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	return f, nil
}

// Read decodes every row of the Parquet file r of the given size.
func Read(ctx context.Context, r io.ReaderAt, size int64, opts Options) (err error) {
	defer func() {
		// parquet-go panics on some damaged files; a damaged file must not
		// take the process down.
		if p := recover(); p != nil {
			err = fmt.Errorf("parquet: damaged file: %v", p)
		}
	}()
	if err := checkFooter(r, size); err != nil {
		return err
	}
	file, err := pq.OpenFile(r, size)
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	format, err := Format(file.Schema())
	if err != nil {
		return err
	}
	dec := record.NewDecoder(format)
	n := opts.BatchSize
	if n <= 0 || n > 4096 {
		n = 1024
	}
	rows := make([]pq.Row, n)
	var rowNo int64
	var text []byte
	for _, rg := range file.RowGroups() {
		rr := rg.Rows()
		for {
			if err := ctx.Err(); err != nil {
				rr.Close()
				return err
			}
			k, rerr := rr.ReadRows(rows)
			for _, row := range rows[:k] {
				rowNo++
				if opts.Rows != nil {
					*opts.Rows++
				}
				b, err := opts.Batch(format)
				if err != nil {
					rr.Close()
					return err
				}
				if le := appendRow(dec, b, row, rowNo, &text); le != nil && le.Warning {
					if opts.OnWarning != nil {
						opts.OnWarning(le)
					}
				} else if le != nil {
					if opts.OnReject != nil {
						opts.OnReject(le)
					}
					continue
				}
				if err := opts.Full(); err != nil {
					rr.Close()
					return err
				}
			}
			if errors.Is(rerr, io.EOF) {
				break
			}
			if rerr != nil {
				rr.Close()
				return fmt.Errorf("parquet: row %d: %w", rowNo+1, rerr)
			}
		}
		if err := rr.Close(); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
	}
	return nil
}

// checkFooter validates the file's footer before parquet-go trusts it:
// parquet-go allocates the metadata length the footer claims before
// comparing it with the file size (8 bytes can ask for 800 MB).
func checkFooter(r io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("parquet: %w: %d bytes is too short", ErrSchema, size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("parquet: read footer: %w", err)
	}
	if string(tail[4:]) != "PAR1" {
		return fmt.Errorf("parquet: no PAR1 at the end of the file (truncated?)")
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("parquet: footer claims %d bytes of metadata in a %d-byte file (truncated?)", n, size)
	}
	return nil
}

// appendRow appends one row to b or rejects it (b unchanged). A row kept
// with a warning returns it (Warning set) after it was appended.
func appendRow(dec *record.Decoder, b *flowlog.Batch, row pq.Row, rowNo int64, text *[]byte) *record.LineError {
	ncol := len(b.Cols)
	seen := 0
	var warn *record.LineError
	for _, v := range row {
		col := v.Column()
		if col < 0 || col >= ncol || col != seen {
			record.DropPartial(b)
			return record.Reject(rowNo, "", record.Problem{Kind: record.KindNotRecord, Reason: fmt.Sprintf("row has an unexpected value for column %d", col)}, rowText(row, text))
		}
		seen++
		var reason record.Problem
		switch {
		case v.IsNull():
			dec.AppendNull(b, col)
		case v.Kind() == pq.Int32:
			reason = dec.AppendInt(b, col, int64(v.Int32()))
		case v.Kind() == pq.Int64:
			reason = dec.AppendInt(b, col, v.Int64())
		case v.Kind() == pq.ByteArray || v.Kind() == pq.FixedLenByteArray:
			reason = dec.AppendBytes(b, col, v.ByteArray())
		default:
			reason = record.Problem{Kind: record.KindNotRecord, Reason: fmt.Sprintf("unsupported Parquet type %s", v.Kind())}
		}
		if reason.Warn && warn == nil {
			warn = record.Reject(rowNo, b.Cols[col].Field.Column, reason, "")
			warn.Warning = true
		} else if reason.Refused() {
			record.DropPartial(b)
			return record.Reject(rowNo, b.Cols[col].Field.Column, reason, rowText(row, text))
		}
	}
	if seen != ncol {
		record.DropPartial(b)
		return record.Reject(rowNo, "", record.Problem{Kind: record.KindFieldCount, Reason: fmt.Sprintf("row has %d values, the schema has %d columns", seen, ncol)}, rowText(row, text))
	}
	b.EndRecord()
	if warn != nil {
		warn.Text = rowText(row, text)
	}
	return warn
}

// rowText renders a row as a flow log line for error messages.
func rowText(row pq.Row, buf *[]byte) string {
	t := (*buf)[:0]
	for i, v := range row {
		if i > 0 {
			t = append(t, ' ')
		}
		switch {
		case v.IsNull():
			t = append(t, '-')
		case v.Kind() == pq.Int32:
			t = strconv.AppendInt(t, int64(v.Int32()), 10)
		case v.Kind() == pq.Int64:
			t = strconv.AppendInt(t, v.Int64(), 10)
		default:
			t = append(t, v.ByteArray()...)
		}
	}
	*buf = t
	return string(t)
}
