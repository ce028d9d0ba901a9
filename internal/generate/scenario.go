package generate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ScenarioKind names an injectable scenario.
type ScenarioKind string

// Scenario kinds.
const (
	SSHBruteForce  ScenarioKind = "ssh-bruteforce"
	RDPBruteForce  ScenarioKind = "rdp-bruteforce"
	PortScan       ScenarioKind = "portscan"
	HorizontalScan ScenarioKind = "hscan"
	Exfiltration   ScenarioKind = "exfil"
	CrossAZ        ScenarioKind = "cross-az"
	NATHeavy       ScenarioKind = "nat-heavy"
)

// ScenarioHelp explains every scenario kind with an example; the CLI prints it.
var ScenarioHelp = []struct {
	Kind    ScenarioKind
	Text    string
	Example string
}{
	{SSHBruteForce, "internet sources knocking on port 22 of public interfaces, every attempt a new source port, REJECTed by the security group (Count = sources)",
		"--scenario ssh-bruteforce=3,rate=40,duration=2h,at=+6h"},
	{RDPBruteForce, "the same on port 3389 against public web servers",
		"--scenario rdp-bruteforce=2,targets=2"},
	{PortScan, "vertical scan: one internet source probes many ports of one interface; closed ports REJECT, the open port answers",
		"--scenario portscan=1,ports=2000,duration=15m"},
	{HorizontalScan, "lateral movement: a compromised worker probes one port on many interfaces of its VPC (records at both ends)",
		"--scenario hscan=1,port=445,targets=200"},
	{Exfiltration, "one private instance uploads a burst to one external host through its NAT gateway (bytes = exact total uploaded)",
		"--scenario exfil=1,bytes=20GiB,duration=45m"},
	{CrossAZ, "a chatty service: one app instance calls a cache in another AZ all day (cross-AZ data charges)",
		"--scenario cross-az=1,rate=600"},
	{NATHeavy, "one private instance downloads a lot through a NAT gateway (NAT processing charges); pkt-* fields show the real ends",
		"--scenario nat-heavy=1,bytes=50GiB,duration=3h"},
}

// Scenario is one injected behaviour. Zero fields take defaults scaled to
// the run (record count and time span).
type Scenario struct {
	Kind ScenarioKind
	// Count is the number of independent sources (or instances); 0 means 1.
	Count int
	// Rate is events per minute per source: attempts, probes, connections.
	Rate float64
	// Duration of the activity; At is its offset from the start (nil: random).
	Duration time.Duration
	At       *time.Duration
	// Ports scanned (portscan); Port probed (hscan); Targets per source.
	Ports, Port, Targets int
	// Bytes moved per instance (exfil, nat-heavy).
	Bytes int64
}

// StandardScenarios is the default mix of `flowlens generate`.
func StandardScenarios() []Scenario {
	return []Scenario{
		{Kind: SSHBruteForce, Count: 2}, {Kind: RDPBruteForce, Count: 1}, {Kind: PortScan, Count: 1},
		{Kind: HorizontalScan, Count: 1}, {Kind: Exfiltration, Count: 1}, {Kind: CrossAZ, Count: 1}, {Kind: NATHeavy, Count: 1},
	}
}

func knownKind(k string) bool {
	for _, h := range ScenarioHelp {
		if string(h.Kind) == k {
			return true
		}
	}
	return false
}

func (s *Scenario) validate() error {
	if !knownKind(string(s.Kind)) {
		return configErr("unknown scenario %q", s.Kind)
	}
	if s.Count < 0 || s.Count > 1000 || s.Rate < 0 || s.Rate > 1e6 || s.Duration < 0 || s.Ports < 0 || s.Ports > 65535 ||
		s.Port < 0 || s.Port > 65535 || s.Targets < 0 || s.Targets > 100000 || s.Bytes < 0 {
		return configErr("scenario %s: a value is out of range", s.Kind)
	}
	return nil
}

