package filtereval

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns a Prometheus collector of the evaluator's series:
//
//	flowlens_metric_filter_value_total{dataset,filter,namespace,metric,unit,<dimensions>}
//	flowlens_metric_filter_samples_total{…the same labels}
//	flowlens_metric_filter_matched_records_total{dataset,filter}
//	flowlens_metric_filter_dropped_samples_total{dataset,filter}
//	flowlens_ingest_records_total{dataset}
//
// Dimension names become label names with characters other than letters,
// digits and _ turned into _ (and a dim_ prefix where they would collide).
// It is an unchecked collector: the label sets differ between filters.
func (e *Evaluator) Collector() prometheus.Collector { return collector{e} }

type collector struct{ e *Evaluator }

func (collector) Describe(chan<- *prometheus.Desc) {}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	for _, s := range e.Series() {
		names := []string{"dataset", "filter", "namespace", "metric", "unit"}
		unit := s.Unit
		if unit == "" {
			unit = "None"
		}
		vals := []string{s.Dataset, s.Filter, s.Namespace, s.Metric, unit}
		for _, k := range sortedKeys(s.Dimensions) {
			names = append(names, labelName(k))
			vals = append(vals, s.Dimensions[k])
		}
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("flowlens_metric_filter_value_total",
			"Sum of the values metric filters published (metricValue per match, defaultValue per other record).", names, nil),
			prometheus.CounterValue, s.Total.Sum, vals...)
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("flowlens_metric_filter_samples_total",
			"Number of values metric filters published.", names, nil),
			prometheus.CounterValue, s.Total.SampleCount, vals...)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	fl := []string{"dataset", "filter"}
	for k, v := range e.matched {
		ds, f, _ := strings.Cut(k, "\x00")
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("flowlens_metric_filter_matched_records_total",
			"Ingested records a metric filter matched.", fl, nil), prometheus.CounterValue, v, ds, f)
	}
	for k, v := range e.dropped {
		ds, f, _ := strings.Cut(k, "\x00")
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("flowlens_metric_filter_dropped_samples_total",
			"Samples dropped because their filter has too many dimension combinations.", fl, nil), prometheus.CounterValue, v, ds, f)
	}
	for ds, v := range e.records {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("flowlens_ingest_records_total",
			"Records committed to the store, by dataset.", []string{"dataset"}, nil), prometheus.CounterValue, v, ds)
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range keys(m) {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

var reserved = map[string]bool{"dataset": true, "filter": true, "namespace": true, "metric": true, "unit": true}

// labelName turns a dimension name into a Prometheus label name.
func labelName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			b[i] = '_'
		}
	}
	out := string(b)
	if reserved[out] || strings.HasPrefix(out, "__") {
		out = "dim_" + out
	}
	return out
}
