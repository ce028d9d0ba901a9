package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/alarm"
	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/generate"
	"github.com/flowlens/flowlens/internal/metricfilter"
)

// TestFiltersGeneratedTruth is the test over generated data with
// the generator's truth: a remote-administration brute-force filter
// (rejected TCP to 22 or 3389), evaluated on every record as it is
// ingested, counts what 'flowlens query' of the same condition counts, in
// total and per 5-minute period; an alarm on it (Sum over 5 minutes ≥ 100)
// is in ALARM in every period an injected SSH or RDP brute force covers and
// OK in every quiet period; a backfill of the whole range changes nothing.
func TestFiltersGeneratedTruth(t *testing.T) {
	tmp := t.TempDir()
	data, out := filepath.Join(tmp, "db"), filepath.Join(tmp, "gen")
	// midnight UTC two days ago: the same hours of the day every run, within the 15 days of minutes kept
	start := time.Now().UTC().Add(-48 * time.Hour).Truncate(24 * time.Hour)
	truthFile := filepath.Join(tmp, "truth.json")
	mustStore(t, nil, "generate", "--out", out, "--records", "60000", "--hours", "6", "--seed", "15",
		"--start", start.Format(time.RFC3339), "--truth", truthFile, "--quiet", "--workers", "1",
		"--scenario", "none,ssh-bruteforce=2,rate=30,duration=30m,at=+1h,rdp-bruteforce=1,rate=40,duration=25m,at=+4h")
	var truth generate.Truth
	b, err := os.ReadFile(truthFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	type window struct{ first, last time.Time }
	var attacks []window
	for _, s := range truth.Scenarios {
		if s.Kind == generate.SSHBruteForce || s.Kind == generate.RDPBruteForce {
			attacks = append(attacks, window{s.First, s.Last})
		}
	}
	if len(attacks) != 3 {
		t.Fatalf("truth: %d brute-force sources, want 3", len(attacks))
	}

	const pattern = `[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport = 22 || dstport = 3389, protocol = 6, packets, bytes, start, end, action = REJECT, log_status]`
	mustStore(t, nil, "filters", "add", "--data", data, "--dataset", "prod", "--name", "RemoteAdminRejects", "--pattern", pattern,
		"--metric-namespace", "Security", "--metric-name", "RemoteAdminRejects", "--metric-value", "1")
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "prod", out)

	// The query of the same condition, in total and per 5 minutes.
	const cond = `filter (dstPort = 22 or dstPort = 3389) and protocol = 6 and action = "REJECT"`
	queryRows := func(q string) [][]string {
		t.Helper()
		txt := mustStore(t, nil, "query", "--data", data, "-g", "prod", "--output", "csv", "--limit", "100000", q)
		rows, err := csv.NewReader(strings.NewReader(txt)).ReadAll()
		if err != nil {
			t.Fatalf("%v\n%s", err, txt)
		}
		return rows[1:]
	}
	total, _ := strconv.ParseFloat(queryRows(cond + " | stats count(*) as n")[0][0], 64)
	perBin := map[int64]float64{}
	for _, r := range queryRows(cond + " | stats count(*) as n by bin(5m) as t") {
		ts, err := time.Parse("2006-01-02 15:04:05.000", r[0])
		if err != nil {
			t.Fatalf("bin %q: %v", r[0], err)
		}
		n, _ := strconv.ParseFloat(r[1], 64)
		perBin[ts.Unix()] = n
	}

	ctx := context.Background()
	cfg := filtereval.DefaultConfig()
	cfg.Dir = data
	ev, err := filtereval.New(cfg, filtereval.Deps{Filters: metricfilter.Open(data)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer ev.Stop(ctx)
	var series float64
	for _, s := range ev.Series() {
		if s.Filter == "RemoteAdminRejects" {
			series += s.Total.Sum
		}
	}
	if series != total || total < 1000 {
		t.Fatalf("the filter counted %v, the query %v", series, total)
	}
	dps, err := ev.Datapoints(filtereval.Query{Namespace: "Security", Metric: "RemoteAdminRejects",
		Start: start.Add(-time.Hour), End: start.Add(8 * time.Hour), Period: 300})
	if err != nil {
		t.Fatal(err)
	}
	if len(dps) != len(perBin) {
		t.Fatalf("%d periods with samples, the query has %d", len(dps), len(perBin))
	}
	for _, dp := range dps {
		if want := perBin[dp.Timestamp.Unix()]; dp.Sum != want {
			t.Errorf("period %s: %v, query says %v", dp.Timestamp, dp.Sum, want)
		}
	}

	// The alarm, evaluated at the end of every period of the six hours.
	def := alarm.Definition{Name: "remote-admin-brute-force", Namespace: "Security", MetricName: "RemoteAdminRejects",
		Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 100, ComparisonOperator: "GreaterThanOrEqualToThreshold",
		TreatMissingData: "notBreaching"}
	store := alarm.Open(filepath.Join(tmp, "alarms"))
	if _, err := store.Put(ctx, def); err != nil {
		t.Fatal(err)
	}
	var now time.Time
	ae, err := alarm.New(alarm.Config{}, alarm.Deps{Alarms: store, Metrics: ev, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	alarmed, quiet := 0, 0
	maxQuiet, minAttack := 0.0, 1e18
	for p := start; p.Before(start.Add(6 * time.Hour)); p = p.Add(5 * time.Minute) {
		end := p.Add(5 * time.Minute)
		now = end.Add(time.Second)
		pts, _, err := ae.Points(&def, now)
		if err != nil {
			t.Fatal(err)
		}
		state, reason, _ := alarm.Decide(&def, pts)
		covered, touched := false, false
		for _, a := range attacks {
			if !p.Before(a.first) && !end.After(a.last) {
				covered = true
			}
			// records of an attack start up to a window before their end
			if p.Before(a.last.Add(time.Minute)) && end.After(a.first.Add(-2*time.Minute)) {
				touched = true
			}
		}
		var v float64
		if last := pts[len(pts)-1]; !last.Missing {
			v = last.Value
		}
		switch {
		case covered:
			alarmed++
			minAttack = min(minAttack, v)
			if state != alarm.Alarm {
				t.Errorf("period %s inside a brute force: %s (%s)", p.Format(time.TimeOnly), state, reason)
			}
		case !touched:
			quiet++
			maxQuiet = max(maxQuiet, v)
			if state != alarm.OK {
				t.Errorf("quiet period %s: %s (%s)", p.Format(time.TimeOnly), state, reason)
			}
		}
		// The evaluator itself trips at the first period of the first attack.
		if covered && alarmed == 1 {
			if err := ae.Evaluate(ctx); err != nil {
				t.Fatal(err)
			}
			if it, _ := store.Get(ctx, def.Name); it.State.Value != alarm.Alarm {
				t.Fatalf("Evaluate at %s: %+v", now, it.State)
			}
		}
	}
	t.Logf("threshold 100: the busiest quiet period %v, the quietest attack period %v", maxQuiet, minAttack)
	if alarmed < 8 || quiet < 40 {
		t.Fatalf("%d attack periods, %d quiet ones", alarmed, quiet)
	}

	// A backfill over everything changes nothing.
	if err := ev.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	res := mustStore(t, nil, "filters", "backfill", "--data", data, "--dataset", "prod", "RemoteAdminRejects",
		"--start", start.Add(-time.Hour).Format(time.RFC3339), "--end", start.Add(8*time.Hour).Format(time.RFC3339), "--output", "json")
	var br filtereval.BackfillResult
	if err := json.Unmarshal([]byte(res), &br); err != nil {
		t.Fatal(err)
	}
	if br.Samples != total || br.Records != truth.Totals.Records {
		t.Fatalf("backfill %+v; query %v, truth %d records", br, total, truth.Totals.Records)
	}
}
