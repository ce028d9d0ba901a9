package clickhouse

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/insights/sqlgen"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

// loadSQL runs the statements of a file (";" at the end of a line ends
// one) in database db over the server's HTTP interface.
func loadSQL(t *testing.T, srv *chtest.Server, db, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Query(t.Context(), "CREATE DATABASE IF NOT EXISTS "+db); err != nil {
		t.Fatal(err)
	}
	settings := url.Values{"database": {db}, "allow_experimental_low_cardinality_type": {"1"}}
	var lines []string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "--") {
			continue
		}
		lines = append(lines, line)
	}
	for _, st := range strings.Split(strings.Join(lines, "\n"), ";\n") {
		if strings.TrimSpace(st) == "" {
			continue
		}
		if _, err := srv.Client().Do(t.Context(), st, nil, settings); err != nil {
			t.Fatalf("%.80s…: %v", st, err)
		}
	}
}

// TestMigrateFromV1 opens a database of schema version 1, written on
// 18.16 by a release whose catalog ended with the version-5 fields: the
// records are copied into the current layout (the newer fields NULL in
// the old rows), the LowCardinality columns become plain, the views follow, the records and
// the registry stay, and the answers are right.
// checkMigration reads the old database db with all, opens it with open
// (which migrates it) and checks that the schema version is the current one
// and that all reads the same text afterwards; the dump must hold every
// one of holds. It returns the opened store and the text all read.
func checkMigration(t *testing.T, srv *chtest.Server, db, all string, open func() *Store, holds ...string) (*Store, string) {
	t.Helper()
	before, err := srv.Query(t.Context(), all)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range holds {
		if !strings.Contains(before, want) {
			t.Errorf("the dump of %s lacks %q:\n%s", db, want, before)
		}
	}
	s := open()
	if v, err := s.storedVersion(t.Context()); err != nil || v != schemaVersion {
		t.Errorf("schema_version %q (%v), want %s", v, err, schemaVersion)
	}
	after, err := srv.Query(t.Context(), all)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("flows after the migration of %s:\n%s\nwant (before it):\n%s", db, after, before)
	}
	return s, before
}

