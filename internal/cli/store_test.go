package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate"
)

// storeRun runs the CLI in-process with a test environment and returns the
// exit code, stdout and stderr.
func storeRun(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errb bytes.Buffer
	env := &Env{
		Stdin: stdin, Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(&errb, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	code := Main(t.Context(), args, env)
	return code, out.String(), errb.String()
}

// mustRun runs the CLI and fails the test on a non-zero exit.
func mustStore(t *testing.T, stdin io.Reader, args ...string) string {
	t.Helper()
	code, out, errs := storeRun(t, stdin, args...)
	if code != 0 {
		t.Fatalf("flowlens %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// sqlCSV runs flowlens sql with CSV output and returns the rows without
// the header.
func sqlCSV(t *testing.T, data, q string) [][]string {
	t.Helper()
	out := mustStore(t, nil, "sql", "--data", data, "--output", "csv", q)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v\n%s", q, err, out)
	}
	return rows[1:]
}

func genConfig(t *testing.T, layout generate.Layout, format string, records int64) (generate.Config, generate.Summary) {
	t.Helper()
	c := generate.DefaultConfig()
	c.Out = t.TempDir()
	c.Records, c.Hours, c.ENIs, c.Peers = records, 2, 80, 2000
	c.Layout = layout
	c.Inventory = "-"
	f, err := generate.ParseFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	c.Format = f
	var stdout bytes.Buffer
	if layout == generate.LayoutStdout {
		c.Stdout = &stdout
		c.Out = filepath.Join(c.Out, "stdout.log")
	}
	s, err := generate.Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if layout == generate.LayoutStdout {
		if err := os.WriteFile(c.Out, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return c, s
}

// validCounts decodes the generated files and counts the non-NULL values
// of every catalog field.
func validCounts(t *testing.T, c generate.Config, layout generate.Layout) map[flowlog.FieldID]int64 {
	t.Helper()
	counts := map[flowlog.FieldID]int64{}
	var format *flowlog.Format
	if layout == generate.LayoutCloudWatch || layout == generate.LayoutStdout {
		format = c.Format
	}
	err := filepath.WalkDir(c.Out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".json") && layout != generate.LayoutCloudWatch {
			return err
		}
		_, err = decode.ReadFile(t.Context(), p, decode.Options{Format: format}, func(b *flowlog.Batch) error {
			for i := range b.Cols {
				col := &b.Cols[i]
				if b.Format.Extra[i] {
					continue
				}
				for _, v := range col.Valid {
					if v {
						counts[col.Field.ID]++
					}
				}
			}
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

// TestIngestSQLEveryContainer ingests every layout the generator writes
// (text with header in .log.gz, hive keys, Parquet, CloudWatch JSON,
// header-less lines on stdin) and checks the totals through flowlens sql.
func TestIngestSQLEveryContainer(t *testing.T) {
	data := t.TempDir()
	cases := []struct {
		dataset string
		layout  generate.Layout
		format  string
		flags   []string
	}{
		{"s3", generate.LayoutS3, "default", nil},
		{"hive", generate.LayoutHive, "all-v5", nil},
		{"parquet", generate.LayoutParquet, "all", nil},
		{"cloudwatch", generate.LayoutCloudWatch, "all-v4", []string{"--format", "FORMAT"}},
		{"stdin", generate.LayoutStdout, "default", nil},
	}
	for _, tc := range cases {
		t.Run(tc.dataset, func(t *testing.T) {
			c, sum := genConfig(t, tc.layout, tc.format, 3000)
			args := []string{"ingest", "--data", data, "--dataset", tc.dataset}
			for _, f := range tc.flags {
				if f == "FORMAT" {
					f = c.Format.String()
				}
				args = append(args, f)
			}
			var stdin io.Reader
			if tc.layout == generate.LayoutStdout {
				b, err := os.ReadFile(c.Out)
				if err != nil {
					t.Fatal(err)
				}
				stdin = bytes.NewReader(b)
				args = append(args, "-")
			} else {
				args = append(args, c.Out)
			}
			out := mustStore(t, stdin, args...)
			if !strings.Contains(out, fmt.Sprintf(": %d records", sum.Records)) {
				t.Errorf("summary:\n%s", out)
			}
			rows := sqlCSV(t, data, fmt.Sprintf(`SELECT count(*), sum(bytes), sum(packets), count_if(action = 'REJECT'),
				count_if(log_status = 'NODATA'), count(DISTINCT _format_id), min(dataset) FROM %q`, tc.dataset))
			want := fmt.Sprint([]string{fmt.Sprint(sum.Records), fmt.Sprint(sum.Bytes), fmt.Sprint(sum.Packets),
				fmt.Sprint(sum.Reject), fmt.Sprint(sum.NoData), "1", tc.dataset})
			if fmt.Sprint(rows[0]) != want {
				t.Errorf("totals: got %v, want %v", rows[0], want)
			}
			// every field of the format is stored: as many values per
			// column as the decoder finds, NULL for the others
			valid := validCounts(t, c, tc.layout)
			var counts []string
			for _, f := range flowlog.Fields() {
				counts = append(counts, fmt.Sprintf("count(%q)", f.Column))
			}
			rows = sqlCSV(t, data, fmt.Sprintf(`SELECT %s FROM %q`, strings.Join(counts, ", "), tc.dataset))
			for i, f := range flowlog.Fields() {
				if rows[0][i] != fmt.Sprint(valid[f.ID]) {
					t.Errorf("column %s: %s values, the decoder finds %d", f.Column, rows[0][i], valid[f.ID])
				}
			}
		})
	}
	// The integer address forms agree with the text.
	rows := sqlCSV(t, data, `SELECT count(*) FROM flows WHERE _srcaddr_v4 IS NOT NULL AND ip4_text(_srcaddr_v4) <> srcaddr`)
	if rows[0][0] != "0" {
		t.Errorf("%s rows where _srcaddr_v4 disagrees with srcaddr", rows[0][0])
	}
	out := mustStore(t, nil, "datasets", "--data", data, "--output", "csv")
	for _, tc := range cases {
		if !strings.Contains(out, "\n"+tc.dataset+",3000,") {
			t.Errorf("datasets output lacks %s:\n%s", tc.dataset, out)
		}
	}
}

func TestIngestIdempotentAndForce(t *testing.T) {
	data := t.TempDir()
	c, sum := genConfig(t, generate.LayoutS3, "default", 2000)
	mustStore(t, nil, "ingest", "--data", data, c.Out)
	out := mustStore(t, nil, "ingest", "--data", data, c.Out)
	if !strings.Contains(out, "ingested 0 files") || !strings.Contains(out, fmt.Sprintf("skipped %d files already ingested", sum.Files)) {
		t.Errorf("second ingest:\n%s", out)
	}
	out = mustStore(t, nil, "ingest", "--data", data, "--force", c.Out)
	if !strings.Contains(out, fmt.Sprintf("ingested %d files", sum.Files)) {
		t.Errorf("forced ingest:\n%s", out)
	}
	rows := sqlCSV(t, data, `SELECT (SELECT count(*) FROM flows), (SELECT count(*) FROM ingest_registry),
		(SELECT sum(records) FROM flows_5m), (SELECT sum(bytes) FROM flows_5m)`)
	if fmt.Sprint(rows[0]) != fmt.Sprint([]string{fmt.Sprint(sum.Records), fmt.Sprint(sum.Files), fmt.Sprint(sum.Records), fmt.Sprint(sum.Bytes)}) {
		t.Errorf("after --force: %v (want %d records, %d files, rollup %d records %d bytes)", rows[0], sum.Records, sum.Files, sum.Records, sum.Bytes)
	}
	// The rollup answers traffic over time exactly like the records.
	rows = sqlCSV(t, data, `SELECT count(*) FROM (
		(SELECT bin, action, sum(records), sum(bytes), sum(packets) FROM flows_5m GROUP BY ALL
		 EXCEPT ALL SELECT start - start % 300, action, count(*), sum(bytes), sum(packets) FROM flows GROUP BY ALL)
		UNION ALL
		(SELECT start - start % 300, action, count(*), sum(bytes), sum(packets) FROM flows GROUP BY ALL
		 EXCEPT ALL SELECT bin, action, sum(records), sum(bytes), sum(packets) FROM flows_5m GROUP BY ALL))`)
	if rows[0][0] != "0" {
		t.Errorf("rollup and records disagree on %s rows", rows[0][0])
	}
}

func TestIngestRejectsFile(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	in := filepath.Join(dir, "x.log")
	text := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.9 49152 443 6 10 840 1768435200 1768435260 ACCEPT OK\n" +
		"2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.9 49152 443 6 10 840 1768435200\n" +
		"2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.9 49152 443 6 10 840 1768435200 1768435260 MAYBE OK\n"
	if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	rej := filepath.Join(dir, "rejects.jsonl")
	out := mustStore(t, nil, "ingest", "--data", data, "--rejects", rej, in)
	if !strings.Contains(out, ": 1 records") || !strings.Contains(out, "rejected 2 lines") || !strings.Contains(out, "x.log:3:") {
		t.Errorf("summary:\n%s", out)
	}
	b, err := os.ReadFile(rej)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"line":3`) || !strings.Contains(lines[1], `"line":4`) || !strings.Contains(lines[1], "MAYBE") {
		t.Errorf("rejects file:\n%s", b)
	}
}

func TestRetention(t *testing.T) {
	data := t.TempDir()
	c, sum := genConfig(t, generate.LayoutS3, "default", 4000)
	mustStore(t, nil, "ingest", "--data", data, c.Out)
	cut := c.Start.Add(time.Hour)
	before := sqlCSV(t, data, fmt.Sprintf(`SELECT count(*) FROM flows WHERE start >= %d`, cut.Unix()))
	out := mustStore(t, nil, "retention", "--data", data, "--before", cut.Format(time.RFC3339))
	rows := sqlCSV(t, data, `SELECT count(*), min(start), count(DISTINCT _hour), (SELECT sum(records) FROM flows_5m) FROM flows`)
	if rows[0][0] != before[0][0] || rows[0][1] < fmt.Sprint(cut.Unix()) || rows[0][2] != "1" || rows[0][3] != before[0][0] {
		t.Errorf("after retention: %v (want %s records from %d on)\n%s", rows[0], before[0][0], cut.Unix(), out)
	}
	removed := sum.Records - atoi(t, before[0][0])
	if !strings.Contains(out, fmt.Sprintf("removed %d records", removed)) {
		t.Errorf("retention output: %s", out)
	}
	// --keep records the retention on the dataset; everything here is old.
	out = mustStore(t, nil, "retention", "--data", data, "--keep", "7d", "--dataset", "default")
	if !strings.Contains(out, "removed "+before[0][0]+" records") {
		t.Errorf("keep 7d: %s", out)
	}
	out = mustStore(t, nil, "datasets", "--data", data, "--output", "csv")
	if !strings.Contains(out, "default,0,") || !strings.Contains(out, ",7d,") {
		t.Errorf("datasets after retention:\n%s", out)
	}
	if code, _, errs := storeRun(t, nil, "retention", "--data", data, "--keep", "7d", "--dataset", "nope"); code == 0 || !strings.Contains(errs, "nope") {
		t.Errorf("unknown dataset: %d %s", code, errs)
	}
	// Re-ingesting after retention is still recognised as done, and the
	// freed space is reused: the file does not grow much.
	mustStore(t, nil, "ingest", "--data", data, "--force", c.Out)
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// athenaColumns are the column names and Parquet types of AWS's Athena
// DDL for Parquet flow logs (spec/athena.md §1.3 and §5).
var athenaColumns = [][2]string{
	{"version", "INT32"}, {"account_id", "BYTE_ARRAY"}, {"interface_id", "BYTE_ARRAY"}, {"srcaddr", "BYTE_ARRAY"},
	{"dstaddr", "BYTE_ARRAY"}, {"srcport", "INT32"}, {"dstport", "INT32"}, {"protocol", "INT32"},
	{"packets", "INT64"}, {"bytes", "INT64"}, {"start", "INT64"}, {"end", "INT64"}, {"action", "BYTE_ARRAY"},
	{"log_status", "BYTE_ARRAY"}, {"vpc_id", "BYTE_ARRAY"}, {"subnet_id", "BYTE_ARRAY"}, {"instance_id", "BYTE_ARRAY"},
	{"tcp_flags", "INT32"}, {"type", "BYTE_ARRAY"}, {"pkt_srcaddr", "BYTE_ARRAY"}, {"pkt_dstaddr", "BYTE_ARRAY"},
	{"region", "BYTE_ARRAY"}, {"az_id", "BYTE_ARRAY"}, {"sublocation_type", "BYTE_ARRAY"}, {"sublocation_id", "BYTE_ARRAY"},
	{"pkt_src_aws_service", "BYTE_ARRAY"}, {"pkt_dst_aws_service", "BYTE_ARRAY"}, {"flow_direction", "BYTE_ARRAY"},
	{"traffic_path", "INT32"},
}

func TestExportAthenaLake(t *testing.T) {
	data := t.TempDir()
	c, sum := genConfig(t, generate.LayoutS3, "all-v5", 3000)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "prod", c.Out)
	lake := t.TempDir()
	out := mustStore(t, nil, "export", "--data", data, "--parquet", lake)
	if !strings.Contains(out, fmt.Sprintf("exported dataset prod: %d records", sum.Records)) {
		t.Errorf("export output: %s", out)
	}
	glob := filepath.Join(lake, "prod", "*", "*", "*", "*", "*.parquet")
	hours, _ := filepath.Glob(filepath.Join(lake, "prod", "year=*", "month=*", "day=*", "hour=*"))
	if len(hours) != 2 {
		t.Errorf("hour partitions: %v", hours)
	}
	// Read back with the Athena DDL's column names and the hive partitions.
	var names []string
	for _, c := range athenaColumns {
		names = append(names, fmt.Sprintf("%q", c[0]))
	}
	rows := sqlCSV(t, data, fmt.Sprintf(`SELECT count(*), sum(bytes), min(year), count(DISTINCT hour), count(DISTINCT (%s))
		FROM read_parquet('%s', hive_partitioning = true)`, strings.Join(names, ", "), glob))
	if rows[0][0] != fmt.Sprint(sum.Records) || rows[0][1] != fmt.Sprint(sum.Bytes) || rows[0][2] != "2026" || rows[0][3] != "2" {
		t.Errorf("read back: %v", rows[0])
	}
	schema := sqlCSV(t, data, fmt.Sprintf(`SELECT DISTINCT name, type FROM parquet_schema('%s') WHERE name <> 'duckdb_schema'`, glob))
	got := map[string]string{}
	for _, r := range schema {
		got[r[0]] = r[1]
	}
	for _, c := range athenaColumns {
		if got[c[0]] != c[1] {
			t.Errorf("column %s: Parquet type %q, want %s", c[0], got[c[0]], c[1])
		}
	}
	for _, p := range []string{"year", "month", "day", "hour", "dataset"} {
		if _, ok := got[p]; ok {
			t.Errorf("partition column %s is written inside the files", p)
		}
	}
}

// TestAthenaExampleQueries runs the typical Athena queries of the spec
// (spec/athena.md §3) unchanged, and checks a few answers.
func TestAthenaExampleQueries(t *testing.T) {
	data := t.TempDir()
	c, sum := genConfig(t, generate.LayoutS3, "all-v5", 3000)
	mustStore(t, nil, "ingest", "--data", data, c.Out)
	day := c.Start.Format("2006-01-02")
	queries := []string{
		`SELECT day_of_week("date") AS weekday, "date", interface_id, srcaddr, dstport, action, protocol
FROM vpc_flow_logs
WHERE action = 'REJECT' AND protocol = 6
LIMIT 100`,
		`SELECT dstaddr, SUM(packets) AS packet_count
FROM vpc_flow_logs
WHERE dstport = 443 AND "date" > current_date - INTERVAL '7' DAY
GROUP BY dstaddr
ORDER BY packet_count DESC
LIMIT 10`,
		`SELECT dstport,
       CASE protocol WHEN 6 THEN 'TCP' WHEN 17 THEN 'UDP' WHEN 1 THEN 'ICMP' ELSE CAST(protocol AS varchar) END AS proto,
       COUNT(*) AS flows, SUM(bytes) AS bytes
FROM vpc_flow_logs
WHERE "date" = DATE '` + day + `'
GROUP BY 1, 2
ORDER BY bytes DESC
LIMIT 25`,
		`SELECT date_trunc('hour', from_unixtime(start)) AS hour_start,
       SUM(bytes) / 1024.0 / 1024.0 AS mib
FROM vpc_flow_logs_parquet
WHERE year = '` + day[:4] + `' AND month = '` + day[5:7] + `' AND day = '` + day[8:10] + `'
GROUP BY 1
ORDER BY 1`,
		`SELECT from_unixtime(start - start % 300) AS bucket, COUNT(*) AS rejects
FROM vpc_flow_logs
WHERE action = 'REJECT' AND "date" BETWEEN DATE '2026-01-01' AND DATE '2026-01-31'
GROUP BY 1 ORDER BY 1`,
		`SELECT COUNT(*) FROM vpc_flow_logs_parquet
WHERE CAST(CONCAT(year, '-', month, '-', day) AS DATE) >= DATE '` + day + `'`,
		`SELECT srcaddr, dstaddr, dstport, action, SUM(packets) AS packets
FROM vpc_flow_logs
WHERE dstport IN (22, 3389) AND flow_direction = 'ingress'
GROUP BY srcaddr, dstaddr, dstport, action
ORDER BY packets DESC`,
		`SELECT instance_id, SUM(bytes) AS bytes FROM vpc_flow_logs
WHERE instance_id IS NOT NULL AND instance_id <> '-'
GROUP BY instance_id ORDER BY bytes DESC LIMIT 10`,
		`SELECT subnet_id, SUM(bytes) AS bytes FROM vpc_flow_logs
GROUP BY subnet_id ORDER BY bytes DESC LIMIT 10`,
		`SELECT count(*) FROM vpc_flow_logs WHERE type = 'IPv6' OR strpos(srcaddr, ':') > 0`,
		`SELECT srcaddr, SUM(bytes) FROM vpc_flow_logs WHERE regexp_like(srcaddr, '^10\.20\.') GROUP BY srcaddr`,
		`SELECT pkt_srcaddr, pkt_dstaddr, SUM(bytes) AS bytes
FROM vpc_flow_logs
WHERE interface_id = 'eni-0b2c3d4e5f6071829' AND flow_direction = 'ingress'
GROUP BY 1, 2 ORDER BY bytes DESC LIMIT 20`,
		`SELECT srcaddr, dstaddr, dstport, COUNT(*) AS n
FROM vpc_flow_logs
WHERE bitwise_and(tcp_flags, 2) = 2 AND bitwise_and(tcp_flags, 5) = 0
GROUP BY 1, 2, 3 ORDER BY n DESC`,
		`SELECT date_format(from_unixtime(start), '%Y-%m-%d %H:%i') AS minute, approx_distinct(srcaddr) AS sources,
       to_unixtime(from_unixtime(start)) = start AS same
FROM vpc_flow_logs GROUP BY 1, 3 ORDER BY 1 LIMIT 5`,
	}
	for i, q := range queries {
		code, out, errs := storeRun(t, nil, "sql", "--data", data, q)
		if code != 0 {
			t.Errorf("query %d: exit %d: %s\n%s", i+1, code, errs, q)
			continue
		}
		if !strings.Contains(out, "row") {
			t.Errorf("query %d: output %q", i+1, out)
		}
	}
	rows := sqlCSV(t, data, `SELECT COUNT(*) FROM vpc_flow_logs_parquet
WHERE CAST(CONCAT(year, '-', month, '-', day) AS DATE) >= DATE '`+day+`'`)
	if rows[0][0] != fmt.Sprint(sum.Records) {
		t.Errorf("partition date filter: %v, want %d", rows[0], sum.Records)
	}
	rows = sqlCSV(t, data, `SELECT date_format(from_unixtime(1717164300), '%Y-%m-%d %H:%i:%s'), day_of_week(DATE '2024-06-02'),
		to_unixtime(from_unixtime(1717164300)), date_trunc('hour', from_unixtime(1717164300))`)
	if fmt.Sprint(rows[0]) != "[2024-05-31 14:05:00 7 1717164300 2024-05-31 14:00:00.000]" {
		t.Errorf("functions: %v", rows[0])
	}
	// Writes are refused without --write.
	if code, _, errs := storeRun(t, nil, "sql", "--data", data, "DELETE FROM records"); code == 0 || !strings.Contains(errs, "read-only") {
		t.Errorf("write without --write: exit %d, %s", code, errs)
	}
}
