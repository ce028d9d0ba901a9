// Package netmodel builds the synthetic network that flowlens generate draws
// its traffic from: accounts and regions, VPCs with CIDRs, subnets in
// availability zones, network interfaces attached to instances, load
// balancers, NAT gateways and VPC endpoints, the services they run, and the
// internet and on-premises peers they talk to. The model is a pure function of
// its Spec and seed, and it renders itself in the JSON shape of
// `aws ec2 describe-network-interfaces`.
package netmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// Role is what an interface does in the modelled application.
type Role uint8

// Roles. Managed interfaces (NAT, load balancer, endpoint) come first.
const (
	RoleNAT      Role = iota + 1 // NAT gateway interface (public subnet)
	RoleLB                       // network load balancer interface (public subnet)
	RoleEndpoint                 // interface VPC endpoint (private subnet)
	RoleEdge                     // public web server with its own public IP (public subnet)
	RoleWeb                      // web tier behind the load balancer (private subnet)
	RoleApp                      // application tier (private subnet)
	RoleDB                       // database (data subnet)
	RoleCache                    // cache (data subnet)
	RoleQueue                    // message broker (data subnet)
	RoleWorker                   // batch workers, egress heavy (private subnet)
	RoleBastion                  // SSH/RDP bastion (public subnet)
	numRoles
)

var roleNames = [...]string{"", "nat", "lb", "endpoint", "edge", "web", "app", "db", "cache", "queue", "worker", "bastion"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "invalid"
}

// Managed reports whether AWS manages the interface (requester-managed).
func (r Role) Managed() bool { return r <= RoleEndpoint }

// Spec says what network to build.
type Spec struct {
	// Accounts are 12-digit account IDs; Regions the regions. VPCs are
	// spread over account/region pairs round-robin: VPC i lives in
	// Accounts[i%len(Accounts)] and Regions[i%len(Regions)].
	Accounts []string
	Regions  []string
	// VPCs is the number of VPCs; VPC i has the CIDR 10.i.0.0/16.
	VPCs int
	// ENIs is the total number of interfaces, managed ones included
	// (9 per VPC: a NAT gateway, a load balancer and an endpoint per AZ).
	ENIs int
	// Peers is the number of remote peers: half on the internet, half
	// internal (on premises and peered networks).
	Peers int
	// ENIZipf and PeerZipf are the Zipf exponents of interface and peer activity.
	ENIZipf, PeerZipf float64
}

// Subnet is one subnet of a VPC.
type Subnet struct {
	ID     string
	Kind   string // public, private, data
	AZ     string // us-east-1a
	AZID   string // use1-az1
	AZIdx  int
	Prefix netip.Prefix
	next   uint32
	used   map[uint32]bool
}

// VPC is one VPC with its subnets and interfaces.
type VPC struct {
	Index   int
	ID      string
	Account string
	Region  string
	CIDR    netip.Prefix
	Subnets []*Subnet
	ENIs    []*ENI
	// ByRole lists the VPC's interfaces per role.
	ByRole [numRoles][]*ENI
	// Weight is the sum of the activity weights of the VPC's interfaces.
	Weight float64
}

// ENI is one network interface with everything a flow record says about it.
type ENI struct {
	Index      int // position in Network.ENIs
	ID         string
	Role       Role
	VPC        *VPC
	Subnet     *Subnet
	IP         uint32 // primary private IPv4
	PublicIP   uint32 // 0 when none
	InstanceID string // "" when not attached to an instance
	// InterfaceType is the flow log value ("nat_gateway", "network_load_balancer",
	// "vpc_endpoint") or "" for ordinary interfaces; APIType is the EC2 API value.
	InterfaceType, APIType string
	// Resource is the managed resource (nat-…, net/…/…, vpce-…) or "".
	Resource    string
	Name        string // Name tag
	Service     string // service tag / ECS service name
	Description string
	SecurityGrp string
	MAC         string
	// Weight is the interface's activity weight (Zipf over interfaces).
	Weight float64
	// Port is the service port the interface listens on (0 when none).
	Port uint16
	// ECS metadata, empty unless the interface belongs to an ECS task.
	ECSCluster, ECSClusterARN, ECSService, ECSTaskDefARN, ECSTaskARN, ECSTaskID, ECSContainerID, ECSContainer2ID string
	// ASG is the Auto Scaling group name, or "".
	ASG string
}

