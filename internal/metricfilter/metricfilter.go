// Package metricfilter keeps the metric filter definitions of a data folder:
// per dataset (the log group of CloudWatch Logs), a named filter pattern and
// the one metric transformation it feeds, with the limits AWS sets
// (spec/metric-filters.md §5). The definitions live in one JSON file,
// DIR/metricfilters/filters.json, replaced atomically under a file lock, so
// the CLI and a running server read and change the same set: every call
// reads the file afresh, and Revision tells a reader cheaply whether it
// changed.
package metricfilter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flowlens/flowlens/internal/atomicfile"
	"github.com/flowlens/flowlens/internal/filterpattern"
)

// Limits of AWS's PutMetricFilter.
const (
	MaxPerDataset = 100
	MaxNameLen    = 512
	MaxMetricLen  = 255
	MaxValueLen   = 100
	MaxDimensions = 3
	fileName      = "filters.json"
	folderName    = "metricfilters"
	lockName      = "filters.lock"
)

var (
	// ErrNotFound: no filter of that name in that dataset.
	ErrNotFound = errors.New("metric filter not found")
	// ErrExists: Add of a name the dataset already has.
	ErrExists = errors.New("metric filter already exists")
	// ErrInvalid marks a definition that breaks a rule (errors.Is); the
	// message says which. A bad pattern also matches filterpattern.ErrInvalid.
	ErrInvalid = errors.New("invalid metric filter")
	// ErrLimit: the dataset already has MaxPerDataset filters.
	ErrLimit = errors.New("metric filter limit exceeded")
)

// Units are the StandardUnit values a metric transformation may name.
var Units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// Transformation is what a match publishes (AWS's MetricTransformation; the
// JSON names are AWS's).
type Transformation struct {
	MetricName      string `json:"metricName"`
	MetricNamespace string `json:"metricNamespace"`
	// MetricValue is a number ("1") or an extracted value ("$bytes",
	// "$.latency" for JSON patterns).
	MetricValue string `json:"metricValue"`
	// DefaultValue is published for every event that does not match.
	DefaultValue *float64 `json:"defaultValue,omitempty"`
	// Dimensions maps a dimension name to an extracted value ("$srcaddr").
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Unit is a StandardUnit; empty means None.
	Unit string `json:"unit,omitempty"`
}

// Filter is one metric filter.
type Filter struct {
	// Dataset is the dataset (log group) whose ingested records it reads.
	Dataset string `json:"dataset"`
	Name    string `json:"filterName"`
	Pattern string `json:"filterPattern"`
	// Metric is the transformation (AWS allows exactly one per filter).
	Metric Transformation `json:"metricTransformation"`
	// CreationTime is in epoch milliseconds. The filter counts records
	// ingested after it.
	CreationTime int64 `json:"creationTime"`
}

// Created returns CreationTime as a time.
func (f *Filter) Created() time.Time { return time.UnixMilli(f.CreationTime).UTC() }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks f against AWS's rules and returns its parsed pattern.
func (f *Filter) Validate() (*filterpattern.Pattern, error) {
	if f.Dataset == "" {
		return nil, invalid("a metric filter belongs to a dataset")
	}
	if err := checkName("filter name", f.Name, MaxNameLen, ":*"); err != nil {
		return nil, err
	}
	p, err := filterpattern.Parse(f.Pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: filter pattern %w", ErrInvalid, err)
	}
	m := &f.Metric
	if err := checkName("metric name", m.MetricName, MaxMetricLen, ":*$"); err != nil {
		return nil, err
	}
	if err := checkName("metric namespace", m.MetricNamespace, MaxMetricLen, ":*$"); err != nil {
		return nil, err
	}
	if m.MetricValue == "" || len(m.MetricValue) > MaxValueLen {
		return nil, invalid("the metric value is a number or an extracted value such as $bytes, of 1 to %d characters", MaxValueLen)
	}
	if err := checkRef(p, "metric value", m.MetricValue, true); err != nil {
		return nil, err
	}
	if len(m.Dimensions) > MaxDimensions {
		return nil, invalid("a metric has at most %d dimensions (this one has %d)", MaxDimensions, len(m.Dimensions))
	}
	if len(m.Dimensions) > 0 {
		if m.DefaultValue != nil {
			return nil, invalid("a default value cannot be combined with dimensions")
		}
		if p.Kind() != filterpattern.KindSpace && p.Kind() != filterpattern.KindJSON {
			return nil, invalid("dimensions need a space-delimited or JSON pattern (they name extracted values)")
		}
	}
	for _, k := range slices.Sorted(mapsKeys(m.Dimensions)) {
		if err := checkName("dimension name", k, MaxMetricLen, ":*$"); err != nil {
			return nil, err
		}
		if err := checkRef(p, "dimension "+k, m.Dimensions[k], false); err != nil {
			return nil, err
		}
	}
	if m.Unit != "" && !slices.Contains(Units, m.Unit) {
		return nil, invalid("unknown unit %q (one of %s)", m.Unit, strings.Join(Units, ", "))
	}
	return p, nil
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func checkName(what, s string, maxLen int, banned string) error {
	if s == "" || len(s) > maxLen {
		return invalid("the %s has 1 to %d characters", what, maxLen)
	}
	if i := strings.IndexAny(s, banned); i >= 0 {
		return invalid("the %s %q cannot contain %q", what, s, s[i:i+1])
	}
	return nil
}

// checkRef checks a metric value (numeric allowed) or dimension value.
func checkRef(p *filterpattern.Pattern, what, v string, numeric bool) error {
	if numeric {
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return nil
		}
	}
	switch {
	case strings.HasPrefix(v, "$."):
		if p.Kind() != filterpattern.KindJSON {
			return invalid("the %s %q reads a JSON field, but the pattern is not a JSON pattern", what, v)
		}
		return nil
	case strings.HasPrefix(v, "$"):
		if !p.HasKey(v) {
			names := p.Names()
			if len(names) == 0 {
				return invalid("the %s %q names no value the pattern extracts (only space-delimited patterns extract values)", what, v)
			}
			return invalid("the %s %q names no value the pattern extracts (it extracts %s)", what, v, strings.Join(names, ", "))
		}
		return nil
	}
	if numeric {
		return invalid("the %s %q is neither a number nor an extracted value such as $bytes", what, v)
	}
	return invalid("the %s %q is not an extracted value such as $srcaddr", what, v)
}

