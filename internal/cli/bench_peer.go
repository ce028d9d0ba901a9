package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flowlens/flowlens/internal/store/clickhouse/chhttp"
)

// A benchPeer is a tool `flowlens bench` compares flowlens with: it loads
// the dataset's .log.gz files and answers Q1–Q7 in its own SQL. The DuckDB
// table is one (bench.go); ClickHouse another. A peer is measured warm, in
// the same run as flowlens.
type benchPeer interface {
	// Name is the peer's column title.
	Name() string
	// Load loads the files and reports what it cost.
	Load(ctx context.Context, files []string) (benchLoad, error)
	// Query runs question id (Q1…Q7, needle the Q7 address) and returns
	// the number of rows of the answer.
	Query(ctx context.Context, id, needle string) (int, error)
	// PeakRSS is the peer's resident-set high-water mark since the last
	// ResetPeak (its server process's, for a server).
	PeakRSS() int64
	ResetPeak()
	Close() error
}

// benchLoad is what loading the dataset cost a peer.
type benchLoad struct {
	records int64
	elapsed time.Duration
	bytes   int64 // on disk after the load
	peakRSS int64
	note    string
}

// clickhousePeer is Debian's clickhouse-server (18.16 here), started by the
// bench as an ordinary process on free ports in its own folder, with a
// MergeTree table holding IPv4 addresses as UInt32, partitioned by day and
// ordered by (srcaddr, start) as the shared BENCHMARK.md describes. Rows
// go in over the HTTP interface as TabSeparated, one INSERT per file, two
// at a time.
type clickhousePeer struct {
	bin, dir string
	// native is host:port of the native protocol (flowlens's store)
	native string
	http   *chhttp.Client
	cmd    *exec.Cmd
	exited chan error
}

// newClickHousePeer starts clickhouse-server in dir; it returns nil and no
// error when the server is not installed.
func newClickHousePeer(ctx context.Context, dir string) (*clickhousePeer, error) {
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/clickhouse-server"); serr != nil {
			return nil, nil
		}
		bin = "/usr/sbin/clickhouse-server"
	}
	conf, err := os.ReadFile("/etc/clickhouse-server/config.xml")
	if err != nil {
		return nil, fmt.Errorf("clickhouse: the package's configuration: %w", err)
	}
	users, err := os.ReadFile("/etc/clickhouse-server/users.xml")
	if err != nil {
		return nil, fmt.Errorf("clickhouse: the package's configuration: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	ports, err := freeTCPPorts(3)
	if err != nil {
		return nil, err
	}
	c := string(conf)
	for _, r := range [][2]string{
		{"/var/lib/clickhouse/", abs + "/data/"},
		{"/var/log/clickhouse-server/", abs + "/log/"},
		{"<http_port>8123</http_port>", fmt.Sprintf("<http_port>%d</http_port>", ports[0])},
		{"<tcp_port>9000</tcp_port>", fmt.Sprintf("<tcp_port>%d</tcp_port>", ports[1])},
		{"<interserver_http_port>9009</interserver_http_port>", fmt.Sprintf("<interserver_http_port>%d</interserver_http_port>", ports[2])},
		{"<https_port>8443</https_port>", ""},
		{"<tcp_port_secure>9440</tcp_port_secure>", ""},
		{"<listen_host>::1</listen_host>", ""},
	} {
		c = strings.ReplaceAll(c, r[0], r[1])
	}
	for _, f := range []struct{ name, data string }{{"config.xml", c}, {"users.xml", string(users)}} {
		if err := os.WriteFile(filepath.Join(abs, f.name), []byte(f.data), 0o644); err != nil {
			return nil, err
		}
	}
	logf, err := os.Create(filepath.Join(abs, "server.out"))
	if err != nil {
		return nil, err
	}
	p := &clickhousePeer{bin: bin, dir: abs, exited: make(chan error, 1), native: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		http: &chhttp.Client{URL: (&url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[0]), Path: "/"}).String()}}
	p.cmd = exec.Command(bin, "--config-file="+filepath.Join(abs, "config.xml"))
	p.cmd.Dir = abs
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start clickhouse-server: %w", err)
	}
	go func() { p.exited <- p.cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := p.exec(qctx, "SELECT 1", nil)
		cancel()
		if err == nil {
			break
		}
		select {
		case werr := <-p.exited:
			return nil, fmt.Errorf("clickhouse-server exited (%v); see %s", werr, filepath.Join(abs, "server.out"))
		default:
		}
		if time.Now().After(deadline) {
			_ = p.Close()
			return nil, fmt.Errorf("clickhouse-server does not answer after 60 s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return p, nil
}

func (p *clickhousePeer) Name() string { return "ClickHouse " + p.version() }

func (p *clickhousePeer) version() string {
	out, err := p.exec(context.Background(), "SELECT version()", nil)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// exec posts one statement (with body appended as its data, when given).
func (p *clickhousePeer) exec(ctx context.Context, sql string, body io.Reader) (string, error) {
	return p.http.Do(ctx, sql, body, nil)
}

const clickhouseTable = `CREATE TABLE flows (version UInt8, account_id String, interface_id String,
	srcaddr UInt32, dstaddr UInt32, srcport UInt16, dstport UInt16, protocol UInt8, packets UInt64, bytes UInt64,
	start UInt32, end UInt32, action String, log_status String)
	ENGINE = MergeTree PARTITION BY toYYYYMMDD(toDateTime(start)) ORDER BY (srcaddr, start)`

func (p *clickhousePeer) Load(ctx context.Context, files []string) (benchLoad, error) {
	var l benchLoad
	if _, err := p.exec(ctx, "DROP TABLE IF EXISTS flows", nil); err != nil {
		return l, err
	}
	if _, err := p.exec(ctx, clickhouseTable, nil); err != nil {
		return l, err
	}
	p.ResetPeak()
	t0 := time.Now()
	work := make(chan string)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				if err := p.loadFile(ctx, f); err != nil {
					errs <- fmt.Errorf("%s: %w", f, err)
					return
				}
			}
		}()
	}
	var err error
send:
	for _, f := range files {
		select {
		case work <- f:
		case err = <-errs:
			break send
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	if err != nil {
		return l, err
	}
	l.elapsed = time.Since(t0)
	l.peakRSS = p.PeakRSS()
	out, err := p.exec(ctx, "SELECT count() FROM flows", nil)
	if err != nil {
		return l, err
	}
	l.records, _ = strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	// The parts a load leaves are merged in the background; the queries
	// run on the merged table (not counted in the load).
	if _, err := p.exec(ctx, "OPTIMIZE TABLE flows FINAL", nil); err != nil {
		return l, err
	}
	out, err = p.exec(ctx, "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'default' AND table = 'flows' AND active", nil)
	if err != nil {
		return l, err
	}
	l.bytes, _ = strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	l.note = "merged (OPTIMIZE FINAL, not counted in the load)"
	return l, nil
}

// loadFile converts one .log.gz file to TabSeparated (IPv4 as numbers, '-'
// as the column's default) and inserts it.
func (p *clickhousePeer) loadFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		bw := bufio.NewWriterSize(pw, 1<<20)
		first := true
		var fields [][]byte
		for sc.Scan() {
			line := sc.Bytes()
			if first {
				first = false
				if bytes.HasPrefix(line, []byte("version")) {
					continue
				}
			}
			fields = bytes.Fields(line)
			if len(fields) != 14 {
				continue
			}
			for i, v := range fields {
				if i > 0 {
					_ = bw.WriteByte('\t')
				}
				dash := len(v) == 1 && v[0] == '-'
				switch {
				case i == 3 || i == 4:
					n := uint32(0)
					if !dash {
						n, _ = parseDottedQuad(v)
					}
					_, _ = bw.WriteString(strconv.FormatUint(uint64(n), 10))
				case dash && (i == 1 || i == 2 || i == 12 || i == 13):
				case dash:
					_ = bw.WriteByte('0')
				default:
					_, _ = bw.Write(v)
				}
			}
			_ = bw.WriteByte('\n')
		}
		err := sc.Err()
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	_, err = p.exec(ctx, "INSERT INTO flows FORMAT TabSeparated", pr)
	_ = pr.Close()
	return err
}

// parseDottedQuad reads an IPv4 address (0 for anything else: the bench's
// data is IPv4).
func parseDottedQuad(b []byte) (uint32, bool) {
	var v, oct uint32
	dots, digits := 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			oct = oct*10 + uint32(c-'0')
			digits++
		case c == '.':
			v, oct, digits = v<<8|oct, 0, 0
			dots++
		default:
			return 0, false
		}
	}
	if dots != 3 || digits == 0 {
		return 0, false
	}
	return v<<8 | oct, true
}

