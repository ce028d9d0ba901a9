package duckdb

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/store"
)

// sealClock is the clock of the seal tests: 10 minutes after the end of
// the third hour of sealFiles' records, so that with SealAfter = 1h the
// first two hours are sealed and the third is not.
func sealClock() time.Time { return time.Unix(t0+3*3600+600, 0) }

func openSealTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{Dir: dir, MemoryLimit: "512MB", Threads: 2, Now: sealClock, SealBatch: 1, SealQuiet: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sealFiles ingests n small files (one commit each) of random records
// over three hours from t0; file i's key is "f<i>".
func sealFiles(t testing.TB, s *Store, n int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		var recs []rec
		for range 40 {
			recs = append(recs, rec{
				src: fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(50)), dst: fmt.Sprintf("10.1.0.%d", r.IntN(20)),
				sport: int64(32768 + r.IntN(20000)), dport: []int64{22, 443, 53}[r.IntN(3)], proto: 6,
				bytes: int64(r.IntN(5000)), start: t0 + int64(r.IntN(3*3600)),
				action: []string{"ACCEPT", "REJECT"}[r.IntN(2)], status: "OK",
			})
		}
		recs = append(recs, rec{"2001:db8::7", "10.1.0.1", 1, 2, 6, 5, t0 + int64(r.IntN(3*3600)), "ACCEPT", "OK"})
		ingestBatch(t, s, "", fmt.Sprintf("f%d", i), defaultBatch(t, recs))
	}
}

// snapshot is the records' count and a hash over every row of `flows`,
// and the rollups' totals: what sealing must leave as it was.
func snapshot(t testing.TB, s *Store) string {
	t.Helper()
	return fmtRows(queryRows(t, s, `SELECT count(*), sum(hash(f)), (SELECT sum(records) FROM flows_5m), (SELECT sum(records) FROM flows_rejects) FROM flows f`))
}

// sortedHours returns, per sealed hour, whether its file's rows are in the
// sealed order and hold that hour only, then the hours left in the table.
func sortedHours(t testing.TB, s *Store) string {
	t.Helper()
	var out []string
	for _, h := range s.sealedNow().hours("records") {
		p := s.sealedPath(s.sealedNow()["records"][h].name)
		got := fmtRows(queryRows(t, s, `SELECT bool_and(ok AND _hour = ?) FROM (SELECT _hour, (_dataset_id, _srcaddr_v4, _dstaddr_v4, start) >=
			lag((_dataset_id, _srcaddr_v4, _dstaddr_v4, start)) OVER (ORDER BY file_row_number) IS NOT FALSE AS ok
			FROM read_parquet(`+quoteString(p)+`, file_row_number = true))`, h))
		out = append(out, fmt.Sprintf("%d sealed %s", h, got))
	}
	out = append(out, "table "+fmtRows(queryRows(t, s, `SELECT DISTINCT _hour FROM records ORDER BY 1`)))
	return strings.Join(out, "; ")
}

// sealedList lists the sealed hours and their records.
func sealedList(t testing.TB, s *Store) string {
	t.Helper()
	return fmtRows(queryRows(t, s, `SELECT _hour, records, file FROM sealed_hours ORDER BY 1`))
}

