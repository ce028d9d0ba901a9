package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeAlarm: the walkthrough's SSHAccess filter and an alarm on it,
// through a running server: an SSH brute force ingested through the CLI
// trips the alarm, whose webhook receives the change; the state and its
// history are in the CLI and the API.
func TestServeAlarm(t *testing.T) {
	data := t.TempDir()
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer hook.Close()
	mustStore(t, nil, "filters", "add", "--data", data, "--log-group-name", "my-flow-log", "--filter-name", "SSHAccess",
		"--filter-pattern", `[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`,
		"--metric-transformations", "metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess")
	// N = 2, M = 1 over 1-minute periods: the attack's minute is among the
	// two newest complete ones however the clock turns meanwhile.
	mustStore(t, nil, "alarms", "add", "--data", data, "--name", "ssh-brute-force", "--namespace", "LogMetrics", "--metric", "SSHAccess",
		"--statistic", "Sum", "--period", "60", "--evaluation-periods", "2", "--datapoints-to-alarm", "1", "--threshold", "10",
		"--treat-missing-data", "notBreaching", "--action", hook.URL+"/alarm")
	if out := mustStore(t, nil, "alarms", "list", "--data", data); !strings.Contains(out, "INSUFFICIENT_DATA") {
		t.Fatalf("a new alarm: %s", out)
	}
	srv := startServe(t, data, "--alarm-interval", "200ms")
	// 30 SSH attempts from one source in the previous minute.
	minute := time.Now().Unix()/60 - 1
	var b strings.Builder
	for i := range 30 {
		s := minute*60 + int64(i*2)
		fmt.Fprintf(&b, "2 111122223333 eni-0a1b2c3d4e5f60718 203.0.113.66 10.0.1.5 %d 22 6 1 60 %d %d REJECT OK\n", 50000+i, s, s+1)
	}
	mustStore(t, strings.NewReader(b.String()), "ingest", "--data", data, "--dataset", "my-flow-log", "--format", "default", "-")
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			out := mustStore(t, nil, "alarms", "list", "--data", data)
			t.Fatalf("no notification; alarms:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	if got[0]["newState"] != "ALARM" || got[0]["alarmName"] != "ssh-brute-force" || !strings.Contains(got[0]["reason"].(string), "30 (") {
		t.Fatalf("notification %v", got[0])
	}
	mu.Unlock()
	code, _, env := srv.call(t, "GET", "/api/v1/alarms/ssh-brute-force", srv.token, nil)
	if st := dataOf(t, env).(map[string]any)["state"].(map[string]any); code != 200 || st["stateValue"] != "ALARM" {
		t.Fatalf("GET alarm: %d %v", code, env)
	}
	// The action's history entry is written once the webhook has
	// answered, so it may follow the notification by a moment.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out := mustStore(t, nil, "alarms", "history", "--data", data, "ssh-brute-force")
		if strings.Contains(out, "StateUpdate") && strings.Contains(out, "Successfully notified") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history:\n%s", out)
		}
	}
	if m := scrape(t, srv); promValue(t, m, `flowlens_alarm_state{alarm="ssh-brute-force",state="ALARM"}`) != 1 {
		t.Fatal("alarm state not exported")
	}
	code, _, env = srv.call(t, "PUT", "/api/v1/alarms/bad", srv.token, map[string]any{"namespace": "a", "metricName": "b", "statistic": "Sum", "period": 90, "evaluationPeriods": 1, "comparisonOperator": "GreaterThanThreshold"})
	if code != 400 || !strings.Contains(fmt.Sprint(env), "multiple of 60") {
		t.Fatalf("bad alarm: %d %v", code, env)
	}
}
