package cwlogs

import (
	"errors"
	"sort"

	"github.com/flowlens/flowlens/internal/filterpattern"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/metricfilter"
)

// patternError turns a filter pattern mistake into AWS's error.
func patternError(err error) error {
	if errors.Is(err, filterpattern.ErrInvalid) || errors.Is(err, metricfilter.ErrInvalid) {
		return invalid("Invalid filter pattern or metric transformation: %v", err)
	}
	return err
}

// compileFilter returns the matcher of a FilterLogEvents filterPattern
// (nil: every event). A by-name pattern ($srcaddr = …) reads messages in
// format f.
func compileFilter(pattern string, f *flowlog.Format) (func(string) bool, error) {
	if pattern == "" {
		return nil, nil
	}
	p, err := filterpattern.Parse(pattern)
	if err != nil {
		return nil, patternError(err)
	}
	if p.ByName() {
		return func(msg string) bool {
			_, ok := p.ExtractFormat(msg, f)
			return ok
		}, nil
	}
	return p.Match, nil
}

type transformation struct {
	MetricName      string            `json:"metricName"`
	MetricNamespace string            `json:"metricNamespace"`
	MetricValue     string            `json:"metricValue"`
	DefaultValue    *float64          `json:"defaultValue,omitempty"`
	Dimensions      map[string]string `json:"dimensions,omitempty"`
	Unit            string            `json:"unit,omitempty"`
}

type putMetricFilterIn struct {
	groupNameIn
	FilterName            string           `json:"filterName"`
	FilterPattern         *string          `json:"filterPattern"`
	MetricTransformations []transformation `json:"metricTransformations"`
}

func (s *Server) putMetricFilter(c *call) (any, error) {
	var in putMetricFilterIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if s.deps.Filters == nil {
		return nil, errf("InvalidOperationException", "metric filters are not available on this server")
	}
	if len(in.MetricTransformations) != 1 {
		return nil, invalid("metricTransformations must have exactly 1 element (got %d)", len(in.MetricTransformations))
	}
	if in.FilterPattern == nil {
		return nil, invalid("filterPattern is required (an empty pattern matches every event)")
	}
	g, _, err := s.group(c.ctx, in.ident(), true)
	if err != nil {
		return nil, err
	}
	t := in.MetricTransformations[0]
	f := metricfilter.Filter{Dataset: g.Dataset, Name: in.FilterName, Pattern: *in.FilterPattern, Metric: metricfilter.Transformation{
		MetricName: t.MetricName, MetricNamespace: t.MetricNamespace, MetricValue: t.MetricValue, DefaultValue: t.DefaultValue,
		Dimensions: t.Dimensions, Unit: t.Unit}}
	if _, err := s.deps.Filters.Put(c.ctx, f); err != nil {
		switch {
		case errors.Is(err, metricfilter.ErrLimit):
			return nil, errf("LimitExceededException", "Resource limit exceeded: %v", err)
		case errors.Is(err, metricfilter.ErrNotFound):
			return nil, errGroupNotFound
		}
		return nil, patternError(err)
	}
	return empty{}, nil
}

type metricFilterOut struct {
	FilterName            string           `json:"filterName"`
	FilterPattern         string           `json:"filterPattern"`
	MetricTransformations []transformation `json:"metricTransformations"`
	CreationTime          int64            `json:"creationTime"`
	LogGroupName          string           `json:"logGroupName"`
}

type describeMetricFiltersIn struct {
	LogGroupName     string `json:"logGroupName"`
	FilterNamePrefix string `json:"filterNamePrefix"`
	NextToken        string `json:"nextToken"`
	Limit            *int   `json:"limit"`
	MetricName       string `json:"metricName"`
	MetricNamespace  string `json:"metricNamespace"`
}

