package generate

import (
	"sort"
	"testing"
)

func (d *dayRun) scenarios(kind ScenarioKind) []*Injected {
	var out []*Injected
	for _, s := range d.truth.Scenarios {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	return out
}

type kv struct {
	k string
	v int64
}

func topN(m map[string]int64, n int) []kv {
	var out []kv
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].v > out[b].v || out[a].v == out[b].v && out[a].k < out[b].k })
	return out[:min(n, len(out))]
}

func TestTruthTotals(t *testing.T) {
	d := sharedDay(t)
	var got Totals
	for _, r := range d.rows {
		got.Records++
		switch {
		case r.status == "NODATA":
			got.NoData++
		case r.status == "SKIPDATA":
			got.SkipData++
		case r.action == "REJECT":
			got.Reject++
		default:
			got.Accept++
		}
		if r.status == "OK" {
			got.Bytes += r.bytes
			got.Packets += r.packets
		}
	}
	got.Files = d.truth.Totals.Files
	if got != d.truth.Totals {
		t.Errorf("data totals %+v\ntruth totals %+v", got, d.truth.Totals)
	}
	if len(d.truth.Scenarios) != 10 {
		t.Errorf("truth lists %d scenario sources, want 10", len(d.truth.Scenarios))
	}
}

func TestTruthPortScan(t *testing.T) {
	d := sharedDay(t)
	ports := map[string]map[int64]bool{}
	records := map[string]int64{}
	for _, r := range d.rows {
		if r.action != "REJECT" {
			continue
		}
		if ports[r.src] == nil {
			ports[r.src] = map[int64]bool{}
		}
		ports[r.src][r.dport] = true
	}
	for _, r := range d.rows {
		if r.src == r.dst {
			continue
		}
		records[r.src]++
		records[r.dst]++
	}
	distinct := map[string]int64{}
	for s, p := range ports {
		distinct[s] = int64(len(p))
	}
	scan := d.scenarios(PortScan)[0]
	top := topN(distinct, 2)
	if top[0].k != scan.Source {
		t.Fatalf("top source by distinct rejected ports is %v, the scanner is %s", top, scan.Source)
	}
	if top[0].v != int64(scan.Ports-1) || top[1].v*5 > top[0].v { // the open port answers
		t.Errorf("scanner hit %d closed ports (truth: %d ports, one open); runner-up %v", top[0].v, scan.Ports, top[1])
	}
	if records[scan.Source] != scan.Records {
		t.Errorf("scanner wrote %d records, truth says %d", records[scan.Source], scan.Records)
	}
}

func TestTruthBruteForce(t *testing.T) {
	d := sharedDay(t)
	for _, tc := range []struct {
		kind ScenarioKind
		port int64
	}{{SSHBruteForce, 22}, {RDPBruteForce, 3389}} {
		want := d.scenarios(tc.kind)
		n := map[string]int64{}
		for _, r := range d.rows {
			if r.action == "REJECT" && r.dport == tc.port {
				n[r.src]++
			}
		}
		srcs := map[string]*Injected{}
		for _, w := range want {
			srcs[w.Source] = w
		}
		for _, s := range d.truth.Scenarios {
			if s.Kind != tc.kind {
				delete(n, s.Source) // other scenarios (a lateral scan on 3389) are not background
			}
		}
		top := topN(n, len(want)+1)
		for _, e := range top[:len(want)] {
			w := srcs[e.k]
			if w == nil {
				t.Fatalf("%s: top REJECT sources on %d are %v, not the injected %d", tc.kind, tc.port, top, len(want))
			}
			if e.v != w.Rejects || w.Rejects != w.Records {
				t.Errorf("%s from %s: %d rejects in the data, truth says %d of %d records", tc.kind, e.k, e.v, w.Rejects, w.Records)
			}
		}
		if top[len(want)].v*5 > top[len(want)-1].v {
			t.Errorf("%s: background source %v is close to the injected ones %v", tc.kind, top[len(want)], top[len(want)-1])
		}
	}
}

func TestTruthExfilAndNAT(t *testing.T) {
	d := sharedDay(t)
	ex := d.scenarios(Exfiltration)[0]
	up := map[string]int64{}
	var uploaded int64
	for _, r := range d.rows {
		if r.status == "OK" && r.iface == ex.SourceInterface && r.src == ex.Source {
			up[r.dst] += r.bytes
			if r.dst == ex.External {
				uploaded += r.bytes
			}
		}
	}
	if uploaded != ex.Transferred || uploaded == 0 {
		t.Errorf("exfil: %d bytes from %s to %s in the data, truth says %d", uploaded, ex.Source, ex.External, ex.Transferred)
	}
	if top := topN(up, 1); top[0].k != ex.External {
		t.Errorf("exfil: top destination of %s is %v, not %s", ex.Source, top, ex.External)
	}

	nh := d.scenarios(NATHeavy)[0]
	var down int64
	natSeen := 0
	natIP := d.byID[nh.NATInterface].PrivateIPAddress
	for _, r := range d.rows {
		if r.status != "OK" {
			continue
		}
		if r.iface == nh.SourceInterface && r.src == nh.External && r.dst == nh.Source {
			down += r.bytes
		}
		if r.iface == nh.NATInterface && r.src == natIP && r.dst == nh.Source && r.pktSrc == nh.External {
			natSeen++
		}
	}
	if down != nh.Transferred || down == 0 {
		t.Errorf("nat-heavy: %d bytes downloaded in the data, truth says %d", down, nh.Transferred)
	}
	if natSeen < nh.Events {
		t.Errorf("nat-heavy: %d NAT records show the external source in pkt-srcaddr, want %d", natSeen, nh.Events)
	}
}

func TestTruthCrossAZ(t *testing.T) {
	d := sharedDay(t)
	cz := d.scenarios(CrossAZ)[0]
	if len(cz.AZs) != 2 || cz.AZs[0] == cz.AZs[1] {
		t.Fatalf("cross-az truth names AZs %v", cz.AZs)
	}
	pairs := map[string]int64{}
	for _, r := range d.rows {
		a, b := d.inv[r.src], d.inv[r.dst]
		if r.status == "OK" && a.NetworkInterfaceID != "" && b.NetworkInterfaceID != "" && a.AvailabilityZoneID != b.AvailabilityZoneID {
			pairs[min(r.src, r.dst)+" "+max(r.src, r.dst)]++ // both directions of the conversation
		}
	}
	top := topN(pairs, 1)
	if top[0].k != min(cz.Source, cz.Targets[0])+" "+max(cz.Source, cz.Targets[0]) {
		t.Errorf("top cross-AZ pair is %v, the injected one is %s → %s", top, cz.Source, cz.Targets[0])
	}
}

func TestTruthHorizontalScan(t *testing.T) {
	d := sharedDay(t)
	hs := d.scenarios(HorizontalScan)[0]
	targets := map[string]bool{}
	for _, r := range d.rows {
		if r.src == hs.Source && r.dport == int64(hs.Port) && r.action == "REJECT" {
			targets[r.dst] = true
		}
	}
	if len(targets) != len(hs.Targets) || len(targets) != hs.Events {
		t.Errorf("hscan: %d targets rejected in the data, truth lists %d", len(targets), len(hs.Targets))
	}
}
