package sqlgen

import (
	"testing"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

// benchQueries are typical queries: the benchmark's Q4 and a longer
// runbook query.
var benchQueries = map[string]string{
	"q4":      `filter action = "REJECT" and dstport = 22 | stats count(*) as n by srcaddr | sort n desc | limit 20`,
	"runbook": "filter dstAddr like \"10.0.1.7\" and isIpv4InSubnet(srcAddr, \"10.0.0.0/16\")\n| fields bytes / packets as perPacket, concat(srcAddr, \":\", srcPort) as src\n| stats sum(bytes) as viaNat, avg(perPacket) as pp, pct(bytes, 99) as p99 by src, bin(5m) as t\n| filter viaNat > 1000\n| sort viaNat desc\n| limit 10",
}

// BenchmarkCompile measures text → plan → DuckDB SQL.
func BenchmarkCompile(b *testing.B) {
	for name, q := range benchQueries {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(q)))
			for b.Loop() {
				p, err := plan.Compile(q, plan.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Generate(p, DuckDB{}, Options{Limit: 10000}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
