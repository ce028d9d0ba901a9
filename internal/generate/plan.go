package generate

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/flowlens/flowlens/internal/generate/flowrec"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

// plan is one injected source (a Scenario with Count 3 makes three plans):
// who, against what, and when its events happen. Event k happens at
// start + floor(k·step) seconds and writes recordsOf(k) records.
type plan struct {
	kind    ScenarioKind
	src     uint32        // source address
	srcENI  *netmodel.ENI // internal source, or nil
	targets []*netmodel.ENI
	ext     uint32 // external host (exfil, nat-heavy)
	ports   []uint16
	port    uint16
	start   int64
	step    float64
	events  int
	bytes   int64 // exfil, nat-heavy: exact total
	truth   *Injected
}

func (p *plan) eventTime(k int) int64 { return p.start + int64(math.Floor(float64(k)*p.step)) }

// firstEvent returns the first event index at or after t.
func (p *plan) firstEvent(t int64) int {
	k := int(math.Max(0, math.Floor(float64(t-p.start)/p.step)-1))
	for k < p.events && p.eventTime(k) < t {
		k++
	}
	return k
}

// target returns the interface event k is logged for (the flow log it lands in).
func (p *plan) target(k int) *netmodel.ENI {
	switch p.kind {
	case Exfiltration, NATHeavy, CrossAZ:
		return p.srcENI
	}
	return p.targets[k%len(p.targets)]
}

