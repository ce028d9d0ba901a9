// Package record decodes one flow log record — a line of text or a row of
// values — into a flowlog.Batch, checking every value against its field's
// type: '-' becomes NULL, addresses are IPv4 or IPv6, numbers are in range,
// closed enumerations hold one of their documented values. It is the hot path
// of every decoder (text, CloudWatch, Parquet) and allocates nothing per
// record unless the record is rejected.
package record

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"unsafe"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// LineError describes a rejected record: where it was and why.
type LineError struct {
	// File names the input ("<stdin>" for standard input).
	File string
	// Line is the 1-based line number (for JSON containers, the 1-based
	// position of the event; for Parquet, the 1-based row number).
	Line int64
	// Field is the canonical column name of the offending value, or "" when
	// the record as a whole is wrong (field count, line length).
	Field string
	// Kind classifies the problem (KindFieldCount, KindRange, …): a stable
	// key for grouping and counting, where Reason carries the value.
	Kind string
	// Reason says what is wrong, in words meant for the user.
	Reason string
	// Text is the rejected line (clipped to 512 bytes).
	Text string
	// Warning is set when the record was kept: the value (or the spacing)
	// was unusual but readable, and it was stored as written. A warning is
	// counted and reported, never silent, and never rejects the record.
	Warning bool
}

