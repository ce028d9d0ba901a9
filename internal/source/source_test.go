package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b/2.log.gz", "a.log", "b/1.log", ".hidden/x.log", "b/.y.log"} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Walk(t.Context(), []string{dir, filepath.Join(dir, "a.log"), "-"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f.Path)
		got = append(got, rel)
		if !filepath.IsAbs(f.Key) || f.Size == 0 {
			t.Errorf("%+v", f)
		}
	}
	if strings.Join(got, " ") != "a.log b/1.log b/2.log.gz" {
		t.Errorf("walk: %v", got)
	}
	if _, err := Walk(t.Context(), []string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing path: no error")
	}
}

func TestSpoolAndChecksum(t *testing.T) {
	dir := t.TempDir()
	f, err := Spool(t.Context(), strings.NewReader("hello\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	const sum = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	if f.Key != "stdin:"+sum || f.Size != 6 || !f.Stdin {
		t.Errorf("spool: %+v", f)
	}
	src, err := f.Source(t.Context())
	if err != nil || src.Checksum != sum {
		t.Errorf("source: %+v %v", src, err)
	}
	got, err := Checksum(t.Context(), f.Path)
	if err != nil || got != sum {
		t.Errorf("checksum: %s %v", got, err)
	}
}
