package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

func TestDeterministicWhateverTheWorkers(t *testing.T) {
	for _, layout := range []Layout{LayoutS3, LayoutParquet, LayoutCloudWatch} {
		t.Run(string(layout), func(t *testing.T) {
			a, b := testConfig(t), testConfig(t)
			a.Layout, b.Layout = layout, layout
			a.Records, b.Records = 20_000, 20_000
			a.Workers, b.Workers = 1, 3
			a.Truth, b.Truth = filepath.Join(a.Out, "truth.json"), filepath.Join(b.Out, "truth.json")
			mustRun(t, a)
			mustRun(t, b)
			ta, tb := readTree(t, a.Out), readTree(t, b.Out)
			if len(ta) != len(tb) || len(ta) < 3 {
				t.Fatalf("runs wrote %d and %d files", len(ta), len(tb))
			}
			for name, data := range ta {
				if !bytes.Equal(data, tb[name]) {
					t.Errorf("%s differs between 1 and 3 workers", name)
				}
			}
		})
	}
	t.Run("stdout", func(t *testing.T) {
		var outs [2]bytes.Buffer
		for i, w := range []int{1, 2} {
			c := testConfig(t)
			c.Layout, c.Workers, c.Stdout, c.Records = LayoutStdout, w, &outs[i], 10_000
			mustRun(t, c)
		}
		if !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) || outs[0].Len() == 0 {
			t.Fatal("stdout output differs between 1 and 2 workers")
		}
	})
	t.Run("seed matters", func(t *testing.T) {
		var outs [2]bytes.Buffer
		for i := range outs {
			c := testConfig(t)
			c.Layout, c.Stdout, c.Records, c.Seed = LayoutStdout, &outs[i], 2000, int64(i+1)
			mustRun(t, c)
		}
		if bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
			t.Fatal("two seeds gave the same output")
		}
	})
}

func TestExactRecordCount(t *testing.T) {
	for _, n := range []int64{0, 1, 7, 999, 12_345} {
		var out bytes.Buffer
		c := testConfig(t)
		c.Layout, c.Stdout, c.Records, c.Scenarios = LayoutStdout, &out, n, nil
		s := mustRun(t, c)
		lines := int64(bytes.Count(out.Bytes(), []byte("\n")))
		if lines != n || s.Records != n {
			t.Errorf("records %d: wrote %d lines, summary says %d", n, lines, s.Records)
		}
	}
}

func TestEveryLayoutDecodes(t *testing.T) {
	cases := []struct {
		name    string
		layout  Layout
		perHour bool
		format  string
	}{
		{"s3", LayoutS3, false, "default"},
		{"s3 hourly all fields", LayoutS3, true, "all"},
		{"hive", LayoutHive, false, "all-v5"},
		{"hive hourly", LayoutHive, true, "default"},
		{"parquet", LayoutParquet, false, "all"},
		{"parquet hive hourly", LayoutParquet, true, "all-v5"},
		{"cloudwatch", LayoutCloudWatch, false, "all-v4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig(t)
			c.Layout, c.PerHour, c.Records, c.Hours = tc.layout, tc.perHour, 15_000, 3
			c.Hive = tc.name == "parquet hive hourly"
			f, err := ParseFormat(tc.format)
			if err != nil {
				t.Fatal(err)
			}
			c.Format = f
			s := mustRun(t, c)
			files := outputFiles(t, c.Out)
			if len(files) != s.Files || len(files) == 0 {
				t.Fatalf("summary says %d files, found %d", s.Files, len(files))
			}
			var format *flowlog.Format
			if tc.layout == LayoutCloudWatch {
				format = f // CloudWatch streams carry no header
			}
			rows := decodeAll(t, files, format)
			if int64(len(rows)) != c.Records {
				t.Fatalf("decoded %d records, want %d", len(rows), c.Records)
			}
			if tc.layout == LayoutCloudWatch {
				for _, r := range rows {
					if !strings.HasSuffix(r.file, r.iface+"-all.json") {
						t.Fatalf("record of %s in stream file %s", r.iface, r.file)
					}
				}
				if s.Streams != len(files) {
					t.Errorf("summary says %d streams, %d files", s.Streams, len(files))
				}
				return
			}
			// every S3 key parses, says the right layout, and holds the records
			// whose end falls in its 5 minutes
			for _, file := range files {
				rel, _ := filepath.Rel(c.Out, file)
				k, ok := decode.ParseObjectKey(filepath.ToSlash(rel))
				if !ok {
					t.Fatalf("key %s does not parse", rel)
				}
				if k.Hive != (tc.layout == LayoutHive || c.Hive) || k.Hourly != tc.perHour || k.Parquet != (tc.layout == LayoutParquet) {
					t.Errorf("key %s parsed as %+v", rel, k)
				}
				if k.Account != "111122223333" || k.Region != "us-east-1" || !strings.HasPrefix(k.FlowLogID, "fl-") {
					t.Errorf("key %s parsed as %+v", rel, k)
				}
				for _, r := range rows {
					if r.file == file && (r.end < k.Time.Unix() || r.end >= k.Time.Unix()+300) {
						t.Fatalf("%s holds a record ending at %d", rel, r.end)
					}
				}
			}
		})
	}
}

