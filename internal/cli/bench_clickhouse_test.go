package cli

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/generate"
	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
)

// TestBenchClickHouseStore: the bench's flowlens-on-ClickHouse figures
// come from a real ingest into the peer's server (every generated record,
// bytes on disk) and its Q1–Q7 answers have as many rows as the
// ClickHouse peer's hand-written SQL over the same files.
func TestBenchClickHouseStore(t *testing.T) {
	chtest.Binary(t)
	ctx := t.Context()
	cfg, err := generate.Preset("day-20m")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Records, cfg.Out = 5000, filepath.Join(t.TempDir(), "data")
	sum, err := generate.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := gzipFiles(cfg.Out)
	if err != nil || len(files) == 0 {
		t.Fatalf("%d files (%v)", len(files), err)
	}
	ch, err := newClickHousePeer(ctx, filepath.Join(t.TempDir(), "clickhouse"))
	if err != nil || ch == nil {
		t.Fatalf("start the peer: %v (%v)", ch, err)
	}
	defer ch.Close()
	fc := newFlowlensOnClickHouse(ch, cfg.Out, slog.New(slog.DiscardHandler))
	defer fc.Close()
	if !strings.HasPrefix(fc.Name(), "flowlens on ClickHouse 1") {
		t.Errorf("name %q", fc.Name())
	}
	peer, err := ch.Load(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	l, err := fc.Load(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	if l.records != sum.Records || peer.records != sum.Records || l.bytes <= 0 || l.elapsed <= 0 {
		t.Errorf("flowlens on ClickHouse loaded %d records (%d bytes, %s), the peer %d, want %d", l.records, l.bytes, l.elapsed, peer.records, sum.Records)
	}
	needle, err := ch.exec(ctx, "SELECT IPv4NumToString(srcaddr) FROM flows WHERE NOT (srcaddr BETWEEN 167772160 AND 184549375) GROUP BY srcaddr ORDER BY count() DESC, srcaddr LIMIT 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	needle = strings.TrimSpace(needle)
	for _, id := range []string{"Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"} {
		want, err := ch.Query(ctx, id, needle)
		if err != nil {
			t.Fatalf("%s on the peer: %v", id, err)
		}
		got, err := fc.Query(ctx, id, needle)
		if err != nil {
			t.Fatalf("%s through flowlens on ClickHouse: %v", id, err)
		}
		if got != want {
			t.Errorf("%s: %d rows through flowlens on ClickHouse, %d on the peer", id, got, want)
		}
		if id != "Q5" && want == 0 {
			t.Errorf("%s: no rows on the peer (needle %s)", id, needle)
		}
	}
}