// Account returns the owning account.
func (e *ENI) Account() string { return e.VPC.Account }

// Network is the whole model.
type Network struct {
	Spec Spec
	VPCs []*VPC
	ENIs []*ENI
	// External and Internal peers (IPv4), with Zipf weights by position.
	External, Internal []uint32
	// Hostile addresses are sources of background scanning noise;
	// Attackers are reserved for injected scenarios. Both are disjoint
	// from each other and from the peers.
	Hostile, Attackers []uint32
}

// DefaultSpec is a small network: one account, one region, two VPCs.
func DefaultSpec() Spec {
	return Spec{
		Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"},
		VPCs: 2, ENIs: 200, Peers: 5000, ENIZipf: 1.15, PeerZipf: 1.05,
	}
}

// Validate checks the spec.
func (s Spec) Validate() error {
	if len(s.Accounts) == 0 || len(s.Regions) == 0 {
		return fmt.Errorf("network: need at least one account and one region")
	}
	for _, a := range s.Accounts {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			return fmt.Errorf("network: account %q is not 12 digits", a)
		}
	}
	for _, r := range s.Regions {
		if _, err := azPrefix(r); err != nil {
			return err
		}
	}
	if s.VPCs < 1 || s.VPCs > 100 {
		return fmt.Errorf("network: VPCs must be 1 to 100, got %d", s.VPCs)
	}
	if s.ENIs < s.VPCs*ManagedPerVPC+s.VPCs*4 {
		return fmt.Errorf("network: %d interfaces are too few for %d VPCs (need at least %d)", s.ENIs, s.VPCs, s.VPCs*(ManagedPerVPC+4))
	}
	if s.ENIs > s.VPCs*20000 {
		return fmt.Errorf("network: %d interfaces do not fit in %d VPCs", s.ENIs, s.VPCs)
	}
	if s.Peers < 10 || s.Peers > 10_000_000 {
		return fmt.Errorf("network: peers must be 10 to 10,000,000, got %d", s.Peers)
	}
	if s.ENIZipf <= 1 || s.PeerZipf <= 1 {
		return fmt.Errorf("network: Zipf exponents must be > 1")
	}
	return nil
}

// ManagedPerVPC is the number of AWS-managed interfaces in each VPC.
const ManagedPerVPC = 9

// NumAZ is the number of availability zones each VPC spans.
const NumAZ = 3

// Build builds the network for spec from seed. The same spec and seed give
// the same network.
func Build(spec Spec, seed uint64) (*Network, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x6e65746d6f64656c))
	n := &Network{Spec: spec}
	ids := &idGen{r: r, seen: map[string]bool{}}
	perVPC := spec.ENIs / spec.VPCs
	extra := spec.ENIs % spec.VPCs
	for i := 0; i < spec.VPCs; i++ {
		v := &VPC{
			Index:   i,
			ID:      ids.hex("vpc-", 17),
			Account: spec.Accounts[i%len(spec.Accounts)],
			Region:  spec.Regions[i%len(spec.Regions)],
			CIDR:    netip.PrefixFrom(v4(10, byte(i), 0, 0), 16),
		}
		pfx, _ := azPrefix(v.Region)
		for az := 0; az < NumAZ; az++ {
			for _, k := range []struct {
				kind       string
				third, len int
			}{{"public", az * 8, 21}, {"private", 64 + az*32, 19}, {"data", 192 + az*8, 21}} {
				v.Subnets = append(v.Subnets, &Subnet{
					ID: ids.hex("subnet-", 17), Kind: k.kind,
					AZ: v.Region + string(rune('a'+az)), AZID: fmt.Sprintf("%s-az%d", pfx, azNumber(v.Region, az)),
					AZIdx: az, Prefix: netip.PrefixFrom(v4(10, byte(i), byte(k.third), 0), k.len),
					used: map[uint32]bool{},
				})
			}
		}
		count := perVPC
		if i < extra {
			count++
		}
		n.addInterfaces(v, count, r, ids)
		n.VPCs = append(n.VPCs, v)
	}
	n.assignWeights(r)
	n.buildPeers(r)
	return n, nil
}

