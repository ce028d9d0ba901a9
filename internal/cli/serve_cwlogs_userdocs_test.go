package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// The Chinese tutorial's (user-docs 000) 19-field format without start,
// through the CloudWatch Logs API: the format declared by its CREATE
// EXTERNAL TABLE, records sent with PutLogEvents are placed at their
// events' times, StartQuery's range finds them, and the article's query
// (lines 163-170) answers as computed here.
func TestServeCWLUserDocsCustomFormat(t *testing.T) {
	data := t.TempDir()
	cols := "region string, vpc_id string, az_id string, subnet_id string, instance_id string, interface_id string, flow_direction string, " +
		"srcaddr string, dstaddr string, srcport int, dstport int, pkt_srcaddr string, pkt_dstaddr string, pkt_src_aws_service string, " +
		"pkt_dst_aws_service string, traffic_path int, packets bigint, bytes bigint, action string"
	mustStore(t, nil, "sql", "--write", "--data", data, "CREATE EXTERNAL TABLE custom19 ("+cols+") LOCATION 's3://b/'")
	akid, secret := createKey(t, data, "userdocs")
	srv := startServe(t, data)
	ctx := context.Background()
	c := cwlClient(srv.url, akid, secret)
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("custom19")}); err != nil && awsCode(err) != "ResourceAlreadyExistsException" {
		t.Fatal(err)
	}
	const stream = "eni-0a1b2c3d4e5f60718-all"
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("custom19"), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Minute).Unix()
	rejects := map[string]int{}
	var evs []types.InputLogEvent
	for i := range 40 {
		action := "ACCEPT"
		if i%3 != 0 {
			action = "REJECT"
		}
		src := fmt.Sprintf("198.51.100.%d", i%7)
		msg := fmt.Sprintf("us-east-1 vpc-0aa11bb22cc33dd44 use1-az1 subnet-0123abcd4567ef890 - eni-0a1b2c3d4e5f60718 ingress %s 10.0.1.5 %d 22 %s 10.0.1.5 - - - 1 40 %s",
			src, 40000+i, src, action)
		if action == "REJECT" {
			rejects[src]++
		}
		evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64((base + int64(i)) * 1000), Message: aws.String(msg)})
	}
	out, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("custom19"), LogStreamName: aws.String(stream), LogEvents: evs})
	if err != nil || out.RejectedLogEventsInfo != nil {
		t.Fatalf("put: %v %+v", err, out)
	}
	query := func(q string) [][]types.ResultField {
		t.Helper()
		sq, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("custom19"), QueryString: aws.String(q),
			StartTime: aws.Int64(base - 60), EndTime: aws.Int64(base + 3600)})
		if err != nil {
			t.Fatal(err)
		}
		for range 600 {
			r, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: sq.QueryId})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status == types.QueryStatusComplete {
				return r.Results
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("the query did not finish")
		return nil
	}
	rows := query(`parse @message "* * * * * * * * * * * * * * * * * * *"
| as region, vpc_id, az_id, subnet_id, instance_id, interface_id,
| flow_direction, srcaddr, dstaddr, srcport, dstport,
| pkt_srcaddr, pkt_dstaddr, pkt_src_aws_service, pkt_dst_aws_service,
| traffic_path, packets, bytes, action
| filter action="REJECT"
| stats count(action) as redjects by srcaddr
| sort redjects desc`)
	var want []string
	for s, n := range rejects {
		want = append(want, fmt.Sprintf("%s=%d", s, n))
	}
	sort.Slice(want, func(i, j int) bool {
		a, _ := strconv.Atoi(want[i][strings.IndexByte(want[i], '=')+1:])
		b, _ := strconv.Atoi(want[j][strings.IndexByte(want[j], '=')+1:])
		if a != b {
			return a > b
		}
		return want[i] < want[j]
	})
	var got []string
	for _, r := range rows {
		got = append(got, fieldValue(r, "srcaddr")+"="+fieldValue(r, "redjects"))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("000:163 through StartQuery:\n got %v\nwant %v", got, want)
	}
	// @timestamp is the event's time; the newest first
	rows = query("fields @timestamp, @message | sort @timestamp desc | limit 2")
	if len(rows) != 2 || fieldValue(rows[0], "@timestamp") != time.Unix(base+39, 0).UTC().Format("2006-01-02 15:04:05.000") ||
		fieldValue(rows[0], "@message") != aws.ToString(evs[39].Message) {
		t.Errorf("@timestamp of a format without start: %s", resultText(rows))
	}
}
