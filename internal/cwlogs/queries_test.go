package cwlogs

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// queryServer is the API over a DuckDB store holding one group, "g", of
// n flow log records, and an SDK client of it.
func queryServer(t *testing.T, cfg Config, n int) (*Server, *cloudwatchlogs.Client) {
	t.Helper()
	return queryServerOver(t, cfg, n, nil)
}

// heldQuerier holds each query of the engine until open is closed or the
// query's context ends, then runs it on the DuckDB store; entered says
// that a query has reached the engine.
type heldQuerier struct {
	st            store.Querier
	entered, open chan struct{}
}

func (h *heldQuerier) Query(ctx context.Context, sql string, args ...any) (*store.Result, error) {
	h.entered <- struct{}{}
	select {
	case <-h.open:
	case <-ctx.Done():
	}
	return h.st.Query(ctx, sql, args...)
}

// queryServerOver is queryServer whose engine runs its queries through
// hold (nil: straight on the store).
func queryServerOver(t *testing.T, cfg Config, n int, hold *heldQuerier) (*Server, *cloudwatchlogs.Client) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := duckdb.Open(ctx, duckdb.Config{Dir: filepath.Join(dir, "db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg.Dir, cfg.Verify = filepath.Join(dir, "cwlogs"), false
	var q store.Querier = st
	if hold != nil {
		hold.st, q = st, hold
	}
	s, err := New(cfg, Deps{Store: st, Engine: query.New(query.Config{}, q, st), Tokens: auth.Open(dir),
		WriteMu: &sync.Mutex{}, ValidDataset: duckdb.ValidDatasetName})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	c := cloudwatchlogs.New(cloudwatchlogs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), RetryMaxAttempts: 1})
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("eni-1-all")}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).Unix()
	var evs []types.InputLogEvent
	for i := range n {
		start := base + int64(i)
		evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(start * 1000),
			Message: aws.String(fmt.Sprintf("2 123456789012 eni-1 10.0.1.%d 10.0.1.63 80 %d 6 2 112 %d %d ACCEPT OK", 10+i%200, 50000+i, start, start+52))})
	}
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("eni-1-all"), LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func startCount(t *testing.T, c *cloudwatchlogs.Client) (string, error) {
	t.Helper()
	now := time.Now()
	out, err := c.StartQuery(context.Background(), &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("g"),
		QueryString: aws.String("stats count(*) as n"), StartTime: aws.Int64(now.Add(-2 * time.Hour).Unix()), EndTime: aws.Int64(now.Unix())})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueryId), nil
}