// Store is the metric filter definitions of one data folder.
type Store struct {
	dir string
	now func() time.Time
}

// Open returns the store of data folder dataDir (nothing is read yet).
func Open(dataDir string) *Store {
	return &Store{dir: filepath.Join(dataDir, folderName), now: time.Now}
}

type document struct {
	Revision int64    `json:"revision"`
	Filters  []Filter `json:"filters"`
}

// Load returns every filter (ordered by dataset, then name) and the
// revision of the set, which grows with every change.
func (s *Store) Load(ctx context.Context) ([]Filter, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	unlock, err := s.lock(false)
	if err != nil {
		return nil, 0, err
	}
	defer unlock()
	d, err := s.read()
	return d.Filters, d.Revision, err
}

// List returns the filters of dataset ("" for every dataset) whose name
// starts with prefix.
func (s *Store) List(ctx context.Context, dataset, prefix string) ([]Filter, error) {
	all, _, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	var out []Filter
	for _, f := range all {
		if (dataset == "" || f.Dataset == dataset) && strings.HasPrefix(f.Name, prefix) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Get returns one filter.
func (s *Store) Get(ctx context.Context, dataset, name string) (Filter, error) {
	fs, err := s.List(ctx, dataset, name)
	if err != nil {
		return Filter{}, err
	}
	for _, f := range fs {
		if f.Name == name {
			return f, nil
		}
	}
	return Filter{}, fmt.Errorf("%w: %q in dataset %q", ErrNotFound, name, dataset)
}

// Add creates a filter; it fails with ErrExists when the dataset has one of
// that name.
func (s *Store) Add(ctx context.Context, f Filter) (Filter, error) { return s.put(ctx, f, false) }

// Put creates or replaces a filter (AWS's PutMetricFilter); a replaced
// filter keeps its creation time.
func (s *Store) Put(ctx context.Context, f Filter) (Filter, error) { return s.put(ctx, f, true) }

func (s *Store) put(ctx context.Context, f Filter, replace bool) (Filter, error) {
	if _, err := f.Validate(); err != nil {
		return Filter{}, err
	}
	err := s.update(ctx, func(d *document) error {
		n := 0
		for i, g := range d.Filters {
			if g.Dataset != f.Dataset {
				continue
			}
			n++
			if g.Name == f.Name {
				if !replace {
					return fmt.Errorf("%w: %q in dataset %q", ErrExists, f.Name, f.Dataset)
				}
				if f.CreationTime == 0 {
					f.CreationTime = g.CreationTime
				}
				d.Filters[i] = f
				return nil
			}
		}
		if n >= MaxPerDataset {
			return fmt.Errorf("%w: dataset %q has %d metric filters, the most allowed", ErrLimit, f.Dataset, MaxPerDataset)
		}
		if f.CreationTime == 0 {
			f.CreationTime = s.now().UnixMilli()
		}
		d.Filters = append(d.Filters, f)
		return nil
	})
	return f, err
}

// Delete removes a filter.
func (s *Store) Delete(ctx context.Context, dataset, name string) error {
	return s.update(ctx, func(d *document) error {
		for i, g := range d.Filters {
			if g.Dataset == dataset && g.Name == name {
				d.Filters = slices.Delete(d.Filters, i, i+1)
				return nil
			}
		}
		return fmt.Errorf("%w: %q in dataset %q", ErrNotFound, name, dataset)
	})
}

func (s *Store) update(ctx context.Context, f func(*document) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	d, err := s.read()
	if err != nil {
		return err
	}
	if err := f(&d); err != nil {
		return err
	}
	d.Revision++
	slices.SortFunc(d.Filters, func(a, b Filter) int {
		if c := strings.Compare(a.Dataset, b.Dataset); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.dir, fileName), append(b, '\n'), 0o600)
}

func (s *Store) read() (document, error) {
	var d document
	path := filepath.Join(s.dir, fileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("metric filters: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("metric filters %s: %w", path, err)
	}
	return d, nil
}

func (s *Store) lock(exclusive bool) (func(), error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("metric filter folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("metric filter lock: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("metric filter lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
