package sqlgen

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

// TestClickHouseGoldensRun sends the ClickHouse SQL of every golden file to
// a real ClickHouse server (Debian's clickhouse-server, started here on
// free ports in a temporary folder) over an empty `flows` table with the
// columns of the store contract: the SQL must parse and bind there. The
// goldens listed in testdata/clickhouse-known-failures.txt use what
// Debian's ClickHouse (18.16) lacks; the test fails when one of the others
// fails, and when a listed one runs (take it off the list).
//
// Without clickhouse-server installed the test is skipped, unless
// FLOWLENS_REQUIRE_CLICKHOUSE is set (make test sets it; scripts/setup.sh
// installs the package).
func TestClickHouseGoldensRun(t *testing.T) {
	ch := chtest.Start(t)
	if _, err := ch.Query(t.Context(), flowsTableDDL()); err != nil {
		t.Fatalf("create flows: %v", err)
	}
	known := knownFailures(t)
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, secs := parseTxtar(string(data))
		sql := ""
		for _, s := range secs {
			if s.name == "clickhouse" {
				sql = strings.TrimSpace(s.data)
			}
		}
		if sql == "" {
			continue
		}
		name := filepath.Base(file)
		ran++
		_, err = ch.Query(t.Context(), sql)
		switch _, listed := known[name]; {
		case err != nil && !listed:
			t.Errorf("%s: ClickHouse rejects the SQL: %v\n%s", name, err, sql)
		case err == nil && listed:
			t.Errorf("%s runs on ClickHouse now: take it off testdata/clickhouse-known-failures.txt", name)
		}
		delete(known, name)
	}
	for name := range known {
		t.Errorf("testdata/clickhouse-known-failures.txt lists %s, which has no ClickHouse SQL", name)
	}
	t.Logf("%d golden ClickHouse statements sent", ran)
}

// knownFailures reads testdata/clickhouse-known-failures.txt: a golden file
// name per line, then why ('#' starts a comment).
func knownFailures(t *testing.T) map[string]string {
	f, err := os.Open("testdata/clickhouse-known-failures.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, why, _ := strings.Cut(line, " ")
		out[name] = strings.TrimSpace(why)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// flowsTableDDL creates `flows` with the columns of the store contract
// (package store): every catalog field, the dataset and partition columns
// and the internal ones.
func flowsTableDDL() string {
	var cols []string
	add := func(name, typ string) { cols = append(cols, "`"+name+"` "+typ) }
	add("dataset", "Nullable(String)")
	for _, f := range flowlog.Fields() {
		switch {
		case f.Kind.Numeric() && (f.Kind == flowlog.KindTime || f.Type == "int64"):
			add(f.Column, "Nullable(Int64)")
		case f.Kind.Numeric():
			add(f.Column, "Nullable(Int32)")
		default:
			add(f.Column, "Nullable(String)")
		}
	}
	for _, c := range []string{"year", "month", "day", "hour", "dt", "accid", "aws-account-id", "aws-region", "aws-service"} {
		add(c, "Nullable(String)")
	}
	add("date", "Nullable(Date)")
	add("_hour", "Int64")
	add("_srcaddr_v4", "Nullable(UInt32)")
	add("_dstaddr_v4", "Nullable(UInt32)")
	add("_format_id", "Int32")
	add("_ingest_time", "Int64")
	add("_dataset_id", "UInt16")
	add("_file_id", "UInt32")
	return "CREATE TABLE flows (" + strings.Join(cols, ", ") + ") ENGINE = Memory"
}
