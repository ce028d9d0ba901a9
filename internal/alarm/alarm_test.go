package alarm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/decode/record"
	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/store"
)

// points turns "0 - X - X" into datapoints (threshold 1, >=).
func points(s string) []Point {
	var out []Point
	for i, f := range strings.Fields(s) {
		p := Point{Start: time.Unix(int64(i*60), 0)}
		switch f {
		case "-":
			p.Missing = true
		case "X":
			p.Value = 5
		}
		out = append(out, p)
	}
	return out
}

// TestDecideTable is the worked table of spec §7.3 (N = 3, M = 3).
func TestDecideTable(t *testing.T) {
	rows := []struct {
		dps  string
		want [4]string // missing, ignore, breaching, notBreaching; "keep" keeps the state
	}{
		{"0 - X - X", [4]string{OK, OK, Alarm, OK}},
		{"- - - - 0", [4]string{OK, OK, OK, OK}},
		{"- - - - -", [4]string{InsufficientData, "keep", Alarm, OK}},
		{"0 X X - X", [4]string{Alarm, Alarm, Alarm, OK}},
		{"- - X - -", [4]string{Alarm, "keep", Alarm, OK}},
	}
	for _, r := range rows {
		for i, treat := range []string{"missing", "ignore", "breaching", "notBreaching"} {
			d := &Definition{EvaluationPeriods: 3, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", TreatMissingData: treat}
			state, reason, keep := Decide(d, points(r.dps))
			got := state
			if keep {
				got = "keep"
			}
			if got != r.want[i] {
				t.Errorf("%s with %s: %s (%s), want %s", r.dps, treat, got, reason, r.want[i])
			}
		}
	}
	// M out of N: 2 of 3.
	d := &Definition{EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
	if s, _, _ := Decide(d, points("0 0 0 X 0 X")); s != Alarm {
		t.Errorf("2 of 3: %s", s)
	}
	if s, _, _ := Decide(d, points("X X X 0 0 X")); s != OK {
		t.Errorf("1 of 3: %s", s)
	}
}

func TestValidate(t *testing.T) {
	good := Definition{Name: "a", Namespace: "n", MetricName: "m", Statistic: "Sum", Period: 300, EvaluationPeriods: 3,
		Threshold: 1, ComparisonOperator: "GreaterThanThreshold", AlarmActions: []string{"alertmanager+http://127.0.0.1:9093"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*Definition)
		want string
	}{
		{func(d *Definition) { d.Period = 90 }, "multiple of 60"},
		{func(d *Definition) { d.Statistic = "p99" }, "unknown statistic"},
		{func(d *Definition) { d.DatapointsToAlarm = 4 }, "datapoints to alarm"},
		{func(d *Definition) { d.ComparisonOperator = ">" }, "unknown comparison"},
		{func(d *Definition) { d.TreatMissingData = "zero" }, "treat-missing-data"},
		{func(d *Definition) { d.EvaluationPeriods = 300 }, "at most one day"},
		{func(d *Definition) { d.OKActions = []string{"ftp://x"} }, "http(s) URL"},
	} {
		d := good
		c.edit(&d)
		if err := d.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate = %v, want %q", err, c.want)
		}
	}
}

// clock is a settable time for the evaluators.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// ingest feeds lines through the metric filter evaluator as a committed
// file.
func ingest(t *testing.T, ev *filtereval.Evaluator, dataset string, lines []string) {
	t.Helper()
	f := flowlog.DefaultFormat()
	d := record.NewDecoder(f)
	b := flowlog.NewBatch(f, len(lines))
	for i, l := range lines {
		if e := d.DecodeLine(b, []byte(l), int64(i+1)); e != nil {
			t.Fatal(e)
		}
	}
	tx := ev.ObserveFile(dataset, store.Source{Key: fmt.Sprint(time.Now().UnixNano())})
	tx.Append(b)
	tx.Committed()
}

func sshLine(src string, start int64) string {
	return fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f60718 %s 10.0.1.5 40000 22 6 3 180 %d %d REJECT OK", src, start, start+10)
}

// TestAlarmLifecycle: an SSH brute force trips the alarm within one period,
// the webhook gets the change (after a failed attempt, retried), the quiet
// period after it returns to OK; state and outbox survive a new evaluator.
func TestAlarmLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var mu sync.Mutex
	var got []map[string]any
	fails := 1
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 && r.URL.Path == "/alarm" {
			fails--
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		m["path"] = r.URL.Path
		got = append(got, m)
	}))
	defer hook.Close()

	filters := metricfilter.Open(dir)
	if _, err := filters.Add(ctx, metricfilter.Filter{Dataset: "prod", Name: "RejectedSSH",
		Pattern: `[version, account, eni, src, dst, sport, dport="22", proto="6", pkts, bytes, wstart, wend, action="REJECT", status]`,
		Metric:  metricfilter.Transformation{MetricName: "RejectedSSH", MetricNamespace: "VPCFlowLogs", MetricValue: "1"}}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2024, 5, 31, 10, 0, 30, 0, time.UTC)}
	mev, err := filtereval.New(filtereval.Config{Dir: dir}, filtereval.Deps{Filters: filters, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := mev.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer mev.Stop(ctx)
	alarms := Open(dir)
	if _, err := alarms.Put(ctx, Definition{Name: "ssh-brute-force", Namespace: "VPCFlowLogs", MetricName: "RejectedSSH",
		Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 10, ComparisonOperator: "GreaterThanOrEqualToThreshold",
		TreatMissingData: "notBreaching", AlarmActions: []string{hook.URL + "/alarm"}, OKActions: []string{hook.URL + "/ok"}}); err != nil {
		t.Fatal(err)
	}
	ae, err := New(Config{}, Deps{Alarms: alarms, Metrics: mev, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	state := func() string {
		it, err := alarms.Get(ctx, "ssh-brute-force")
		if err != nil {
			t.Fatal(err)
		}
		return it.State.Value
	}
	if state() != InsufficientData {
		t.Fatal("a new alarm is not INSUFFICIENT_DATA")
	}
	// Quiet hour: 3 attempts in 10:00–10:05.
	base := clk.now().Truncate(5 * time.Minute).Unix()
	ingest(t, mev, "prod", []string{sshLine("203.0.113.9", base+10), sshLine("203.0.113.9", base+70), sshLine("203.0.113.9", base+130)})
	clk.set(time.Unix(base+305, 0))
	if err := ae.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != OK {
		t.Fatalf("quiet period: %s", s)
	}
	// The attack: 40 attempts in 10:05–10:10, in another dataset 100 more (not counted).
	var attack []string
	for i := range 40 {
		attack = append(attack, sshLine("198.51.100.66", base+300+int64(i*7)))
	}
	ingest(t, mev, "prod", attack)
	ingest(t, mev, "other", attack)
	ingest(t, mev, "other", attack)
	clk.set(time.Unix(base+605, 0)) // one period after the attack began
	if err := ae.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	it, _ := alarms.Get(ctx, "ssh-brute-force")
	if it.State.Value != Alarm || !strings.Contains(it.State.Reason, "1 out of the last 1 datapoints [40 (") {
		t.Fatalf("attack: %+v", it.State)
	}
	// First delivery fails (503), a new evaluator (a restart) retries it
	// after the backoff.
	ae.Deliver(ctx)
	mu.Lock()
	if len(got) != 1 || got[0]["path"] != "/ok" || got[0]["oldState"] != InsufficientData {
		t.Fatalf("first delivery: %v", got)
	}
	got = nil
	mu.Unlock()
	ae2, _ := New(Config{}, Deps{Alarms: alarms, Metrics: mev, Now: clk.now})
	ae2.Deliver(ctx) // not due yet
	clk.set(clk.now().Add(3 * time.Second))
	ae2.Deliver(ctx)
	mu.Lock()
	if len(got) != 1 || got[0]["newState"] != Alarm || got[0]["alarmName"] != "ssh-brute-force" || got[0]["attempts"].(float64) != 1 {
		t.Fatalf("webhook got %v", got)
	}
	mu.Unlock()
	// Evaluating again in ALARM does not notify again.
	clk.set(time.Unix(base+620, 0))
	_ = ae2.Evaluate(ctx)
	ae2.Deliver(ctx)
	// The next quiet period: back to OK, notified.
	clk.set(time.Unix(base+905, 0))
	_ = ae2.Evaluate(ctx)
	ae2.Deliver(ctx)
	mu.Lock()
	if len(got) != 2 || got[1]["newState"] != OK || got[1]["oldState"] != Alarm {
		t.Fatalf("webhook got %v", got)
	}
	mu.Unlock()
	h, _ := alarms.History(ctx, "ssh-brute-force")
	var kinds []string
	for _, x := range h {
		kinds = append(kinds, x.Kind+":"+x.New)
	}
	if strings.Join(kinds, " ") != "Action:OK StateUpdate:OK Action:ALARM Action:OK StateUpdate:ALARM StateUpdate:OK" {
		t.Fatalf("history %v", kinds)
	}
}