// ParseScenarios parses --scenario values: a comma-separated list where a
// scenario kind (optionally =COUNT) starts a scenario and key=value options
// tune the scenario before them:
//
//	ssh-bruteforce=3,rate=40,portscan=2,ports=5000,exfil
//
// Options: rate (events per minute per source), duration (Go duration),
// at (+OFFSET from the start, or HH:MM on the first day), ports, port,
// targets, bytes (with K, M, G, KiB, MiB, GiB suffixes). "none" clears the
// list and "standard" adds the default mix. start is the run's first instant
// (to resolve at=HH:MM).
func ParseScenarios(list []Scenario, value string, start time.Time) ([]Scenario, error) {
	var cur *Scenario
	for _, tok := range strings.Split(value, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		key, val, hasVal := strings.Cut(tok, "=")
		switch {
		case key == "none":
			list, cur = nil, nil
			continue
		case key == "standard":
			list, cur = append(list, StandardScenarios()...), nil
			continue
		case knownKind(key):
			s := Scenario{Kind: ScenarioKind(key), Count: 1}
			if hasVal {
				n, err := strconv.Atoi(val)
				if err != nil || n < 0 {
					return nil, configErr("scenario %s: count %q is not a whole number", key, val)
				}
				s.Count = n
			}
			list = append(list, s)
			cur = &list[len(list)-1]
			continue
		}
		if cur == nil {
			return nil, configErr("%q: name a scenario first (one of %s)", tok, kindList())
		}
		if !hasVal {
			return nil, configErr("scenario %s: option %q needs a value (key=value)", cur.Kind, key)
		}
		if err := cur.setOption(key, val, start); err != nil {
			return nil, err
		}
	}
	for i := range list {
		if err := list[i].validate(); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func kindList() string {
	var names []string
	for _, h := range ScenarioHelp {
		names = append(names, string(h.Kind))
	}
	return strings.Join(names, ", ")
}

func (s *Scenario) setOption(key, val string, start time.Time) error {
	bad := func(why string) error { return configErr("scenario %s: %s=%s: %s", s.Kind, key, val, why) }
	atoi := func() (int, error) {
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return 0, bad("not a whole number")
		}
		return n, nil
	}
	var err error
	switch key {
	case "count":
		s.Count, err = atoi()
	case "rate":
		s.Rate, err = strconv.ParseFloat(val, 64)
		if err != nil || s.Rate <= 0 || math.IsInf(s.Rate, 0) {
			return bad("not a positive number")
		}
	case "duration":
		s.Duration, err = time.ParseDuration(val)
		if err != nil || s.Duration <= 0 {
			return bad("not a positive duration like 45m or 2h")
		}
	case "at":
		var d time.Duration
		if strings.HasPrefix(val, "+") {
			d, err = time.ParseDuration(val[1:])
			if err != nil || d < 0 {
				return bad("not an offset like +3h")
			}
		} else {
			t, perr := time.Parse("15:04", val)
			if perr != nil {
				return bad("use +OFFSET (+3h30m) or HH:MM")
			}
			d = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
			d -= time.Duration(start.Hour())*time.Hour + time.Duration(start.Minute())*time.Minute
			if d < 0 {
				d += 24 * time.Hour
			}
		}
		s.At = &d
	case "ports":
		s.Ports, err = atoi()
	case "port":
		s.Port, err = atoi()
	case "targets":
		s.Targets, err = atoi()
	case "bytes":
		s.Bytes, err = parseBytes(val)
		if err != nil {
			return bad(err.Error())
		}
	default:
		return configErr("scenario %s: unknown option %q (rate, duration, at, ports, port, targets, bytes, count)", s.Kind, key)
	}
	return err
}

// parseBytes reads 123, 10K, 5MB, 2GiB, 1.5T.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suf string
		mul float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"B", 1}}
	mul := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suf) {
			s, mul = strings.TrimSuffix(s, u.suf), u.mul
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*mul > 1<<62 {
		return 0, fmt.Errorf("not a size like 20GiB")
	}
	return int64(f * mul), nil
}
