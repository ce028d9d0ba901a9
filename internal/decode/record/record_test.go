package record

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// sample returns a valid token for field f and the value DecodeLine must
// produce for it (int64 or string).
func sample(f *flowlog.Field, i int) (string, any) {
	switch f.Kind {
	case flowlog.KindInt:
		v := f.Min + int64(i)%3
		if f.ID == flowlog.Version {
			v = 11
		}
		if f.Max > 1<<32 {
			v = 1<<40 + int64(i)
		}
		return strconv.FormatInt(v, 10), v
	case flowlog.KindTime:
		v := int64(1717171200 + i)
		return strconv.FormatInt(v, 10), v
	case flowlog.KindIP:
		if i%2 == 0 {
			s := fmt.Sprintf("10.%d.0.%d", i, 255-i)
			return s, s
		}
		return fmt.Sprintf("2001:DB8:0:0:0:0:0:%X", i), fmt.Sprintf("2001:db8::%x", i)
	case flowlog.KindEnum:
		if len(f.Enum) > 0 {
			v := f.Enum[i%len(f.Enum)]
			return v, v
		}
	}
	s := fmt.Sprintf("%s-%d", strings.ReplaceAll(f.Column, "_", ""), i)
	return s, s
}

// formats to test: every field of every VPC version (each version's fields
// in canonical and in reversed order) and the transit gateway default.
func testFormats(t testing.TB) map[string]*flowlog.Format {
	t.Helper()
	out := map[string]*flowlog.Format{"default": flowlog.DefaultFormat()}
	for _, v := range []int{2, 3, 4, 5, 7, 8, 9, 10, 11} {
		all := flowlog.AllVPCFormat(v)
		out[fmt.Sprintf("v%d-all", v)] = all
		var rev []flowlog.FieldID
		for i := all.Len() - 1; i >= 0; i-- {
			rev = append(rev, all.Fields[i].ID)
		}
		out[fmt.Sprintf("v%d-reversed", v)] = flowlog.MustFormat(rev...)
	}
	tgw, err := flowlog.ParseFormat(flowlog.TGWDefaultFormatString)
	if err != nil {
		t.Fatal(err)
	}
	out["tgw-default"] = tgw
	return out
}

func TestEveryFieldOfEveryVersion(t *testing.T) {
	covered := map[flowlog.FieldID]bool{}
	for name, f := range testFormats(t) {
		t.Run(name, func(t *testing.T) {
			d := NewDecoder(f)
			b := flowlog.NewBatch(f, 4)
			for rec := 0; rec < 3; rec++ {
				var toks []string
				var want []any
				for i, fl := range f.Fields {
					if (rec == 1 && i%2 == 0) || (rec == 2 && fl.ID != flowlog.LogStatus && fl.ID != flowlog.Version) {
						toks, want = append(toks, "-"), append(want, nil)
						continue
					}
					tok, v := sample(fl, i+rec)
					toks, want = append(toks, tok), append(want, v)
				}
				line := strings.Join(toks, " ")
				if le := d.DecodeLine(b, []byte(line), int64(rec+1)); le != nil {
					t.Fatalf("record %d: %v\n%s", rec, le, line)
				}
				for i := range f.Fields {
					covered[f.Fields[i].ID] = true
					got := b.Cols[i].Value(rec)
					if fmt.Sprint(got) != fmt.Sprint(want[i]) {
						t.Errorf("record %d field %s = %v, want %v", rec, f.Fields[i].Column, got, want[i])
					}
					if w, ok := want[i].(int64); ok && got != w {
						t.Errorf("record %d field %s = %#v, want int64 %d", rec, f.Fields[i].Column, got, w)
					}
				}
			}
			checkShape(t, b)
		})
	}
	for _, fl := range flowlog.Fields() {
		if !covered[fl.ID] {
			t.Errorf("field %s is in no tested format", fl.Name)
		}
	}
}

