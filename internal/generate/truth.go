package generate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowlens/flowlens/internal/generate/flowrec"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

// Truth describes what a run wrote: totals and every injected scenario
// source, so that tests and demos can check that queries find them.
type Truth struct {
	Seed      int64       `json:"seed"`
	Format    string      `json:"format"`
	Layout    Layout      `json:"layout"`
	Start     time.Time   `json:"start"`
	End       time.Time   `json:"end"`
	Window    string      `json:"window"`
	Totals    Totals      `json:"totals"`
	Scenarios []*Injected `json:"scenarios"`
}

// Totals counts every record written.
type Totals struct {
	Records  int64 `json:"records"`
	Accept   int64 `json:"accept"`
	Reject   int64 `json:"reject"`
	NoData   int64 `json:"nodata"`
	SkipData int64 `json:"skipdata"`
	Bytes    int64 `json:"bytes"`
	Packets  int64 `json:"packets"`
	Files    int   `json:"files"`
}

// Injected is one scenario source and what it wrote.
type Injected struct {
	Kind ScenarioKind `json:"kind"`
	// Source is the address the activity comes from; SourceInterface the
	// logged interface when the source is inside the network.
	Source          string `json:"source"`
	SourceInterface string `json:"source_interface,omitempty"`
	// Targets and TargetInterfaces list what was hit (addresses and interfaces).
	Targets          []string `json:"targets,omitempty"`
	TargetInterfaces []string `json:"target_interfaces,omitempty"`
	// External is the internet host of exfil and nat-heavy; NATInterface
	// the NAT gateway interface the traffic crossed.
	External     string `json:"external,omitempty"`
	NATInterface string `json:"nat_interface,omitempty"`
	// Port is the destination port knocked on (brute force, hscan); Ports
	// the number of distinct ports probed (portscan), in [PortMin, PortMax].
	Port    int `json:"port,omitempty"`
	Ports   int `json:"ports,omitempty"`
	PortMin int `json:"port_min,omitempty"`
	PortMax int `json:"port_max,omitempty"`
	// AZs are the availability zone IDs of source and target (cross-az).
	AZs []string `json:"azs,omitempty"`
	// First and Last are the end times of the first and last record.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Events are attempts, probes or connections.
	Events int `json:"events"`
	// Records, Rejects, Bytes and Packets count every record the scenario
	// wrote (both ends, every interface).
	Records int64 `json:"records"`
	Rejects int64 `json:"rejects"`
	Bytes   int64 `json:"bytes"`
	Packets int64 `json:"packets"`
	// Transferred is the exact payload: bytes uploaded by exfil (records
	// source → external on the source interface), bytes downloaded by
	// nat-heavy (records external → source on the source interface).
	Transferred int64 `json:"transferred,omitempty"`
}

func ipText(ip uint32) string { return netmodel.Addr(ip).String() }

// describe fills the static part of the truth entry of a plan.
func (p *plan) describe() *Injected {
	in := &Injected{Kind: p.kind, Source: ipText(p.src), Events: p.events, Port: int(p.port)}
	if p.srcENI != nil {
		in.SourceInterface = p.srcENI.ID
	}
	seen := map[string]bool{}
	for _, t := range p.targets {
		if !seen[t.ID] {
			seen[t.ID] = true
			in.Targets = append(in.Targets, ipText(t.IP))
			in.TargetInterfaces = append(in.TargetInterfaces, t.ID)
		}
	}
	if p.ext != 0 {
		in.External = ipText(p.ext)
		in.Transferred = p.bytes
		in.NATInterface = natOf(p.srcENI).ID
	}
	if len(p.ports) > 0 {
		in.Ports, in.PortMin, in.PortMax = len(p.ports), 65535, 0
		for _, x := range p.ports {
			in.PortMin, in.PortMax = min(in.PortMin, int(x)), max(in.PortMax, int(x))
		}
		in.Port = 0
	}
	if p.kind == CrossAZ {
		in.AZs = []string{p.srcENI.Subnet.AZID, p.targets[0].Subnet.AZID}
		in.Port = int(p.targets[0].Port)
	}
	return in
}

// natOf returns the NAT gateway interface in src's AZ.
func natOf(src *netmodel.ENI) *netmodel.ENI {
	for _, e := range src.VPC.ByRole[netmodel.RoleNAT] {
		if e.Subnet.AZIdx == src.Subnet.AZIdx {
			return e
		}
	}
	return src.VPC.ByRole[netmodel.RoleNAT][0]
}

// taskStats are the counts of one task; summing them is order-independent.
type taskStats struct {
	Totals
	per []scenarioStats
}

type scenarioStats struct {
	records, rejects, bytes, packets int64
	first, last                      int64
}

func (s *taskStats) count(recs []flowrec.Record, plans int) {
	if s.per == nil {
		s.per = make([]scenarioStats, plans)
	}
	for i := range recs {
		r := &recs[i]
		s.Records++
		switch r.Status {
		case flowrec.StatusNoData:
			s.NoData++
			continue
		case flowrec.StatusSkipData:
			s.SkipData++
			continue
		}
		if r.Action == flowrec.ActionReject {
			s.Reject++
		} else {
			s.Accept++
		}
		s.Bytes += r.Bytes
		s.Packets += r.Packets
		if r.Scenario >= 0 {
			p := &s.per[r.Scenario]
			p.records++
			p.bytes += r.Bytes
			p.packets += r.Packets
			if r.Action == flowrec.ActionReject {
				p.rejects++
			}
			if p.first == 0 || r.End < p.first {
				p.first = r.End
			}
			p.last = max(p.last, r.End)
		}
	}
}

func (s *taskStats) add(o *taskStats) {
	s.Records += o.Records
	s.Accept += o.Accept
	s.Reject += o.Reject
	s.NoData += o.NoData
	s.SkipData += o.SkipData
	s.Bytes += o.Bytes
	s.Packets += o.Packets
	s.Files += o.Files
	if s.per == nil {
		s.per = make([]scenarioStats, len(o.per))
	}
	for i, p := range o.per {
		q := &s.per[i]
		q.records += p.records
		q.rejects += p.rejects
		q.bytes += p.bytes
		q.packets += p.packets
		if p.first != 0 && (q.first == 0 || p.first < q.first) {
			q.first = p.first
		}
		q.last = max(q.last, p.last)
	}
}

func writeTruth(path string, t *Truth) error {
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write truth: %w", err)
		}
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}
