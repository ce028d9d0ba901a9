package generate

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzRun generates small runs from arbitrary settings: every run either
// writes exactly the records asked for, each line with the format's number
// of fields, or fails with a configuration error.
func FuzzRun(f *testing.F) {
	f.Add(int64(500), int64(1), uint8(1), uint16(40), uint16(100), float64(1), false, uint8(0), "ssh-bruteforce,portscan,ports=50")
	f.Add(int64(3000), int64(7), uint8(3), uint16(200), uint16(900), float64(0.3), true, uint8(8), "standard")
	f.Add(int64(0), int64(2), uint8(2), uint16(30), uint16(10), float64(48), false, uint8(3), "none")
	f.Fuzz(func(t *testing.T, records, seed int64, vpcs uint8, enis, peers uint16, hours float64, tenMinutes bool, format uint8, scenarios string) {
		if records < 0 || records > 5000 || hours > 72 || len(scenarios) > 200 {
			return
		}
		c := DefaultConfig()
		c.Layout = LayoutStdout
		var out bytes.Buffer
		c.Stdout = &out
		c.Records, c.Seed, c.VPCs, c.ENIs, c.Peers, c.Hours = records, seed, int(vpcs), int(enis), int(peers), hours
		if tenMinutes {
			c.Window = 10 * time.Minute
		}
		p := FormatPresets[int(format)%len(FormatPresets)]
		fm, err := ParseFormat(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		c.Format = fm
		if c.Scenarios, err = ParseScenarios(nil, scenarios, c.Start); err != nil {
			return
		}
		s, err := Run(context.Background(), c)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("not a configuration error: %v", err)
			}
			return
		}
		lines := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
		if records == 0 {
			lines = nil
		}
		if int64(len(lines)) != records || s.Records != records {
			t.Fatalf("asked for %d records, wrote %d lines, summary %d", records, len(lines), s.Records)
		}
		for _, l := range lines {
			if n := bytes.Count(l, []byte(" ")) + 1; n != fm.Len() {
				t.Fatalf("line with %d fields, format has %d: %s", n, fm.Len(), l)
			}
		}
	})
}
