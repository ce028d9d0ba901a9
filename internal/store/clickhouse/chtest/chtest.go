// Package chtest starts real ClickHouse servers for tests: Debian's
// clickhouse-server, run as an ordinary background process with a copy of
// the package's configuration whose data and log paths point into the
// test's temporary folder and whose ports are free ones. A test that needs
// a server calls Start; without clickhouse-server installed the test is
// skipped, unless FLOWLENS_REQUIRE_CLICKHOUSE is set (make test sets it;
// scripts/setup.sh installs the package), and then it fails.
package chtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/store/clickhouse/chhttp"
)

// Server is one running clickhouse-server.
type Server struct {
	// Native is host:port of the native protocol (clickhouse-go's).
	Native string
	// HTTP is the base URL of the HTTP interface.
	HTTP string
	// Dir is the server's folder (configuration, data, logs).
	Dir string
}

// DSN returns the clickhouse:// URL of database db on the server.
func (s *Server) DSN(db string) string { return "clickhouse://" + s.Native + "/" + db }

// Query runs one statement over HTTP and returns the body (TabSeparated
// unless the statement says FORMAT).
func (s *Server) Query(ctx context.Context, sql string) (string, error) {
	return s.Client().Query(ctx, sql)
}

// Client returns a client of the server's HTTP interface.
func (s *Server) Client() *chhttp.Client { return &chhttp.Client{URL: s.HTTP} }

// Binary returns the path of clickhouse-server, skipping (or failing, with
// FLOWLENS_REQUIRE_CLICKHOUSE set) the test when it is not installed.
func Binary(t testing.TB) string {
	t.Helper()
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
	return bin
}

// Start runs one server for the test; it is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartCluster(t, 1, "")[0]
}

// StartCluster runs n servers. When cluster is not empty, every server's
// configuration names a cluster of that name with each server as one shard
// (for the Distributed engine).
func StartCluster(t testing.TB, n int, cluster string) []*Server {
	t.Helper()
	bin := Binary(t)
	conf, err := os.ReadFile("/etc/clickhouse-server/config.xml")
	if err != nil {
		t.Fatalf("the clickhouse-server package's configuration: %v", err)
	}
	users, err := os.ReadFile("/etc/clickhouse-server/users.xml")
	if err != nil {
		t.Fatalf("the clickhouse-server package's configuration: %v", err)
	}
	ports := freePorts(t, 3*n)
	servers := make([]*Server, n)
	for i := range servers {
		servers[i] = &Server{
			Native: fmt.Sprintf("127.0.0.1:%d", ports[3*i+1]),
			HTTP:   (&url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[3*i]), Path: "/"}).String(),
			Dir:    t.TempDir(),
		}
	}
	remote := ""
	if cluster != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "<%s>", cluster)
		for _, s := range servers {
			host, port, _ := net.SplitHostPort(s.Native)
			fmt.Fprintf(&b, "<shard><replica><host>%s</host><port>%s</port></replica></shard>", host, port)
		}
		fmt.Fprintf(&b, "</%s>", cluster)
		remote = b.String()
	}
	for i, s := range servers {
		c := string(conf)
		for _, r := range [][2]string{
			{"/var/lib/clickhouse/", s.Dir + "/data/"},
			{"/var/log/clickhouse-server/", s.Dir + "/log/"},
			{"<http_port>8123</http_port>", fmt.Sprintf("<http_port>%d</http_port>", ports[3*i])},
			{"<tcp_port>9000</tcp_port>", fmt.Sprintf("<tcp_port>%d</tcp_port>", ports[3*i+1])},
			{"<interserver_http_port>9009</interserver_http_port>", fmt.Sprintf("<interserver_http_port>%d</interserver_http_port>", ports[3*i+2])},
			{"<https_port>8443</https_port>", ""},
			{"<tcp_port_secure>9440</tcp_port_secure>", ""},
			{"<listen_host>::1</listen_host>", ""},
		} {
			c = strings.ReplaceAll(c, r[0], r[1])
		}
		if remote != "" {
			// The package's <remote_servers> holds example clusters; ours
			// goes first inside it.
			c = strings.Replace(c, "<remote_servers incl=\"clickhouse_remote_servers\" >", "<remote_servers incl=\"clickhouse_remote_servers\" >"+remote, 1)
			if !strings.Contains(c, remote) {
				t.Fatal("chtest: the package's config.xml has no <remote_servers> element to add the cluster to")
			}
		}
		for _, f := range []struct{ name, data string }{{"config.xml", c}, {"users.xml", string(users)}} {
			if err := os.WriteFile(filepath.Join(s.Dir, f.name), []byte(f.data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		start(t, bin, s)
	}
	return servers
}

// start runs the server of s and waits until it answers.
func start(t testing.TB, bin string, s *Server) {
	t.Helper()
	logf, err := os.Create(filepath.Join(s.Dir, "server.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+filepath.Join(s.Dir, "config.xml"))
	cmd.Dir = s.Dir
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
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := s.Query(ctx, "SELECT 1")
		cancel()
		if err == nil {
			return
		}
		select {
		case werr := <-exited:
			out, _ := os.ReadFile(filepath.Join(s.Dir, "server.out"))
			t.Fatalf("clickhouse-server exited (%v):\n%s", werr, tail(string(out), 2000))
		default:
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(s.Dir, "server.out"))
			t.Fatalf("clickhouse-server does not answer after 60 s: %v\n%s", err, tail(string(out), 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freePorts(t testing.TB, n int) []int {
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
	return ports
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
