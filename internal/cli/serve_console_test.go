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
// completion, stop, partial rows of a running query, the metrics and
// alarms view, the ingest counters on the start page. Without Chromium, node or web/node_modules it skips
// unless FLOWLENS_REQUIRE_CHROMIUM is set (make test sets it).
// FLOWLENS_SCREENSHOTS=DIR keeps the screenshots there and writes the
// README's docs/console.png and docs/monitoring.png (make screenshots).
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
	// The start page's S3 follow status: an S3-protocol server holding a day
	// of flow logs that the server follows into the dataset "s3flow".
	s3srv := startS3(t)
	s3srv.bucket(t, "vpc")
	s3srv.upload(t, "vpc", "flowlogs/", generateDay(t, 2000, "2026-01-15", "s3", 21))
	srv := startServe(t, data, "--alarm-interval", "1s", "--follow", "s3flow=s3://vpc/flowlogs/", "--follow-interval", "1s")
	waitUntil(t, "the S3 follower's first round", func() bool {
		st := followStats(t, srv.url, srv.token)
		return len(st) == 1 && st[0]["records"] == float64(2000)
	})
	// The metrics and alarms view: a metric filter and an alarm on a dataset of
	// yesterday, its records ingested through the server (which evaluates the
	// filter on them; metrics keep 15 days, so the demo day is too old).
	recent := filepath.Join(dir, "recent")
	mustStore(t, nil, "generate", "--preset", "demo", "--records", "8000", "--start", "yesterday", "--seed", "3", "--out", recent, "--quiet")
	for _, c := range []struct{ path, body string }{
		{"/api/v1/metric-filters/recent/SSHRDP", `{"filterPattern":"[$dstport=22 || $dstport=3389]","metricTransformation":{"metricName":"SSHRDPAttempts","metricNamespace":"LogMetrics","metricValue":"1"}}`},
		{"/api/v1/alarms/ssh-rdp-watch", `{"namespace":"LogMetrics","metricName":"SSHRDPAttempts","statistic":"Sum","period":300,"evaluationPeriods":1,"threshold":5,"comparisonOperator":"GreaterThanOrEqualToThreshold","treatMissingData":"breaching"}`},
	} {
		if status, _, env := srv.call(t, "PUT", c.path, srv.token, c.body); status != 200 {
			t.Fatalf("PUT %s: %d %v", c.path, status, env)
		}
	}
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "recent", recent)

	shots := os.Getenv("FLOWLENS_SCREENSHOTS")
	docsDir := ""
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		docsDir = filepath.Join(webDir, "..", "docs")
	} else {
		shots = filepath.Join(dir, "screenshots")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "tests/console.mjs")
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "FLOWLENS_URL="+srv.url, "FLOWLENS_TOKEN="+srv.token, "FLOWLENS_OUT="+shots,
		"FLOWLENS_DOCS_DIR="+docsDir, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("console tests:\n%s", out)
	if err != nil {
		t.Fatalf("the console's browser tests failed (%v); screenshots in %s", err, shots)
	}
}