// checkShape asserts that every column holds exactly b.N values.
func checkShape(t testing.TB, b *flowlog.Batch) {
	t.Helper()
	if len(b.Cols) != b.Format.Len() {
		t.Fatalf("%d columns, format has %d fields", len(b.Cols), b.Format.Len())
	}
	for i := range b.Cols {
		c := &b.Cols[i]
		if len(c.Valid) != b.N {
			t.Fatalf("column %s: %d valid flags for %d records", c.Field.Column, len(c.Valid), b.N)
		}
		switch c.Field.Kind {
		case flowlog.KindInt, flowlog.KindTime:
			if len(c.Ints) != b.N {
				t.Fatalf("column %s: %d ints for %d records", c.Field.Column, len(c.Ints), b.N)
			}
		default:
			if len(c.Offsets) != b.N+1 || int(c.Offsets[b.N]) != len(c.Data) {
				t.Fatalf("column %s: %d offsets, data %d for %d records", c.Field.Column, len(c.Offsets), len(c.Data), b.N)
			}
			if c.Field.Kind == flowlog.KindIP && (len(c.V4) != b.N || len(c.Fam) != b.N) {
				t.Fatalf("column %s: %d v4, %d fam for %d records", c.Field.Column, len(c.V4), len(c.Fam), b.N)
			}
		}
	}
}

const good = "2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT OK"

// withField replaces field i (0-based) of the good default-format line.
func withField(i int, v string) string {
	t := strings.Split(good, " ")
	t[i] = v
	return strings.Join(t, " ")
}

func TestDefaultFormatValues(t *testing.T) {
	f := flowlog.DefaultFormat()
	cases := []struct {
		name, line string
		field      flowlog.FieldID
		want       any // nil = NULL
		v4         uint32
		fam        uint8
	}{
		{"ipv4", good, flowlog.SrcAddr, "10.20.1.15", 0x0a14010f, 4},
		{"ipv4 max", withField(3, "255.255.255.255"), flowlog.SrcAddr, "255.255.255.255", 0xffffffff, 4},
		{"ipv4 zero", withField(3, "0.0.0.0"), flowlog.SrcAddr, "0.0.0.0", 0, 4},
		{"ipv6 normalised", withField(3, "2001:0DB8:4A10:1200:0000:0000:0000:001F"), flowlog.SrcAddr, "2001:db8:4a10:1200::1f", 0, 6},
		{"ipv6 loopback", withField(4, "::1"), flowlog.DstAddr, "::1", 0, 6},
		{"ipv4-mapped ipv6", withField(4, "::ffff:10.1.2.3"), flowlog.DstAddr, "::ffff:10.1.2.3", 0, 6},
		{"ipv6 null", withField(4, "-"), flowlog.DstAddr, nil, 0, 0},
		{"port 0", withField(5, "0"), flowlog.SrcPort, int64(0), 0, 0},
		{"port max", withField(6, "65535"), flowlog.DstPort, int64(65535), 0, 0},
		{"port leading zeros", withField(6, "0443"), flowlog.DstPort, int64(443), 0, 0},
		{"protocol 255", withField(7, "255"), flowlog.Protocol, int64(255), 0, 0},
		{"bytes big", withField(9, "9223372036854775807"), flowlog.Bytes, int64(9223372036854775807), 0, 0},
		{"packets null", withField(8, "-"), flowlog.Packets, nil, 0, 0},
		{"start millis", withField(10, "1717171205123"), flowlog.Start, int64(1717171205), 0, 0},
		{"end seconds", good, flowlog.End, int64(1717171262), 0, 0},
		{"action reject", withField(12, "REJECT"), flowlog.Action, "REJECT", 0, 0},
		{"action null", withField(12, "-"), flowlog.Action, nil, 0, 0},
		{"skipdata", withField(13, "SKIPDATA"), flowlog.LogStatus, "SKIPDATA", 0, 0},
		{"crlf", good + "\r", flowlog.LogStatus, "OK", 0, 0},
		{"account unknown", withField(1, "unknown"), flowlog.AccountID, "unknown", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := flowlog.NewBatch(f, 1)
			if le := NewDecoder(f).DecodeLine(b, []byte(c.line), 7); le != nil {
				t.Fatal(le)
			}
			col := b.Col(c.field)
			if got := col.Value(0); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", c.want) {
				t.Errorf("%s = %#v, want %#v", c.field, got, c.want)
			}
			if col.Field.Kind == flowlog.KindIP && (col.V4[0] != c.v4 || col.Fam[0] != c.fam) {
				t.Errorf("v4 %#x fam %d, want %#x %d", col.V4[0], col.Fam[0], c.v4, c.fam)
			}
		})
	}
}

