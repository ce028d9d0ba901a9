package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// createKey runs 'flowlens keys create' and returns the two values it prints.
func createKey(t *testing.T, data, name string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if err := runKeys(context.Background(), env, []string{"create", "--data", data, "--name", name}); err != nil {
		t.Fatalf("keys create: %v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "export AWS_ACCESS_KEY_ID=") || !strings.HasPrefix(lines[1], "export AWS_SECRET_ACCESS_KEY=") {
		t.Fatalf("keys create printed %q", out.String())
	}
	return strings.TrimPrefix(lines[0], "export AWS_ACCESS_KEY_ID="), strings.TrimPrefix(lines[1], "export AWS_SECRET_ACCESS_KEY=")
}

func cwlClient(url, akid, secret string) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:           "ap-northeast-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
		RetryMaxAttempts: 1,
	})
}

func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return "not an API error: " + err.Error()
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := awsCode(err); got != code {
		t.Errorf("%s: error %q (%v), want %s", what, got, err, code)
	}
}

// flowLine is a default-format record of the walkthrough's shape.
func flowLine(eni string, i int, start int64) string {
	return fmt.Sprintf("2 123456789012 %s 10.0.1.%d 10.0.1.63 80 %d 6 2 112 %d %d ACCEPT OK", eni, 10+i%200, 50000+i, start, start+52)
}

