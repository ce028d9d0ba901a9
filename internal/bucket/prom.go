package bucket

import "github.com/prometheus/client_golang/prometheus"

// Collector returns a Prometheus collector of the followed prefixes:
//
//	flowlens_s3_follow_lag_seconds{url,dataset}            now − the newest key time ingested
//	flowlens_s3_follow_objects_total{url,dataset}          objects ingested
//	flowlens_s3_follow_records_total{url,dataset}          records ingested
//	flowlens_s3_follow_rejected_lines_total{url,dataset}   malformed lines kept aside
//	flowlens_s3_follow_errors_total{url,dataset,kind}      kind list: failed listings; kind object: objects that could not be read
//	flowlens_s3_follow_pending_objects{url,dataset}        listed, not yet ingested
//	flowlens_s3_follow_last_list_timestamp_seconds{url,dataset}
func (f *Follower) Collector() prometheus.Collector {
	labels := []string{"url", "dataset"}
	return collector{f: f,
		descLag:     prometheus.NewDesc("flowlens_s3_follow_lag_seconds", "Seconds between now and the newest key time ingested from a followed S3 prefix (0 before the first object).", labels, nil),
		descObjects: prometheus.NewDesc("flowlens_s3_follow_objects_total", "S3 objects ingested from a followed prefix.", labels, nil),
		descRecords: prometheus.NewDesc("flowlens_s3_follow_records_total", "Records ingested from a followed S3 prefix.", labels, nil),
		descRejects: prometheus.NewDesc("flowlens_s3_follow_rejected_lines_total", "Malformed lines of a followed S3 prefix's objects, kept aside.", labels, nil),
		descErrors:  prometheus.NewDesc("flowlens_s3_follow_errors_total", "Failed listings (kind=list) and unreadable objects (kind=object, counted once per round) of a followed S3 prefix.", append(labels, "kind"), nil),
		descPending: prometheus.NewDesc("flowlens_s3_follow_pending_objects", "Objects of a followed S3 prefix listed and not yet ingested.", labels, nil),
		descListed:  prometheus.NewDesc("flowlens_s3_follow_last_list_timestamp_seconds", "When a followed S3 prefix was last listed (Unix seconds).", labels, nil),
	}
}

type collector struct {
	f                                                                                   *Follower
	descLag, descObjects, descRecords, descRejects, descErrors, descPending, descListed *prometheus.Desc
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.descLag, c.descObjects, c.descRecords, c.descRejects, c.descErrors, c.descPending, c.descListed} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.f.Stats().Prefixes {
		ch <- prometheus.MustNewConstMetric(c.descLag, prometheus.GaugeValue, p.LagSeconds, p.URL, p.Dataset)
		ch <- prometheus.MustNewConstMetric(c.descObjects, prometheus.CounterValue, float64(p.Objects), p.URL, p.Dataset)
		ch <- prometheus.MustNewConstMetric(c.descRecords, prometheus.CounterValue, float64(p.Records), p.URL, p.Dataset)
		ch <- prometheus.MustNewConstMetric(c.descRejects, prometheus.CounterValue, float64(p.Rejected), p.URL, p.Dataset)
		ch <- prometheus.MustNewConstMetric(c.descErrors, prometheus.CounterValue, float64(p.ListErrors), p.URL, p.Dataset, "list")
		ch <- prometheus.MustNewConstMetric(c.descErrors, prometheus.CounterValue, float64(p.ObjectErrors), p.URL, p.Dataset, "object")
		ch <- prometheus.MustNewConstMetric(c.descPending, prometheus.GaugeValue, float64(p.Pending), p.URL, p.Dataset)
		if !p.LastList.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.descListed, prometheus.GaugeValue, float64(p.LastList.UnixNano())/1e9, p.URL, p.Dataset)
		}
	}
}
