package userdocs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The formats of the articles.
const (
	// 000 (Chinese tutorial), lines 106 and 112: no start, no end.
	format000 = "${region} ${vpc-id} ${az-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${packets} ${bytes} ${action}"
	// 000, lines 149-153: the 22 names of its second parse.
	format000b = "${start} ${end} ${region} ${vpc-id} ${az-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${packets} ${bytes} ${action}"
	// 003 (Knowledge Center), line 15.
	format003 = "${account-id} ${vpc-id} ${subnet-id} ${interface-id} ${instance-id} ${srcaddr} ${srcport} ${dstaddr} ${dstport} ${protocol} ${packets} ${bytes} ${action} ${log-status} ${start} ${end} ${flow-direction} ${traffic-path} ${tcp-flags} ${pkt-srcaddr} ${pkt-src-aws-service} ${pkt-dstaddr} ${pkt-dst-aws-service} ${region} ${az-id} ${sublocation-type} ${sublocation-id}"
	// 004 (NAT gateway blog): every field, in the order of its CREATE
	// EXTERNAL TABLE (lines 51-80).
	format004 = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${az-id} ${region} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction}"
)

// corpus is the generated data of every article, ingested into one database.
type corpus struct {
	data                            string
	def, c000, c000b, c003, c004    []rec
	defDir, dir000, dir000b, dir003 string
}

// gen writes data with flowlens generate (the small preset: scenarios with
// rejects, SSH, NAT gateways, NODATA records) and returns its directory.
func gen(t *testing.T, dir, format, layout string, extra ...string) string {
	t.Helper()
	out := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "").Replace(layout+"-"+strconv.Itoa(len(format))))
	args := append([]string{"generate", "--preset", "small", "--records", "4000", "--hours", "1", "--quiet",
		"--format", format, "--layout", layout, "--out", out, "--inventory", "-"}, extra...)
	must(t, "", args...)
	return out
}

func setup(t *testing.T) *corpus {
	t.Helper()
	dir := t.TempDir()
	c := &corpus{data: filepath.Join(dir, "data")}
	c.defDir = gen(t, dir, "default", "s3")
	c.def = readS3(t, c.defDir)
	must(t, "", "ingest", "--data", c.data, "--dataset", "default", c.defDir)

	c.dir000 = gen(t, dir, format000, "cloudwatch")
	c.c000 = readCloudWatch(t, c.dir000, formatNames(format000))
	must(t, "", "ingest", "--data", c.data, "--dataset", "custom19", "--format", format000, c.dir000)

	c.dir000b = gen(t, dir, format000b, "cloudwatch")
	c.c000b = readCloudWatch(t, c.dir000b, formatNames(format000b))
	must(t, "", "ingest", "--data", c.data, "--dataset", "custom22", "--format", format000b, c.dir000b)

	c.dir003 = gen(t, dir, format003, "cloudwatch")
	c.c003 = readCloudWatch(t, c.dir003, formatNames(format003))
	must(t, "", "ingest", "--data", c.data, "--dataset", "custom27", "--format", format003, c.dir003)

	// 004 delivers Parquet with hive-compatible hourly prefixes; the same
	// records as text (same seed) give the expectations.
	pq := gen(t, dir, format004, "parquet", "--hive", "--per-hour")
	must(t, "", "ingest", "--data", c.data, "--dataset", "nat_flowlog_table", pq)
	c.c004 = readS3(t, gen(t, dir, format004, "s3", "--per-hour"))
	return c
}

// query runs a Logs Insights query over one dataset (CSV out).
func (c *corpus) query(t *testing.T, dataset, q string) table {
	t.Helper()
	return parseCSV(t, must(t, "", "query", "--data", c.data, "-g", dataset, "--output", "csv", q))
}

func (c *corpus) sql(t *testing.T, q string, extra ...string) table {
	t.Helper()
	return parseCSV(t, must(t, "", append(append([]string{"sql", "--data", c.data, "--output", "csv"}, extra...), q)...))
}

// parse000 is the parse of 000 lines 125-129 (19 fields), written with the
// "|" before "as" and its continuation lines as the article prints it.
const parse000 = `parse @message "* * * * * * * * * * * * * * * * * * *"
| as region, vpc_id, az_id, subnet_id, instance_id, interface_id,
| flow_direction, srcaddr, dstaddr, srcport, dstport,
| pkt_srcaddr, pkt_dstaddr, pkt_src_aws_service, pkt_dst_aws_service,
| traffic_path, packets, bytes, action`

