package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

func filtersRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := Main(t.Context(), append([]string{"filters"}, args...), env)
	return code, out.String(), errb.String()
}

const walkthroughPattern = `[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=80,protocol,packets,bytes,start,end,action,log_status]`
const walkthroughEvent = "2 1234567890123 eni-xxxxxxxx xx.x.x.xxx yy.y.y.yyy 49907 80 6 4 216 1441204247 1441204306 ACCEPT OK"

// The walkthrough's aws logs test-metric-filter output, as the user saw it.
const walkthroughOutput = `{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "2 1234567890123 eni-xxxxxxxx xx.x.x.xxx yy.y.y.yyy 49907 80 6 4 216 1441204247 1441204306 ACCEPT OK",
            "extractedValues": {
                "$dstaddr": "yy.y.y.yyy",
                "$dstport": "80",
                "$start": "1441204247",
                "$account_id": "1234567890123",
                "$action": "ACCEPT",
                "$packets": "4",
                "$protocol": "6",
                "$interface_id": "eni-xxxxxxxx",
                "$bytes": "216",
                "$version": "2",
                "$srcaddr": "xx.x.x.xxx",
                "$log_status": "OK",
                "$srcport": "49907",
                "$end": "1441204306"
            }
        }
    ]
}`

type testOutput struct {
	Matches []testMatch `json:"matches"`
}

func TestFiltersTestWalkthrough(t *testing.T) {
	code, out, errOut := filtersRun(t, walkthroughEvent+"\n", "test", "--output", "json", "--pattern", walkthroughPattern)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got, want testOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(walkthroughOutput), &want); err != nil {
		t.Fatal(err)
	}
	if len(got.Matches) != 1 || got.Matches[0].EventNumber != 1 || got.Matches[0].EventMessage != want.Matches[0].EventMessage ||
		!maps.Equal(got.Matches[0].ExtractedValues, want.Matches[0].ExtractedValues) {
		t.Fatalf("got\n%s\nwant\n%s", out, walkthroughOutput)
	}
	if !strings.HasPrefix(out, "{\n    \"matches\": [\n        {\n            \"eventNumber\": 1,") {
		t.Errorf("not AWS's layout:\n%s", out)
	}
	// The SSH filter does not match the port-80 event.
	code, out, _ = filtersRun(t, walkthroughEvent+"\n", "test", "--output", "json", "--pattern", strings.Replace(walkthroughPattern, "=80", "=22", 1))
	if code != 0 || strings.TrimSpace(out) != "{\n    \"matches\": []\n}" {
		t.Fatalf("exit %d, %q", code, out)
	}
}

