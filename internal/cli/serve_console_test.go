package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConsoleBrowser runs the console's browser tests (web/tests/console.mjs:
// playwright-core driving Debian's Chromium) against a flowlens serve on a
// generated demo day: sign-in, a line chart for bin(), a Sankey for
// src/dst, bars for a top-N, the CSV download against the API's rows, a
// dashboard saved and reopened, an error underlined where the API says,
// completion, stop. Without Chromium, node or web/node_modules it skips
// unless FLOWLENS_REQUIRE_CHROMIUM is set (make test sets it).
// FLOWLENS_SCREENSHOTS=DIR keeps the screenshots there and writes the
// README's docs/console.png (make screenshots).
func TestConsoleBrowser(t *testing.T) {
	webDir, err := filepath.Abs("../../web")
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	var missing []string
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium+" (apt-get install chromium)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "web/node_modules (npm ci)")
	}
	if len(missing) > 0 {
		msg := "the browser tests need " + strings.Join(missing, ", ") + ": run scripts/setup.sh"
		if os.Getenv("FLOWLENS_REQUIRE_CHROMIUM") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (FLOWLENS_REQUIRE_CHROMIUM=1 makes this a failure)")
	}

	dir := t.TempDir()
	logs, data := filepath.Join(dir, "logs"), filepath.Join(dir, "db")
	mustStore(t, nil, "generate", "--preset", "demo", "--records", "40000", "--out", logs, "--quiet")
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "demo", logs)
	srv := startServe(t, data)

	shots := os.Getenv("FLOWLENS_SCREENSHOTS")
	docShot := ""
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		docShot = filepath.Join(webDir, "..", "docs", "console.png")
	} else {
		shots = filepath.Join(dir, "screenshots")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "tests/console.mjs")
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "FLOWLENS_URL="+srv.url, "FLOWLENS_TOKEN="+srv.token, "FLOWLENS_OUT="+shots,
		"FLOWLENS_DOCS_SHOT="+docShot, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("console tests:\n%s", out)
	if err != nil {
		t.Fatalf("the console's browser tests failed (%v); screenshots in %s", err, shots)
	}
}