func (p *plan) recordsOf(k int) int {
	switch p.kind {
	case PortScan:
		if p.ports[k] == p.targets[0].Port {
			return 2
		}
		return 1
	case HorizontalScan, CrossAZ:
		return 4 - 2*b2i(p.kind == HorizontalScan)
	case Exfiltration, NATHeavy:
		return 6
	}
	return 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bytesOf returns the bytes of event k of an exfil or nat-heavy plan: an
// even share, the remainder on the first events, so the total is exact.
func (p *plan) bytesOf(k int) int64 {
	each := p.bytes / int64(p.events)
	if int64(k) < p.bytes%int64(p.events) {
		each++
	}
	return max(each, 1)
}

// planScenarios places every scenario source in the network and in time.
func planScenarios(cfg *Config, n *netmodel.Network) ([]*plan, int64, error) {
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x7363656e6172696f))
	span := int64(cfg.Hours * 3600)
	t0 := cfg.Start.Unix()
	N := float64(cfg.Records)
	attackers := r.Perm(len(n.Attackers))
	nextHostile := func() uint32 {
		ip := n.Attackers[attackers[0]]
		attackers = attackers[1:]
		return ip
	}
	all := func(role netmodel.Role) []*netmodel.ENI {
		var es []*netmodel.ENI
		for _, v := range n.VPCs {
			es = append(es, v.ByRole[role]...)
		}
		return es
	}
	var missing error
	pickFrom := func(es []*netmodel.ENI) *netmodel.ENI {
		if len(es) == 0 {
			if missing == nil {
				missing = configErr("the network is too small for the scenarios (no interface of a needed tier): raise --enis")
			}
			return nil
		}
		return es[r.IntN(len(es))]
	}
	var plans []*plan
	var total int64
	for _, s := range cfg.Scenarios {
		count := s.Count
		if total := len(plans) + count; total > len(n.Attackers)/2 {
			count = max(0, len(n.Attackers)/2-len(plans))
		}
		for i := 0; i < count; i++ {
			p := &plan{kind: s.Kind}
			var dur time.Duration
			var events int
			switch s.Kind {
			case SSHBruteForce, RDPBruteForce:
				dur = orDur(s.Duration, 2*time.Hour)
				perSource := clamp(N*0.0004, 20, 20000)
				p.port = 22
				targets := append(all(netmodel.RoleBastion), all(netmodel.RoleEdge)...)
				if s.Kind == RDPBruteForce {
					p.port, targets = 3389, all(netmodel.RoleEdge)
				}
				for j := 0; j < max(1, s.Targets); j++ {
					t := pickFrom(targets)
					if t == nil {
						return nil, 0, missing
					}
					p.targets = append(p.targets, t)
				}
				p.src = nextHostile()
				events = eventsFor(s.Rate, dur, span, perSource)
			case PortScan:
				dur = orDur(s.Duration, 15*time.Minute)
				ports := s.Ports
				if ports == 0 {
					ports = int(clamp(N*0.0002, 100, 4000))
				}
				t := pickFrom(all(netmodel.RoleEdge))
				if t == nil {
					return nil, 0, missing
				}
				p.targets, p.src = []*netmodel.ENI{t}, nextHostile()
				// like a scanner's default: the low ports upwards, always
				// including the open service port
				p.ports = append(p.ports, t.Port)
				for x := 1; len(p.ports) < ports && x <= 65535; x++ {
					if uint16(x) != t.Port {
						p.ports = append(p.ports, uint16(x))
					}
				}
				r.Shuffle(len(p.ports), func(a, b int) { p.ports[a], p.ports[b] = p.ports[b], p.ports[a] })
				events = len(p.ports)
			case HorizontalScan:
				dur = orDur(s.Duration, 10*time.Minute)
				src := pickFrom(append(all(netmodel.RoleWorker), all(netmodel.RoleApp)...))
				if src == nil {
					return nil, 0, missing
				}
				p.srcENI, p.src = src, src.IP
				p.port = uint16(s.Port)
				if p.port == 0 {
					p.port = []uint16{445, 22, 3389, 23}[len(plans)%4]
				}
				var cands []*netmodel.ENI
				for _, e := range src.VPC.ENIs {
					if e != src && !e.Role.Managed() && e.Port != p.port {
						cands = append(cands, e)
					}
				}
				want := s.Targets
				if want == 0 {
					want = int(clamp(N*0.0001, 16, 512))
				}
				want = min(want, len(cands))
				if want == 0 {
					return nil, 0, configErr("hscan: no interface to scan in the source's VPC: raise --enis")
				}
				for _, j := range r.Perm(len(cands))[:want] {
					p.targets = append(p.targets, cands[j])
				}
				events = want
			case Exfiltration, NATHeavy:
				if s.Kind == Exfiltration {
					dur = orDur(s.Duration, 45*time.Minute)
					p.bytes = s.Bytes
					if p.bytes == 0 {
						p.bytes = int64(max(1<<30, N*4096))
					}
				} else {
					dur = orDur(s.Duration, 3*time.Hour)
					p.bytes = s.Bytes
					if p.bytes == 0 {
						p.bytes = int64(max(2<<30, N*8192))
					}
				}
				src := pickFrom(append(all(netmodel.RoleWorker), all(netmodel.RoleApp)...))
				if src == nil {
					return nil, 0, missing
				}
				p.srcENI, p.src, p.ext = src, src.IP, nextHostile()
				perMinute := float64(int64(min(dur.Seconds(), float64(span))/60) + 1)
				events = eventsFor(s.Rate, dur, span, math.Min(perMinute, math.Max(3, N*0.0005)))
			case CrossAZ:
				dur = orDur(s.Duration, time.Duration(span)*time.Second)
				var src, dst *netmodel.ENI
				for tries := 0; tries < 1000; tries++ {
					if src = pickFrom(all(netmodel.RoleApp)); src == nil {
						return nil, 0, missing
					}
					cands := src.VPC.ByRole[netmodel.RoleCache]
					if len(cands) == 0 {
						continue
					}
					dst = cands[r.IntN(len(cands))]
					if dst.Subnet.AZIdx != src.Subnet.AZIdx {
						break
					}
				}
				if dst == nil {
					return nil, 0, configErr("cross-az needs an app tier and a cache in one VPC: raise --enis")
				}
				p.srcENI, p.src, p.targets = src, src.IP, []*netmodel.ENI{dst}
				events = eventsFor(s.Rate, dur, span, clamp(N*0.04/4, 1, 1e9))
			}
			durS := min(int64(dur.Seconds()), span)
			if s.At != nil {
				p.start = t0 + min(int64(s.At.Seconds()), span-1)
				durS = min(durS, t0+span-p.start)
			} else {
				p.start = t0 + r.Int64N(span-durS+1)
			}
			events = max(events, 1)
			p.events = events
			p.step = float64(durS) / float64(events)
			for k := 0; k < p.events; k++ {
				total += int64(p.recordsOf(k))
			}
			plans = append(plans, p)
		}
	}
	return plans, total, nil
}

