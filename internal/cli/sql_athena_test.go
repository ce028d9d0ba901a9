package cli

import (
	"encoding/csv"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/generate"
)

// athenaData generates and ingests four hours of all-v5 flow logs across
// midnight (2026-01-15 22:00 to 2026-01-16 02:00) into the default dataset
// and a second dataset, and returns the data directory.
func athenaData(t *testing.T) string {
	t.Helper()
	c := generate.DefaultConfig()
	c.Out = t.TempDir()
	c.Records, c.Hours, c.ENIs, c.Peers = 4000, 4, 60, 1500
	c.Start = time.Date(2026, 1, 15, 22, 0, 0, 0, time.UTC)
	c.Layout = generate.LayoutS3
	c.Inventory = "-"
	f, err := generate.ParseFormat("all-v5")
	if err != nil {
		t.Fatal(err)
	}
	c.Format = f
	if _, err := generate.Run(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	mustStore(t, nil, "ingest", "--data", data, c.Out)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "prod-vpc", c.Out)
	return data
}

// sqlHeader runs flowlens sql with CSV output and returns the header.
func sqlHeader(t *testing.T, data, q string) []string {
	t.Helper()
	out := mustStore(t, nil, "sql", "--data", data, "--output", "csv", q)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %v\n%s", q, err, out)
	}
	return rows[0]
}

