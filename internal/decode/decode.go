// Package decode reads VPC flow log records from every container AWS delivers
// them in — plain text with or without the S3 header line, gzip (multi-member
// too), Parquet, CloudWatch Logs JSON (get-log-events / filter-log-events
// output, JSON lines, bare arrays) and CloudWatch Logs subscription payloads —
// and turns them into typed columnar flowlog.Batch values. Rejected lines are
// reported with file, line, field and reason; the lines around them still
// decode. It also parses the S3 object keys AWS writes flow logs under.
package decode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/flowlens/flowlens/internal/decode/parquet"
	"github.com/flowlens/flowlens/internal/decode/record"
	"github.com/flowlens/flowlens/internal/flowlog"
)

// LineError describes a rejected line: file, line number, field and reason.
// Error() returns "FILE:LINE: reason" (with the field when there is one).
type LineError = record.LineError

// Kinds of rejection (LineError.Kind), stable keys for grouping and counting.
const (
	KindFieldCount = record.KindFieldCount
	KindEmpty      = record.KindEmpty
	KindNumber     = record.KindNumber
	KindRange      = record.KindRange
	KindTime       = record.KindTime
	KindAddress    = record.KindAddress
	KindEnum       = record.KindEnum
	KindTooLong    = record.KindTooLong
	KindNotRecord  = record.KindNotRecord
	KindSpaces     = record.KindSpaces
)

// Decoder decodes lines of one format into batches; see record.Decoder.
type Decoder = record.Decoder

// NewDecoder returns a line decoder for format f.
func NewDecoder(f *flowlog.Format) *Decoder { return record.NewDecoder(f) }

// Container names reported in Stats.Container.
const (
	ContainerText         = "text"
	ContainerGzipText     = "gzip+text"
	ContainerParquet      = "parquet"
	ContainerCloudWatch   = "cloudwatch-json"
	ContainerSubscription = "gzip+cloudwatch-subscription"
	ContainerGzipJSON     = "gzip+cloudwatch-json"
)

// Options control one Read.
type Options struct {
	// Name is the file name used in errors ("<stdin>" for standard input).
	Name string
	// Format is the configured format for header-less input. When nil, the
	// S3 header line is used if present, else the default format (the
	// heuristic of the spec's decoder requirements). A header line or a
	// Parquet schema always wins over Format.
	Format *flowlog.Format
	// BatchSize is the number of records per emitted batch
	// (0 → flowlog.DefaultBatchSize).
	BatchSize int
	// OnReject is called with every rejected line; may be nil.
	OnReject func(*LineError)
	// OnWarning is called with every record kept with a warning
	// (LineError.Warning set): a number outside its field's documented
	// range stored as written, fields separated by runs of spaces; may be
	// nil (the warnings are still counted).
	OnWarning func(*LineError)
	// Unplaced leaves text records of a format without start as they are.
	// By default their batches have the format's Placed form: a last start
	// column holding the time the record's delivery carries — the
	// CloudWatch Logs event's timestamp, else the time in the S3 object key
	// of Name, else Now — so that a store can place them in time.
	Unplaced bool
	// Now is the ingestion time (epoch seconds) that places records of a
	// format without start when nothing else does (0: left NULL).
	Now int64
	// NewBatch, when set, supplies empty batches (lets a consumer recycle
	// them); it must return an empty batch (N == 0) whose Format is the
	// given one. Each header line yields its own *Format: a recycled batch
	// of an Equal format may be reused after setting its Format field.
	NewBatch func(*flowlog.Format, int) *flowlog.Batch
}

// Stats summarises one Read.
type Stats struct {
	// Lines counts input lines (or events, or Parquet rows), including
	// header and blank lines.
	Lines int64
	// Records counts decoded records; Rejected counts rejected lines.
	Records, Rejected int64
	// Warnings counts records kept with a warning (they are in Records).
	Warnings int64
	// InputBytes counts bytes read from the input (compressed size for gzip).
	InputBytes int64
	// Formats lists the formats of the emitted batches, in order of first use.
	Formats []*flowlog.Format
	// Container names what was read (ContainerText, …).
	Container string
}

// ErrNotFlowLog is matched (errors.Is) when input is not any container
// flowlens can read.
var ErrNotFlowLog = errors.New("not a flow log container")

