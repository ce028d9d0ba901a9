package flowlog

import (
	"net/netip"
	"strconv"
)

// DefaultBatchSize is the number of records a producer puts in one Batch
// unless it has a reason to choose otherwise (DuckDB's vector multiple).
const DefaultBatchSize = 122880

// Column holds the values of one field for every record of a Batch.
//
// Layout (chosen so that stores can hand the memory to Arrow or DuckDB
// without copying):
//   - Valid[i] is false when record i has no value (NULL: the field is
//     absent from the format or was written as '-').
//   - KindInt and KindTime: Ints[i] is the value (0 when NULL).
//   - KindString, KindEnum, KindIP: the text of record i is
//     Data[Offsets[i]:Offsets[i+1]]; Offsets has N+1 entries and starts at 0;
//     a NULL has an empty span.
//   - KindIP also fills Fam[i] (4, 6, or 0 when NULL) and, for IPv4,
//     V4[i] = the address as a big-endian uint32 (0 otherwise).
type Column struct {
	Field   *Field
	Valid   []bool
	Ints    []int64
	Offsets []int32
	Data    []byte
	V4      []uint32
	Fam     []uint8
}

// Batch is a columnar block of records that share one Format. Producers
// (decoders, generators) append; consumers (stores, metric filters) read.
// A Batch is not safe for concurrent mutation; ownership passes with it.
type Batch struct {
	Format *Format
	// Cols is parallel to Format.Fields.
	Cols []Column
	// N is the number of records.
	N int
}

// NewBatch returns an empty batch for the format with room for capacity records.
func NewBatch(f *Format, capacity int) *Batch {
	b := &Batch{Format: f, Cols: make([]Column, len(f.Fields))}
	for i, fl := range f.Fields {
		c := &b.Cols[i]
		c.Field = fl
		c.Valid = make([]bool, 0, capacity)
		switch fl.Kind {
		case KindInt, KindTime:
			c.Ints = make([]int64, 0, capacity)
		case KindIP:
			c.V4 = make([]uint32, 0, capacity)
			c.Fam = make([]uint8, 0, capacity)
			fallthrough
		default:
			c.Offsets = make([]int32, 1, capacity+1)
			c.Data = make([]byte, 0, capacity*textWidth(fl))
		}
	}
	return b
}

// textWidth is the bytes per value a new batch reserves for a text
// column: enough for most values of the field (an IPv4 address takes up
// to 15, an interface id 21), so that the data rarely has to grow (a
// copy into twice the memory) while the pages never written cost nothing.
func textWidth(f *Field) int {
	switch f.ID {
	case InterfaceID:
		return 22
	case SrcAddr, DstAddr, PktSrcAddr, PktDstAddr:
		return 16
	case AccountID:
		return 12
	}
	return 8
}

// Reset empties the batch and keeps its memory.
func (b *Batch) Reset() {
	for i := range b.Cols {
		c := &b.Cols[i]
		c.Valid = c.Valid[:0]
		c.Ints = c.Ints[:0]
		c.V4 = c.V4[:0]
		c.Fam = c.Fam[:0]
		if c.Offsets != nil {
			c.Offsets = c.Offsets[:1]
		}
		c.Data = c.Data[:0]
	}
	b.N = 0
}

// Col returns the column of catalog field id, or nil when the format lacks it.
func (b *Batch) Col(id FieldID) *Column {
	i := b.Format.Index(id)
	if i < 0 {
		return nil
	}
	return &b.Cols[i]
}

// Truncate drops records from n on. Truncate(b.N) discards the values of a
// record that was partially appended (EndRecord not called yet).
func (b *Batch) Truncate(n int) {
	if n > b.N {
		return
	}
	for i := range b.Cols {
		c := &b.Cols[i]
		c.Truncate(n)
	}
	b.N = n
}

// Truncate drops the column's values from n on (also those of a record
// whose other columns were not appended yet).
func (c *Column) Truncate(n int) {
	if len(c.Valid) > n {
		c.Valid = c.Valid[:n]
	}
	if len(c.Ints) > n {
		c.Ints = c.Ints[:n]
	}
	if len(c.V4) > n {
		c.V4 = c.V4[:n]
	}
	if len(c.Fam) > n {
		c.Fam = c.Fam[:n]
	}
	if c.Offsets != nil && len(c.Offsets) > n+1 {
		c.Offsets = c.Offsets[:n+1]
		c.Data = c.Data[:c.Offsets[n]]
	}
}