func (v *VPC) subnet(kind string, az int) *Subnet {
	for _, s := range v.Subnets {
		if s.Kind == kind && s.AZIdx == az {
			return s
		}
	}
	panic("BUG: no subnet " + kind)
}

// roleMix is the share of each instance role among a VPC's non-managed interfaces.
var roleMix = []struct {
	role  Role
	share float64
}{
	{RoleEdge, 0.14}, {RoleWeb, 0.20}, {RoleApp, 0.28}, {RoleDB, 0.07},
	{RoleCache, 0.06}, {RoleQueue, 0.04}, {RoleWorker, 0.21},
}

func (n *Network) addInterfaces(v *VPC, count int, r *rand.Rand, ids *idGen) {
	add := func(role Role, sub *Subnet) *ENI {
		e := &ENI{Index: len(n.ENIs), ID: ids.hex("eni-", 17), Role: role, VPC: v, Subnet: sub, IP: sub.alloc(r)}
		e.MAC = fmt.Sprintf("0e:%02x:%02x:%02x:%02x:%02x", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))
		n.ENIs = append(n.ENIs, e)
		v.ENIs = append(v.ENIs, e)
		v.ByRole[role] = append(v.ByRole[role], e)
		return e
	}
	env := []string{"prod", "staging", "shared", "data"}[v.Index%4]
	lbName := fmt.Sprintf("%s-web-%d", env, v.Index)
	lbID := ids.hex("", 16)
	for az := 0; az < NumAZ; az++ {
		e := add(RoleNAT, v.subnet("public", az))
		e.Resource = ids.hex("nat-", 17)
		e.InterfaceType, e.APIType = "nat_gateway", "natGateway" // the EC2 API spells it natGateway
		e.PublicIP = publicIP(r)
		e.Description = "Interface for NAT Gateway " + e.Resource
		e.Name = e.Resource
		e = add(RoleLB, v.subnet("public", az))
		e.Resource = "net/" + lbName + "/" + lbID
		e.InterfaceType, e.APIType = "network_load_balancer", "network_load_balancer"
		e.PublicIP = publicIP(r)
		e.Description = "ELB " + e.Resource
		e.Name, e.Port = lbName, 443
		e = add(RoleEndpoint, v.subnet("private", az))
		e.Resource = ids.hex("vpce-", 17)
		e.InterfaceType, e.APIType = "vpc_endpoint", "vpc_endpoint"
		e.Description = "VPC Endpoint Interface " + e.Resource
		e.Name, e.Port = e.Resource, 443
	}
	rest := count - ManagedPerVPC
	// One bastion per VPC, the rest by the role mix (largest remainder).
	b := add(RoleBastion, v.subnet("public", 0))
	rest--
	counts := make([]int, len(roleMix))
	left := rest
	for i, m := range roleMix {
		counts[i] = int(float64(rest) * m.share)
		left -= counts[i]
	}
	for i := 0; left > 0; i = (i + 1) % len(counts) {
		counts[i]++
		left--
	}
	instances := []*ENI{b}
	for i, m := range roleMix {
		for j := 0; j < counts[i]; j++ {
			az := j % NumAZ
			kind := "private"
			switch m.role {
			case RoleEdge:
				kind = "public"
			case RoleDB, RoleCache, RoleQueue:
				kind = "data"
			}
			instances = append(instances, add(m.role, v.subnet(kind, az)))
		}
	}
	dbPorts := []uint16{5432, 5432, 5432, 3306, 3306, 27017}
	for i, e := range instances {
		e.APIType = "interface"
		e.Name = fmt.Sprintf("%s-%s-%d", env, e.Role, i)
		e.Service = env + "-" + e.Role.String()
		e.SecurityGrp = e.Role.String()
		switch e.Role {
		case RoleEdge:
			e.PublicIP, e.Port = publicIP(r), 443
		case RoleBastion:
			e.PublicIP, e.Port = publicIP(r), 22
		case RoleWeb:
			e.Port = 8443
		case RoleApp:
			e.Port = 8080
		case RoleDB:
			e.Port = dbPorts[r.IntN(len(dbPorts))]
		case RoleCache:
			e.Port = 6379
		case RoleQueue:
			e.Port = 9092
		}
		// A third of the app tier runs as ECS Fargate tasks; the rest are instances.
		if e.Role == RoleApp && i%3 == 0 {
			cluster := env + "-cluster"
			region, acct := v.Region, v.Account
			e.ECSCluster = cluster
			e.ECSClusterARN = fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, acct, cluster)
			e.ECSService = env + "-api"
			e.ECSTaskDefARN = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s-api:%d", region, acct, env, 7+r.IntN(40))
			e.ECSTaskID = ids.hex("", 32)
			e.ECSTaskARN = fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", region, acct, cluster, e.ECSTaskID)
			e.ECSContainerID = e.ECSTaskID + "-" + ids.hex("", 10)
			if r.IntN(2) == 0 {
				e.ECSContainer2ID = e.ECSTaskID + "-" + ids.hex("", 10)
			}
			e.Description = "arn:aws:ecs:" + region + ":" + acct + ":attachment/" + ids.hex("", 32)
			e.Service = e.ECSService
			continue
		}
		e.InstanceID = ids.hex("i-", 17)
		if e.Role == RoleWeb || e.Role == RoleWorker || e.Role == RoleEdge {
			e.ASG = e.Service + "-asg"
		}
	}
}

