package flowlog

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCatalogCounts(t *testing.T) {
	n := map[int]int{}
	for _, f := range VPCFields() {
		n[f.Version]++
	}
	want := map[int]int{2: 14, 3: 7, 4: 4, 5: 4, 7: 10, 8: 1, 9: 1, 10: 1, 11: 12}
	for v, c := range want {
		if n[v] != c {
			t.Errorf("version %d: %d fields, want %d", v, n[v], c)
		}
	}
	if NumVPCFields != 54 {
		t.Errorf("NumVPCFields = %d, want 54", NumVPCFields)
	}
	if got := AllVPCFormat(10).Len(); got != 42 {
		t.Errorf("fields through v10 = %d, want 42", got)
	}
	for i, f := range Fields() {
		if int(f.ID) != i {
			t.Errorf("field %s has id %d at %d", f.Name, f.ID, i)
		}
		if f.Column != strings.ReplaceAll(f.Name, "-", "_") {
			t.Errorf("column of %s = %s", f.Name, f.Column)
		}
		for _, n := range []string{f.Name, f.Column, f.Insights} {
			g, ok := Lookup(n)
			if !ok || g.ID != f.ID {
				t.Errorf("Lookup(%q) = %v, %v", n, g, ok)
			}
		}
	}
}

func TestInsightsNames(t *testing.T) {
	cases := map[string]string{
		"srcaddr": "srcAddr", "dstaddr": "dstAddr", "srcport": "srcPort", "dstport": "dstPort",
		"account-id": "accountId", "interface-id": "interfaceId", "start": "startTime", "end": "endTime",
		"log-status": "logStatus", "pkt-srcaddr": "pktSrcAddr", "tcp-flags": "tcpFlags",
		"pkt-src-aws-service": "pktSrcAwsService", "vpc-id": "vpcId", "az-id": "azId",
		"ecs-task-arn": "ecsTaskArn", "instance-tag-2": "instanceTag2", "protocol": "protocol",
	}
	for name, want := range cases {
		f, ok := Lookup(name)
		if !ok || f.Insights != want {
			t.Errorf("%s: insights name %q, want %q", name, f.Insights, want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	f := DefaultFormat()
	if f.Len() != 14 || f.Version() != 2 || f.String() != DefaultFormatString {
		t.Fatalf("default format: %d fields, v%d, %q", f.Len(), f.Version(), f.String())
	}
	if f.Index(LogStatus) != 13 || f.Index(VPCID) != -1 {
		t.Fatalf("index: %d %d", f.Index(LogStatus), f.Index(VPCID))
	}
	g, err := ParseFormat("${version} ${srcaddr} ${flow-direction}")
	if err != nil || g.Version() != 5 {
		t.Fatalf("v5 format: %v %v", g, err)
	}
	tgw, err := ParseFormat(TGWDefaultFormatString)
	if err != nil || !tgw.IsTGW() || tgw.Len() != 36 {
		t.Fatalf("tgw format: %v", err)
	}
	bad := []struct{ in, want string }{
		{"", "at least one"},
		{"${version} ${version}", "twice"},
		{"${srcadr}", `did you mean "srcaddr"`},
		{"${version", "unterminated"},
		{"version", "expected ${field}"},
		{"${version}${srcaddr}", "separated by spaces"},
		{"${log_status}", "unknown field"},
	}
	for _, c := range bad {
		_, err := ParseFormat(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrFormat) {
			t.Errorf("ParseFormat(%q) = %v, want error containing %q", c.in, err, c.want)
		}
	}
}

func TestParseHeader(t *testing.T) {
	f, err := ParseHeader("version account_id interface-id future-field")
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 4 || !f.Extra[3] || f.Fields[3].Column != "future_field" || f.Index(AccountID) != 1 {
		t.Fatalf("header: %+v", f)
	}
	for _, in := range []string{"", "version version", "version Bad!"} {
		if _, err := ParseHeader(in); err == nil {
			t.Errorf("ParseHeader(%q) accepted", in)
		}
	}
}

func TestBatchRoundTrip(t *testing.T) {
	b := NewBatch(DefaultFormat(), 4)
	line := "2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 2001:db8::1 49812 443 6 31 7420 1717171205 1717171262 ACCEPT OK"
	vals := strings.Fields(line)
	for i := range b.Cols {
		c := &b.Cols[i]
		switch c.Field.Kind {
		case KindInt, KindTime:
			var v int64
			for _, ch := range vals[i] {
				v = v*10 + int64(ch-'0')
			}
			c.AppendInt(v)
		case KindIP:
			c.AppendIP(netip.MustParseAddr(vals[i]))
		default:
			c.AppendString(vals[i])
		}
	}
	b.EndRecord()
	if got := string(b.AppendLine(nil, 0)); got != line {
		t.Fatalf("line = %q", got)
	}
	src := b.Col(SrcAddr)
	if src.Fam[0] != 4 || src.V4[0] != 10<<24|20<<16|1<<8|15 {
		t.Fatalf("v4 = %d fam %d", src.V4[0], src.Fam[0])
	}
	if b.Col(DstAddr).Fam[0] != 6 {
		t.Fatal("dst family")
	}
	b.Reset()
	if b.N != 0 || len(b.Cols[1].Offsets) != 1 {
		t.Fatal("reset")
	}
}

func TestTruncatePartialRecord(t *testing.T) {
	b := NewBatch(DefaultFormat(), 2)
	for i := range b.Cols {
		c := &b.Cols[i]
		if c.Field.Kind.Numeric() {
			c.AppendInt(2)
		} else {
			c.AppendNull()
		}
	}
	b.EndRecord()
	// A second record gets two values, then is abandoned.
	b.Cols[0].AppendInt(2)
	b.Cols[1].AppendString("111122223333")
	b.Truncate(b.N)
	for i := range b.Cols {
		c := &b.Cols[i]
		if len(c.Valid) != 1 || (c.Offsets != nil && len(c.Offsets) != 2) || (c.Ints != nil && len(c.Ints) != 1) {
			t.Fatalf("column %s not truncated: valid %d offsets %d ints %d", c.Field.Name, len(c.Valid), len(c.Offsets), len(c.Ints))
		}
	}
	if len(b.Cols[1].Data) != 0 {
		t.Fatalf("data of the abandoned record kept: %q", b.Cols[1].Data)
	}
}

// Placed adds a start the records do not write: it counts for nothing that
// reads them as written.
func TestPlaced(t *testing.T) {
	f := MustFormat(SrcAddr, DstAddr, Action)
	p := f.Placed()
	if !p.IsPlaced() || p.Len() != 3 || len(p.Fields) != 4 || p.Index(Start) != 3 || p.String() != f.String() || p.Header() != f.Header() {
		t.Fatalf("placed %s: len %d, fields %d, start at %d", p, p.Len(), len(p.Fields), p.Index(Start))
	}
	if p.Equal(f) || !p.Equal(f.Placed()) || p.Placed() != p || f.IsPlaced() || f.Index(Start) != -1 {
		t.Error("Equal or Placed of a placed format")
	}
	if d := DefaultFormat(); d.Placed() != d {
		t.Error("a format with start is its own placed form")
	}
	b := NewBatch(p, 1)
	b.Cols[0].AppendString("10.0.0.1")
	b.Cols[1].AppendNull()
	b.Cols[2].AppendString("ACCEPT")
	b.Cols[3].AppendInt(1717171200)
	b.EndRecord()
	if got := string(b.AppendLine(nil, 0)); got != "10.0.0.1 - ACCEPT" {
		t.Errorf("line %q", got)
	}
}
