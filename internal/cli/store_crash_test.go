package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate"
	"github.com/flowlens/flowlens/internal/ingest"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// The helper process: the test binary re-executed with FLOWLENS_STORE_HELPER
// set runs one of the modes below instead of the tests.
//
//   - "hold DIR": open the store for writing, print "ready", wait for EOF on stdin;
//   - "crash DIR PATH": ingest PATH, committing each file alone; the first
//     file that spills its rows into its open transaction prints "spilled"
//     and hangs there, to be killed with SIGKILL.
func TestStoreHelperProcess(t *testing.T) {
	mode := os.Getenv("FLOWLENS_STORE_HELPER")
	if mode == "" {
		t.Skip("helper process for the crash and lock tests")
	}
	args := strings.Fields(mode)
	ctx := context.Background()
	switch args[0] {
	case "hold":
		s, err := duckdb.Open(ctx, duckdb.Config{Dir: args[1]}, nil)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = s.Close()
		os.Exit(0)
	case "crash":
		s, err := duckdb.Open(ctx, duckdb.Config{Dir: args[1], SpillRecords: 100}, nil)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		w := &hangingWriter{s: s, after: 3}
		_, err = ingest.Run(ctx, ingest.Config{Paths: []string{args[2]}, Workers: 1, GroupRecords: 1}, w)
		fmt.Println("finished:", err)
		os.Exit(0)
	}
	os.Exit(2)
}

// hangingWriter lets `after` files commit, then hangs the next file once
// it has spilled rows into its transaction.
type hangingWriter struct {
	s     *duckdb.Store
	after int
	n     int
}

func (w *hangingWriter) BeginFile(ctx context.Context, ds string, src store.Source, force bool) (store.FileTx, error) {
	tx, err := w.s.BeginFile(ctx, ds, src, force)
	if err != nil {
		return nil, err
	}
	w.n++
	return &hangingTx{FileTx: tx, hang: w.n > w.after}, nil
}

type hangingTx struct {
	store.FileTx
	hang     bool
	appended int
}

func (t *hangingTx) Append(ctx context.Context, b *flowlog.Batch) error {
	if err := t.FileTx.Append(ctx, b); err != nil {
		return err
	}
	t.appended += b.N
	if t.hang && t.appended >= 100 {
		fmt.Println("spilled")
		select {}
	}
	return nil
}

func helper(t *testing.T, mode string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreHelperProcess$")
	cmd.Env = append(os.Environ(), "FLOWLENS_STORE_HELPER="+mode)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, stdin, bufio.NewScanner(stdout)
}

// waitFor reads the helper's output until a line equals want.
func waitFor(t *testing.T, sc *bufio.Scanner, want string) {
	t.Helper()
	for sc.Scan() {
		if sc.Text() == want {
			return
		}
		if strings.HasPrefix(sc.Text(), "error:") || strings.HasPrefix(sc.Text(), "finished:") {
			t.Fatalf("helper: %s", sc.Text())
		}
	}
	t.Fatalf("helper ended before %q: %v", want, sc.Err())
}

// TestCrashMidIngest kills -9 an ingest while a file's rows sit in an open
// transaction, then checks that no partial file is visible and that running
// the ingest again finishes the job.
func TestCrashMidIngest(t *testing.T) {
	data := t.TempDir()
	c, sum := genConfig(t, generate.LayoutS3, "default", 12000)
	cmd, _, sc := helper(t, "crash "+data+" "+c.Out)
	waitFor(t, sc, "spilled")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// Every registered file has exactly its records; no row belongs to an
	// unregistered file.
	rows := sqlCSV(t, data, `SELECT count(*), sum(CASE WHEN r.records = coalesce(n.n, 0) THEN 1 ELSE 0 END),
		(SELECT count(*) FROM flows WHERE _file_id NOT IN (SELECT file_id FROM ingest_registry))
		FROM ingest_registry r LEFT JOIN (SELECT _file_id, count(*) n FROM flows GROUP BY 1) n ON n._file_id = r.file_id`)
	if rows[0][0] != "3" || rows[0][1] != "3" || rows[0][2] != "0" {
		t.Fatalf("after the crash: %v registered files, %v consistent, %v orphan rows", rows[0][0], rows[0][1], rows[0][2])
	}
	out := mustStore(t, nil, "ingest", "--data", data, c.Out)
	if !strings.Contains(out, fmt.Sprintf("ingested %d files", sum.Files-3)) || !strings.Contains(out, "skipped 3 files") {
		t.Errorf("rerun:\n%s", out)
	}
	rows = sqlCSV(t, data, `SELECT (SELECT count(*) FROM flows), (SELECT count(*) FROM ingest_registry), (SELECT sum(bytes) FROM flows)`)
	if fmt.Sprint(rows[0]) != fmt.Sprint([]string{fmt.Sprint(sum.Records), fmt.Sprint(sum.Files), fmt.Sprint(sum.Bytes)}) {
		t.Errorf("after the rerun: %v, want %d records, %d files, %d bytes", rows[0], sum.Records, sum.Files, sum.Bytes)
	}
}

// TestLockedByAnotherProcess: a second flowlens gets a clear error that
// names the data directory.
func TestLockedByAnotherProcess(t *testing.T) {
	data := t.TempDir()
	_, stdin, sc := helper(t, "hold "+data)
	waitFor(t, sc, "ready")
	for _, args := range [][]string{
		{"sql", "--data", data, "SELECT 1"},
		{"ingest", "--data", data, data},
		{"datasets", "--data", data},
	} {
		code, _, errs := storeRun(t, nil, args...)
		if code != 1 || !strings.Contains(errs, "locked by another flowlens process") || !strings.Contains(errs, data) {
			t.Errorf("%s: exit %d\n%s", args[0], code, errs)
		}
	}
	stdin.Close()
}
