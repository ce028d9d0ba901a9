package decode

import (
	"testing"
	"time"
)

func TestParseObjectKey(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	const name = "111122223333_vpcflowlogs_eu-west-1_fl-0f1e2d3c4b5a69788_20240531T1405Z_5d41ab12.log.gz"
	full := ObjectKey{Account: "111122223333", Region: "eu-west-1", FlowLogID: "fl-0f1e2d3c4b5a69788", Time: at("2024-05-31T14:05:00Z")}
	cases := []struct {
		key  string
		want ObjectKey
		ok   bool
	}{
		{"AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/31/" + name, full, true},
		{"s3://bucket/my/prefix/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/31/" + name, full, true},
		{"prefix/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/31/14/" + name,
			ObjectKey{Account: "111122223333", Region: "eu-west-1", FlowLogID: "fl-0f1e2d3c4b5a69788", Time: at("2024-05-31T14:05:00Z"), Hourly: true}, true},
		{"AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/day=31/" + name,
			ObjectKey{Account: "111122223333", Region: "eu-west-1", FlowLogID: "fl-0f1e2d3c4b5a69788", Time: at("2024-05-31T14:05:00Z"), Hive: true}, true},
		{"p/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/day=31/hour=14/111122223333_vpcflowlogs_eu-west-1_fl-0f1e2d3c4b5a69788_20240531T1410Z_ab.log.parquet",
			ObjectKey{Account: "111122223333", Region: "eu-west-1", FlowLogID: "fl-0f1e2d3c4b5a69788", Time: at("2024-05-31T14:10:00Z"), Hive: true, Hourly: true, Parquet: true}, true},
		// An organisation level before the account.
		{"AWSLogs/o-abc123/111122223333/vpcflowlogs/eu-west-1/2024/05/31/" + name, full, true},
		// Just the file name (a downloaded file).
		{name, full, true},
		// Files renamed by someone: the prefix still dates them.
		{"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/12/01/07/part-0001.gz",
			ObjectKey{Account: "111122223333", Region: "us-east-1", Time: at("2024-12-01T07:00:00Z"), Hourly: true}, true},
		{"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/12/01/flows.parquet",
			ObjectKey{Account: "111122223333", Region: "us-east-1", Time: at("2024-12-01T00:00:00Z"), Parquet: true}, true},
		// Not flow logs, or malformed.
		{"AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/31/x.json.gz", ObjectKey{}, false},
		{"AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/13/31/" + name, ObjectKey{}, false},
		{"AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/5/31/" + name, ObjectKey{}, false},
		{"AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/" + name, ObjectKey{}, false},
		{"AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/eu-west-1/year=2024/month=05/day=31/" + name, ObjectKey{}, false},
		{"AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/31/" + name, ObjectKey{}, false},
		{"AWSLogs/acct/vpcflowlogs/eu-west-1/2024/05/31/" + name, ObjectKey{}, false},
		{"vpcflowlogs/eu-west-1/2024/05/31/" + name, ObjectKey{}, false},
		{"111122223333_vpcflowlogs_eu-west-1_fl-0f1e2d3c4b5a69788_2024-05-31_5d41ab12.log.gz", ObjectKey{}, false},
		{"111122223333_cloudtrail_eu-west-1_fl-0f1e2d3c4b5a69788_20240531T1405Z_5d41ab12.log.gz", ObjectKey{}, false},
		{"notes.txt", ObjectKey{}, false},
		{"", ObjectKey{}, false},
	}
	for _, c := range cases {
		got, ok := ParseObjectKey(c.key)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseObjectKey(%q) =\n %+v, %v\nwant\n %+v, %v", c.key, got, ok, c.want, c.ok)
		}
	}
}
