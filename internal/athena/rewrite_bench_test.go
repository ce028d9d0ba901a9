package athena

import "testing"

// BenchmarkPrepare rewrites a typical pasted Athena query (legacy names,
// a database, day = 'yyyy/MM/dd', action = '-', date_format).
func BenchmarkPrepare(b *testing.B) {
	q := `SELECT date_format(from_unixtime(starttime), '%Y-%m-%d %H:00') AS hour, sourceaddress, destinationaddress,
       SUM(numbytes) AS total_bytes, SUM(numpackets) AS total_packets, COUNT(*) AS flows
FROM "vpcflowlogsathenadatabase"."vpc_flow_logs_pp"
WHERE day BETWEEN '2024/05/01' AND '2024/05/31' AND action <> '-' AND destinationport IN (22, 3389)
GROUP BY 1, 2, 3
ORDER BY total_bytes DESC
LIMIT 50`
	b.ReportAllocs()
	b.SetBytes(int64(len(q)))
	for b.Loop() {
		if _, err := Prepare(q, testOptions); err != nil {
			b.Fatal(err)
		}
	}
}
