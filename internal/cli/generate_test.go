package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/generate"
)

func generateRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := Main(t.Context(), append([]string{"generate"}, args...), env)
	return code, out.String(), errb.String()
}

func TestGenerateHelpExplainsEveryScenario(t *testing.T) {
	code, out, _ := generateRun(t, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, h := range generate.ScenarioHelp {
		if !strings.Contains(out, string(h.Kind)) || !strings.Contains(out, h.Example) {
			t.Errorf("help does not explain %s with its example", h.Kind)
		}
	}
	for _, want := range []string{"cloudwatch", "parquet", "hive", "stdout", "all-v5", "--truth", "inventory.json", "get-log-events"} {
		if !strings.Contains(out, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}

func TestGenerateStdout(t *testing.T) {
	code, out, errb := generateRun(t, "--layout", "stdout", "--records", "500", "--hours", "1", "--seed", "9",
		"--format", "${srcaddr} ${dstaddr} ${dstport} ${action} ${log-status}", "--scenario", "none")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 500 {
		t.Fatalf("%d lines, want 500", len(lines))
	}
	for _, l := range lines {
		if n := len(strings.Fields(l)); n != 5 {
			t.Fatalf("line has %d fields: %q", n, l)
		}
	}
	if !strings.Contains(errb, "generated 500 records") {
		t.Errorf("summary not on stderr: %q", errb)
	}
	_, again, _ := generateRun(t, "--layout", "stdout", "--records", "500", "--hours", "1", "--seed", "9",
		"--format", "${srcaddr} ${dstaddr} ${dstport} ${action} ${log-status}", "--scenario", "none", "--workers", "1")
	if again != out {
		t.Error("same flags, different output")
	}
}

func TestGenerateFilesTruthAndScenarios(t *testing.T) {
	dir := t.TempDir()
	truth := filepath.Join(dir, "truth.json")
	code, out, errb := generateRun(t, "--out", dir, "--records", "20000", "--hours", "2", "--enis", "60", "--peers", "500",
		"--scenario", "portscan=2,ports=300", "--scenario", "ssh-bruteforce,rate=5,at=+30m,duration=20m", "--truth", truth, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var sum generate.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if sum.Records != 20000 || sum.Files != 24 {
		t.Errorf("summary %+v", sum.Totals)
	}
	data, err := os.ReadFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	var tr generate.Truth
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	kinds := map[generate.ScenarioKind]int{}
	for _, s := range tr.Scenarios {
		kinds[s.Kind]++
		if s.Kind == generate.PortScan && s.Ports != 300 {
			t.Errorf("portscan truth has %d ports", s.Ports)
		}
		if s.Kind == generate.SSHBruteForce && (s.Events != 100 || s.First.Sub(tr.Start).Minutes() < 30) {
			t.Errorf("ssh truth: %d events from %s", s.Events, s.First)
		}
	}
	if len(kinds) != 2 || kinds[generate.PortScan] != 2 || kinds[generate.SSHBruteForce] != 1 {
		t.Errorf("scenarios in truth: %v", kinds)
	}
	if _, err := os.Stat(filepath.Join(dir, "inventory.json")); err != nil {
		t.Errorf("no inventory: %v", err)
	}
}

func TestGenerateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--records", "10"},                                   // no --out
		{"--layout", "tape", "--out", "x"},                    // unknown layout
		{"--layout", "stdout", "--format", "${nope}"},         // unknown field
		{"--layout", "stdout", "--scenario", "ddos=3"},        // unknown scenario
		{"--layout", "stdout", "--scenario", "exfil,speed=3"}, // unknown option
		{"--layout", "stdout", "--start", "noon"},             // bad start
		{"--preset", "huge", "--layout", "stdout"},            // unknown preset
		{"--layout", "stdout", "extra"},                       // stray argument
	} {
		code, _, errb := generateRun(t, args...)
		if code != 2 || !strings.Contains(errb, "flowlens generate") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb)
		}
	}
}
