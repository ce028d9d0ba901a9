package sqlgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// TestClickHouseGoldensRun sends the ClickHouse SQL of every golden file to
// a real ClickHouse server (Debian's clickhouse-server, started here on
// free ports in a temporary folder) over an empty `flows` table with the
// columns of the store contract: the SQL must parse and bind there. The
// goldens listed in testdata/clickhouse-known-failures.txt use what
// Debian's ClickHouse (18.16) lacks; the test fails when one of the others
// fails, and when a listed one runs (take it off the list).
//
// Without clickhouse-server installed the test is skipped, unless
// FLOWLENS_REQUIRE_CLICKHOUSE is set (make test sets it; scripts/setup.sh
// installs the package).
func TestClickHouseGoldensRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a ClickHouse server")
	}
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		if os.Getenv("FLOWLENS_REQUIRE_CLICKHOUSE") != "" {
			t.Fatal("clickhouse-server is not installed (scripts/setup.sh installs it)")
		}
		t.Skip("clickhouse-server is not installed")
	}
	ch := startClickHouse(t, bin)
	if _, err := ch.query(t.Context(), flowsTableDDL()); err != nil {
		t.Fatalf("create flows: %v", err)
	}
	known := knownFailures(t)
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, secs := parseTxtar(string(data))
		sql := ""
		for _, s := range secs {
			if s.name == "clickhouse" {
				sql = strings.TrimSpace(s.data)
			}
		}
		if sql == "" {
			continue
		}
		name := filepath.Base(file)
		ran++
		_, err = ch.query(t.Context(), sql)
		switch _, listed := known[name]; {
		case err != nil && !listed:
			t.Errorf("%s: ClickHouse rejects the SQL: %v\n%s", name, err, sql)
		case err == nil && listed:
			t.Errorf("%s runs on ClickHouse now: take it off testdata/clickhouse-known-failures.txt", name)
		}
		delete(known, name)
	}
	for name := range known {
		t.Errorf("testdata/clickhouse-known-failures.txt lists %s, which has no ClickHouse SQL", name)
	}
	t.Logf("%d golden ClickHouse statements sent", ran)
}

// knownFailures reads testdata/clickhouse-known-failures.txt: a golden file
// name per line, then why ('#' starts a comment).
func knownFailures(t *testing.T) map[string]string {
	f, err := os.Open("testdata/clickhouse-known-failures.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, why, _ := strings.Cut(line, " ")
		out[name] = strings.TrimSpace(why)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// flowsTableDDL creates `flows` with the columns of the store contract
// (package store): every catalog field, the dataset and partition columns
// and the internal ones.
func flowsTableDDL() string {
	var cols []string
	add := func(name, typ string) { cols = append(cols, "`"+name+"` "+typ) }
	add("dataset", "Nullable(String)")
	for _, f := range flowlog.Fields() {
		switch {
		case f.Kind.Numeric() && (f.Kind == flowlog.KindTime || f.Type == "int64"):
			add(f.Column, "Nullable(Int64)")
		case f.Kind.Numeric():
			add(f.Column, "Nullable(Int32)")
		default:
			add(f.Column, "Nullable(String)")
		}
	}
	for _, c := range []string{"year", "month", "day", "hour", "dt", "accid", "aws-account-id", "aws-region", "aws-service"} {
		add(c, "Nullable(String)")
	}
	add("date", "Nullable(Date)")
	add("_hour", "Int64")
	add("_srcaddr_v4", "Nullable(UInt32)")
	add("_dstaddr_v4", "Nullable(UInt32)")
	add("_format_id", "Int32")
	add("_ingest_time", "Int64")
	add("_dataset_id", "UInt16")
	add("_file_id", "UInt32")
	return "CREATE TABLE flows (" + strings.Join(cols, ", ") + ") ENGINE = Memory"
}

// clickHouse is a server started for a test, reached over HTTP.
type clickHouse struct{ url string }

func (c clickHouse) query(ctx context.Context, sql string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(sql))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// startClickHouse runs clickhouse-server with a copy of the package's
// configuration whose paths point into a temporary folder and whose ports
// are free ones, and waits until it answers.
func startClickHouse(t *testing.T, bin string) clickHouse {
	t.Helper()
	dir := t.TempDir()
	conf, err := os.ReadFile("/etc/clickhouse-server/config.xml")
	if err != nil {
		t.Fatalf("the clickhouse-server package's configuration: %v", err)
	}
	users, err := os.ReadFile("/etc/clickhouse-server/users.xml")
	if err != nil {
		t.Fatalf("the clickhouse-server package's configuration: %v", err)
	}
	ports := freePorts(t, 3)
	c := string(conf)
	for _, r := range [][2]string{
		{"/var/lib/clickhouse/", dir + "/data/"},
		{"/var/log/clickhouse-server/", dir + "/log/"},
		{"<http_port>8123</http_port>", fmt.Sprintf("<http_port>%d</http_port>", ports[0])},
		{"<tcp_port>9000</tcp_port>", fmt.Sprintf("<tcp_port>%d</tcp_port>", ports[1])},
		{"<interserver_http_port>9009</interserver_http_port>", fmt.Sprintf("<interserver_http_port>%d</interserver_http_port>", ports[2])},
		{"<https_port>8443</https_port>", ""},
		{"<tcp_port_secure>9440</tcp_port_secure>", ""},
		{"<listen_host>::1</listen_host>", ""},
	} {
		c = strings.ReplaceAll(c, r[0], r[1])
	}
	for _, f := range []struct {
		name string
		data string
	}{{"config.xml", c}, {"users.xml", string(users)}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logf, err := os.Create(filepath.Join(dir, "server.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+filepath.Join(dir, "config.xml"))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start clickhouse-server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logf.Close()
	})
	ch := clickHouse{url: (&url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[0]), Path: "/"}).String()}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, err := ch.query(ctx, "SELECT 1")
		cancel()
		if err == nil {
			return ch
		}
		select {
		case werr := <-exited:
			out, _ := os.ReadFile(filepath.Join(dir, "server.out"))
			t.Fatalf("clickhouse-server exited (%v):\n%s", werr, tail(string(out), 2000))
		default:
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(dir, "server.out"))
			t.Fatalf("clickhouse-server does not answer after 60 s: %v\n%s", err, tail(string(out), 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freePorts(t *testing.T, n int) []int {
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	sort.Ints(ports)
	return ports
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
