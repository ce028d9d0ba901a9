// Package ingest loads source objects (files, folders, standard input) into
// a store exactly once: it decodes files in parallel, commits their records
// together with their registry entries (several small files per
// transaction when the store can, so that their rows are sorted together),
// keeps rejected lines aside, reports progress and summarises the run.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/source"
	"github.com/flowlens/flowlens/internal/store"
)

// GroupCommitter is implemented by stores that commit several FileTx in
// one transaction (all or none), sorting their rows together.
type GroupCommitter interface {
	CommitGroup(ctx context.Context, txs []store.FileTx) error
}

// GroupSorter is implemented by group committers that can order the rows
// of a group ahead of CommitGroup, outside their write lock: the ingest
// sorts the next group while the current one is written.
type GroupSorter interface {
	SortGroup(txs []store.FileTx)
}

// Config configures Run.
type Config struct {
	// Paths are files, folders (read recursively) and "-" for Stdin.
	Paths []string
	// Objects are sources listed by the caller (S3 objects with a
	// Remote), ingested after those of Paths.
	Objects []source.File
	// FetchAttempts is how often a remote object is read before it is
	// reported as failed (0 → 4); FetchBackoff is the wait after the
	// first failed read, doubled after each (0 → 1 s).
	FetchAttempts int
	FetchBackoff  time.Duration
	// Dataset receives the records ("" → the store's default dataset).
	Dataset string
	// Format is the format of header-less text (nil: the header line, or
	// the default format).
	Format *flowlog.Format
	// Force replaces files already ingested.
	Force bool
	// Workers decode files in parallel (0 → GOMAXPROCS).
	Workers int
	// GroupRecords is how many records of small files are committed in one
	// transaction (0 → 1 M). Two groups are in memory at once (one being
	// written, the next decoded and sorted): 512 k took 1.14 GB peak RSS
	// for 5 M records where 1 M took 1.59 GB, at the same CPU, but left a
	// file 19% larger (free blocks), see docs/BENCHMARKS.md "Step 4". A
	// file with more records commits alone.
	GroupRecords int
	// Rejects receives each rejected line as a JSON object
	// {"file","line","field","kind","reason","text"} (nil: not kept).
	Rejects io.Writer
	// Progress is called about every ProgressEvery (0 → 1 s) and once at
	// the end; it must not block.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Stdin is read for "-"; SpoolDir holds its temporary copy.
	Stdin    io.Reader
	SpoolDir string
	Logger   *slog.Logger
}

// Progress is a snapshot of a running ingest.
type Progress struct {
	Files, FilesDone int
	Bytes, BytesDone int64 // input (compressed) bytes
	Records          int64 // committed
	Decoded          int64 // decoded, not yet committed included
	Rejected         int64
	Elapsed          time.Duration
	Done             bool
}

// Reason counts rejected lines of one kind (decode.LineError.Kind, with the
// field when there is one: "out-of-range srcport").
type Reason struct {
	Reason   string
	Count    int64
	Examples []string // the first few, as "file:line: reason: text"
}

// FileError is a file that could not be ingested.
type FileError struct {
	Path string
	Err  error
}

// Summary describes a finished (or interrupted) ingest.
type Summary struct {
	Dataset string
	// Files were committed; Skipped were already ingested; Failed could not
	// be read (see Errors).
	Files, Skipped, Failed int
	SkippedPaths           []string
	// NotFlowLogs are files found in folders that hold no flow logs (an
	// interface inventory beside the logs, a README): skipped, not failed.
	NotFlowLogs       []string
	Records, Rejected int64
	InputBytes        int64
	Reasons           []Reason
	// Warnings counts records stored although something in them was
	// unusual (a value outside its field's documented range, runs of
	// spaces between fields); WarningReasons groups them like Reasons.
	Warnings       int64
	WarningReasons []Reason
	// MinTime and MaxTime bound the `start` of the committed records.
	MinTime, MaxTime time.Time
	Containers       map[string]int
	Formats          []string
	// UnknownFields are field names of headers or Parquet schemas that
	// the flow log catalog does not define: decoded, but not stored.
	UnknownFields []string
	Errors        []FileError
	Elapsed       time.Duration
}