// Error returns "FILE:LINE: reason", with the field when there is one,
// and "FILE:LINE: warning: reason" for a kept record.
func (e *LineError) Error() string {
	w := ""
	if e.Warning {
		w = "warning: "
	}
	if e.Field != "" {
		return fmt.Sprintf("%s:%d: %sfield %s: %s", e.File, e.Line, w, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s:%d: %s%s", e.File, e.Line, w, e.Reason)
}

// Kinds of rejection (LineError.Kind).
const (
	KindFieldCount = "field-count"   // wrong number of fields, empty line
	KindEmpty      = "empty-value"   // nothing between two spaces
	KindNumber     = "not-a-number"  // not a non-negative whole number
	KindRange      = "out-of-range"  // a number outside its field's range
	KindTime       = "bad-time"      // not Unix seconds or milliseconds
	KindAddress    = "bad-address"   // not an IPv4 or IPv6 address
	KindEnum       = "unknown-value" // not one of a closed enumeration's values
	KindTooLong    = "line-too-long" // longer than the decoder's line limit
	KindNotRecord  = "not-a-record"  // a JSON value or Parquet row that holds no record
	// KindSpaces (a warning) is a line whose fields are separated by runs
	// of spaces, or that starts or ends with spaces: read with each run as
	// one separator.
	KindSpaces = "spaces"
)

// Problem is why one value was refused (empty Reason: no problem). With
// Warn set the value was stored anyway (a number outside its field's
// documented range that its column can hold): the record is kept and the
// reason is reported as a warning.
type Problem struct {
	Kind, Reason string
	Warn         bool
}

// Refused reports whether the problem rejects the value.
func (p Problem) Refused() bool { return p.Reason != "" && !p.Warn }

func problem(kind, format string, args ...any) Problem {
	return Problem{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// maxText bounds LineError.Text.
const maxText = 512

// clipText copies at most maxText bytes of line into a string.
func clipText(line []byte) string {
	if len(line) > maxText {
		return string(line[:maxText]) + "…"
	}
	return string(line)
}

// op is how one position of a format is decoded.
type op uint8

const (
	opString op = iota // any non-empty text
	opEnum             // one of Field.Enum
	opInt              // base-10 integer in [Min, Max]
	opTime             // epoch seconds; 13 digits are milliseconds
	opIP               // IPv4 or IPv6 address
)

type slot struct {
	op       op
	min, max int64
	// keep is the largest value the field's column stores: a number
	// outside [min, max] up to keep is stored and warned about (it is not
	// needed to place the record, and nothing of it is lost).
	keep  int64
	field *flowlog.Field
}

// Decoder decodes records of one format. It holds no per-record state and
// may be shared by goroutines that decode into different batches.
type Decoder struct {
	format *flowlog.Format
	slots  []slot
	// Hint, when set, is appended to the reason of a field-count mismatch
	// (for instance, that the format was guessed).
	Hint string
}

// NewDecoder returns a decoder for records of format f.
func NewDecoder(f *flowlog.Format) *Decoder {
	d := &Decoder{format: f, slots: make([]slot, len(f.Fields))}
	for i, fl := range f.Fields {
		s := slot{field: fl, min: fl.Min, max: fl.Max}
		switch fl.Kind {
		case flowlog.KindInt:
			s.op = opInt
			s.keep = fl.Max
			if fl.ParquetType == "INT32" {
				s.keep = 1<<31 - 1
			}
		case flowlog.KindTime:
			s.op = opTime
		case flowlog.KindIP:
			s.op = opIP
		case flowlog.KindEnum:
			s.op = opEnum
			if fl.OpenEnum {
				s.op = opString
			}
		default:
			s.op = opString
		}
		if f.Extra[i] {
			s.op = opString
		}
		d.slots[i] = s
	}
	return d
}

// Format returns the decoder's format.
func (d *Decoder) Format() *flowlog.Format { return d.format }

// DecodeLine decodes one line of text (a trailing '\r' is ignored) and
// appends it as one record to b, whose format must be the decoder's or its
// Placed form (whose last column the caller fills after each record). On a
// bad line it returns the reason (File left empty for the caller to fill)
// and leaves b unchanged.
//
// A record kept with something unusual in it is accepted silently here; use
// Decode to be told.
func (d *Decoder) DecodeLine(b *flowlog.Batch, line []byte, lineNo int64) *LineError {
	le, _ := d.Decode(b, line, lineNo)
	return le
}

// Decode is DecodeLine that also returns a warning (LineError.Warning set)
// when the record was kept although something in it was unusual: a number
// outside its field's documented range that its column holds (version
// 300: stored as written), or fields separated by runs of spaces (AWS's
// own documentation prints a record with two), read with each run as one
// separator. At most one of rej and warn is set.
func (d *Decoder) Decode(b *flowlog.Batch, line []byte, lineNo int64) (rej, warn *LineError) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	at, p, rej := d.decodeLine(b, line, lineNo)
	if rej == nil {
		if p.Reason != "" {
			warn = &LineError{Line: lineNo, Field: d.slots[at].field.Column, Kind: p.Kind, Reason: p.Reason, Text: clipText(line), Warning: true}
		}
		return nil, warn
	}
	if !spaced(line) {
		return rej, nil
	}
	// Read each run of spaces as one separator (a rare path: allocates).
	fixed := SqueezeSpaces(line)
	at, p, rej2 := d.decodeLine(b, fixed, lineNo)
	if rej2 != nil {
		rej2.Text = clipText(line)
		return rej2, nil
	}
	reason := "fields are separated by runs of spaces or the line starts or ends with a space: each run was read as one separator"
	if p.Reason != "" {
		reason += "; field " + d.slots[at].field.Column + ": " + p.Reason
	}
	return nil, &LineError{Line: lineNo, Kind: KindSpaces, Reason: reason, Text: clipText(line), Warning: true}
}

// spaced reports whether line has two spaces in a row or a space at either end.
func spaced(line []byte) bool {
	n := len(line)
	return n > 0 && (line[0] == ' ' || line[n-1] == ' ' || bytes.Contains(line, []byte("  ")))
}

// SqueezeSpaces returns line with every run of spaces shortened to one and
// the spaces at both ends removed.
func SqueezeSpaces(line []byte) []byte {
	out := make([]byte, 0, len(line))
	for _, c := range bytes.Trim(line, " ") {
		if c == ' ' && len(out) > 0 && out[len(out)-1] == ' ' {
			continue
		}
		out = append(out, c)
	}
	return out
}

// decodeLine decodes line (no trailing '\r') into b. When a value was kept
// with a warning, at is its slot and p the reason (the first one).
func (d *Decoder) decodeLine(b *flowlog.Batch, line []byte, lineNo int64) (at int, p Problem, rej *LineError) {
	n := len(line)
	if n == 0 {
		return 0, p, d.reject(b, 0, line, lineNo, "", Problem{Kind: KindFieldCount, Reason: "empty line"})
	}
	pos := 0
	slots := d.slots
	cols := b.Cols[:len(slots)]
	for i := range slots {
		if pos > n {
			return at, p, d.reject(b, i, line, lineNo, "", Problem{Kind: KindFieldCount, Reason: d.countReason(line)})
		}
		s := &slots[i]
		c := &cols[i]
		// Fast paths: numbers and IPv4 addresses are parsed while their
		// end is searched for. Anything unusual takes the general path.
		switch s.op {
		case opInt, opTime:
			j, v := pos, int64(0)
			// Eight digits at a time while they last (a timestamp is
			// ten), then one at a time.
			if j+8 <= n {
				if x := binary.LittleEndian.Uint64(line[j:]); eightDigits(x) {
					v = int64(parseEight(x))
					j += 8
				}
			}
			for j < n {
				ch := line[j] - '0'
				if ch > 9 {
					break
				}
				v = v*10 + int64(ch)
				j++
			}
			if k := j - pos; k > 0 && k <= 18 && (j == n || line[j] == ' ') {
				if s.op == opTime {
					if k > 13 {
						break
					}
					if k == 13 {
						v /= 1000
					}
				} else if v < s.min || v > s.max {
					break
				}
				c.Valid = append(c.Valid, true)
				c.Ints = append(c.Ints, v)
				pos = j + 1
				continue
			}
		case opEnum:
			// A closed enumeration's value is matched in place.
			if j := matchEnum(s.field.Enum, line, pos); j > 0 {
				c.Valid = append(c.Valid, true)
				c.Data = append(c.Data, line[pos:j]...)
				c.Offsets = append(c.Offsets, int32(len(c.Data)))
				pos = j + 1
				continue
			}
		case opIP:
			if j, v, ok := scanIPv4(line, pos); ok {
				c.Valid = append(c.Valid, true)
				c.V4 = append(c.V4, v)
				c.Fam = append(c.Fam, 4)
				c.Data = append(c.Data, line[pos:j]...)
				c.Offsets = append(c.Offsets, int32(len(c.Data)))
				pos = j + 1
				continue
			}
		}
		var tok []byte
		if j := bytes.IndexByte(line[pos:], ' '); j >= 0 {
			tok = line[pos : pos+j]
			pos += j + 1
		} else {
			tok = line[pos:]
			pos = n + 1
		}
		if len(tok) > 1 || (len(tok) == 1 && tok[0] != '-') {
			// Text that is not NULL: strings as they are, closed
			// enumerations when they hold one of their values.
			if s.op == opString || (s.op == opEnum && validEnum(s.field.Enum, tok)) {
				c.Valid = append(c.Valid, true)
				c.Data = append(c.Data, tok...)
				c.Offsets = append(c.Offsets, int32(len(c.Data)))
				continue
			}
		}
		if q := appendToken(c, s, tok); q.Warn {
			if p.Reason == "" {
				at, p = i, q
			}
		} else if q.Reason != "" {
			// A line with the wrong number of fields is reported as such,
			// not by the first value that happens not to fit.
			if bytes.Count(line, []byte{' '})+1 != len(d.slots) {
				return at, p, d.reject(b, i+1, line, lineNo, "", Problem{Kind: KindFieldCount, Reason: d.countReason(line)})
			}
			return at, p, d.reject(b, i+1, line, lineNo, d.slots[i].field.Column, q)
		}
	}
	if pos <= n {
		return at, p, d.reject(b, len(d.slots), line, lineNo, "", Problem{Kind: KindFieldCount, Reason: d.countReason(line)})
	}
	b.EndRecord()
	return at, p, nil
}

// countReason explains a field-count mismatch.
func (d *Decoder) countReason(line []byte) string {
	got := bytes.Count(line, []byte{' '}) + 1
	r := fmt.Sprintf("%d fields, the format has %d", got, len(d.slots))
	switch {
	case bytes.Contains(line, []byte("  ")):
		r += " (also with each run of spaces read as one separator)"
	case len(line) > 0 && (line[0] == ' ' || line[len(line)-1] == ' '):
		r += " (also without the spaces at the start or end of the line)"
	}
	if d.Hint != "" {
		r += " (" + d.Hint + ")"
	}
	return r
}

// reject drops the values appended to the first ncols columns for the
// record being decoded and builds the error.
func (d *Decoder) reject(b *flowlog.Batch, ncols int, line []byte, lineNo int64, field string, p Problem) *LineError {
	for i := 0; i < ncols; i++ {
		b.Cols[i].Truncate(b.N)
	}
	return &LineError{Line: lineNo, Field: field, Kind: p.Kind, Reason: p.Reason, Text: clipText(line)}
}

// appendNull appends a NULL to c.
func appendNull(c *flowlog.Column, o op) {
	c.Valid = append(c.Valid, false)
	switch o {
	case opInt, opTime:
		c.Ints = append(c.Ints, 0)
	case opIP:
		c.V4 = append(c.V4, 0)
		c.Fam = append(c.Fam, 0)
		c.Offsets = append(c.Offsets, int32(len(c.Data)))
	default:
		c.Offsets = append(c.Offsets, int32(len(c.Data)))
	}
}

// appendToken decodes tok into c; it returns the zero Problem or why tok is bad
// (in which case c may hold a partial value that reject drops).
func appendToken(c *flowlog.Column, s *slot, tok []byte) Problem {
	if len(tok) == 1 && tok[0] == '-' {
		appendNull(c, s.op)
		return Problem{}
	}
	if len(tok) == 0 {
		return Problem{Kind: KindEmpty, Reason: "empty value (fields are separated by exactly one space)"}
	}
	switch s.op {
	case opInt:
		v, ok := parseUint(tok)
		if !ok {
			return notNumber(tok)
		}
		if v < s.min || v > s.max {
			if v > s.keep {
				return problem(KindRange, "%q is out of range %d-%d (and too large to store)", clipText(tok), s.min, s.max)
			}
			c.Valid = append(c.Valid, true)
			c.Ints = append(c.Ints, v)
			return Problem{Kind: KindRange, Reason: fmt.Sprintf("%q is outside %d-%d: stored as written", clipText(tok), s.min, s.max), Warn: true}
		}
		c.Valid = append(c.Valid, true)
		c.Ints = append(c.Ints, v)
	case opTime:
		v, ok := parseUint(tok)
		if !ok {
			return notNumber(tok)
		}
		switch {
		case len(tok) == 13:
			v /= 1000 // milliseconds
		case len(tok) > 13:
			return problem(KindTime, "%q is not a Unix time in seconds or milliseconds", clipText(tok))
		}
		c.Valid = append(c.Valid, true)
		c.Ints = append(c.Ints, v)
	case opIP:
		if v, ok := parseIPv4(tok); ok {
			c.Valid = append(c.Valid, true)
			c.V4 = append(c.V4, v)
			c.Fam = append(c.Fam, 4)
			c.Data = append(c.Data, tok...)
			c.Offsets = append(c.Offsets, int32(len(c.Data)))
			return Problem{}
		}
		a, ok := parseIPv6(tok)
		if !ok {
			return problem(KindAddress, "%q is not an IPv4 or IPv6 address", clipText(tok))
		}
		c.AppendIP(a)
	case opEnum:
		if !s.field.ValidEnum(tok) {
			return problem(KindEnum, "%q is not one of %v", clipText(tok), s.field.Enum)
		}
		c.AppendBytes(tok)
	default:
		c.AppendBytes(tok)
	}
	return Problem{}
}

func notNumber(tok []byte) Problem {
	if tok[0] == '-' {
		return problem(KindNumber, "%q is negative", clipText(tok))
	}
	return problem(KindNumber, "%q is not a whole number", clipText(tok))
}

// eightDigits reports whether the 8 bytes of x are all ASCII digits.
func eightDigits(x uint64) bool {
	return (x&0xF0F0F0F0F0F0F0F0)|(((x+0x0606060606060606)&0xF0F0F0F0F0F0F0F0)>>4) == 0x3333333333333333
}

// parseEight converts 8 ASCII digits (the first in the lowest byte) to
// their value.
func parseEight(x uint64) uint64 {
	x = (x & 0x0F0F0F0F0F0F0F0F) * 2561 >> 8
	x = (x & 0x00FF00FF00FF00FF) * 6553601 >> 16
	return (x & 0x0000FFFF0000FFFF) * 42949672960001 >> 32
}

// matchEnum returns the end of the enumeration value that starts at
// line[pos] and is followed by a space or the end of line, or 0.
func matchEnum(values []string, line []byte, pos int) int {
	for _, v := range values {
		j := pos + len(v)
		if j <= len(line) && string(line[pos:j]) == v && (j == len(line) || line[j] == ' ') {
			return j
		}
	}
	return 0
}

// validEnum reports whether tok is one of values.
func validEnum(values []string, tok []byte) bool {
	for _, v := range values {
		if len(v) == len(tok) && v == string(tok) {
			return true
		}
	}
	return false
}

// parseUint parses 1 to 19 decimal digits.
func parseUint(t []byte) (int64, bool) {
	if len(t) == 0 || len(t) > 19 {
		return 0, false
	}
	var v int64
	for _, c := range t {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + int64(c)
	}
	return v, v >= 0
}

// parseIPv4 parses a dotted quad without leading zeros into a big-endian
// uint32. Text it accepts is already in canonical form.
func parseIPv4(t []byte) (uint32, bool) {
	if len(t) < 7 || len(t) > 15 {
		return 0, false
	}
	var v, oct uint32
	digits, dots := 0, 0
	for _, c := range t {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && oct == 0 {
				return 0, false // leading zero
			}
			oct = oct*10 + uint32(c-'0')
			digits++
			if oct > 255 {
				return 0, false
			}
		case c == '.':
			if digits == 0 || dots == 3 {
				return 0, false
			}
			v = v<<8 | oct
			oct, digits = 0, 0
			dots++
		default:
			return 0, false
		}
	}
	if dots != 3 || digits == 0 {
		return 0, false
	}
	return v<<8 | oct, true
}

// scanIPv4 parses a dotted quad without leading zeros that starts at
// line[pos] and ends at a space or the end of line; it returns the end.
// Each octet is read as one to three digits, unrolled.
func scanIPv4(line []byte, pos int) (int, uint32, bool) {
	var v uint32
	j, n := pos, len(line)
	for k := 0; k < 4; k++ {
		if j >= n {
			return 0, 0, false
		}
		c := line[j] - '0'
		if c > 9 {
			return 0, 0, false
		}
		oct := uint32(c)
		j++
		if j < n {
			if c := line[j] - '0'; c <= 9 {
				if oct == 0 {
					return 0, 0, false // leading zero
				}
				oct = oct*10 + uint32(c)
				j++
				if j < n {
					if c := line[j] - '0'; c <= 9 {
						oct = oct*10 + uint32(c)
						j++
						if oct > 255 {
							return 0, 0, false
						}
					}
				}
			}
		}
		v = v<<8 | oct
		if k < 3 {
			if j >= n || line[j] != '.' {
				return 0, 0, false
			}
			j++
		}
	}
	if j < n && line[j] != ' ' {
		return 0, 0, false
	}
	return j, v, true
}

// parseIPv6 parses IPv6 text (no zone) without allocating.
func parseIPv6(t []byte) (netip.Addr, bool) {
	if len(t) < 2 || len(t) > 45 || bytes.IndexByte(t, ':') < 0 || bytes.IndexByte(t, '%') >= 0 {
		return netip.Addr{}, false
	}
	// The string is only read during the call: ParseAddr keeps nothing of
	// it when there is no zone.
	a, err := netip.ParseAddr(unsafe.String(&t[0], len(t)))
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// AppendValue appends one value that arrived typed (from Parquet): nil is
// NULL, int64 goes to numeric fields (and is written as text to text
// fields), []byte is decoded like a text token ('-' is NULL). It returns
// the zero Problem, or why the value is bad (and then b is unchanged).
func (d *Decoder) AppendValue(b *flowlog.Batch, col int, v any) Problem {
	c := &b.Cols[col]
	s := &d.slots[col]
	n := b.N
	var reason Problem
	switch x := v.(type) {
	case nil:
		appendNull(c, s.op)
	case int64:
		reason = appendInt(c, s, x)
	case []byte:
		reason = appendToken(c, s, x)
	default:
		reason = problem(KindNotRecord, "unsupported value type %T", v)
	}
	if reason.Refused() {
		c.Truncate(n)
	}
	return reason
}

// AppendInt appends a typed integer to column col of b (see AppendValue).
func (d *Decoder) AppendInt(b *flowlog.Batch, col int, v int64) Problem {
	c := &b.Cols[col]
	reason := appendInt(c, &d.slots[col], v)
	if reason.Refused() {
		c.Truncate(b.N)
	}
	return reason
}

// AppendBytes appends a value given as text to column col of b ('-' is NULL).
func (d *Decoder) AppendBytes(b *flowlog.Batch, col int, v []byte) Problem {
	c := &b.Cols[col]
	reason := appendToken(c, &d.slots[col], v)
	if reason.Refused() {
		c.Truncate(b.N)
	}
	return reason
}

// AppendNull appends a NULL to column col of b.
func (d *Decoder) AppendNull(b *flowlog.Batch, col int) {
	appendNull(&b.Cols[col], d.slots[col].op)
}

// DropPartial removes values appended to b's columns beyond b.N (a record
// that was being assembled value by value and turned out bad).
func DropPartial(b *flowlog.Batch) {
	for i := range b.Cols {
		b.Cols[i].Truncate(b.N)
	}
}

// Reject builds the LineError of a record assembled value by value.
func Reject(lineNo int64, field string, p Problem, text string) *LineError {
	if len(text) > maxText {
		text = text[:maxText] + "…"
	}
	return &LineError{Line: lineNo, Field: field, Kind: p.Kind, Reason: p.Reason, Text: text}
}

func appendInt(c *flowlog.Column, s *slot, v int64) Problem {
	switch s.op {
	case opInt:
		if v < s.min || v > s.max {
			if v < 0 || v > s.keep {
				return problem(KindRange, "%d is out of range %d-%d", v, s.min, s.max)
			}
			c.Valid = append(c.Valid, true)
			c.Ints = append(c.Ints, v)
			return Problem{Kind: KindRange, Reason: fmt.Sprintf("%d is outside %d-%d: stored as written", v, s.min, s.max), Warn: true}
		}
	case opTime:
		if v < 0 {
			return problem(KindTime, "%d is not a Unix time", v)
		}
		if v >= 1e12 && v < 1e13 {
			v /= 1000
		}
	default:
		var buf [20]byte
		return appendToken(c, s, strconv.AppendInt(buf[:0], v, 10))
	}
	c.Valid = append(c.Valid, true)
	c.Ints = append(c.Ints, v)
	return Problem{}
}