// clickhouseQueries are Q1–Q7 in ClickHouse SQL (NEEDLE: Q7's address).
var clickhouseQueries = map[string]string{
	"Q1": `SELECT IPv4NumToString(srcaddr) AS s, IPv4NumToString(dstaddr) AS d, sum(bytes) AS b FROM flows GROUP BY srcaddr, dstaddr ORDER BY b DESC LIMIT 10`,
	"Q2": `SELECT IPv4NumToString(srcaddr) AS s, count() AS n FROM flows WHERE action = 'REJECT' GROUP BY srcaddr ORDER BY n DESC LIMIT 20`,
	"Q3": `SELECT intDiv(start, 300) * 300 AS t, sum(bytes) AS b FROM flows GROUP BY t ORDER BY t`,
	"Q4": `SELECT IPv4NumToString(srcaddr) AS s, count() AS n FROM flows WHERE action = 'REJECT' AND dstport = 22 GROUP BY srcaddr ORDER BY n DESC LIMIT 20`,
	"Q5": `SELECT IPv4NumToString(srcaddr) AS s, uniqExact(dstport) AS p FROM flows GROUP BY srcaddr HAVING p > 100`,
	"Q6": `SELECT IPv4NumToString(dstaddr) AS d, sum(bytes) AS b FROM flows WHERE srcaddr BETWEEN 167837696 AND 167903231 GROUP BY dstaddr ORDER BY b DESC LIMIT 10`,
	"Q7": `SELECT start, IPv4NumToString(srcaddr), IPv4NumToString(dstaddr), srcport, dstport, bytes FROM flows WHERE srcaddr = IPv4StringToNum('NEEDLE')`,
}

func (p *clickhousePeer) Query(ctx context.Context, id, needle string) (int, error) {
	q, ok := clickhouseQueries[id]
	if !ok {
		return 0, fmt.Errorf("clickhouse: no query %s", id)
	}
	out, err := p.exec(ctx, strings.ReplaceAll(q, "NEEDLE", strings.ReplaceAll(needle, "'", ""))+" FORMAT TabSeparated", nil)
	if err != nil {
		return 0, err
	}
	return strings.Count(out, "\n"), nil
}

func (p *clickhousePeer) PeakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	return parseStatusKB(string(b), "VmHWM:")
}

func (p *clickhousePeer) ResetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0)
}

// Close stops the server.
func (p *clickhousePeer) Close() error {
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
	return nil
}

// freeTCPPorts returns n ports free on 127.0.0.1 right now.
func freeTCPPorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
