package bucket

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/atomicfile"
	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/ingest"
	"github.com/flowlens/flowlens/internal/s3"
	"github.com/flowlens/flowlens/internal/source"
	"github.com/flowlens/flowlens/internal/store"
)

// Prefix is one followed location and the dataset it feeds.
type Prefix struct {
	URL     s3.URL
	Dataset string
	// Interval and Lookback override the Config's for this prefix (0:
	// the Config's).
	Interval, Lookback time.Duration
}

// Config configures a Follower.
type Config struct {
	Prefixes []Prefix
	// Interval is the time between two listings of a prefix (unless the
	// prefix has its own).
	Interval time.Duration
	// Lookback is how far before the newest key time already ingested a
	// listing starts: objects delivered late (AWS delivers a 5-minute file
	// some minutes after its window) are still found. Listing only walks
	// the date folders that end after newest − Lookback.
	Lookback time.Duration
	// Dir holds one checkpoint file per prefix and the rejected lines
	// (rejects.jsonl).
	Dir string
	// SpoolDir receives the temporary copies of objects being ingested.
	SpoolDir string
	// FetchAttempts and FetchBackoff: reads of an object within one
	// round (see ingest.Config). The default is one read: the round holds
	// the server's write lock, so an object that cannot be read waits for
	// a later round instead (after 1, 2, 4… intervals).
	FetchAttempts int
	FetchBackoff  time.Duration
	// GiveUpAfter is the number of rounds an unreadable object is tried
	// in before it is reported as failed and left alone.
	GiveUpAfter int
	// BatchObjects and BatchBytes bound what one hold of the write lock
	// ingests (at least one object): the objects are copied into
	// SpoolDir before the lock is taken.
	BatchObjects int
	BatchBytes   int64
}

// DefaultConfig returns the defaults: every minute, one hour of lookback.
func DefaultConfig() Config {
	return Config{Interval: time.Minute, Lookback: time.Hour, FetchAttempts: 1, FetchBackoff: time.Second, GiveUpAfter: 6, BatchObjects: 256, BatchBytes: 256 << 20}
}