// TestSQLAthenaDialect runs Athena queries written with the legacy column
// names, `day = 'yyyy/MM/dd'`, `action = '-'` and `FROM "db"."table"`, and
// checks each against the answer of its canonical form.
func TestSQLAthenaDialect(t *testing.T) {
	data := athenaData(t)
	pairs := []struct{ name, athena, canonical string }{
		{"rejected TCP, legacy names, db.table",
			`SELECT day_of_week("date") AS weekday, "date", interfaceid, sourceaddress, destinationport, action, protocol
FROM "mydb"."vpc_flow_logs"
WHERE action = 'REJECT' AND protocol = 6
ORDER BY 1, 2, 3, 4, 5 LIMIT 100`,
			`SELECT day_of_week("date") AS weekday, "date", interface_id, srcaddr, dstport, action, protocol
FROM vpc_flow_logs
WHERE action = 'REJECT' AND protocol = 6
ORDER BY 1, 2, 3, 4, 5 LIMIT 100`},
		{"top talkers over a projection table",
			`SELECT sourceaddress, destinationaddress, SUM(numbytes) AS total_bytes, SUM(numpackets) AS total_packets, COUNT(*) AS flows
FROM vpc_flow_logs_pp
WHERE day >= '2026/01/01' AND day < '2026/02/01' AND action = 'ACCEPT'
GROUP BY sourceaddress, destinationaddress
ORDER BY total_bytes DESC, 1, 2
LIMIT 50`,
			`SELECT srcaddr, dstaddr, SUM(bytes) AS total_bytes, SUM(packets) AS total_packets, COUNT(*) AS flows
FROM vpc_flow_logs
WHERE "date" >= DATE '2026-01-01' AND "date" < DATE '2026-02-01' AND action = 'ACCEPT'
GROUP BY srcaddr, dstaddr
ORDER BY total_bytes DESC, 1, 2
LIMIT 50`},
		{"day equal",
			`SELECT count(*), sum(numbytes) FROM vpc_flow_logs WHERE day = '2026/01/16'`,
			`SELECT count(*), sum(bytes) FROM vpc_flow_logs WHERE "date" = DATE '2026-01-16'`},
		{"day reversed, not equal",
			`SELECT count(*) FROM vpc_flow_logs WHERE '2026/01/16' <> day`,
			`SELECT count(*) FROM vpc_flow_logs WHERE "date" <> DATE '2026-01-16'`},
		{"day between and in",
			`SELECT count(*) FROM "prod-vpc" WHERE day BETWEEN '2026/01/15' AND '2026/01/15' OR day IN ('2026/01/17', '2026/01/16')`,
			`SELECT count(*) FROM "prod-vpc" WHERE "date" IN (DATE '2026-01-15', DATE '2026-01-16')`},
		{"day prefix and LIKE",
			`SELECT count(*) FROM vpc_flow_logs WHERE day >= '2026/01/16' AND day LIKE '2026/01/%' AND day > '2026/01'`,
			`SELECT count(*) FROM vpc_flow_logs WHERE "date" >= DATE '2026-01-16'`},
		{"hive partition strings keep 'DD'",
			`SELECT date_trunc('hour', from_unixtime(starttime)) AS hour_start, SUM(numbytes) / 1024.0 / 1024.0 AS mib
FROM awsdatacatalog.mydb.vpc_flow_logs_parquet
WHERE year = '2026' AND month = '01' AND day = '15'
GROUP BY 1 ORDER BY 1`,
			`SELECT date_trunc('hour', from_unixtime(start)) AS hour_start, SUM(bytes) / 1024.0 / 1024.0 AS mib
FROM vpc_flow_logs
WHERE "date" = DATE '2026-01-15'
GROUP BY 1 ORDER BY 1`},
		{"NODATA as '-'",
			`SELECT count(*), count(logstatus) FROM vpc_flow_logs WHERE action = '-'`,
			`SELECT count(*), count(log_status) FROM vpc_flow_logs WHERE action IS NULL`},
		{"top instances, <> '-'",
			"SELECT instance_id, SUM(`numbytes`) AS bytes FROM `mydb`.`vpc_flow_logs`\nWHERE instance_id IS NOT NULL AND instance_id <> '-'\nGROUP BY instance_id ORDER BY bytes DESC, 1 LIMIT 10",
			`SELECT instance_id, SUM(bytes) AS bytes FROM vpc_flow_logs
WHERE instance_id IS NOT NULL
GROUP BY instance_id ORDER BY bytes DESC, 1 LIMIT 10`},
		{"duration with endtime, a comment and a string left alone",
			`SELECT max(endtime - starttime) AS d, 'numbytes = ''-''' AS s -- day = '2026/01/16'
FROM vpc_flow_logs WHERE account = account_id`,
			`SELECT max("end" - start) AS d, 'numbytes = ''-''' AS s
FROM vpc_flow_logs WHERE account_id IS NOT NULL`},
		{"legacy names through a CTE and a join",
			`WITH t AS (SELECT sourceaddress, sum(numbytes) AS b FROM mydb.vpc_flow_logs GROUP BY sourceaddress)
SELECT t.sourceaddress, t.b, count(*) AS n FROM t JOIN "prod-vpc" p ON p.sourceaddress = t.sourceaddress
GROUP BY 1, 2 ORDER BY b DESC, 1 LIMIT 5`,
			`WITH t AS (SELECT srcaddr, sum(bytes) AS b FROM vpc_flow_logs GROUP BY srcaddr)
SELECT t.srcaddr, t.b, count(*) AS n FROM t JOIN "prod-vpc" p ON p.srcaddr = t.srcaddr
GROUP BY 1, 2 ORDER BY b DESC, 1 LIMIT 5`},
		{"5-minute buckets of rejects, legacy names and day BETWEEN",
			`SELECT from_unixtime(starttime - starttime % 300) AS bucket, COUNT(*) AS rejects
FROM "mydb"."vpc_flow_logs"
WHERE action = 'REJECT' AND day BETWEEN '2026/01/15' AND '2026/01/16'
GROUP BY 1 ORDER BY 1`,
			`SELECT from_unixtime(start - start % 300) AS bucket, COUNT(*) AS rejects
FROM vpc_flow_logs
WHERE action = 'REJECT' AND "date" BETWEEN DATE '2026-01-15' AND DATE '2026-01-16'
GROUP BY 1 ORDER BY 1`},
		{"SSH/RDP reaching instances",
			`SELECT sourceaddress, destinationaddress, destinationport, action, SUM(numpackets) AS packets
FROM mydb.vpc_flow_logs
WHERE destinationport IN (22, 3389) AND flow_direction = 'ingress' AND day >= '2026/01/15'
GROUP BY sourceaddress, destinationaddress, destinationport, action
ORDER BY packets DESC, 1, 2, 3, 4`,
			`SELECT srcaddr, dstaddr, dstport, action, SUM(packets) AS packets
FROM vpc_flow_logs
WHERE dstport IN (22, 3389) AND flow_direction = 'ingress'
GROUP BY srcaddr, dstaddr, dstport, action
ORDER BY packets DESC, 1, 2, 3, 4`},
		{"SYN without FIN/RST, bit tests",
			`SELECT sourceaddress, destinationaddress, destinationport, COUNT(*) AS n
FROM vpc_flow_logs_parquet
WHERE bitwise_and(tcp_flags, 2) = 2 AND bitwise_and(tcp_flags, 5) = 0 AND logstatus <> '-'
GROUP BY 1, 2, 3 ORDER BY n DESC, 1, 2, 3 LIMIT 20`,
			`SELECT srcaddr, dstaddr, dstport, COUNT(*) AS n
FROM vpc_flow_logs
WHERE (tcp_flags & 2) = 2 AND (tcp_flags & 5) = 0 AND log_status IS NOT NULL
GROUP BY 1, 2, 3 ORDER BY n DESC, 1, 2, 3 LIMIT 20`},
		{"AWS's older blog query: from_iso8601_timestamp(dt), AS day",
			`SELECT day_of_week(from_iso8601_timestamp(dt)) AS day, dt, interfaceid, sourceaddress, action, protocol
FROM vpc_flow_logs WHERE action = 'REJECT' AND protocol = 6 ORDER BY sourceaddress, 2, 3, 5, 6, 1 LIMIT 100`,
			`SELECT isodow(CAST(dt AS DATE)) AS day, dt, interface_id, srcaddr, action, protocol
FROM vpc_flow_logs WHERE action = 'REJECT' AND protocol = 6 ORDER BY srcaddr, 2, 3, 5, 6, 1 LIMIT 100`},
		{"format_datetime and Presto's date_add",
			`SELECT format_datetime(from_unixtime(start), 'yyyy-MM-dd''T''HH') AS h, count(*) FROM vpc_flow_logs
WHERE from_unixtime(start) > date_add('day', -36500, current_timestamp) GROUP BY 1 ORDER BY 1`,
			`SELECT strftime(from_unixtime(start), '%Y-%m-%dT%H') AS h, count(*) FROM vpc_flow_logs GROUP BY 1 ORDER BY 1`},
		{"date_format of a legacy column",
			`SELECT date_format(from_unixtime(starttime), '%Y-%m-%d %H:00') AS h, count(*) FROM vpc_flow_logs GROUP BY 1 ORDER BY 1`,
			`SELECT strftime(from_unixtime(start), '%Y-%m-%d %H:00') AS h, count(*) FROM vpc_flow_logs GROUP BY 1 ORDER BY 1`},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			got, want := sqlCSV(t, data, p.athena), sqlCSV(t, data, p.canonical)
			if len(want) == 0 || len(want[0]) == 0 || want[0][0] == "0" || want[0][0] == "" {
				t.Fatalf("the canonical query finds nothing to compare: %v", want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Athena form\n%s\ngot  %v\nwant %v", p.athena, got, want)
			}
		})
	}

	// The day filter splits the records at midnight.
	all := sqlCSV(t, data, `SELECT count(*) FROM vpc_flow_logs`)[0][0]
	d15 := sqlCSV(t, data, `SELECT count(*) FROM vpc_flow_logs WHERE day = '2026/01/15'`)[0][0]
	d16 := sqlCSV(t, data, `SELECT count(*) FROM vpc_flow_logs WHERE day = '2026/01/16'`)[0][0]
	if atoi(t, d15) == 0 || atoi(t, d16) == 0 || atoi(t, d15)+atoi(t, d16) != atoi(t, all) {
		t.Errorf("day counts %s + %s, want both > 0 and a sum of %s", d15, d16, all)
	}
	// Compared with 'yyyy/MM/dd', day is that form, as in a projection table.
	got := sqlCSV(t, data, `SELECT day, count(*) FROM vpc_flow_logs_pp WHERE day >= '2026/01/15' GROUP BY day ORDER BY day`)
	if fmt.Sprint(got) != fmt.Sprintf("[[2026/01/15 %s] [2026/01/16 %s]]", d15, d16) {
		t.Errorf("day per day: %v, want %s and %s records", got, d15, d16)
	}
	got = sqlCSV(t, data, `SELECT count(*) FROM (SELECT day FROM vpc_flow_logs) WHERE day = '2026/01/16'`)
	if got[0][0] != d16 {
		t.Errorf("day compared outside the block that reads the view: %v, want %s", got, d16)
	}
	// A bare legacy column keeps its name in the result, as in Athena.
	header := sqlHeader(t, data, `SELECT sourceaddress, numbytes AS b FROM vpc_flow_logs LIMIT 1`)
	if fmt.Sprint(header) != "[sourceaddress b]" {
		t.Errorf("result columns %v", header)
	}
	// A name the query defines is the query's.
	rows := sqlCSV(t, data, `SELECT account FROM (SELECT 'mine' AS account) t`)
	if rows[0][0] != "mine" {
		t.Errorf("query-defined account: %v", rows)
	}
}

