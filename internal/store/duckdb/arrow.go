//go:build duckdb_arrow

package duckdb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	duckdbdrv "github.com/duckdb/duckdb-go/v2"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// arrowChunk is the number of rows per Arrow record handed to DuckDB:
// half a DuckDB row group (the chunks built ahead and their pooled
// buffers took 138 MB of an ingest's heap at 122,880; docs/BENCHMARKS.md,
// issue #18 step 16).
const arrowChunk = 61440

// appendGroup streams the group's rows into `records` through an Arrow
// record reader registered as a view: the fastest load path measured (see
// docs/BENCHMARKS.md).
func (w *writeTx) appendGroup(ctx context.Context, tb table, g *group) error {
	return w.streamGroup(ctx, tb, g, func(cols []physCol) string {
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = quoteIdent(c.name)
		}
		return fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM fl_incoming", tb.name, strings.Join(names, ", "))
	})
}

// canStream reports whether streamGroup is available (Arrow builds).
const canStream = true

// streamGroup registers the group's rows as the view fl_incoming (the
// columns the group has values for, see presentColumns) and runs the
// statement stmt builds from those columns. The stream is read once.
func (w *writeTx) streamGroup(ctx context.Context, tb table, g *group, stmt func(cols []physCol) string) error {
	cols := presentColumns(tb, g)
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: arrowType(c), Nullable: true}
	}
	rr := &groupReader{g: g, cols: cols, schema: arrow.NewSchema(fields, nil), pool: w.s.bufs}
	rr.refs.Store(1)
	q := stmt(cols)
	return w.rawConn(func(dc driver.Conn) error {
		ar, err := duckdbdrv.NewArrowFromConn(dc)
		if err != nil {
			return fmt.Errorf("append rows: %w", err)
		}
		release, err := ar.RegisterView(rr, "fl_incoming")
		if err != nil {
			return fmt.Errorf("append rows: %w", err)
		}
		defer release()
		defer rr.drain()
		ex, ok := dc.(driver.ExecerContext)
		if !ok {
			return errors.New("BUG: driver connection cannot exec")
		}
		if _, err := ex.ExecContext(ctx, q, nil); err != nil {
			return fmt.Errorf("append rows: %w", err)
		}
		if rr.err != nil {
			return rr.err
		}
		_, err = ex.ExecContext(ctx, "DROP VIEW IF EXISTS fl_incoming", nil)
		return err
	})
}

func arrowType(c physCol) arrow.DataType {
	switch c.sqlType {
	case "USMALLINT":
		return arrow.PrimitiveTypes.Uint16
	case "UINTEGER":
		return arrow.PrimitiveTypes.Uint32
	case "INTEGER":
		return arrow.PrimitiveTypes.Int32
	case "BIGINT":
		return arrow.PrimitiveTypes.Int64
	}
	return arrow.BinaryTypes.String
}

// groupReader is an array.RecordReader that builds one Arrow record per
// arrowChunk rows of a group, on demand.
type groupReader struct {
	refs   atomic.Int64
	g      *group
	cols   []physCol
	schema *arrow.Schema
	cur    arrow.RecordBatch
	err    error
	pool   *bufPool

	// Chunks are built by goroutines ahead of DuckDB, which reads the
	// stream from one thread: chunks[i] delivers chunk i, slots bounds
	// the chunks in flight.
	once   sync.Once
	chunks []chan arrow.RecordBatch
	slots  chan struct{}
	next   int
}

// prefetch is how many chunks are built ahead.
const prefetch = 3

func (r *groupReader) start() {
	n := len(r.g.rows)
	nch := (n + arrowChunk - 1) / arrowChunk
	r.chunks = make([]chan arrow.RecordBatch, nch)
	for i := range r.chunks {
		r.chunks[i] = make(chan arrow.RecordBatch, 1)
	}
	r.slots = make(chan struct{}, prefetch)
	go func() {
		for i := range nch {
			r.slots <- struct{}{}
			go func() {
				lo, hi := i*arrowChunk, min((i+1)*arrowChunk, n)
				arrs := make([]arrow.Array, len(r.cols))
				for j, c := range r.cols {
					arrs[j] = buildArray(r.g, c, lo, hi, r.pool)
				}
				rec := array.NewRecordBatch(r.schema, arrs, int64(hi-lo))
				for _, a := range arrs {
					a.Release()
				}
				r.chunks[i] <- rec
			}()
		}
	}()
}

func (r *groupReader) Retain() { r.refs.Add(1) }
func (r *groupReader) Release() {
	if r.refs.Add(-1) == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}