// TestEveryFormatRoundTrips decodes each format preset and checks that
// every line re-renders to exactly what was written.
func TestEveryFormatRoundTrips(t *testing.T) {
	formats := []string{"${srcaddr} ${dstaddr} ${bytes} ${log-status}",
		"${version} ${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action} ${reject-reason} ${encryption-status} ${interface-type} ${next-hop-interface-id} ${instance-tag}"}
	for _, p := range FormatPresets {
		formats = append(formats, p.Name)
	}
	for _, name := range formats {
		t.Run(name, func(t *testing.T) {
			f, err := ParseFormat(name)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			c := testConfig(t)
			c.Layout, c.Stdout, c.Records, c.Format, c.Hours = LayoutStdout, &out, 8000, f, 2
			mustRun(t, c)
			rows := decodeBytes(t, out.Bytes(), f)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(rows) != len(lines) {
				t.Fatalf("decoded %d of %d lines", len(rows), len(lines))
			}
			for i := range rows {
				if rows[i].line != lines[i] {
					t.Fatalf("line %d round trip:\n got %s\nwant %s", i+1, rows[i].line, lines[i])
				}
			}
			if f.Has(flowlog.Version) && !strings.HasPrefix(lines[0], strconv.Itoa(f.Version())+" ") {
				t.Errorf("version field of %q is not %d: %s", name, f.Version(), lines[0])
			}
		})
	}
}