func TestNODATAAndSKIPDATA(t *testing.T) {
	f := flowlog.DefaultFormat()
	b := flowlog.NewBatch(f, 2)
	d := NewDecoder(f)
	for i, l := range []string{
		"2 111122223333 eni-0c9d8e7f6a5b4c3d2 - - - - - - - 1717171200 1717171800 - NODATA",
		"2 111122223333 eni-0c9d8e7f6a5b4c3d2 - - - - - - - 1717171800 1717172400 - SKIPDATA",
	} {
		if le := d.DecodeLine(b, []byte(l), int64(i+1)); le != nil {
			t.Fatal(le)
		}
	}
	for r := 0; r < 2; r++ {
		for i, fl := range f.Fields {
			null := fl.ID >= flowlog.SrcAddr && fl.ID <= flowlog.Bytes || fl.ID == flowlog.Action
			if b.Cols[i].Valid[r] == null {
				t.Errorf("record %d: %s valid = %v", r, fl.Column, b.Cols[i].Valid[r])
			}
		}
	}
	if got := b.Col(flowlog.LogStatus).Value(1); got != "SKIPDATA" {
		t.Errorf("log_status = %v", got)
	}
}

func TestRejects(t *testing.T) {
	f := flowlog.DefaultFormat()
	cases := []struct {
		name, line, field, reason string
	}{
		{"too few", strings.TrimSuffix(good, " OK"), "", "13 fields, the format has 14"},
		{"too many", good + " extra", "", "15 fields, the format has 14"},
		{"double space and too many", strings.Replace(good, " ", "  ", 1) + " x", "", "15 fields, the format has 14"},
		{"empty line", "", "", "empty line"},
		{"port too big to store", withField(5, "2147483648"), "srcport", `"2147483648" is out of range 0-65535 (and too large to store)`},
		{"port negative", withField(6, "-1"), "dstport", "negative"},
		{"port text", withField(6, "https"), "dstport", "not a whole number"},
		{"port plus", withField(6, "+443"), "dstport", "not a whole number"},
		{"bytes overflow", withField(9, "9223372036854775808"), "bytes", "not a whole number"},
		{"bytes 20 digits", withField(9, "12345678901234567890"), "bytes", "not a whole number"},
		{"packets float", withField(8, "1.5"), "packets", "not a whole number"},
		{"start 14 digits", withField(10, "17171712050000"), "start", "not a Unix time"},
		{"end text", withField(11, "yesterday"), "end", "not a whole number"},
		{"ipv4 octet", withField(3, "256.1.1.1"), "srcaddr", "not an IPv4 or IPv6 address"},
		{"ipv4 leading zero", withField(3, "10.01.1.1"), "srcaddr", "not an IPv4"},
		{"ipv4 short", withField(3, "10.1.1"), "srcaddr", "not an IPv4"},
		{"ipv4 long", withField(4, "10.1.1.1.1"), "dstaddr", "not an IPv4"},
		{"ipv4 empty octet", withField(4, "10..1.1"), "dstaddr", "not an IPv4"},
		{"ipv6 zone", withField(4, "fe80::1%eth0"), "dstaddr", "not an IPv4"},
		{"ipv6 bad", withField(4, "2001:db8:::1"), "dstaddr", "not an IPv4"},
		{"hostname", withField(4, "example.com"), "dstaddr", "not an IPv4"},
		{"action lower", withField(12, "accept"), "action", `"accept" is not one of [ACCEPT REJECT]`},
		{"log status", withField(13, "FINE"), "log_status", "not one of [OK NODATA SKIPDATA]"},
		{"log status null", withField(13, "-"), "", ""}, // accepted: '-' is NULL for every field
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(f)
			b := flowlog.NewBatch(f, 4)
			if le := d.DecodeLine(b, []byte(good), 1); le != nil {
				t.Fatal(le)
			}
			le := d.DecodeLine(b, []byte(c.line), 2)
			if c.reason == "" {
				if le != nil {
					t.Fatalf("rejected: %v", le)
				}
				return
			}
			if le == nil {
				t.Fatalf("accepted %q", c.line)
			}
			if want := wantKind(c.reason); le.Kind != want {
				t.Errorf("kind %q, want %q", le.Kind, want)
			}
			if le.Line != 2 || le.Field != c.field || !strings.Contains(le.Reason, c.reason) {
				t.Errorf("got line %d field %q reason %q; want field %q reason containing %q", le.Line, le.Field, le.Reason, c.field, c.reason)
			}
			if le.Text != c.line || le.Warning {
				t.Errorf("text %q, warning %v", le.Text, le.Warning)
			}
			// The batch is unchanged and the next good line still decodes.
			if b.N != 1 {
				t.Fatalf("N = %d", b.N)
			}
			checkShape(t, b)
			if le := d.DecodeLine(b, []byte(good), 3); le != nil {
				t.Fatal(le)
			}
			checkShape(t, b)
			if string(b.AppendLine(nil, 1)) != good {
				t.Errorf("record after a reject = %q", b.AppendLine(nil, 1))
			}
		})
	}
}