func (o *Options) batchSize() int {
	if o.BatchSize > 0 {
		return o.BatchSize
	}
	return flowlog.DefaultBatchSize
}

func (o *Options) name() string {
	if o.Name == "" {
		return "<input>"
	}
	return o.Name
}

// sink collects records into batches and hands full ones to emit.
type sink struct {
	ctx   context.Context
	opts  *Options
	emit  func(*flowlog.Batch) error
	stats *Stats
	batch *flowlog.Batch
	// defFormat is the default format, built once per Read.
	defFormat *flowlog.Format
	// size is the batch size.
	size int
	// placed caches the Placed form of formats without start.
	placed map[*flowlog.Format]*flowlog.Format
	// keyTime is the time of Name as an S3 object key (epoch seconds; 0
	// when Name is not one).
	keyTime int64
	// expect is the expected number of records (0 when unknown).
	expect int64
}

// minCapacity is the smallest capacity of a first batch; unknownCapacity
// is used when the input size is unknown.
const (
	minCapacity     = 1024
	unknownCapacity = 8192
)

func newSink(ctx context.Context, opts *Options, emit func(*flowlog.Batch) error, st *Stats, expect int64) *sink {
	if expect <= 0 {
		expect = unknownCapacity
	}
	s := &sink{ctx: ctx, opts: opts, emit: emit, stats: st, size: opts.batchSize(), expect: expect}
	if k, ok := ParseObjectKey(opts.Name); ok && !k.Time.IsZero() {
		s.keyTime = k.Time.Unix()
	}
	return s
}

// batchFormat is the format of the batches that records of format f go to:
// its Placed form unless Options.Unplaced.
func (s *sink) batchFormat(f *flowlog.Format) *flowlog.Format {
	if s.opts.Unplaced || f.Has(flowlog.Start) {
		return f
	}
	if g, ok := s.placed[f]; ok {
		return g
	}
	if s.placed == nil {
		s.placed = map[*flowlog.Format]*flowlog.Format{}
	}
	g := f.Placed()
	s.placed[f] = g
	return g
}

// newBatch returns an empty batch of format f. Until a batch has been
// emitted, its capacity follows the expected number of records, so that a
// small input (one subscription payload) does not pay for a full batch;
// columns still grow past it when the guess was low.
func (s *sink) newBatch(f *flowlog.Format) *flowlog.Batch {
	n := s.size
	if s.stats.Records == 0 {
		n = int(min(max(s.expect, minCapacity), int64(s.size)))
	}
	if s.opts.NewBatch != nil {
		if b := s.opts.NewBatch(f, n); b != nil {
			return b
		}
	}
	return flowlog.NewBatch(f, n)
}

// current returns the batch for format f, flushing a batch of another format.
func (s *sink) current(f *flowlog.Format) (*flowlog.Batch, error) {
	if s.batch != nil && s.batch.Format == f {
		return s.batch, nil
	}
	if err := s.flush(); err != nil {
		return nil, err
	}
	seen := false
	for _, g := range s.stats.Formats {
		if g == f {
			seen = true
		}
	}
	if !seen {
		s.stats.Formats = append(s.stats.Formats, f)
	}
	s.batch = s.newBatch(f)
	return s.batch, nil
}

// full emits the current batch when it has reached the batch size.
func (s *sink) full() error {
	if s.batch == nil || s.batch.N < s.size {
		return nil
	}
	return s.flush()
}

func (s *sink) flush() error {
	b := s.batch
	if b == nil || b.N == 0 {
		return nil
	}
	s.batch = nil
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.stats.Records += int64(b.N)
	return s.emit(b)
}

func (s *sink) reject(e *LineError) {
	e.File = s.opts.name()
	s.stats.Rejected++
	if s.opts.OnReject != nil {
		s.opts.OnReject(e)
	}
}

func (s *sink) warn(e *LineError) {
	e.File = s.opts.name()
	s.stats.Warnings++
	if s.opts.OnWarning != nil {
		s.opts.OnWarning(e)
	}
}

