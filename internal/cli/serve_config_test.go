package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/config"
	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

// writeFile writes text to name in a new folder and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeConfigFollow: a flowlens serve started with only --config
// takes its data folder, listener, limits and followed prefixes (with a
// dataset, an interval and a lookback of their own) from the file,
// ingests a gofakes3 bucket, and picks up what is delivered while it
// runs; a flag on the command line wins over the file.
func TestServeConfigFollow(t *testing.T) {
	s3srv := startS3(t)
	s3srv.bucket(t, "vpc")
	plain := generateDay(t, 2000, "2026-01-15", "s3", 31)
	hive := []generated{generateDay(t, 1000, "2026-01-15", "parquet", 32, "--hive", "--per-hour"),
		generateDay(t, 500, "2026-01-16", "parquet", 33, "--hive", "--per-hour")}
	s3srv.upload(t, "vpc", "plain/", plain)
	s3srv.upload(t, "vpc", "hive/", hive[0])
	data := t.TempDir()
	path := writeFile(t, "serve.yaml", fmt.Sprintf(`# flowlens serve --config serve.yaml
data: %s
listen: 127.0.0.1:0
log-format: text
grace: 2s
max-rows: 20000
follow-interval: 1h
follow:
  - s3://vpc/plain/
  - url: s3://vpc/hive/
    dataset: pq
    interval: 1s
    lookback: 3h
`, data))
	srv := startServeArgs(t, data, "--config", path)
	count := func(ds string) int64 {
		return sqlCount(t, srv, "SELECT count(*) FROM flows WHERE dataset = '"+ds+"'")
	}
	waitUntil(t, "the bucket's first day", func() bool { return count("default") == 2000 && count("pq") == 1000 })
	st := followStats(t, srv.url, srv.token)
	if len(st) != 2 || st[0]["dataset"] != "default" || st[0]["interval"] != "1h0m0s" || st[1]["dataset"] != "pq" || st[1]["interval"] != "1s" {
		t.Fatalf("followed prefixes: %s", jsonText(st))
	}
	plainListed := st[0]["lastList"]

	// The hive prefix is listed every second: the next day is there
	// within a listing; the plain one waits for its hour.
	s3srv.upload(t, "vpc", "hive/", hive[1])
	waitUntil(t, "the next day", func() bool { return count("pq") == 1500 })
	if st := followStats(t, srv.url, srv.token); st[0]["lastList"] != plainListed {
		t.Errorf("the plain prefix was listed again before its interval: %s", jsonText(st[0]))
	}
	status, _, env := srv.call(t, "POST", "/api/v1/query", srv.token, map[string]any{"query": "stats count(*)", "limit": 30000})
	if msg := jsonText(env); status != 400 || !strings.Contains(msg, "maximum of 20000 rows") {
		t.Errorf("max-rows of the file: %d %s", status, msg)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}

	// A flag wins over the file; the checkpoints resume.
	srv = startServeArgs(t, data, "--config", path, "--max-rows", "40000")
	status, _, env = srv.call(t, "POST", "/api/v1/query", srv.token, map[string]any{"query": "stats count(*)", "limit": 30000})
	if status != 200 {
		t.Errorf("--max-rows over the file: %d %s", status, jsonText(env))
	}
	waitUntil(t, "a listing after the restart", func() bool {
		st := followStats(t, srv.url, srv.token)
		return len(st) == 2 && st[1]["lastList"] != "0001-01-01T00:00:00Z"
	})
	if a, b := count("default"), count("pq"); a != 2000 || b != 1500 {
		t.Errorf("after the restart: %d and %d records", a, b)
	}
}

