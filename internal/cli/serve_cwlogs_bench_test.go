package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// BenchmarkPutLogEvents measures PutLogEvents through aws-sdk-go-v2 against
// a real flowlens serve: 8 writers, batches of 1,000 default-format flow log
// records, each acknowledged once durable. go test -tags duckdb_arrow,isal
// -run '^$' -bench PutLogEvents -benchtime 200x ./internal/cli
func BenchmarkPutLogEvents(b *testing.B) {
	data := b.TempDir()
	ts := accessKeyStore(&Env{Getenv: func(string) string { return "" }}, data)
	akid, secret, _, err := ts.CreateAccessKey(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	go func() {
		done <- runServe(ctx, env, []string{"--data", data, "--listen", "127.0.0.1:0", "--log-level", "error"})
	}()
	defer func() { cancel(); <-done }()
	var url string
	for url == "" {
		if info, err := readServeInfo(data); err == nil {
			url = info.URL
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := cwlClient(url, akid, secret)
	g := aws.String("bench")
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: g}); err != nil {
		b.Fatal(err)
	}
	const writers, perBatch = 8, 1000
	for w := range writers {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: g, LogStreamName: aws.String(fmt.Sprintf("eni-%08x-all", w))}); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Now().Add(-3 * time.Hour).Unix()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eni := fmt.Sprintf("eni-%08x", w)
			for {
				n := next.Add(1) - 1
				if n >= int64(b.N) {
					return
				}
				evs := make([]types.InputLogEvent, perBatch)
				for i := range evs {
					t := base + n
					evs[i] = types.InputLogEvent{Timestamp: aws.Int64(t * 1000), Message: aws.String(flowLine(eni, (int(n)*perBatch+i)%10000, t))}
				}
				if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: g, LogStreamName: aws.String(eni + "-all"), LogEvents: evs}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.ReportMetric(float64(b.N*perBatch)/el.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/el.Seconds(), "batches/s")
}
