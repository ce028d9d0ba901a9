package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// queryLines are five default-format records on 2024-05-31 (UTC).
const queryLines = `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 111122223333 eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.9 40000 443 6 10 5000 1717164000 1717164060 ACCEPT OK
2 111122223333 eni-0a1b2c3d4e5f60718 10.0.1.5 10.0.2.9 40001 443 6 20 7000 1717164300 1717164360 ACCEPT OK
2 111122223333 eni-0a1b2c3d4e5f60718 203.0.113.9 10.0.1.5 51515 22 6 1 60 1717167600 1717167600 REJECT OK
2 111122223333 eni-11aa22bb33cc44dd5 203.0.113.9 10.0.1.6 51516 22 6 1 60 1717167660 1717167660 REJECT OK
2 111122223333 eni-11aa22bb33cc44dd5 - - - - - - - 1717171200 1717171260 - NODATA
`

// queryDB ingests queryLines into a fresh database as dataset "prod".
func queryDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "flows.log")
	if err := os.WriteFile(f, []byte(queryLines), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "db")
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "prod", f)
	return data
}

func TestQueryCLI(t *testing.T) {
	data := queryDB(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"top talkers, nulls last when descending", []string{"--output", "csv", "stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 2"},
			"srcAddr,dstAddr,b\n10.0.1.5,10.0.2.9,12000\n203.0.113.9,10.0.1.5,60\n"},
		{"sort by as the Knowledge Center article writes it", []string{"--output", "csv", "stats sum(bytes) as b by srcAddr, dstAddr | sort by b asc"},
			"srcAddr,dstAddr,b\n203.0.113.9,10.0.1.5,60\n203.0.113.9,10.0.1.6,60\n10.0.1.5,10.0.2.9,12000\n,,\n"},
		{"default output newest first", []string{"--output", "csv", `filter action = "REJECT"`},
			"@timestamp,@message\n2024-05-31 15:01:00.000,2 111122223333 eni-11aa22bb33cc44dd5 203.0.113.9 10.0.1.6 51516 22 6 1 60 1717167660 1717167660 REJECT OK\n" +
				"2024-05-31 15:00:00.000,2 111122223333 eni-0a1b2c3d4e5f60718 203.0.113.9 10.0.1.5 51515 22 6 1 60 1717167600 1717167600 REJECT OK\n"},
		{"bin and time range", []string{"--output", "csv", "--start", "2024-05-31T14:00:00Z", "--end", "2024-05-31T15:59:59Z", "stats count(*) as n by bin(1h) as hour | sort hour"},
			"hour,n\n2024-05-31 14:00:00.000,2\n2024-05-31 15:00:00.000,2\n"},
		{"limit flag lifts the default", []string{"--output", "csv", "--limit", "1", "fields interfaceId | sort @timestamp asc"},
			"interfaceId\neni-0a1b2c3d4e5f60718\n"},
		{"dataset flag and spellings", []string{"-g", "prod", "--output", "csv", "filter `log-status` = 'NODATA' | fields logStatus, log_status, @logStream, isempty(srcAddr) as e"},
			"logStatus,log_status,@logStream,e\nNODATA,NODATA,eni-11aa22bb33cc44dd5-all,1\n"},
		{"since excludes old data", []string{"--output", "csv", "--since", "1h", "stats count(*) as n"},
			"n\n0\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustStore(t, nil, append([]string{"query", "--data", data}, tc.args...)...)
			if got != tc.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestQueryJSONKeepsColumnOrder(t *testing.T) {
	data := queryDB(t)
	out := mustStore(t, nil, "query", "--data", data, "--output", "json", "stats count(*) as z, min(@timestamp) as a by dstPort | sort dstPort")
	var rows []json.RawMessage
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows: %s", len(rows), out)
	}
	want := `{"dstPort":22,"z":2,"a":"2024-05-31 15:00:00.000"}`
	if string(rows[0]) != want {
		t.Fatalf("first row %s, want %s", rows[0], want)
	}
}

func TestQueryErrors(t *testing.T) {
	data := queryDB(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"misspelt field", []string{`filter srcadr = "10.0.0.1"`}, 2,
			[]string{`1:8: unknown field "srcadr" (did you mean "srcAddr"?)`, "  filter srcadr = \"10.0.0.1\"\n         ^^^^^^"}},
		{"syntax", []string{"stats count(*) by"}, 2, []string{"1:18: unexpected end of query, expected an expression"}},
		{"unknown dataset", []string{"-g", "prd", "stats count(*)"}, 1, []string{`unknown dataset "prd" (did you mean "prod"?)`}},
		{"no query", nil, 2, []string{"give a query"}},
		{"since and start", []string{"--since", "1h", "--start", "2024-01-01", "stats count(*)"}, 2, []string{"either --since or --start/--end"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := storeRun(t, nil, append([]string{"query", "--data", data}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, errs)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errs, s) {
					t.Fatalf("stderr lacks %q:\n%s", s, errs)
				}
			}
		})
	}
}

func TestQueryExplainAndFile(t *testing.T) {
	dir := t.TempDir()
	qf := filepath.Join(dir, "q.insights")
	if err := os.WriteFile(qf, []byte("# SSH knocking\nfilter action = \"REJECT\" and dstport = 22\n| stats count(*) as n by srcaddr\n| sort n desc | limit 20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustStore(t, nil, "query", "--data", filepath.Join(dir, "none"), "--explain", "--since", "1h", "-f", qf)
	for _, s := range []string{"-- plan", "filter =(dstport, 22)", "-- sql", "_hour >= ", "start >= ", "WHERE", "dstport = 22", "order count_star() desc", "DESC NULLS LAST, _srcaddr_v4 LIMIT 20"} {
		if !strings.Contains(out, s) {
			t.Fatalf("explain lacks %q:\n%s", s, out)
		}
	}
}

func TestQueryLookups(t *testing.T) {
	data := queryDB(t)
	dir := filepath.Join(data, "lookups")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nets.csv"), []byte("cidr,owner\n10.0.0.0/16,vpc-a\n10.0.1.0/24,web\n203.0.113.0/24,scanner\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ports.csv"), []byte("port,service\n443,https\n22,ssh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := mustStore(t, nil, "query", "--data", data, "--output", "csv",
		"cidrlookup nets srcAddr as cidr OUTPUT owner | lookup ports port as dstPort OUTPUT service | stats count(*) as n by owner, service | sort owner")
	want := "owner,service,n\nscanner,ssh,2\nweb,https,2\n,,1\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	code, _, errs := storeRun(t, nil, "query", "--data", data, "lookup nope port OUTPUT x")
	if code != 2 || !strings.Contains(errs, `unknown lookup table "nope"`) {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
