package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// memStore is an in-memory store.Writer with group commits.
type memStore struct {
	mu       sync.Mutex
	registry map[string]store.Source
	records  map[string]int // key → records
	groups   []int          // files per committed group
}

func newMem() *memStore {
	return &memStore{registry: map[string]store.Source{}, records: map[string]int{}}
}

type memTx struct {
	m   *memStore
	src store.Source
	n   int
}

func (m *memStore) BeginFile(ctx context.Context, dataset string, src store.Source, force bool) (store.FileTx, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.registry[src.Key]; ok && !force && old.Checksum == src.Checksum {
		return nil, store.ErrAlreadyIngested
	}
	return &memTx{m: m, src: src}, nil
}

func (t *memTx) Append(ctx context.Context, b *flowlog.Batch) error { t.n += b.N; return nil }
func (t *memTx) Commit(ctx context.Context) error {
	return t.m.CommitGroup(ctx, []store.FileTx{t})
}
func (t *memTx) Rollback() error { return nil }

func (m *memStore) CommitGroup(ctx context.Context, txs []store.FileTx) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range txs {
		t := x.(*memTx)
		m.registry[t.src.Key] = t.src
		m.records[t.src.Key] = t.n
	}
	m.groups = append(m.groups, len(txs))
	return nil
}

const header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"

func line(i int) string {
	return fmt.Sprintf("2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.%d 10.0.2.9 4915%d 443 6 10 840 %d %d ACCEPT OK\n", i%250, i%10, 1717164000+i, 1717164060+i)
}

func writeFiles(t *testing.T, dir string) {
	t.Helper()
	// plain text with header, gzip, a bad line, a nested folder.
	var a strings.Builder
	a.WriteString(header)
	for i := range 5 {
		a.WriteString(line(i))
	}
	a.WriteString("2 123456789012 eni-x 10.0.0.1 10.0.0.2 99999999999 443 6 1 1 1717164000 1717164060 ACCEPT OK\n")
	must(t, os.WriteFile(filepath.Join(dir, "a.log"), []byte(a.String()), 0o644))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(header))
	for i := range 7 {
		zw.Write([]byte(line(100 + i)))
	}
	zw.Close()
	must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "b.log.gz"), gz.Bytes(), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir)
	m := newMem()
	var rej bytes.Buffer
	var progress []Progress
	cfg := Config{Paths: []string{dir}, Rejects: &rej, Workers: 2, Progress: func(p Progress) { progress = append(progress, p) }}
	sum, err := Run(t.Context(), cfg, m)
	must(t, err)
	if sum.Files != 2 || sum.Records != 12 || sum.Rejected != 1 || sum.Skipped != 0 || sum.Failed != 0 {
		t.Errorf("summary: %+v", sum)
	}
	if len(sum.Reasons) != 1 || sum.Reasons[0].Count != 1 || !strings.Contains(sum.Reasons[0].Examples[0], "a.log:7:") {
		t.Errorf("reasons: %+v", sum.Reasons)
	}
	if sum.MinTime.Unix() != 1717164000 || sum.MaxTime.Unix() != 1717164106 {
		t.Errorf("time range: %v %v", sum.MinTime, sum.MaxTime)
	}
	var r struct {
		File   string
		Line   int64
		Reason string
		Text   string
	}
	must(t, json.Unmarshal(rej.Bytes(), &r))
	if !strings.HasSuffix(r.File, "a.log") || r.Line != 7 || r.Reason == "" || !strings.Contains(r.Text, "99999999999") {
		t.Errorf("reject: %+v", r)
	}
	if len(progress) == 0 || !progress[len(progress)-1].Done || progress[len(progress)-1].FilesDone != 2 {
		t.Errorf("progress: %+v", progress)
	}
	// Both small files went into one group.
	if len(m.groups) != 1 || m.groups[0] != 2 {
		t.Errorf("groups: %v", m.groups)
	}
	// Again: nothing to do.
	sum, err = Run(t.Context(), Config{Paths: []string{dir}}, m)
	must(t, err)
	if sum.Files != 0 || sum.Skipped != 2 || sum.Records != 0 {
		t.Errorf("second run: %+v", sum)
	}
	// Force: both again.
	sum, err = Run(t.Context(), Config{Paths: []string{dir}, Force: true, GroupRecords: 1}, m)
	must(t, err)
	if sum.Files != 2 || sum.Records != 12 {
		t.Errorf("forced run: %+v", sum)
	}
}

func TestRunStdinAndFailures(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "broken.gz"), []byte("\x1f\x8b\x08\x00garbage"), 0o644))
	m := newMem()
	in := strings.NewReader(header + line(1) + line(2))
	sum, err := Run(t.Context(), Config{Paths: []string{"-", filepath.Join(dir, "broken.gz")}, Stdin: in, SpoolDir: dir}, m)
	must(t, err)
	if sum.Files != 1 || sum.Records != 2 || sum.Failed != 1 || len(sum.Errors) != 1 {
		t.Errorf("summary: %+v", sum)
	}
	for k := range m.registry {
		if k != "broken" && !strings.HasPrefix(k, "stdin:") {
			t.Errorf("registry key %q", k)
		}
	}
	if _, err := Run(t.Context(), Config{Paths: []string{filepath.Join(dir, "none")}}, m); err == nil {
		t.Error("missing file: no error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Run(ctx, Config{Paths: []string{dir}}, m); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// failStore fails its second group commit.
type failStore struct {
	*memStore
	commits int
}

func (f *failStore) CommitGroup(ctx context.Context, txs []store.FileTx) error {
	f.commits++
	if f.commits == 2 {
		return errors.New("disk full")
	}
	return f.memStore.CommitGroup(ctx, txs)
}

// TestRunCommitFailure: a failed group commit stops the ingest with its
// error while the next group is decoded; committed groups stay committed.
func TestRunCommitFailure(t *testing.T) {
	dir := t.TempDir()
	for i := range 20 {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.log", i)), []byte(header+line(i)+line(i+1)), 0o644))
	}
	f := &failStore{memStore: newMem()}
	sum, err := Run(t.Context(), Config{Paths: []string{dir}, Workers: 2, GroupRecords: 4}, f)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error: %v", err)
	}
	if sum.Files != 2 || sum.Records != 4 || len(f.registry) != 2 {
		t.Errorf("summary %+v, registry %d", sum, len(f.registry))
	}
}

// Fields of a header that the catalog does not define are named in the
// summary (they are decoded but have no column to go to).
func TestRunUnknownFields(t *testing.T) {
	dir := t.TempDir()
	text := strings.TrimSuffix(header, "\n") + " zz-new foo-bar\n" + strings.TrimSuffix(line(1), "\n") + " a b\n"
	must(t, os.WriteFile(filepath.Join(dir, "x.log"), []byte(text), 0o644))
	sum, err := Run(t.Context(), Config{Paths: []string{dir}}, newMem())
	must(t, err)
	if sum.Records != 1 || fmt.Sprint(sum.UnknownFields) != "[foo-bar zz-new]" {
		t.Errorf("records %d, unknown fields %v; want 1, [foo-bar zz-new]", sum.Records, sum.UnknownFields)
	}
}
