package metricfilter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/filterpattern"
)

const sshPattern = `[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`

func ssh(dataset, name string) Filter {
	return Filter{Dataset: dataset, Name: name, Pattern: sshPattern,
		Metric: Transformation{MetricName: "SSHAccess", MetricNamespace: "LogMetrics", MetricValue: "1"}}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := Open(dir)
	if fs, rev, err := s.Load(ctx); err != nil || len(fs) != 0 || rev != 0 {
		t.Fatalf("empty store: %v %d %v", fs, rev, err)
	}
	a, err := s.Add(ctx, ssh("prod", "SSHAccess"))
	if err != nil {
		t.Fatal(err)
	}
	if a.CreationTime == 0 {
		t.Fatal("no creation time")
	}
	if _, err := s.Add(ctx, ssh("prod", "SSHAccess")); !errors.Is(err, ErrExists) {
		t.Fatalf("second Add: %v", err)
	}
	if _, err := s.Add(ctx, ssh("other", "SSHAccess")); err != nil {
		t.Fatal(err)
	}
	f := ssh("prod", "SSHAccess")
	f.Metric.MetricValue = "$bytes"
	if _, err := s.Put(ctx, f); err != nil {
		t.Fatal(err)
	}
	// A second Store over the same folder (the CLI beside a server) sees it.
	g, err := Open(dir).Get(ctx, "prod", "SSHAccess")
	if err != nil || g.Metric.MetricValue != "$bytes" || g.CreationTime != a.CreationTime {
		t.Fatalf("Get = %+v %v", g, err)
	}
	if fs, _ := s.List(ctx, "prod", ""); len(fs) != 1 {
		t.Fatalf("List(prod) = %v", fs)
	}
	if fs, _ := s.List(ctx, "", "SSH"); len(fs) != 2 {
		t.Fatalf("List(all) = %v", fs)
	}
	_, rev, _ := s.Load(ctx)
	if err := s.Delete(ctx, "prod", "SSHAccess"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "prod", "SSHAccess"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	if _, rev2, _ := s.Load(ctx); rev2 <= rev {
		t.Fatalf("revision %d after %d", rev2, rev)
	}
	for i := range MaxPerDataset {
		if _, err := s.Add(ctx, ssh("full", fmt.Sprint("f", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Add(ctx, ssh("full", "one-more")); !errors.Is(err, ErrLimit) {
		t.Fatalf("Add past the limit: %v", err)
	}
}

func TestValidate(t *testing.T) {
	zero := 0.0
	cases := []struct {
		edit func(*Filter)
		want string
	}{
		{func(f *Filter) { f.Name = "a:b" }, `cannot contain ":"`},
		{func(f *Filter) { f.Name = "" }, "filter name has 1 to 512"},
		{func(f *Filter) { f.Name = strings.Repeat("x", 513) }, "filter name has 1 to 512"},
		{func(f *Filter) { f.Dataset = "" }, "belongs to a dataset"},
		{func(f *Filter) { f.Pattern = "[a, b" }, "position 5"},
		{func(f *Filter) { f.Metric.MetricName = "a$b" }, `cannot contain "$"`},
		{func(f *Filter) { f.Metric.MetricNamespace = "" }, "namespace has 1 to 255"},
		{func(f *Filter) { f.Metric.MetricValue = "$nope" }, "names no value the pattern extracts (it extracts $version"},
		{func(f *Filter) { f.Metric.MetricValue = "lots" }, "neither a number"},
		{func(f *Filter) { f.Metric.MetricValue = "$.x" }, "not a JSON pattern"},
		{func(f *Filter) { f.Metric.Unit = "Furlongs" }, "unknown unit"},
		{func(f *Filter) {
			f.Metric.Dimensions = map[string]string{"a": "$srcaddr", "b": "$dstaddr", "c": "$srcport", "d": "$dstport"}
		}, "at most 3 dimensions"},
		{func(f *Filter) {
			f.Metric.Dimensions = map[string]string{"Src": "$srcaddr"}
			f.Metric.DefaultValue = &zero
		}, "default value cannot be combined"},
		{func(f *Filter) { f.Metric.Dimensions = map[string]string{"Src": "srcaddr"} }, "not an extracted value"},
		{func(f *Filter) { f.Pattern = "REJECT"; f.Metric.Dimensions = map[string]string{"Src": "$srcaddr"} }, "need a space-delimited or JSON pattern"},
		{func(f *Filter) { f.Pattern = "REJECT"; f.Metric.MetricValue = "$bytes" }, "only space-delimited patterns extract"},
	}
	for _, c := range cases {
		f := ssh("prod", "x")
		c.edit(&f)
		_, err := f.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate = %v, want %q", err, c.want)
		}
	}
	f := ssh("prod", "x")
	f.Pattern = "[a, b"
	if _, err := f.Validate(); !errors.Is(err, filterpattern.ErrInvalid) {
		t.Errorf("a bad pattern does not match filterpattern.ErrInvalid: %v", err)
	}
	ok := ssh("prod", "x")
	ok.Metric = Transformation{MetricName: "Bytes", MetricNamespace: "VPC", MetricValue: "$bytes", Unit: "Bytes",
		Dimensions: map[string]string{"SourceAddress": "$srcaddr", "Port": "$7"}}
	if _, err := ok.Validate(); err != nil {
		t.Errorf("valid filter: %v", err)
	}
}
