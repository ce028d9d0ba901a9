package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestCWLServeHelper is flowlens serve in a process of its own, for the
// kill -9 test (the test binary re-executed with FLOWLENS_CWL_HELPER=DIR).
func TestCWLServeHelper(t *testing.T) {
	dir := os.Getenv("FLOWLENS_CWL_HELPER")
	if dir == "" {
		t.Skip("helper process for the kill -9 test")
	}
	env := &Env{Stdin: strings.NewReader(""), Stdout: os.Stdout, Stderr: os.Stderr, Getenv: func(string) string { return "" }}
	args := []string{"--data", dir, "--listen", "127.0.0.1:0", "--log-format", "text"}
	args = append(args, strings.Fields(os.Getenv("FLOWLENS_HELPER_ARGS"))...)
	err := runServe(context.Background(), env, args)
	fmt.Println("serve ended:", err)
	os.Exit(0)
}

// TestServeCWLKill9 kills flowlens serve with SIGKILL during a stream of
// PutLogEvents: after a restart every acknowledged event is there, once,
// and retrying the batches whose answer was lost stores them once.
func TestServeCWLKill9(t *testing.T) {
	data := t.TempDir()
	akid, secret := createKey(t, data, "crash")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCWLServeHelper$")
	cmd.Env = append(os.Environ(), "FLOWLENS_CWL_HELPER="+data)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var url string
	for deadline := time.Now().Add(60 * time.Second); ; {
		if info, err := readServeInfo(data); err == nil && info.URL != "" {
			url = info.URL
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper serve did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx := context.Background()
	c := cwlClient(url, akid, secret)
	g, s := aws.String("crash"), aws.String("eni-0a1b2c3d-all")
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: g}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: g, LogStreamName: s}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Hour).Unix()
	batch := func(b int) []types.InputLogEvent {
		evs := make([]types.InputLogEvent, 100)
		for i := range evs {
			start := base + int64(b*100+i)
			evs[i] = types.InputLogEvent{Timestamp: aws.Int64(start * 1000), Message: aws.String(flowLine("eni-0a1b2c3d", b*100+i, start))}
		}
		return evs
	}
	// writers stream batches; the server is killed after 20 acknowledgements
	acked := map[int]bool{}
	type result struct {
		b   int
		err error
	}
	results := make(chan result)
	next := 0
	for w := 0; w < 4; w++ {
		go func(w int) {
			for b := w; ; b += 4 {
				_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: g, LogStreamName: s, LogEvents: batch(b)})
				results <- result{b, err}
				if err != nil {
					return
				}
			}
		}(w)
	}
	sent := map[int]bool{}
	failed := 0
	for failed < 4 {
		r := <-results
		sent[r.b] = true
		next = max(next, r.b+1)
		if r.err != nil {
			failed++
			continue
		}
		acked[r.b] = true
		if len(acked) == 20 {
			if err := cmd.Process.Signal(os.Kill); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = cmd.Wait()
	if len(acked) < 20 {
		t.Fatalf("only %d batches acknowledged", len(acked))
	}
	// restart in this process (a killed server leaves its serve files behind)
	removeServeFiles(data)
	srv := startServe(t, data)
	c = cwlClient(srv.url, akid, secret)
	count := func() (int, int) {
		t.Helper()
		seen := map[string]int{}
		n := 0
		p := cloudwatchlogs.NewFilterLogEventsPaginator(c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: g})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				seen[aws.ToString(e.Message)]++
				n++
			}
		}
		return n, len(seen)
	}
	n, distinct := count()
	if n != distinct {
		t.Errorf("after kill -9: %d events, %d distinct", n, distinct)
	}
	if n < len(acked)*100 || n > len(sent)*100 || n%100 != 0 {
		t.Errorf("after kill -9: %d events; %d batches acknowledged, %d sent (whole batches only)", n, len(acked), len(sent))
	}
	// every acknowledged event is there, by content
	res, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: g, LogStreamName: s, StartFromHead: aws.Bool(true), Limit: aws.Int32(10000)})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range res.Events {
		have[aws.ToString(e.Message)] = true
	}
	for b := range acked {
		for _, e := range batch(b) {
			if !have[aws.ToString(e.Message)] {
				t.Fatalf("acknowledged event of batch %d missing: %s", b, aws.ToString(e.Message))
			}
		}
	}
	// clients retry what got no answer (and some that did): each stored once
	for b := 0; b < next; b++ {
		if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: g, LogStreamName: s, LogEvents: batch(b)}); err != nil {
			t.Fatal(err)
		}
	}
	n, distinct = count()
	if n != next*100 || distinct != n {
		t.Errorf("after the retries: %d events (%d distinct), want %d", n, distinct, next*100)
	}
}
