package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/flowlens/flowlens/internal/generate"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func generateExamples() string {
	var b strings.Builder
	b.WriteString(`  flowlens generate --out ./logs --records 1000000 --seed 1
  flowlens generate --preset day-20m --out ./day-20m          # the standard benchmark dataset
  flowlens generate --preset demo --out ./demo --truth ./demo/truth.json
  flowlens generate --layout stdout --records 20 --format all-v5
  flowlens generate --out ./pq --layout parquet --per-hour --format '${version} ${srcaddr} ${dstaddr} ${dstport} ${action} ${log-status}'
  flowlens generate --out ./cw --layout cloudwatch --records 200000 --scenario none --scenario portscan=2,ports=3000

Layouts:
  s3          AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz,
              one gzip text file with the header line per flow log (account and region) and 5 minutes
  hive        the same with hive-compatible prefixes (aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/month=…/day=…)
  parquet     the same keys ending .log.parquet: Parquet files (gzip codec), columns named with '_'
  cloudwatch  <out>/<log-group>/<eni>-all.json per interface, shaped like 'aws logs get-log-events' output
              ({"events":[{"timestamp": start×1000, "message": "<record>", "ingestionTime": …}], …})
  stdout      plain record lines, no header
  --per-hour adds the hour level (HH/ or hour=HH/) to s3, hive and parquet keys; --hive gives parquet
  keys hive prefixes. Every layout except stdout also writes <out>/inventory.json (the JSON of
  'aws ec2 describe-network-interfaces') unless --inventory says elsewhere or -.

The model: VPCs (10.N.0.0/16) across accounts and regions, public, private and data subnets in
three AZs, a NAT gateway, a load balancer and an endpoint interface per AZ, instances by tier
(public web, web behind the load balancer, app with ECS tasks, database, cache, broker,
workers, a bastion) whose activity is Zipf-distributed, internet and on-premises peers, and a
diurnal load (quiet around 04:00 UTC, busiest late afternoon). Conversations use ephemeral
ports and appear at both ends (each direction, each logged interface); NAT gateway and load
balancer interfaces show the real ends in pkt-srcaddr/pkt-dstaddr; S3 and DynamoDB traffic
through gateway endpoints names the service in pkt-*-aws-service; egress records carry
traffic-path; rejected probes, network ACL denies, NODATA and SKIPDATA records are mixed in.
A --preset sets everything; flags given with it override the preset's values.

Formats (--format): a ${field} string, or a preset:
`)
	for _, p := range generate.FormatPresets {
		fmt.Fprintf(&b, "  %-10s  %s\n", p.Name, p.Doc)
	}
	b.WriteString(`
Scenarios (--scenario, repeatable; a comma-separated list where a kind[=COUNT] starts a scenario
and key=value options tune it: rate (events/minute/source), duration, at (+OFFSET or HH:MM),
ports, port, targets, bytes (e.g. 20GiB); "none" clears the list, "standard" is the default mix:
ssh-bruteforce=2, rdp-bruteforce, portscan, hscan, exfil, cross-az, nat-heavy). Sizes left out
scale with --records. --truth FILE records what was injected: sources, targets, ports, times,
records and bytes.
`)
	for _, h := range generate.ScenarioHelp {
		fmt.Fprintf(&b, "  %-15s %s\n  %-15s e.g. %s\n", h.Kind, h.Text, "", h.Example)
	}
	b.WriteString(`
The same seed and flags give byte-identical output whatever --workers is.
`)
	return b.String()
}

