package duckdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// openDirectTest opens a store on the seal tests' clock whose commits write
// hours of at least minRecs records straight into the sealed tier
// (negative: never).
func openDirectTest(t testing.TB, dir string, minRecs int) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{Dir: dir, MemoryLimit: "512MB", Threads: 2, Now: sealClock, SealBatch: 1, SealQuiet: -1,
		DirectSealRecords: minRecs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// directBatch is n random records from hour `hour` (seconds after t0) on,
// over `hours` hours; an IPv6 and a NULL-address record among them.
func directBatch(t testing.TB, seed uint64, n int, hour, hours int64) *flowlog.Batch {
	r := rand.New(rand.NewPCG(seed, 3))
	var recs []rec
	for range n {
		recs = append(recs, rec{
			src: fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(50)), dst: fmt.Sprintf("10.1.0.%d", r.IntN(20)),
			sport: int64(32768 + r.IntN(20000)), dport: []int64{22, 443, 53}[r.IntN(3)], proto: 6,
			bytes: int64(r.IntN(5000)), start: t0 + hour + int64(r.IntN(int(hours*3600))),
			action: []string{"ACCEPT", "REJECT"}[r.IntN(2)], status: "OK",
		})
	}
	recs = append(recs, rec{"2001:db8::7", "10.1.0.1", 1, 2, 6, 5, t0 + hour, "REJECT", "OK"})
	recs = append(recs, rec{"", "", -1, -1, -1, -1, t0 + hour + 1, "", "NODATA"})
	return defaultBatch(t, recs)
}

// fullSnapshot is snapshot plus every row of both rollups.
func fullSnapshot(t testing.TB, s *Store) string {
	return snapshot(t, s) + fmtRows(queryRows(t, s, `SELECT * FROM flows_rejects ORDER BY ALL`)) +
		fmtRows(queryRows(t, s, `SELECT * FROM flows_5m ORDER BY ALL`))
}