func (r *groupReader) Schema() *arrow.Schema { return r.schema }
func (r *groupReader) Err() error            { return r.err }
func (r *groupReader) RecordBatch() arrow.RecordBatch {
	return r.cur
}

// Record is the deprecated spelling of RecordBatch.
func (r *groupReader) Record() arrow.RecordBatch { return r.cur }

func (r *groupReader) Next() bool {
	r.once.Do(r.start)
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.next >= len(r.chunks) {
		return false
	}
	r.cur = <-r.chunks[r.next]
	r.next++
	<-r.slots
	return true
}

// drain waits for the chunks DuckDB did not read (after an error), so
// that no builder goroutine outlives the append.
func (r *groupReader) drain() {
	r.once.Do(func() {})
	for ; r.next < len(r.chunks); r.next++ {
		(<-r.chunks[r.next]).Release()
		<-r.slots
	}
}

// buildArray gathers rows [lo, hi) of the group for one column, into
// buffers of pool (returned to it when DuckDB releases the chunk).
func buildArray(g *group, c physCol, lo, hi int, pool *bufPool) arrow.Array {
	n := hi - lo
	rows := g.rows[lo:hi]
	// vals returns a pooled buffer of n values of width bytes (contents
	// unspecified: every value is written, NULLs' too).
	vals := func(width int) []byte { return pool.Allocate(n * width) }
	primitive := func(t arrow.DataType, n int, vals, bm []byte, nulls int) arrow.Array {
		return pooledArray(pool, t, n, vals, bm, nulls)
	}
	switch c.kind {
	case ckDataset:
		vb := vals(2)
		v := arrow.Uint16Traits.CastFromBytes(vb)
		for i, rf := range rows {
			v[i] = g.parts[rf.p].dataset
		}
		return primitive(arrow.PrimitiveTypes.Uint16, n, vb, nil, 0)
	case ckFile:
		vb := vals(4)
		v := arrow.Uint32Traits.CastFromBytes(vb)
		for i, rf := range rows {
			v[i] = g.parts[rf.p].file
		}
		return primitive(arrow.PrimitiveTypes.Uint32, n, vb, nil, 0)
	case ckFormat:
		vb := vals(4)
		v := arrow.Int32Traits.CastFromBytes(vb)
		for i, rf := range rows {
			v[i] = g.parts[rf.p].format
		}
		return primitive(arrow.PrimitiveTypes.Int32, n, vb, nil, 0)
	case ckHour:
		vb := vals(8)
		copy(arrow.Int64Traits.CastFromBytes(vb), g.hours[lo:hi])
		return primitive(arrow.PrimitiveTypes.Int64, n, vb, nil, 0)
	case ckIngestTime:
		vb := vals(8)
		v := arrow.Int64Traits.CastFromBytes(vb)
		for i := range v {
			v[i] = g.now
		}
		return primitive(arrow.PrimitiveTypes.Int64, n, vb, nil, 0)
	}
	idx, _ := g.colIndex(c.field)
	// cols[p] is part p's column (nil when its format lacks the field).
	cols := make([]*flowlog.Column, len(g.parts))
	for p, j := range idx {
		if j >= 0 {
			cols[p] = &g.parts[p].b.Cols[j]
		}
	}
	bm := pool.Allocate((n + 7) / 8)
	clear(bm)
	nulls := 0
	var starts []*flowlog.Column
	if c.kind == ckEndDelta || c.kind == ckEndRaw {
		starts = make([]*flowlog.Column, len(g.parts))
		for p := range g.parts {
			starts[p] = g.parts[p].b.Col(flowlog.Start)
		}
	}
	switch c.kind {
	case ckEndDelta:
		vb := vals(4)
		v := arrow.Int32Traits.CastFromBytes(vb)
		for i, rf := range rows {
			d, ok, _, _ := endFormsOf(cols[rf.p], starts[rf.p], rf.r)
			if !ok {
				v[i] = 0
				nulls++
				continue
			}
			v[i] = d
			bm[i>>3] |= 1 << (i & 7)
		}
		return primitive(arrow.PrimitiveTypes.Int32, n, vb, bm, nulls)
	case ckEndRaw:
		vb := vals(8)
		v := arrow.Int64Traits.CastFromBytes(vb)
		for i, rf := range rows {
			_, _, raw, ok := endFormsOf(cols[rf.p], starts[rf.p], rf.r)
			if !ok {
				v[i] = 0
				nulls++
				continue
			}
			v[i] = raw
			bm[i>>3] |= 1 << (i & 7)
		}
		return primitive(arrow.PrimitiveTypes.Int64, n, vb, bm, nulls)
	case ckInt32:
		vb := vals(4)
		v := arrow.Int32Traits.CastFromBytes(vb)
		for i, rf := range rows {
			col := cols[rf.p]
			if col == nil || !col.Valid[rf.r] {
				v[i] = 0
				nulls++
				continue
			}
			v[i] = int32(col.Ints[rf.r])
			bm[i>>3] |= 1 << (i & 7)
		}
		return primitive(arrow.PrimitiveTypes.Int32, n, vb, bm, nulls)
	case ckInt64:
		vb := vals(8)
		v := arrow.Int64Traits.CastFromBytes(vb)
		for i, rf := range rows {
			col := cols[rf.p]
			if col == nil || !col.Valid[rf.r] {
				v[i] = 0
				nulls++
				continue
			}
			v[i] = col.Ints[rf.r]
			bm[i>>3] |= 1 << (i & 7)
		}
		return primitive(arrow.PrimitiveTypes.Int64, n, vb, bm, nulls)
	case ckIPv4:
		vb := vals(4)
		v := arrow.Uint32Traits.CastFromBytes(vb)
		for i, rf := range rows {
			col := cols[rf.p]
			if col == nil || !col.Valid[rf.r] || col.Fam[rf.r] != 4 {
				v[i] = 0
				nulls++
				continue
			}
			v[i] = col.V4[rf.r]
			bm[i>>3] |= 1 << (i & 7)
		}
		return primitive(arrow.PrimitiveTypes.Uint32, n, vb, bm, nulls)
	}
	// Text.
	ob := pool.Allocate((n + 1) * 4)
	offs := arrow.Int32Traits.CastFromBytes(ob)
	offs[0] = 0
	data := pool.Allocate(textCapacity(g, idx, n))[:0]
	for i, rf := range rows {
		if col := cols[rf.p]; col != nil {
			if col.Valid[rf.r] {
				data = append(data, col.Data[col.Offsets[rf.r]:col.Offsets[rf.r+1]]...)
				bm[i>>3] |= 1 << (i & 7)
				offs[i+1] = int32(len(data))
				continue
			}
		}
		nulls++
		offs[i+1] = int32(len(data))
	}
	return pooledData(pool, arrow.BinaryTypes.String, n, bm, nulls, ob, data)
}