// assignWeights gives every interface a Zipf activity weight by a random
// rank. Managed interfaces get the mean weight of their VPC's instances.
func (n *Network) assignWeights(r *rand.Rand) {
	var inst []*ENI
	for _, e := range n.ENIs {
		if !e.Role.Managed() {
			inst = append(inst, e)
		}
	}
	perm := r.Perm(len(inst))
	for i, e := range inst {
		e.Weight = 1 / math.Pow(float64(perm[i]+1), n.Spec.ENIZipf)
	}
	for _, v := range n.VPCs {
		var sum float64
		var k int
		for _, e := range v.ENIs {
			if !e.Role.Managed() {
				sum += e.Weight
				k++
			}
		}
		for _, e := range v.ENIs {
			if e.Role.Managed() {
				e.Weight = sum / float64(k)
			}
		}
		v.Weight = sum
	}
}

func (n *Network) buildPeers(r *rand.Rand) {
	seen := map[uint32]bool{}
	for _, e := range n.ENIs {
		seen[e.IP] = true
		if e.PublicIP != 0 {
			seen[e.PublicIP] = true
		}
	}
	ext := n.Spec.Peers - n.Spec.Peers/2
	for len(n.External) < ext {
		ip := publicIP(r)
		if !seen[ip] {
			seen[ip] = true
			n.External = append(n.External, ip)
		}
	}
	for len(n.Internal) < n.Spec.Peers/2 {
		var ip uint32
		if r.IntN(4) == 0 {
			ip = 0xac100000 | r.Uint32N(1<<20) // 172.16.0.0/12: on premises
		} else {
			ip = 0x0a800000 | r.Uint32N(1<<23) // 10.128.0.0/9: peered networks
		}
		if ip&0xff == 0 || ip&0xff == 255 || seen[ip] {
			continue
		}
		seen[ip] = true
		n.Internal = append(n.Internal, ip)
	}
	for len(n.Hostile) < 4096 {
		ip := publicIP(r)
		if !seen[ip] {
			seen[ip] = true
			n.Hostile = append(n.Hostile, ip)
		}
	}
	for len(n.Attackers) < 2048 {
		ip := publicIP(r)
		if !seen[ip] {
			seen[ip] = true
			n.Attackers = append(n.Attackers, ip)
		}
	}
}

// alloc returns an unused host address of the subnet (AWS reserves the
// first four and the last).
func (s *Subnet) alloc(r *rand.Rand) uint32 {
	base := ipv4(s.Prefix.Addr())
	size := uint32(1) << (32 - s.Prefix.Bits())
	for {
		ip := base + 4 + r.Uint32N(size-5)
		if !s.used[ip] {
			s.used[ip] = true
			return ip
		}
	}
}

