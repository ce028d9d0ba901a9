package duckdb

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// rec is one test record of the default format; "" / -1 mean '-'.
type rec struct {
	src, dst       string
	sport, dport   int64
	proto          int64
	bytes          int64
	start          int64
	action, status string
}

func defaultBatch(t testing.TB, recs []rec) *flowlog.Batch {
	t.Helper()
	f := flowlog.DefaultFormat()
	b := flowlog.NewBatch(f, len(recs))
	for _, r := range recs {
		for i := range b.Cols {
			c := &b.Cols[i]
			switch c.Field.ID {
			case flowlog.Version:
				c.AppendInt(2)
			case flowlog.AccountID:
				c.AppendString("123456789012")
			case flowlog.InterfaceID:
				c.AppendString("eni-0123456789abcdef0")
			case flowlog.SrcAddr, flowlog.DstAddr:
				a := r.src
				if c.Field.ID == flowlog.DstAddr {
					a = r.dst
				}
				if a == "" {
					c.AppendNull()
				} else {
					c.AppendIP(netip.MustParseAddr(a))
				}
			case flowlog.SrcPort, flowlog.DstPort, flowlog.Protocol, flowlog.Packets, flowlog.Bytes:
				v := map[flowlog.FieldID]int64{flowlog.SrcPort: r.sport, flowlog.DstPort: r.dport,
					flowlog.Protocol: r.proto, flowlog.Packets: 1, flowlog.Bytes: r.bytes}[c.Field.ID]
				if v < 0 || r.src == "" {
					c.AppendNull()
				} else {
					c.AppendInt(v)
				}
			case flowlog.Start:
				c.AppendInt(r.start)
			case flowlog.End:
				c.AppendInt(r.start + 60)
			case flowlog.Action:
				if r.action == "" {
					c.AppendNull()
				} else {
					c.AppendString(r.action)
				}
			case flowlog.LogStatus:
				c.AppendString(r.status)
			}
		}
		b.EndRecord()
	}
	return b
}

