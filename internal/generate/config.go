// Package generate writes realistic synthetic VPC flow logs with known
// answers: a model of a network (netmodel) produces diurnal baseline traffic
// seen from both ends of every connection, and switchable scenarios (brute
// force, port scans, exfiltration, a chatty cross-AZ service, heavy NAT
// egress) are injected on top and described in a truth file. Output goes to
// S3-style .log.gz files (optionally hive-partitioned or Parquet), CloudWatch
// Logs streams or plain text, in any flow log format, byte-identical for the
// same seed and flags whatever the number of workers.
package generate

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

// Layout is how the output is delivered.
type Layout string

// Layouts.
const (
	// LayoutS3 writes AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/… .log.gz
	// files with a header line, one per flow log and 5 minutes.
	LayoutS3 Layout = "s3"
	// LayoutHive is LayoutS3 with hive-compatible key prefixes.
	LayoutHive Layout = "hive"
	// LayoutParquet is LayoutS3 with Parquet files (gzip codec) as AWS writes them.
	LayoutParquet Layout = "parquet"
	// LayoutCloudWatch writes one log stream per interface (<eni>-all) as
	// get-log-events JSON under <out>/<log-group>/.
	LayoutCloudWatch Layout = "cloudwatch"
	// LayoutStdout writes plain lines (no header) to Config.Stdout.
	LayoutStdout Layout = "stdout"
)

// Layouts lists every layout.
var Layouts = []Layout{LayoutS3, LayoutHive, LayoutParquet, LayoutCloudWatch, LayoutStdout}

// Config says what to generate. Zero values take the defaults of DefaultConfig.
type Config struct {
	// Out is the output directory (unused for LayoutStdout).
	Out string
	// Records is the exact number of records to write.
	Records int64
	// Seed makes the output reproducible.
	Seed int64
	// Format is the flow log format (nil: the default version 2 format).
	Format *flowlog.Format
	Layout Layout
	// Hive and PerHour shape S3 keys (hive-compatible prefixes, hourly
	// partitions); LayoutHive implies Hive.
	Hive, PerHour bool
	// Start and Hours give the time span; Window is the aggregation interval
	// (1 or 10 minutes).
	Start  time.Time
	Hours  float64
	Window time.Duration
	// The network: accounts, regions, VPCs, interfaces (managed ones
	// included) and remote peers.
	Accounts []string
	Regions  []string
	VPCs     int
	ENIs     int
	Peers    int
	// Scenarios to inject. An empty list injects nothing.
	Scenarios []Scenario
	// RejectShare and NoDataShare are the targeted shares of REJECT and
	// NODATA records (scenarios included for REJECT).
	RejectShare, NoDataShare float64
	// Workers generate files in parallel (0: GOMAXPROCS). The output does not depend on it.
	Workers int
	// GzipLevel for .log.gz files (0: fastest).
	GzipLevel int
	// Truth, when set, is where the truth JSON is written.
	Truth string
	// Inventory is where the describe-network-interfaces JSON goes
	// ("": <Out>/inventory.json, "-": nowhere).
	Inventory string
	// LogGroup names the CloudWatch log group directory (default "vpc-flow-logs").
	LogGroup string
	// Stdout receives LayoutStdout output.
	Stdout io.Writer
	// Progress, when set, is called after each file (from one goroutine at a time).
	Progress func(Progress)
}

// Progress reports how far Run is.
type Progress struct {
	Records, TotalRecords int64
	Files, TotalFiles     int
	OutputBytes           int64
	Elapsed               time.Duration
}

// DefaultStart is the default first hour: fixed, so that default runs are reproducible.
var DefaultStart = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

// DefaultConfig returns a small day: 1 M records over 24 hours, 200
// interfaces in two VPCs, the standard scenario mix.
func DefaultConfig() Config {
	spec := netmodel.DefaultSpec()
	return Config{
		Records: 1_000_000, Seed: 1, Layout: LayoutS3,
		Start: DefaultStart, Hours: 24, Window: time.Minute,
		Accounts: spec.Accounts, Regions: spec.Regions, VPCs: spec.VPCs, ENIs: spec.ENIs, Peers: spec.Peers,
		Scenarios:   StandardScenarios(),
		RejectShare: 0.05, NoDataShare: 0.005, Workers: runtime.GOMAXPROCS(0),
	}
}