func mustStartCount(t *testing.T, c *cloudwatchlogs.Client) string {
	t.Helper()
	id, err := startCount(t, c)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func queryStatus(t *testing.T, c *cloudwatchlogs.Client, id string) *cloudwatchlogs.GetQueryResultsOutput {
	t.Helper()
	out, err := c.GetQueryResults(context.Background(), &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// finalStatus polls until the query leaves Scheduled and Running.
func finalStatus(t *testing.T, c *cloudwatchlogs.Client, id string) *cloudwatchlogs.GetQueryResultsOutput {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out := queryStatus(t, c, id)
		if out.Status != types.QueryStatusScheduled && out.Status != types.QueryStatusRunning {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s still %s", id, out.Status)
		}
	}
}

func stopQuery(t *testing.T, c *cloudwatchlogs.Client, id string) bool {
	t.Helper()
	out, err := c.StopQuery(context.Background(), &cloudwatchlogs.StopQueryInput{QueryId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Success
}

// described lists DescribeQueries' answer as id → status.
func described(t *testing.T, c *cloudwatchlogs.Client, status types.QueryStatus) map[string]types.QueryStatus {
	t.Helper()
	out, err := c.DescribeQueries(context.Background(), &cloudwatchlogs.DescribeQueriesInput{LogGroupName: aws.String("g"), Status: status})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]types.QueryStatus{}
	for _, q := range out.Queries {
		if aws.ToString(q.QueryString) != "stats count(*) as n" || aws.ToString(q.LogGroupName) != "g" || aws.ToInt64(q.CreateTime) == 0 {
			t.Errorf("DescribeQueries: %+v", q)
		}
		m[aws.ToString(q.QueryId)] = q.Status
	}
	return m
}

func ids(m map[string]types.QueryStatus) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func sameIDs(a []string, b ...string) bool {
	sort.Strings(b)
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// TestQueryLifecycle: with the engine's one slot held, queries stay
// Scheduled; beyond MaxQueries StartQuery is LimitExceededException as AWS
// answers it; StopQuery cancels a query that has not finished (and says
// false for one that has); a cancelled query no longer counts; once the
// slot is free the others complete; DescribeQueries lists each status.
func TestQueryLifecycle(t *testing.T) {
	s, c := queryServer(t, Config{MaxQueries: 3, MaxRunning: 1}, 5)
	s.queries.slots <- struct{}{} // the engine is busy
	q1, q2, q3 := mustStartCount(t, c), mustStartCount(t, c), mustStartCount(t, c)
	for _, id := range []string{q1, q2, q3} {
		if out := queryStatus(t, c, id); out.Status != types.QueryStatusScheduled || len(out.Results) != 0 {
			t.Fatalf("%s waiting for the engine: %s %v", id, out.Status, out.Results)
		}
	}
	if got := ids(described(t, c, types.QueryStatusScheduled)); !sameIDs(got, q1, q2, q3) {
		t.Errorf("Scheduled queries: %v", got)
	}

	_, err := startCount(t, c)
	var le *types.LimitExceededException
	var re *awshttp.ResponseError
	if !errors.As(err, &le) || le.ErrorMessage() != "Account maximum query concurrency limit of [3] reached." ||
		!errors.As(err, &re) || re.HTTPStatusCode() != 400 || re.ServiceRequestID() == "" {
		t.Fatalf("a fourth query: %v", err)
	}

	if !stopQuery(t, c, q1) {
		t.Fatal("StopQuery of a scheduled query: success false")
	}
	if out := queryStatus(t, c, q1); out.Status != types.QueryStatusCancelled {
		t.Fatalf("stopped query: %s", out.Status)
	}
	if stopQuery(t, c, q1) {
		t.Error("StopQuery of a cancelled query: success true")
	}
	q4 := mustStartCount(t, c) // the cancelled query freed its place
	if got := ids(described(t, c, types.QueryStatusCancelled)); !sameIDs(got, q1) {
		t.Errorf("Cancelled queries: %v", got)
	}

	<-s.queries.slots // the engine is free
	for _, id := range []string{q2, q3, q4} {
		out := finalStatus(t, c, id)
		if out.Status != types.QueryStatusComplete || len(out.Results) != 1 || len(out.Results[0]) != 1 ||
			aws.ToString(out.Results[0][0].Value) != "5" || out.Statistics.RecordsMatched != 1 {
			t.Fatalf("%s: %s %+v", id, out.Status, out.Results)
		}
	}
	if stopQuery(t, c, q2) {
		t.Error("StopQuery of a complete query: success true")
	}
	if out := queryStatus(t, c, q1); out.Status != types.QueryStatusCancelled || len(out.Results) != 0 {
		t.Errorf("the stopped query after the slot freed: %s %v", out.Status, out.Results)
	}
	all := described(t, c, "")
	want := map[string]types.QueryStatus{q1: types.QueryStatusCancelled, q2: types.QueryStatusComplete, q3: types.QueryStatusComplete, q4: types.QueryStatusComplete}
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("DescribeQueries: %v, want %v", all, want)
	}
	if got := ids(described(t, c, types.QueryStatusComplete)); !sameIDs(got, q2, q3, q4) {
		t.Errorf("Complete queries: %v", got)
	}
}

// TestQueryTimeout: a query still waiting for the engine at its timeout
// ends Timeout, without results, and no longer counts against MaxQueries.
func TestQueryTimeout(t *testing.T) {
	s, c := queryServer(t, Config{MaxQueries: 1, MaxRunning: 1, QueryTimeout: 50 * time.Millisecond}, 3)
	s.queries.slots <- struct{}{}
	q1 := mustStartCount(t, c)
	out := finalStatus(t, c, q1)
	if out.Status != types.QueryStatusTimeout || len(out.Results) != 0 {
		t.Fatalf("a query past its timeout: %s %v", out.Status, out.Results)
	}
	if stopQuery(t, c, q1) {
		t.Error("StopQuery of a timed-out query: success true")
	}
	if got := ids(described(t, c, types.QueryStatusTimeout)); !sameIDs(got, q1) {
		t.Errorf("Timeout queries: %v", got)
	}
	<-s.queries.slots
	// The timed-out query freed its place.
	q2 := mustStartCount(t, c)
	if out := finalStatus(t, c, q2); out.Status != types.QueryStatusTimeout && out.Status != types.QueryStatusComplete {
		t.Fatalf("the next query: %s", out.Status)
	}
}

// TestQueryStopRunning: StopQuery of a query the engine is running ends it
// Cancelled, and its engine slot goes to the query that waited, Scheduled,
// which then runs and completes.
func TestQueryStopRunning(t *testing.T) {
	hold := &heldQuerier{entered: make(chan struct{}, 4), open: make(chan struct{})}
	_, c := queryServerOver(t, Config{MaxQueries: 2, MaxRunning: 1}, 7, hold)
	q1 := mustStartCount(t, c)
	<-hold.entered // q1 is in the engine
	if out := queryStatus(t, c, q1); out.Status != types.QueryStatusRunning {
		t.Fatalf("a query in the engine: %s", out.Status)
	}
	q2 := mustStartCount(t, c)
	if out := queryStatus(t, c, q2); out.Status != types.QueryStatusScheduled {
		t.Fatalf("a query waiting for the engine: %s", out.Status)
	}
	if _, err := startCount(t, c); !errors.As(err, new(*types.LimitExceededException)) {
		t.Fatalf("a third query: %v", err)
	}
	if got := described(t, c, types.QueryStatusRunning); !sameIDs(ids(got), q1) {
		t.Errorf("Running queries: %v", got)
	}
	if !stopQuery(t, c, q1) {
		t.Fatal("StopQuery of a running query: success false")
	}
	if out := queryStatus(t, c, q1); out.Status != types.QueryStatusCancelled {
		t.Fatalf("the stopped query: %s", out.Status)
	}
	<-hold.entered // q2 has the slot q1 left
	close(hold.open)
	if out := finalStatus(t, c, q2); out.Status != types.QueryStatusComplete || aws.ToString(out.Results[0][0].Value) != "7" {
		t.Fatalf("the query that waited: %s %v", out.Status, out.Results)
	}
	if out := finalStatus(t, c, q1); out.Status != types.QueryStatusCancelled || len(out.Results) != 0 {
		t.Errorf("the stopped query at the end: %s %v", out.Status, out.Results)
	}
}
