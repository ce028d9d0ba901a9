package cli

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeMetricFiltersKill9: flowlens serve killed with SIGKILL right
// after ingests it acknowledged, before it wrote the metric minutes: after
// a restart the metric filter's count equals SQL's — the files committed
// after the last write are evaluated again from the store, each once —
// and later ingests add to it.
func TestServeMetricFiltersKill9(t *testing.T) {
	data := t.TempDir()
	mustStore(t, nil, "filters", "add", "--data", data, "--log-group-name", "my-flow-log", "--filter-name", "SSHAccess",
		"--filter-pattern", walkthroughPattern22, "--metric-transformations", "metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess")
	start := func() (*exec.Cmd, *bytes.Buffer, *sync.Mutex) {
		t.Helper()
		_ = os.Remove(data + "/" + serveInfoName)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCWLServeHelper$")
		cmd.Env = append(os.Environ(), "FLOWLENS_CWL_HELPER="+data)
		var mu sync.Mutex
		var out bytes.Buffer
		w := lockedWriter{&mu, &out}
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if info, err := readServeInfo(data); err == nil && info.URL != "" && serverOwns(data) {
				return cmd, &out, &mu
			}
			if time.Now().After(deadline) {
				t.Fatal("the helper serve did not start")
			}
		}
	}
	base := time.Now().Unix()/60 - 60
	cmd, _, _ := start()
	for i := range 3 {
		text, _ := flowLines(base+int64(i*5), 300)
		mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", writeTemp(t, "f"+strconv.Itoa(i)+".log", []byte(text)))
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	_, out, mu := start()
	srv := &testServer{}
	info, _ := readServeInfo(data)
	srv.url = info.URL
	srv.token = strings.TrimSpace(mustStore(t, nil, "tokens", "create", "--data", data, "--name", "after-crash"))
	series := `flowlens_metric_filter_value_total{dataset="my-flow-log",filter="SSHAccess",metric="SSHAccess",namespace="LogMetrics",unit="None"}`
	want := sqlCSV(t, data, "SELECT count(*) FROM flows WHERE dataset = 'my-flow-log' AND dstport = 22")[0][0]
	if got := promValue(t, scrape(t, srv), series); strconv.FormatFloat(got, 'f', -1, 64) != want || want != "300" {
		t.Fatalf("after kill -9: SSHAccess = %v, SQL says %s", got, want)
	}
	mu.Lock()
	t.Logf("recovery logged: %v", strings.Contains(out.String(), "metric filter minutes recovered"))
	mu.Unlock()
	text, _ := flowLines(base+30, 30)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", writeTemp(t, "g.log", []byte(text)))
	if got := promValue(t, scrape(t, srv), series); got != 310 {
		t.Fatalf("after one more ingest: SSHAccess = %v, want 310", got)
	}
}