// AppendNull appends a NULL.
func (c *Column) AppendNull() {
	c.Valid = append(c.Valid, false)
	switch c.Field.Kind {
	case KindInt, KindTime:
		c.Ints = append(c.Ints, 0)
	case KindIP:
		c.V4 = append(c.V4, 0)
		c.Fam = append(c.Fam, 0)
		c.Offsets = append(c.Offsets, int32(len(c.Data)))
	default:
		c.Offsets = append(c.Offsets, int32(len(c.Data)))
	}
}

// AppendInt appends a number to a KindInt or KindTime column.
func (c *Column) AppendInt(v int64) {
	c.Valid = append(c.Valid, true)
	c.Ints = append(c.Ints, v)
}

// AppendBytes appends text to a KindString or KindEnum column.
func (c *Column) AppendBytes(v []byte) {
	c.Valid = append(c.Valid, true)
	c.Data = append(c.Data, v...)
	c.Offsets = append(c.Offsets, int32(len(c.Data)))
}

// AppendString appends text to a KindString or KindEnum column.
func (c *Column) AppendString(v string) {
	c.Valid = append(c.Valid, true)
	c.Data = append(c.Data, v...)
	c.Offsets = append(c.Offsets, int32(len(c.Data)))
}

// AppendIP appends an address to a KindIP column.
func (c *Column) AppendIP(a netip.Addr) {
	c.Valid = append(c.Valid, true)
	if a.Is4() {
		b := a.As4()
		c.V4 = append(c.V4, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))
		c.Fam = append(c.Fam, 4)
		c.Data = AppendIPv4(c.Data, c.V4[len(c.V4)-1])
	} else {
		c.V4 = append(c.V4, 0)
		c.Fam = append(c.Fam, 6)
		c.Data = a.AppendTo(c.Data)
	}
	c.Offsets = append(c.Offsets, int32(len(c.Data)))
}

// AppendIPv4 appends the IPv4 address v (big-endian uint32) to a KindIP column.
func (c *Column) AppendIPv4(v uint32) {
	c.Valid = append(c.Valid, true)
	c.V4 = append(c.V4, v)
	c.Fam = append(c.Fam, 4)
	c.Data = AppendIPv4(c.Data, v)
	c.Offsets = append(c.Offsets, int32(len(c.Data)))
}

// AppendIPv4 appends the dotted-quad text of v to dst.
func AppendIPv4(dst []byte, v uint32) []byte {
	dst = strconv.AppendUint(dst, uint64(v>>24), 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(v>>16&0xff), 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(v>>8&0xff), 10)
	dst = append(dst, '.')
	return strconv.AppendUint(dst, uint64(v&0xff), 10)
}

// Bytes returns the text of record i of a text column (nil when NULL). The
// slice aliases the column's memory.
func (c *Column) Bytes(i int) []byte {
	if !c.Valid[i] {
		return nil
	}
	return c.Data[c.Offsets[i]:c.Offsets[i+1]]
}

// Value returns record i as a Go value: nil for NULL, int64 for numeric
// kinds, string otherwise. It allocates; use it off the hot path.
func (c *Column) Value(i int) any {
	if !c.Valid[i] {
		return nil
	}
	if c.Field.Kind.Numeric() {
		return c.Ints[i]
	}
	return string(c.Data[c.Offsets[i]:c.Offsets[i+1]])
}

// AppendText appends record i as flow log text ('-' for NULL) to dst.
func (c *Column) AppendText(dst []byte, i int) []byte {
	if !c.Valid[i] {
		return append(dst, '-')
	}
	if c.Field.Kind.Numeric() {
		return strconv.AppendInt(dst, c.Ints[i], 10)
	}
	return append(dst, c.Data[c.Offsets[i]:c.Offsets[i+1]]...)
}

// AppendLine appends record i as one line of flow log text in the batch's
// format (no newline) to dst.
func (b *Batch) AppendLine(dst []byte, i int) []byte {
	for j := range b.Cols[:b.Format.Len()] {
		if j > 0 {
			dst = append(dst, ' ')
		}
		dst = b.Cols[j].AppendText(dst, i)
	}
	return dst
}

// EndRecord marks the record whose values were just appended to every
// column as complete.
func (b *Batch) EndRecord() { b.N++ }

// Len returns the number of records.
func (b *Batch) Len() int { return b.N }
