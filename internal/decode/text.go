package decode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowlens/flowlens/internal/decode/record"
	"github.com/flowlens/flowlens/internal/flowlog"
)

// Buffer sizes of the text reader: lines are found in a buffer that starts
// at firstBuffer bytes (a small input stays cheap), doubles while reads
// fill it up to readBuffer, and grows further only for a longer line, up to
// maxLine.
const (
	firstBuffer = 64 << 10
	readBuffer  = 1 << 20
	maxLine     = 16 << 20
)

// guessHint is appended to field-count errors when no header line and no
// format told the decoder what the columns are.
const guessHint = "no header line and no format given, so the default format was assumed: pass the flow log's format (--format)"

// lineState tracks the format of a stream of lines: the configured or
// detected format, the header line to skip when it repeats, and the decoder.
type lineState struct {
	s      *sink
	dec    *record.Decoder
	header []byte // the header line of the current format, if it came from one
	lineNo int64
	// evTime is the timestamp (epoch ms) of the CloudWatch Logs event
	// being decoded, 0 outside one.
	evTime int64
}

// line decodes one line of text (without its '\n').
func (ls *lineState) line(line []byte) error {
	ls.lineNo++
	ls.s.stats.Lines++
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) == 0 || isBlank(line) {
		return nil
	}
	if ls.dec == nil {
		if ls.detect(line) {
			return nil // the header line
		}
	} else if h := ls.header; h != nil && len(line) == len(h) && line[0] == h[0] && bytes.Equal(line, h) {
		return nil // a repeated header line
	}
	b := ls.s.batch
	if f := ls.s.batchFormat(ls.dec.Format()); b == nil || b.Format != f {
		var err error
		if b, err = ls.s.current(f); err != nil {
			return err
		}
	}
	le, warn := ls.dec.Decode(b, line, ls.lineNo)
	if le == nil && b.Format.IsPlaced() {
		ls.place(b)
	}
	if le != nil {
		// A different header line (concatenated files) switches the format.
		if f := headerFormat(line); f != nil {
			ls.useHeader(f, line)
			return nil
		}
		ls.s.reject(le)
		return nil
	}
	if warn != nil {
		ls.s.warn(warn)
	}
	if b.N >= ls.s.size {
		return ls.s.flush()
	}
	return nil
}

// place fills the start column Placed added for the record just decoded:
// the event's time, else the object key's, else the ingestion time.
func (ls *lineState) place(b *flowlog.Batch) {
	c := &b.Cols[len(b.Cols)-1]
	switch t := ls.evTime / 1000; {
	case t > 0:
		c.AppendInt(t)
	case ls.s.keyTime > 0:
		c.AppendInt(ls.s.keyTime)
	case ls.s.opts.Now > 0:
		c.AppendInt(ls.s.opts.Now)
	default:
		c.AppendNull()
	}
}

// detect chooses the format from the first non-blank line; it reports
// whether that line is a header line (and so holds no record).
func (ls *lineState) detect(line []byte) bool {
	if f := headerFormat(line); f != nil {
		ls.useHeader(f, line)
		return true
	}
	if f := ls.s.opts.Format; f != nil {
		ls.dec = record.NewDecoder(f)
		return false
	}
	ls.dec = record.NewDecoder(defaultFormat(ls.s))
	if !looksDefault(line) {
		ls.dec.Hint = guessHint
	}
	return false
}

func (ls *lineState) useHeader(f *flowlog.Format, line []byte) {
	// Reuse an equal format already seen so that batches of one file keep
	// one *Format.
	for _, g := range ls.s.stats.Formats {
		if g.Equal(f) {
			f = g
			break
		}
	}
	ls.dec = record.NewDecoder(f)
	ls.header = append([]byte(nil), line...)
}

// defaultFormat returns the default format, shared by every use in one Read.
func defaultFormat(s *sink) *flowlog.Format {
	if s.defFormat == nil {
		s.defFormat = flowlog.DefaultFormat()
	}
	return s.defFormat
}

// headerFormat returns the format named by an S3 header line, or nil when
// the line is not one. A header line names fields: every token must be a
// field name (unknown ones are kept as extra columns), and most of them must
// be catalog fields, so that a record whose values happen to look like
// names is never taken for a header.
func headerFormat(line []byte) *flowlog.Format {
	if len(line) == 0 || line[0] < 'a' || line[0] > 'z' || len(line) > 64<<10 {
		return nil
	}
	f, err := flowlog.ParseHeader(string(line))
	if err != nil {
		return nil
	}
	known := 0
	for _, x := range f.Extra {
		if !x {
			known++
		}
	}
	if known == 0 || known*2 <= len(f.Fields) {
		return nil
	}
	return f
}

// looksDefault applies the spec's heuristic for header-less input: 14
// tokens, version 2, numeric start and end, an action and a log status.
func looksDefault(line []byte) bool {
	tok := bytes.Split(line, []byte{' '})
	if len(tok) != 14 || string(tok[0]) != "2" {
		return false
	}
	for _, t := range tok[10:12] {
		if len(t) == 0 {
			return false
		}
		for _, c := range t {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	switch string(tok[12]) {
	case "ACCEPT", "REJECT", "-":
	default:
		return false
	}
	switch string(tok[13]) {
	case "OK", "NODATA", "SKIPDATA":
		return true
	}
	return false
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// readText decodes newline-separated records from r.
func readText(ctx context.Context, r io.Reader, s *sink) error {
	ls := &lineState{s: s}
	buf := make([]byte, firstBuffer)
	start, end := 0, 0
	eof := false
	skipping := false // inside a line longer than maxLine
	filled := false   // the last read filled the buffer
	var since int
	for {
		if i := bytes.IndexByte(buf[start:end], '\n'); i >= 0 {
			line := buf[start : start+i]
			start += i + 1
			if skipping {
				skipping = false
				ls.lineNo++
				s.stats.Lines++
				s.reject(record.Reject(ls.lineNo, "", record.Problem{Kind: record.KindTooLong, Reason: fmt.Sprintf("line longer than %d bytes", maxLine)}, ""))
				continue
			}
			if err := ls.line(line); err != nil {
				return err
			}
			if since++; since >= 4096 {
				since = 0
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			continue
		}
		if eof {
			if skipping {
				ls.lineNo++
				s.stats.Lines++
				s.reject(record.Reject(ls.lineNo, "", record.Problem{Kind: record.KindTooLong, Reason: fmt.Sprintf("line longer than %d bytes", maxLine)}, ""))
				return nil
			}
			if start < end {
				return ls.line(buf[start:end])
			}
			return nil
		}
		// Keep the partial line at the front and fill the rest.
		if start > 0 {
			end = copy(buf, buf[start:end])
			start = 0
		}
		if end == len(buf) || (len(buf) < readBuffer && filled) {
			if len(buf) < maxLine {
				nb := make([]byte, 2*len(buf))
				copy(nb, buf[:end])
				buf = nb
			} else {
				skipping = true
				end = 0
			}
		}
		n, err := r.Read(buf[end:])
		end += n
		filled = end == len(buf)
		if errors.Is(err, io.EOF) {
			eof = true
		} else if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("after line %d: %w", ls.lineNo, err)
		}
	}
}
