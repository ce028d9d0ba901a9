package generate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

// dayRun is one realistic day shared by the shape and truth tests.
type dayRun struct {
	cfg   Config
	rows  []row
	truth Truth
	inv   map[string]netmodel.NetworkInterface // by private IP
	byID  map[string]netmodel.NetworkInterface
}

var (
	dayOnce sync.Once
	day     *dayRun
	dayErr  string
)

func sharedDay(t *testing.T) *dayRun {
	t.Helper()
	dayOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flowlens-generate-test")
		if err != nil {
			dayErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		c := DefaultConfig()
		c.Out, c.Records, c.Hours, c.ENIs, c.Peers = dir, 240_000, 24, 150, 4000
		c.Format = flowlog.AllVPCFormat(5)
		c.Truth = filepath.Join(dir, "truth.json")
		c.Scenarios = []Scenario{
			{Kind: SSHBruteForce, Count: 3}, {Kind: RDPBruteForce, Count: 2}, {Kind: PortScan, Count: 1},
			{Kind: HorizontalScan, Count: 1}, {Kind: Exfiltration, Count: 1}, {Kind: CrossAZ, Count: 1}, {Kind: NATHeavy, Count: 1},
		}
		if _, err := Run(t.Context(), c); err != nil {
			dayErr = err.Error()
			return
		}
		d := &dayRun{cfg: c, inv: map[string]netmodel.NetworkInterface{}, byID: map[string]netmodel.NetworkInterface{}}
		d.rows = decodeAll(t, outputFiles(t, dir), nil)
		data, err := os.ReadFile(c.Truth)
		if err == nil {
			err = json.Unmarshal(data, &d.truth)
		}
		var inv netmodel.Inventory
		if err == nil {
			data, err = os.ReadFile(filepath.Join(dir, "inventory.json"))
			if err == nil {
				err = json.Unmarshal(data, &inv)
			}
		}
		if err != nil {
			dayErr = err.Error()
			return
		}
		for _, ni := range inv.NetworkInterfaces {
			d.inv[ni.PrivateIPAddress] = ni
			d.byID[ni.NetworkInterfaceID] = ni
		}
		day = d
	})
	if day == nil {
		t.Fatalf("shared day: %s", dayErr)
	}
	return day
}

func TestShape(t *testing.T) {
	d := sharedDay(t)
	n := float64(len(d.rows))
	var rejects, nodata, skip int
	var sizes []int64
	dports := map[int64]int{}
	protos := map[int64]int{}
	hourly := make([]int, 24)
	for _, r := range d.rows {
		switch r.status {
		case "NODATA":
			nodata++
			continue
		case "SKIPDATA":
			skip++
			continue
		}
		if r.action == "REJECT" {
			rejects++
		} else if r.dport < 32768 {
			dports[r.dport]++
		}
		protos[r.proto]++
		sizes = append(sizes, r.bytes)
		hourly[(r.end-unix(d.cfg.Start))/3600]++
	}
	if s := float64(rejects) / n; s < 0.035 || s > 0.07 {
		t.Errorf("REJECT share %.4f, want about 0.05", s)
	}
	if s := float64(nodata) / n; s < 0.004 || s > 0.006 {
		t.Errorf("NODATA share %.4f, want 0.005", s)
	}
	if skip == 0 {
		t.Error("no SKIPDATA record")
	}
	// port mix: 443 leads, the service ports of every tier are there
	top, topN := int64(0), 0
	for p, c := range dports {
		if c > topN {
			top, topN = p, c
		}
	}
	if top != 443 {
		t.Errorf("most common accepted destination port is %d, want 443", top)
	}
	for _, p := range []int64{80, 8080, 8443, 5432, 6379, 9092, 53, 123, 22} {
		if dports[p] < 50 {
			t.Errorf("destination port %d: only %d accepted records", p, dports[p])
		}
	}
	if protos[17] == 0 || protos[1] == 0 || protos[6] < len(sizes)*3/4 {
		t.Errorf("protocol mix %v", protos)
	}
	// heavy tail
	sort.Slice(sizes, func(a, b int) bool { return sizes[a] < sizes[b] })
	med, p99 := sizes[len(sizes)/2], sizes[len(sizes)*99/100]
	if med < 400 || med > 4000 || p99 < 100*med {
		t.Errorf("bytes median %d, p99 %d: want a median near 1 kB and a heavy tail", med, p99)
	}
	// diurnal: the afternoon is busier than the small hours
	if hourly[16] < 2*hourly[4] {
		t.Errorf("records per hour %v: no diurnal shape", hourly)
	}
}

// TestBothEnds checks that a conversation between two logged interfaces
// appears on both, with the same 5-tuple, counters and times.
func TestBothEnds(t *testing.T) {
	d := sharedDay(t)
	type key struct {
		iface, src, dst string
		sport, dport    int64
		start, bytes    int64
	}
	seen := map[key]bool{}
	for _, r := range d.rows {
		if r.status == "OK" {
			seen[key{r.iface, r.src, r.dst, r.sport, r.dport, r.start, r.bytes}] = true
		}
	}
	checked := 0
	for _, r := range d.rows {
		if r.status != "OK" || r.dir != "egress" || r.src != r.pktSrc || r.dst != r.pktDst {
			continue
		}
		peer, ok := d.inv[r.dst]
		if !ok {
			continue
		}
		checked++
		if !seen[key{peer.NetworkInterfaceID, r.src, r.dst, r.sport, r.dport, r.start, r.bytes}] {
			t.Fatalf("egress record has no ingress twin on %s: %s", peer.NetworkInterfaceID, r.line)
		}
	}
	if checked < 10_000 {
		t.Errorf("only %d internal egress records", checked)
	}
	// ephemeral ports: replies of servers go to high ports
	for _, r := range d.rows {
		if r.status == "OK" && r.action == "ACCEPT" && (r.sport == 443 || r.sport == 8080) && r.dport < 1024 &&
			d.byID[r.iface].InterfaceType != "natGateway" { // NAT source ports are any port above 1023
			t.Fatalf("reply to a low port: %s", r.line)
		}
	}
}

// TestNATRewriting checks the pkt-* fields on NAT gateway interfaces.
func TestNATRewriting(t *testing.T) {
	d := sharedDay(t)
	rewritten := 0
	for _, r := range d.rows {
		ni := d.byID[r.iface]
		if r.status != "OK" || ni.InterfaceType != "natGateway" {
			continue
		}
		own := ni.PrivateIPAddress
		switch {
		case r.dst == own && r.src != r.pktSrc:
			t.Fatalf("inbound leg rewrote the source: %s", r.line)
		case r.dst == own && d.inv[r.src].NetworkInterfaceID != "": // instance → NAT: the real target is outside
			if strings.HasPrefix(r.pktDst, "10.") || r.pktDst == own {
				t.Fatalf("NAT record hides no target: %s", r.line)
			}
			rewritten++
		case r.src == own && d.inv[r.dst].NetworkInterfaceID != "": // NAT → instance: the real source is outside
			if strings.HasPrefix(r.pktSrc, "10.") || r.pktSrc == own {
				t.Fatalf("NAT record hides no source: %s", r.line)
			}
			rewritten++
		case r.src == own || r.dst == own: // the internet leg is not rewritten
			if r.pktSrc != r.src || r.pktDst != r.dst {
				t.Fatalf("internet leg rewritten: %s", r.line)
			}
		}
	}
	if rewritten < 1000 {
		t.Errorf("only %d rewritten NAT records", rewritten)
	}
}