// eventsFor returns the number of events: rate·minutes when a rate is
// given, else the default count.
func eventsFor(rate float64, dur time.Duration, span int64, def float64) int {
	if rate > 0 {
		mins := math.Min(dur.Seconds(), float64(span)) / 60
		return int(math.Round(rate * mins))
	}
	return int(def)
}

func orDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// emitScenario writes event k of plan p (index pi) into the task.
func (g *gen) emitScenario(p *plan, pi int, k int) {
	g.scenario = int16(pi)
	end := p.eventTime(k)
	ws := end - end%g.m.window
	start := max(ws, end-g.r.Int64N(3))
	probe := func(e *netmodel.ENI, src uint32, dport uint16, action uint8) {
		pk := 1 + g.r.Int64N(2)
		g.recs = append(g.recs, flowrec.Record{
			ENI: e, Src: src, Dst: e.IP, PktSrc: src, PktDst: e.IP, SrcPort: g.ephemeral(false), DstPort: dport,
			Proto: 6, Action: action, Dir: flowrec.DirIngress, TCPFlags: 2, Packets: pk, Bytes: pk * (44 + g.r.Int64N(17)),
			Start: start, End: end, Scenario: int16(pi),
		})
	}
	switch p.kind {
	case SSHBruteForce, RDPBruteForce:
		probe(p.target(k), p.src, p.port, flowrec.ActionReject)
	case PortScan:
		t := p.targets[0]
		if p.ports[k] != t.Port {
			probe(t, p.src, p.ports[k], flowrec.ActionReject)
			return
		}
		c := conn{cli: p.src, srv: t.IP, cport: g.ephemeral(false), sport: t.Port, proto: 6,
			reqPk: 2, reqBy: 84, repPk: 1, repBy: 44, cflags: 6, sflags: 18, start: start, end: end, action: flowrec.ActionAccept}
		g.seen(t, nil, &c, false, p.src, t.IP, p.src, t.IP, 8)
	case HorizontalScan:
		t := p.targets[k]
		c := conn{cli: p.src, srv: t.IP, cport: g.ephemeral(true), sport: p.port, proto: 6,
			reqPk: 1 + g.r.Int64N(2), cflags: 2, start: start, end: end, action: flowrec.ActionAccept}
		c.reqBy = c.reqPk * 60
		g.seen(p.srcENI, t, &c, true, p.src, t.IP, p.src, t.IP, 1)
		c.action = flowrec.ActionReject
		g.seen(t, p.srcENI, &c, false, p.src, t.IP, p.src, t.IP, 1)
	case Exfiltration:
		g.viaNATAt(p.srcENI, p.ext, p.bytesOf(k), 0, start, end)
	case NATHeavy:
		g.viaNATAt(p.srcENI, p.ext, 0, p.bytesOf(k), start, end)
	case CrossAZ:
		d := p.targets[0]
		c := conn{cli: p.src, srv: d.IP, cport: g.ephemeral(true), sport: d.Port}
		g.tcp(&c, 2000, 30000, 1.2)
		c.start, c.end = start, end
		g.seen(p.srcENI, d, &c, true, p.src, d.IP, p.src, d.IP, 1)
		g.seen(d, p.srcENI, &c, false, p.src, d.IP, p.src, d.IP, 1)
	}
}

// viaNATAt is viaNAT at a fixed time.
func (g *gen) viaNATAt(src *netmodel.ENI, dst uint32, up, down, start, end int64) {
	n := len(g.recs)
	g.viaNAT(src, g.pickAZ(src.VPC, netmodel.RoleNAT, src.Subnet.AZIdx), dst, up, down)
	for i := n; i < len(g.recs); i++ {
		g.recs[i].Start, g.recs[i].End = start, end
	}
}
