package clickhouse

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/ClickHouse/ch-go/proto"
	chcolumn "github.com/ClickHouse/clickhouse-go/v2/lib/column"
)

// The values of a whole column of an INSERT block, built from the decoded
// batches in the form the driver's columns hold them, so that fillColumn
// can hand them over without a copy.
//
// Through its public API (`batch.Column(i).Append(slice)`) clickhouse-go
// copies every value into a column buffer that grows from empty for every
// INSERT: each string on its own, with a `growslice` whenever the buffer
// is full, and a byte of null flags allocated per value, then copies the
// column again into the connection's buffer when it sends the block (that
// copy stays). Its columns are thin wrappers around ch-go's proto columns
// (an integer column is a []T, a String column a byte buffer and the
// positions of the values in it), in an unexported field `col`;
// fillColumn sets that field to the values built here, checked by field
// name and type through reflect, and falls back to the public Append when
// the driver's column is not of that shape (another driver release, or a
// LowCardinality column of a newer server).

// textValues is a String column: the values' bytes and each value's range
// in them (ch-go's ColStr). Ranges may share bytes (a value repeated).
type textValues struct {
	buf []byte
	pos []proto.Position
}

// nullableUInt32 is a Nullable(UInt32) column: the values (0 where NULL)
// and a byte per value, 1 for NULL.
type nullableUInt32 struct {
	vals  []uint32
	nulls []uint8
}

// fillColumn puts v, the n values of a column, into the driver's column c
// of a batch whose columns are still empty. v is a []int64, []int32,
// []uint64, []uint16, []uint8, textValues, nullableUInt32, or anything
// c.Append takes (the packed array columns).
func fillColumn(c chcolumn.Interface, v any) error {
	if c.Rows() != 0 {
		return fmt.Errorf("column %s: %d rows before the fill", c.Name(), c.Rows())
	}
	switch v := v.(type) {
	case []int64:
		if p := innerField[proto.ColInt64](c, "col"); p != nil {
			*p = v
			return nil
		}
	case []int32:
		if p := innerField[proto.ColInt32](c, "col"); p != nil {
			*p = v
			return nil
		}
	case []uint64:
		if p := innerField[proto.ColUInt64](c, "col"); p != nil {
			*p = v
			return nil
		}
	case []uint16:
		if p := innerField[proto.ColUInt16](c, "col"); p != nil {
			*p = v
			return nil
		}
	case []uint8:
		if p := innerField[proto.ColUInt8](c, "col"); p != nil {
			*p = v
			return nil
		}
	case textValues:
		if p := innerField[proto.ColStr](c, "col"); p != nil {
			*p = proto.ColStr{Buf: v.buf, Pos: v.pos}
			return nil
		}
		_, err := c.Append(v.strings())
		return err
	case nullableUInt32:
		nulls := innerField[proto.ColUInt8](c, "nulls")
		base := innerField[chcolumn.Interface](c, "base")
		if nulls != nil && base != nil && (*base).Rows() == 0 {
			if p := innerField[proto.ColUInt32](*base, "col"); p != nil {
				*p, *nulls = v.vals, v.nulls
				return nil
			}
		}
		_, err := c.Append(v.pointers())
		return err
	}
	_, err := c.Append(v)
	return err
}

// innerField returns a pointer to the field name of the struct c points
// to when it has that field with type T (nil otherwise).
func innerField[T any](c any, name string) *T {
	rv := reflect.ValueOf(c)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := rv.Elem().FieldByName(name)
	if !f.IsValid() || f.Type() != reflect.TypeFor[T]() {
		return nil
	}
	return (*T)(unsafe.Pointer(f.UnsafeAddr()))
}

// strings returns the values as strings pointing into the buffer.
func (v textValues) strings() []string {
	out := make([]string, len(v.pos))
	for i, p := range v.pos {
		if p.End > p.Start {
			out[i] = unsafe.String(&v.buf[p.Start], p.End-p.Start)
		}
	}
	return out
}

// pointers returns the values as the driver's Append takes a Nullable
// column (nil for NULL).
func (v nullableUInt32) pointers() []*uint32 {
	out := make([]*uint32, len(v.vals))
	for i := range v.vals {
		if v.nulls[i] == 0 {
			out[i] = &v.vals[i]
		}
	}
	return out
}
