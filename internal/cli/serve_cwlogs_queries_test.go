package cli

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestServeCWLQueryTimeout: serve --query-timeout bounds the CloudWatch
// Logs API's queries: one past it (1ns: every query) ends Timeout, without
// results, StopQuery says it has finished, and DescribeQueries lists it
// under Timeout. (The lifecycle with a busy engine, Cancelled and
// LimitExceededException are tested in internal/cwlogs.)
func TestServeCWLQueryTimeout(t *testing.T) {
	data := t.TempDir()
	text, _ := flowLines(time.Now().Unix()/60-30, 20)
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "my-flow-log", writeTemp(t, "a.log", []byte(text)))
	akid, secret := createKey(t, data, "timeout")
	srv := startServe(t, data, "--query-timeout", "1ns")
	c := cwlClient(srv.url, akid, secret)
	ctx := t.Context()
	now := time.Now()
	sq, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("my-flow-log"), QueryString: aws.String("stats count(*)"),
		StartTime: aws.Int64(now.Add(-2 * time.Hour).Unix()), EndTime: aws.Int64(now.Unix())})
	if err != nil {
		t.Fatal(err)
	}
	var r *cloudwatchlogs.GetQueryResultsOutput
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if r, err = c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: sq.QueryId}); err != nil {
			t.Fatal(err)
		}
		if r.Status != types.QueryStatusScheduled && r.Status != types.QueryStatusRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query status %s", r.Status)
		}
	}
	if r.Status != types.QueryStatusTimeout || len(r.Results) != 0 {
		t.Fatalf("a query past --query-timeout: %s %v", r.Status, r.Results)
	}
	if st, err := c.StopQuery(ctx, &cloudwatchlogs.StopQueryInput{QueryId: sq.QueryId}); err != nil || st.Success {
		t.Fatalf("StopQuery of a timed-out query: %v %+v", err, st)
	}
	dq, err := c.DescribeQueries(ctx, &cloudwatchlogs.DescribeQueriesInput{Status: types.QueryStatusTimeout})
	if err != nil {
		t.Fatal(err)
	}
	if len(dq.Queries) != 1 || aws.ToString(dq.Queries[0].QueryId) != aws.ToString(sq.QueryId) || dq.Queries[0].Status != types.QueryStatusTimeout {
		t.Fatalf("DescribeQueries Timeout: %+v", dq.Queries)
	}
}
