package cli

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// mailSink is a minimal SMTP server (no TLS, no AUTH) that keeps the DATA
// of each message.
func mailSink(t *testing.T) (string, func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var msgs []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				r := bufio.NewReader(c)
				fmt.Fprint(c, "220 sink\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
					case "EHLO", "HELO":
						fmt.Fprint(c, "250 sink\r\n")
					case "DATA":
						fmt.Fprint(c, "354 go on\r\n")
						var b strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
							b.WriteString(l)
						}
						mu.Lock()
						msgs = append(msgs, b.String())
						mu.Unlock()
						fmt.Fprint(c, "250 queued\r\n")
					case "QUIT":
						fmt.Fprint(c, "221 bye\r\n")
						return
					default:
						fmt.Fprint(c, "250 ok\r\n")
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String(), func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), msgs...) }
}

// TestServeAlarmEmail: serve's --smtp-server and --smtp-from carry an
// alarm's mailto: action to an SMTP server; a bad SMTP flag is a usage
// error.
func TestServeAlarmEmail(t *testing.T) {
	addr, messages := mailSink(t)
	data := t.TempDir()
	mustStore(t, nil, "filters", "add", "--data", data, "--log-group-name", "my-flow-log", "--filter-name", "SSHAccess",
		"--filter-pattern", walkthroughPattern22, "--metric-transformations", "metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess")
	mustStore(t, nil, "alarms", "add", "--data", data, "--name", "ssh-brute-force", "--namespace", "LogMetrics", "--metric", "SSHAccess",
		"--period", "60", "--evaluation-periods", "2", "--datapoints-to-alarm", "1", "--threshold", "10",
		"--treat-missing-data", "notBreaching", "--action", "mailto:oncall@example.com")
	if code, _, errs := storeRun(t, nil, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--smtp-from", "a@example.com"); code != 2 || !strings.Contains(errs, "--smtp-server") {
		t.Fatalf("--smtp-from alone: exit %d %s", code, errs)
	}
	srv := startServe(t, data, "--alarm-interval", "200ms", "--smtp-server", addr, "--smtp-from", "flowlens@example.com", "--smtp-tls", "never")
	_ = srv
	minute := time.Now().Unix()/60 - 1
	var b strings.Builder
	for i := range 30 {
		s := minute*60 + int64(i*2)
		fmt.Fprintf(&b, "2 111122223333 eni-0a1b2c3d4e5f60718 203.0.113.66 10.0.1.5 %d 22 6 1 60 %d %d REJECT OK\n", 50000+i, s, s+1)
	}
	mustStore(t, strings.NewReader(b.String()), "ingest", "--data", data, "--dataset", "my-flow-log", "--format", "default", "-")
	for deadline := time.Now().Add(30 * time.Second); len(messages()) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no e-mail; history:\n%s", mustStore(t, nil, "alarms", "history", "--data", data, "ssh-brute-force"))
		}
	}
	m := messages()[0]
	if !strings.Contains(m, "Subject: [flowlens] ALARM: ssh-brute-force") || !strings.Contains(m, "To: oncall@example.com") || !strings.Contains(m, "From: flowlens@example.com") {
		t.Fatalf("message:\n%s", m)
	}
}

// TestServeCWLRetentionApplied: PutRetentionPolicy is the dataset's
// retention, which the server's retention job applies: records older than
// it go, newer ones stay.
func TestServeCWLRetentionApplied(t *testing.T) {
	data := t.TempDir()
	akid, secret := createKey(t, data, "retention")
	srv := startServe(t, data)
	old := time.Now().Add(-72 * time.Hour).Truncate(time.Hour).Unix()
	recent := time.Now().Add(-time.Hour).Unix()
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintln(&b, flowLine("eni-0a1b2c3d", i, old+int64(i)))
		fmt.Fprintln(&b, flowLine("eni-0a1b2c3d", i, recent+int64(i)))
	}
	mustStore(t, strings.NewReader(b.String()), "ingest", "--data", data, "--dataset", "dev", "--format", "default", "-")
	c := cwlClient(srv.url, akid, secret)
	if _, err := c.PutRetentionPolicy(t.Context(), &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("dev"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if code, _, env := srv.call(t, "POST", "/api/v1/jobs/retention/run", srv.token, nil); code != 200 {
		t.Fatalf("retention run: %d %v", code, env)
	}
	if n := sqlCSV(t, data, "SELECT count(*) FROM flows WHERE dataset = 'dev'")[0][0]; n != "10" {
		t.Fatalf("after retention of 1 day: %s records, want the 10 recent ones", n)
	}
	if _, err := c.DeleteRetentionPolicy(t.Context(), &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	dg, err := c.DescribeLogGroups(t.Context(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("dev")})
	if err != nil || len(dg.LogGroups) != 1 || dg.LogGroups[0].RetentionInDays != nil {
		t.Fatalf("after delete-retention-policy: %v %+v", err, dg)
	}
}