// countingReader counts bytes read.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// Read detects the container of r (gzip by magic, Parquet by PAR1 magic,
// CloudWatch JSON and subscription payloads by their JSON shape, plain text
// otherwise) and decodes every record, calling emit with full batches (emit
// takes ownership of each batch). Rejected lines go to opts.OnReject and are
// counted; they never stop the read. The error is about the input as a
// whole (I/O, corrupt gzip, unreadable Parquet) or comes from emit or ctx.
// The data of one Firehose record (a {"message": …} document, raw lines or
// a gzip subscription payload) is also read as it is.
func Read(ctx context.Context, r io.Reader, opts Options, emit func(*flowlog.Batch) error) (Stats, error) {
	return readSized(ctx, r, opts, emit, 0)
}

// readSized is Read with the expected number of records (0 when unknown).
func readSized(ctx context.Context, r io.Reader, opts Options, emit func(*flowlog.Batch) error, expect int64) (Stats, error) {
	var st Stats
	s := newSink(ctx, &opts, emit, &st, expect)
	err := readAny(ctx, countingReader{r, &st.InputBytes}, s, false)
	if err == nil {
		err = s.flush()
	}
	if err != nil {
		return st, fmt.Errorf("%s: %w", opts.name(), err)
	}
	return st, nil
}

// ReadFile is Read over the named file; Options.Name defaults to path.
func ReadFile(ctx context.Context, path string, opts Options, emit func(*flowlog.Batch) error) (Stats, error) {
	if opts.Name == "" {
		opts.Name = path
	}
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Stats{}, err
	}
	// Records expected from the size: ~100 bytes of text per record,
	// 20–27 bytes of gzip. The guess errs high: a batch whose columns
	// outgrow it is copied into columns twice as large (measured: 28% of
	// an ingest's allocations when guessing 25 bytes on 22.8-byte
	// records), while capacity never written costs no memory pages.
	expect := fi.Size() / 90
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0)
	if n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		expect = fi.Size() / 16
	}
	if n == 4 && string(magic[:]) == "PAR1" {
		var st Stats
		s := newSink(ctx, &opts, emit, &st, fi.Size()/20)
		st.InputBytes = fi.Size()
		err = readParquet(ctx, f, fi.Size(), s)
		if err == nil {
			err = s.flush()
		}
		if err != nil {
			return st, fmt.Errorf("%s: %w", opts.Name, err)
		}
		return st, nil
	}
	return readSized(ctx, f, opts, emit, max(expect, 1))
}

// peekSize is how much of the input container detection looks at.
const peekSize = 8 << 10

// readAny dispatches on the first bytes of r; gzipped tells that r is the
// content of a gzip stream.
func readAny(ctx context.Context, r io.Reader, s *sink, gzipped bool) error {
	br := bufio.NewReaderSize(r, peekSize)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		if gzipped {
			return fmt.Errorf("%w: gzip inside gzip", ErrNotFlowLog)
		}
		zr, err := newInflater(ctx, br)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		return readAny(ctx, zr, s, true)
	case len(head) == 4 && string(head) == "PAR1":
		if gzipped {
			return fmt.Errorf("%w: Parquet inside gzip", ErrNotFlowLog)
		}
		data, err := io.ReadAll(br)
		if err != nil {
			return err
		}
		return readParquet(ctx, bytes.NewReader(data), int64(len(data)), s)
	}
	if isJSON(br) {
		s.stats.Container = ContainerCloudWatch
		if gzipped {
			s.stats.Container = ContainerGzipJSON
		}
		return readJSON(ctx, br, s)
	}
	s.stats.Container = ContainerText
	if gzipped {
		s.stats.Container = ContainerGzipText
	}
	return readText(ctx, br, s)
}

// isJSON reports whether the first non-blank byte opens a JSON object or array.
func isJSON(br *bufio.Reader) bool {
	head, _ := br.Peek(4096)
	for _, c := range head {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

func readParquet(ctx context.Context, r io.ReaderAt, size int64, s *sink) error {
	s.stats.Container = ContainerParquet
	return parquet.Read(ctx, r, size, parquet.Options{
		BatchSize: s.opts.batchSize(),
		Batch:     s.current,
		Full:      s.full,
		OnReject:  s.reject,
		OnWarning: s.warn,
		Rows:      &s.stats.Lines,
	})
}