// sealedFilesOnDisk counts the files of the sealed folder.
func sealedFilesOnDisk(t testing.TB, s *Store) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(s.sealedDir(), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestSeal: the hours that ended an hour ago move into the sealed tier,
// one sorted file each, with every row and the rollups as they were; a
// late file adds table rows beside its hour's file, which the next Seal
// writes together into a new file; retention drops whole files.
func TestSeal(t *testing.T) {
	s := openSealTest(t, t.TempDir())
	sealFiles(t, s, 12, 1)
	before := snapshot(t, s)
	st, err := s.Seal(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Hours != 2 {
		t.Errorf("sealed %d hours, want the 2 that ended an hour ago", st.Hours)
	}
	if got := snapshot(t, s); got != before {
		t.Errorf("after sealing: %s, before %s", got, before)
	}
	want := fmt.Sprintf("%d sealed [[true]]; %d sealed [[true]]; table [[%d]]", t0, t0+3600, t0+7200)
	if got := sortedHours(t, s); got != want {
		t.Errorf("hours: %s, want %s", got, want)
	}
	if got := fmtRows(queryRows(t, s, `SELECT runs FROM hour_runs WHERE _hour = ?`, t0+7200)); got != "[[12]]" {
		t.Errorf("runs of the open hour: %s, want 12", got)
	}
	// The IPv6 source keeps its text, the IPv4 ones are rebuilt.
	if got := fmtRows(queryRows(t, s, `SELECT count(*) FROM flows WHERE srcaddr = '2001:db8::7' AND _hour < ?`, t0+7200)); got == "[[0]]" {
		t.Errorf("no IPv6 source in the sealed hours")
	}
	// Sealing again has nothing to do.
	if st, err := s.Seal(t.Context(), nil); err != nil || st.Hours != 0 {
		t.Errorf("second seal: %+v, %v", st, err)
	}
	// A late file in hour 0: its rows wait in the table beside the file.
	ingestBatch(t, s, "", "late0", defaultBatch(t, []rec{{"10.0.0.0", "10.1.0.0", 1, 22, 6, 1, t0 + 5, "REJECT", "OK"}}))
	before = snapshot(t, s)
	want0 := fmt.Sprintf("%d sealed [[true]]; %d sealed [[true]]; table [[%d] [%d]]", t0, t0+3600, t0, t0+7200)
	if got := sortedHours(t, s); got != want0 {
		t.Errorf("hours after a late file: %s, want %s", got, want0)
	}
	if st, err := s.Seal(t.Context(), nil); err != nil || st.Hours != 1 || st.Records != 1 {
		t.Errorf("seal after the late file: %+v, %v (want the one hour, one record)", st, err)
	}
	if got := snapshot(t, s); got != before {
		t.Errorf("after sealing the late file: %s, before %s", got, before)
	}
	if got := sortedHours(t, s); got != want {
		t.Errorf("hours after sealing the late file: %s, want %s", got, want)
	}
	s.collect(true)
	if got := sealedFilesOnDisk(t, s); got != 2 {
		t.Errorf("%d files in the sealed folder, want 2 (the replaced one removed)", got)
	}
	// Retention of every dataset drops the hour's file.
	n, err := s.DropBefore(t.Context(), "", time.Unix(t0+3600, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := sealedList(t, s); !strings.HasPrefix(got, fmt.Sprintf("[[%d ", t0+3600)) || strings.Contains(got, "] [") {
		t.Errorf("sealed hours after retention: %s", got)
	}
	if got := fmtRows(queryRows(t, s, `SELECT count(*) FROM flows WHERE _hour = ?`, t0)); got != "[[0]]" || n == 0 {
		t.Errorf("hour 0 after retention: %s rows (removed %d)", got, n)
	}
	s.collect(true)
	if got := sealedFilesOnDisk(t, s); got != 1 {
		t.Errorf("%d files in the sealed folder after retention, want 1", got)
	}
}

// TestSealReplace: a file ingested again with force whose rows are in a
// sealed hour replaces them there (the hour goes back to the table, the
// next Seal writes it anew); retention of one dataset cuts its rows out of
// hours shared with another.
func TestSealReplace(t *testing.T) {
	s := openSealTest(t, t.TempDir())
	sealFiles(t, s, 6, 4)
	ingestBatch(t, s, "other", "o1", defaultBatch(t, []rec{{"10.0.0.1", "10.1.0.1", 1, 443, 6, 7, t0 + 10, "ACCEPT", "OK"}}))
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	total := fmtRows(queryRows(t, s, `SELECT count(*) FROM flows`))
	f1 := fmtRows(queryRows(t, s, `SELECT count(*) FROM flows WHERE _file_id = (SELECT file_id FROM ingest_registry WHERE key = 'f1')`))
	if f1 == "[[0]]" {
		t.Fatal("file f1 has no rows")
	}
	// f1 again, now one record in hour 0.
	tx, err := s.BeginFile(t.Context(), "", store.Source{Key: "f1", Size: 1, Checksum: "sum-f1-again"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(t.Context(), defaultBatch(t, []rec{{"10.0.0.9", "10.1.0.9", 1, 22, 6, 3, t0 + 20, "ACCEPT", "OK"}})); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	var n1, nTotal, was int64
	fmt.Sscanf(strings.Trim(f1, "[]"), "%d", &was)
	fmt.Sscanf(strings.Trim(total, "[]"), "%d", &nTotal)
	fmt.Sscanf(strings.Trim(fmtRows(queryRows(t, s, `SELECT count(*) FROM flows`)), "[]"), "%d", &n1)
	if n1 != nTotal-was+1 {
		t.Errorf("after the replacement %d records, want %d - %d + 1", n1, nTotal, was)
	}
	if got := fmtRows(queryRows(t, s, `SELECT srcaddr FROM flows WHERE _file_id = (SELECT file_id FROM ingest_registry WHERE key = 'f1')`)); got != "[[10.0.0.9]]" {
		t.Errorf("f1's rows after the replacement: %s", got)
	}
	before := snapshot(t, s)
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, s); got != before {
		t.Errorf("after sealing the replacement: %s, before %s", got, before)
	}
	// Retention of the dataset "other" alone: hour 0 holds both datasets.
	if _, err := s.DropBefore(t.Context(), "other", time.Unix(t0+7200, 0)); err != nil {
		t.Fatal(err)
	}
	if got := fmtRows(queryRows(t, s, `SELECT count(*) FROM flows WHERE dataset = 'other'`)); got != "[[0]]" {
		t.Errorf("dataset other after its retention: %s records", got)
	}
	var n2 int64
	fmt.Sscanf(strings.Trim(fmtRows(queryRows(t, s, `SELECT count(*) FROM flows`)), "[]"), "%d", &n2)
	if n2 != n1-1 {
		t.Errorf("after the retention of other: %d records, want %d", n2, n1-1)
	}
}

// TestSealCrash: a process killed (SIGKILL) while it rewrites an hour
// loses nothing: every row is there as before, the hours sealed before
// the crash stay sealed, and the next Seal finishes the work.
func TestSealCrash(t *testing.T) {
	if os.Getenv("FLOWLENS_SEAL_HELPER") != "" {
		t.Skip("in the helper process")
	}
	dir := t.TempDir()
	s := openSealTest(t, dir)
	sealFiles(t, s, 12, 2)
	before := snapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestSealHelperProcess$")
	cmd.Env = append(os.Environ(), "FLOWLENS_SEAL_HELPER="+dir)
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
		if strings.HasPrefix(sc.Text(), "rewriting") {
			hung = true
			break
		}
		t.Logf("helper: %s", sc.Text())
	}
	if !hung {
		_ = cmd.Wait()
		t.Fatal("the helper never reached the rewrite")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s = openSealTest(t, dir)
	if got := snapshot(t, s); got != before {
		t.Errorf("after the crash: %s, before %s", got, before)
	}
	if got := sealedList(t, s); !strings.HasPrefix(got, fmt.Sprintf("[[%d ", t0)) || strings.Contains(got, "] [") {
		t.Errorf("sealed hours after the crash: %s, want the first hour only", got)
	}
	if got := sealedFilesOnDisk(t, s); got != 1 {
		t.Errorf("%d files in the sealed folder after the crash, want 1 (the unfinished one removed)", got)
	}
	st, err := s.Seal(t.Context(), nil)
	if err != nil || st.Hours != 1 {
		t.Errorf("seal after the crash: %+v, %v (want the hour the crash interrupted)", st, err)
	}
	if got := snapshot(t, s); got != before {
		t.Errorf("after sealing again: %s, before %s", got, before)
	}
	want := fmt.Sprintf("%d sealed [[true]]; %d sealed [[true]]; table [[%d]]", t0, t0+3600, t0+7200)
	if got := sortedHours(t, s); got != want {
		t.Errorf("hours: %s, want %s", got, want)
	}
}

// TestSealHelperProcess is the process TestSealCrash kills: it seals the
// first hour, then hangs inside the rewrite of the second, before its
// commit.
func TestSealHelperProcess(t *testing.T) {
	dir := os.Getenv("FLOWLENS_SEAL_HELPER")
	if dir == "" {
		t.Skip("helper process for TestSealCrash")
	}
	s, err := Open(t.Context(), Config{Dir: dir, MemoryLimit: "512MB", Threads: 2, Now: sealClock, SealBatch: 1, SealQuiet: -1}, nil)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	s.sealHook = func(_ string, hours []int64) {
		if hours[0] == t0+3600 {
			fmt.Println("rewriting", hours)
			select {}
		}
	}
	_, err = s.Seal(t.Context(), nil)
	fmt.Println("finished:", err)
	os.Exit(0)
}

// TestSealQuiet: with a lock (a server's seal job), an hour written less
// than SealQuiet ago waits for the next Seal.
func TestSealQuiet(t *testing.T) {
	dir := t.TempDir()
	now := sealClock()
	s, err := Open(t.Context(), Config{Dir: dir, MemoryLimit: "512MB", Threads: 2, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sealFiles(t, s, 6, 3)
	var mu sync.Mutex
	if st, err := s.Seal(t.Context(), &mu); err != nil || st.Hours != 0 {
		t.Errorf("seal right after the writes: %+v, %v (want nothing)", st, err)
	}
	now = now.Add(11 * time.Minute)
	if st, err := s.Seal(t.Context(), &mu); err != nil || st.Hours != 2 {
		t.Errorf("seal 11 minutes later: %+v, %v (want 2 hours)", st, err)
	}
}

// TestCompact: the rewritten file holds every row, rollup and registry
// entry, and the store goes on working on it (exactly-once included).
func TestCompact(t *testing.T) {
	s := openSealTest(t, t.TempDir())
	sealFiles(t, s, 6, 5)
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	if _, _, err := s.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, s); got != before {
		t.Errorf("after compacting: %s, before %s", got, before)
	}
	b := defaultBatch(t, []rec{{"10.0.0.1", "10.1.0.1", 1, 443, 6, 7, t0 + 10, "ACCEPT", "OK"}})
	var size int64
	fmt.Sscanf(strings.Trim(fmtRows(queryRows(t, s, `SELECT size FROM ingest_registry WHERE key = 'f1'`)), "[]"), "%d", &size)
	if _, err := s.BeginFile(t.Context(), "", store.Source{Key: "f1", Size: size, Checksum: "sum-f1"}, false); !errors.Is(err, store.ErrAlreadyIngested) {
		t.Errorf("f1 again after compacting: %v, want ErrAlreadyIngested", err)
	}
	ingestBatch(t, s, "", "after", b)
	if got := fmtRows(queryRows(t, s, `SELECT count(*) FROM flows WHERE _file_id = (SELECT file_id FROM ingest_registry WHERE key = 'after')`)); got != "[[1]]" {
		t.Errorf("the file ingested after compacting: %s rows", got)
	}
	if _, err := os.Stat(s.path + compactSuffix); !os.IsNotExist(err) {
		t.Errorf("the compaction's file is left: %v", err)
	}
}

// dayFiles lists, per sealed file of the records table, its hours, and
// whether its rows are in the day order and within those hours.
func dayFiles(t testing.TB, s *Store) string {
	t.Helper()
	var out []string
	for _, g := range s.sealedNow().files("records") {
		p := s.sealedPath(g.name)
		got := fmtRows(queryRows(t, s, `SELECT bool_and(ok AND _hour IN `+hourList(g.hours)+`) FROM (SELECT _hour, (_dataset_id, _srcaddr_v4, start) >=
			lag((_dataset_id, _srcaddr_v4, start)) OVER (ORDER BY file_row_number) IS NOT FALSE AS ok
			FROM read_parquet(`+quoteString(p)+`, file_row_number = true))`))
		var hs []string
		for _, h := range g.hours {
			hs = append(hs, fmt.Sprint((h-t0)/3600))
		}
		out = append(out, "["+strings.Join(hs, " ")+"] "+got)
	}
	return strings.Join(out, "; ")
}

// TestSealDays: once its day is over, a day's sealed hours are merged
// into one file in the day order, with every row and the rollups as they
// were; a late file, a replaced file and retention of some hours or of
// one dataset each write the day anew in the same transaction, and the
// registry of the shared file survives a reopen.
func TestSealDays(t *testing.T) {
	day := int64(t0 - t0%86400)
	now := time.Unix(day+86400+2*3600+600, 0) // 02:10 the next day
	dir := t.TempDir()
	open := func() *Store {
		s, err := Open(t.Context(), Config{Dir: dir, MemoryLimit: "512MB", Threads: 2, Now: func() time.Time { return now }, SealBatch: 1, SealQuiet: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	s := open()
	sealFiles(t, s, 12, 7)
	next := day + 86400 // an hour of the next day: sealed, its day not over
	ingestBatch(t, s, "", "next", defaultBatch(t, []rec{{"10.0.0.3", "10.1.0.3", 1, 443, 6, 9, next + 60, "ACCEPT", "OK"}}))
	ingestBatch(t, s, "other", "o1", defaultBatch(t, []rec{{"10.0.0.1", "10.1.0.1", 1, 443, 6, 7, t0 + 3600 + 10, "ACCEPT", "OK"}}))
	count := func(q string, args ...any) int64 {
		t.Helper()
		var n int64
		fmt.Sscanf(strings.Trim(fmtRows(queryRows(t, s, q, args...)), "[]"), "%d", &n)
		return n
	}
	check := func(step, want string, before string) {
		t.Helper()
		if got := snapshot(t, s); got != before {
			t.Errorf("%s: %s, before %s", step, got, before)
		}
		if got := dayFiles(t, s); got != want {
			t.Errorf("%s: files %s, want %s", step, got, want)
		}
		if got := count(`SELECT count(*) FROM records`); got != 0 {
			t.Errorf("%s: %d rows left in the table", step, got)
		}
		s.collect(true)
		if got, want := sealedFilesOnDisk(t, s), strings.Count(want, ";")+1; got != want {
			var names []string
			_ = filepath.WalkDir(s.sealedDir(), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					names = append(names, filepath.Base(p))
				}
				return nil
			})
			t.Errorf("%s: %d files in the sealed folder (%v), want %d (%s)", step, got, names, want, sealedList(t, s))
		}
	}
	const merged = "[0 1 2] [[true]]; [10] [[true]]"
	before := snapshot(t, s)
	st, err := s.Seal(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Hours != 4 || st.Days != 1 {
		t.Errorf("seal: %+v, want 4 hours and 1 day", st)
	}
	check("seal", merged, before)
	if got := count(`SELECT count(DISTINCT file) FROM sealed_hours`); got != 2 {
		t.Errorf("%d files registered, want 2", got)
	}
	if got := s.sealedNow().bytes(); got != s.FileBytes()-fileSize(s.path)-fileSize(s.path+".wal") {
		t.Errorf("sealed bytes %d count a day file more than once", got)
	}

	// A late file in hour 1: the next Seal writes the day anew.
	ingestBatch(t, s, "", "late1", defaultBatch(t, []rec{{"10.0.0.0", "10.1.0.0", 1, 22, 6, 1, t0 + 3600 + 5, "REJECT", "OK"}}))
	before = snapshot(t, s)
	if st, err := s.Seal(t.Context(), nil); err != nil || st.Hours != 1 || st.Records != 1 {
		t.Errorf("seal after the late file: %+v, %v (want the one hour, one record)", st, err)
	}
	check("late file", merged, before)

	// f1 again with force: its hours go back into the table, the day's
	// others into a new file; the next Seal merges the day again.
	f1 := count(`SELECT count(*) FROM flows WHERE _file_id = (SELECT file_id FROM ingest_registry WHERE key = 'f1')`)
	total := count(`SELECT count(*) FROM flows`)
	tx, err := s.BeginFile(t.Context(), "", store.Source{Key: "f1", Size: 1, Checksum: "sum-f1-again"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Append(t.Context(), defaultBatch(t, []rec{{"10.0.0.9", "10.1.0.9", 1, 22, 6, 3, t0 + 20, "ACCEPT", "OK"}})); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := count(`SELECT count(*) FROM flows`); got != total-f1+1 {
		t.Errorf("after the replacement %d records, want %d - %d + 1", got, total, f1)
	}
	before = snapshot(t, s)
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	check("replaced file", merged, before)

	// Retention before hour 1: the day keeps hours 1 and 2.
	h0 := count(`SELECT count(*) FROM flows WHERE _hour = ?`, t0)
	total = count(`SELECT count(*) FROM flows`)
	n, err := s.DropBefore(t.Context(), "", time.Unix(t0+3600+1800, 0))
	if err != nil {
		t.Fatal(err)
	}
	if n != h0 || count(`SELECT count(*) FROM flows`) != total-h0 || count(`SELECT count(*) FROM flows WHERE _hour = ?`, t0) != 0 {
		t.Errorf("retention of hour 0: removed %d of its %d records; %d left of %d", n, h0, count(`SELECT count(*) FROM flows`), total)
	}
	before = snapshot(t, s)
	check("retention of hour 0", "[1 2] [[true]]; [10] [[true]]", before)

	// Retention of the dataset "other" alone, whose record is in hour 1.
	total = count(`SELECT count(*) FROM flows`)
	if n, err := s.DropBefore(t.Context(), "other", time.Unix(t0+3*3600, 0)); err != nil || n != 1 {
		t.Errorf("retention of other: %d, %v (want its one record)", n, err)
	}
	if got := count(`SELECT count(*) FROM flows`); got != total-1 || count(`SELECT count(*) FROM flows WHERE dataset = 'other'`) != 0 {
		t.Errorf("after the retention of other: %d records, want %d", got, total-1)
	}
	before = snapshot(t, s)
	check("retention of other", "[1 2] [[true]]; [10] [[true]]", before)

	// The shared file's registry survives a reopen.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	check("reopen", "[1 2] [[true]]; [10] [[true]]", before)

	// Retention of the whole day drops its file.
	if _, err := s.DropBefore(t.Context(), "", time.Unix(day+86400, 0)); err != nil {
		t.Fatal(err)
	}
	if got := count(`SELECT count(*) FROM flows`); got != 1 {
		t.Errorf("after the retention of the day: %d records, want the next day's 1", got)
	}
	check("retention of the day", "[10] [[true]]", snapshot(t, s))
}

// TestSealDayOutOfMemory: a day whose sort runs out of memory under a
// limit lowered with LimitMemory is sealed again under the store's own
// limit, with the same rows, and the lowered limit is in force again
// afterwards. The store's limit (64MB) is below what sizeDaySort asks for
// any day, so the first attempt runs under the lowered limit.
func TestSealDayOutOfMemory(t *testing.T) {
	day := int64(t0 - t0%86400)
	now := time.Unix(day+86400+2*3600+600, 0) // 02:10 the next day
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := Open(t.Context(), Config{Dir: t.TempDir(), MemoryLimit: "64MB", Threads: 2, Now: func() time.Time { return now }, SealBatch: 1, SealQuiet: -1}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	sealFiles(t, s, 12, 7)
	before := snapshot(t, s)
	restore, err := s.LimitMemory(t.Context(), "11MB")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatalf("seal: %v", err)
	}
	if !strings.Contains(logs.String(), "trying again under the store's memory limit") {
		t.Errorf("the day's first attempt did not run out of memory under 11MB (no warning logged): %s", logs.String())
	}
	if got := snapshot(t, s); got != before {
		t.Errorf("after the seal: %s, before %s", got, before)
	}
	if got := dayFiles(t, s); got == "" {
		t.Error("no day file after the seal")
	}
	lim := memoryLimit(t, s)
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	after := memoryLimit(t, s)
	if lim == after {
		t.Errorf("memory limit after the seal %s, the same as the store's own %s: the lowered limit was not put back", lim, after)
	}
}

// TestSealDaySizedLimit: a day whose sort fits under the store's own limit
// but not under the lowered one is sealed at the first attempt under a
// limit sized for it (no out-of-memory retry), with the same rows, and
// the lowered limit is in force again afterwards.
func TestSealDaySizedLimit(t *testing.T) {
	day := int64(t0 - t0%86400)
	now := time.Unix(day+86400+2*3600+600, 0) // 02:10 the next day
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Open(t.Context(), Config{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2, Now: func() time.Time { return now }, SealBatch: 1, SealQuiet: -1}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	sealFiles(t, s, 12, 7)
	before := snapshot(t, s)
	restore, err := s.LimitMemory(t.Context(), "11MB")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = restore() }()
	lowered := memoryLimit(t, s)
	if _, err := s.Seal(t.Context(), nil); err != nil {
		t.Fatalf("seal: %v", err)
	}
	if strings.Contains(logs.String(), "trying again under the store's memory limit") {
		t.Errorf("the day's first attempt ran out of memory: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "sized for its sort") {
		t.Errorf("the day was not sealed under a sized limit: %s", logs.String())
	}
	if got := snapshot(t, s); got != before {
		t.Errorf("after the seal: %s, before %s", got, before)
	}
	if got := dayFiles(t, s); got == "" {
		t.Error("no day file after the seal")
	}
	lim := memoryLimit(t, s)
	if lim != lowered {
		t.Errorf("memory limit after the seal %s, want the lowered %s again", lim, lowered)
	}
}

func TestDaySortLimit(t *testing.T) {
	const mb = 1000 * 1000
	for _, c := range []struct {
		records, held, cur, max, want int64
	}{
		{1000, 36 * mb, 400 * mb, 1000 * mb, 400 * mb},                                                   // fits under the lowered limit
		{2_000_000, 48 * mb, 400 * mb, 1000 * mb, 48*mb + 2_000_000*sortBytesPerRecord + sortWriteBytes}, // fits under the store's
		{20_000_000, 48 * mb, 400 * mb, 1000 * mb, 400 * mb},                                             // spills under the lowered limit
		{2_000_000, 48 * mb, 1000 * mb, 1000 * mb, 1000 * mb},                                            // no lowered limit
	} {
		if got := daySortLimit(c.records, c.held, c.cur, c.max); got != c.want {
			t.Errorf("daySortLimit(%d, %d, %d, %d) = %d, want %d", c.records, c.held, c.cur, c.max, got, c.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"400MB": 400e6, "1GB": 1e9, "381.4 MiB": 399926886, "12345 bytes": 12345, "953.6 MiB": 999922074, "2 KiB": 2048, "7": 7,
	} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "12 parsecs"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q): no error", in)
		}
	}
}

// memoryLimit is the DuckDB memory limit in force on s.
func memoryLimit(t *testing.T, s *Store) string {
	t.Helper()
	var lim string
	if err := s.db.QueryRowContext(t.Context(), "SELECT current_setting('memory_limit')").Scan(&lim); err != nil {
		t.Fatal(err)
	}
	return lim
}
