package generate

import (
	"math"
	"math/rand/v2"

	"github.com/flowlens/flowlens/internal/generate/flowrec"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

func pow(x, y float64) float64 { return math.Pow(x, y) }

// flowLog is one flow log subscription: an account and region, whose VPCs
// deliver into one S3 prefix.
type flowLog struct {
	Account, Region, ID string
	vpcs                []*netmodel.VPC
	vpcPick             *alias
	weight              float64
}

// vpcModel holds per-VPC samplers.
type vpcModel struct {
	roles [16]*alias // by netmodel.Role
}

// model is everything the traffic generator samples from. It is built once
// per run and read concurrently.
type model struct {
	net      *netmodel.Network
	fls      []*flowLog
	flOfVPC  []int
	vpcs     []vpcModel
	ext, int *alias
	tmpl     *alias
	// rejectP is the probability that a baseline step is a rejected probe.
	rejectP float64
	window  int64
}

// template is one kind of baseline conversation.
type template struct {
	name    string
	weight  float64
	records int
	emit    func(g *gen, v *netmodel.VPC)
}

// templates is the baseline traffic mix (weights are shares of conversations).
var templates = []template{
	{"lb-inbound", 0.09, 6, (*gen).lbInbound},
	{"edge-inbound", 0.21, 2, (*gen).edgeInbound},
	{"web-app", 0.09, 4, (*gen).webApp},
	{"app-data", 0.09, 4, (*gen).appData},
	{"nat-egress", 0.08, 6, (*gen).natEgress},
	{"direct-egress", 0.09, 2, (*gen).directEgress},
	{"aws-gateway", 0.05, 2, (*gen).awsGateway},
	{"endpoint", 0.03, 4, (*gen).endpoint},
	{"internal-peer", 0.20, 2, (*gen).internalPeer},
	{"dns-ntp", 0.05, 2, (*gen).dnsNTP},
	{"icmp", 0.02, 2, (*gen).icmp},
}

const maxTemplateRecords = 6

func newModel(n *netmodel.Network, cfg *Config, rejectShare float64) *model {
	m := &model{net: n, window: int64(cfg.Window.Seconds())}
	byKey := map[string]*flowLog{}
	for _, v := range n.VPCs {
		k := v.Account + "/" + v.Region
		fl := byKey[k]
		if fl == nil {
			fl = &flowLog{Account: v.Account, Region: v.Region, ID: flowLogID(cfg.Seed, k)}
			byKey[k] = fl
			m.fls = append(m.fls, fl)
		}
		fl.vpcs = append(fl.vpcs, v)
		fl.weight += v.Weight
		idx := 0
		for i, f := range m.fls {
			if f == fl {
				idx = i
			}
		}
		m.flOfVPC = append(m.flOfVPC, idx)
		var vm vpcModel
		for role := netmodel.RoleNAT; role <= netmodel.RoleBastion; role++ {
			es := v.ByRole[role]
			w := make([]float64, len(es))
			for i, e := range es {
				w[i] = e.Weight
			}
			vm.roles[role] = newAlias(w)
		}
		m.vpcs = append(m.vpcs, vm)
	}
	for _, fl := range m.fls {
		w := make([]float64, len(fl.vpcs))
		for i, v := range fl.vpcs {
			w[i] = v.Weight
		}
		fl.vpcPick = newAlias(w)
	}
	m.ext = newAlias(zipfWeights(len(n.External), n.Spec.PeerZipf))
	m.int = newAlias(zipfWeights(len(n.Internal), n.Spec.PeerZipf))
	w := make([]float64, len(templates))
	var recs float64
	for i, t := range templates {
		w[i] = t.weight
		recs += t.weight * float64(t.records)
	}
	m.tmpl = newAlias(w)
	// A step is a conversation (recs records on average) or a rejected
	// probe (1 record): solve share = p / (p + (1-p)·recs) for p.
	x := rejectShare
	m.rejectP = x * recs / (1 - x + x*recs)
	return m
}

func flowLogID(seed int64, key string) string {
	h := splitmix(uint64(seed) ^ fnv(key))
	const digits = "0123456789abcdef"
	b := []byte("fl-")
	for i := 0; i < 17; i++ {
		b = append(b, digits[h&15])
		h >>= 4
		if i == 15 {
			h = splitmix(h ^ 0x9e3779b97f4a7c15)
		}
	}
	return string(b)
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// gen generates the records of one task (one flow log, one 5-minute bucket).
type gen struct {
	m        *model
	r        *rand.Rand
	fl       *flowLog
	recs     []flowrec.Record
	lo, hi   int64 // record end times fall in [lo, hi)
	scenario int16
}

// conn is one conversation between a client and a server within a window.
type conn struct {
	cli, srv       uint32
	cport, sport   uint16
	proto          uint8
	reqPk, reqBy   int64
	repPk, repBy   int64
	cflags, sflags int16
	start, end     int64
	action         uint8
	srvSvc         string
	tls            bool
}

// times picks the end of a record inside the task's span and a start inside
// the same aggregation window.
func (g *gen) times() (start, end int64) {
	end = g.lo + g.r.Int64N(g.hi-g.lo)
	ws := end - end%g.m.window
	if g.r.IntN(4) == 0 {
		start = min(ws+g.r.Int64N(3), end) // a flow that lasts the whole window
	} else {
		start = end - int64(g.r.ExpFloat64()*6)
	}
	return max(start, ws, end-g.m.window+1), end
}

// lognormal returns a heavy-tailed positive value with the given median.
func (g *gen) lognormal(median, sigma float64) int64 {
	v := median * math.Exp(sigma*g.r.NormFloat64())
	if v > 4e9 {
		v = 4e9
	}
	return int64(v) + 1
}

// packetsFor returns a packet count for a byte count.
func (g *gen) packetsFor(bytes int64) (int64, int64) {
	size := 52 + g.r.Int64N(1400)
	p := bytes/size + 1
	if bytes < p*40 {
		bytes = p * 40
	}
	return p, bytes
}

// tcp fills the counters and flags of a TCP conversation.
func (g *gen) tcp(c *conn, reqMedian, repMedian, sigma float64) {
	c.proto = 6
	c.reqPk, c.reqBy = g.packetsFor(g.lognormal(reqMedian, sigma))
	c.repPk, c.repBy = g.packetsFor(g.lognormal(repMedian, sigma))
	switch x := g.r.IntN(20); {
	case x < 12: // opened and closed in the window
		c.cflags, c.sflags = 3, 19
	case x < 14:
		c.cflags, c.sflags = 2, 18
	case x < 18: // established, ACKs only
		c.cflags, c.sflags = 0, 0
	case x < 19:
		c.cflags, c.sflags = 1, 1
	default:
		c.cflags, c.sflags = 6, 22
	}
	c.start, c.end = g.times()
	c.action = flowrec.ActionAccept
}

func (g *gen) udp(c *conn, reqMedian, repMedian float64) {
	c.proto = 17
	c.reqPk, c.reqBy = g.packetsFor(g.lognormal(reqMedian, 0.8))
	c.repPk, c.repBy = g.packetsFor(g.lognormal(repMedian, 0.8))
	c.start, c.end = g.times()
	c.action = flowrec.ActionAccept
}

// ephemeral returns a client source port: Linux range for our instances,
// a mix for internet clients.
func (g *gen) ephemeral(linux bool) uint16 {
	if linux {
		return uint16(32768 + g.r.IntN(28232))
	}
	switch g.r.IntN(5) {
	case 0, 1: // Linux
		return uint16(32768 + g.r.IntN(28232))
	case 2, 3: // Windows, macOS
		return uint16(49152 + g.r.IntN(16384))
	}
	return uint16(1024 + g.r.IntN(64512)) // behind carrier-grade NAT
}

// seen writes both directions of conversation c as logged on eni: the
// request a→b (packet-level pa→pb) and the reply b→a. clientSide says
// whether eni sent the request; tp is the traffic path of the egress record.
func (g *gen) seen(eni, hop *netmodel.ENI, c *conn, clientSide bool, a, b, pa, pb uint32, tp uint8) {
	enc := int8(0)
	if hop != nil && !eni.Role.Managed() && !hop.Role.Managed() {
		enc = 1
	}
	if c.tls {
		enc += 2
	}
	req := flowrec.Record{
		ENI: eni, Hop: hop, Src: a, Dst: b, PktSrc: pa, PktDst: pb, SrcPort: c.cport, DstPort: c.sport,
		Proto: c.proto, Action: c.action, Packets: c.reqPk, Bytes: c.reqBy, Start: c.start, End: c.end,
		TCPFlags: c.cflags, Encryption: enc, Scenario: g.scenario,
	}
	rep := flowrec.Record{
		ENI: eni, Hop: hop, Src: b, Dst: a, PktSrc: pb, PktDst: pa, SrcPort: c.sport, DstPort: c.cport,
		Proto: c.proto, Action: c.action, Packets: c.repPk, Bytes: c.repBy, Start: c.start, End: c.end,
		TCPFlags: c.sflags, Encryption: enc, Scenario: g.scenario,
	}
	if c.proto != 6 {
		req.TCPFlags, rep.TCPFlags = 0, 0
	}
	if c.srvSvc != "" && pb == c.srv {
		req.DstSvc, rep.SrcSvc = c.srvSvc, c.srvSvc
	}
	if clientSide {
		req.Dir, rep.Dir, req.TrafficPath = flowrec.DirEgress, flowrec.DirIngress, tp
	} else {
		req.Dir, rep.Dir, rep.TrafficPath = flowrec.DirIngress, flowrec.DirEgress, tp
	}
	if c.repPk == 0 { // no answer (dropped or rejected): one record only
		g.recs = append(g.recs, req)
		return
	}
	g.recs = append(g.recs, req, rep)
}

// pick returns an interface of the role, by activity weight.
func (g *gen) pick(v *netmodel.VPC, role netmodel.Role) *netmodel.ENI {
	es := v.ByRole[role]
	if len(es) == 0 {
		return nil
	}
	return es[g.m.vpcs[v.Index].roles[role].pick(g.r)]
}

// pickAZ returns an interface of the role in the AZ, or any when none.
func (g *gen) pickAZ(v *netmodel.VPC, role netmodel.Role, az int) *netmodel.ENI {
	for _, e := range v.ByRole[role] {
		if e.Subnet.AZIdx == az {
			return e
		}
	}
	return g.pick(v, role)
}

// communities is how many groups of interfaces have their own popular
// peers: peer popularity is Zipf, but the most popular clients of one
// service are not those of another.
const communities = 16

func community(pool []uint32, rank int, e *netmodel.ENI) uint32 {
	return pool[(rank+(e.Index%communities)*(len(pool)/communities))%len(pool)]
}

// extPeer returns an internet peer of e: mostly by Zipf popularity, with a
// share of one-off visitors from the whole pool.
func (g *gen) extPeer(e *netmodel.ENI) uint32 {
	if g.r.IntN(100) < oneOffPercent {
		return g.m.net.External[g.r.IntN(len(g.m.net.External))]
	}
	return community(g.m.net.External, g.m.ext.pick(g.r), e)
}

func (g *gen) intPeer(e *netmodel.ENI) uint32 {
	if g.r.IntN(100) < oneOffPercent {
		return g.m.net.Internal[g.r.IntN(len(g.m.net.Internal))]
	}
	return community(g.m.net.Internal, g.m.int.pick(g.r), e)
}

// oneOffPercent is the share of peers drawn uniformly instead of by popularity.
const oneOffPercent = 45

// internet client → load balancer → web tier.
func (g *gen) lbInbound(v *netmodel.VPC) {
	web := g.pick(v, netmodel.RoleWeb)
	lb := g.pickAZ(v, netmodel.RoleLB, g.r.IntN(netmodel.NumAZ))
	if web == nil {
		g.edgeInbound(v)
		return
	}
	client := g.extPeer(web)
	a := conn{cli: client, srv: lb.IP, cport: g.ephemeral(false), sport: 443, tls: true}
	if g.r.IntN(8) == 0 {
		a.sport, a.tls = 80, false
	}
	g.tcp(&a, 800, 4000, 2.8)
	b := a
	b.cli, b.srv, b.cport, b.sport = lb.IP, web.IP, g.ephemeral(true), web.Port
	g.seen(lb, nil, &a, false, client, lb.IP, client, lb.IP, 2)
	g.seen(lb, web, &b, true, lb.IP, web.IP, client, web.IP, 1)
	g.seen(web, lb, &b, false, lb.IP, web.IP, lb.IP, web.IP, 1)
}

// internet client → public web server (its own public IP).
func (g *gen) edgeInbound(v *netmodel.VPC) {
	e := g.pick(v, netmodel.RoleEdge)
	client := g.extPeer(e)
	c := conn{cli: client, srv: e.IP, cport: g.ephemeral(false), sport: 443, tls: true}
	if g.r.IntN(6) == 0 {
		c.sport, c.tls = 80, false
	}
	g.tcp(&c, 700, 3500, 2.8)
	g.seen(e, nil, &c, false, client, e.IP, client, e.IP, 8)
}

// web tier → app tier, both ends logged.
func (g *gen) webApp(v *netmodel.VPC) {
	web, app := g.pick(v, netmodel.RoleWeb), g.pick(v, netmodel.RoleApp)
	if web == nil || app == nil {
		g.edgeInbound(v)
		return
	}
	c := conn{cli: web.IP, srv: app.IP, cport: g.ephemeral(true), sport: app.Port}
	g.tcp(&c, 600, 2500, 2.5)
	g.seen(web, app, &c, true, web.IP, app.IP, web.IP, app.IP, 1)
	g.seen(app, web, &c, false, web.IP, app.IP, web.IP, app.IP, 1)
}

// app tier → database, cache or broker, both ends logged.
func (g *gen) appData(v *netmodel.VPC) {
	app := g.pick(v, netmodel.RoleApp)
	role := netmodel.RoleDB
	switch x := g.r.IntN(20); {
	case x < 8:
		role = netmodel.RoleCache
	case x < 11:
		role = netmodel.RoleQueue
	}
	d := g.pick(v, role)
	if app == nil || d == nil {
		g.edgeInbound(v)
		return
	}
	c := conn{cli: app.IP, srv: d.IP, cport: g.ephemeral(true), sport: d.Port}
	g.tcp(&c, 400, 2000, 2.6)
	g.seen(app, d, &c, true, app.IP, d.IP, app.IP, d.IP, 1)
	g.seen(d, app, &c, false, app.IP, d.IP, app.IP, d.IP, 1)
}

// private instance → internet through the NAT gateway of its AZ.
func (g *gen) natEgress(v *netmodel.VPC) {
	role := netmodel.RoleWorker
	if g.r.IntN(5) < 2 {
		role = netmodel.RoleApp
	}
	src := g.pick(v, role)
	if src == nil {
		g.directEgress(v)
		return
	}
	az := src.Subnet.AZIdx
	if g.r.IntN(10) == 0 {
		az = g.r.IntN(netmodel.NumAZ) // some route tables point at another AZ's NAT
	}
	g.viaNAT(src, g.pickAZ(src.VPC, netmodel.RoleNAT, az), g.extPeer(src), 0, 0)
}

// viaNAT writes a conversation from a private instance to an internet host
// through a NAT gateway: 2 records on the instance, 4 on the NAT interface.
// up and down, when non-zero, force the request and reply byte counts.
func (g *gen) viaNAT(src, nat *netmodel.ENI, dst uint32, up, down int64) {
	c := conn{cli: src.IP, srv: dst, cport: g.ephemeral(true), sport: 443, tls: true}
	if g.r.IntN(5) == 0 {
		c.sport, c.tls = 80, false
	}
	g.tcp(&c, 800, 5000, 2.8)
	if up > 0 {
		c.reqPk, c.reqBy = g.packetsFor(up)
		c.reqBy = up
	}
	if down > 0 {
		c.repPk, c.repBy = g.packetsFor(down)
		c.repBy = down
	}
	g.seen(src, nat, &c, true, src.IP, dst, src.IP, dst, 1)
	g.seen(nat, src, &c, false, src.IP, nat.IP, src.IP, dst, 1)
	out := c
	out.cli, out.cport = nat.IP, uint16(1024+g.r.IntN(64511))
	g.seen(nat, nil, &out, true, nat.IP, dst, nat.IP, dst, 2)
}

// public instance → internet through the internet gateway.
func (g *gen) directEgress(v *netmodel.VPC) {
	src := g.pick(v, netmodel.RoleEdge)
	dst := g.extPeer(src)
	c := conn{cli: src.IP, srv: dst, cport: g.ephemeral(true), sport: 443, tls: true}
	g.tcp(&c, 600, 4000, 2.8)
	g.seen(src, nil, &c, true, src.IP, dst, src.IP, dst, 8)
}

// private instance → S3 or DynamoDB through a gateway endpoint.
func (g *gen) awsGateway(v *netmodel.VPC) {
	role := netmodel.RoleApp
	if g.r.IntN(2) == 0 {
		role = netmodel.RoleWorker
	}
	src := g.pick(v, role)
	if src == nil {
		g.directEgress(v)
		return
	}
	svc := "S3"
	if g.r.IntN(10) < 3 {
		svc = "DYNAMODB"
	}
	dst := netmodel.AWSAddr(svc, g.r.Uint32())
	c := conn{cli: src.IP, srv: dst, cport: g.ephemeral(true), sport: 443, tls: true, srvSvc: svc}
	g.tcp(&c, 1500, 20000, 2.5)
	g.seen(src, nil, &c, true, src.IP, dst, src.IP, dst, 7)
}

// private instance → interface VPC endpoint, both ends logged.
func (g *gen) endpoint(v *netmodel.VPC) {
	src := g.pick(v, netmodel.RoleApp)
	if src == nil {
		g.directEgress(v)
		return
	}
	ep := g.pickAZ(v, netmodel.RoleEndpoint, src.Subnet.AZIdx)
	c := conn{cli: src.IP, srv: ep.IP, cport: g.ephemeral(true), sport: 443, tls: true}
	g.tcp(&c, 900, 1800, 1.8)
	g.seen(src, ep, &c, true, src.IP, ep.IP, src.IP, ep.IP, 1)
	g.seen(ep, src, &c, false, src.IP, ep.IP, src.IP, ep.IP, 1)
}

// instances and on-premises or peered networks, both directions of initiation.
func (g *gen) internalPeer(v *netmodel.VPC) {
	roles := []netmodel.Role{netmodel.RoleApp, netmodel.RoleWorker, netmodel.RoleWeb, netmodel.RoleDB, netmodel.RoleBastion, netmodel.RoleCache}
	role := roles[g.r.IntN(len(roles))]
	e := g.pick(v, role)
	if e == nil {
		e = g.pick(v, netmodel.RoleEdge)
	}
	peer := g.intPeer(e)
	tp := uint8(4) // peering
	if peer>>20 == 0xac1 {
		tp = 3 // virtual private gateway
	}
	if g.r.IntN(2) == 0 && e.Port != 0 {
		// the peer calls the instance's service
		c := conn{cli: peer, srv: e.IP, cport: g.ephemeral(false), sport: e.Port, tls: e.Port == 443 || e.Port == 8443}
		g.tcp(&c, 500, 3000, 2.6)
		g.seen(e, nil, &c, false, peer, e.IP, peer, e.IP, tp)
		return
	}
	ports := []uint16{443, 443, 8080, 9200, 5432, 389, 636, 8443}
	c := conn{cli: e.IP, srv: peer, cport: g.ephemeral(true), sport: ports[g.r.IntN(len(ports))]}
	c.tls = c.sport == 443 || c.sport == 636 || c.sport == 8443
	g.tcp(&c, 600, 2500, 2.6)
	g.seen(e, nil, &c, true, e.IP, peer, e.IP, peer, tp)
}

// DNS to the on-premises resolvers and NTP to public servers.
func (g *gen) dnsNTP(v *netmodel.VPC) {
	e := g.pick(v, []netmodel.Role{netmodel.RoleApp, netmodel.RoleWorker, netmodel.RoleWeb, netmodel.RoleEdge}[g.r.IntN(4)])
	if e == nil {
		e = g.pick(v, netmodel.RoleEdge)
	}
	if g.r.IntN(4) == 0 {
		ntp := g.m.net.External[g.r.IntN(min(8, len(g.m.net.External)))]
		c := conn{cli: e.IP, srv: ntp, cport: 123, sport: 123}
		g.udp(&c, 76, 76)
		c.reqPk, c.reqBy, c.repPk, c.repBy = 1, 76, 1, 76
		g.seen(e, nil, &c, true, e.IP, ntp, e.IP, ntp, 8)
		return
	}
	dns := g.m.net.Internal[g.r.IntN(min(4, len(g.m.net.Internal)))]
	c := conn{cli: e.IP, srv: dns, cport: g.ephemeral(true), sport: 53}
	g.udp(&c, 70, 140)
	g.seen(e, nil, &c, true, e.IP, dns, e.IP, dns, 3)
}

// ping between instances and monitoring hosts.
func (g *gen) icmp(v *netmodel.VPC) {
	e := g.pick(v, []netmodel.Role{netmodel.RoleApp, netmodel.RoleWeb, netmodel.RoleDB}[g.r.IntN(3)])
	if e == nil {
		e = g.pick(v, netmodel.RoleEdge)
	}
	mon := g.m.net.Internal[4+g.r.IntN(min(8, len(g.m.net.Internal)-4))]
	c := conn{cli: mon, srv: e.IP, proto: 1}
	c.reqPk = 1 + g.r.Int64N(10)
	c.repPk = c.reqPk
	c.reqBy, c.repBy = c.reqPk*84, c.reqPk*84
	c.start, c.end = g.times()
	c.action = flowrec.ActionAccept
	g.seen(e, nil, &c, false, mon, e.IP, mon, e.IP, 4)
}

// noisePorts are what internet background scanning knocks on.
var noisePorts = []uint16{22, 22, 22, 3389, 3389, 23, 445, 445, 1433, 3306, 5900, 8080, 25, 135, 139, 6379, 9200, 2375, 5060, 111}

// reject writes one rejected record: internet noise against a security
// group, packets after a connection closed, or an internal network ACL deny.
func (g *gen) reject(v *netmodel.VPC) {
	start, end := g.times()
	rec := flowrec.Record{
		Proto: 6, Action: flowrec.ActionReject, Dir: flowrec.DirIngress, Start: start, End: end,
		TCPFlags: 2, Encryption: 0, Scenario: -1,
	}
	switch x := g.r.IntN(20); {
	case x < 15: // background scanning from the internet
		pub := v.ByRole[netmodel.RoleEdge]
		e := pub[g.r.IntN(len(pub))]
		if g.r.IntN(10) == 0 {
			e = v.ByRole[netmodel.RoleBastion][0]
		}
		src := g.m.net.Hostile[g.r.IntN(len(g.m.net.Hostile))]
		if g.r.IntN(3) > 0 {
			src = g.m.net.External[g.r.IntN(len(g.m.net.External))]
		}
		rec.ENI, rec.Src, rec.Dst = e, src, e.IP
		rec.SrcPort, rec.DstPort = g.ephemeral(false), noisePorts[g.r.IntN(len(noisePorts))]
		rec.Packets = 1 + g.r.Int64N(2)
		if g.r.IntN(8) == 0 {
			rec.Proto, rec.TCPFlags, rec.SrcPort, rec.DstPort = 1, 0, 0, 0
		}
	case x < 18: // late packets of a closed connection
		e := g.pick(v, netmodel.RoleEdge)
		rec.ENI, rec.Src, rec.Dst = e, g.extPeer(e), e.IP
		rec.SrcPort, rec.DstPort = g.ephemeral(false), 443
		rec.Packets, rec.TCPFlags = 1+g.r.Int64N(3), []int16{1, 4, 0}[g.r.IntN(3)]
	default: // network ACL: on-premises host to the data tier
		e := g.pick(v, netmodel.RoleDB)
		if e == nil {
			e = g.pick(v, netmodel.RoleEdge)
		}
		rec.ENI, rec.Src, rec.Dst = e, g.intPeer(e), e.IP
		rec.SrcPort, rec.DstPort = g.ephemeral(true), e.Port
		if e.Port == 0 {
			rec.DstPort = 5432
		}
		rec.Packets = 1 + g.r.Int64N(3)
	}
	rec.PktSrc, rec.PktDst = rec.Src, rec.Dst
	rec.Bytes = rec.Packets * (40 + g.r.Int64N(21))
	if rec.Proto == 1 {
		rec.Bytes = rec.Packets * 84
	}
	g.recs = append(g.recs, rec)
}

// baseline appends exactly n baseline records.
func (g *gen) baseline(n int) {
	g.scenario = -1
	want := len(g.recs) + n
	for len(g.recs) < want {
		v := g.fl.vpcs[g.fl.vpcPick.pick(g.r)]
		if g.r.Float64() < g.m.rejectP {
			g.reject(v)
			continue
		}
		t := &templates[g.m.tmpl.pick(g.r)]
		if t.records > want-len(g.recs) {
			g.reject(v) // fill the last slots with single records
			continue
		}
		t.emit(g, v)
	}
}

// idle appends n NODATA and s SKIPDATA records for random interfaces.
func (g *gen) idle(n, s int) {
	w := g.m.window
	for i := 0; i < n+s; i++ {
		v := g.fl.vpcs[g.r.IntN(len(g.fl.vpcs))]
		e := v.ENIs[g.r.IntN(len(v.ENIs))]
		// the record covers the window of a random instant, cut at the
		// end of the task's 5 minutes (10-minute windows span two files)
		t := g.lo + g.r.Int64N(g.hi-g.lo)
		start := t - t%w
		end := min(start+w-1, g.hi-1)
		st := flowrec.StatusNoData
		if i >= n {
			st = flowrec.StatusSkipData
		}
		g.recs = append(g.recs, flowrec.Record{ENI: e, Status: st, Start: start, End: end, TCPFlags: -1, Encryption: -1, Scenario: -1})
	}
}
