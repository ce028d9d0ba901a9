package flowlog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/flowlens/flowlens/internal/textdist"
)

// DefaultFormatString is the version 2 default format AWS uses when a flow log
// is created without a format.
const DefaultFormatString = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

// TGWDefaultFormatString is the default format of transit gateway flow logs.
const TGWDefaultFormatString = "${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-src-vpc-account-id} ${tgw-dst-vpc-account-id} ${tgw-src-vpc-id} ${tgw-dst-vpc-id} ${tgw-src-subnet-id} ${tgw-dst-subnet-id} ${tgw-src-eni} ${tgw-dst-eni} ${tgw-src-az-id} ${tgw-dst-az-id} ${tgw-pair-attachment-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${type} ${packets-lost-no-route} ${packets-lost-blackhole} ${packets-lost-mtu-exceeded} ${packets-lost-ttl-expired} ${tcp-flags} ${region} ${flow-direction} ${pkt-src-aws-service} ${pkt-dst-aws-service}"

// ErrFormat is matched (errors.Is) by every format parsing error.
var ErrFormat = errors.New("invalid flow log format")

// FormatError describes a problem in a format string or header line.
type FormatError struct {
	Input  string
	Offset int // byte offset in Input
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("format position %d: %s", e.Offset+1, e.Reason)
}

// Is makes errors.Is(err, ErrFormat) true.
func (e *FormatError) Is(target error) bool { return target == ErrFormat }

// Format is the ordered list of fields a flow log writes in each record.
// A Format is immutable once built.
type Format struct {
	// Fields are the fields in record order. Unknown fields named by an S3
	// header line or Parquet schema get a synthetic Field with Kind
	// KindString and an ID of NumFields (see Extra).
	Fields []*Field
	// Extra reports, per position, whether the field is unknown to the catalog.
	Extra []bool
	index [NumFields]int16 // position+1, 0 when absent
	// placed marks a format whose last field, start, is not written in the
	// records: flowlens added it to place them in time (see Placed).
	placed bool
}

// Placed returns the format of batches that place records of format f in
// time: f itself when it has start, else f with a last start field that
// the records do not write — the decoder fills it with the time their
// delivery carries (spec: a record whose format has no start takes the
// CloudWatch Logs event time, else the time in its S3 object key, else its
// ingestion time). The added field counts for nothing that reads the
// records as written: Len, String, Header and Batch.AppendLine leave it out.
func (f *Format) Placed() *Format {
	if f.Has(Start) || f.placed {
		return f
	}
	g := &Format{Fields: append(append([]*Field(nil), f.Fields...), Get(Start)),
		Extra: append(append([]bool(nil), f.Extra...), false), index: f.index, placed: true}
	g.index[Start] = int16(len(g.Fields))
	return g
}

// IsPlaced reports whether the last field (start) was added by Placed.
func (f *Format) IsPlaced() bool { return f.placed }

// NewFormat builds a format from catalog field IDs. It returns an error when
// the list is empty or repeats a field.
func NewFormat(ids ...FieldID) (*Format, error) {
	f := &Format{}
	for i, id := range ids {
		if id >= NumFields {
			return nil, &FormatError{Offset: i, Reason: fmt.Sprintf("unknown field id %d", id)}
		}
		if f.index[id] != 0 {
			return nil, &FormatError{Offset: i, Reason: fmt.Sprintf("field %q appears twice", Get(id).Name)}
		}
		f.Fields = append(f.Fields, Get(id))
		f.Extra = append(f.Extra, false)
		f.index[id] = int16(i + 1)
	}
	if len(f.Fields) == 0 {
		return nil, &FormatError{Reason: "a format needs at least one field"}
	}
	return f, nil
}

// MustFormat is NewFormat for constant input; it panics on error.
func MustFormat(ids ...FieldID) *Format {
	f, err := NewFormat(ids...)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return f
}

// DefaultFormat returns the version 2 default format.
func DefaultFormat() *Format {
	f, err := ParseFormat(DefaultFormatString)
	if err != nil {
		panic("BUG: default format: " + err.Error())
	}
	return f
}

// AllVPCFormat returns a format with every VPC field of versions 2 to maxVersion
// in canonical order.
func AllVPCFormat(maxVersion int) *Format {
	var ids []FieldID
	for _, fl := range VPCFields() {
		if fl.Version <= maxVersion {
			ids = append(ids, fl.ID)
		}
	}
	return MustFormat(ids...)
}