// publicIP returns a random globally routable IPv4 address outside the
// ranges the model reserves for AWS services.
func publicIP(r *rand.Rand) uint32 {
	for {
		ip := r.Uint32()
		a, b := byte(ip>>24), byte(ip>>16)
		switch {
		case a == 0 || a == 10 || a == 127 || a >= 224:
		case a == 100 && b >= 64 && b < 128:
		case a == 169 && b == 254, a == 172 && b >= 16 && b < 32, a == 192 && b == 168:
		case a == 192 && b == 0, a == 198 && (b == 18 || b == 19 || b == 51), a == 203 && b == 0:
		case ip&0xff == 0 || ip&0xff == 255:
		case AWSService(ip) != "":
		default:
			return ip
		}
	}
}

// AWSRange is an address range published for an AWS service.
type AWSRange struct {
	Service string
	Prefix  netip.Prefix
}

// AWSRanges are the AWS address ranges the model sends traffic to (a small,
// fixed excerpt in the spirit of ip-ranges.json).
var AWSRanges = []AWSRange{
	{"S3", netip.MustParsePrefix("52.216.0.0/15")},
	{"S3", netip.MustParsePrefix("3.5.0.0/19")},
	{"DYNAMODB", netip.MustParsePrefix("3.218.180.0/22")},
	{"EC2", netip.MustParsePrefix("54.144.0.0/14")},
	{"CLOUDFRONT", netip.MustParsePrefix("13.224.0.0/14")},
	{"AMAZON", netip.MustParsePrefix("52.94.0.0/22")},
	{"ROUTE53_HEALTHCHECKS", netip.MustParsePrefix("54.243.31.192/26")},
}

// AWSService returns the AWS service name of ip, or "".
func AWSService(ip uint32) string {
	for _, a := range AWSRanges {
		if a.Prefix.Contains(addr(ip)) {
			return a.Service
		}
	}
	return ""
}

// AWSAddr returns an address of the i-th range of service svc, chosen by x.
func AWSAddr(svc string, x uint32) uint32 {
	var cands []netip.Prefix
	for _, a := range AWSRanges {
		if a.Service == svc {
			cands = append(cands, a.Prefix)
		}
	}
	p := cands[int(x)%len(cands)]
	size := uint32(1) << (32 - p.Bits())
	return ipv4(p.Addr()) + 1 + (x>>8)%min(size-2, 254) // a few hundred busy endpoints per range
}

// idGen makes unique random hexadecimal resource IDs.
type idGen struct {
	r    *rand.Rand
	seen map[string]bool
}

func (g *idGen) hex(prefix string, n int) string {
	const digits = "0123456789abcdef"
	for {
		b := make([]byte, 0, len(prefix)+n)
		b = append(b, prefix...)
		for i := 0; i < n; i++ {
			b = append(b, digits[g.r.IntN(16)])
		}
		if s := string(b); !g.seen[s] {
			g.seen[s] = true
			return s
		}
	}
}

var regionShort = map[string]string{
	"east": "e", "west": "w", "central": "c", "north": "n", "south": "s",
	"northeast": "ne", "southeast": "se", "northwest": "nw", "southwest": "sw",
}

// azPrefix turns a region name into the prefix of its AZ IDs
// (us-east-1 → use1, ap-southeast-2 → apse2).
func azPrefix(region string) (string, error) {
	parts := strings.Split(region, "-")
	if len(parts) != 3 || len(parts[0]) != 2 || regionShort[parts[1]] == "" || parts[2] == "" || strings.Trim(parts[2], "0123456789") != "" {
		return "", fmt.Errorf("network: %q is not a region name like us-east-1", region)
	}
	return parts[0] + regionShort[parts[1]] + parts[2], nil
}

// azNumber maps AZ index k to an AZ ID number; AZ IDs are not in name order.
func azNumber(region string, k int) int {
	h := 0
	for _, c := range region {
		h = h*31 + int(c)
	}
	return (h+k*2)%6 + 1
}

func v4(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }

func ipv4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addr(ip uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)})
}

// Addr returns ip as a netip.Addr.
func Addr(ip uint32) netip.Addr { return addr(ip) }
