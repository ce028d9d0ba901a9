package filtereval

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/decode/record"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/store"
)

func batchOf(t *testing.T, lines ...string) *flowlog.Batch {
	t.Helper()
	f := flowlog.DefaultFormat()
	d := record.NewDecoder(f)
	b := flowlog.NewBatch(f, len(lines))
	for i, l := range lines {
		if e := d.DecodeLine(b, []byte(l), int64(i+1)); e != nil {
			t.Fatal(e)
		}
	}
	return b
}

func line(src string, port int, bytes string, start int64, action string) string {
	return fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f60718 %s 10.0.1.5 40000 %d 6 3 %s %d %d %s OK", src, port, bytes, start, start+10, action)
}

func newEval(t *testing.T, cfg Config, fs ...metricfilter.Filter) *Evaluator {
	t.Helper()
	dir := t.TempDir()
	st := metricfilter.Open(dir)
	for _, f := range fs {
		if _, err := st.Add(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Dir = dir
	e, err := New(cfg, Deps{Filters: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop(context.Background()) })
	return e
}

func commit(e *Evaluator, dataset string, b *flowlog.Batch, ok bool) {
	tx := e.ObserveFile(dataset, store.Source{Key: "k"})
	tx.Append(b)
	if ok {
		tx.Committed()
	} else {
		tx.RolledBack()
	}
}

func points(t *testing.T, e *Evaluator, ns, metric string, dims map[string]string) []Datapoint {
	t.Helper()
	dps, err := e.Datapoints(Query{Namespace: ns, Metric: metric, Dimensions: dims, Start: time.Unix(0, 0), End: time.Unix(1<<40, 0), Period: 60})
	if err != nil {
		t.Fatal(err)
	}
	return dps
}

// TestEmission: §5.3's semantics: one sample per match (metricValue), one
// per other record with defaultValue, nothing for a minute without records,
// nothing for a non-numeric extracted value, nothing from a rolled-back
// file; dimensions make series.
func TestEmission(t *testing.T) {
	zero := 0.0
	const m0 = 1717171200 // a minute boundary
	e := newEval(t, Config{Keep: 100 * 365 * 24 * time.Hour},
		metricfilter.Filter{Dataset: "prod", Name: "ssh", Pattern: `[..., dstport = 22, protocol, packets, bytes, start, end, action, status]`,
			Metric: metricfilter.Transformation{MetricNamespace: "VPC", MetricName: "SSH", MetricValue: "1", DefaultValue: &zero}},
		metricfilter.Filter{Dataset: "prod", Name: "bytes", Pattern: `[..., srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action = REJECT, status]`,
			Metric: metricfilter.Transformation{MetricNamespace: "VPC", MetricName: "RejectedBytes", MetricValue: "$bytes", Dimensions: map[string]string{"Source": "$srcaddr"}}},
	)
	commit(e, "prod", batchOf(t,
		line("198.51.100.1", 22, "100", m0+1, "REJECT"),
		line("198.51.100.1", 22, "50", m0+2, "REJECT"),
		line("198.51.100.2", 443, "7", m0+3, "REJECT"),
		line("198.51.100.2", 443, "9", m0+120, "ACCEPT"),
	), true)
	commit(e, "prod", batchOf(t, line("198.51.100.3", 22, "1000", m0+5, "REJECT")), false) // rolled back
	commit(e, "other", batchOf(t, line("198.51.100.3", 22, "1000", m0+5, "REJECT")), true) // no filters there

	dps := points(t, e, "VPC", "SSH", nil)
	if len(dps) != 2 || dps[0].Sum != 2 || dps[0].SampleCount != 3 || dps[1].Sum != 0 || dps[1].SampleCount != 1 {
		t.Fatalf("SSH datapoints %+v", dps)
	}
	if dps[0].Timestamp.Unix() != m0 || dps[1].Timestamp.Unix() != m0+120 {
		t.Fatalf("minutes %v %v", dps[0].Timestamp, dps[1].Timestamp)
	}
	one := points(t, e, "VPC", "RejectedBytes", map[string]string{"Source": "198.51.100.1"})
	if len(one) != 1 || one[0].Sum != 150 || one[0].Minimum != 50 || one[0].Maximum != 100 {
		t.Fatalf("RejectedBytes{198.51.100.1} %+v", one)
	}
	if two := points(t, e, "VPC", "RejectedBytes", map[string]string{"Source": "198.51.100.2"}); len(two) != 1 || two[0].Sum != 7 {
		t.Fatalf("RejectedBytes{198.51.100.2} %+v", two)
	}
	if none := points(t, e, "VPC", "RejectedBytes", nil); len(none) != 0 {
		t.Fatalf("RejectedBytes without dimensions %+v", none)
	}
	// A NODATA record's bytes are "-": nothing is published.
	commit(e, "prod", batchOf(t, "2 111122223333 eni-0a1b2c3d4e5f60718 - - - - - - - 1717171200 1717171260 - NODATA"), true)
	if n := len(e.Series()); n != 3 {
		t.Fatalf("%d series", n)
	}
	// Period aggregation.
	p5, _ := e.Datapoints(Query{Namespace: "VPC", Metric: "SSH", Start: time.Unix(m0, 0), End: time.Unix(m0+600, 0), Period: 300})
	if len(p5) != 1 || p5[0].Sum != 2 || p5[0].SampleCount != 5 {
		t.Fatalf("5-minute datapoints %+v", p5)
	}
	// Survives a restart.
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	e2, _ := New(Config{Dir: e.cfg.Dir, Keep: e.cfg.Keep}, Deps{Filters: e.deps.Filters})
	if err := e2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e2.Stop(context.Background())
	if dps := points(t, e2, "VPC", "SSH", nil); len(dps) != 2 || dps[0].Sum != 2 {
		t.Fatalf("after restart %+v", dps)
	}
	// A new source after the restart joins its series, not a second one.
	commit(e2, "prod", batchOf(t, line("198.51.100.1", 22, "1", m0+4, "REJECT")), true)
	if one := points(t, e2, "VPC", "RejectedBytes", map[string]string{"Source": "198.51.100.1"}); len(one) != 1 || one[0].Sum != 151 {
		t.Fatalf("after restart %+v", one)
	}
}

// TestMaxSeries: past MaxSeries dimension combinations samples are dropped
// and counted.
func TestMaxSeries(t *testing.T) {
	e := newEval(t, Config{MaxSeries: 2}, metricfilter.Filter{Dataset: "prod", Name: "bySrc", Pattern: `[..., srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, status]`,
		Metric: metricfilter.Transformation{MetricNamespace: "VPC", MetricName: "Records", MetricValue: "1", Dimensions: map[string]string{"Source": "$srcaddr"}}})
	var lines []string
	for i := range 5 {
		lines = append(lines, line(fmt.Sprint("198.51.100.", i+1), 22, "1", 1717171200, "ACCEPT"))
	}
	commit(e, "prod", batchOf(t, lines...), true)
	if n := len(e.Series()); n != 2 {
		t.Fatalf("%d series, want 2", n)
	}
	if d := e.dropped["prod\x00bySrc"]; d != 3 {
		t.Fatalf("dropped %v, want 3", d)
	}
}