// TestWarnings: a record with a number outside its field's documented range
// (that its column holds) or with runs of spaces between fields is kept, as
// written, with a warning.
func TestWarnings(t *testing.T) {
	f := flowlog.DefaultFormat()
	cases := []struct {
		name, line, want, field, kind, reason string
	}{
		{"version 300", withField(0, "300"), withField(0, "300"), "version", KindRange, `"300" is outside 2-255: stored as written`},
		{"version 1", withField(0, "1"), withField(0, "1"), "version", KindRange, `"1" is outside 2-255`},
		{"port 65536", withField(5, "65536"), withField(5, "65536"), "srcport", KindRange, `"65536" is outside 0-65535`},
		{"protocol 256", withField(7, "256"), withField(7, "256"), "protocol", KindRange, `"256" is outside 0-255`},
		{"trailing space", good + " ", good, "", KindSpaces, "each run was read as one separator"},
		{"double space", strings.Replace(good, " ", "  ", 1), good, "", KindSpaces, "each run was read as one separator"},
		{"leading spaces", "   " + good, good, "", KindSpaces, "runs of spaces"},
		{"spaces and a wide port", strings.Replace(withField(6, "99999"), " ", "  ", 3), withField(6, "99999"), "", KindSpaces, `field dstport: "99999" is outside 0-65535`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(f)
			b := flowlog.NewBatch(f, 2)
			rej, warn := d.Decode(b, []byte(c.line), 5)
			if rej != nil || warn == nil {
				t.Fatalf("rejected %v, warning %v", rej, warn)
			}
			if !warn.Warning || warn.Line != 5 || warn.Field != c.field || warn.Kind != c.kind || !strings.Contains(warn.Reason, c.reason) || warn.Text != c.line {
				t.Errorf("warning %+v", warn)
			}
			if got := string(b.AppendLine(nil, 0)); b.N != 1 || got != c.want {
				t.Errorf("record %q, want %q", got, c.want)
			}
			checkShape(t, b)
			if le := d.DecodeLine(b, []byte(c.line), 6); le != nil || b.N != 2 {
				t.Errorf("DecodeLine: %v", le)
			}
		})
	}
	if rej, warn := NewDecoder(f).Decode(flowlog.NewBatch(f, 1), []byte(good), 1); rej != nil || warn != nil {
		t.Errorf("a good line: %v %v", rej, warn)
	}
}

func TestLineErrorText(t *testing.T) {
	e := &LineError{File: "a.log", Line: 3, Field: "srcport", Reason: `"x" is not a whole number`}
	if got, want := e.Error(), `a.log:3: field srcport: "x" is not a whole number`; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	e = &LineError{File: "<stdin>", Line: 9, Reason: "13 fields, the format has 14"}
	if got, want := e.Error(), "<stdin>:9: 13 fields, the format has 14"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	long := strings.Repeat("x", 2000)
	if le := NewDecoder(flowlog.DefaultFormat()).DecodeLine(flowlog.NewBatch(flowlog.DefaultFormat(), 1), []byte(long), 1); len(le.Text) > maxText+4 {
		t.Errorf("text not clipped: %d bytes", len(le.Text))
	}
}

func TestExtraFieldsAreStrings(t *testing.T) {
	f, err := flowlog.ParseHeader("version srcaddr future-field dstport")
	if err != nil {
		t.Fatal(err)
	}
	b := flowlog.NewBatch(f, 1)
	if le := NewDecoder(f).DecodeLine(b, []byte("11 10.0.0.1 anything:goes 22"), 1); le != nil {
		t.Fatal(le)
	}
	if got := b.Cols[2].Value(0); got != "anything:goes" {
		t.Errorf("extra = %v", got)
	}
}

