package athena

import (
	"strings"
	"testing"
)

// S3 Select's s3object is the flows view with positional text columns;
// an unquoted end where a value stands is the end column, CASE's END is not.
func TestS3SelectAndBareEnd(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		got, err := Rewrite(in, testOptions)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s\n→ %s\nlacks %s", in, got, w)
			}
		}
	}
	f(`SELECT _4 FROM s3object s LIMIT 5`, `SELECT _4 FROM (SELECT coalesce(CAST("version" AS VARCHAR), '-') AS _1, `,
		`coalesce(CAST("srcaddr" AS VARCHAR), '-') AS _4, `, `coalesce(CAST("log_status" AS VARCHAR), '-') AS _14 FROM vpc_flow_logs) s LIMIT 5`)
	f(`select s._13 from S3Object s where s._7 = '22'`, `AS _14 FROM vpc_flow_logs) s where s._7 = '22'`)
	f(`SELECT from_unixtime(end-MOD("end",300)) AS endtime, max(end), end - start FROM flows ORDER BY end`,
		`from_unixtime("end"-MOD("end",300))`, `max("end")`, `SELECT from_unixtime`, `ORDER BY "end"`)
	f(`SELECT CASE WHEN action = 'REJECT' THEN 1 ELSE 0 END AS r, CASE x WHEN 1 THEN end ELSE (end) END FROM flows`,
		`ELSE 0 END AS r`, `THEN end ELSE ("end") END`)
	once, _ := Rewrite(`SELECT _4 FROM s3object s WHERE end > 0 LIMIT 5`, testOptions)
	if twice, err := Rewrite(once, testOptions); err != nil || twice != once {
		t.Errorf("not idempotent:\n%s\n%s", once, twice)
	}
	// a database named like a dataset's view: the table is the rightmost name
	got, err := Rewrite(`SELECT 1 FROM "AwsDataCatalog"."default"."nat" n, default.nat`, Options{Tables: []string{"default", "nat"}})
	if err != nil || got != `SELECT 1 FROM "nat" n, nat` {
		t.Errorf("catalog.database.table: %q %v", got, err)
	}
}