// textCapacity estimates the bytes of n text values of a column from the
// average length of its values in the group's parts, with some slack, so
// that the data buffer rarely grows.
func textCapacity(g *group, idx []int, n int) int {
	var bytes, rows int
	for i, p := range g.parts {
		if j := idx[i]; j >= 0 {
			col := &p.b.Cols[j]
			if len(col.Offsets) > p.b.N {
				bytes += int(col.Offsets[p.b.N] - col.Offsets[0])
				rows += p.b.N
			}
		}
	}
	if rows == 0 {
		return 64
	}
	return int(float64(bytes)/float64(rows)*float64(n)*1.1) + 64
}

// pooledArray is a primitive array over pooled buffers.
func pooledArray(pool *bufPool, t arrow.DataType, n int, vals, bm []byte, nulls int) arrow.Array {
	return pooledData(pool, t, n, bm, nulls, vals)
}

// pooledData is an array of type t over pooled buffers: the validity
// bitmap bm (given back to the pool at once when there are no NULLs, or
// nil) and the value buffers, which return to the pool when the array is
// released.
func pooledData(pool *bufPool, t arrow.DataType, n int, bm []byte, nulls int, bufs ...[]byte) arrow.Array {
	all := make([]*memory.Buffer, 0, 1+len(bufs))
	if nulls > 0 {
		all = append(all, memory.NewBufferWithAllocator(bm, pool))
	} else {
		if bm != nil {
			pool.Free(bm)
		}
		all = append(all, nil)
	}
	for _, b := range bufs {
		all = append(all, memory.NewBufferWithAllocator(b, pool))
	}
	d := array.NewData(t, n, all, nil, nulls, 0)
	for _, b := range all {
		if b != nil {
			b.Release() // the data holds them now
		}
	}
	defer d.Release()
	return array.MakeFromData(d)
}

// presentColumns returns the table columns that at least one part of the
// group has a value for (the others are left to their NULL default).
func presentColumns(tb table, g *group) []physCol {
	var out []physCol
	for _, c := range tb.cols {
		switch c.kind {
		case ckInt32, ckInt64, ckText, ckIPv4, ckEndDelta, ckEndRaw:
			if _, ok := g.colIndex(c.field); !ok {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}