// AWS's DDL for flow logs (spec/athena.md §1.1), with one column flowlens
// does not know.
const createExternalTable = "CREATE EXTERNAL TABLE IF NOT EXISTS `vpc_flow_logs` (\n" +
	"  version int, account_id string, interface_id string, srcaddr string, dstaddr string,\n" +
	"  srcport int, dstport int, protocol bigint, packets bigint, bytes bigint, start bigint, `end` bigint,\n" +
	"  action string, log_status string, vpc_id string, subnet_id string, instance_id string, tcp_flags int,\n" +
	"  type string, pkt_srcaddr string, pkt_dstaddr string, region string, az_id string,\n" +
	"  sublocation_type string, sublocation_id string, pkt_src_aws_service string, pkt_dst_aws_service string,\n" +
	"  flow_direction string, traffic_path int, my_tag string COMMENT 'ours'\n" +
	")\nPARTITIONED BY (`date` date)\nROW FORMAT DELIMITED\nFIELDS TERMINATED BY ' '\n" +
	"LOCATION 's3://my-flow-bucket/prefix/AWSLogs/111122223333/vpcflowlogs/eu-west-1/'\n" +
	"TBLPROPERTIES (\"skip.header.line.count\"=\"1\")"

func TestSQLAthenaStatements(t *testing.T) {
	data := athenaData(t)
	// Catalog DDL succeeds as a no-op, even without a database.
	noData := t.TempDir()
	cases := []struct{ sql, notice string }{
		{createExternalTable, "CREATE EXTERNAL TABLE vpc_flow_logs: nothing to create, query it as vpc_flow_logs; " +
			"flowlens already has 30 of its 31 columns (version, account_id, interface_id, srcaddr"},
		{createExternalTable, "; not known to flowlens: my_tag"},
		{"CREATE EXTERNAL TABLE legacy (account string, sourceaddress string, numbytes bigint) PARTITIONED BY (dt string)",
			"flowlens has no table legacy: query vpc_flow_logs, flows or a dataset's view; flowlens already has 4 of its 4 " +
				"columns (account=account_id, sourceaddress=srcaddr, numbytes=bytes, dt)"},
		{"ALTER TABLE vpc_flow_logs ADD IF NOT EXISTS PARTITION (`date`='2024-05-31') LOCATION 's3://b/p/2024/05/31'",
			"ALTER TABLE … ADD PARTITION (vpc_flow_logs): nothing to do"},
		{"msck repair table mydb.vpc_flow_logs_parquet;", "MSCK REPAIR TABLE vpc_flow_logs_parquet: nothing to do"},
		{"CREATE DATABASE IF NOT EXISTS flowdb COMMENT 'flow logs'", "CREATE DATABASE flowdb: nothing to do"},
	}
	for _, c := range cases {
		code, out, errs := storeRun(t, nil, "sql", "--data", noData, c.sql)
		// One line, and for a CREATE whose columns are all known the hint
		// that --write would declare its column order.
		lines := 1
		if strings.Contains(errs, "(with --write, header-less text ingested into dataset") {
			lines = 2
		}
		if code != 0 || out != "" || !strings.Contains(errs, c.notice) || strings.Count(errs, "\n") != lines {
			t.Errorf("%s\nexit %d, stdout %q, stderr %q; want the notice %q", c.sql, code, out, errs, c.notice)
		}
	}
	// A pasted script: the DDL is acknowledged, the query runs.
	script := createExternalTable + ";\nMSCK REPAIR TABLE vpc_flow_logs;\nSELECT count(*) AS n FROM vpc_flow_logs_pp WHERE day >= '2026/01/16';\n"
	code, out, errs := storeRun(t, strings.NewReader(script), "sql", "--data", data, "--output", "csv", "-")
	want := sqlCSV(t, data, `SELECT count(*) FROM vpc_flow_logs WHERE "date" >= DATE '2026-01-16'`)[0][0]
	if code != 0 || out != "n\n"+want+"\n" || strings.Count(errs, "nothing to") != 2 {
		t.Errorf("script: exit %d, stdout %q (want n=%s), stderr %q", code, out, want, errs)
	}

	// Statements that change anything are refused, with their position.
	for _, c := range []struct{ sql, pos, verb string }{
		{"DROP TABLE records", "1:1", "DROP"},
		{"  insert into records select * from records", "1:3", "INSERT"},
		{"SELECT 1;\nDELETE FROM records", "2:1", "DELETE"},
		{"COPY (SELECT 1) TO 'out.csv'", "1:1", "COPY"},
		{"ATTACH 'other.duckdb' AS o", "1:1", "ATTACH"},
		{"SET threads = 1", "1:1", "SET"},
		{"PRAGMA enable_profiling", "1:1", "PRAGMA"},
		{"INSTALL inet", "1:1", "INSTALL"},
		{"LOAD inet", "1:1", "LOAD"},
		{"CALL pragma_version()", "1:1", "CALL"},
		{"UPDATE records SET bytes = 0", "1:1", "UPDATE"},
		{"CREATE TABLE x AS SELECT 1", "1:1", "CREATE"},
		{"EXPLAIN DELETE FROM records", "1:1", "EXPLAIN DELETE"},
		{"WITH x AS (SELECT 1) DELETE FROM records", "1:1", "WITH … DELETE"},
	} {
		code, _, errs := storeRun(t, nil, "sql", "--data", data, c.sql)
		want := c.pos + ": " + c.verb + " changes the database"
		if code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, "--write") || !strings.Contains(errs, "read-only") {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.sql, code, errs, want)
		}
	}
	// Reading statements run.
	for _, q := range []string{"SHOW TABLES", "DESCRIBE vpc_flow_logs", "EXPLAIN SELECT count(*) FROM flows",
		"(SELECT 1)", "VALUES (1)", "FROM flows SELECT count(*)", "SUMMARIZE SELECT bytes FROM flows"} {
		if code, _, errs := storeRun(t, nil, "sql", "--data", data, q); code != 0 {
			t.Errorf("%s: exit %d: %s", q, code, errs)
		}
	}
	// --write lets them through.
	mustStore(t, nil, "sql", "--data", data, "--write", "CREATE TABLE notes AS SELECT 'numbytes = ''-''' AS s")
	if rows := sqlCSV(t, data, "SELECT s FROM mydb.notes"); len(rows) != 1 || rows[0][0] != "numbytes = '-'" {
		t.Errorf("table written with --write: %v", rows)
	}

	// SHOW PARTITIONS lists what Athena would.
	for _, c := range []struct{ sql, want string }{
		{"SHOW PARTITIONS vpc_flow_logs", "[[date=2026-01-15] [date=2026-01-16]]"},
		{"SHOW PARTITIONS mydb.vpc_flow_logs_pp", "[[year=2026/month=01/day=15/hour=22] [year=2026/month=01/day=15/hour=23] " +
			"[year=2026/month=01/day=16/hour=00] [year=2026/month=01/day=16/hour=01]]"},
		{`SHOW PARTITIONS "prod-vpc"`, "[[year=2026/month=01/day=15/hour=22] [year=2026/month=01/day=15/hour=23] " +
			"[year=2026/month=01/day=16/hour=00] [year=2026/month=01/day=16/hour=01]]"},
	} {
		if got := fmt.Sprint(sqlCSV(t, data, c.sql)); got != c.want {
			t.Errorf("%s: %s, want %s", c.sql, got, c.want)
		}
	}
	hive := sqlCSV(t, data, "SHOW PARTITIONS vpc_flow_logs_parquet")
	if len(hive) < 4 || !strings.HasPrefix(hive[0][0], "aws-account-id=") || !strings.HasSuffix(hive[0][0], "/year=2026/month=01/day=15/hour=22") {
		t.Errorf("SHOW PARTITIONS vpc_flow_logs_parquet: %v", hive)
	}

	// --integer-division divides integers as Athena does.
	q := `SELECT 7 / 2 AS a, max(bytes / packets) = max(bytes // packets) AS b FROM vpc_flow_logs WHERE packets > 0`
	if got := fmt.Sprint(sqlCSV(t, data, q)); got != "[[3.5 false]]" {
		t.Errorf("DuckDB division: %s", got)
	}
	out = mustStore(t, nil, "sql", "--data", data, "--output", "csv", "--integer-division", q+"; SELECT 9 / 4")
	if out != "a,b\n3,true\n(9 // 4)\n2\n" {
		t.Errorf("--integer-division: %q", out)
	}

	// --show-sql prints the rewritten statements.
	out = mustStore(t, nil, "sql", "--data", data, "--show-sql", "SELECT numbytes FROM db.vpc_flow_logs WHERE action = '-'; SELECT 1")
	if want := "SELECT numbytes FROM (SELECT *, bytes AS numbytes FROM vpc_flow_logs) AS vpc_flow_logs WHERE action IS NULL;\nSELECT 1;\n"; out != want {
		t.Errorf("--show-sql:\n%s\nwant\n%s", out, want)
	}
	// A DuckDB error on a rewritten statement shows what ran.
	if code, _, errs := storeRun(t, nil, "sql", "--data", data, "SELECT numbytes + 'x' FROM vpc_flow_logs"); code != 1 ||
		!strings.Contains(errs, "the statement ran as: SELECT numbytes + 'x' FROM (SELECT *, bytes AS numbytes") {
		t.Errorf("error of a rewritten statement: %d %s", code, errs)
	}

	// Errors name the position.
	for _, c := range []struct{ sql, want string }{
		{`SELECT "$path", count(*) FROM vpc_flow_logs GROUP BY 1`, `1:8: the pseudo-column "$path" is not available`},
		{"SELECT count(*)\nFROM vpc_flow_logs WHERE srcaddr = '10.0.0.1", "2:36: unterminated string"},
		{"/* only a comment */;", "no SQL statement"},
	} {
		code, _, errs := storeRun(t, nil, "sql", "--data", data, c.sql)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.sql, code, errs, c.want)
		}
	}

	// The help says what is supported.
	_, help, _ := storeRun(t, nil, "sql", "--help")
	for _, s := range []string{"sourceaddress", "'yyyy/MM/dd'", "IS NULL", `"db"."table"`, "CREATE EXTERNAL TABLE", "MSCK REPAIR TABLE", "--write", `"$path"`} {
		if !strings.Contains(help, s) {
			t.Errorf("sql --help does not mention %s", s)
		}
	}
}