// parse003 is the parse every query of 003 starts with.
const parse003 = `parse @message "* * * * * * * * * * * * * * * * * * * * * * * * * * *" as account_id, vpc_id, subnet_id, interface_id,instance_id, srcaddr, srcport, dstaddr, dstport, protocol, packets, bytes, action, log_status, start, end, flow_direction, traffic_path, tcp_flags, pkt_srcaddr, pkt_src_aws_service, pkt_dstaddr, pkt_dst_aws_service, region, az_id, sublocation_type, sublocation_id`

func TestUserDocs(t *testing.T) {
	c := setup(t)
	if len(c.def) != 4000 || len(c.c000) != 4000 || len(c.c003) != 4000 || len(c.c004) != 4000 {
		t.Fatalf("generated %d, %d, %d, %d records", len(c.def), len(c.c000), len(c.c003), len(c.c004))
	}
	t.Run("000", func(t *testing.T) { test000(t, c) })
	t.Run("001", func(t *testing.T) { test001(t, c) })
	t.Run("002", func(t *testing.T) { test002(t, c) })
	t.Run("003", func(t *testing.T) { test003(t, c) })
	t.Run("004", func(t *testing.T) { test004(t, c) })
}

func reject(r rec) bool { return r.f["action"] == "REJECT" }

