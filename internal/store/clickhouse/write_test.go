package clickhouse

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

var hour0 = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC).Unix()

// batchOf returns n default-format records starting at start, one per
// second, from 10.0.0.<i%200> (and one IPv6 record).
func batchOf(t testing.TB, n int, start int64) *flowlog.Batch {
	t.Helper()
	f := flowlog.DefaultFormat()
	b := flowlog.NewBatch(f, n)
	for i := 0; i < n; i++ {
		for j := range b.Cols {
			c := &b.Cols[j]
			switch c.Field.ID {
			case flowlog.Version:
				c.AppendInt(2)
			case flowlog.AccountID:
				c.AppendString("123456789012")
			case flowlog.InterfaceID:
				c.AppendString("eni-0123456789abcdef0")
			case flowlog.SrcAddr:
				if i == 0 {
					c.AppendIP(netip.MustParseAddr("2001:db8::1"))
				} else {
					c.AppendIP(netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", i%200)))
				}
			case flowlog.DstAddr:
				c.AppendIP(netip.MustParseAddr("10.1.0.1"))
			case flowlog.Start:
				c.AppendInt(start + int64(i))
			case flowlog.End:
				c.AppendInt(start + int64(i) + 5)
			case flowlog.Protocol:
				c.AppendInt(int64(i % 256)) // the catalog's range
			case flowlog.Action:
				c.AppendString("ACCEPT")
			case flowlog.LogStatus:
				c.AppendString("OK")
			default:
				c.AppendInt(int64(i % 1000))
			}
		}
		b.EndRecord()
	}
	return b
}

func count(t *testing.T, s *Store, where string) int64 {
	t.Helper()
	res, err := s.Query(t.Context(), "SELECT count() FROM flows "+where)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows[0][0].(int64)
}

func ingest(t *testing.T, s *Store, ds, key string, force bool, batches ...*flowlog.Batch) error {
	t.Helper()
	tx, err := s.BeginFile(t.Context(), ds, store.Source{Key: key, Size: 10, Checksum: "c-" + key}, force)
	if err != nil {
		return err
	}
	for _, b := range batches {
		if err := tx.Append(t.Context(), b); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit(t.Context())
}

func TestStore(t *testing.T) {
	srv := chtest.Start(t)

	t.Run("exactly_once", func(t *testing.T) {
		s := openTest(t, srv, "once")
		if err := ingest(t, s, "prod", "a.log", false, batchOf(t, 100, hour0)); err != nil {
			t.Fatal(err)
		}
		err := ingest(t, s, "prod", "a.log", false, batchOf(t, 100, hour0))
		if !errors.Is(err, store.ErrAlreadyIngested) {
			t.Fatalf("second ingest: %v, want ErrAlreadyIngested", err)
		}
		// the same key into another dataset is another object
		if err := ingest(t, s, "edge", "a.log", false, batchOf(t, 10, hour0)); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, "WHERE dataset = 'prod'"); n != 100 {
			t.Fatalf("prod has %d records, want 100", n)
		}
		// force replaces the key's records at commit
		if err := ingest(t, s, "prod", "a.log", true, batchOf(t, 30, hour0)); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, "WHERE dataset = 'prod'"); n != 30 {
			t.Fatalf("after --force prod has %d records, want 30", n)
		}
		ds, err := s.Datasets(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2 || ds[1].Name != "prod" || ds[1].Records != 30 || ds[1].Files != 1 || len(ds[1].Formats) != 1 ||
			ds[1].MinTime.Unix() != hour0 || ds[1].Bytes <= 0 {
			t.Fatalf("datasets: %+v", ds)
		}
		for id, f := range ds[1].Formats {
			if f != flowlog.DefaultFormat().String() || id != int(FormatID(flowlog.DefaultFormat())) {
				t.Fatalf("formats: %v", ds[1].Formats)
			}
		}
		// the per-dataset view and the Athena names
		if n := count(t, s, ""); n != 40 {
			t.Fatalf("flows has %d records, want 40", n)
		}
		res, err := s.Query(t.Context(), "SELECT count(), any(`year`), any(`hour`), any(dt), any(`aws-account-id`) FROM prod")
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(res.Rows[0]); got != "[30 2026 00 2026-01-15 123456789012]" {
			t.Fatalf("the prod view: %s", got)
		}
	})

	t.Run("uncommitted_rows_are_invisible", func(t *testing.T) {
		s := openTest(t, srv, "pending")
		if err := ingest(t, s, "prod", "keep.log", false, batchOf(t, 10, hour0)); err != nil {
			t.Fatal(err)
		}
		s.cfg.BlockRecords = 50 // every Append sends a block
		tx, err := s.BeginFile(t.Context(), "prod", store.Source{Key: "b.log", Size: 1, Checksum: "x"}, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Append(t.Context(), batchOf(t, 60, hour0)); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, ""); n != 10 {
			t.Fatalf("rows sent before Commit are visible: %d records, want 10", n)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, ""); n != 10 {
			t.Fatalf("after Rollback: %d records, want 10", n)
		}
		if err := s.waitMutations(t.Context(), s.conn); err != nil {
			t.Fatal(err)
		}
		var raw uint64
		if err := s.conn.QueryRow(t.Context(), "SELECT count() FROM records").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if raw != 10 {
			t.Fatalf("the rolled back rows are still in the table: %d rows", raw)
		}
	})

	t.Run("crashed_ingest_is_cleaned_up", func(t *testing.T) {
		now := time.Now()
		s, err := Open(t.Context(), Config{DSN: srv.DSN("crash"), BlockRecords: 10, Now: func() time.Time { return now }}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := s.BeginFile(t.Context(), "prod", store.Source{Key: "c.log", Size: 1, Checksum: "x"}, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Append(t.Context(), batchOf(t, 20, hour0)); err != nil {
			t.Fatal(err)
		}
		s.Close() // the process dies: no Commit, no Rollback
		// a later open within the lease keeps the rows (the ingest may
		// still be running in another process) but never shows them
		s2 := openTest(t, srv, "crash")
		if n := count(t, s2, ""); n != 0 {
			t.Fatalf("rows of an ingest that never committed are visible: %d", n)
		}
		later := now.Add(pendingLease + time.Hour)
		s3, err := Open(t.Context(), Config{DSN: srv.DSN("crash"), Now: func() time.Time { return later }}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s3.Close()
		if err := s3.waitMutations(t.Context(), s3.conn); err != nil {
			t.Fatal(err)
		}
		var raw uint64
		if err := s3.conn.QueryRow(t.Context(), "SELECT count() FROM records").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if raw != 0 {
			t.Fatalf("the abandoned ingest's rows are still in the table after the lease: %d", raw)
		}
		// and the key can be ingested
		if err := ingest(t, s3, "prod", "c.log", false, batchOf(t, 5, hour0)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("retention", func(t *testing.T) {
		s := openTest(t, srv, "retention")
		for h := int64(0); h < 4; h++ {
			if err := ingest(t, s, "prod", fmt.Sprintf("p%d.log", h), false, batchOf(t, 10, hour0+h*3600)); err != nil {
				t.Fatal(err)
			}
		}
		// edge shares hour 1 only
		if err := ingest(t, s, "edge", "e1.log", false, batchOf(t, 7, hour0+3600)); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRetention(t.Context(), "prod", 48*time.Hour); err != nil {
			t.Fatal(err)
		}
		// prod before hour 2 (mid-hour cutoff: whole hours only)
		n, err := s.DropBefore(t.Context(), "prod", time.Unix(hour0+2*3600+1800, 0))
		if err != nil {
			t.Fatal(err)
		}
		if n != 20 || count(t, s, "WHERE dataset = 'prod'") != 20 || count(t, s, "WHERE dataset = 'edge'") != 7 {
			t.Fatalf("dropped %d; prod %d, edge %d; want 20, 20, 7", n, count(t, s, "WHERE dataset = 'prod'"), count(t, s, "WHERE dataset = 'edge'"))
		}
		n, err = s.DropBefore(t.Context(), "", time.Unix(hour0+3*3600, 0))
		if err != nil {
			t.Fatal(err)
		}
		if n != 17 || count(t, s, "") != 10 {
			t.Fatalf("dropped %d, left %d; want 17, 10", n, count(t, s, ""))
		}
		if _, err := s.DropBefore(t.Context(), "nope", time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown dataset: %v", err)
		}
		ds, err := s.Datasets(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Name == "prod" && d.Retention != 48*time.Hour {
				t.Fatalf("retention of prod: %v", d.Retention)
			}
		}
		// re-ingesting an expired file is still recognised as done
		if err := ingest(t, s, "prod", "p0.log", false, batchOf(t, 10, hour0)); !errors.Is(err, store.ErrAlreadyIngested) {
			t.Fatalf("re-ingest after retention: %v", err)
		}
	})

	t.Run("declared_format_and_readonly", func(t *testing.T) {
		if _, err := Open(t.Context(), Config{DSN: srv.DSN("absent"), ReadOnly: true}, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("read-only open of a database that does not exist: %v", err)
		}
		s := openTest(t, srv, "declared")
		f, err := flowlog.ParseFormat("${version} ${srcaddr} ${dstaddr}")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeclareFormat(t.Context(), "text", f); err != nil {
			t.Fatal(err)
		}
		got, err := s.DeclaredFormat(t.Context(), "text")
		if err != nil || got == nil || got.String() != f.String() {
			t.Fatalf("declared format: %v, %v", got, err)
		}
		ro, err := Open(t.Context(), Config{DSN: srv.DSN("declared"), ReadOnly: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if _, err := ro.BeginFile(t.Context(), "text", store.Source{Key: "k"}, false); err == nil {
			t.Fatal("a read-only store began an ingest")
		}
		if err := ValidDatasetName("flows"); err == nil {
			t.Fatal("flows is a valid dataset name")
		}
	})
}

// TestPackedFields writes records of a format with every VPC field (most
// of them packed into the two array columns) and reads each field back
// through the flows view: the values, NULLs and types are those written,
// also for an end too far from its start for `_end_delta`.
func TestPackedFields(t *testing.T) {
	srv := chtest.Start(t)
	s := openTest(t, srv, "packed")
	f := flowlog.AllVPCFormat(11)
	b := flowlog.NewBatch(f, 3)
	want := map[string][]string{}
	for i := 0; i < 3; i++ {
		for j := range b.Cols {
			c := &b.Cols[j]
			fl := c.Field
			var v string
			switch {
			case i == 2 && fl.ID != flowlog.Start && fl.ID != flowlog.End && fl.ID != flowlog.LogStatus:
				c.AppendNull()
				v = `\N`
			case fl.ID == flowlog.Start:
				c.AppendInt(hour0 + int64(i))
				v = fmt.Sprint(hour0 + int64(i))
			case fl.ID == flowlog.End:
				e := hour0 + int64(i) + 60
				if i == 1 {
					e = hour0 + 1<<40 // no Int32 away from start
				}
				c.AppendInt(e)
				v = fmt.Sprint(e)
			case fl.Kind == flowlog.KindIP:
				a := netip.MustParseAddr(fmt.Sprintf("10.9.%d.%d", i, j))
				if i == 1 {
					a = netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", j))
				}
				c.AppendIP(a)
				v = a.String()
			case fl.Kind.Numeric():
				n := min(fl.Max, int64(1000*i+j))
				if i == 1 {
					n = fl.Max
				}
				c.AppendInt(n)
				v = fmt.Sprint(n)
			case fl.Kind == flowlog.KindEnum && len(fl.Enum) > 0:
				c.AppendString(fl.Enum[i%len(fl.Enum)])
				v = fl.Enum[i%len(fl.Enum)]
			default:
				c.AppendString(fmt.Sprintf("%s-%d", fl.Column, i))
				v = fmt.Sprintf("%s-%d", fl.Column, i)
			}
			want[fl.Column] = append(want[fl.Column], v)
		}
		b.EndRecord()
	}
	if err := ingest(t, s, "prod", "all.log", false, b); err != nil {
		t.Fatal(err)
	}
	for _, fl := range f.Fields {
		got, err := srv.Query(t.Context(), "SELECT toTypeName("+quoteIdent(fl.Column)+"), "+quoteIdent(fl.Column)+" FROM packed.flows ORDER BY start FORMAT TSV")
		if err != nil {
			t.Fatalf("%s: %v", fl.Column, err)
		}
		typ := "Nullable(String)"
		switch {
		case fl.Kind == flowlog.KindTime || fl.Type == "int64":
			typ = "Nullable(Int64)"
		case fl.Kind == flowlog.KindInt:
			typ = "Nullable(Int32)"
		case s.ft.codecs && ownColumn(fl.ID) && (fl.Kind == flowlog.KindEnum || fl.Kind == flowlog.KindString):
			typ = "LowCardinality(Nullable(String))"
		}
		var w strings.Builder
		for _, v := range want[fl.Column] {
			w.WriteString(typ + "\t" + v + "\n")
		}
		if got != w.String() {
			t.Errorf("%s: %q, want %q", fl.Column, got, w.String())
		}
	}
	// a default-format file sends no packed values
	if err := ingest(t, s, "prod", "default.log", false, batchOf(t, 5, hour0+7200)); err != nil {
		t.Fatal(err)
	}
	got, err := srv.Query(t.Context(), "SELECT countIf(notEmpty(_xk)), countIf(length(_xk) != length(_xv)) FROM packed.records")
	if err != nil || got != "2\t0\n" {
		t.Errorf("records with packed values: %q (%v), want 2 of 8 (the third record of all.log has none)", got, err)
	}
}

// TestIngestTime: the views' _ingest_time is the time of BeginFile (held
// in the file id), and files begun in the same millisecond get distinct
// ids.
func TestIngestTime(t *testing.T) {
	srv := chtest.Start(t)
	at := time.Date(2027, 3, 1, 12, 0, 0, 123e6, time.UTC)
	s, err := Open(t.Context(), Config{DSN: srv.DSN("itime"), Now: func() time.Time { return at }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"a.log", "b.log", "c.log"} {
		if err := ingest(t, s, "prod", k, false, batchOf(t, 20, hour0)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Query(t.Context(), "SELECT min(_ingest_time), max(_ingest_time), uniqExact(_file_id), count() FROM flows")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(res.Rows), fmt.Sprintf("[[%d %d 3 60]]", at.UnixMilli(), at.UnixMilli()); got != want {
		t.Errorf("ingest time, files, records: %s, want %s", got, want)
	}
	got, err := srv.Query(t.Context(), "SELECT count() FROM system.columns WHERE database = 'itime' AND table = 'records' AND name = '_ingest_time'")
	if err != nil || got != "0\n" {
		t.Errorf("a new records table has an _ingest_time column: %q (%v)", got, err)
	}
}

// TestParallelInsert commits a group large enough for several concurrent
// INSERT blocks: every record arrives once, with its own file's dataset.
func TestParallelInsert(t *testing.T) {
	srv := chtest.Start(t)
	s := openTest(t, srv, "parallel")
	s.cfg.InsertParallel = 3
	files := []struct {
		ds, key string
		batches int
	}{{"prod", "a.log", 7}, {"edge", "b.log", 5}, {"prod", "c.log", 3}}
	var txs []store.FileTx
	for i, f := range files {
		tx, err := s.BeginFile(t.Context(), f.ds, store.Source{Key: f.key, Size: 10, Checksum: "c"}, false)
		if err != nil {
			t.Fatal(err)
		}
		for j := range f.batches {
			if err := tx.Append(t.Context(), batchOf(t, 10000, hour0+int64(i*100000+j*10000))); err != nil {
				t.Fatal(err)
			}
		}
		txs = append(txs, tx)
	}
	if err := s.CommitGroup(t.Context(), txs); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "WHERE dataset = 'prod'"); n != 100000 {
		t.Fatalf("prod has %d records, want 100000", n)
	}
	if n := count(t, s, "WHERE dataset = 'edge'"); n != 50000 {
		t.Fatalf("edge has %d records, want 50000", n)
	}
	// each record once: distinct start times per dataset
	res, err := s.Query(t.Context(), "SELECT dataset, uniqExact(start), min(start), max(start) FROM flows GROUP BY dataset ORDER BY dataset")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("[[edge 50000 %d %d] [prod 100000 %d %d]]", hour0+100000, hour0+149999, hour0, hour0+229999)
	if got := fmt.Sprint(res.Rows); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
