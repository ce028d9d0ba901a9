package netmodel

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

func build(t *testing.T, spec Spec, seed uint64) *Network {
	t.Helper()
	n, err := Build(spec, seed)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBuildIsDeterministic(t *testing.T) {
	spec := DefaultSpec()
	var a, b, c bytes.Buffer
	if err := build(t, spec, 1).WriteInventory(&a); err != nil {
		t.Fatal(err)
	}
	build(t, spec, 1).WriteInventory(&b)
	build(t, spec, 2).WriteInventory(&c)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same seed, different networks")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("different seeds, same network")
	}
}

func TestBuildShape(t *testing.T) {
	spec := Spec{Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"us-east-1", "eu-west-1"},
		VPCs: 4, ENIs: 1001, Peers: 3001, ENIZipf: 1.15, PeerZipf: 1.05}
	n := build(t, spec, 7)
	if len(n.ENIs) != spec.ENIs || len(n.VPCs) != 4 {
		t.Fatalf("%d interfaces in %d VPCs", len(n.ENIs), len(n.VPCs))
	}
	ips := map[uint32]string{}
	ids := map[string]bool{}
	for i, e := range n.ENIs {
		if e.Index != i || ids[e.ID] || !strings.HasPrefix(e.ID, "eni-") || len(e.ID) != 21 {
			t.Fatalf("interface %d: bad id or index %q", i, e.ID)
		}
		ids[e.ID] = true
		a := Addr(e.IP)
		if !e.Subnet.Prefix.Contains(a) || !e.VPC.CIDR.Contains(a) {
			t.Fatalf("%s: %s outside %s / %s", e.ID, a, e.Subnet.Prefix, e.VPC.CIDR)
		}
		if prev, dup := ips[e.IP]; dup {
			t.Fatalf("%s and %s share %s", e.ID, prev, a)
		}
		ips[e.IP] = e.ID
		if e.Role.Managed() != (e.InstanceID == "" && e.ECSTaskID == "") {
			t.Errorf("%s (%s): instance %q", e.ID, e.Role, e.InstanceID)
		}
		if e.Weight <= 0 {
			t.Errorf("%s has no activity weight", e.ID)
		}
	}
	for _, v := range n.VPCs {
		if v.Account != spec.Accounts[v.Index%2] || v.Region != spec.Regions[v.Index%2] {
			t.Errorf("VPC %d in %s/%s", v.Index, v.Account, v.Region)
		}
		for _, role := range []Role{RoleNAT, RoleLB, RoleEndpoint} {
			if len(v.ByRole[role]) != NumAZ {
				t.Errorf("VPC %d has %d %s interfaces", v.Index, len(v.ByRole[role]), role)
			}
		}
		for _, role := range []Role{RoleEdge, RoleWeb, RoleApp, RoleDB, RoleCache, RoleQueue, RoleWorker, RoleBastion} {
			if len(v.ByRole[role]) == 0 {
				t.Errorf("VPC %d has no %s", v.Index, role)
			}
		}
		azid := map[int]string{}
		for _, s := range v.Subnets {
			if prev, ok := azid[s.AZIdx]; ok && prev != s.AZID {
				t.Errorf("AZ %d has IDs %s and %s", s.AZIdx, prev, s.AZID)
			}
			azid[s.AZIdx] = s.AZID
		}
		if len(azid) != NumAZ || azid[0] == azid[1] || azid[1] == azid[2] || azid[0] == azid[2] {
			t.Errorf("VPC %d AZ IDs %v", v.Index, azid)
		}
	}
	if len(n.External)+len(n.Internal) != spec.Peers {
		t.Errorf("%d peers", len(n.External)+len(n.Internal))
	}
	seen := map[uint32]bool{}
	for _, pool := range [][]uint32{n.External, n.Internal, n.Hostile, n.Attackers} {
		for _, ip := range pool {
			if seen[ip] || ips[ip] != "" {
				t.Fatalf("address %s is used twice", Addr(ip))
			}
			seen[ip] = true
		}
	}
	for _, ip := range n.External {
		if a := Addr(ip); a.IsPrivate() || !a.IsGlobalUnicast() || AWSService(ip) != "" {
			t.Fatalf("external peer %s is not a public non-AWS address", a)
		}
	}
	for _, ip := range n.Internal {
		if a := Addr(ip); !a.IsPrivate() || netip.MustParsePrefix("10.0.0.0/9").Contains(a) {
			t.Fatalf("internal peer %s overlaps the VPCs or is public", a)
		}
	}
}

