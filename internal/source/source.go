// Package source finds the objects an ingest reads: it expands files and
// folders (recursively) into a sorted list of regular files, spools standard
// input to a temporary file, and computes the registry identity of each
// object (key, size, SHA-256 checksum, modification time).
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/store"
)

// File is one regular file to ingest.
type File struct {
	// Path is the path to open.
	Path string
	// Key is the registry key: the absolute, cleaned path, or
	// "stdin:<sha256>" for standard input.
	Key     string
	Size    int64
	ModTime time.Time
	// Stdin marks standard input spooled to Path.
	Stdin bool
	// Found marks a file found by walking a folder (not named directly):
	// one that turns out not to hold flow logs is skipped, not an error.
	Found bool
	// Remote, when set, reads an object that is not a local file (an S3
	// object): Path is empty, Key is its URL and ETag its checksum.
	Remote Remote
	ETag   string
}

// Local is implemented by a Remote whose content was already copied to a
// local file (the ingest then reads that file instead of fetching).
type Local interface {
	LocalPath() string
}

// Remote reads an object that is not a local file.
type Remote interface {
	// Fetch copies the object's content to w. It fails when the object
	// is no longer the one listed (another ETag).
	Fetch(ctx context.Context, w io.Writer) error
}

// StdinName is the argument that stands for standard input.
const StdinName = "-"

// Walk expands paths into the regular files below them, sorted by path
// within each argument, each file once. Hidden files and folders (a name
// starting with '.') inside a folder are skipped; a file named directly is
// always taken. "-" (standard input) is left out: see Spool.
func Walk(ctx context.Context, paths []string) ([]File, error) {
	var out []File
	seen := map[string]bool{}
	add := func(p string, fi fs.FileInfo) error {
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if seen[abs] {
			return nil
		}
		seen[abs] = true
		out = append(out, File{Path: p, Key: abs, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	}
	for _, p := range paths {
		if p == StdinName {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s: not a regular file or folder", p)
			}
			if err := add(p, fi); err != nil {
				return nil, err
			}
			continue
		}
		var files []File
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if q != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if d.Type()&fs.ModeSymlink != 0 {
				// A link to a regular file counts as the file.
				if fi, err = os.Stat(q); err != nil {
					return err
				}
			}
			if !fi.Mode().IsRegular() {
				return nil
			}
			files = append(files, File{Path: q, Size: fi.Size(), ModTime: fi.ModTime(), Found: true})
			return ctx.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", p, err)
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
		for _, f := range files {
			abs, err := filepath.Abs(f.Path)
			if err != nil {
				return nil, err
			}
			if seen[abs] {
				continue
			}
			seen[abs] = true
			f.Key = abs
			out = append(out, f)
		}
	}
	return out, nil
}

// Spool copies r (standard input) into a new file in dir and returns it
// with its key "stdin:<sha256>". The caller removes f.Path when done.
func Spool(ctx context.Context, r io.Reader, dir string) (File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return File{}, fmt.Errorf("spool standard input: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "stdin-*")
	if err != nil {
		return File{}, fmt.Errorf("spool standard input: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return File{}, fmt.Errorf("spool standard input: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return File{Path: tmp.Name(), Key: "stdin:" + sum, Size: n, ModTime: time.Now(), Stdin: true}, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Checksum returns the hex SHA-256 of the file's content.
func Checksum(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Source returns the registry identity of f, computing its checksum (the
// key of standard input already is its checksum, a remote object's is its
// ETag).
func (f File) Source(ctx context.Context) (store.Source, error) {
	src := store.Source{Key: f.Key, Size: f.Size, ModTime: f.ModTime}
	if f.Remote != nil {
		src.Checksum = f.ETag
		return src, nil
	}
	if f.Stdin {
		src.Checksum = strings.TrimPrefix(f.Key, "stdin:")
		return src, nil
	}
	sum, err := Checksum(ctx, f.Path)
	if err != nil {
		return src, err
	}
	src.Checksum = sum
	return src, nil
}

// ErrNoInput is returned when the arguments name no file.
var ErrNoInput = errors.New("no input files")