func test000(t *testing.T, c *corpus) {
	// line 98: top talkers over the default format, no limit
	got := c.query(t, "default", "stats sum(bytes) as BytesSent by srcAddr, dstAddr\n| sort BytesSent desc")
	want := groupBy(c.def, stored("srcaddr", "dstaddr"), sumOf("bytes"))
	sortRows(want, 2, true, 0, 1)
	equalRows(t, "000:98", got, []string{"srcAddr", "dstAddr", "BytesSent"}, want)
	if len(got.rows) > 0 && got.rows[0][2] == "" {
		t.Errorf("000:98: the NODATA group (no bytes) leads a descending sort")
	}

	// lines 125-130: every record, newest first (placed at its event's
	// time: the format has no start), the parsed fields as written
	got = c.query(t, "custom19", parse000+"\n| sort start desc")
	names := formatNames(format000)
	if want := append([]string{"@timestamp", "@message"}, names...); !slices.Equal(got.cols, want) {
		t.Fatalf("000:125: columns %q, want %q", got.cols, want)
	}
	if len(got.rows) != len(c.c000) {
		t.Fatalf("000:125: %d rows, want %d", len(got.rows), len(c.c000))
	}
	msgs := map[string]int64{}
	for _, r := range c.c000 {
		msgs[r.line] = max(msgs[r.line], r.at)
	}
	newest := int64(0)
	for _, r := range c.c000 {
		newest = max(newest, r.at)
	}
	if got.rows[0][0] != ms(newest) {
		t.Errorf("000:125: first @timestamp %s, want the newest event %s", got.rows[0][0], ms(newest))
	}
	for i, row := range got.rows {
		if _, ok := msgs[row[1]]; !ok {
			t.Fatalf("000:125: row %d: @message %q is no generated record", i, row[1])
		}
		if toks := strings.Split(row[1], " "); !slices.Equal(toks, row[2:]) {
			t.Fatalf("000:125: row %d: parsed %q from %q", i, row[2:], row[1])
		}
		if i > 0 && row[0] > got.rows[i-1][0] {
			t.Fatalf("000:125: row %d is newer than row %d", i, i-1)
		}
	}

	// lines 117-121: the system fields
	got = c.query(t, "custom19", "fields @timestamp, @message, @logStream | sort @timestamp desc | limit 1")
	if toks := strings.Split(got.rows[0][1], " "); len(got.rows) != 1 || got.rows[0][0] != ms(newest) || got.rows[0][2] != toks[5]+"-all" {
		t.Errorf("000:117: %q", got.rows)
	}

	// lines 149-157: the 22-field parse with the filter and stats added
	q := `parse @message "* * * * * * * * * * * * * * * * * * * * * *"
| as start, end, region, vpc_id, az_id, subnet_id, instance_id, interface_id,
| flow_direction, srcaddr, dstaddr, srcport, dstport, protocol,
| pkt_srcaddr, pkt_dstaddr, pkt_src_aws_service, pkt_dst_aws_service,
| traffic_path, packets, bytes, action
| filter action="REJECT"
| stats count(action) as redjects by srcaddr
| sort redjects desc`
	want = groupBy(where(c.c000b, reject), fields("srcaddr"), count)
	sortRows(want, 1, true, 0)
	equalRows(t, "000:149", c.query(t, "custom22", q), []string{"srcaddr", "redjects"}, want)

	// lines 155-157 pasted below the parse as printed, without "|", and
	// line 177's "..." for the lines above: refused where they stand
	for q, msg := range map[string]string{
		strings.SplitN(q, "\n| filter", 2)[0] + "\nfilter action=\"REJECT\"\nstats count(action) as redjects by srcaddr\nsort redjects desc": `6:1: unexpected "filter", expected "|" or end of query: commands are separated by "|" (write | filter …)`,
		"...\n| filter action=\"REJECT\"\n| filter (srcaddr not like \"162.142.125.\")":                                                      `1:1: unexpected "...": it stands for the lines written before it in the text`,
	} {
		if code, _, errs := run(t, "", "query", "--data", c.data, "-g", "custom22", q); code == 0 || !strings.Contains(errs, msg) {
			t.Errorf("000:155/177: exit %d: %s", code, errs)
		}
	}

	// lines 163-170
	want = groupBy(where(c.c000, reject), fields("srcaddr"), count)
	sortRows(want, 1, true, 0)
	equalRows(t, "000:163", c.query(t, "custom19", parse000+"\n| filter action=\"REJECT\"\n| stats count(action) as redjects by srcaddr\n| sort redjects desc"),
		[]string{"srcaddr", "redjects"}, want)

	// lines 177-181 ("..." is the parse above); the excluded prefix is
	// one of the addresses, so that the filter has something to remove
	prefix := "162.142.125."
	if rs := where(c.c000, reject); len(rs) > 0 {
		a := rs[0].f["srcaddr"]
		prefix = a[:strings.LastIndexByte(a, '.')+1]
	}
	for _, p := range []string{"162.142.125.", prefix} {
		q := parse000 + "\n| filter action=\"REJECT\"\n| filter (srcaddr not like \"" + p + "\")\n| stats count(action) as redjects by srcaddr\n| sort redjects desc"
		want = groupBy(where(c.c000, func(r rec) bool { return reject(r) && !strings.Contains(r.f["srcaddr"], p) }), fields("srcaddr"), count)
		sortRows(want, 1, true, 0)
		equalRows(t, "000:177 "+p, c.query(t, "custom19", q), []string{"srcaddr", "redjects"}, want)
	}

	// lines 185-189
	q = parse000 + `
| filter action="REJECT"
| filter (srcaddr not like "162.142.125.") and (flow_direction like "ingress")
| stats count(action) as redjects by flow_direction, srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr
| sort redjects desc`
	want = groupBy(where(c.c000, func(r rec) bool {
		return reject(r) && !strings.Contains(r.f["srcaddr"], "162.142.125.") && strings.Contains(r.f["flow_direction"], "ingress")
	}), fields("flow_direction", "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr"), count)
	sortRows(want, 5, true, 0, 1, 2, 3, 4)
	equalRows(t, "000:185", c.query(t, "custom19", q), []string{"flow_direction", "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr", "redjects"}, want)

	// line 23: the default format, given as a format
	d := c.def[0]
	out := must(t, d.line+"\n", "decode", "--format", "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")
	if !strings.Contains(out, `"interface_id":"`+d.f["interface_id"]+`"`) || strings.Count(out, ":") < 14 {
		t.Errorf("000:23: %s", out)
	}

	// lines 106 and 112: the format as the console lists it (names) and
	// as it shows it (${…}); a record decodes the same with either
	r := where(c.c000, func(r rec) bool { return r.val("srcaddr") != "" })[0]
	for _, f := range []string{strings.NewReplacer("${", "", "}", "").Replace(format000), format000} {
		out := must(t, r.line+"\n", "decode", "--format", f)
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil || len(m) != 19 || m["srcaddr"] != r.val("srcaddr") {
			t.Errorf("000:106 decode --format %q: %v %v", f, m, err)
		}
	}
}