func TestAWSAddr(t *testing.T) {
	for _, svc := range []string{"S3", "DYNAMODB"} {
		for x := uint32(0); x < 5000; x += 37 {
			if got := AWSService(AWSAddr(svc, x*2654435761)); got != svc {
				t.Fatalf("AWSAddr(%s) is in %q", svc, got)
			}
		}
	}
}

func TestAZPrefix(t *testing.T) {
	for in, want := range map[string]string{"us-east-1": "use1", "eu-west-1": "euw1", "ap-southeast-2": "apse2", "eu-central-1": "euc1", "ap-northeast-1": "apne1"} {
		if got, err := azPrefix(in); err != nil || got != want {
			t.Errorf("azPrefix(%s) = %q, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "moon", "us-east", "us-middle-1", "us-east-x"} {
		if _, err := azPrefix(bad); err == nil {
			t.Errorf("azPrefix(%q) accepted", bad)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	base := DefaultSpec()
	for name, edit := range map[string]func(*Spec){
		"no accounts": func(s *Spec) { s.Accounts = nil },
		"bad account": func(s *Spec) { s.Accounts = []string{"12345678901x"} },
		"bad region":  func(s *Spec) { s.Regions = []string{"mars-1"} },
		"no VPC":      func(s *Spec) { s.VPCs = 0 },
		"few ENIs":    func(s *Spec) { s.ENIs = 20 },
		"few peers":   func(s *Spec) { s.Peers = 3 },
		"flat zipf":   func(s *Spec) { s.ENIZipf = 1 },
	} {
		s := base
		edit(&s)
		if _, err := Build(s, 1); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestInventory(t *testing.T) {
	spec := DefaultSpec()
	spec.Regions = []string{"eu-west-1"}
	n := build(t, spec, 4)
	inv := n.Inventory()
	if len(inv.NetworkInterfaces) != len(n.ENIs) {
		t.Fatalf("%d interfaces", len(inv.NetworkInterfaces))
	}
	for i, ni := range inv.NetworkInterfaces {
		e := n.ENIs[i]
		if ni.NetworkInterfaceID != e.ID || ni.VpcID != e.VPC.ID || ni.SubnetID != e.Subnet.ID || ni.PrivateIPAddress != Addr(e.IP).String() ||
			ni.AvailabilityZoneID != e.Subnet.AZID || !strings.HasPrefix(ni.AvailabilityZone, "eu-west-1") {
			t.Fatalf("interface %d: %+v", i, ni)
		}
		if !strings.HasSuffix(ni.PrivateDNSName, ".eu-west-1.compute.internal") {
			t.Errorf("private DNS %s", ni.PrivateDNSName)
		}
		if ni.Association != nil && !strings.HasSuffix(ni.Association.PublicDNSName, ".eu-west-1.compute.amazonaws.com") {
			t.Errorf("public DNS %s", ni.Association.PublicDNSName)
		}
		switch e.Role {
		case RoleNAT:
			if ni.InterfaceType != "natGateway" || !ni.RequesterManaged || ni.SourceDestCheck || ni.Association == nil {
				t.Errorf("NAT gateway interface %+v", ni)
			}
		case RoleApp, RoleWeb, RoleDB:
			if e.InstanceID != "" && (ni.Attachment == nil || ni.Attachment.InstanceID != e.InstanceID || ni.InterfaceType != "interface") {
				t.Errorf("instance interface %+v", ni)
			}
		}
	}
}