// TestDirectSeal: a commit writes the hours that are over and empty into
// the sealed tier, the others into the table; the records, both rollups
// and every query answer are those of a store that wrote the table and
// sealed afterwards. A late file for a directly sealed hour goes to the
// table and the next Seal writes both into one file; a forced re-ingest
// replaces the rows; a second ingest of a file is refused.
func TestDirectSeal(t *testing.T) {
	direct := openDirectTest(t, t.TempDir(), 100)
	plain := openDirectTest(t, t.TempDir(), -1)
	for _, s := range []*Store{direct, plain} {
		// three hours: the first two are over (sealClock), the third not
		ingestBatch(t, s, "", "big", directBatch(t, 1, 3000, 0, 3))
	}
	if got := sealedList(t, direct); !strings.HasPrefix(got, fmt.Sprintf("[[%d ", t0)) || !strings.Contains(got, fmt.Sprintf("] [%d ", t0+3600)) || strings.Count(got, "] [") != 1 {
		t.Errorf("sealed hours after the commit: %s, want the first two", got)
	}
	if got := fmtRows(queryRows(t, direct, `SELECT DISTINCT _hour FROM records ORDER BY 1`)); got != fmt.Sprintf("[[%d]]", t0+7200) {
		t.Errorf("hours in the table: %s, want the third only", got)
	}
	if got := sortedHours(t, direct); got != fmt.Sprintf("%d sealed [[true]]; %d sealed [[true]]; table [[%d]]", t0, t0+3600, t0+7200) {
		t.Errorf("hours: %s", got)
	}
	if _, err := plain.Seal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if a, b := fullSnapshot(t, direct), fullSnapshot(t, plain); a != b {
		t.Errorf("direct: %s\nplain + seal: %s", a, b)
	}
	for _, q := range []string{
		`SELECT srcaddr, dstaddr, sum(bytes) FROM flows GROUP BY ALL ORDER BY ALL`,
		`SELECT * FROM flows ORDER BY ALL`,
	} {
		a, b := fmtRows(queryRows(t, direct, q)), fmtRows(queryRows(t, plain, q))
		if a != b {
			t.Errorf("%s: direct and plain differ", q)
		}
	}

	// a late file (small: through the table) for the first hour, then Seal
	for _, s := range []*Store{direct, plain} {
		ingestBatch(t, s, "", "late", directBatch(t, 2, 40, 0, 1))
	}
	if got := fmtRows(queryRows(t, direct, `SELECT count(*) FROM records WHERE _hour = ?`, t0)); got != "[[42]]" {
		t.Errorf("late rows in the table: %s, want 42", got)
	}
	for _, s := range []*Store{direct, plain} {
		if _, err := s.Seal(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := fullSnapshot(t, direct), fullSnapshot(t, plain); a != b {
		t.Errorf("after the late file: direct %s\nplain %s", a, b)
	}

	// exactly once: the same file again is refused; forced, it replaces
	ctx := context.Background()
	b := directBatch(t, 1, 3000, 0, 3)
	if _, err := direct.BeginFile(ctx, "", store.Source{Key: "big", Size: int64(b.N), Checksum: "sum-big"}, false); !errors.Is(err, store.ErrAlreadyIngested) {
		t.Errorf("second ingest of big: %v, want ErrAlreadyIngested", err)
	}
	for _, s := range []*Store{direct, plain} {
		tx, err := s.BeginFile(ctx, "", store.Source{Key: "big", Size: int64(b.N), Checksum: "sum-big"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Append(ctx, directBatch(t, 1, 3000, 0, 3)); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Seal(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := snapshot(t, direct); !strings.HasPrefix(got, "[[3044 ") {
		t.Errorf("after the forced re-ingest: %s, want 3044 records (the late file and the replacement)", got)
	}
	a := fmtRows(queryRows(t, direct, `SELECT * EXCLUDE (_file_id) FROM flows ORDER BY ALL`))
	if b := fmtRows(queryRows(t, plain, `SELECT * EXCLUDE (_file_id) FROM flows ORDER BY ALL`)); a != b {
		t.Errorf("after the forced re-ingest the stores differ")
	}
}

// TestDirectSealCrash kills a process (SIGKILL) after a commit wrote its
// sealed files and before it committed: at the next open nothing of the
// commit is left (no records, no registry entry, no file), and the file
// ingests again.
func TestDirectSealCrash(t *testing.T) {
	if os.Getenv("FLOWLENS_DIRECT_HELPER") != "" {
		t.Skip("in the helper process")
	}
	dir := t.TempDir()
	s := openDirectTest(t, dir, 100)
	ingestBatch(t, s, "", "first", directBatch(t, 5, 500, 0, 1)) // hour 0, sealed
	before := fullSnapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDirectSealHelperProcess$")
	cmd.Env = append(os.Environ(), "FLOWLENS_DIRECT_HELPER="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	hung := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "writing") {
			hung = true
			break
		}
		t.Logf("helper: %s", sc.Text())
	}
	if !hung {
		_ = cmd.Wait()
		t.Fatal("the helper never wrote its sealed file")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s = openDirectTest(t, dir, 100)
	if got := fullSnapshot(t, s); got != before {
		t.Errorf("after the crash: %s, before %s", got, before)
	}
	if got := sealedFilesOnDisk(t, s); got != 1 {
		t.Errorf("%d files in the sealed folder after the crash, want 1 (the unfinished one removed)", got)
	}
	ingestBatch(t, s, "", "second", directBatch(t, 6, 500, 3600, 1))
	if got := snapshot(t, s); !strings.HasPrefix(got, "[[1004 ") {
		t.Errorf("after ingesting the file again: %s, want 1004 records", got)
	}
	if got := sortedHours(t, s); got != fmt.Sprintf("%d sealed [[true]]; %d sealed [[true]]; table []", t0, t0+3600) {
		t.Errorf("hours: %s", got)
	}
}

// TestDirectSealHelperProcess is the process TestDirectSealCrash kills: it
// commits a file of the second hour and hangs once its sealed file is
// written, before the commit.
func TestDirectSealHelperProcess(t *testing.T) {
	dir := os.Getenv("FLOWLENS_DIRECT_HELPER")
	if dir == "" {
		t.Skip("helper process for TestDirectSealCrash")
	}
	s, err := Open(t.Context(), Config{Dir: dir, MemoryLimit: "512MB", Threads: 2, Now: sealClock, SealBatch: 1, SealQuiet: -1,
		DirectSealRecords: 100}, nil)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	s.sealHook = func(_ string, hours []int64) {
		fmt.Println("writing", hours)
		select {}
	}
	ctx := context.Background()
	b := directBatch(t, 6, 500, 3600, 1)
	tx, err := s.BeginFile(ctx, "", store.Source{Key: "second", Size: int64(b.N), Checksum: "sum-second"}, false)
	if err == nil {
		err = tx.Append(ctx, b)
	}
	if err == nil {
		err = tx.Commit(ctx)
	}
	fmt.Println("finished:", err)
	os.Exit(0)
}
