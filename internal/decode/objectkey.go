package decode

import (
	"strconv"
	"strings"
	"time"
)

// ObjectKey is what an S3 object key of a flow log delivery says.
type ObjectKey struct {
	// Account owns the flow log (the key's account, which may differ from
	// the account-id inside records).
	Account string
	// Region of the flow log.
	Region string
	// FlowLogID is "fl-…" (empty when the key has no AWS file name).
	FlowLogID string
	// Time is the start of the 5-minute window of the file name, or, when
	// the file name is not AWS's, the day (and hour) of the prefix.
	Time time.Time
	// Hive is true for the hive-compatible layout (aws-account-id=…).
	Hive bool
	// Hourly is true when the prefix has an hour level.
	Hourly bool
	// Parquet is true when the file name says Parquet.
	Parquet bool
}

// ParseObjectKey parses a key in the plain layout
//
//	[prefix/]AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[{HH}/]{file}
//
// or the hive-compatible layout
//
//	[prefix/]AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/year={yyyy}/month={mm}/day={dd}/[hour={HH}/]{file}
//
// or just an AWS file name
// ({account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz).
// It reports false when the key is none of these.
func ParseObjectKey(key string) (ObjectKey, bool) {
	parts := strings.Split(strings.TrimPrefix(key, "s3://"), "/")
	file := parts[len(parts)-1]
	var k ObjectKey
	nameOK := k.parseFileName(file)
	svc := -1
	for i, p := range parts[:len(parts)-1] {
		if p == "vpcflowlogs" || p == "aws-service=vpcflowlogs" {
			svc = i
		}
	}
	if svc < 0 {
		return k, nameOK && len(parts) == 1
	}
	k.Hive = strings.HasPrefix(parts[svc], "aws-service=")
	dirs := parts[svc+1 : len(parts)-1] // region, year, month, day, [hour]
	if svc == 0 || len(dirs) < 4 || len(dirs) > 5 {
		return ObjectKey{}, false
	}
	acct, region := parts[svc-1], dirs[0]
	labels := []string{"year=", "month=", "day=", "hour="}
	if k.Hive {
		var ok bool
		if acct, ok = strings.CutPrefix(acct, "aws-account-id="); !ok {
			return ObjectKey{}, false
		}
		if region, ok = strings.CutPrefix(region, "aws-region="); !ok {
			return ObjectKey{}, false
		}
		for i, d := range dirs[1:] {
			v, ok := strings.CutPrefix(d, labels[i])
			if !ok {
				return ObjectKey{}, false
			}
			dirs[i+1] = v
		}
	}
	if !isDigits(acct) || region == "" {
		return ObjectKey{}, false
	}
	var nums [4]int
	for i, d := range dirs[1:] {
		want := 2
		if i == 0 {
			want = 4
		}
		n, err := strconv.Atoi(d)
		if len(d) != want || err != nil {
			return ObjectKey{}, false
		}
		nums[i] = n
	}
	if nums[1] < 1 || nums[1] > 12 || nums[2] < 1 || nums[2] > 31 || nums[3] > 23 {
		return ObjectKey{}, false
	}
	k.Hourly = len(dirs) == 5
	if nameOK && (k.Account != acct || k.Region != region) {
		// A file name that contradicts its prefix is not AWS's.
		nameOK = false
	}
	if !nameOK {
		k.FlowLogID = ""
		k.Time = time.Date(nums[0], time.Month(nums[1]), nums[2], nums[3], 0, 0, 0, time.UTC)
		k.Parquet = strings.HasSuffix(file, ".parquet")
	}
	k.Account, k.Region = acct, region
	return k, true
}

// parseFileName fills k from an AWS flow log file name.
func (k *ObjectKey) parseFileName(name string) bool {
	base, parquet := name, false
	switch {
	case strings.HasSuffix(base, ".log.gz"):
		base = strings.TrimSuffix(base, ".log.gz")
	case strings.HasSuffix(base, ".log.parquet"):
		base, parquet = strings.TrimSuffix(base, ".log.parquet"), true
	case strings.HasSuffix(base, ".parquet"):
		base, parquet = strings.TrimSuffix(base, ".parquet"), true
	case strings.HasSuffix(base, ".log"):
		base = strings.TrimSuffix(base, ".log")
	default:
		return false
	}
	f := strings.Split(base, "_")
	if len(f) != 6 || f[1] != "vpcflowlogs" || !isDigits(f[0]) || f[2] == "" || !strings.HasPrefix(f[3], "fl-") {
		return false
	}
	t, err := time.Parse("20060102T1504Z", f[4])
	if err != nil {
		return false
	}
	k.Account, k.Region, k.FlowLogID, k.Time, k.Parquet = f[0], f[2], f[3], t.UTC(), parquet
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