func (s *Server) describeMetricFilters(c *call) (any, error) {
	var in describeMetricFiltersIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if s.deps.Filters == nil {
		return nil, errf("InvalidOperationException", "metric filters are not available on this server")
	}
	if in.FilterNamePrefix != "" && in.LogGroupName == "" {
		return nil, invalid("filterNamePrefix needs logGroupName")
	}
	if (in.MetricName == "") != (in.MetricNamespace == "") {
		return nil, invalid("give metricName and metricNamespace together, or neither")
	}
	limit, err := pageLimit(in.Limit, 50, 50, "limit")
	if err != nil {
		return nil, err
	}
	after := ""
	if in.NextToken != "" {
		if after, err = parseNameToken(in.NextToken); err != nil {
			return nil, err
		}
	}
	groups, err := s.groups(c.ctx)
	if err != nil {
		return nil, err
	}
	groupOf := map[string]string{}
	for _, g := range groups {
		groupOf[g.meta.Dataset] = g.meta.Name
	}
	dataset := ""
	if in.LogGroupName != "" {
		g, _, err := s.group(c.ctx, in.LogGroupName, false)
		if err != nil {
			return nil, err
		}
		dataset = g.Dataset
	}
	list, err := s.deps.Filters.List(c.ctx, dataset, in.FilterNamePrefix)
	if err != nil {
		return nil, err
	}
	type keyed struct {
		key string
		out metricFilterOut
	}
	var all []keyed
	for _, f := range list {
		name, ok := groupOf[f.Dataset]
		if !ok {
			continue
		}
		if in.MetricName != "" && (f.Metric.MetricName != in.MetricName || f.Metric.MetricNamespace != in.MetricNamespace) {
			continue
		}
		m := f.Metric
		all = append(all, keyed{name + "\x00" + f.Name, metricFilterOut{FilterName: f.Name, FilterPattern: f.Pattern, CreationTime: f.CreationTime, LogGroupName: name,
			MetricTransformations: []transformation{{MetricName: m.MetricName, MetricNamespace: m.MetricNamespace, MetricValue: m.MetricValue,
				DefaultValue: m.DefaultValue, Dimensions: m.Dimensions, Unit: m.Unit}}}})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].key < all[j].key })
	out := struct {
		MetricFilters []metricFilterOut `json:"metricFilters"`
		NextToken     string            `json:"nextToken,omitempty"`
	}{MetricFilters: []metricFilterOut{}}
	last := ""
	for _, k := range all {
		if in.NextToken != "" && k.key <= after {
			continue
		}
		if len(out.MetricFilters) == limit {
			out.NextToken = nameToken(last)
			break
		}
		last = k.key
		out.MetricFilters = append(out.MetricFilters, k.out)
	}
	return out, nil
}

type deleteMetricFilterIn struct {
	groupNameIn
	FilterName string `json:"filterName"`
}

func (s *Server) deleteMetricFilter(c *call) (any, error) {
	var in deleteMetricFilterIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if s.deps.Filters == nil {
		return nil, errf("InvalidOperationException", "metric filters are not available on this server")
	}
	g, _, err := s.group(c.ctx, in.ident(), false)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Filters.Delete(c.ctx, g.Dataset, in.FilterName); err != nil {
		if errors.Is(err, metricfilter.ErrNotFound) {
			return nil, errf("ResourceNotFoundException", "The specified resource does not exist.")
		}
		return nil, err
	}
	return empty{}, nil
}

type testMetricFilterIn struct {
	FilterPattern    *string  `json:"filterPattern"`
	LogEventMessages []string `json:"logEventMessages"`
}

type filterMatch struct {
	EventNumber     int64             `json:"eventNumber"`
	EventMessage    string            `json:"eventMessage"`
	ExtractedValues map[string]string `json:"extractedValues"`
}

func (s *Server) testMetricFilter(c *call) (any, error) {
	var in testMetricFilterIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.FilterPattern == nil {
		return nil, invalid("filterPattern is required")
	}
	if n := len(in.LogEventMessages); n < 1 || n > 50 {
		return nil, invalid("1 validation error detected: Value at 'logEventMessages' failed to satisfy constraint: Member must have length between 1 and 50 (got %d)", n)
	}
	p, err := filterpattern.Parse(*in.FilterPattern)
	if err != nil {
		return nil, patternError(err)
	}
	out := struct {
		Matches []filterMatch `json:"matches"`
	}{Matches: []filterMatch{}}
	for i, msg := range in.LogEventMessages {
		if vals, ok := p.Extract(msg); ok {
			out.Matches = append(out.Matches, filterMatch{EventNumber: int64(i + 1), EventMessage: msg, ExtractedValues: vals})
		}
	}
	return out, nil
}

// metricFilterCount counts the metric filters of a dataset.
func (s *Server) metricFilterCount(c *call, dataset string) int {
	if s.deps.Filters == nil {
		return 0
	}
	list, err := s.deps.Filters.List(c.ctx, dataset, "")
	if err != nil {
		return 0
	}
	return len(list)
}