func TestMigrateFromV1(t *testing.T) {
	srv := chtest.Start(t)
	loadSQL(t, srv, "old", "testdata/schema/v1-catalog5-18.16.sql")
	s := openTest(t, srv, "old")
	res, err := s.Query(t.Context(), `SELECT name, type FROM system.columns WHERE database = 'old' AND table = 'records' AND name IN ('action', 'reject_reason', 'tgw_id', 'ecs_task_id')  ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	// since version 4 the fields after log-status are packed (_xk, _xv);
	// since version 6 the others are not Nullable
	want := "[[action String]]"
	if s.ft.codecs {
		want = "[[action LowCardinality(String)]]"
	}
	if got := fmtRows(res.Rows); got != want {
		t.Errorf("columns after the migration: %s, want %s", got, want)
	}
	if v, err := s.storedVersion(t.Context()); err != nil || v != schemaVersion {
		t.Errorf("schema_version %q (%v), want %s", v, err, schemaVersion)
	}
	eng := query.New(query.Config{Dialect: sqlgen.ClickHouse{}}, s, s)
	checkQueries(t, eng, map[string]string{
		`stats count(*) as n, count_distinct(action) as a`:                                                 "[[6 2]]",
		`filter dstPort = 22 | stats count(*) as n, sum(action = "REJECT") as r by dstAddr | sort dstAddr`: "[[10.1.0.8 1 1] [10.1.0.9 2 2]]",
		`filter ispresent(rejectReason) or ispresent(tgwId) | stats count(*) as n`:                         "[[0]]",
		`filter logStatus = "NODATA" | fields @timestamp, action, srcAddr | sort @timestamp`:               "[[2026-01-15 00:05:00 +0000 UTC <nil> <nil>]]",
	})
	// new ingests go beside the old records; a second open changes nothing
	if err := ingest(t, s, "prod", "new.log", false, batchOf(t, 10, hour0+3600)); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, srv, "old")
	if n := count(t, s2, ""); n != 16 {
		t.Errorf("%d records after an ingest, want 16", n)
	}
	if changed, err := s2.reconcileColumns(t.Context(), s2.conn); err != nil || changed {
		t.Errorf("a migrated table changes again (%v)", err)
	}
	ds, err := s2.Datasets(t.Context())
	if err != nil || len(ds) != 1 || ds[0].Files != 2 || ds[0].Records != 16 || len(ds[0].Formats) != 1 {
		t.Errorf("datasets: %+v %v", ds, err)
	}
}

func fmtRows(rows [][]any) string { return fmt.Sprint(rows) }

// TestMigrateFromV2 opens a database of schema version 2, written on 18.16,
// which stored the text of IPv4 addresses beside their numbers: the views
// compute the text from the numbers, the stored IPv4 text is cleared (a
// mutation), the other addresses (IPv6) keep theirs, and the answers are
// those of version 2, before and after new records arrive.
func TestMigrateFromV2(t *testing.T) {
	srv := chtest.Start(t)
	loadSQL(t, srv, "v2", "testdata/schema/v2-18.16.sql")
	eng := func(s *Store) *query.Engine { return query.New(query.Config{Dialect: sqlgen.ClickHouse{}}, s, s) }
	questions := map[string]string{
		`stats count(*) as n by srcAddr | sort srcAddr`:                                                   "[[10.0.0.1 2] [10.0.0.2 1] [10.0.0.3 2] [2001:db8::7 1] [<nil> 1]]",
		`filter dstAddr = "2001:db8::9" or srcAddr = "2001:db8::7" | fields srcAddr, dstAddr`:             "[[10.0.0.3 2001:db8::9] [2001:db8::7 10.0.0.3]]",
		`filter isIpv4InSubnet(dstAddr, "10.1.0.0/16") | stats sum(bytes) as b by dstAddr | sort dstAddr`: "[[10.1.0.8 60] [10.1.0.9 1580]]",
		`filter srcAddr = "10.0.0.1" | stats count(*) as n`:                                               "[[2]]",
	}
	ask := func(s *Store, extra string) {
		t.Helper()
		for q, want := range questions {
			res, _, err := eng(s).Run(t.Context(), query.Request{Query: q})
			if err != nil {
				t.Errorf("%s%s: %v", q, extra, err)
				continue
			}
			if got := fmtRows(res.Rows); got != want {
				t.Errorf("%s%s: %s, want %s", q, extra, got, want)
			}
		}
	}
	s := openTest(t, srv, "v2")
	if v, err := s.storedVersion(t.Context()); err != nil || v != schemaVersion {
		t.Errorf("schema_version %q (%v), want %s", v, err, schemaVersion)
	}
	ask(s, "")
	// the mutation clears the stored IPv4 text; IPv6 text stays
	if _, err := srv.Query(t.Context(), "OPTIMIZE TABLE v2.records FINAL"); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		out, err := srv.Query(t.Context(), "SELECT count() FROM system.mutations WHERE database = 'v2' AND table = 'records' AND NOT is_done")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) == "0" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, err := srv.Query(t.Context(), "SELECT groupArray(if(srcaddr = '', '-', srcaddr)), groupArray(if(dstaddr = '', '-', dstaddr)) FROM (SELECT srcaddr, dstaddr FROM v2.records ORDER BY start)")
	if err != nil {
		t.Fatal(err)
	}
	if want := "['-','-','-','-','2001:db8::7','-','-']\t['-','-','-','-','-','2001:db8::9','-']\n"; got != want {
		t.Errorf("stored text after the migration: %q, want %q", got, want)
	}
	ask(s, " (text cleared)")
	// new records go beside the old ones without their IPv4 text
	if err := ingest(t, s, "prod", "new.log", false, batchOf(t, 10, hour0+3600)); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, srv, "v2")
	if n := count(t, s2, "WHERE srcaddr = '10.0.0.5'"); n != 1 {
		t.Errorf("%d new records of 10.0.0.5, want 1", n)
	}
	out, err := srv.Query(t.Context(), "SELECT countIf(srcaddr != ''), countIf(srcaddr = '2001:db8::1') FROM v2.records WHERE _hour = "+strconv.FormatInt(hour0+3600, 10))
	if err != nil || out != "1\t1\n" {
		t.Errorf("stored source text of the new records: %q (%v), want only the IPv6 one", out, err)
	}
}

// TestMigrateFromV3 opens a database of schema version 3 (a column per
// catalog field), written on 18.16 with records of the default format and
// of a version-5 format: the records are copied into the packed layout of
// version 4, and every column of the `flows` view (names, types and
// values) is what version 3 showed.
func TestMigrateFromV3(t *testing.T) {
	srv := chtest.Start(t)
	loadSQL(t, srv, "v3", "testdata/schema/v3-18.16.sql")
	s, _ := checkMigration(t, srv, "v3", "SELECT * FROM v3.flows ORDER BY start, srcport FORMAT TSVWithNamesAndTypes",
		func() *Store { return openTest(t, srv, "v3") }, "4000000000", "vpc-0aaa", "egress")
	got, err := srv.Query(t.Context(), "SELECT countIf(name = 'vpc_id'), countIf(name = '_xk'), countIf(name = 'end') FROM system.columns WHERE database = 'v3' AND table = 'records'")
	if err != nil || got != "0\t1\t0\n" {
		t.Errorf("records columns (vpc_id, _xk, end): %q (%v), want 0 1 0", got, err)
	}
	got, err = srv.Query(t.Context(), "SELECT count() FROM system.tables WHERE database = 'v3' AND name LIKE 'records_%'")
	if err != nil || got != "0\n" {
		t.Errorf("tables left by the migration: %q (%v)", got, err)
	}
	eng := query.New(query.Config{Dialect: sqlgen.ClickHouse{}}, s, s)
	checkQueries(t, eng, map[string]string{
		`filter ispresent(vpcId) | stats count(*) as n, sum(tcpFlags) as f by flowDirection | sort flowDirection`: "[[egress 1 19] [ingress 1 3]]",
		`filter endTime - startTime > 1000 | fields srcAddr, endTime`:                                             "[[10.0.0.2 4000000000]]",
		`filter dstPort = 22 | stats count(*) as n by srcAddr`:                                                    "[[10.0.0.1 2]]",
	})
	// new ingests go beside the migrated records; a second open copies nothing
	if err := ingest(t, s, "prod", "new.log", false, batchOf(t, 10, hour0+3600)); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, srv, "v3")
	if n := count(t, s2, ""); n != 18 {
		t.Errorf("%d records after an ingest, want 18", n)
	}
	if copied, err := s2.migrateLayout(t.Context(), s2.conn); err != nil || copied {
		t.Errorf("a migrated table is copied again (%v)", err)
	}
}

// checkQueries runs each Logs Insights query through eng and compares its
// rows with the wanted text.
func checkQueries(t *testing.T, eng *query.Engine, want map[string]string) {
	t.Helper()
	for q, w := range want {
		res, _, err := eng.Run(t.Context(), query.Request{Query: q})
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if got := fmtRows(res.Rows); got != w {
			t.Errorf("%s: %s, want %s", q, got, w)
		}
	}
}

// TestMigrateFromV4 opens a database of schema version 4 (a stored
// `_ingest_time` column): the records are copied into the layout of
// version 6 with that column, the old rows keep their ingest time and
// every other value, and the rows ingested since carry theirs in the
// file id (the views read either).
func TestMigrateFromV4(t *testing.T) {
	srv := chtest.Start(t)
	loadSQL(t, srv, "v4", "testdata/schema/v4-18.16.sql")
	const all = "SELECT * FROM v4.flows ORDER BY start, srcport FORMAT TSVWithNamesAndTypes"
	at := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	s, _ := checkMigration(t, srv, "v4", all, func() *Store {
		s, err := Open(t.Context(), Config{DSN: srv.DSN("v4"), Now: func() time.Time { return at }}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, "1796643", "vpc-0aaa")
	if err := ingest(t, s, "prod", "new.log", false, batchOf(t, 10, hour0+3600)); err != nil {
		t.Fatal(err)
	}
	got, err := srv.Query(t.Context(), "SELECT _ingest_time = "+strconv.FormatInt(at.UnixMilli(), 10)+" AS new, count() FROM v4.flows GROUP BY new ORDER BY new")
	if err != nil || got != "0\t8\n1\t10\n" {
		t.Errorf("records by ingest time (old, new): %q (%v), want 8 old and 10 at %d", got, err, at.UnixMilli())
	}
	got, err = srv.Query(t.Context(), "SELECT countIf(_ingest_time = 0) FROM v4.records")
	if err != nil || got != "10\n" {
		t.Errorf("records with no stored ingest time: %q (%v), want the 10 new ones", got, err)
	}
	if copied, err := s.migrateLayout(t.Context(), s.conn); err != nil || copied {
		t.Errorf("a migrated table is copied again (%v)", err)
	}
}

// TestMigrateFromV5 opens a database of schema version 5 written on 18.16
// (every field column Nullable; default-format records, NODATA and
// SKIPDATA ones with every field "-" but the times and log-status, and
// records of version 11 with IPv6 addresses, packed fields and an end no
// Int32 away from its start): the records are copied into columns that
// are not Nullable and `_nulls`, and the views show exactly what version
// 5 showed, names, types and values, before and after new records
// arrive.
func TestMigrateFromV5(t *testing.T) {
	srv := chtest.Start(t)
	loadSQL(t, srv, "v5", "testdata/schema/v5-18.16.sql")
	s, before := checkMigration(t, srv, "v5", "SELECT * FROM v5.flows ORDER BY start, srcport, log_status FORMAT TSVWithNamesAndTypes",
		func() *Store { return openTest(t, srv, "v5") }, "NODATA", "SKIPDATA", "2001:db8::1", "vpc_id-0", "1768435200\t1768435205")
	got, err := srv.Query(t.Context(), "SELECT countIf(type LIKE '%Nullable%'), countIf(name = '_nulls') FROM system.columns WHERE database = 'v5' AND table = 'records'")
	if err != nil || got != "2\t1\n" {
		t.Errorf("records columns (Nullable, _nulls): %q (%v), want the two IPv4 columns Nullable and _nulls", got, err)
	}
	got, err = srv.Query(t.Context(), "SELECT count() FROM system.tables WHERE database = 'v5' AND name LIKE 'records_%'")
	if err != nil || got != "0\n" {
		t.Errorf("tables left by the migration: %q (%v)", got, err)
	}
	questions := map[string]string{
		`stats count(*) as n, count(srcAddr) as s, count(dstPort) as p, count(action) as a, count(endTime) as e`:       "[[11 8 8 8 11]]",
		`filter logStatus != "OK" | fields logStatus, ispresent(srcAddr) as s, ispresent(bytes) as b | sort logStatus`: "[[NODATA 0 0] [NODATA 1 1] [SKIPDATA 0 0] [SKIPDATA 0 0]]",
		`filter ispresent(vpcId) | stats count(*) as n by srcAddr | sort srcAddr`:                                      "[[10.9.0.3 1] [2001:db8::3 1]]",
		`filter endTime - startTime > 1000 | fields srcAddr, endTime`:                                                  "[[2001:db8::3 1101280062976]]",
	}
	eng := query.New(query.Config{Dialect: sqlgen.ClickHouse{}}, s, s)
	checkQueries(t, eng, questions)
	// new ingests go beside the migrated records; a second open copies nothing
	if err := ingest(t, s, "prod", "new.log", false, batchOf(t, 10, hour0+7200)); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, srv, "v5")
	if n := count(t, s2, ""); n != 21 {
		t.Errorf("%d records after an ingest, want 21", n)
	}
	if copied, err := s2.migrateLayout(t.Context(), s2.conn); err != nil || copied {
		t.Errorf("a migrated table is copied again (%v)", err)
	}
	after2, err := srv.Query(t.Context(), "SELECT * FROM v5.flows WHERE _hour < "+strconv.FormatInt(hour0+7200, 10)+" ORDER BY start, srcport, log_status FORMAT TSVWithNamesAndTypes")
	if err != nil || after2 != before {
		t.Errorf("the migrated records after an ingest (%v):\n%s\nwant:\n%s", err, after2, before)
	}
}
