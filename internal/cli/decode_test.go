package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decodeRun runs `flowlens decode args…` with stdin and returns the exit
// status, stdout and stderr.
func decodeRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(string) string { return "" },
	}
	code := Main(t.Context(), append([]string{"decode"}, args...), env)
	return code, out.String(), errb.String()
}

const decodeHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

var decodeLines = []string{
	"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT OK",
	"2 111122223333 eni-0c9d8e7f6a5b4c3d2 - - - - - - - 1717171200 1717171500 - NODATA",
	"2 111122223333 eni-0a1b2c3d4e5f60718 2001:DB8:4a10:1200::1F 2001:db8:ff00:42::8329 50344 22 6 48 9120 1717171400 1717171458 ACCEPT OK",
}

var decodeJSON = []string{
	`{"version":2,"account_id":"111122223333","interface_id":"eni-0a1b2c3d4e5f60718","srcaddr":"10.20.1.15","dstaddr":"198.51.100.23","srcport":49812,"dstport":443,"protocol":6,"packets":31,"bytes":7420,"start":1717171205,"end":1717171262,"action":"ACCEPT","log_status":"OK"}`,
	`{"version":2,"account_id":"111122223333","interface_id":"eni-0c9d8e7f6a5b4c3d2","srcaddr":null,"dstaddr":null,"srcport":null,"dstport":null,"protocol":null,"packets":null,"bytes":null,"start":1717171200,"end":1717171500,"action":null,"log_status":"NODATA"}`,
	`{"version":2,"account_id":"111122223333","interface_id":"eni-0a1b2c3d4e5f60718","srcaddr":"2001:db8:4a10:1200::1f","dstaddr":"2001:db8:ff00:42::8329","srcport":50344,"dstport":22,"protocol":6,"packets":48,"bytes":9120,"start":1717171400,"end":1717171458,"action":"ACCEPT","log_status":"OK"}`,
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecodeStdin(t *testing.T) {
	in := decodeHeader + "\n" + strings.Join(decodeLines, "\n") + "\n"
	for _, args := range [][]string{nil, {"-"}} {
		code, out, errs := decodeRun(t, in, args...)
		if code != 0 || errs != "" {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
		if want := strings.Join(decodeJSON, "\n") + "\n"; out != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
		}
	}
}

func TestDecodeFilesWithRejects(t *testing.T) {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(decodeHeader + "\n" + decodeLines[0] + "\n" + strings.Replace(decodeLines[0], "49812", "9999999999", 1) + "\n" + decodeLines[1] + "\n"))
	zw.Close()
	gzPath := writeTemp(t, "a.log.gz", zb.Bytes())
	txtPath := writeTemp(t, "b.log", []byte(decodeLines[2]+"\n"+"2 111122223333 eni-1 10.0.0.1\n"))
	code, out, errs := decodeRun(t, "", gzPath, txtPath)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if want := strings.Join([]string{decodeJSON[0], decodeJSON[1], decodeJSON[2]}, "\n") + "\n"; out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	wantErr := gzPath + `:3: field srcport: "9999999999" is out of range 0-65535 (and too large to store)` + "\n" +
		txtPath + ":2: 4 fields, the format has 14\n"
	if errs != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errs, wantErr)
	}
}

// A record kept with a warning is printed, the warning goes to stderr and
// the exit status stays 0: version 300 (outside 2-255) and two spaces
// between fields, as in AWS's own documentation.
func TestDecodeWarnings(t *testing.T) {
	in := strings.Replace(decodeLines[0], "2 ", "300 ", 1) + "\n" + strings.Replace(decodeLines[1], " ", "  ", 2) + "\n"
	code, out, errs := decodeRun(t, in, "--summary")
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if want := strings.Replace(decodeJSON[0], `"version":2`, `"version":300`, 1) + "\n" + decodeJSON[1] + "\n"; out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	for _, w := range []string{`<stdin>:1: warning: field version: "300" is outside 2-255: stored as written`,
		"<stdin>:2: warning: fields are separated by runs of spaces", "2 records, 0 rejected, 2 warnings"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
}

func TestDecodeFormatFlag(t *testing.T) {
	code, out, errs := decodeRun(t, "5 vpc-0aa11bb22cc33dd44 10.0.0.1 - REJECT\n",
		"--format", "${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action}")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if want := `{"version":5,"vpc_id":"vpc-0aa11bb22cc33dd44","srcaddr":"10.0.0.1","dstaddr":null,"action":"REJECT"}` + "\n"; out != want {
		t.Errorf("stdout %s", out)
	}
	// The header line of a file wins over --format.
	code, out, _ = decodeRun(t, decodeHeader+"\n"+decodeLines[0]+"\n", "--format", "${srcaddr}")
	if code != 0 || out != decodeJSON[0]+"\n" {
		t.Errorf("exit %d, stdout %s", code, out)
	}
	code, out, _ = decodeRun(t, decodeLines[0]+"\n", "--format", "default")
	if code != 0 || out != decodeJSON[0]+"\n" {
		t.Errorf("exit %d, stdout %s", code, out)
	}
	code, _, errs = decodeRun(t, "", "--format", "${srcadr}")
	if code != 2 || !strings.Contains(errs, `did you mean "srcaddr"`) {
		t.Errorf("bad format: exit %d, stderr %q", code, errs)
	}
}

func TestDecodeCloudWatchJSONAndStrings(t *testing.T) {
	// Values that need JSON escaping survive (extra header fields are text).
	in := `{"events":[{"timestamp":1717171205000,"message":"11 eni-1 10.0.0.1 tag\"q\\\\u0001 x","ingestionTime":1}]}`
	code, out, errs := decodeRun(t, in, "--format", "version interface-id srcaddr instance-tag future-thing")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if m["instance_tag"] != `tag"q\\u0001` || m["future_thing"] != "x" || m["version"] != float64(11) {
		t.Errorf("decoded %v", m)
	}
}

func TestDecodeMissingFileAndHelp(t *testing.T) {
	code, _, errs := decodeRun(t, "", filepath.Join(t.TempDir(), "nope.log"))
	if code != 1 || !strings.Contains(errs, "nope.log") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	code, out, _ := decodeRun(t, "", "--help")
	if code != 0 || !strings.Contains(out, "Usage: flowlens decode") || !strings.Contains(out, "Examples:") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

func TestDecodeSummary(t *testing.T) {
	in := decodeHeader + "\n" + strings.Join(decodeLines, "\n") + "\nbad\n"
	code, _, errs := decodeRun(t, in, "--summary")
	want := "<stdin>:5: 1 fields, the format has 14\n" +
		fmt.Sprintf("<stdin>: text, 5 lines, 3 records, 1 rejected, 0 warnings, %d input bytes\n", len(in)) +
		"<stdin>: format ${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}\n"
	if code != 1 || errs != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", code, errs, want)
	}
}