// TestServeConfigErrors: a bad file stops serve before it starts, with
// the file and line of the mistake.
func TestServeConfigErrors(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{"data: " + data + "\nlisten: 127.0.0.1:0\nquery-timout: 1m\n", `serve.yaml:3: unknown key "query-timout" (did you mean "query-timeout"?)`},
		{"data: " + data + "\nmax-rows: many\n", `serve.yaml:2: max-rows "many": parse error`},
		{"data: " + data + "\nfollow:\n  - url: s3://b/p/\n    dataset: 'no spaces'\n", `serve.yaml:3: follow: `},
		{"data: " + data + "\nretention-schedule: sometimes\n", `--retention-schedule: `},
		{"data: " + data + "\nretention-schedule: sometimes\n", "/serve.yaml:2)"},
		{"data: " + data + "\nstore: flows\n", `--store "flows": not a clickhouse:// URL, and `},
		{"data: " + data + "\nstore: flow\nclusters:\n  flows:\n    shards: [127.0.0.1:1]\n", `not a clickhouse:// URL nor a cluster of `},
		{"listen: [a\n", `serve.yaml:1: not valid YAML: `},
	} {
		path := writeFile(t, "serve.yaml", c.text)
		code, _, errs := storeRun(t, nil, "serve", "--config", path)
		if code != 2 || !strings.Contains(errs, c.want) || !strings.Contains(errs, "serve.yaml") {
			t.Errorf("%q: exit %d\n%s\nwant %s", c.text, code, errs, c.want)
		}
	}
	if code, _, errs := storeRun(t, nil, "serve", "--config", filepath.Join(data, "none.yaml")); code != 1 || !strings.Contains(errs, "none.yaml") {
		t.Errorf("missing file: exit %d %s", code, errs)
	}
}

// TestServeConfigCluster: --store names a cluster of the file; serve
// keeps the records on its two ClickHouse shards, and a cluster whose
// shards differ from those the servers list stops serve with both lists.
func TestServeConfigCluster(t *testing.T) {
	srvs := chtest.StartCluster(t, 2, "two")
	logs := generateDay(t, 3000, "2026-01-15", "s3", 41)
	data := t.TempDir()
	path := writeFile(t, "serve.yaml", fmt.Sprintf(`data: %s
listen: 127.0.0.1:0
grace: 2s
clusters:
  two:
    shards: [%s, %s]
    database: cfg
`, data, srvs[0].Native, srvs[1].Native))
	srv := startServeArgs(t, data, "--config", path, "--store", "two")
	out := mustStore(t, nil, "ingest", "--data", data, "--store", "two", logs.dir)
	if !strings.Contains(out, "3000 records") {
		t.Errorf("forwarded ingest:\n%s", out)
	}
	if n := sqlCount(t, srv, "SELECT count(*) FROM flows"); n != 3000 {
		t.Errorf("%d records through the server", n)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var onShards int
	for _, s := range srvs {
		res, err := s.Query(ctx, "SELECT count() FROM cfg.records")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		fmt.Sscan(strings.TrimSpace(res), &n)
		if n == 0 || n == 3000 {
			t.Errorf("shard %s holds %d of the 3000 records", s.Native, n)
		}
		onShards += n
	}
	if onShards != 3000 {
		t.Errorf("the shards hold %d records", onShards)
	}

	bad := writeFile(t, "serve.yaml", fmt.Sprintf("data: %s\nstore: two\nclusters:\n  two:\n    shards: [%s]\n    database: cfg\n", data, srvs[0].Native))
	code, _, errs := storeRun(t, nil, "serve", "--config", bad, "--listen", "127.0.0.1:0")
	want := fmt.Sprintf("cluster two: %s:4 lists the shards %s, the ClickHouse server lists %s, %s", bad, srvs[0].Native, srvs[0].Native, srvs[1].Native)
	if code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, "<remote_servers>") {
		t.Errorf("shards that differ: exit %d\n%s\nwant %s", code, errs, want)
	}
}

// TestServeConfigExamples: the example files of serve --help and of
// docs/server-config.md use only keys serve knows and parse.
func TestServeConfigExamples(t *testing.T) {
	_, help, _ := storeRun(t, nil, "serve", "--help")
	var keys []string
	for _, l := range strings.Split(help, "\n") {
		if name, ok := strings.CutPrefix(l, "  -"); ok {
			name, _, _ = strings.Cut(name, " ")
			if name != "config" && name != "follow" {
				keys = append(keys, name)
			}
		}
	}
	if len(keys) < 20 {
		t.Fatalf("flags of serve --help: %v", keys)
	}
	_, example, ok := strings.Cut(help, "# flowlens serve --config /etc/flowlens/serve.yaml\n")
	if !ok {
		t.Fatalf("serve --help has no example file:\n%s", help)
	}
	doc, err := os.ReadFile("../../docs/server-config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, docExample, _ := strings.Cut(string(doc), "```yaml\n")
	docExample, _, _ = strings.Cut(docExample, "```")
	for name, text := range map[string]string{"serve --help": example, "docs/server-config.md": docExample} {
		f, err := config.Parse(name, []byte(text), keys)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(f.Follow) < 2 || f.Cluster("flows") == nil || len(f.Settings) < 8 {
			t.Errorf("%s: %+v", name, f)
		}
	}
}
