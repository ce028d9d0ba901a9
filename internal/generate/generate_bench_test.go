package generate

import (
	"io"
	"testing"
	"unsafe"

	"github.com/flowlens/flowlens/internal/generate/flowrec"
	"github.com/flowlens/flowlens/internal/generate/layout"
)

// BenchmarkGenerateFile measures one worker producing day-20m files: the
// records of a 5-minute bucket, encoded and gzipped (the disk left out).
func BenchmarkGenerateFile(b *testing.B) {
	cfg, err := Preset("day-20m")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Out = b.TempDir()
	r, err := newRun(cfg)
	if err != nil {
		b.Fatal(err)
	}
	tw := layout.NewTextWriter(r.enc, r.cfg.Format.Header(), 0)
	var recs []flowrec.Record
	task := len(r.tasks) * 2 / 3 // an afternoon bucket
	recs = r.generate(task, recs)
	var text countingDiscard
	if err := tw.WriteLines(&text, recs, true); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(text.n) // text bytes before gzip
	b.ReportAllocs()
	for b.Loop() {
		recs = r.generate(task, recs)
		if err := tw.WriteGzip(io.Discard, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkGenerateRecords measures the traffic model alone.
func BenchmarkGenerateRecords(b *testing.B) {
	cfg, _ := Preset("day-20m")
	cfg.Out = b.TempDir()
	r, err := newRun(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var recs []flowrec.Record
	task := len(r.tasks) * 2 / 3
	recs = r.generate(task, recs)
	b.SetBytes(int64(len(recs)) * int64(unsafe.Sizeof(recs[0])))
	b.ReportAllocs()
	for b.Loop() {
		recs = r.generate(task, recs)
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
