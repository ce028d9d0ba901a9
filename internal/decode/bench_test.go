package decode

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/flowlens/flowlens/internal/decode/inflate"
	"github.com/flowlens/flowlens/internal/flowlog"
)

// benchText is about 32 MB of default-format text with the S3 header line,
// shaped like the standard benchmark's data (~112 bytes per record).
var benchText = sync.OnceValue(func() []byte {
	rng := rand.New(rand.NewPCG(7, 11))
	ports := []int{443, 80, 53, 5432, 6379, 22, 3389, 8080, 3306, 9092, 123}
	var buf bytes.Buffer
	buf.WriteString(header + "\n")
	for buf.Len() < 32<<20 {
		start := 1717171200 + rng.IntN(300)
		if rng.IntN(200) == 0 {
			fmt.Fprintf(&buf, "2 1111222233%02d eni-0a1b2c3d4e5f%05x - - - - - - - %d %d - NODATA\n", rng.IntN(100), rng.IntN(2000), start, start+60)
			continue
		}
		action := "ACCEPT"
		if rng.IntN(20) == 0 {
			action = "REJECT"
		}
		fmt.Fprintf(&buf, "2 1111222233%02d eni-0a1b2c3d4e5f%05x 10.%d.%d.%d %d.%d.%d.%d %d %d 6 %d %d %d %d %s OK\n",
			rng.IntN(100), rng.IntN(2000), rng.IntN(4), rng.IntN(256), rng.IntN(256),
			1+rng.IntN(223), rng.IntN(256), rng.IntN(256), rng.IntN(256),
			32768+rng.IntN(28000), ports[rng.IntN(len(ports))], 1+rng.IntN(500), 40+int(rng.ExpFloat64()*1200),
			start, start+rng.IntN(60), action)
	}
	return buf.Bytes()
})

var benchGzip = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(benchText())
	w.Close()
	return buf.Bytes()
})

// recycler hands emitted batches back to Read, as a consumer that is done
// with them would: steady-state decoding then allocates nothing per record.
type recycler struct{ free []*flowlog.Batch }

func (r *recycler) newBatch(f *flowlog.Format, n int) *flowlog.Batch {
	if k := len(r.free); k > 0 {
		b := r.free[k-1]
		r.free = r.free[:k-1]
		if b.Format.Equal(f) {
			// Each file's header yields its own *Format; an equal one
			// has the same columns.
			b.Reset()
			b.Format = f
			return b
		}
	}
	return flowlog.NewBatch(f, n)
}

func (r *recycler) emit(b *flowlog.Batch) error {
	r.free = append(r.free, b)
	return nil
}

func benchRead(b *testing.B, in []byte, size int) {
	rc := &recycler{}
	var records int64
	// One untimed pass fills the recycler: what is measured is the steady
	// state of a consumer that hands batches back.
	if _, err := Read(b.Context(), bytes.NewReader(in), Options{NewBatch: rc.newBatch}, rc.emit); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	cpu0 := cpuTime()
	for b.Loop() {
		st, err := Read(b.Context(), bytes.NewReader(in), Options{NewBatch: rc.newBatch}, rc.emit)
		if err != nil || st.Rejected != 0 {
			b.Fatal(err, st.Rejected)
		}
		records += st.Records
	}
	reportCPU(b, cpu0, records, size)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
}

// reportCPU adds the CPU time used per record and the throughput per
// CPU-second: on a shared machine they vary less than wall time.
func reportCPU(b *testing.B, cpu0 time.Duration, records int64, size int) {
	cpu := cpuTime() - cpu0
	if cpu <= 0 || records == 0 {
		return
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(records), "cpu-ns/record")
	b.ReportMetric(float64(size)*float64(b.N)/cpu.Seconds()/1e6, "MB/cpu-s")
}

// BenchmarkReadText decodes uncompressed default-format text on one
// goroutine (target: 400 MB/s on one core).
func BenchmarkReadText(b *testing.B) {
	in := benchText()
	benchRead(b, in, len(in))
}

// BenchmarkGzip compares, in one run, inflating a .log.gz alone with the
// same inflater and decoding it (target: decode ≤ 1.3x inflate). MB/s are of
// the uncompressed text.
func BenchmarkGzip(b *testing.B) {
	text, in := benchText(), benchGzip()
	b.Run("inflate", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(text)))
		cpu0 := cpuTime()
		for b.Loop() {
			zr, err := inflate.NewReader(bytes.NewReader(in))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, zr); err != nil {
				b.Fatal(err)
			}
			zr.Close()
		}
		reportCPU(b, cpu0, int64(bytes.Count(text, []byte{'\n'}))*int64(b.N), len(text))
		b.ReportMetric(0, inflate.Impl)
	})
	b.Run("decode", func(b *testing.B) { benchRead(b, in, len(text)) })
}

// benchParquet is the benchmark text as AWS's Parquet (gzip codec).
var benchParquet = sync.OnceValue(func() []byte {
	var rows []awsRow
	lines := bytes.Split(bytes.TrimSpace(benchText()), []byte{'\n'})
	for _, l := range lines[1:] {
		rows = append(rows, rowOf(string(l)))
	}
	var buf bytes.Buffer
	w := pq.NewGenericWriter[awsRow](&buf, pq.Compression(&pq.Gzip))
	if _, err := w.Write(rows); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// BenchmarkReadParquet decodes the benchmark data from AWS-style Parquet.
// MB/s are of the equivalent text.
func BenchmarkReadParquet(b *testing.B) {
	benchRead(b, benchParquet(), len(benchText()))
}