func runGenerate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "generate", "generate [flags]", generateExamples())
	preset := fs.String("preset", "", "start from a preset: "+strings.Join(generate.Presets, ", "))
	out := fs.String("out", "", "output directory (not needed for --layout stdout)")
	records := fs.Int64("records", 1_000_000, "exact number of records")
	seed := fs.Int64("seed", 1, "random seed (same seed and flags → same bytes)")
	format := fs.String("format", "default", "flow log format: a preset (see below) or a ${field} string")
	layoutName := fs.String("layout", "s3", "s3, hive, parquet, cloudwatch or stdout")
	perHour := fs.Bool("per-hour", false, "hourly partitions in S3 keys")
	hive := fs.Bool("hive", false, "hive-compatible key prefixes (for --layout parquet; --layout hive implies it)")
	start := fs.String("start", generate.DefaultStart.Format(time.RFC3339), "first instant: RFC 3339, YYYY-MM-DD, or today/yesterday (midnight UTC)")
	hours := fs.Float64("hours", 24, "length of the time span in hours")
	window := fs.Duration("window", time.Minute, "aggregation interval: 1m or 10m")
	var scenarios stringList
	fs.Var(&scenarios, "scenario", "scenarios to inject (repeatable; see below)")
	truth := fs.String("truth", "", "write the injected ground truth as JSON to this file")
	inventory := fs.String("inventory", "", "where to write the interface inventory (default <out>/inventory.json, - for none)")
	accounts := fs.String("accounts", "", "comma-separated 12-digit account IDs")
	regions := fs.String("regions", "", "comma-separated regions")
	vpcs := fs.Int("vpcs", 0, "number of VPCs (default 2)")
	enis := fs.Int("enis", 0, "number of network interfaces, managed ones included (default 200)")
	peers := fs.Int("peers", 0, "number of remote peers, half on the internet (default 5000)")
	rejectShare := fs.Float64("reject-share", 0.05, "share of REJECT records")
	nodataShare := fs.Float64("nodata-share", 0.005, "share of NODATA records")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "files generated in parallel (the output does not depend on it)")
	gzipLevel := fs.Int("gzip-level", 0, "gzip level 1-9 (0: fastest)")
	logGroup := fs.String("log-group", "vpc-flow-logs", "log group directory of the cloudwatch layout")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg := generate.DefaultConfig()
	if *preset != "" {
		var err error
		if cfg, err = generate.Preset(*preset); err != nil {
			return usageError("%v", err)
		}
	}
	if *preset == "" || set["records"] {
		cfg.Records = *records
	}
	if *preset == "" || set["seed"] {
		cfg.Seed = *seed
	}
	if *preset == "" || set["format"] {
		f, err := generate.ParseFormat(*format)
		if err != nil {
			return usageError("--format: %v", strings.TrimPrefix(err.Error(), generate.ErrConfig.Error()+": "))
		}
		cfg.Format = f
	}
	cfg.Out = *out
	cfg.Layout = generate.Layout(*layoutName)
	cfg.PerHour, cfg.Hive = *perHour, *hive
	if set["start"] || *preset == "" {
		t, err := parseStart(*start)
		if err != nil {
			return usageError("--start: %v", err)
		}
		cfg.Start = t
	}
	if set["hours"] || *preset == "" {
		cfg.Hours = *hours
	}
	if set["window"] || *preset == "" {
		cfg.Window = *window
	}
	if len(scenarios) > 0 {
		list := cfg.Scenarios
		if *preset == "" {
			list = nil // the standard mix applies only when no --scenario is given
		}
		for _, s := range scenarios {
			var err error
			if list, err = generate.ParseScenarios(list, s, cfg.Start); err != nil {
				return usageError("--scenario %s: %v", s, strings.TrimPrefix(err.Error(), generate.ErrConfig.Error()+": "))
			}
		}
		cfg.Scenarios = list
	}
	if *accounts != "" {
		cfg.Accounts = strings.Split(*accounts, ",")
	}
	if *regions != "" {
		cfg.Regions = strings.Split(*regions, ",")
	}
	if *vpcs != 0 {
		cfg.VPCs = *vpcs
	}
	if *enis != 0 {
		cfg.ENIs = *enis
	}
	if *peers != 0 {
		cfg.Peers = *peers
	}
	if set["reject-share"] || *preset == "" {
		cfg.RejectShare = *rejectShare
	}
	if set["nodata-share"] || *preset == "" {
		cfg.NoDataShare = *nodataShare
	}
	cfg.Workers, cfg.GzipLevel, cfg.LogGroup = *workers, *gzipLevel, *logGroup
	cfg.Truth, cfg.Inventory = *truth, *inventory
	cfg.Stdout = env.Stdout
	if env.StderrIsTerminal && !*quiet && cfg.Layout != generate.LayoutStdout {
		cfg.Progress = func(p generate.Progress) {
			fmt.Fprintf(env.Stderr, "\rgenerate: %d/%d files, %d/%d records, %.1f MB written",
				p.Files, p.TotalFiles, p.Records, p.TotalRecords, float64(p.OutputBytes)/1e6)
		}
	}
	sum, err := generate.Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprintln(env.Stderr)
	}
	if errors.Is(err, syscall.EPIPE) {
		return nil // stdout closed early (| head): not an error
	}
	if err != nil {
		if errors.Is(err, generate.ErrConfig) {
			return usageError("%s", strings.TrimPrefix(err.Error(), generate.ErrConfig.Error()+": "))
		}
		return err
	}
	if *quiet {
		return nil
	}
	w := env.Stderr
	if cfg.Layout != generate.LayoutStdout {
		w = env.Stdout
	}
	if *jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	rate := float64(sum.Records) / sum.Elapsed.Seconds()
	fmt.Fprintf(w, "generated %d records (%d REJECT, %d NODATA, %d SKIPDATA) from %d interfaces in %d files, %.1f MB, %s (%.0f records/s)\n",
		sum.Records, sum.Reject, sum.NoData, sum.SkipData, sum.Interfaces, sum.Files, float64(sum.OutputBytes)/1e6,
		sum.Elapsed.Round(time.Millisecond), rate)
	for _, in := range sum.Truth.Scenarios {
		fmt.Fprintf(w, "  %-15s from %-15s %6d records %s – %s\n", in.Kind, in.Source, in.Records,
			in.First.Format("15:04"), in.Last.Format("15:04"))
	}
	return nil
}

// parseStart reads RFC 3339, a date, or today/yesterday.
func parseStart(s string) (time.Time, error) {
	now := time.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch s {
	case "today":
		return midnight, nil
	case "yesterday":
		return midnight.AddDate(0, 0, -1), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339 (2026-01-15T00:00:00Z), a date (2026-01-15), today or yesterday", s)
}