func TestFiltersTestFiles(t *testing.T) {
	// An S3 .log.gz with its header line, then plain lines on stdin and a
	// CloudWatch get-log-events document: eventNumber counts over all.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(decodeHeader + "\n" + strings.Join(decodeLines, "\n") + "\n"))
	zw.Close()
	s3 := writeTemp(t, "111122223333_vpcflowlogs_eu-west-1_fl-1_20240531T1405Z_1.log.gz", gz.Bytes())
	cw, _ := json.Marshal(map[string]any{"events": []map[string]any{{"timestamp": 1, "message": decodeLines[2]}, {"timestamp": 2, "message": decodeLines[0]}}})
	cwFile := writeTemp(t, "eni.json", cw)
	code, out, errOut := filtersRun(t, decodeLines[2]+"\n\n", "test", "--output", "jsonl", "--pattern", `[..., dstport = 22, protocol, packets, bytes, start, end, action, status]`, s3, "-", cwFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var nums []int
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m testMatch
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		if m.EventMessage != decodeLines[2] || m.ExtractedValues["$7"] != "2001:db8:ff00:42::8329" && m.ExtractedValues["$dstport"] != "22" {
			t.Errorf("match %+v", m)
		}
		nums = append(nums, m.EventNumber)
	}
	if want := []int{3, 4, 5}; !equalInts(nums, want) {
		t.Fatalf("event numbers %v, want %v\n%s", nums, want, out)
	}
	// Table output and the summary.
	code, out, errOut = filtersRun(t, strings.Join(decodeLines, "\n"), "test", "--pattern", `NODATA`)
	if code != 0 || !strings.Contains(out, "NODATA") || !strings.Contains(errOut, "1 of 3 events matched") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// The ignored ?-terms are warned about.
	_, _, errOut = filtersRun(t, "", "test", "--pattern", `?REJECT ?NODATA ACCEPT`)
	if !strings.Contains(errOut, "warning: the ?-terms ?REJECT ?NODATA are ignored") {
		t.Fatalf("no warning: %s", errOut)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFiltersTestInvalidPattern(t *testing.T) {
	code, out, errOut := filtersRun(t, "", "test", "--pattern", `[version, dstport == 22]`)
	if code != 2 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	want := "flowlens filters: invalid filter pattern at position 19: unknown operator \"==\" (use = for equality)\n  [version, dstport == 22]\n                    ^\n"
	if errOut != want {
		t.Fatalf("stderr\n%q\nwant\n%q", errOut, want)
	}
	if code, _, _ := filtersRun(t, "", "test", "--output", "yaml", "--pattern", "x"); code != 2 {
		t.Fatalf("bad --output: exit %d", code)
	}
}

func TestFiltersAddListDelete(t *testing.T) {
	dir := t.TempDir()
	sshPattern := strings.Replace(walkthroughPattern, "=80", "=22", 1)
	code, _, errOut := filtersRun(t, "", "add", "--data", dir, "--log-group-name", "my-flow-log", "--filter-name", "SSHAccess",
		"--filter-pattern", sshPattern, "--metric-transformations", "metricValue=1,metricNamespace=foo,metricName=bar")
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, errOut)
	}
	code, _, errOut = filtersRun(t, "", "add", "--data", dir, "--dataset", "my-flow-log", "--name", "RejectedBytes",
		"--pattern", `[..., bytes, start, end, action = REJECT, status]`, "--metric-namespace", "VPC", "--metric-name", "RejectedBytes",
		"--metric-value", "$bytes", "--unit", "Bytes", "--dimension", "Source=$3")
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, errOut)
	}
	if code, _, errOut = filtersRun(t, "", "add", "--data", dir, "--dataset", "my-flow-log", "--name", "SSHAccess", "--pattern", "x", "--metric-namespace", "a", "--metric-name", "b"); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second add: exit %d: %s", code, errOut)
	}
	if code, _, errOut = filtersRun(t, "", "add", "--data", dir, "--dataset", "d", "--name", "n", "--pattern", "[a", "--metric-namespace", "a", "--metric-name", "b"); code != 2 || !strings.Contains(errOut, "position 2") {
		t.Fatalf("bad pattern: exit %d: %s", code, errOut)
	}
	if code, _, errOut = filtersRun(t, "", "add", "--data", dir, "--dataset", "d", "--name", "n", "--pattern", "x", "--metric-namespace", "a", "--metric-name", "b", "--metric-value", "$bytes"); code != 2 || !strings.Contains(errOut, "only space-delimited patterns extract") {
		t.Fatalf("bad value: exit %d: %s", code, errOut)
	}
	code, out, _ := filtersRun(t, "", "list", "--data", dir, "--output", "json")
	var doc struct {
		MetricFilters []struct {
			FilterName           string `json:"filterName"`
			FilterPattern        string `json:"filterPattern"`
			MetricTransformation struct {
				MetricValue, MetricNamespace, MetricName string
				Dimensions                               map[string]string
			} `json:"metricTransformation"`
			CreationTime int64 `json:"creationTime"`
		} `json:"metricFilters"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
		t.Fatalf("list: %v %d\n%s", err, code, out)
	}
	if len(doc.MetricFilters) != 2 || doc.MetricFilters[1].FilterName != "SSHAccess" || doc.MetricFilters[1].FilterPattern != sshPattern ||
		doc.MetricFilters[1].MetricTransformation.MetricName != "bar" || doc.MetricFilters[0].MetricTransformation.Dimensions["Source"] != "$3" ||
		doc.MetricFilters[1].CreationTime == 0 {
		t.Fatalf("list:\n%s", out)
	}
	if code, out, _ = filtersRun(t, "", "list", "--data", dir); code != 0 || !strings.Contains(out, "SSHAccess") {
		t.Fatalf("list table: %d\n%s", code, out)
	}
	if code, _, errOut = filtersRun(t, "", "delete", "--data", dir, "--dataset", "my-flow-log", "SSHAccess"); code != 0 {
		t.Fatalf("delete: %d %s", code, errOut)
	}
	if code, _, errOut = filtersRun(t, "", "delete", "--data", dir, "--dataset", "my-flow-log", "SSHAccess"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("second delete: %d %s", code, errOut)
	}
}
