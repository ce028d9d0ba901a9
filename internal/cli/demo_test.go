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

// TestDemoFindsWhatWasInjected runs the demo end to end on a smaller day and
// checks that the report names the sources the generator injected.
func TestDemoFindsWhatWasInjected(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if code := Main(t.Context(), []string{"demo", "--dir", dir, "--records", "200000"}, env); code != 0 {
		t.Fatalf("demo exit %d\nstderr:\n%s\nstdout:\n%s", code, errb.String(), out.String())
	}
	report := out.String()
	for _, want := range []string{
		"1/3 Generating", "2/3 Ingesting", "3/3 What happened",
		"Top talkers", "Rejected traffic by source", "SSH (22) and RDP (3389) attempts", "Port scanners",
		"Bytes over time", "┤", "Next steps", "0 rejected lines",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth generate.Truth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	section := func(title string) string {
		i := strings.Index(report, title)
		if i < 0 {
			return ""
		}
		rest := report[i+len(title):]
		if j := strings.Index(rest, "── "); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	checked := 0
	for _, s := range truth.Scenarios {
		var sec string
		switch s.Kind {
		case generate.PortScan:
			sec = section("Port scanners")
		case generate.SSHBruteForce, generate.RDPBruteForce:
			sec = section("SSH (22) and RDP (3389) attempts")
		case generate.NATHeavy, generate.Exfiltration:
			sec = section("Top talkers")
		default:
			continue
		}
		checked++
		if !strings.Contains(sec, s.Source+" ") {
			t.Errorf("%s source %s missing from its section:\n%s", s.Kind, s.Source, sec)
		}
	}
	if checked < 4 {
		t.Errorf("only %d injected scenarios checked; truth: %s", checked, raw)
	}
	// The database stays for exploring: the suggested commands work on it.
	out.Reset()
	if code := Main(t.Context(), []string{"datasets", "--data", filepath.Join(dir, "db")}, env); code != 0 || !strings.Contains(out.String(), "demo") {
		t.Errorf("datasets on the demo database: exit %d, %s %s", code, out.String(), errb.String())
	}
}