func TestServeCloudWatchLogs(t *testing.T) {
	data := t.TempDir()
	akid, secret := createKey(t, data, "walkthrough")
	srv := startServe(t, data)
	ctx := context.Background()
	c := cwlClient(srv.url, akid, secret)

	// the walkthrough: create the group, see it
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("my-flow-log")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("my-flow-log")})
	wantCode(t, "create twice", err, "ResourceAlreadyExistsException")
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bad name!")})
	wantCode(t, "bad name", err, "InvalidParameterException")
	dg, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dg.LogGroups) != 1 || aws.ToString(dg.LogGroups[0].LogGroupName) != "my-flow-log" ||
		aws.ToString(dg.LogGroups[0].Arn) != "arn:aws:logs:ap-northeast-1:000000000000:log-group:my-flow-log:*" ||
		aws.ToInt32(dg.LogGroups[0].MetricFilterCount) != 0 || aws.ToInt64(dg.LogGroups[0].CreationTime) == 0 {
		t.Fatalf("describe-log-groups: %+v", dg.LogGroups)
	}

	// streams per interface, events of the walkthrough's records (at today's time)
	base := time.Now().Add(-time.Hour).Truncate(time.Minute).Unix()
	streams := []string{"eni-a969e3f1-all", "eni-c26fe59a-all", "eni-c46ee49c-all"}
	for _, s := range streams {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(streams[0])})
	wantCode(t, "stream twice", err, "ResourceAlreadyExistsException")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("x")})
	wantCode(t, "stream of a missing group", err, "ResourceNotFoundException")
	all := map[string][]string{}
	for si, s := range streams {
		eni := strings.TrimSuffix(s, "-all")
		var evs []types.InputLogEvent
		for i := range 7 {
			start := base + int64(si*7+i)*10
			line := flowLine(eni, i, start)
			evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(start * 1000), Message: aws.String(line)})
			all[s] = append(all[s], line)
		}
		out, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(s), LogEvents: evs})
		if err != nil {
			t.Fatal(err)
		}
		if out.RejectedLogEventsInfo != nil {
			t.Fatalf("rejected: %+v", out.RejectedLogEventsInfo)
		}
		// a retry of the same batch is stored once
		if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(s), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	// a message that is no flow log record is kept aside and read back
	notFlow := "this is not a flow log record"
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(streams[2]),
		LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64((base + 1000) * 1000), Message: aws.String(notFlow)}}}); err != nil {
		t.Fatal(err)
	}
	all[streams[2]] = append(all[streams[2]], notFlow)

	ds, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("my-flow-log"), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.LogStreams) != 1 || aws.ToString(ds.LogStreams[0].LogStreamName) != streams[0] || ds.NextToken == nil ||
		aws.ToInt64(ds.LogStreams[0].FirstEventTimestamp) != base*1000 || aws.ToInt64(ds.LogStreams[0].LastEventTimestamp) != (base+60)*1000 ||
		aws.ToString(ds.LogStreams[0].Arn) != "arn:aws:logs:ap-northeast-1:000000000000:log-group:my-flow-log:log-stream:eni-a969e3f1-all" {
		t.Fatalf("describe-log-streams --limit 1: %+v", ds)
	}
	var names []string
	p := cloudwatchlogs.NewDescribeLogStreamsPaginator(c, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("my-flow-log"),
		OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.LogStreams {
			names = append(names, aws.ToString(s.LogStreamName))
		}
	}
	if strings.Join(names, ",") != "eni-c46ee49c-all,eni-c26fe59a-all,eni-a969e3f1-all" {
		t.Errorf("streams by last event time, descending: %v", names)
	}

	// get-log-events --limit 1: the newest event, and tokens f/… b/…
	ge, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(streams[1]), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ge.Events) != 1 || aws.ToString(ge.Events[0].Message) != all[streams[1]][6] || aws.ToInt64(ge.Events[0].Timestamp) != (base+13*10)*1000 ||
		aws.ToInt64(ge.Events[0].IngestionTime) == 0 || !strings.HasPrefix(aws.ToString(ge.NextForwardToken), "f/") || !strings.HasPrefix(aws.ToString(ge.NextBackwardToken), "b/") {
		t.Fatalf("get-log-events --limit 1: %+v", ge)
	}
	// paging from the head, 2 at a time, until the token comes back unchanged
	for _, s := range streams {
		var got []string
		in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(s), Limit: aws.Int32(2), StartFromHead: aws.Bool(true)}
		for range 20 {
			out, err := c.GetLogEvents(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range out.Events {
				got = append(got, aws.ToString(e.Message))
			}
			if in.NextToken != nil && aws.ToString(out.NextForwardToken) == aws.ToString(in.NextToken) {
				break
			}
			in.NextToken = out.NextForwardToken
		}
		if strings.Join(got, "\n") != strings.Join(all[s], "\n") {
			t.Errorf("stream %s forward:\n%s\nwant\n%s", s, strings.Join(got, "\n"), strings.Join(all[s], "\n"))
		}
		// and backwards from the newest
		got = nil
		in = &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(s), Limit: aws.Int32(3)}
		for range 20 {
			out, err := c.GetLogEvents(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			var page []string
			for _, e := range out.Events {
				page = append(page, aws.ToString(e.Message))
			}
			got = append(page, got...)
			if in.NextToken != nil && aws.ToString(out.NextBackwardToken) == aws.ToString(in.NextToken) {
				break
			}
			in.NextToken = out.NextBackwardToken
		}
		if strings.Join(got, "\n") != strings.Join(all[s], "\n") {
			t.Errorf("stream %s backward:\n%s", s, strings.Join(got, "\n"))
		}
	}
	// a time window: [start, end)
	gw, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(streams[0]),
		StartTime: aws.Int64((base + 10) * 1000), EndTime: aws.Int64((base + 30) * 1000), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(gw.Events) != 2 || aws.ToString(gw.Events[0].Message) != all[streams[0]][1] {
		t.Errorf("time window: %+v", gw.Events)
	}
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String("eni-00000000-all")})
	wantCode(t, "missing stream", err, "ResourceNotFoundException")

	// filter-log-events: interleaved across streams, paged
	var fe []string
	var last int64
	fp := cloudwatchlogs.NewFilterLogEventsPaginator(c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("my-flow-log"), Limit: aws.Int32(4)})
	for fp.HasMorePages() {
		page, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if aws.ToInt64(e.Timestamp) < last || len(aws.ToString(e.EventId)) != 56 || aws.ToString(e.LogStreamName) == "" {
				t.Errorf("filter event out of order or without id/stream: %+v", e)
			}
			last = aws.ToInt64(e.Timestamp)
			fe = append(fe, aws.ToString(e.Message))
		}
	}
	if len(fe) != 22 {
		t.Errorf("filter-log-events: %d events, want 22", len(fe))
	}
	fs, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamNamePrefix: aws.String("eni-c4")})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.Events) != 8 {
		t.Errorf("filter by stream prefix: %d events, want 8", len(fs.Events))
	}

	// filter patterns (the metric filter language)
	for _, tc := range []struct {
		pattern string
		want    int
	}{
		{`"eni-c46ee49c"`, 7},
		{`[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport=50003, protocol, packets, bytes, start, end, action, log_status]`, 3},
		{`[version, account_id, interface_id, srcaddr, dstaddr, srcport=80, dstport>=50005, ...]`, 6},
		{`"not a flow"`, 1},
	} {
		n := 0
		fp := cloudwatchlogs.NewFilterLogEventsPaginator(c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("my-flow-log"), FilterPattern: aws.String(tc.pattern), Limit: aws.Int32(2)})
		for fp.HasMorePages() {
			page, err := fp.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Events)
		}
		if n != tc.want {
			t.Errorf("filter-log-events --filter-pattern %s: %d events, want %d", tc.pattern, n, tc.want)
		}
	}
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("my-flow-log"), FilterPattern: aws.String("[a, b=")})
	wantCode(t, "bad filter pattern", err, "InvalidParameterException")

	// the walkthrough's test-metric-filter, exactly as AWS answers
	walk := "2 1234567890123 eni-xxxxxxxx xx.x.x.xxx yy.y.y.yyy 49907 80 6 4 216 1441204247 1441204306 ACCEPT OK"
	tm, err := c.TestMetricFilter(ctx, &cloudwatchlogs.TestMetricFilterInput{
		FilterPattern:    aws.String(`[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=80,protocol,packets,bytes,start,end,action,log_status]`),
		LogEventMessages: []string{walk, strings.Replace(walk, " 80 6 ", " 22 6 ", 1)}})
	if err != nil {
		t.Fatal(err)
	}
	wantVals := map[string]string{"$dstaddr": "yy.y.y.yyy", "$dstport": "80", "$start": "1441204247", "$account_id": "1234567890123",
		"$action": "ACCEPT", "$packets": "4", "$protocol": "6", "$interface_id": "eni-xxxxxxxx", "$bytes": "216", "$version": "2",
		"$srcaddr": "xx.x.x.xxx", "$log_status": "OK", "$srcport": "49907", "$end": "1441204306"}
	if len(tm.Matches) != 1 || tm.Matches[0].EventNumber != 1 || aws.ToString(tm.Matches[0].EventMessage) != walk || fmt.Sprint(tm.Matches[0].ExtractedValues) != fmt.Sprint(wantVals) {
		t.Errorf("test-metric-filter: %+v", tm.Matches)
	}
	// put-metric-filter and describe-metric-filters
	for _, mf := range []struct{ name, port, metric string }{{"SSHAccess", "22", "SSHAccess"}, {"HTTPAccess", "80", "HTTPAccess"}} {
		_, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("my-flow-log"), FilterName: aws.String(mf.name),
			FilterPattern:         aws.String("[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=" + mf.port + ",protocol,packets,bytes,start,end,action,log_status]"),
			MetricTransformations: []types.MetricTransformation{{MetricValue: aws.String("1"), MetricNamespace: aws.String("LogMetrics"), MetricName: aws.String(mf.metric)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("my-flow-log"), FilterName: aws.String("bad"),
		FilterPattern: aws.String("[a, b="), MetricTransformations: []types.MetricTransformation{{MetricValue: aws.String("1"), MetricNamespace: aws.String("n"), MetricName: aws.String("m")}}})
	wantCode(t, "put-metric-filter with a bad pattern", err, "InvalidParameterException")
	dm, err := c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String("my-flow-log")})
	if err != nil {
		t.Fatal(err)
	}
	if len(dm.MetricFilters) != 2 || aws.ToString(dm.MetricFilters[1].FilterName) != "SSHAccess" ||
		aws.ToString(dm.MetricFilters[1].MetricTransformations[0].MetricName) != "SSHAccess" || aws.ToInt64(dm.MetricFilters[1].CreationTime) == 0 ||
		aws.ToString(dm.MetricFilters[1].FilterPattern) != "[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]" {
		t.Errorf("describe-metric-filters: %+v", dm.MetricFilters)
	}
	dg, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || aws.ToInt32(dg.LogGroups[0].MetricFilterCount) != 2 {
		t.Errorf("metricFilterCount: %v %+v", err, dg)
	}
	if _, err := c.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: aws.String("my-flow-log"), FilterName: aws.String("HTTPAccess")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: aws.String("my-flow-log"), FilterName: aws.String("HTTPAccess")})
	wantCode(t, "delete a missing metric filter", err, "ResourceNotFoundException")

	// PutLogEvents limits and rejected events
	put := func(evs []types.InputLogEvent) (*cloudwatchlogs.PutLogEventsOutput, error) {
		return c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(streams[0]), LogEvents: evs})
	}
	ev := func(ts int64, msg string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: aws.Int64(ts), Message: aws.String(msg)}
	}
	now := time.Now().UnixMilli()
	_, err = put([]types.InputLogEvent{ev(now, "b"), ev(now-1000, "a")})
	wantCode(t, "out of order", err, "InvalidParameterException")
	_, err = put([]types.InputLogEvent{ev(now-25*3600*1000, "a"), ev(now, "b")})
	wantCode(t, "span over 24 h", err, "InvalidParameterException")
	many := make([]types.InputLogEvent, 10001)
	for i := range many {
		many[i] = ev(now, "x")
	}
	_, err = put(many)
	wantCode(t, "10001 events", err, "InvalidParameterException")
	big := strings.Repeat("y", 200_000)
	_, err = put([]types.InputLogEvent{ev(now, big), ev(now, big), ev(now, big), ev(now, big), ev(now, big), ev(now, big)})
	wantCode(t, "over 1 MiB", err, "InvalidParameterException")
	old := now - 15*24*3600*1000
	rj, err := put([]types.InputLogEvent{ev(old, "old"), ev(old+1000, "old too")})
	if err != nil {
		t.Fatal(err)
	}
	if r := rj.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 2 || r.TooNewLogEventStartIndex != nil || r.ExpiredLogEventEndIndex != nil {
		t.Errorf("rejected info (too old): %+v", rj.RejectedLogEventsInfo)
	}
	rj, err = put([]types.InputLogEvent{ev(now-60_000, "fine"), ev(now+3*3600*1000, "future")})
	if err != nil {
		t.Fatal(err)
	}
	if r := rj.RejectedLogEventsInfo; r == nil || r.TooOldLogEventEndIndex != nil || aws.ToInt32(r.TooNewLogEventStartIndex) != 1 {
		t.Errorf("rejected info (too new): %+v", rj.RejectedLogEventsInfo)
	}
	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String("never-created"), LogEvents: []types.InputLogEvent{ev(now, "x")}})
	wantCode(t, "put into a missing stream", err, "ResourceNotFoundException")

	// retention
	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("my-flow-log"), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("my-flow-log"), RetentionInDays: aws.Int32(8)})
	wantCode(t, "retention 8", err, "InvalidParameterException")
	dg, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("my-")})
	if err != nil {
		t.Fatal(err)
	}
	if len(dg.LogGroups) != 1 || aws.ToInt32(dg.LogGroups[0].RetentionInDays) != 7 || aws.ToInt64(dg.LogGroups[0].StoredBytes) == 0 {
		t.Errorf("after put-retention-policy: %+v", dg.LogGroups)
	}
	rj, err = put([]types.InputLogEvent{ev(now-8*24*3600*1000, "expired"), ev(now-8*24*3600*1000+1, "expired too")})
	if err != nil || rj.RejectedLogEventsInfo == nil || aws.ToInt32(rj.RejectedLogEventsInfo.ExpiredLogEventEndIndex) != 2 {
		t.Errorf("expired event: %v %+v", err, rj)
	}
	if _, err := c.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("my-flow-log")}); err != nil {
		t.Fatal(err)
	}

	// Logs Insights through StartQuery / GetQueryResults
	runQuery := func(q string) *cloudwatchlogs.GetQueryResultsOutput {
		t.Helper()
		sq, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("my-flow-log"), QueryString: aws.String(q),
			StartTime: aws.Int64(base - 3600), EndTime: aws.Int64(base + 3600)})
		if err != nil {
			t.Fatal(err)
		}
		for range 600 {
			r, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: sq.QueryId})
			if err != nil {
				t.Fatal(err)
			}
			switch r.Status {
			case types.QueryStatusComplete:
				return r
			case types.QueryStatusFailed, types.QueryStatusCancelled, types.QueryStatusTimeout:
				t.Fatalf("query %q: %s", q, r.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("query did not finish")
		return nil
	}
	r := runQuery(`stats count(*) as n by interfaceId | sort n desc, interfaceId asc`)
	if len(r.Results) != 3 || fieldValue(r.Results[0], "interfaceId") != "eni-a969e3f1" || fieldValue(r.Results[0], "n") != "7" || fieldValue(r.Results[0], "@ptr") != "" {
		t.Errorf("stats results: %v", resultText(r.Results))
	}
	r = runQuery(`fields @timestamp, @message, dstPort | sort @timestamp desc | limit 2`)
	if len(r.Results) != 2 || fieldValue(r.Results[0], "@message") != all[streams[2]][6] || fieldValue(r.Results[0], "@ptr") == "" ||
		fieldValue(r.Results[0], "@timestamp") != time.Unix(base+200, 0).UTC().Format("2006-01-02 15:04:05.000") || r.Statistics == nil || r.Statistics.RecordsScanned == 0 {
		t.Errorf("fields results: %v %+v", resultText(r.Results), r.Statistics)
	}
	lr, err := c.GetLogRecord(ctx, &cloudwatchlogs.GetLogRecordInput{LogRecordPointer: aws.String(fieldValue(r.Results[0], "@ptr"))})
	if err != nil {
		t.Fatal(err)
	}
	if lr.LogRecord["@message"] != all[streams[2]][6] {
		t.Errorf("get-log-record: %v", lr.LogRecord)
	}
	_, err = c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("my-flow-log"), QueryString: aws.String("stats count(*) byy srcAddr"),
		StartTime: aws.Int64(base), EndTime: aws.Int64(base + 60)})
	wantCode(t, "malformed query", err, "MalformedQueryException")
	dq, err := c.DescribeQueries(ctx, &cloudwatchlogs.DescribeQueriesInput{LogGroupName: aws.String("my-flow-log")})
	if err != nil {
		t.Fatal(err)
	}
	if len(dq.Queries) != 2 || dq.Queries[0].Status != types.QueryStatusComplete {
		t.Errorf("describe-queries: %+v", dq.Queries)
	}
	stop, err := c.StopQuery(ctx, &cloudwatchlogs.StopQueryInput{QueryId: dq.Queries[0].QueryId})
	if err != nil || stop.Success {
		t.Errorf("stop a finished query: %v %+v", err, stop)
	}
	_, err = c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String("nope")})
	wantCode(t, "unknown query", err, "ResourceNotFoundException")

	// 8 concurrent writers, then every event is there once
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("eni-%08x-all", 0xc0de0000+w)
			if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(stream)}); err != nil {
				errs <- err
				return
			}
			for b := range 10 {
				evs := make([]types.InputLogEvent, 50)
				for i := range evs {
					start := base + int64(b*50+i)
					evs[i] = ev(start*1000, flowLine(strings.TrimSuffix(stream, "-all"), b*50+i, start))
				}
				if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r = runQuery(`filter interfaceId like /^eni-c0de/ | stats count(*) as n`)
	if len(r.Results) != 1 || fieldValue(r.Results[0], "n") != "4000" {
		t.Errorf("after 8 concurrent writers: %v", resultText(r.Results))
	}

	// authentication errors
	_, err = cwlClient(srv.url, akid, "wrong"+secret[5:]).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	wantCode(t, "wrong secret", err, "InvalidSignatureException")
	_, err = cwlClient(srv.url, "FLAKAAAAAAAAAAAAAAAA", secret).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	wantCode(t, "unknown key", err, "UnrecognizedClientException")
	if code := rawCall(t, srv.url, nil, time.Now()); code != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %s", code)
	}
	if code := rawCall(t, srv.url, &aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, time.Now().Add(-20*time.Minute)); code != "InvalidSignatureException" {
		t.Errorf("signed 20 minutes ago: %s", code)
	}
	if code := rawCall(t, srv.url, &aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, time.Now()); code != "" {
		t.Errorf("signed now: %s", code)
	}
	akid2, secret2 := createKey(t, data, "to-revoke")
	c2 := cwlClient(srv.url, akid2, secret2)
	if _, err := c2.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}); err != nil {
		t.Fatalf("a new key on a running server: %v", err)
	}
	env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := runKeys(ctx, env, []string{"revoke", "--data", data, "to-revoke"}); err != nil {
		t.Fatal(err)
	}
	_, err = c2.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	wantCode(t, "revoked key", err, "UnrecognizedClientException")

	// delete the group: gone, with its events
	if _, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("my-flow-log")}); err != nil {
		t.Fatal(err)
	}
	dg, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || len(dg.LogGroups) != 0 {
		t.Errorf("after delete-log-group: %v %+v", err, dg)
	}
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(streams[0])})
	wantCode(t, "events of a deleted group", err, "ResourceNotFoundException")
	_, err = c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("my-flow-log")})
	wantCode(t, "delete twice", err, "ResourceNotFoundException")
	// the same name again starts empty (its old batches are not "already ingested")
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("my-flow-log")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(streams[0])}); err != nil {
		t.Fatal(err)
	}
	fresh, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("my-flow-log"), LogStreamName: aws.String(streams[0])})
	if err != nil || len(fresh.Events) != 0 {
		t.Errorf("a re-created group: %v %+v", err, fresh)
	}
}

