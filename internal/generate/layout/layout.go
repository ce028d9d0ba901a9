// Package layout writes generated flow records the way AWS delivers them:
// S3 object keys (plain or hive-compatible, daily or hourly), gzip text files
// with the header line, Parquet files, CloudWatch Logs streams (one per
// interface, get-log-events JSON) and plain lines. Files are published
// atomically (temporary file, sync, rename).
package layout

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/flowlens/flowlens/internal/generate/flowrec"
)

// Key says where one S3 object goes.
type Key struct {
	Account, Region, FlowLogID string
	// Time is the start of the object's 5-minute bucket.
	Time time.Time
	// Hash is the 8 hexadecimal characters that end the file name.
	Hash          string
	Hive, PerHour bool
	Parquet       bool
}

// Path returns the object key, e.g.
// AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/01/15/111122223333_vpcflowlogs_us-east-1_fl-…_20260115T0005Z_1a2b3c4d.log.gz
func (k Key) Path() string {
	t := k.Time.UTC()
	var dir string
	if k.Hive {
		dir = fmt.Sprintf("AWSLogs/aws-account-id=%s/aws-service=vpcflowlogs/aws-region=%s/year=%04d/month=%02d/day=%02d/",
			k.Account, k.Region, t.Year(), t.Month(), t.Day())
		if k.PerHour {
			dir += fmt.Sprintf("hour=%02d/", t.Hour())
		}
	} else {
		dir = fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%04d/%02d/%02d/", k.Account, k.Region, t.Year(), t.Month(), t.Day())
		if k.PerHour {
			dir += fmt.Sprintf("%02d/", t.Hour())
		}
	}
	ext := ".log.gz"
	if k.Parquet {
		ext = ".log.parquet"
	}
	return fmt.Sprintf("%s%s_vpcflowlogs_%s_%s_%sZ_%s%s", dir, k.Account, k.Region, k.FlowLogID,
		t.Format("20060102T1504"), k.Hash, ext)
}

// WriteFileAtomic creates path (and its directory) through a temporary file
// in the same directory that is synced and renamed into place. It returns
// the number of bytes written.
func WriteFileAtomic(path string, write func(w io.Writer) error) (int64, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) (int64, error) {
		f.Close()
		os.Remove(tmp)
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	cw := &countWriter{w: f}
	bw := bufio.NewWriterSize(cw, 256<<10)
	if err := write(bw); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("publish %s: %w", path, err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// TextWriter renders records as lines. It keeps its buffers between calls;
// one per goroutine.
type TextWriter struct {
	enc    *flowrec.Encoder
	header string
	level  int
	gz     *gzip.Writer
	buf    []byte
}

// NewTextWriter returns a writer for the encoder's format; header is the S3
// header line (without newline) and level the gzip level (0: fastest).
func NewTextWriter(enc *flowrec.Encoder, header string, level int) *TextWriter {
	if level == 0 {
		level = gzip.BestSpeed
	}
	return &TextWriter{enc: enc, header: header, level: level, buf: make([]byte, 0, 128<<10)}
}

// WriteLines writes the records as newline-terminated lines, preceded by the
// header line when withHeader.
func (t *TextWriter) WriteLines(w io.Writer, recs []flowrec.Record, withHeader bool) error {
	buf := t.buf[:0]
	if withHeader {
		buf = append(buf, t.header...)
		buf = append(buf, '\n')
	}
	for i := range recs {
		buf = t.enc.AppendLine(buf, &recs[i])
		buf = append(buf, '\n')
		if len(buf) >= 64<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	t.buf = buf[:0]
	return err
}

// WriteGzip writes the header line and the records as one gzip member.
func (t *TextWriter) WriteGzip(w io.Writer, recs []flowrec.Record) error {
	if t.gz == nil {
		gz, err := gzip.NewWriterLevel(w, t.level)
		if err != nil {
			return err
		}
		t.gz = gz
	} else {
		t.gz.Reset(w)
	}
	if err := t.WriteLines(t.gz, recs, true); err != nil {
		return err
	}
	return t.gz.Close()
}