func TestTypedValues(t *testing.T) {
	f := flowlog.MustFormat(flowlog.SrcPort, flowlog.Start, flowlog.SrcAddr, flowlog.Action, flowlog.AccountID)
	d := NewDecoder(f)
	b := flowlog.NewBatch(f, 2)
	vals := []any{int64(443), int64(1717171205000), []byte("10.0.0.1"), []byte("-"), int64(111122223333)}
	for i, v := range vals {
		if r := d.AppendValue(b, i, v); r.Reason != "" {
			t.Fatalf("col %d: %s", i, r.Reason)
		}
	}
	b.EndRecord()
	if got := string(b.AppendLine(nil, 0)); got != "443 1717171205 10.0.0.1 - 111122223333" {
		t.Errorf("record = %q", got)
	}
	if r := d.AppendValue(b, 0, int64(1<<31)); r.Kind != KindRange || !strings.Contains(r.Reason, "out of range") || !r.Refused() {
		t.Errorf("port 1<<31: %+v", r)
	}
	if r := d.AppendValue(b, 0, int64(70000)); r.Kind != KindRange || !r.Warn || r.Refused() {
		t.Errorf("port 70000: %+v", r)
	}
	DropPartial(b)
	if r := d.AppendValue(b, 2, []byte("nope")); r.Kind != KindAddress {
		t.Errorf("bad address: %+v", r)
	}
	if r := d.AppendValue(b, 1, int64(-5)); r.Kind != KindTime {
		t.Errorf("negative time: %+v", r)
	}
	d.AppendNull(b, 0)
	DropPartial(b)
	checkShape(t, b)
}

func TestScanIPv4MatchesParseIPv4(t *testing.T) {
	for _, s := range []string{"1.2.3.4", "255.255.255.255", "0.0.0.0", "10.0.0.10", "256.0.0.0", "1.2.3.256",
		"1.2.3", "1.2.3.4.", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.2.3.0", "00.1.2.3", "1..2.3", ".1.2.3",
		"1.2.3.4x", "1.2.3.", "1000.1.1.1", "1.2.3.4444", "", "1", "a.b.c.d", "1.2.3.-"} {
		wantV, wantOK := parseIPv4([]byte(s))
		for _, suffix := range []string{"", " next"} {
			j, v, ok := scanIPv4([]byte("x "+s+suffix), 2)
			if ok != wantOK || (ok && (v != wantV || j != 2+len(s))) {
				t.Errorf("scanIPv4(%q%s) = %d, %#x, %v; parseIPv4 says %#x, %v", s, suffix, j, v, ok, wantV, wantOK)
			}
		}
	}
}

func TestParseEight(t *testing.T) {
	for _, s := range []string{"00000000", "12345678", "99999999", "17171712", "00000001", "10000000"} {
		x := uint64(0)
		for i := 7; i >= 0; i-- {
			x = x<<8 | uint64(s[i])
		}
		want, _ := strconv.ParseUint(s, 10, 64)
		if !eightDigits(x) || parseEight(x) != want {
			t.Errorf("%s: eightDigits %v, parseEight %d", s, eightDigits(x), parseEight(x))
		}
	}
	for _, s := range []string{"1234567a", "/2345678", ":2345678", "1234 678", "-1234567"} {
		x := uint64(0)
		for i := 7; i >= 0; i-- {
			x = x<<8 | uint64(s[i])
		}
		if eightDigits(x) {
			t.Errorf("%q taken for eight digits", s)
		}
	}
}

// wantKind is the kind TestRejects expects for a reason.
func wantKind(reason string) string {
	switch {
	case strings.Contains(reason, "fields, the format has") || reason == "empty line":
		return KindFieldCount
	case strings.Contains(reason, "out of range"):
		return KindRange
	case strings.Contains(reason, "not a Unix time"):
		return KindTime
	case strings.Contains(reason, "not an IPv4"):
		return KindAddress
	case strings.Contains(reason, "not one of"):
		return KindEnum
	case strings.Contains(reason, "negative") || strings.Contains(reason, "not a whole number"):
		return KindNumber
	}
	return "?"
}