const maxExamples = 3

// decodeBatch is the records per decoded batch. A batch reserves its
// capacity up front (a file's first from a guess of its record count, which
// errs high); the batches of two commit groups wait in memory, so small
// batches keep the reserved memory close to the records held: at 122,880
// records per batch, day-20m's five-minute files held 1.7 times their
// records' memory (docs/BENCHMARKS.md, issue #18 step 16).
const decodeBatch = 8192

// Run ingests cfg.Paths into w. Files are committed as they finish; on
// cancellation the files not yet committed are rolled back and Run returns
// the summary so far with ctx's error. A file that cannot be read is
// reported in Summary.Errors and does not stop the others.
func Run(ctx context.Context, cfg Config, w store.Writer) (Summary, error) {
	start := time.Now()
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.GroupRecords <= 0 {
		cfg.GroupRecords = 1 << 20
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = time.Second
	}
	if cfg.FetchAttempts <= 0 {
		cfg.FetchAttempts = 4
	}
	if cfg.FetchBackoff <= 0 {
		cfg.FetchBackoff = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &run{cfg: cfg, w: w, start: start, sum: Summary{Dataset: cfg.Dataset, Containers: map[string]int{}}}
	r.reasons = map[string]*Reason{}
	r.warns = map[string]*Reason{}
	r.formats = map[string]bool{}
	r.unknown = map[string]bool{}
	if cfg.Rejects != nil {
		r.rejEnc = json.NewEncoder(cfg.Rejects)
	}

	files, err := source.Walk(ctx, cfg.Paths)
	if err != nil {
		return r.sum, err
	}
	files = append(files, cfg.Objects...)
	for _, p := range cfg.Paths {
		if p != source.StdinName {
			continue
		}
		if cfg.Stdin == nil {
			return r.sum, errors.New("standard input named but not available")
		}
		dir := cfg.SpoolDir
		if dir == "" {
			dir = os.TempDir()
		}
		f, err := source.Spool(ctx, cfg.Stdin, dir)
		if err != nil {
			return r.sum, err
		}
		defer os.Remove(f.Path)
		files = append(files, f)
		break
	}
	if len(files) == 0 {
		return r.sum, source.ErrNoInput
	}
	r.prog.Files = len(files)
	for _, f := range files {
		r.prog.Bytes += f.Size
	}

	stopProgress := r.startProgress(ctx)
	err = r.pipeline(ctx, files)
	stopProgress()
	r.finish()
	return r.sum, err
}

type run struct {
	cfg   Config
	w     store.Writer
	start time.Time

	mu      sync.Mutex // guards sum, reasons, formats, prog, rejEnc
	sum     Summary
	reasons map[string]*Reason
	warns   map[string]*Reason
	formats map[string]bool
	unknown map[string]bool // field names outside the catalog
	rejEnc  *json.Encoder
	prog    Progress
	minT    int64
	maxT    int64
	hasT    bool

	decoded atomic.Int64
}

// done is a decoded file waiting for commit.
type done struct {
	tx      store.FileTx
	path    string
	records int64
	minT    int64
	maxT    int64
	hasT    bool
	bytes   int64
}

func (r *run) pipeline(ctx context.Context, files []source.File) error {
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan source.File)
	results := make(chan *done, r.cfg.Workers)
	g.Go(func() error {
		defer close(jobs)
		for _, f := range files {
			select {
			case jobs <- f:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			for f := range jobs {
				d, err := r.decodeFile(gctx, f)
				if err != nil {
					return err
				}
				if d == nil {
					continue
				}
				select {
				case results <- d:
				case <-gctx.Done():
					_ = d.tx.Rollback()
					return gctx.Err()
				}
			}
			return nil
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	g.Go(func() error { return r.commitLoop(gctx, results) })
	return g.Wait()
}

// decodeFile decodes one file into a FileTx. It returns nil when the file
// was skipped (already ingested) or failed (recorded in the summary); a
// non-nil error stops the ingest (cancellation, store failure).
func (r *run) decodeFile(ctx context.Context, f source.File) (*done, error) {
	name := f.Path
	if f.Stdin {
		name = "<stdin>"
	}
	if f.Remote != nil {
		name = f.Key
	}
	src, err := f.Source(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.fail(name, f.Size, err)
		return nil, nil
	}
	tx, err := r.w.BeginFile(ctx, r.cfg.Dataset, src, r.cfg.Force)
	if errors.Is(err, store.ErrAlreadyIngested) {
		r.mu.Lock()
		r.sum.Skipped++
		r.sum.SkippedPaths = append(r.sum.SkippedPaths, name)
		r.prog.FilesDone++
		r.prog.BytesDone += f.Size
		r.mu.Unlock()
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := &done{tx: tx, path: name, bytes: f.Size}
	path := f.Path
	if lc, ok := f.Remote.(source.Local); ok && lc.LocalPath() != "" {
		path = lc.LocalPath()
	} else if f.Remote != nil {
		tmp, err := r.fetch(ctx, f)
		if err != nil {
			_ = tx.Rollback()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.fail(name, f.Size, err)
			return nil, nil
		}
		defer os.Remove(tmp)
		path = tmp
	}
	opts := decode.Options{Name: name, Format: r.cfg.Format, BatchSize: decodeBatch, OnReject: r.reject, OnWarning: r.warn, Now: r.start.Unix()}
	st, err := decode.ReadFile(ctx, path, opts, func(b *flowlog.Batch) error {
		d.records += int64(b.N)
		r.decoded.Add(int64(b.N))
		if c := b.Col(flowlog.Start); c != nil {
			for i := 0; i < b.N; i++ {
				if !c.Valid[i] {
					continue
				}
				v := c.Ints[i]
				if !d.hasT || v < d.minT {
					d.minT = v
				}
				if !d.hasT || v > d.maxT {
					d.maxT = v
				}
				d.hasT = true
			}
		}
		return tx.Append(ctx, b)
	})
	if err != nil {
		_ = tx.Rollback()
		r.decoded.Add(-d.records)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if f.Found && d.records == 0 && errors.Is(err, decode.ErrNotFlowLog) {
			r.notFlowLog(name, f.Size)
			return nil, nil
		}
		r.fail(name, f.Size, err)
		return nil, nil
	}
	r.mu.Lock()
	if st.Container != "" {
		r.sum.Containers[st.Container]++
	}
	for _, fm := range st.Formats {
		r.formats[fm.String()] = true
		for i, x := range fm.Extra {
			if x {
				r.unknown[fm.Fields[i].Name] = true
			}
		}
	}
	r.mu.Unlock()
	// A big file commits alone, right away, from this goroutine: a FileTx
	// that spilled holds the store's write lock until it commits.
	if d.records >= int64(r.cfg.GroupRecords) {
		if err := tx.Commit(ctx); err != nil {
			return nil, err
		}
		r.committed([]*done{d})
		return nil, nil
	}
	return d, nil
}

// fetch copies a remote object into a temporary file of SpoolDir and
// returns its path. A failed read is tried again after FetchBackoff,
// doubled each time, FetchAttempts times in all.
func (r *run) fetch(ctx context.Context, f source.File) (string, error) {
	dir := r.cfg.SpoolDir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("spool %s: %w", f.Key, err)
	}
	wait := r.cfg.FetchBackoff
	var err error
	for attempt := 1; ; attempt++ {
		var tmp string
		if tmp, err = fetchOnce(ctx, f, dir); err == nil {
			return tmp, nil
		}
		if ctx.Err() != nil || attempt >= r.cfg.FetchAttempts {
			break
		}
		r.cfg.Logger.Warn("cannot read object, retrying", "key", f.Key, "attempt", attempt, "wait", wait.String(), "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return "", ctx.Err()
		}
		wait *= 2
	}
	return "", fmt.Errorf("read failed %d times: %w", r.cfg.FetchAttempts, err)
}

func fetchOnce(ctx context.Context, f source.File, dir string) (string, error) {
	tmp, err := os.CreateTemp(dir, "object-*")
	if err != nil {
		return "", err
	}
	err = f.Remote.Fetch(ctx, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// commitLoop gathers decoded files into groups of about GroupRecords
// records and hands each group to a committer goroutine, so that the files
// of the next group are decoded while the current one is written. At most
// one group waits behind the one being committed (bounded memory).
func (r *run) commitLoop(ctx context.Context, results <-chan *done) error {
	gc, grouped := r.w.(GroupCommitter)
	g, gctx := errgroup.WithContext(ctx)
	groups := make(chan []*done)
	g.Go(func() error {
		for ds := range groups {
			if err := r.commitGroup(gctx, gc, grouped, ds); err != nil {
				for ds := range groups {
					rollbackAll(ds)
				}
				return err
			}
		}
		return nil
	})
	g.Go(func() error {
		defer close(groups)
		var pending []*done
		var n int64
		var pendMaxT int64 // the latest start in pending
		var pendHasT bool
		send := func() error {
			if len(pending) == 0 {
				return nil
			}
			if sorter, ok := r.w.(GroupSorter); ok && grouped {
				txs := make([]store.FileTx, len(pending))
				for i, d := range pending {
					txs[i] = d.tx
				}
				sorter.SortGroup(txs)
			}
			select {
			case groups <- pending:
				pending, n = nil, 0
				return nil
			case <-gctx.Done():
				rollbackAll(pending)
				pending = nil
				return gctx.Err()
			}
		}
		for {
			select {
			case d, ok := <-results:
				if !ok {
					return send()
				}
				// A group ends at an hour boundary when it holds a sixteenth
				// of GroupRecords: files in time order (a bulk ingest) then
				// commit each hour in one group, which a store can write
				// straight into its sealed tier (docs/BENCHMARKS.md, issue
				// #18 step 11).
				if grouped && len(pending) > 0 && d.hasT && pendHasT && hourStart(d.minT) > hourStart(pendMaxT) &&
					n >= int64(r.cfg.GroupRecords)/16 {
					if err := send(); err != nil {
						return err
					}
				}
				if len(pending) == 0 {
					pendHasT = false
				}
				pending = append(pending, d)
				n += d.records
				if d.hasT && (!pendHasT || d.maxT > pendMaxT) {
					pendMaxT, pendHasT = d.maxT, true
				}
				if n >= int64(r.cfg.GroupRecords) || !grouped {
					if err := send(); err != nil {
						return err
					}
				}
			case <-gctx.Done():
				rollbackAll(pending)
				if ctx.Err() != nil {
					// The whole ingest stops: the decoders stop too.
					for d := range results {
						_ = d.tx.Rollback()
					}
				}
				return gctx.Err()
			}
		}
	})
	return g.Wait()
}

// commitGroup commits the files of one group (in one transaction when the
// store can) or rolls them all back.
func (r *run) commitGroup(ctx context.Context, gc GroupCommitter, grouped bool, ds []*done) error {
	var err error
	if grouped {
		txs := make([]store.FileTx, len(ds))
		for i, d := range ds {
			txs[i] = d.tx
		}
		err = gc.CommitGroup(ctx, txs)
	} else {
		for _, d := range ds {
			if err = d.tx.Commit(ctx); err != nil {
				break
			}
		}
	}
	if err != nil {
		rollbackAll(ds)
		return err
	}
	r.committed(ds)
	return nil
}

// hourStart returns the start of the hour of t (epoch seconds).
func hourStart(t int64) int64 {
	h := t - t%3600
	if t%3600 < 0 {
		h -= 3600
	}
	return h
}

func rollbackAll(ds []*done) {
	for _, d := range ds {
		_ = d.tx.Rollback()
	}
}

func (r *run) committed(ds []*done) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range ds {
		r.sum.Files++
		r.sum.Records += d.records
		r.sum.InputBytes += d.bytes
		r.prog.FilesDone++
		r.prog.BytesDone += d.bytes
		r.prog.Records += d.records
		if d.hasT {
			if !r.hasT || d.minT < r.minT {
				r.minT = d.minT
			}
			if !r.hasT || d.maxT > r.maxT {
				r.maxT = d.maxT
			}
			r.hasT = true
		}
	}
}

func (r *run) fail(name string, size int64, err error) {
	r.cfg.Logger.Warn("cannot ingest file", "file", name, "err", err)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Failed++
	r.sum.Errors = append(r.sum.Errors, FileError{Path: name, Err: err})
	r.prog.FilesDone++
	r.prog.BytesDone += size
}

func (r *run) notFlowLog(name string, size int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.NotFlowLogs = append(r.sum.NotFlowLogs, name)
	r.prog.FilesDone++
	r.prog.BytesDone += size
}

// reject counts a rejected line and keeps it aside when asked.
func (r *run) reject(e *decode.LineError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Rejected++
	r.prog.Rejected++
	reason := e.Kind
	if reason == "" {
		reason = e.Reason
	}
	if e.Field != "" {
		reason += " " + e.Field
	}
	rs := r.reasons[reason]
	if rs == nil {
		rs = &Reason{Reason: reason}
		r.reasons[reason] = rs
	}
	rs.Count++
	if len(rs.Examples) < maxExamples {
		rs.Examples = append(rs.Examples, fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Reason, e.Text))
	}
	if r.rejEnc != nil {
		_ = r.rejEnc.Encode(struct {
			File   string `json:"file"`
			Line   int64  `json:"line"`
			Field  string `json:"field,omitempty"`
			Kind   string `json:"kind,omitempty"`
			Reason string `json:"reason"`
			Text   string `json:"text"`
		}{e.File, e.Line, e.Field, e.Kind, e.Reason, e.Text})
	}
}

// warn counts a record kept with a warning.
func (r *run) warn(e *decode.LineError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Warnings++
	reason := e.Kind
	if e.Field != "" {
		reason += " " + e.Field
	}
	rs := r.warns[reason]
	if rs == nil {
		rs = &Reason{Reason: reason}
		r.warns[reason] = rs
	}
	rs.Count++
	if len(rs.Examples) < maxExamples {
		rs.Examples = append(rs.Examples, fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Reason, e.Text))
	}
}

func (r *run) snapshot() Progress {
	r.mu.Lock()
	p := r.prog
	r.mu.Unlock()
	p.Decoded = r.decoded.Load()
	p.Elapsed = time.Since(r.start)
	return p
}

func (r *run) startProgress(ctx context.Context) func() {
	if r.cfg.Progress == nil {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.cfg.Progress(r.snapshot())
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		close(stop)
		<-finished
		p := r.snapshot()
		p.Done = true
		r.cfg.Progress(p)
	}
}

func (r *run) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Elapsed = time.Since(r.start)
	if r.hasT {
		r.sum.MinTime, r.sum.MaxTime = time.Unix(r.minT, 0).UTC(), time.Unix(r.maxT, 0).UTC()
	}
	r.sum.Reasons = sortedReasons(r.reasons)
	r.sum.WarningReasons = sortedReasons(r.warns)
	for f := range r.formats {
		r.sum.Formats = append(r.sum.Formats, f)
	}
	sort.Strings(r.sum.Formats)
	for f := range r.unknown {
		r.sum.UnknownFields = append(r.sum.UnknownFields, f)
	}
	sort.Strings(r.sum.UnknownFields)
}

// sortedReasons lists the reasons, most frequent first.
func sortedReasons(m map[string]*Reason) []Reason {
	var out []Reason
	for _, rs := range m {
		out = append(out, *rs)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Reason < b.Reason
	})
	return out
}
