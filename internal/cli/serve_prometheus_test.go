package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireBinary returns the path of a Debian package's program, or skips
// the test when it is missing and FLOWLENS_REQUIRE_PROMETHEUS is unset (CI
// installs it through .ci/apt-packages and sets it).
func requireBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("FLOWLENS_REQUIRE_PROMETHEUS") != "" {
			t.Fatalf("%s is not installed (Debian packages prometheus and prometheus-alertmanager)", name)
		}
		t.Skipf("%s is not installed: apt-get install prometheus prometheus-alertmanager (FLOWLENS_REQUIRE_PROMETHEUS=1 makes this a failure)", name)
	}
	return p
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startDaemon runs a program until the test ends and waits until url
// answers 200.
func startDaemon(t *testing.T, ready string, prog string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prog, args...)
	logf, _ := os.Create(filepath.Join(t.TempDir(), filepath.Base(prog)+".log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("%s did not start:\n%s", prog, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v: %s", u, err, b)
	}
}

// TestServePrometheusAlertmanager is the "done when": the
// walkthrough's SSHAccess filter counts the injected SSH attack, Debian's
// Prometheus scrapes the count from /metrics (asked through its query
// API), and the alarm on it reaches Debian's Alertmanager (asked through
// its v2 API).
func TestServePrometheusAlertmanager(t *testing.T) {
	promBin := requireBinary(t, "prometheus")
	amBin := requireBinary(t, "prometheus-alertmanager")
	tmp := t.TempDir()

	amAddr := freePort(t)
	amCfg := filepath.Join(tmp, "alertmanager.yml")
	os.WriteFile(amCfg, []byte("route:\n  receiver: devnull\nreceivers:\n  - name: devnull\n"), 0o644)
	startDaemon(t, "http://"+amAddr+"/-/ready", amBin, "--config.file="+amCfg, "--storage.path="+filepath.Join(tmp, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")

	data := t.TempDir()
	mustStore(t, nil, "filters", "add", "--data", data, "--log-group-name", "my-flow-log", "--filter-name", "SSHAccess",
		"--filter-pattern", `[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`,
		"--metric-transformations", "metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess")
	mustStore(t, nil, "alarms", "add", "--data", data, "--name", "ssh-brute-force", "--namespace", "LogMetrics", "--metric", "SSHAccess",
		"--period", "60", "--evaluation-periods", "2", "--datapoints-to-alarm", "1", "--threshold", "10",
		"--treat-missing-data", "notBreaching", "--action", "alertmanager+http://"+amAddr)
	srv := startServe(t, data, "--alarm-interval", "200ms")

	promAddr := freePort(t)
	u, _ := url.Parse(srv.url)
	promCfg := filepath.Join(tmp, "prometheus.yml")
	os.WriteFile(promCfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: flowlens
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials: %q
    static_configs:
      - targets: [%q]
`, srv.token, u.Host)), 0o644)
	startDaemon(t, "http://"+promAddr+"/-/ready", promBin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(tmp, "prom"),
		"--web.listen-address="+promAddr)

	minute := time.Now().Unix()/60 - 1
	var b strings.Builder
	b.WriteString("2 111122223333 eni-0a1b2c3d4e5f60718 10.0.1.9 10.0.1.5 50000 443 6 1 60 " + fmt.Sprint(minute*60, " ", minute*60+1) + " ACCEPT OK\n")
	for i := range 25 {
		s := minute*60 + int64(i*2)
		fmt.Fprintf(&b, "2 111122223333 eni-0a1b2c3d4e5f60718 203.0.113.66 10.0.1.5 %d 22 6 1 60 %d %d REJECT OK\n", 50000+i, s, s+1)
	}
	mustStore(t, strings.NewReader(b.String()), "ingest", "--data", data, "--dataset", "my-flow-log", "--format", "default", "-")

	// Prometheus has the count.
	q := url.QueryEscape(`flowlens_metric_filter_value_total{filter="SSHAccess",namespace="LogMetrics",metric="SSHAccess"}`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var res struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		getJSON(t, "http://"+promAddr+"/api/v1/query?query="+q, &res)
		if len(res.Data.Result) == 1 && res.Data.Result[0].Value[1] == "25" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus has no SSHAccess = 25: %+v", res)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The server's own health too: a query's latency and the ingest rate.
	if code, _, env := srv.call(t, "POST", "/api/v1/query", srv.token, map[string]any{"query": "stats count(*)"}); code != 200 {
		t.Fatalf("query: %d %v", code, env)
	}
	for _, pq := range []string{`flowlens_query_duration_seconds_count{kind="insights",outcome="ok"}`, `flowlens_ingest_records_total{dataset="my-flow-log"}`} {
		q := url.QueryEscape(pq)
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			var res struct {
				Data struct {
					Result []struct {
						Value []any `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			getJSON(t, "http://"+promAddr+"/api/v1/query?query="+q, &res)
			if len(res.Data.Result) == 1 && res.Data.Result[0].Value[1] != "0" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus has no %s: %+v", pq, res)
			}
		}
	}
	// Alertmanager has the alert.
	deadline = time.Now().Add(60 * time.Second)
	for {
		var alerts []struct {
			Labels map[string]string `json:"labels"`
			Status struct {
				State string `json:"state"`
			} `json:"status"`
		}
		getJSON(t, "http://"+amAddr+"/api/v2/alerts", &alerts)
		if len(alerts) == 1 && alerts[0].Labels["alertname"] == "ssh-brute-force" && alerts[0].Labels["metric"] == "SSHAccess" && alerts[0].Status.State == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager has no active ssh-brute-force alert: %+v", alerts)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