// ParseFormat parses a format string of ${field} tokens separated by single
// spaces, as given to CreateFlowLogs. Unknown names and repeats are errors.
func ParseFormat(s string) (*Format, error) {
	f := &Format{}
	i := 0
	n := len(s)
	for i < n {
		for i < n && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= n {
			break
		}
		if !strings.HasPrefix(s[i:], "${") {
			return nil, &FormatError{Input: s, Offset: i, Reason: fmt.Sprintf("expected ${field}, found %q", clip(s[i:]))}
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, &FormatError{Input: s, Offset: i, Reason: "unterminated ${ (missing })"}
		}
		name := s[i+2 : i+end]
		fl, ok := Lookup(name)
		if !ok || fl.Name != name {
			msg := fmt.Sprintf("unknown field %q", name)
			if sug := Suggest(name); sug != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", sug)
			}
			return nil, &FormatError{Input: s, Offset: i, Reason: msg}
		}
		if f.index[fl.ID] != 0 {
			return nil, &FormatError{Input: s, Offset: i, Reason: fmt.Sprintf("field %q appears twice", name)}
		}
		f.Fields = append(f.Fields, fl)
		f.Extra = append(f.Extra, false)
		f.index[fl.ID] = int16(len(f.Fields))
		i += end + 1
		if i < n && s[i] != ' ' && s[i] != '\t' {
			return nil, &FormatError{Input: s, Offset: i, Reason: "fields must be separated by spaces"}
		}
	}
	if len(f.Fields) == 0 {
		return nil, &FormatError{Input: s, Reason: "a format needs at least one ${field}"}
	}
	return f, nil
}

// ParseHeader parses the header line of an S3 text file: field names
// separated by single spaces. Both the hyphenated and the underscore spelling
// are accepted. Unknown names are kept as extra string fields (newer AWS
// fields must not fail a file); repeats and empty headers are errors.
func ParseHeader(line string) (*Format, error) {
	f := &Format{}
	seen := map[string]bool{}
	off := 0
	for _, name := range strings.Fields(line) {
		pos := strings.Index(line[off:], name) + off
		off = pos + len(name)
		if seen[name] {
			return nil, &FormatError{Input: line, Offset: pos, Reason: fmt.Sprintf("field %q appears twice", name)}
		}
		seen[name] = true
		fl, ok := Lookup(name)
		if ok && (fl.Name == name || fl.Column == name) {
			if f.index[fl.ID] != 0 {
				return nil, &FormatError{Input: line, Offset: pos, Reason: fmt.Sprintf("field %q appears twice", name)}
			}
			f.Fields = append(f.Fields, fl)
			f.Extra = append(f.Extra, false)
			f.index[fl.ID] = int16(len(f.Fields))
			continue
		}
		if !validExtraName(name) {
			return nil, &FormatError{Input: line, Offset: pos, Reason: fmt.Sprintf("%q is not a field name", clip(name))}
		}
		f.Fields = append(f.Fields, &Field{
			ID: NumFields, Name: name, Column: strings.ReplaceAll(name, "-", "_"),
			Kind: KindString, Type: "string", ParquetType: "STRING", SQLType: "string",
			Insights: camel(name), Doc: "field unknown to this version of flowlens",
		})
		f.Extra = append(f.Extra, true)
	}
	if len(f.Fields) == 0 {
		return nil, &FormatError{Input: line, Reason: "empty header line"}
	}
	return f, nil
}

// validExtraName accepts lower-case names of letters, digits, '-' and '_'
// starting with a letter, which is what AWS field names look like.
func validExtraName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// Len is the number of fields the records write (without the start that
// Placed adds).
func (f *Format) Len() int {
	if f.placed {
		return len(f.Fields) - 1
	}
	return len(f.Fields)
}

// Index returns the position of the catalog field id in the format, or -1.
func (f *Format) Index(id FieldID) int {
	if id >= NumFields {
		return -1
	}
	return int(f.index[id]) - 1
}

// Has reports whether the format contains the catalog field id.
func (f *Format) Has(id FieldID) bool { return f.Index(id) >= 0 }

// String returns the format as a ${field} string.
func (f *Format) String() string {
	var b strings.Builder
	for i, fl := range f.Fields[:f.Len()] {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("${")
		b.WriteString(fl.Name)
		b.WriteByte('}')
	}
	return b.String()
}

// Header returns the format as an S3 header line (field names separated by spaces).
func (f *Format) Header() string {
	var b strings.Builder
	for i, fl := range f.Fields[:f.Len()] {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fl.Name)
	}
	return b.String()
}

// Version returns the highest version among the format's catalog fields,
// which is what records of this format write in their version field.
func (f *Format) Version() int {
	v := 2
	for i, fl := range f.Fields {
		if !f.Extra[i] && fl.Version > v {
			v = fl.Version
		}
	}
	return v
}

// Equal reports whether two formats have the same fields in the same order.
func (f *Format) Equal(g *Format) bool {
	if f == g {
		return true
	}
	if f == nil || g == nil || len(f.Fields) != len(g.Fields) || f.placed != g.placed {
		return false
	}
	for i := range f.Fields {
		if f.Fields[i].Name != g.Fields[i].Name {
			return false
		}
	}
	return true
}

// IsTGW reports whether the format is a transit gateway flow log format
// (it has a transit gateway-only field).
func (f *Format) IsTGW() bool {
	for i, fl := range f.Fields {
		if !f.Extra[i] && fl.TGW && !fl.VPC {
			return true
		}
	}
	return false
}

// Suggest returns the catalog AWS name closest to name (edit distance at most
// 3), or "" when nothing is close.
func Suggest(name string) string {
	best, bestD := "", 4
	for i := range catalog.fields {
		fl := &catalog.fields[i]
		for _, cand := range []string{fl.Name, fl.Column, fl.Insights} {
			if d := textdist.Distance(strings.ToLower(name), strings.ToLower(cand)); d < bestD {
				best, bestD = fl.Name, d
			}
		}
	}
	return best
}