func fieldValue(row []types.ResultField, name string) string {
	for _, f := range row {
		if aws.ToString(f.Field) == name {
			return aws.ToString(f.Value)
		}
	}
	return ""
}

func resultText(rows [][]types.ResultField) string {
	var b strings.Builder
	for _, row := range rows {
		for _, f := range row {
			fmt.Fprintf(&b, "%s=%s ", aws.ToString(f.Field), aws.ToString(f.Value))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// rawCall sends DescribeLogGroups by hand (signed at the given time, or
// unsigned) and returns the error code ("" on success).
func rawCall(t *testing.T, url string, creds *aws.Credentials, at time.Time) string {
	t.Helper()
	body := []byte("{}")
	req, err := http.NewRequest("POST", url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328.DescribeLogGroups")
	if creds != nil {
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), *creds, req, hex.EncodeToString(sum[:]), "logs", "eu-west-1", at); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("no x-amzn-RequestId: %d %s", resp.StatusCode, b)
	}
	if resp.StatusCode == 200 {
		return ""
	}
	if resp.StatusCode != 400 {
		t.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return resp.Header.Get("X-Amzn-ErrorType")
}

// TestServeCWLIngestedDataset: a dataset loaded with 'flowlens ingest' is a
// log group with a stream per interface, as the walkthrough's flow log
// group is on AWS; queries run over several groups.
func TestServeCWLIngestedDataset(t *testing.T) {
	data := t.TempDir()
	base := time.Now().Add(-time.Hour).Truncate(time.Minute).Unix()
	var lines strings.Builder
	for i := range 30 {
		eni := []string{"eni-a969e3f1", "eni-c26fe59a", "eni-c46ee49c"}[i%3]
		fmt.Fprintln(&lines, flowLine(eni, i, base+int64(i)))
	}
	mustStore(t, strings.NewReader(lines.String()), "ingest", "--data", data, "--dataset", "prod-vpc", "--format", "default", "-")
	akid, secret := createKey(t, data, "ingested")
	srv := startServe(t, data)
	ctx := context.Background()
	c := cwlClient(srv.url, akid, secret)
	dg, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dg.LogGroups) != 1 || aws.ToString(dg.LogGroups[0].LogGroupName) != "prod-vpc" || aws.ToInt64(dg.LogGroups[0].StoredBytes) == 0 {
		t.Fatalf("describe-log-groups: %+v", dg.LogGroups)
	}
	ds, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("prod-vpc")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.LogStreams) != 3 || aws.ToString(ds.LogStreams[2].LogStreamName) != "eni-c46ee49c-all" ||
		aws.ToInt64(ds.LogStreams[2].FirstEventTimestamp) != (base+2)*1000 || aws.ToInt64(ds.LogStreams[2].LastEventTimestamp) != (base+29)*1000 {
		t.Fatalf("describe-log-streams: %+v", ds.LogStreams)
	}
	ge, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("prod-vpc"), LogStreamName: aws.String("eni-c46ee49c-all"), Limit: aws.Int32(1)})
	if err != nil || len(ge.Events) != 1 || aws.ToString(ge.Events[0].Message) != flowLine("eni-c46ee49c", 29, base+29) {
		t.Fatalf("get-log-events: %v %+v", err, ge)
	}
	// PutLogEvents into a stream that exists through its records
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("prod-vpc"), LogStreamName: aws.String("eni-c46ee49c-all"),
		LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64((base + 100) * 1000), Message: aws.String(flowLine("eni-c46ee49c", 100, base+100))}}}); err != nil {
		t.Fatal(err)
	}
	// a query over two groups
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/flowlogs/nat")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/flowlogs/nat"), LogStreamName: aws.String("eni-0000beef-all")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/flowlogs/nat"), LogStreamName: aws.String("eni-0000beef-all"),
		LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(base * 1000), Message: aws.String(flowLine("eni-0000beef", 1, base))}}}); err != nil {
		t.Fatal(err)
	}
	sq, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupNames: []string{"prod-vpc", "/flowlogs/nat"},
		QueryString: aws.String("stats count(*) as n"), StartTime: aws.Int64(base - 60), EndTime: aws.Int64(base + 3600)})
	if err != nil {
		t.Fatal(err)
	}
	for range 600 {
		r, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: sq.QueryId})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == types.QueryStatusComplete {
			if len(r.Results) != 1 || fieldValue(r.Results[0], "n") != "32" || r.Statistics.LogGroupsScanned != 2 {
				t.Errorf("two groups: %s %+v", resultText(r.Results), r.Statistics)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the query did not finish")
}