func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{Dir: dir, MemoryLimit: "512MB", Threads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ingestBatch(t testing.TB, s *Store, dataset, key string, b *flowlog.Batch) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.BeginFile(ctx, dataset, store.Source{Key: key, Size: int64(b.N), Checksum: "sum-" + key}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func queryRows(t testing.TB, s *Store, q string, args ...any) [][]any {
	t.Helper()
	res, err := s.Query(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res.Rows
}

func fmtRows(rows [][]any) string { return fmt.Sprint(rows) }

const t0 = 1717164000 // 2024-05-31T14:00:00Z

func TestRoundTrip(t *testing.T) {
	s := openTest(t, t.TempDir())
	b := defaultBatch(t, []rec{
		{"10.0.1.5", "203.0.113.9", 49152, 443, 6, 1200, t0 + 10, "ACCEPT", "OK"},
		{"203.0.113.9", "10.0.1.5", 443, 49152, 6, 800, t0 + 3700, "REJECT", "OK"},
		{"2001:db8::1", "10.0.1.5", 53, 53, 17, 90, t0 + 20, "ACCEPT", "OK"},
		{"", "", -1, -1, -1, -1, t0 + 30, "", "NODATA"},
	})
	ingestBatch(t, s, "prod", "/logs/a.log", b)

	got := fmtRows(queryRows(t, s, `SELECT dataset, srcaddr, dstaddr, srcport, dstport, protocol, bytes, start, "end", action, log_status,
		year, month, day, hour, _hour, _srcaddr_v4, _dstaddr_v4 FROM flows ORDER BY start`))
	want := "[[prod 10.0.1.5 203.0.113.9 49152 443 6 1200 1717164010 1717164070 ACCEPT OK 2024 05 31 14 1717164000 167772421 3405803785]" +
		" [prod 2001:db8::1 10.0.1.5 53 53 17 90 1717164020 1717164080 ACCEPT OK 2024 05 31 14 1717164000 <nil> 167772421]" +
		" [prod <nil> <nil> <nil> <nil> <nil> <nil> 1717164030 1717164090 <nil> NODATA 2024 05 31 14 1717164000 <nil> <nil>]" +
		" [prod 203.0.113.9 10.0.1.5 443 49152 6 800 1717167700 1717167760 REJECT OK 2024 05 31 15 1717167600 3405803785 167772421]]"
	if got != want {
		t.Errorf("rows:\n got %s\nwant %s", got, want)
	}
	// Per-dataset view, and NULL for fields the format lacks.
	got = fmtRows(queryRows(t, s, `SELECT count(*), count(vpc_id), count(tcp_flags) FROM prod`))
	if got != "[[4 0 0]]" {
		t.Errorf("prod view: %s", got)
	}
	ds, err := s.Datasets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Name != "prod" || ds[0].Records != 4 || ds[0].Files != 1 ||
		!ds[0].MinTime.Equal(time.Unix(t0+10, 0)) || !ds[0].MaxTime.Equal(time.Unix(t0+3700, 0)) ||
		len(ds[0].Formats) != 1 || ds[0].Bytes <= 0 {
		t.Errorf("datasets: %+v", ds)
	}
}

func TestIdempotent(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	b := defaultBatch(t, []rec{{"10.0.1.5", "10.0.2.6", 1, 2, 6, 10, t0, "ACCEPT", "OK"}})
	ingestBatch(t, s, "", "k1", b)
	_, err := s.BeginFile(t.Context(), "", store.Source{Key: "k1", Size: 1, Checksum: "sum-k1"}, false)
	if !errors.Is(err, store.ErrAlreadyIngested) {
		t.Fatalf("second ingest: %v", err)
	}
	// force replaces: still one copy of the records, one registry entry.
	tx, err := s.BeginFile(t.Context(), "", store.Source{Key: "k1", Size: 1, Checksum: "sum-k1"}, true)
	if err != nil {
		t.Fatal(err)
	}
	b2 := defaultBatch(t, []rec{{"10.0.1.5", "10.0.2.6", 1, 2, 6, 10, t0, "ACCEPT", "OK"}, {"10.0.1.7", "10.0.2.6", 1, 2, 6, 10, t0, "ACCEPT", "OK"}})
	if err := tx.Append(t.Context(), b2); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := fmtRows(queryRows(t, s, `SELECT (SELECT count(*) FROM flows), (SELECT count(*) FROM ingest_registry), (SELECT count(*) FROM "default")`))
	if got != "[[2 1 2]]" {
		t.Errorf("after force: %s", got)
	}
	// A rolled back file leaves nothing.
	tx, err = s.BeginFile(t.Context(), "", store.Source{Key: "k2", Size: 1, Checksum: "x"}, false)
	if err != nil {
		t.Fatal(err)
	}
	_ = tx.Append(t.Context(), defaultBatch(t, []rec{{"10.0.1.5", "10.0.2.6", 1, 2, 6, 10, t0, "ACCEPT", "OK"}}))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	got = fmtRows(queryRows(t, s, `SELECT (SELECT count(*) FROM flows), (SELECT count(*) FROM ingest_registry)`))
	if got != "[[2 1]]" {
		t.Errorf("after rollback: %s", got)
	}
}

// TestSpillAndGroup: a FileTx past SpillRecords writes into its own open
// transaction and commits with its registry entry and rollup rows; a group
// commit mixes it with small files and a wide-format file.
func TestSpillAndGroup(t *testing.T) {
	s, err := Open(t.Context(), Config{Dir: t.TempDir(), SpillRecords: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	mk := func(n int, base int64) *flowlog.Batch {
		var recs []rec
		for i := range n {
			recs = append(recs, rec{"10.0.0." + fmt.Sprint(i%7), "10.9.0.1", 1000, 443, 6, 100, base + int64(i)*60, "ACCEPT", "OK"})
		}
		return defaultBatch(t, recs)
	}
	big, err := s.BeginFile(ctx, "", store.Source{Key: "big", Size: 1, Checksum: "b"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := big.Append(ctx, mk(2, t0+int64(i)*600)); err != nil {
			t.Fatal(err)
		}
	}
	small, err := s.BeginFile(ctx, "", store.Source{Key: "small", Size: 1, Checksum: "s"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := small.Append(ctx, mk(2, t0)); err != nil {
		t.Fatal(err)
	}
	// A version 3 format goes to the wide table.
	wideFmt := flowlog.MustFormat(flowlog.SrcAddr, flowlog.DstAddr, flowlog.Start, flowlog.Bytes, flowlog.VPCID)
	wb := flowlog.NewBatch(wideFmt, 1)
	wb.Cols[0].AppendIPv4(0x0a000001)
	wb.Cols[1].AppendIPv4(0x0a000002)
	wb.Cols[2].AppendInt(t0)
	wb.Cols[3].AppendInt(5)
	wb.Cols[4].AppendString("vpc-1")
	wb.EndRecord()
	wide, err := s.BeginFile(ctx, "other", store.Source{Key: "wide", Size: 1, Checksum: "w"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := wide.Append(ctx, wb); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitGroup(ctx, []store.FileTx{big, small, wide}); err != nil {
		t.Fatal(err)
	}
	got := fmtRows(queryRows(t, s, `SELECT (SELECT count(*) FROM flows), (SELECT count(*) FROM records), (SELECT count(*) FROM records_1),
		(SELECT sum(records) FROM flows_5m), (SELECT sum(bytes) FROM flows_5m), (SELECT string_agg(key || ':' || records, ',' ORDER BY key) FROM ingest_registry),
		(SELECT vpc_id FROM other), (SELECT count(*) FROM "default")`))
	if got != "[[11 10 1 11 1005 big:8,small:2,wide:1 vpc-1 10]]" {
		t.Errorf("after the group: %s", got)
	}
	// The five-field format got a table of just its fields.
	got = fmtRows(queryRows(t, s, `SELECT name, fields, (SELECT count(*) FROM (DESCRIBE records_1)) FROM record_tables`))
	if got != "[[records_1 srcaddr dstaddr bytes start vpc_id 12]]" {
		t.Errorf("record tables: %s", got)
	}
}

// TestSortGroup: rows sorted ahead by SortGroup are stored in the same
// order as rows sorted at commit; an order computed for other files, or
// before another Append, is not used.
func TestSortGroup(t *testing.T) {
	ctx := t.Context()
	mk := func(n, seed int) *flowlog.Batch {
		var recs []rec
		for i := range n {
			k := (i*7919 + seed*104729) % 1000
			recs = append(recs, rec{fmt.Sprintf("10.0.%d.%d", k%5, k%250), fmt.Sprintf("10.9.%d.1", k%3), 1000, 443, 6, int64(k), t0 + int64(k)*37, "ACCEPT", "OK"})
		}
		return defaultBatch(t, recs)
	}
	load := func(sortAhead, stale bool) string {
		s, err := Open(ctx, Config{Dir: t.TempDir()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var txs []store.FileTx
		for i := range 3 {
			tx, err := s.BeginFile(ctx, "", store.Source{Key: fmt.Sprint("f", i), Size: 1, Checksum: "c"}, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Append(ctx, mk(300, i)); err != nil {
				t.Fatal(err)
			}
			txs = append(txs, tx)
		}
		if sortAhead {
			s.SortGroup(txs)
		}
		if stale {
			if err := txs[1].Append(ctx, mk(50, 9)); err != nil {
				t.Fatal(err)
			}
			s.SortGroup(txs[:2]) // a different set: ignored by the commit of three
		}
		if err := s.CommitGroup(ctx, txs); err != nil {
			t.Fatal(err)
		}
		return fmtRows(queryRows(t, s, `SELECT count(*), bool_and(ok) FROM (SELECT (_hour, _srcaddr_v4, _dstaddr_v4, start) >=
			lag((_hour, _srcaddr_v4, _dstaddr_v4, start)) OVER (ORDER BY rowid) IS NOT FALSE AS ok FROM records)`))
	}
	for _, c := range []struct {
		ahead, stale bool
		want         string
	}{{false, false, "[[900 true]]"}, {true, false, "[[900 true]]"}, {true, true, "[[950 true]]"}} {
		if got := load(c.ahead, c.stale); got != c.want {
			t.Errorf("sort ahead %v, stale %v: %s, want %s", c.ahead, c.stale, got, c.want)
		}
	}
}

// TestDropBeforeWholeHours: a cutoff inside an hour keeps that hour, and
// the rollup keeps matching the records.
func TestDropBeforeWholeHours(t *testing.T) {
	s := openTest(t, t.TempDir())
	var recs []rec
	for i := range 12 { // 13:00 … 15:50 every 15 minutes
		recs = append(recs, rec{"10.0.0.1", "10.0.0.2", 40000, 443, 6, int64(100 + i), t0 - 3600 + int64(i)*900, "ACCEPT", "OK"})
	}
	ingestBatch(t, s, "", "k1", defaultBatch(t, recs))
	n, err := s.DropBefore(t.Context(), "", time.Unix(t0+30*60, 0)) // 14:30
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("removed %d records, want the 4 of hour 13:00", n)
	}
	if got := fmtRows(queryRows(t, s, `SELECT count(*), min(start) FROM flows`)); got != fmtRows([][]any{{int64(8), int64(t0)}}) {
		t.Errorf("left (count, min start) %s, want 8 records from 14:00 (%d) on", got, t0)
	}
	flows := fmtRows(queryRows(t, s, `SELECT count(*), sum(bytes) FROM flows`))
	rollup := fmtRows(queryRows(t, s, `SELECT sum(records), sum(bytes) FROM flows_5m`))
	if flows != rollup {
		t.Errorf("rollup %s out of step with the records %s", rollup, flows)
	}
}

// TestUpgradeFromLayout2: a database of layout 2 (records + records_ext)
// reads as it is when opened read-only, and is upgraded in place when
// opened for writing: records_ext becomes a registered table, new field
// sets get tables of their own, and flows covers them all.
func TestUpgradeFromLayout2(t *testing.T) {
	// A layout 2 database with one record in records_ext.
	stmts := []string{createTableDDL(extTable),
		`INSERT INTO records_ext (_dataset_id, _hour, _file_id, _format_id, _ingest_time, srcaddr, _srcaddr_v4, bytes, start, vpc_id)
			VALUES (1, 1717164000, 99, 1, 0, '10.9.9.9', 168364297, 7, 1717164000, 'vpc-old')`,
		`DROP TABLE record_tables`, `UPDATE flowlens_meta SET value = '2' WHERE key = 'schema_version'`}
	stmts = append(stmts, viewDDL([]table{narrowTable, extTable}, map[int]string{1: DefaultDataset}, nil, false, true, nil, "")...)
	ro, dir := openReadOnlyAfter(t, stmts...)
	want := "[[2 107 vpc-old]]"
	if got := fmtRows(queryRows(t, ro, `SELECT count(*), sum(bytes), max(vpc_id) FROM flows`)); got != want {
		t.Errorf("layout 2 read-only: %s, want %s", got, want)
	}
	ro.Close()
	s := openTest(t, dir)
	if got := fmtRows(queryRows(t, s, `SELECT count(*), sum(bytes), max(vpc_id) FROM flows`)); got != want {
		t.Errorf("upgraded: %s, want %s", got, want)
	}
	if got := fmtRows(queryRows(t, s, `SELECT value FROM flowlens_meta WHERE key = 'schema_version'`)); got != "[["+schemaVersion+"]]" {
		t.Errorf("layout version after the upgrade: %s", got)
	}
	// A new field set gets records_1 (records_ext is not numbered).
	f, err := flowlog.ParseFormat("${srcaddr} ${dstaddr} ${bytes} ${start} ${az-id}")
	if err != nil {
		t.Fatal(err)
	}
	b := flowlog.NewBatch(f, 1)
	b.Cols[0].AppendIPv4(0x0a000001)
	b.Cols[1].AppendIPv4(0x0a000002)
	b.Cols[2].AppendInt(5)
	b.Cols[3].AppendInt(t0)
	b.Cols[4].AppendString("use1-az1")
	b.EndRecord()
	ingestBatch(t, s, "", "az", b)
	if got := fmtRows(queryRows(t, s, `SELECT count(*), sum(bytes), max(az_id), (SELECT string_agg(name, ',' ORDER BY name) FROM record_tables) FROM flows`)); got != "[[3 112 use1-az1 records_1,records_ext]]" {
		t.Errorf("after a new field set: %s", got)
	}
	if got := fmtRows(queryRows(t, s, `SELECT sum(records), sum(bytes) FROM flows_5m`)); got != "[[2 105]]" {
		t.Errorf("rollup of the files ingested here: %s", got)
	}
}

// openReadOnlyAfter ingests one record into a new store, runs stmts on it
// (to make it look written by an older flowlens), closes it and opens it
// read-only; it returns the store and its data directory.
func openReadOnlyAfter(t *testing.T, stmts ...string) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s := openTest(t, dir)
	ingestBatch(t, s, "", "k", defaultBatch(t, []rec{{"10.0.0.1", "10.0.0.2", 40000, 443, 6, 100, t0, "ACCEPT", "OK"}}))
	for _, q := range stmts {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(t.Context(), Config{Dir: dir, ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ro.Close() })
	return ro, dir
}

// A database missing a macro of this flowlens (written by an older one)
// still has it when opened read-only.
func TestMacrosOnReadOnlyOpen(t *testing.T) {
	ro, _ := openReadOnlyAfter(t)
	var persisted int
	if err := ro.db.QueryRow(`SELECT count(*) FROM duckdb_functions() WHERE database_name = 'fl' AND function_name = 'from_unixtime'`).Scan(&persisted); err != nil || persisted != 0 {
		t.Fatalf("from_unixtime stored in the database (%d, %v): the test needs a database without it", persisted, err)
	}
	if got := fmtRows(queryRows(t, ro, `SELECT CAST(from_unixtime(start) AS VARCHAR) FROM flows`)); got != "[[2024-05-31 14:00:00]]" {
		t.Errorf("from_unixtime on a read-only open: %s", got)
	}
}

// A read-only open sees the views of this flowlens, not the older ones
// stored in the database.
func TestViewsOnReadOnlyOpen(t *testing.T) {
	ro, _ := openReadOnlyAfter(t, `CREATE OR REPLACE VIEW flows AS SELECT srcaddr FROM records`, `CREATE OR REPLACE VIEW vpc_flow_logs AS SELECT srcaddr FROM records`)
	// Several queries at once: every pooled connection has the views.
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			res, err := ro.Query(t.Context(), `SELECT v.dt, v."aws-service", f.dataset FROM vpc_flow_logs v JOIN flows f USING (srcaddr)`)
			if err == nil && fmtRows(res.Rows) != "[[2024-05-31 vpcflowlogs default]]" {
				err = fmt.Errorf("rows %s", fmtRows(res.Rows))
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
