package flowrec

import (
	"net/netip"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

func testENI(t testing.TB) (*netmodel.ENI, *netmodel.ENI) {
	t.Helper()
	n, err := netmodel.Build(netmodel.DefaultSpec(), 3)
	if err != nil {
		t.Fatal(err)
	}
	v := n.VPCs[0]
	return v.ByRole[netmodel.RoleApp][1], v.ByRole[netmodel.RoleNAT][0]
}

func TestAppendIPv4(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "10.0.1.5", "203.0.113.255", "255.255.255.255", "1.22.133.4"} {
		a := netip.MustParseAddr(s)
		b := a.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if got := string(AppendIPv4(nil, v)); got != s {
			t.Errorf("AppendIPv4(%s) = %s", s, got)
		}
	}
}

func TestEncoder(t *testing.T) {
	app, nat := testENI(t)
	ok := Record{ENI: nat, Hop: app, Src: nat.IP, Dst: app.IP, PktSrc: 0xcb007109, PktDst: app.IP, SrcPort: 443, DstPort: 40112,
		Proto: 6, Action: ActionAccept, Dir: DirEgress, TrafficPath: 1, TCPFlags: 19, Packets: 27, Bytes: 18655,
		Start: 1717171205, End: 1717171262, Encryption: 2, DstSvc: "S3"}
	nodata := Record{ENI: app, Status: StatusNoData, Start: 1717171200, End: 1717171259, TCPFlags: -1, Encryption: -1}
	def := NewEncoder(flowlog.DefaultFormat())
	v5 := NewEncoder(flowlog.AllVPCFormat(5))
	all := NewEncoder(flowlog.AllVPCFormat(11))
	ip := func(e *netmodel.ENI) string { return netmodel.Addr(e.IP).String() }
	cases := []struct {
		name string
		enc  *Encoder
		rec  *Record
		want string
	}{
		{"default", def, &ok, "2 " + nat.VPC.Account + " " + nat.ID + " " + ip(nat) + " " + ip(app) + " 443 40112 6 27 18655 1717171205 1717171262 ACCEPT OK"},
		{"nodata", def, &nodata, "2 " + app.VPC.Account + " " + app.ID + " - - - - - - - 1717171200 1717171259 - NODATA"},
		{"v5 nat", v5, &ok, "5 " + nat.VPC.Account + " " + nat.ID + " " + ip(nat) + " " + ip(app) + " 443 40112 6 27 18655 1717171205 1717171262 ACCEPT OK " +
			nat.VPC.ID + " " + nat.Subnet.ID + " - 19 IPv4 203.0.113.9 " + ip(app) + " us-east-1 " + nat.Subnet.AZID + " - - - S3 egress 1"},
		{"v5 nodata keeps metadata", v5, &nodata, "5 " + app.VPC.Account + " " + app.ID + " - - - - - - - 1717171200 1717171259 - NODATA " +
			app.VPC.ID + " " + app.Subnet.ID + " " + orDash(app.InstanceID) + " - - - - us-east-1 " + app.Subnet.AZID + " - - - - - -"},
	}
	for _, tc := range cases {
		if got := string(tc.enc.AppendLine(nil, tc.rec)); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	// every field of every version renders as one token, and NODATA
	// records leave every traffic field empty
	for _, rec := range []*Record{&ok, &nodata} {
		line := all.AppendLine(nil, rec)
		toks := 1
		for _, c := range line {
			if c == ' ' {
				toks++
			}
		}
		if toks != flowlog.NumVPCFields {
			t.Errorf("all fields: %d tokens, want %d: %s", toks, flowlog.NumVPCFields, line)
		}
	}
	if v, valid := all.Int(&nodata, flowlog.Bytes); valid || v != 0 {
		t.Error("NODATA bytes are not NULL")
	}
	if string(all.AppendField(nil, &ok, flowlog.NextHopInterfaceID)) != app.ID {
		t.Error("next hop is not the other end")
	}
	if string(all.AppendField(nil, &ok, flowlog.InterfaceType)) != "nat_gateway" {
		t.Error("interface type of a NAT gateway")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func BenchmarkAppendLine(b *testing.B) {
	app, nat := testENI(b)
	rec := Record{ENI: app, Hop: nat, Src: app.IP, Dst: 0xcb007109, PktSrc: app.IP, PktDst: 0xcb007109, SrcPort: 40112, DstPort: 443,
		Proto: 6, Action: ActionAccept, Dir: DirEgress, TrafficPath: 1, TCPFlags: 3, Packets: 27, Bytes: 18655,
		Start: 1717171205, End: 1717171262}
	for _, f := range []struct {
		name string
		f    *flowlog.Format
	}{{"default", flowlog.DefaultFormat()}, {"all-v5", flowlog.AllVPCFormat(5)}} {
		b.Run(f.name, func(b *testing.B) {
			enc := NewEncoder(f.f)
			buf := enc.AppendLine(nil, &rec)
			b.SetBytes(int64(len(buf) + 1))
			b.ReportAllocs()
			for b.Loop() {
				buf = enc.AppendLine(buf[:0], &rec)
			}
		})
	}
}
