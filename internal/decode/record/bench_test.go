package record

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// defaultLines returns n realistic default-format lines (seeded).
func defaultLines(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	ports := []int{443, 80, 53, 5432, 6379, 22, 3389, 8080, 3306, 9092, 123}
	out := make([][]byte, n)
	for i := range out {
		start := 1717171200 + rng.IntN(86400)
		src := fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), rng.IntN(256))
		dst := fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(223), rng.IntN(256), rng.IntN(256), rng.IntN(256))
		action := "ACCEPT"
		if rng.IntN(20) == 0 {
			action = "REJECT"
		}
		line := fmt.Sprintf("2 1111222233%02d eni-0a1b2c3d4e5f%05x %s %s %d %d 6 %d %d %d %d %s OK",
			rng.IntN(100), rng.IntN(2000), src, dst, 32768+rng.IntN(28000), ports[rng.IntN(len(ports))],
			1+rng.IntN(500), 40+rng.IntN(1500000), start, start+rng.IntN(60), action)
		if rng.IntN(200) == 0 {
			line = fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f%05x - - - - - - - %d %d - NODATA", rng.IntN(2000), start, start+60)
		}
		out[i] = []byte(line)
	}
	return out
}

func BenchmarkDecodeLine(b *testing.B) {
	lines := defaultLines(10000)
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	f := flowlog.DefaultFormat()
	d := NewDecoder(f)
	batch := flowlog.NewBatch(f, len(lines))
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		batch.Reset()
		for i, l := range lines {
			if err := d.DecodeLine(batch, l, int64(i+1)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/record")
	_ = bytes.MinRead
}
