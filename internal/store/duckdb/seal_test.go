package duckdb

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
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

// snapshot is the records' count and a hash over every stored row, and
// the rollups' totals: what a rewrite must leave as it was.
func snapshot(t testing.TB, s *Store) string {
	t.Helper()
	return fmtRows(queryRows(t, s, `SELECT count(*), sum(hash(r)), (SELECT sum(records) FROM flows_5m), (SELECT sum(records) FROM flows_rejects) FROM records r`))
}

// sortedHours returns, per hour, whether its rows are in the sealed order.
func sortedHours(t testing.TB, s *Store) string {
	t.Helper()
	return fmtRows(queryRows(t, s, `SELECT _hour, bool_and(ok) FROM (SELECT _hour, (_dataset_id, _srcaddr_v4, _dstaddr_v4, start) >=
		lag((_dataset_id, _srcaddr_v4, _dstaddr_v4, start)) OVER (PARTITION BY _hour ORDER BY rowid) IS NOT FALSE AS ok FROM records)
		GROUP BY 1 ORDER BY 1`))
}

// sealedList lists the hours Seal rewrote and their runs since.
func sealedList(t testing.TB, s *Store) string {
	t.Helper()
	return fmtRows(queryRows(t, s, `SELECT _hour, runs FROM hour_runs WHERE sealed_ms IS NOT NULL ORDER BY 1`))
}

// TestSeal: the hours that ended an hour ago are rewritten as one sorted
// run each, with every row and the rollups as they were; a late file
// unseals its hour, which the next Seal rewrites alone.
func TestSeal(t *testing.T) {
	s := openSealTest(t, t.TempDir())
	sealFiles(t, s, 12, 1)
	before := snapshot(t, s)
	if got := sortedHours(t, s); !strings.Contains(got, "false") {
		t.Fatalf("the test needs hours of several sorted runs: %s", got)
	}
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
	want := fmt.Sprintf("[[%d true] [%d true] [%d false]]", t0, t0+3600, t0+7200)
	if got := sortedHours(t, s); got != want {
		t.Errorf("hours sorted: %s, want %s", got, want)
	}
	if got, want := sealedList(t, s), fmt.Sprintf("[[%d 1] [%d 1]]", t0, t0+3600); got != want {
		t.Errorf("sealed hours %s, want %s", got, want)
	}
	if got := fmtRows(queryRows(t, s, `SELECT runs FROM hour_runs WHERE _hour = ?`, t0+7200)); got != "[[12]]" {
		t.Errorf("runs of the open hour: %s, want 12", got)
	}
	// Sealing again has nothing to do.
	if st, err := s.Seal(t.Context(), nil); err != nil || st.Hours != 0 {
		t.Errorf("second seal: %+v, %v", st, err)
	}
	// Late files in hour 0: up to SealRuns runs stay, one more is sealed again.
	for i := range 2 {
		ingestBatch(t, s, "", fmt.Sprint("late", i), defaultBatch(t, []rec{{"10.0.0.0", "10.1.0.0", 1, 22, 6, 1, t0 + 5, "REJECT", "OK"}}))
		if st, err := s.Seal(t.Context(), nil); err != nil || st.Hours != 0 {
			t.Errorf("seal after late file %d: %+v, %v (want nothing to do)", i, st, err)
		}
	}
	ingestBatch(t, s, "", "late3", defaultBatch(t, []rec{{"10.0.0.0", "10.1.0.0", 1, 22, 6, 1, t0 + 5, "REJECT", "OK"}}))
	before = snapshot(t, s)
	if st, err := s.Seal(t.Context(), nil); err != nil || st.Hours != 1 {
		t.Errorf("seal after the late files: %+v, %v (want the one hour)", st, err)
	}
	if got := snapshot(t, s); got != before {
		t.Errorf("after sealing the late files: %s, before %s", got, before)
	}
	if got := sortedHours(t, s); got != want {
		t.Errorf("hours sorted after the late files: %s, want %s", got, want)
	}
	// Retention of every dataset drops the hour from the list.
	if _, err := s.DropBefore(t.Context(), "", time.Unix(t0+3600, 0)); err != nil {
		t.Fatal(err)
	}
	if got := sealedList(t, s); !strings.HasPrefix(got, fmt.Sprintf("[[%d ", t0+3600)) {
		t.Errorf("sealed hours after retention: %s", got)
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
	if got, want := sealedList(t, s), fmt.Sprintf("[[%d 1]]", t0); got != want {
		t.Errorf("sealed hours after the crash: %s, want the first hour only (%s)", got, want)
	}
	st, err := s.Seal(t.Context(), nil)
	if err != nil || st.Hours != 1 {
		t.Errorf("seal after the crash: %+v, %v (want the hour the crash interrupted)", st, err)
	}
	if got := snapshot(t, s); got != before {
		t.Errorf("after sealing again: %s, before %s", got, before)
	}
	want := fmt.Sprintf("[[%d true] [%d true] [%d false]]", t0, t0+3600, t0+7200)
	if got := sortedHours(t, s); got != want {
		t.Errorf("hours sorted: %s, want %s", got, want)
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

// TestSealQuiet: an hour written less than SealQuiet ago waits for the
// next Seal.
func TestSealQuiet(t *testing.T) {
	dir := t.TempDir()
	now := sealClock()
	s, err := Open(t.Context(), Config{Dir: dir, MemoryLimit: "512MB", Threads: 2, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sealFiles(t, s, 6, 3)
	if st, err := s.Seal(t.Context(), nil); err != nil || st.Hours != 0 {
		t.Errorf("seal right after the writes: %+v, %v (want nothing)", st, err)
	}
	now = now.Add(11 * time.Minute)
	if st, err := s.Seal(t.Context(), nil); err != nil || st.Hours != 2 {
		t.Errorf("seal 11 minutes later: %+v, %v (want 2 hours)", st, err)
	}
}
