package filterpattern

import (
	"fmt"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// BenchmarkSelect measures matching a decoded batch of default-format
// records (records/s reported as MB/s of 1e6 records: see b.SetBytes).
func BenchmarkSelect(b *testing.B) {
	f := flowlog.DefaultFormat()
	lines := make([]string, 8192)
	for i := range lines {
		lines[i] = fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f60718 203.0.113.%d 10.20.1.15 %d %d 6 2 %d 1717171301 1717171331 %s OK",
			i%250, 1024+i%60000, []int{22, 80, 443, 3389}[i%4], 40+i, []string{"ACCEPT", "REJECT"}[i%2])
	}
	batch := decodeBatch(b, f, lines...)
	for _, pt := range []string{
		`[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`,
		`[version, account, eni, srcaddr, dstaddr, srcport, dstport = 3389 || dstport = 22, protocol = 6, packets, bytes, start, end, action = REJECT, status]`,
		`[..., srcaddr = 203.0.113.1*, ...]`,
		`[$dstport = 22, $action = REJECT]`,
		`REJECT "eni-0a1b2c3d4e5f60718"`,
	} {
		b.Run(pt[:min(len(pt), 40)], func(b *testing.B) {
			m := MustParse(pt).Compile(f)
			var sel []bool
			b.ReportAllocs()
			for b.Loop() {
				sel, _ = m.Select(batch, sel)
			}
			b.ReportMetric(float64(b.N)*float64(batch.N)/b.Elapsed().Seconds()/1e6, "Mrecords/s")
		})
	}
}