// Deps are the Follower's collaborators.
type Deps struct {
	Logger *slog.Logger
	Client *s3.Client
	Store  store.Writer
	// WriteMu is the server's write lock, held while objects are ingested.
	WriteMu sync.Locker
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Follower lists followed prefixes on an interval and ingests the objects
// not yet ingested, exactly once by key + ETag (the store's registry),
// resuming from a checkpoint per prefix after a restart.
type Follower struct {
	cfg  Config
	deps Deps

	mu       sync.Mutex
	prefixes []*follow

	cancel context.CancelFunc
	done   chan struct{}
}

// follow is the state of one prefix.
type follow struct {
	p    Prefix
	path string // checkpoint file
	cp   checkpoint
	// interval and lookback are the prefix's (its own or the Config's);
	// next is when it is listed again.
	interval, lookback time.Duration
	next               time.Time
	// seen holds the keys (with ETags) handled since the start: listed
	// again, they cost no registry look-up.
	seen map[string]string
	// this run's counters
	lastList   time.Time
	lastRound  time.Time // start of the last round that listed and ingested without error
	listErrors int64
	lastError  string
	pending    int
}

// checkpoint is what survives a restart.
type checkpoint struct {
	URL     string `json:"url"`
	Dataset string `json:"dataset"`
	// Newest is the latest key time of the objects ingested.
	Newest    time.Time `json:"newest"`
	NewestKey string    `json:"newestKey,omitempty"`
	Objects   int64     `json:"objects"`
	Records   int64     `json:"records"`
	Rejected  int64     `json:"rejected"`
	// ObjectErrors counts failed reads of objects (one per object and round).
	ObjectErrors int64 `json:"objectErrors"`
	// Failed are objects that could not be read, by key.
	Failed map[string]*Failure `json:"failed,omitempty"`
}

// Failure is an object that could not be ingested.
type Failure struct {
	Key    string    `json:"key"`
	ETag   string    `json:"etag"`
	Reason string    `json:"reason"`
	Rounds int       `json:"rounds"`
	Last   time.Time `json:"last"`
	// Next is when it is tried again: Rounds intervals after Last,
	// doubled each round (1, 2, 4…).
	Next time.Time `json:"next"`
	// GaveUp: tried in GiveUpAfter rounds; not tried again unless the
	// object changes (another ETag).
	GaveUp bool `json:"gaveUp"`
}

// New checks the configuration and loads the checkpoints.
func New(cfg Config, deps Deps) (*Follower, error) {
	def := DefaultConfig()
	if cfg.Interval <= 0 {
		cfg.Interval = def.Interval
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = def.Lookback
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = def.GiveUpAfter
	}
	if cfg.BatchObjects <= 0 {
		cfg.BatchObjects = def.BatchObjects
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = def.BatchBytes
	}
	if cfg.FetchAttempts <= 0 {
		cfg.FetchAttempts = def.FetchAttempts
	}
	if cfg.FetchBackoff <= 0 {
		cfg.FetchBackoff = def.FetchBackoff
	}
	if cfg.Dir == "" {
		return nil, errors.New("bucket: Config.Dir is required")
	}
	if len(cfg.Prefixes) > 0 && (deps.Client == nil || deps.Store == nil || deps.WriteMu == nil) {
		return nil, errors.New("bucket: Deps.Client, Store and WriteMu are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	f := &Follower{cfg: cfg, deps: deps}
	seen := map[string]bool{}
	for _, p := range cfg.Prefixes {
		id := p.Dataset + "\x00" + p.URL.String()
		if seen[id] {
			continue
		}
		seen[id] = true
		sum := sha256.Sum256([]byte(id))
		fl := &follow{p: p, path: filepath.Join(cfg.Dir, "follow-"+hex.EncodeToString(sum[:8])+".json"), seen: map[string]string{},
			interval: cmp.Or(p.Interval, cfg.Interval), lookback: cmp.Or(p.Lookback, cfg.Lookback)}
		b, err := os.ReadFile(fl.path)
		switch {
		case err == nil:
			if err := json.Unmarshal(b, &fl.cp); err != nil {
				return nil, fmt.Errorf("read checkpoint %s: %w", fl.path, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("read checkpoint: %w", err)
		}
		fl.cp.URL, fl.cp.Dataset = p.URL.String(), p.Dataset
		if fl.cp.Failed == nil {
			fl.cp.Failed = map[string]*Failure{}
		}
		f.prefixes = append(f.prefixes, fl)
	}
	return f, nil
}

// Start lists every prefix now, then every interval (the prefix's), until
// Stop.
func (f *Follower) Start(ctx context.Context) error {
	if len(f.prefixes) == 0 {
		return nil
	}
	if err := os.MkdirAll(f.cfg.Dir, 0o755); err != nil {
		return err
	}
	ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	f.done = make(chan struct{})
	go func() {
		defer close(f.done)
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			t.Reset(f.pollDue(ctx))
		}
	}()
	return nil
}

// Stop ends the loop; an ingest under way is cancelled (its objects are
// rolled back and ingested after the restart).
func (f *Follower) Stop(ctx context.Context) error {
	if f.cancel == nil {
		return nil
	}
	f.cancel()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pollDue lists the prefixes whose time has come and returns how long
// until the next one's: a prefix is listed again its interval after the
// start of its last listing (at once when the listing took longer).
func (f *Follower) pollDue(ctx context.Context) time.Duration {
	var due []*follow
	for _, fl := range f.prefixes {
		if !time.Now().Before(fl.next) {
			fl.next = time.Now().Add(fl.interval)
			due = append(due, fl)
		}
	}
	f.poll(ctx, due)
	wait := time.Duration(-1)
	for _, fl := range f.prefixes {
		if d := time.Until(fl.next); wait < 0 || d < wait {
			wait = d
		}
	}
	return max(wait, 0)
}

// Poll lists every prefix once and ingests what is new. Errors are kept
// in the prefix's stats and logged; they never stop the follower.
func (f *Follower) Poll(ctx context.Context) { f.poll(ctx, f.prefixes) }

// poll lists the prefixes once and ingests what is new.
func (f *Follower) poll(ctx context.Context, prefixes []*follow) {
	for _, fl := range prefixes {
		if ctx.Err() != nil {
			return
		}
		started := f.deps.Now().UTC()
		err := f.pollOne(ctx, fl)
		if ctx.Err() != nil {
			return
		}
		f.mu.Lock()
		if err != nil {
			f.deps.Logger.Warn("follow s3 prefix", "url", fl.p.URL.String(), "err", err)
			fl.listErrors++
			fl.lastError = err.Error()
		} else {
			fl.lastRound = started
		}
		f.mu.Unlock()
	}
}

// keyTime is the time of an object: its key's, else its LastModified.
func keyTime(o s3.Object) (time.Time, bool) {
	if k, ok := decode.ParseObjectKey(o.Key); ok {
		return k.Time, true
	}
	return o.LastModified.UTC(), false
}

func (f *Follower) pollOne(ctx context.Context, fl *follow) error {
	f.mu.Lock()
	from := time.Time{}
	if !fl.cp.Newest.IsZero() {
		from = fl.cp.Newest.Add(-fl.lookback)
	}
	f.mu.Unlock()
	now := f.deps.Now()
	var todo []source.File
	var times []time.Time
	listed := map[string]bool{}
	err := f.deps.Client.Walk(ctx, fl.p.URL, from, func(o s3.Object) error {
		if len(o.Key) > 0 && o.Key[len(o.Key)-1] == '/' {
			return nil
		}
		key := fl.p.URL.KeyURL(o.Key)
		listed[key] = true
		t, timed := keyTime(o)
		f.mu.Lock()
		defer f.mu.Unlock()
		if etag, ok := fl.seen[key]; ok && etag == o.ETag {
			return nil
		}
		if fail := fl.cp.Failed[key]; fail != nil && fail.ETag == o.ETag && (fail.GaveUp || now.Before(fail.Next)) {
			return nil
		}
		// Keys of the lookback's first folders that are older than
		// from were ingested before (or given up on); the registry
		// would say so, at a look-up each.
		if timed && !from.IsZero() && t.Before(from) && fl.cp.Failed[key] == nil {
			return nil
		}
		todo = append(todo, File(f.deps.Client, fl.p.URL.Bucket, o))
		times = append(times, t)
		return nil
	})
	f.mu.Lock()
	fl.lastList = f.deps.Now().UTC()
	fl.pending = len(todo)
	// Failures of objects that the listing would have shown but did not
	// (deleted since) are dropped.
	for k := range fl.cp.Failed {
		if ok, t := keyTimeOf(k); err == nil && !listed[k] && (!ok || from.IsZero() || !t.Before(from)) {
			delete(fl.cp.Failed, k)
		}
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	// Oldest first: the checkpoint's newest key time only moves forward.
	idx := make([]int, len(todo))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]].Before(times[idx[b]]) })
	ordered := make([]source.File, len(todo))
	otimes := make([]time.Time, len(todo))
	for i, j := range idx {
		ordered[i], otimes[i] = todo[j], times[j]
	}
	for start := 0; start < len(ordered); {
		end, size := start, int64(0)
		for end < len(ordered) && end-start < f.cfg.BatchObjects && (end == start || size+ordered[end].Size <= f.cfg.BatchBytes) {
			size += ordered[end].Size
			end++
		}
		if err := f.ingest(ctx, fl, ordered[start:end], otimes[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// prefetched is an object copied into the spool folder before the write
// lock is taken.
type prefetched struct {
	source.Remote
	path string
}

func (p prefetched) LocalPath() string { return p.path }

// prefetch copies the objects of a batch into the spool folder, a few at a
// time, outside the write lock, leaving out those the registry already
// holds (a look-up each). It returns the copies to ingest, the keys
// already ingested, the reads that failed by key, and a function that
// removes the copies.
func (f *Follower) prefetch(ctx context.Context, fl *follow, files []source.File) (copies []source.File, done map[string]bool, failed map[string]error, cleanup func(), err error) {
	done, failed = map[string]bool{}, map[string]error{}
	var paths []string
	cleanup = func() {
		for _, p := range paths {
			_ = os.Remove(p)
		}
	}
	var todo []int
	for i, file := range files {
		src, _ := file.Source(ctx)
		tx, err := f.deps.Store.BeginFile(ctx, fl.p.Dataset, src, false)
		if errors.Is(err, store.ErrAlreadyIngested) {
			done[file.Key] = true
			continue
		}
		if err != nil {
			return nil, nil, nil, cleanup, err
		}
		_ = tx.Rollback()
		todo = append(todo, i)
	}
	dir := f.cfg.SpoolDir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, cleanup, err
	}
	local := make([]string, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, i := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			local[i], errs[i] = fetchTemp(ctx, files[i], dir)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		for _, p := range local {
			if p != "" {
				_ = os.Remove(p)
			}
		}
		return nil, nil, nil, cleanup, err
	}
	for _, i := range todo {
		if errs[i] != nil {
			failed[files[i].Key] = errs[i]
			continue
		}
		paths = append(paths, local[i])
		c := files[i]
		c.Remote = prefetched{Remote: c.Remote, path: local[i]}
		copies = append(copies, c)
	}
	return copies, done, failed, cleanup, nil
}

func fetchTemp(ctx context.Context, file source.File, dir string) (string, error) {
	tmp, err := os.CreateTemp(dir, "s3-*")
	if err != nil {
		return "", err
	}
	err = file.Remote.Fetch(ctx, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// ingest ingests one batch of objects under the write lock and records
// the outcome in the checkpoint.
func (f *Follower) ingest(ctx context.Context, fl *follow, files []source.File, times []time.Time) error {
	var rej io.Writer
	rf, err := os.OpenFile(filepath.Join(f.cfg.Dir, "rejects.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		defer rf.Close()
		rej = rf
	}
	copies, _, failed, cleanup, err := f.prefetch(ctx, fl, files)
	defer cleanup()
	if err != nil {
		return err
	}
	var sum ingest.Summary
	if len(copies) > 0 {
		f.deps.WriteMu.Lock()
		var runErr error
		sum, runErr = ingest.Run(ctx, ingest.Config{
			Objects: copies, Dataset: fl.p.Dataset, Rejects: rej, SpoolDir: f.cfg.SpoolDir,
			FetchAttempts: f.cfg.FetchAttempts, FetchBackoff: f.cfg.FetchBackoff, Logger: f.deps.Logger,
		}, f.deps.Store)
		f.deps.WriteMu.Unlock()
		if runErr != nil && !errors.Is(runErr, source.ErrNoInput) {
			// Cancelled or the store failed: what was committed is in
			// the registry; the rest is listed again next round.
			return runErr
		}
	}
	for _, e := range sum.Errors {
		failed[e.Path] = e.Err
	}
	now := f.deps.Now().UTC()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, file := range files {
		if err, bad := failed[file.Key]; bad {
			fail := fl.cp.Failed[file.Key]
			if fail == nil || fail.ETag != file.ETag {
				fail = &Failure{Key: file.Key, ETag: file.ETag}
				fl.cp.Failed[file.Key] = fail
			}
			fail.Rounds++
			fl.cp.ObjectErrors++
			fail.Reason, fail.Last = err.Error(), now
			fail.Next = now.Add(fl.interval * time.Duration(1<<min(fail.Rounds-1, 10)))
			fail.GaveUp = fail.Rounds >= f.cfg.GiveUpAfter
			if fail.GaveUp {
				f.deps.Logger.Error("s3 object given up", "key", file.Key, "rounds", fail.Rounds, "err", err)
			}
			continue
		}
		delete(fl.cp.Failed, file.Key)
		fl.seen[file.Key] = file.ETag
		if times[i].After(fl.cp.Newest) {
			fl.cp.Newest, fl.cp.NewestKey = times[i], file.Key
		}
	}
	fl.cp.Objects += int64(sum.Files)
	fl.cp.Records += sum.Records
	fl.cp.Rejected += sum.Rejected
	fl.pending = max(fl.pending-len(files), 0)
	// Forget what the next listings will not look at.
	if !fl.cp.Newest.IsZero() {
		cut := fl.cp.Newest.Add(-2 * fl.lookback)
		for k := range fl.seen {
			if ok, t := keyTimeOf(k); ok && t.Before(cut) {
				delete(fl.seen, k)
			}
		}
	}
	b, _ := json.MarshalIndent(fl.cp, "", "  ")
	if err := atomicfile.Write(fl.path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if sum.Files > 0 {
		f.deps.Logger.Info("s3 objects ingested", "url", fl.p.URL.String(), "dataset", fl.p.Dataset,
			"objects", sum.Files, "records", sum.Records, "skipped", sum.Skipped, "failed", sum.Failed)
	}
	return nil
}

func keyTimeOf(url string) (bool, time.Time) {
	k, ok := decode.ParseObjectKey(url)
	return ok, k.Time
}

// Stats is the state of every followed prefix.
type Stats struct {
	Prefixes []PrefixStats `json:"prefixes"`
}

// PrefixStats is the state of one followed prefix.
type PrefixStats struct {
	URL      string `json:"url"`
	Dataset  string `json:"dataset"`
	Interval string `json:"interval"`
	// LastList is when the prefix was last listed (zero before the first).
	LastList time.Time `json:"lastList"`
	// LastRound is when the last round that completed (listing and
	// ingest, without error) started: every object delivered before
	// then is queryable.
	LastRound time.Time `json:"lastCompleteRound"`
	// Newest is the latest key time ingested; LagSeconds is now − Newest
	// (0 before anything was ingested).
	Newest     time.Time `json:"newestObjectTime"`
	NewestKey  string    `json:"newestKey,omitempty"`
	LagSeconds float64   `json:"lagSeconds"`
	// Objects, Records and Rejected count since the prefix was first
	// followed (kept in the checkpoint).
	Objects  int64 `json:"objects"`
	Records  int64 `json:"records"`
	Rejected int64 `json:"rejectedLines"`
	// Pending objects were listed and wait for ingest.
	Pending      int       `json:"pending"`
	ListErrors   int64     `json:"listErrors"`
	ObjectErrors int64     `json:"objectErrors"`
	LastError    string    `json:"lastError,omitempty"`
	Failed       []Failure `json:"failed"`
}

// Stats returns a snapshot.
func (f *Follower) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.deps.Now()
	st := Stats{Prefixes: []PrefixStats{}}
	for _, fl := range f.prefixes {
		ps := PrefixStats{
			URL: fl.p.URL.String(), Dataset: fl.p.Dataset, Interval: fl.interval.String(), LastList: fl.lastList, LastRound: fl.lastRound,
			Newest: fl.cp.Newest, NewestKey: fl.cp.NewestKey, Objects: fl.cp.Objects, Records: fl.cp.Records,
			Rejected: fl.cp.Rejected, Pending: fl.pending, ListErrors: fl.listErrors, ObjectErrors: fl.cp.ObjectErrors, LastError: fl.lastError, Failed: []Failure{},
		}
		if !fl.cp.Newest.IsZero() {
			ps.LagSeconds = max(now.Sub(fl.cp.Newest).Seconds(), 0)
		}
		for _, fail := range fl.cp.Failed {
			ps.Failed = append(ps.Failed, *fail)
		}
		sort.Slice(ps.Failed, func(i, j int) bool { return ps.Failed[i].Key < ps.Failed[j].Key })
		st.Prefixes = append(st.Prefixes, ps)
	}
	return st
}