// Preset returns a named configuration:
//   - "day-20m": the standard benchmark dataset (20 M default-format records
//     over 24 hours in 288 five-minute .log.gz files, 4 VPCs, 2,000
//     interfaces, 50,000 peers, 1-minute windows, a handful of port scanners
//     and a few dozen SSH/RDP brute-force sources);
//   - "demo": a realistic day for 300 interfaces in two accounts and
//     regions, 1.5 M version-5 records with every scenario on;
//   - "small": 100,000 records, for tests and quick looks.
func Preset(name string) (Config, error) {
	c := DefaultConfig()
	switch name {
	case "day-20m":
		c.Records, c.Seed = 20_000_000, 20
		c.VPCs, c.ENIs, c.Peers = 4, 2000, 50_000
		c.Scenarios = []Scenario{
			{Kind: SSHBruteForce, Count: 24}, {Kind: RDPBruteForce, Count: 12},
			{Kind: PortScan, Count: 4}, {Kind: HorizontalScan, Count: 2},
			{Kind: Exfiltration, Count: 1}, {Kind: CrossAZ, Count: 1}, {Kind: NATHeavy, Count: 1},
		}
	case "demo":
		c.Records, c.Seed = 1_500_000, 7
		c.Accounts = []string{"111122223333", "444455556666"}
		c.Regions = []string{"us-east-1", "eu-west-1"}
		c.VPCs, c.ENIs, c.Peers = 3, 300, 8000
		c.Format = flowlog.AllVPCFormat(5)
		c.Scenarios = []Scenario{
			{Kind: SSHBruteForce, Count: 3}, {Kind: RDPBruteForce, Count: 2},
			{Kind: PortScan, Count: 1}, {Kind: HorizontalScan, Count: 1},
			{Kind: Exfiltration, Count: 1}, {Kind: CrossAZ, Count: 1}, {Kind: NATHeavy, Count: 1},
		}
	case "small":
		c.Records, c.ENIs, c.Peers = 100_000, 120, 3000
	default:
		return Config{}, fmt.Errorf("unknown preset %q (known: %s)", name, "day-20m, demo, small")
	}
	return c, nil
}

// Presets lists the preset names.
var Presets = []string{"day-20m", "demo", "small"}

// ErrConfig is matched by every configuration error.
var ErrConfig = errors.New("invalid generate configuration")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// withDefaults fills zero fields and validates.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	if c.Format == nil {
		c.Format = flowlog.DefaultFormat()
	}
	if c.Layout == "" {
		c.Layout = LayoutS3
	}
	if c.Layout == LayoutHive {
		c.Hive = true
	}
	if c.Start.IsZero() {
		c.Start = d.Start
	}
	c.Start = c.Start.UTC()
	if c.Hours == 0 {
		c.Hours = d.Hours
	}
	if c.Window == 0 {
		c.Window = d.Window
	}
	if len(c.Accounts) == 0 {
		c.Accounts = d.Accounts
	}
	if len(c.Regions) == 0 {
		c.Regions = d.Regions
	}
	if c.VPCs == 0 {
		c.VPCs = d.VPCs
	}
	if c.ENIs == 0 {
		c.ENIs = d.ENIs
	}
	if c.Peers == 0 {
		c.Peers = d.Peers
	}
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	if c.LogGroup == "" {
		c.LogGroup = "vpc-flow-logs"
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	switch c.Layout {
	case LayoutS3, LayoutHive, LayoutParquet, LayoutCloudWatch, LayoutStdout:
	default:
		return c, configErr("unknown layout %q (use s3, hive, parquet, cloudwatch or stdout)", c.Layout)
	}
	if c.Layout != LayoutStdout && c.Out == "" {
		return c, configErr("an output directory is needed for layout %s", c.Layout)
	}
	if c.Records < 0 || c.Records > 10_000_000_000 {
		return c, configErr("records must be 0 to 10,000,000,000, got %d", c.Records)
	}
	if !(c.Hours*3600 >= 60) || c.Hours > 24*366 {
		return c, configErr("hours must cover at least a minute and at most a year, got %v", c.Hours)
	}
	if c.Window != time.Minute && c.Window != 10*time.Minute {
		return c, configErr("window must be 1m or 10m (the two AWS aggregation intervals), got %v", c.Window)
	}
	if c.Start.Unix()%60 != 0 {
		return c, configErr("start must be a whole minute, got %s", c.Start.Format(time.RFC3339))
	}
	if c.Format.IsTGW() {
		return c, configErr("transit gateway formats are not generated; use VPC fields")
	}
	for i, ex := range c.Format.Extra {
		if ex {
			return c, configErr("field %q is unknown", c.Format.Fields[i].Name)
		}
	}
	if c.RejectShare < 0 || c.RejectShare > 0.5 || c.NoDataShare < 0 || c.NoDataShare > 0.5 {
		return c, configErr("reject and nodata shares must be between 0 and 0.5")
	}
	if c.GzipLevel < 0 || c.GzipLevel > 9 {
		return c, configErr("gzip level must be 0 to 9")
	}
	for i := range c.Scenarios {
		if err := c.Scenarios[i].validate(); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (c *Config) spec() netmodel.Spec {
	return netmodel.Spec{Accounts: c.Accounts, Regions: c.Regions, VPCs: c.VPCs, ENIs: c.ENIs, Peers: c.Peers, ENIZipf: 1.15, PeerZipf: 1.05}
}
