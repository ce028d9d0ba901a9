package generate

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

var day0 = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

func TestParseScenarios(t *testing.T) {
	dur := func(d time.Duration) *time.Duration { return &d }
	cases := []struct {
		in   string
		want []Scenario
		err  string
	}{
		{"ssh-bruteforce=3,portscan=2,exfil", []Scenario{{Kind: SSHBruteForce, Count: 3}, {Kind: PortScan, Count: 2}, {Kind: Exfiltration, Count: 1}}, ""},
		{"ssh-bruteforce=3,rate=40,duration=2h,at=+6h", []Scenario{{Kind: SSHBruteForce, Count: 3, Rate: 40, Duration: 2 * time.Hour, At: dur(6 * time.Hour)}}, ""},
		{"portscan,ports=2000,at=14:30", []Scenario{{Kind: PortScan, Count: 1, Ports: 2000, At: dur(14*time.Hour + 30*time.Minute)}}, ""},
		{"exfil=1,bytes=20GiB, hscan,port=445,targets=200", []Scenario{{Kind: Exfiltration, Count: 1, Bytes: 20 << 30}, {Kind: HorizontalScan, Count: 1, Port: 445, Targets: 200}}, ""},
		{"nat-heavy,bytes=1.5G", []Scenario{{Kind: NATHeavy, Count: 1, Bytes: 1_500_000_000}}, ""},
		{"exfil,none,cross-az", []Scenario{{Kind: CrossAZ, Count: 1}}, ""},
		{"none", nil, ""},
		{"standard", StandardScenarios(), ""},
		{"ddos=3", nil, "name a scenario first"},
		{"rate=3", nil, "name a scenario first"},
		{"exfil,speed=3", nil, "unknown option"},
		{"exfil,bytes=lots", nil, "not a size"},
		{"ssh-bruteforce=x", nil, "not a whole number"},
		{"portscan,ports=70000", nil, "out of range"},
		{"portscan,at=noon", nil, "HH:MM"},
		{"portscan,duration=-1m", nil, "positive duration"},
		{"portscan,rate", nil, "needs a value"},
	}
	for _, tc := range cases {
		got, err := ParseScenarios(nil, tc.in, day0)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: got %v, want an error about %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseScenarios(f *testing.F) {
	for _, h := range ScenarioHelp {
		f.Add(strings.TrimPrefix(h.Example, "--scenario "))
	}
	f.Add("ssh-bruteforce=3,portscan=2,exfil,none,standard,bytes=1K")
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 512 {
			return
		}
		got, err := ParseScenarios(nil, in, day0)
		if err != nil {
			return
		}
		for _, s := range got {
			if err := s.validate(); err != nil {
				t.Fatalf("%q parsed into an invalid scenario %+v: %v", in, s, err)
			}
		}
		again, err := ParseScenarios(nil, in, day0)
		if err != nil || !reflect.DeepEqual(got, again) {
			t.Fatalf("%q: parsing is not deterministic", in)
		}
	})
}

func TestApportion(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		w := make([]float64, 1+r.IntN(300))
		for j := range w {
			w[j] = r.Float64() * float64(r.IntN(3))
		}
		total := r.Int64N(1_000_000)
		got := apportion(total, w)
		var sum, wsum float64
		for _, x := range w {
			wsum += x
		}
		for j, x := range got {
			sum += float64(x)
			if x < 0 || (wsum > 0 && math.Abs(float64(x)-float64(total)*w[j]/wsum) >= 1) {
				t.Fatalf("share %d of %d by %v: %d", j, total, w[j], x)
			}
		}
		if int64(sum) != total {
			t.Fatalf("apportion(%d) sums to %v", total, sum)
		}
	}
}

func TestAlias(t *testing.T) {
	w := []float64{5, 0, 1, 3, 1}
	a := newAlias(w)
	r := rand.New(rand.NewPCG(3, 4))
	got := make([]float64, len(w))
	const n = 200_000
	for i := 0; i < n; i++ {
		got[a.pick(r)]++
	}
	for i := range w {
		want := w[i] / 10 * n
		if math.Abs(got[i]-want) > 0.02*n {
			t.Errorf("index %d drawn %v times, want about %v", i, got[i], want)
		}
	}
	if got[1] != 0 {
		t.Error("a zero weight was drawn")
	}
}