func TestInventoryMatchesRecords(t *testing.T) {
	c := testConfig(t)
	c.Records, c.Format = 10_000, flowlog.AllVPCFormat(5)
	mustRun(t, c)
	data, err := os.ReadFile(filepath.Join(c.Out, "inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	var inv netmodel.Inventory
	if err := json.Unmarshal(data, &inv); err != nil {
		t.Fatalf("inventory is not describe-network-interfaces JSON: %v", err)
	}
	if len(inv.NetworkInterfaces) != c.ENIs {
		t.Fatalf("inventory has %d interfaces, want %d", len(inv.NetworkInterfaces), c.ENIs)
	}
	byID := map[string]netmodel.NetworkInterface{}
	types := map[string]int{}
	for _, ni := range inv.NetworkInterfaces {
		byID[ni.NetworkInterfaceID] = ni
		types[ni.InterfaceType]++
	}
	for _, typ := range []string{"interface", "natGateway", "network_load_balancer", "vpc_endpoint"} {
		if types[typ] == 0 {
			t.Errorf("no %s interface in the inventory", typ)
		}
	}
	rows := decodeAll(t, outputFiles(t, c.Out), nil)
	for _, r := range rows {
		ni, ok := byID[r.iface]
		if !ok {
			t.Fatalf("interface %s of a record is not in the inventory", r.iface)
		}
		if r.status != "OK" {
			continue
		}
		own := ni.PrivateIPAddress
		if (r.dir == "egress" && r.src != own) || (r.dir == "ingress" && r.dst != own) {
			t.Fatalf("%s record on %s (%s) does not carry its address: %s", r.dir, r.iface, own, r.line)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no out", func(c *Config) { c.Out = "" }, "output directory"},
		{"layout", func(c *Config) { c.Layout = "tape" }, "unknown layout"},
		{"window", func(c *Config) { c.Window = 5 * time.Minute }, "window"},
		{"hours", func(c *Config) { c.Hours = -1 }, "hours"},
		{"too few records", func(c *Config) { c.Records = 100 }, "scenarios need"},
		{"tgw", func(c *Config) { c.Format, _ = flowlog.ParseFormat(flowlog.TGWDefaultFormatString) }, "transit gateway"},
		{"account", func(c *Config) { c.Accounts = []string{"12"} }, "12 digits"},
		{"region", func(c *Config) { c.Regions = []string{"moon"} }, "region"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig(t)
			tc.edit(&c)
			_, err := Run(context.Background(), c)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a config error about %q", err, tc.want)
			}
		})
	}
}

func TestPresets(t *testing.T) {
	for _, name := range Presets {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.withDefaults(); err != nil && !strings.Contains(err.Error(), "output directory") {
			t.Errorf("%s: %v", name, err)
		}
	}
	c, _ := Preset("day-20m")
	if c.Records != 20_000_000 || c.ENIs != 2000 || c.VPCs != 4 || c.Peers != 50_000 || c.Hours != 24 ||
		c.Window != time.Minute || c.Format != nil || len(c.Accounts) != 1 || len(c.Regions) != 1 {
		t.Errorf("day-20m does not match BENCHMARK.md: %+v", c)
	}
	if _, err := Preset("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
}

func TestProgressAndCancel(t *testing.T) {
	c := testConfig(t)
	var last Progress
	calls := 0
	c.Progress = func(p Progress) { last = p; calls++ }
	s := mustRun(t, c)
	if calls != s.Files || last.Records != c.Records || last.Files != last.TotalFiles {
		t.Errorf("progress: %d calls, last %+v, summary %+v", calls, last, s.Totals)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c = testConfig(t)
	if _, err := Run(ctx, c); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled run returned %v", err)
	}
}

// TestWindows checks start and end against the aggregation interval.
func TestWindows(t *testing.T) {
	for _, w := range []time.Duration{time.Minute, 10 * time.Minute} {
		t.Run(w.String(), func(t *testing.T) {
			var out bytes.Buffer
			c := testConfig(t)
			c.Layout, c.Stdout, c.Records, c.Window, c.Hours = LayoutStdout, &out, 20_000, w, 3
			mustRun(t, c)
			ws := int64(w.Seconds())
			t0, t1 := unix(c.Start), unix(c.Start)+3*3600
			for _, r := range decodeBytes(t, out.Bytes(), nil) {
				if r.end < t0 || r.end >= t1 || r.start > r.end || r.start < r.end-r.end%ws {
					t.Fatalf("record outside its %v window or the run: %s", w, r.line)
				}
				if r.status == "NODATA" && (r.start%ws != 0 || r.end-r.start >= ws || w == time.Minute && r.end-r.start != ws-1) {
					t.Fatalf("NODATA does not span the window: %s", r.line)
				}
			}
		})
	}
}

// TestAccountsAndRegions checks that each flow log (account and region)
// gets its own files and that records stay in their account's files.
func TestAccountsAndRegions(t *testing.T) {
	c, err := Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	c.Out, c.Records, c.Hours = t.TempDir(), 30_000, 1
	s := mustRun(t, c)
	files := outputFiles(t, c.Out)
	if s.Files != 24 || len(files) != 24 {
		t.Fatalf("%d files (summary %d), want 12 per flow log", len(files), s.Files)
	}
	accounts := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(c.Out, f)
		k, ok := decode.ParseObjectKey(filepath.ToSlash(rel))
		if !ok {
			t.Fatalf("key %s", rel)
		}
		accounts[k.Account+"/"+k.Region] = true
		for _, r := range decodeAll(t, []string{f}, nil) {
			if !strings.Contains(r.line, " "+k.Account+" ") || !strings.Contains(r.line, " "+k.Region+" ") {
				t.Fatalf("record of another account or region in %s: %s", rel, r.line)
			}
		}
	}
	if !accounts["111122223333/us-east-1"] || !accounts["444455556666/eu-west-1"] {
		t.Errorf("flow logs %v", accounts)
	}
}

// TestSmallNetworks runs every scenario on the smallest networks: the run
// succeeds or says the network is too small, and never panics.
func TestSmallNetworks(t *testing.T) {
	for _, enis := range []int{13, 14, 16, 20, 30} {
		c := testConfig(t)
		c.VPCs, c.ENIs, c.Peers, c.Records, c.Hours = 1, enis, 10, 20_000, 2
		c.Layout, c.Stdout = LayoutStdout, io.Discard
		s, err := Run(context.Background(), c)
		switch {
		case err != nil && !errors.Is(err, ErrConfig):
			t.Errorf("%d interfaces: %v", enis, err)
		case err == nil && s.Records != c.Records:
			t.Errorf("%d interfaces: %d records", enis, s.Records)
		}
		c.Scenarios = nil // the baseline alone always fits
		if s, err := Run(context.Background(), c); err != nil || s.Records != c.Records {
			t.Errorf("%d interfaces, no scenario: %d records, %v", enis, s.Records, err)
		}
	}
}
