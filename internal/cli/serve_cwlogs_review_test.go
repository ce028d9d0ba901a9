package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// signedCall sends one signed JSON 1.1 request as any client would and
// returns the status, the error type (X-Amzn-ErrorType) and the body.
func signedCall(t *testing.T, url string, creds aws.Credentials, target, body string, hdr map[string]string) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "logs", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("%s: no x-amzn-RequestId", target)
	}
	if resp.StatusCode != 200 && (m["__type"] != resp.Header.Get("X-Amzn-ErrorType") || m["message"] == nil) {
		t.Errorf("%s: error shape %d %s", target, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), m
}

// TestServeCWLReview goes through issue #13's list with aws-sdk-go-v2's
// client where TestServeCloudWatchLogs does not: paging of every Describe
// operation, DescribeLogGroups' pattern, DeleteLogStream, PutLogEvents'
// per-event limits and a batch with old, good and new events at once,
// FilterLogEvents by stream names and time, DescribeMetricFilters'
// selectors and the 100-filter limit, TestMetricFilter's 1–50 messages,
// DescribeQueries' status filter and paging, the protocol's own errors,
// and 8 concurrent writers into one stream.
func TestServeCWLReview(t *testing.T) {
	data := t.TempDir()
	akid, secret := createKey(t, data, "review")
	srv := startServe(t, data)
	ctx := context.Background()
	c := cwlClient(srv.url, akid, secret)
	creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}

	// DescribeLogGroups: paging by 2 over 5 groups, prefix, pattern.
	groups := []string{"/flowlogs/prod", "/flowlogs/staging", "Prod-Edge", "dev", "my-flow-log"}
	for _, g := range groups {
		if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	pages := 0
	for p := cloudwatchlogs.NewDescribeLogGroupsPaginator(c, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(2)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, g := range page.LogGroups {
			names = append(names, aws.ToString(g.LogGroupName))
		}
	}
	sorted := append([]string(nil), groups...)
	sort.Strings(sorted)
	if pages != 3 || strings.Join(names, ",") != strings.Join(sorted, ",") {
		t.Errorf("describe-log-groups --limit 2: %d pages %v", pages, names)
	}
	dg, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("PROD")})
	if err != nil || len(dg.LogGroups) != 2 {
		t.Errorf("pattern PROD (case-insensitive substring): %v %+v", err, dg)
	}
	dg, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/flowlogs/")})
	if err != nil || len(dg.LogGroups) != 2 || aws.ToString(dg.LogGroups[0].LogGroupName) != "/flowlogs/prod" {
		t.Errorf("prefix /flowlogs/: %v %+v", err, dg)
	}
	_, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("a"), LogGroupNamePattern: aws.String("b")})
	wantCode(t, "prefix and pattern", err, "InvalidParameterException")
	_, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(51)})
	wantCode(t, "limit 51", err, "InvalidParameterException")
	_, err = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{NextToken: aws.String("forged")})
	wantCode(t, "a forged nextToken", err, "InvalidParameterException")

	// DescribeLogStreams: paging by name, prefix; DeleteLogStream.
	const grp = "my-flow-log"
	for i := range 5 {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(grp), LogStreamName: aws.String(fmt.Sprintf("eni-%08x-all", i))}); err != nil {
			t.Fatal(err)
		}
	}
	names = nil
	for p := cloudwatchlogs.NewDescribeLogStreamsPaginator(c, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(grp), Limit: aws.Int32(2)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.LogStreams {
			names = append(names, aws.ToString(s.LogStreamName))
		}
	}
	if len(names) != 5 || names[0] != "eni-00000000-all" || names[4] != "eni-00000004-all" {
		t.Errorf("streams by name, 2 a page: %v", names)
	}
	ds, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(grp), LogStreamNamePrefix: aws.String("eni-00000003")})
	if err != nil || len(ds.LogStreams) != 1 {
		t.Errorf("stream prefix: %v %+v", err, ds)
	}
	_, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(grp), LogStreamNamePrefix: aws.String("eni"), OrderBy: types.OrderByLastEventTime})
	wantCode(t, "prefix with orderBy LastEventTime", err, "InvalidParameterException")
	_, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("nope")})
	wantCode(t, "streams of a missing group", err, "ResourceNotFoundException")
	if _, err := c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String(grp), LogStreamName: aws.String("eni-00000004-all")}); err != nil {
		t.Fatalf("delete an empty stream: %v", err)
	}
	_, err = c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String(grp), LogStreamName: aws.String("eni-00000004-all")})
	wantCode(t, "delete a missing stream", err, "ResourceNotFoundException")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(grp), LogStreamName: aws.String("a:b")})
	wantCode(t, "a stream name with ':'", err, "InvalidParameterException")

	// PutLogEvents: per-event limits; one batch with too old, good and too new events.
	now := time.Now()
	stream := "eni-00000001-all"
	put := func(evs ...types.InputLogEvent) (*cloudwatchlogs.PutLogEventsOutput, error) {
		return c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(grp), LogStreamName: aws.String(stream), LogEvents: evs})
	}
	ev := func(ts time.Time, msg string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: aws.Int64(ts.UnixMilli()), Message: aws.String(msg)}
	}
	_, err = put(ev(now, strings.Repeat("z", 1<<20)))
	wantCode(t, "one event over 1 MiB", err, "InvalidParameterException")
	_, err = put(ev(now, ""))
	wantCode(t, "an empty message", err, "InvalidParameterException")
	if code, typ, _ := signedCall(t, srv.url, creds, "Logs_20140328.PutLogEvents",
		`{"logGroupName":"my-flow-log","logStreamName":"eni-00000001-all","logEvents":[]}`, nil); code != 400 || typ != "InvalidParameterException" {
		t.Errorf("no events: %d %s", code, typ)
	}
	// exactly 10,000 events and just under 1 MiB are accepted
	many := make([]types.InputLogEvent, 10000)
	for i := range many {
		many[i] = ev(now.Add(-time.Hour), "x")
	}
	if _, err := put(many...); err != nil {
		t.Fatalf("10,000 events: %v", err)
	}
	if _, err := put(ev(now.Add(-time.Hour), strings.Repeat("w", 1<<20-26))); err != nil {
		t.Fatalf("a batch of exactly 1 MiB: %v", err)
	}
	base := now.Add(-30 * time.Minute).Truncate(time.Second)
	// A batch (at most 24 hours) with good events and too new ones, and
	// one with expired (older than the group's retention) and good ones:
	// only the good ones are stored, the others reported.
	mixed := []types.InputLogEvent{
		ev(base, flowLine("eni-00000001", 3, base.Unix())),
		ev(base.Add(time.Second), flowLine("eni-00000001", 4, base.Unix()+1)),
		ev(now.Add(3*time.Hour), flowLine("eni-00000001", 5, base.Unix())),
		ev(now.Add(4*time.Hour), flowLine("eni-00000001", 6, base.Unix())),
	}
	out, err := put(mixed...)
	if err != nil {
		t.Fatal(err)
	}
	if r := out.RejectedLogEventsInfo; r == nil || r.TooOldLogEventEndIndex != nil || aws.ToInt32(r.TooNewLogEventStartIndex) != 2 || r.ExpiredLogEventEndIndex != nil {
		t.Fatalf("rejectedLogEventsInfo %+v", out.RejectedLogEventsInfo)
	}
	ge, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(grp), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true),
		StartTime: aws.Int64(base.Add(-time.Minute).UnixMilli())})
	if err != nil || len(ge.Events) != 2 || aws.ToString(ge.Events[0].Message) != aws.ToString(mixed[0].Message) {
		t.Fatalf("only the good events are stored: %v %+v", err, ge)
	}
	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("dev"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("dev"), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	out, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("dev"), LogStreamName: aws.String(stream), LogEvents: []types.InputLogEvent{
		ev(now.Add(-24*time.Hour-5*time.Minute), flowLine("eni-00000001", 1, base.Unix())),
		ev(now.Add(-10*time.Minute), flowLine("eni-00000001", 2, base.Unix())),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.ExpiredLogEventEndIndex) != 1 || r.TooOldLogEventEndIndex != nil || r.TooNewLogEventStartIndex != nil {
		t.Fatalf("expired: rejectedLogEventsInfo %+v", out.RejectedLogEventsInfo)
	}
	ge, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("dev"), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil || len(ge.Events) != 1 {
		t.Fatalf("after an expired event: %v %+v", err, ge)
	}

	// A stream holding flow log records is not deleted alone (records go by
	// whole hours); a legacy sequence token is accepted and ignored.
	_, err = c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String(grp), LogStreamName: aws.String(stream)})
	wantCode(t, "delete a stream with records", err, "InvalidOperationException")
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(grp), LogStreamName: aws.String(stream),
		SequenceToken: aws.String("49545657805903171641881967696867665731736007865060558786"),
		LogEvents:     []types.InputLogEvent{ev(base.Add(2*time.Second), flowLine("eni-00000001", 9, base.Unix()+2))}}); err != nil {
		t.Errorf("a legacy sequenceToken: %v", err)
	}

	// Messages that are not flow log records: kept, counted per group.
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("dev"), LogStreamName: aws.String(stream),
		LogEvents: []types.InputLogEvent{ev(now, "GET /index.html 200"), ev(now, "2 1 eni-1 too few fields")}}); err != nil {
		t.Fatal(err)
	}
	if code, _, m := signedCall(t, srv.url, creds, "Logs_20140328.DescribeLogGroups", `{"logGroupNamePrefix":"dev"}`, nil); code != 200 ||
		m["logGroups"].([]any)[0].(map[string]any)["flowlensNotFlowLogEvents"] != 2.0 {
		t.Errorf("not-flow-log count: %d %v", code, m)
	}

	// FilterLogEvents by stream names and time range.
	other := "eni-00000002-all"
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(grp), LogStreamName: aws.String(other),
		LogEvents: []types.InputLogEvent{ev(base, flowLine("eni-00000002", 7, base.Unix())), ev(base.Add(time.Minute), flowLine("eni-00000002", 8, base.Unix()+60))}}); err != nil {
		t.Fatal(err)
	}
	count := func(in *cloudwatchlogs.FilterLogEventsInput) int {
		t.Helper()
		n := 0
		for p := cloudwatchlogs.NewFilterLogEventsPaginator(c, in); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Events)
		}
		return n
	}
	recent := base.Add(-time.Minute).UnixMilli()
	if n := count(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(grp), LogStreamNames: []string{other}, StartTime: aws.Int64(recent)}); n != 2 {
		t.Errorf("one stream by name: %d events, want 2", n)
	}
	if n := count(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(grp), LogStreamNames: []string{stream, other}, StartTime: aws.Int64(recent), Limit: aws.Int32(1)}); n != 5 {
		t.Errorf("two streams, a page of 1: %d events, want 5", n)
	}
	if n := count(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(grp), StartTime: aws.Int64(base.UnixMilli()), EndTime: aws.Int64(base.Add(time.Second).UnixMilli())}); n != 2 {
		t.Errorf("[start, end) of one second: %d events, want 2", n)
	}
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(grp), LogStreamNames: []string{other}, LogStreamNamePrefix: aws.String("eni")})
	wantCode(t, "stream names and prefix", err, "InvalidParameterException")
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(grp), LogStreamNames: make([]string, 101)})
	wantCode(t, "101 stream names", err, "InvalidParameterException")
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(grp), NextToken: aws.String("forged")})
	wantCode(t, "a forged nextToken", err, "InvalidParameterException")

	// Metric filters: selectors, paging, the limit of 100 per group.
	mt := func(ns, name string) []types.MetricTransformation {
		return []types.MetricTransformation{{MetricValue: aws.String("1"), MetricNamespace: aws.String(ns), MetricName: aws.String(name)}}
	}
	for i := range 100 {
		ns := "A"
		if i%2 == 1 {
			ns = "B"
		}
		if _, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(grp), FilterName: aws.String(fmt.Sprintf("f%03d", i)),
			FilterPattern: aws.String("REJECT"), MetricTransformations: mt(ns, "M")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(grp), FilterName: aws.String("f100"),
		FilterPattern: aws.String("REJECT"), MetricTransformations: mt("A", "M")})
	wantCode(t, "the 101st metric filter", err, "LimitExceededException")
	if _, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(grp), FilterName: aws.String("f000"),
		FilterPattern: aws.String("ACCEPT"), MetricTransformations: mt("A", "M")}); err != nil {
		t.Fatalf("replacing a filter at the limit: %v", err)
	}
	_, err = c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("nope"), FilterName: aws.String("x"),
		FilterPattern: aws.String(""), MetricTransformations: mt("A", "M")})
	wantCode(t, "a metric filter of a missing group", err, "ResourceNotFoundException")
	n, pages := 0, 0
	for p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(c, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(grp), Limit: aws.Int32(30)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, pages = n+len(page.MetricFilters), pages+1
	}
	if n != 100 || pages != 4 {
		t.Errorf("describe-metric-filters by 30: %d filters in %d pages", n, pages)
	}
	dm, err := c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(grp), FilterNamePrefix: aws.String("f01")})
	if err != nil || len(dm.MetricFilters) != 10 {
		t.Errorf("filterNamePrefix f01: %v %d", err, len(dm.MetricFilters))
	}
	dm, err = c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{MetricNamespace: aws.String("B"), MetricName: aws.String("M")})
	if err != nil || len(dm.MetricFilters) != 50 || aws.ToString(dm.MetricFilters[0].LogGroupName) != grp {
		t.Errorf("by metric: %v %d", err, len(dm.MetricFilters))
	}
	_, err = c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{MetricName: aws.String("M")})
	wantCode(t, "metricName without metricNamespace", err, "InvalidParameterException")
	_, err = c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{FilterNamePrefix: aws.String("f")})
	wantCode(t, "filterNamePrefix without logGroupName", err, "InvalidParameterException")
	_, err = c.TestMetricFilter(ctx, &cloudwatchlogs.TestMetricFilterInput{FilterPattern: aws.String(""), LogEventMessages: make([]string, 51)})
	wantCode(t, "51 test messages", err, "InvalidParameterException")
	_, err = c.TestMetricFilter(ctx, &cloudwatchlogs.TestMetricFilterInput{FilterPattern: aws.String(""), LogEventMessages: []string{}})
	wantCode(t, "no test messages", err, "InvalidParameterException")

	// DescribeQueries: status filter and paging, newest first.
	var ids []string
	for i := range 3 {
		sq, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String(grp), QueryString: aws.String(fmt.Sprintf("stats count(*) as n%d", i)),
			StartTime: aws.Int64(now.Add(-time.Hour).Unix()), EndTime: aws.Int64(now.Unix())})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(sq.QueryId))
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			r, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: sq.QueryId})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status == types.QueryStatusComplete {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("query %d: %s", i, r.Status)
			}
		}
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	var got []string
	dqIn := &cloudwatchlogs.DescribeQueriesInput{Status: types.QueryStatusComplete, MaxResults: aws.Int32(2)}
	for range 10 {
		page, err := c.DescribeQueries(ctx, dqIn)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range page.Queries {
			got = append(got, aws.ToString(q.QueryId))
		}
		if page.NextToken == nil {
			break
		}
		dqIn.NextToken = page.NextToken
	}
	if strings.Join(got, ",") != ids[2]+","+ids[1]+","+ids[0] {
		t.Errorf("describe-queries newest first by 2: %v, want %v reversed", got, ids)
	}
	dq, err := c.DescribeQueries(ctx, &cloudwatchlogs.DescribeQueriesInput{Status: types.QueryStatusRunning})
	if err != nil || len(dq.Queries) != 0 {
		t.Errorf("running queries: %v %+v", err, dq)
	}
	_, err = c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("nope"), QueryString: aws.String("stats count(*)"),
		StartTime: aws.Int64(now.Add(-time.Hour).Unix()), EndTime: aws.Int64(now.Unix())})
	wantCode(t, "a query of a missing group", err, "ResourceNotFoundException")
	_, err = c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{QueryString: aws.String("stats count(*)"),
		StartTime: aws.Int64(now.Add(-time.Hour).Unix()), EndTime: aws.Int64(now.Unix())})
	wantCode(t, "a query of no group", err, "InvalidParameterException")
	_, err = c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String(grp), QueryString: aws.String("stats count(*)"),
		StartTime: aws.Int64(now.Unix()), EndTime: aws.Int64(now.Add(-time.Hour).Unix())})
	wantCode(t, "end before start", err, "InvalidParameterException")
	_, err = c.StopQuery(ctx, &cloudwatchlogs.StopQueryInput{QueryId: aws.String("nope")})
	wantCode(t, "stop an unknown query", err, "ResourceNotFoundException")
	_, err = c.GetLogRecord(ctx, &cloudwatchlogs.GetLogRecordInput{LogRecordPointer: aws.String("garbage")})
	if code := awsCode(err); code != "InvalidParameterException" && code != "ResourceNotFoundException" {
		t.Errorf("a garbage @ptr: %v", err)
	}

	// The protocol's own errors.
	if code, typ, _ := signedCall(t, srv.url, creds, "Logs_20140328.PutSubscriptionFilterX", "{}", nil); code != 400 || typ != "UnknownOperationException" {
		t.Errorf("unknown operation: %d %s", code, typ)
	}
	if code, typ, _ := signedCall(t, srv.url, creds, "Logs_20140328.DescribeLogGroups", "{not json", nil); code != 400 || typ != "SerializationException" {
		t.Errorf("bad JSON: %d %s", code, typ)
	}
	if code, typ, m := signedCall(t, srv.url, creds, "Logs_20140328.DescribeLogGroups", `{"limit": 1}`, nil); code != 200 || typ != "" || m["nextToken"] == nil {
		t.Errorf("a signed raw call: %d %s %v", code, typ, m)
	}

	// 8 concurrent writers into one stream: every event once, none lost.
	shared := "eni-0000beef-all"
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(grp), LogStreamName: aws.String(shared)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range 5 {
				evs := make([]types.InputLogEvent, 100)
				for i := range evs {
					k := (w*5+b)*100 + i
					evs[i] = ev(base.Add(time.Duration(k)*time.Millisecond), flowLine("eni-0000beef", k, base.Unix()+int64(k%600)))
				}
				sort.Slice(evs, func(i, j int) bool { return *evs[i].Timestamp < *evs[j].Timestamp })
				if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(grp), LogStreamName: aws.String(shared), LogEvents: evs}); err != nil {
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
	seen := map[string]int{}
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(grp), LogStreamName: aws.String(shared), StartFromHead: aws.Bool(true), Limit: aws.Int32(1000)}
	for range 100 {
		out, err := c.GetLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Events {
			seen[aws.ToString(e.Message)]++
		}
		if in.NextToken != nil && aws.ToString(out.NextForwardToken) == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = out.NextForwardToken
	}
	dups := 0
	for _, n := range seen {
		if n != 1 {
			dups++
		}
	}
	if len(seen) != 4000 || dups != 0 {
		t.Errorf("one stream, 8 writers: %d distinct events, %d seen more than once; want 4000, 0", len(seen), dups)
	}
}
