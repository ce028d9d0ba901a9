package clickhouse

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/insights/sqlgen"
	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
	"github.com/flowlens/flowlens/internal/store/storetest"
)

// serverCount runs a count over one server's HTTP interface.
func serverCount(t *testing.T, srv *chtest.Server, q string) int64 {
	t.Helper()
	out, err := srv.Query(t.Context(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Fatalf("%s: %q", q, out)
	}
	return n
}

// TestClusterCorpus runs the scripted query corpus on a Distributed table
// over two local servers as two shards: the answers are those of one
// server (the same known failures), the records are spread over both
// shards and aggregation runs on the shards.
func TestClusterCorpus(t *testing.T) {
	srvs := chtest.StartCluster(t, 2, "flowlens_two")
	s := openTest(t, srvs[0], "clu?cluster=flowlens_two")
	storetest.RunCorpusDialect(t, s, sqlgen.ClickHouse{}, knownFailures(t, "testdata/corpus-known-failures.txt"))

	total := count(t, s, "")
	var sum int64
	for i, srv := range srvs {
		n := serverCount(t, srv, "SELECT count() FROM clu.records")
		if n == 0 || n == total {
			t.Errorf("shard %d holds %d of %d records: not spread", i+1, n, total)
		}
		sum += n
	}
	if sum != total {
		t.Errorf("the shards hold %d records, flows shows %d", sum, total)
	}
	// Without the merge on the coordinator, each shard's partial
	// aggregate comes back on its own: the GROUP BY ran on the shards.
	res, err := s.Query(t.Context(), "SELECT dataset, count() AS n FROM flows GROUP BY dataset SETTINGS distributed_group_by_no_merge = 1")
	if err != nil {
		t.Fatal(err)
	}
	merged, err := s.Query(t.Context(), "SELECT dataset, count() AS n FROM flows GROUP BY dataset")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2*len(merged.Rows) {
		t.Errorf("partial aggregates: %d rows for %d groups on 2 shards: %v", len(res.Rows), len(merged.Rows), res.Rows)
	}
}

// TestClusterWrites: exactly once, replacement, retention and a registry
// copy lost by a crash on a two-shard cluster.
func TestClusterWrites(t *testing.T) {
	srvs := chtest.StartCluster(t, 2, "flowlens_two")
	dsn := "cw?cluster=flowlens_two"
	s := openTest(t, srvs[0], dsn)
	if err := ingest(t, s, "prod", "a.log", false, batchOf(t, 400, hour0)); err != nil {
		t.Fatal(err)
	}
	if err := ingest(t, s, "prod", "b.log", false, batchOf(t, 100, hour0+7200)); err != nil {
		t.Fatal(err)
	}
	if err := ingest(t, s, "prod", "a.log", false, batchOf(t, 400, hour0)); err == nil {
		t.Error("a second ingest of a.log was accepted")
	}
	if n := count(t, s, ""); n != 500 {
		t.Errorf("%d records, want 500", n)
	}
	// --force replaces
	if err := ingest(t, s, "prod", "a.log", true, batchOf(t, 300, hour0)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, ""); n != 400 {
		t.Errorf("after the replacement: %d records, want 400", n)
	}
	// A crash after the commit on the coordinator, before the copy on
	// shard 2: the next Open copies the registry row.
	if _, err := srvs[1].Query(t.Context(), "ALTER TABLE cw.ingest_registry DELETE WHERE key = 'b.log'"); err != nil {
		t.Fatal(err)
	}
	waitDone(t, srvs[1], "cw", "ingest_registry")
	if n := count(t, s, ""); n >= 400 {
		t.Fatalf("the shard still shows b.log's records (%d)", n)
	}
	s2 := openTest(t, srvs[0], dsn)
	if n := count(t, s2, ""); n != 400 {
		t.Errorf("after the registry copy: %d records, want 400", n)
	}
	// retention drops the first hour on both shards
	n, err := s2.DropBefore(t.Context(), "prod", time.Unix(hour0+3600, 0))
	if err != nil {
		t.Fatal(err)
	}
	if n != 300 || count(t, s2, "") != 100 {
		t.Errorf("retention removed %d records, %d left; want 300, 100", n, count(t, s2, ""))
	}
	for _, srv := range srvs {
		if m := serverCount(t, srv, "SELECT count() FROM cw.records WHERE _hour = "+strconv.FormatInt(hour0, 10)); m != 0 {
			t.Errorf("a shard keeps %d records of the dropped hour", m)
		}
	}
	ds, err := s2.Datasets(t.Context())
	if err != nil || len(ds) != 1 || ds[0].Records != 100 || ds[0].Files != 2 || ds[0].Bytes <= 0 {
		t.Errorf("datasets: %+v %v", ds, err)
	}
}

// waitDone waits until a table of a server has no unfinished mutation.
func waitDone(t *testing.T, srv *chtest.Server, db, table string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for serverCount(t, srv, "SELECT count() FROM system.mutations WHERE database = '"+db+"' AND table = '"+table+"' AND NOT is_done") > 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the mutation does not finish")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