func test001(t *testing.T, c *corpus) {
	// lines 217-246: test-metric-filter, the result the article prints
	const pattern80 = "[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=80,protocol,packets,bytes,start,end,action,log_status]"
	const msg = "2 1234567890123 eni-xxxxxxxx xx.x.x.xxx yy.y.y.yyy 49907 80 6 4 216 1441204247 1441204306 ACCEPT OK"
	out := must(t, msg+"\n", "filters", "test", "--output", "json", "--filter-pattern", pattern80)
	var res struct {
		Matches []struct {
			EventNumber     int               `json:"eventNumber"`
			EventMessage    string            `json:"eventMessage"`
			ExtractedValues map[string]string `json:"extractedValues"`
		} `json:"matches"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	wantValues := map[string]string{"$dstaddr": "yy.y.y.yyy", "$dstport": "80", "$start": "1441204247", "$account_id": "1234567890123",
		"$action": "ACCEPT", "$packets": "4", "$protocol": "6", "$interface_id": "eni-xxxxxxxx", "$bytes": "216", "$version": "2",
		"$srcaddr": "xx.x.x.xxx", "$log_status": "OK", "$srcport": "49907", "$end": "1441204306"}
	if len(res.Matches) != 1 || res.Matches[0].EventNumber != 1 || res.Matches[0].EventMessage != msg || !mapsEqual(res.Matches[0].ExtractedValues, wantValues) {
		t.Errorf("001:217: %s", out)
	}
	// lines 251-255: the SSHAccess pattern over generated records
	var files []string
	walkPaths(t, c.defDir, ".log.gz", &files)
	for _, port := range []string{"22", "80"} {
		p := strings.Replace(pattern80, "dstport=80", "dstport="+port, 1)
		out := must(t, "", append([]string{"filters", "test", "--output", "jsonl", "--pattern", p}, files...)...)
		n := strings.Count(out, "\n")
		if want := len(where(c.def, func(r rec) bool { return r.f["dstport"] == port })); n != want {
			t.Errorf("001:254 dstport=%s: %d matches, want %d", port, n, want)
		}
	}
	// line 173: the record of get-log-events decodes; line 73's masks its
	// addresses (xx.x.x.xxx), which no flow log writes: refused with the field
	out = must(t, "2 123456789012 eni-c46ee49c 10.0.1.218 10.0.1.63 80 54033 6 2 112 1441341480 1441341532 ACCEPT OK\n", "decode")
	if !strings.Contains(out, `"srcaddr":"10.0.1.218","dstaddr":"10.0.1.63","srcport":80,"dstport":54033`) {
		t.Errorf("001:173: %s", out)
	}
	if code, _, errs := run(t, msg+"\n", "decode"); code != 1 || !strings.Contains(errs, `field srcaddr: "xx.x.x.xxx" is not an IPv4 or IPv6 address`) {
		t.Errorf("001:73: exit %d, %s", code, errs)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func walkPaths(t *testing.T, dir, suffix string, out *[]string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, suffix) {
			*out = append(*out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func test002(t *testing.T, c *corpus) {
	// lines 42-46: the header line and the two records
	out := must(t, strings.Join([]string{
		"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
		"2 123456789010 eni-1235b8ca123456789 172.16.0.20 172.16.0.100 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 172.16.0.36 172.16.0.120 49761 22 6 20 4249 1418530010 1418530070 REJECT OK"}, "\n")+"\n", "decode")
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, `"srcaddr":"172.16.0.36","dstaddr":"172.16.0.120","srcport":49761,"dstport":22`) ||
		!strings.Contains(out, `"action":"REJECT","log_status":"OK"`) {
		t.Errorf("002:42: %s", out)
	}

	// line 54: the console's default query; twice, the same rows
	const def = "fields @timestamp, @message | sort @timestamp desc | limit 20"
	got := c.query(t, "default", def)
	var times []int64
	for _, r := range c.def {
		times = append(times, r.at)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] > times[j] })
	lines := map[string]bool{}
	for _, r := range c.def {
		lines[r.line] = true
	}
	if len(got.rows) != 20 {
		t.Fatalf("002:54: %d rows", len(got.rows))
	}
	for i, row := range got.rows {
		if row[0] != ms(times[i]) || !lines[row[1]] {
			t.Errorf("002:54: row %d is %q, want the record at %s", i, row, ms(times[i]))
		}
	}
	if again := c.query(t, "default", def); !slices.EqualFunc(again.rows, got.rows, slices.Equal) {
		t.Errorf("002:54: a second run returns other rows")
	}

	// line 52: the REJECT keyword searched in a log stream (a filter
	// pattern term)
	var files []string
	walkPaths(t, c.defDir, ".log.gz", &files)
	out = must(t, "", append([]string{"filters", "test", "--output", "jsonl", "--pattern", "REJECT"}, files...)...)
	if n, want := strings.Count(out, "\n"), len(where(c.def, reject)); n != want || want == 0 {
		t.Errorf("002:52: %d matches, want %d", n, want)
	}

	// lines 57-60: the console's sample query
	want := groupBy(where(c.def, reject), stored("srcaddr"), count)
	sortRows(want, 1, true, 0)
	equalRows(t, "002:57", c.query(t, "default", "filter action=\"REJECT\"\n| stats count(*) as numRejections by srcAddr\n| sort numRejections desc\n| limit 20"),
		[]string{"srcAddr", "numRejections"}, head(want, 20))

	// line 55: the console's other sample queries for VPC flow logs
	want = groupBy(where(c.def, func(r rec) bool { return r.f["protocol"] == "17" }), stored("srcaddr"), count)
	sortRows(want, 0, false)
	got = c.query(t, "default", "filter protocol=17 | stats count(*) by srcAddr")
	sortRows(got.rows, 0, false)
	equalRows(t, "002:55 UDP", got, []string{"srcAddr", "count(*)"}, want)
	want = groupBy(c.def, stored("srcaddr", "dstaddr"), sumOf("bytes"))
	sortRows(want, 2, true, 0, 1)
	equalRows(t, "002:55 top 10 bytes", c.query(t, "default", "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10"),
		[]string{"srcAddr", "dstAddr", "bytesTransferred"}, head(want, 10))
	want = groupBy(c.def, stored("srcaddr", "dstaddr"), sumOf("packets"))
	sortRows(want, 2, true, 0, 1)
	equalRows(t, "002:55 top 15 packets", c.query(t, "default", "stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred desc | limit 15"),
		[]string{"srcAddr", "dstAddr", "packetsTransferred"}, head(want, 15))
	want = groupBy(where(c.def, func(r rec) bool { return r.f["log_status"] == "SKIPDATA" }), func(r rec) []string { return []string{ms(r.at - r.at%3600)} }, count)
	sortRows(want, 0, false)
	equalRows(t, "002:55 skipped", c.query(t, "default", `filter logStatus="SKIPDATA" | stats count(*) by bin(1h) as t | sort t`),
		[]string{"t", "count(*)"}, want)
	got = c.query(t, "default", "stats avg(bytes), min(bytes), max(bytes) by srcAddr, dstAddr")
	groups := groupBy(c.def, stored("srcaddr", "dstaddr"), sumOf("bytes"), countOf("bytes"))
	if len(got.rows) != len(groups) {
		t.Errorf("002:55 avg/min/max: %d rows, want %d", len(got.rows), len(groups))
	}
	avg := map[string]float64{}
	for _, g := range groups {
		s, _ := strconv.ParseFloat(g[2], 64)
		n, _ := strconv.ParseFloat(g[3], 64)
		if n > 0 {
			avg[g[0]+" "+g[1]] = s / n
		}
	}
	for _, row := range got.rows {
		a, err := strconv.ParseFloat(row[2], 64)
		if w, ok := avg[row[0]+" "+row[1]]; ok && (err != nil || a < w-1e-6*w || a > w+1e-6*w) {
			t.Errorf("002:55 avg/min/max: %q, want avg %v", row, w)
			break
		}
	}

	// line 72: S3 Select by position (_4 = srcaddr)
	got = c.sql(t, "SELECT _4 FROM s3object s LIMIT 5")
	src := map[string]bool{}
	for _, r := range c.def {
		src[r.f["srcaddr"]] = true
	}
	if len(got.rows) != 5 || !slices.Equal(got.cols, []string{"_4"}) {
		t.Errorf("002:72: %v", got)
	}
	for _, row := range got.rows {
		if !src[row[0]] {
			t.Errorf("002:72: %q is no srcaddr of the records", row[0])
		}
	}

	// lines 75-94: the table's DDL is accepted (flowlens has the table)
	ddl := "CREATE EXTERNAL TABLE IF NOT EXISTS `vpc_flow_logs` (\n`version` int,\n`account_id` string,\n`interface_id` string,\n`srcaddr` string,\n`dstaddr` string,\n`srcport` int,\n`dstport` int,\n`protocol` bigint,\n`packets` bigint,\n`bytes` bigint,\n`start` bigint,\n`end` bigint,\n`action` string,\n`log_status` string\n)\nROW FORMAT DELIMITED\nFIELDS TERMINATED BY ' '\nLOCATION 's3://<bucket name>/AWSLogs/<account id>/vpcflowlogs/<region name>/'\nTBLPROPERTIES (\"skip.header.line.count\"=\"1\");"
	if code, _, errs := run(t, "", "sql", "--data", c.data, ddl); code != 0 || !strings.Contains(errs, "CREATE EXTERNAL TABLE vpc_flow_logs: nothing to create") {
		t.Errorf("002:75: exit %d: %s", code, errs)
	}
	// line 98
	got = c.sql(t, `SELECT * FROM "default"."vpc_flow_logs" limit 10;`)
	if len(got.rows) != 10 || !slices.Contains(got.cols, "srcaddr") || !slices.Contains(got.cols, "log_status") {
		t.Errorf("002:98: %d rows, columns %q", len(got.rows), got.cols)
	}
}

func test003(t *testing.T, c *corpus) {
	// lines 26-28: the latest two records; twice, the same two
	got := c.query(t, "custom27", "#Retrieve latest custom VPC Flow Logs\n"+parse003+"\n| sort start desc\n| limit 2")
	names := formatNames(format003)
	if want := append([]string{"@timestamp", "@message"}, names...); !slices.Equal(got.cols, want) || len(got.rows) != 2 {
		t.Fatalf("003:26: columns %q, %d rows", got.cols, len(got.rows))
	}
	var starts []int64
	for _, r := range c.c003 {
		s, _ := r.num("start")
		starts = append(starts, s)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] > starts[j] })
	for i, row := range got.rows {
		if row[2+slices.Index(names, "start")] != strconv.FormatInt(starts[i], 10) || !slices.Equal(strings.Split(row[1], " "), row[2:]) {
			t.Errorf("003:26: row %d is %q, want start %d", i, row, starts[i])
		}
	}
	if again := c.query(t, "custom27", parse003+"\n| sort start desc\n| limit 2"); !slices.EqualFunc(again.rows, got.rows, slices.Equal) {
		t.Errorf("003:26: a second run returns other rows")
	}

	// lines 43-46
	want := groupBy(c.c003, fields("srcaddr", "dstaddr", "flow_direction"), sumOf("bytes"))
	sortRows(want, 3, true, 0, 1, 2)
	equalRows(t, "003:43", c.query(t, "custom27", parse003+"\n| stats sum(bytes) as Data_Transferred by srcaddr, dstaddr, flow_direction\n| sort by Data_Transferred desc\n| limit 2"),
		[]string{"srcaddr", "dstaddr", "flow_direction", "Data_Transferred"}, head(want, 2))

	// lines 60-63: "-" (NAT gateway, load balancer, endpoint interfaces)
	// is a group of its own, named "-"
	want = groupBy(c.c003, fields("instance_id"), sumOf("bytes"))
	sortRows(want, 1, true, 0)
	if !slices.ContainsFunc(want, func(r []string) bool { return r[0] == "-" }) {
		t.Fatalf("003:60: the generated data has no interface without an instance")
	}
	equalRows(t, "003:60", c.query(t, "custom27", parse003+"\n| stats sum(bytes) as Data_Transferred by instance_id\n| sort by Data_Transferred desc\n| limit 5"),
		[]string{"instance_id", "Data_Transferred"}, head(want, 5))

	// lines 80-84: numbers compared with the parsed text
	want = groupBy(where(c.c003, func(r rec) bool { return reject(r) && r.f["protocol"] == "6" && r.f["dstport"] == "22" }), fields("srcaddr"), sumOf("bytes"))
	sortRows(want, 1, true, 0)
	if len(want) == 0 {
		t.Fatalf("003:80: the generated data has no rejected SSH")
	}
	equalRows(t, "003:80", c.query(t, "custom27", parse003+"\n| filter action = \"REJECT\" and protocol = 6 and dstport = 22\n| stats sum(bytes) as SSH_Traffic_Volume by srcaddr\n| sort by SSH_Traffic_Volume desc\n| limit 2"),
		[]string{"srcaddr", "SSH_Traffic_Volume"}, head(want, 2))

	// lines 99-103 and 119-121, as written (the article's addresses) and
	// with the busiest pair of the generated data that talks on port 80
	// (or 443 when none does)
	port := "80"
	pair := busiestPair(c.c003, port)
	if pair == nil {
		port = "443"
		pair = busiestPair(c.c003, port)
	}
	article := []string{"172.31.1.247", "172.31.11.212"}
	display := []string{"interface_id", "srcaddr", "srcport", "dstaddr", "dstport", "protocol", "bytes", "action", "log_status", "start", "end", "flow_direction", "tcp_flags"}
	for _, ab := range [][]string{article, pair} {
		p := port
		if ab[0] == article[0] {
			p = "80"
		}
		filter := `| filter srcaddr in ["` + ab[0] + `","` + ab[1] + `"] and dstaddr in ["` + ab[0] + `","` + ab[1] + `"] and protocol = 6 and (dstport = ` + p + ` or srcport=` + p + `)`
		rs := where(c.c003, func(r rec) bool {
			return slices.Contains(ab, r.f["srcaddr"]) && slices.Contains(ab, r.f["dstaddr"]) && r.f["protocol"] == "6" && (r.f["dstport"] == p || r.f["srcport"] == p)
		})
		if ab[0] != article[0] && len(rs) == 0 {
			t.Fatalf("003:99: no records of the pair %v", ab)
		}
		got := c.query(t, "custom27", "#HTTP Data Stream for Specific Source/Destination Pair\n"+parse003+"\n"+filter+
			"\n| display interface_id,srcaddr, srcport, dstaddr, dstport, protocol, bytes, action, log_status, start, end, flow_direction, tcp_flags\n| sort by start desc\n| limit 2")
		var starts []string
		for _, r := range rs {
			starts = append(starts, r.f["start"])
		}
		sort.Slice(starts, func(i, j int) bool { return natural(starts[i], starts[j]) > 0 })
		if !slices.Equal(got.cols, display) || len(got.rows) != min(2, len(rs)) {
			t.Errorf("003:99 %v: columns %q, %d rows, want %d", ab, got.cols, len(got.rows), min(2, len(rs)))
		}
		for i, row := range got.rows {
			if row[9] != starts[i] {
				t.Errorf("003:99 %v: row %d start %s, want %s", ab, i, row[9], starts[i])
			}
		}
		// lines 119-121: 1-minute bins, newest first
		want := groupBy(rs, func(r rec) []string { s, _ := r.num("start"); return []string{ms(s - s%60)} }, sumOf("bytes"))
		sort.Slice(want, func(i, j int) bool { return want[i][0] > want[j][0] })
		equalRows(t, "003:119", c.query(t, "custom27", parse003+"\n"+filter+"\n| stats sum(bytes) as Data_Transferred by bin(1m)"),
			[]string{"bin(1m)", "Data_Transferred"}, want)
	}
}

// busiestPair is the two addresses that exchange the most records with the
// port on either side (TCP), nil when none do.
func busiestPair(rs []rec, port string) []string {
	n := map[[2]string]int{}
	for _, r := range rs {
		if r.f["protocol"] == "6" && (r.f["dstport"] == port || r.f["srcport"] == port) && r.f["srcaddr"] != r.f["dstaddr"] {
			k := [2]string{r.f["srcaddr"], r.f["dstaddr"]}
			if k[0] > k[1] {
				k[0], k[1] = k[1], k[0]
			}
			n[k]++
		}
	}
	var best [2]string
	top := 0
	for k, v := range n {
		if v > top || (v == top && k[0]+k[1] < best[0]+best[1]) {
			best, top = k, v
		}
	}
	if top == 0 {
		return nil
	}
	return best[:]
}

func test004(t *testing.T, c *corpus) {
	// lines 51-96: the Parquet table's DDL is accepted
	ddl := "CREATE EXTERNAL TABLE `nat_flowlog_table`(\n" + columns004() + ")\nPARTITIONED BY (\n  `year` string,\n  `month` string,\n  `day` string,\n  `hour` string)\n" +
		"ROW FORMAT SERDE\n  'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\nSTORED AS INPUTFORMAT\n  'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\n" +
		"OUTPUTFORMAT\n  'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'\nLOCATION\n  's3://nat-flowlog-bucket/AWSLogs/aws-account-id=111111111111/aws-service=vpcflowlogs/aws-region=us-east-1'\n" +
		"TBLPROPERTIES (\n  'skip.header.line.count'='1',\n  'transient_lastDdlTime'='1634953530')"
	if code, _, errs := run(t, "", "sql", "--data", c.data, ddl); code != 0 || !strings.Contains(errs, "flowlens already has 33 of its 33 columns") {
		t.Errorf("004:51: exit %d: %s", code, errs)
	}

	// lines 383-389: the nightly top-100 archive, its {} filled in as the
	// function does (DATABASE, TABLE, the day's year, month and day)
	s, _ := c.c004[0].num("start")
	day := time.Unix(s, 0).UTC()
	q := "\n    select pkt_srcaddr, pkt_dstaddr, srcaddr, dstaddr, flow_direction, sum(bytes) as bytes\n    from default.nat_flowlog_table\n" +
		"    where year = '" + day.Format("2006") + "' and month = '" + day.Format("01") + "' and day = '" + day.Format("02") + "'\n" +
		"    group by 1,2,3,4,5\n    order by bytes desc\n    limit 100"
	got := c.sql(t, q)
	rs := where(c.c004, func(r rec) bool {
		s, _ := r.num("start")
		return time.Unix(s, 0).UTC().Format("20060102") == day.Format("20060102")
	})
	all := groupBy(rs, stored("pkt_srcaddr", "pkt_dstaddr", "srcaddr", "dstaddr", "flow_direction"), sumOf("bytes"))
	sums := map[string]string{}
	for _, g := range all {
		sums[strings.Join(g[:5], " ")] = g[5]
	}
	sortRows(all, 5, true)
	if !slices.Equal(got.cols, []string{"pkt_srcaddr", "pkt_dstaddr", "srcaddr", "dstaddr", "flow_direction", "bytes"}) || len(got.rows) != min(100, len(all)) {
		t.Fatalf("004:383: columns %q, %d rows (want %d)", got.cols, len(got.rows), min(100, len(all)))
	}
	for i, row := range got.rows {
		if sums[strings.Join(row[:5], " ")] != row[5] || row[5] != all[i][5] {
			t.Errorf("004:383: row %d is %q, want bytes %s (the group sums %s)", i, row, all[i][5], sums[strings.Join(row[:5], " ")])
			break
		}
	}

	// lines 420-433: the QuickSight view (flowlens sql --write), read back
	view := "create\nor replace view de_nat_flowlog as\nselect\n    \"interface_id\",\n    \"srcaddr\",\n    \"dstaddr\",\n    \"pkt_srcaddr\",\n    \"pkt_dstaddr\",\n" +
		"    from_unixtime(start-MOD(\"start\",300))  AS starttime,\n    from_unixtime(end-MOD(\"end\",300)) AS endtime,\n    flow_direction,\n    sum(bytes) as bytes\n" +
		"from \"AwsDataCatalog\".\"default\".\"nat_flowlog_table\"\ngroup by 1,2,3,4,5,6,7,8"
	if code, _, errs := run(t, "", "sql", "--data", c.data, view); code == 0 || !strings.Contains(errs, "add --write") {
		t.Errorf("004:420 read-only: exit %d: %s", code, errs)
	}
	must(t, "", "sql", "--data", c.data, "--write", view)
	got = c.sql(t, "SELECT count(*) AS n, sum(bytes) AS b FROM de_nat_flowlog")
	groups := groupBy(c.c004, func(r rec) []string {
		s, _ := r.num("start")
		e, _ := r.num("end")
		return []string{r.val("interface_id"), r.val("srcaddr"), r.val("dstaddr"), r.val("pkt_srcaddr"), r.val("pkt_dstaddr"),
			strconv.FormatInt(s-s%300, 10), strconv.FormatInt(e-e%300, 10), r.val("flow_direction")}
	}, sumOf("bytes"))
	equalRows(t, "004:420", got, []string{"n", "b"}, [][]string{{strconv.Itoa(len(groups)), sumOf("bytes")(c.c004)}})
}

// columns004 is the column list of 004's CREATE EXTERNAL TABLE.
func columns004() string {
	types := map[string]string{"version": "int", "srcport": "int", "dstport": "int", "protocol": "int", "packets": "bigint", "bytes": "bigint",
		"start": "bigint", "end": "bigint", "tcp_flags": "int", "traffic_path": "int"}
	var parts []string
	for _, n := range formatNames(format004) {
		ty := types[n]
		if ty == "" {
			ty = "string"
		}
		parts = append(parts, "  `"+n+"` "+ty)
	}
	return strings.Join(parts, ",\n")
}
