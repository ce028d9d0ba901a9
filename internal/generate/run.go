package generate

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/flowlens/flowlens/internal/generate/flowrec"
	"github.com/flowlens/flowlens/internal/generate/layout"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

// Summary is what Run wrote.
type Summary struct {
	Totals
	// OutputBytes is the size of everything written (compressed for .gz).
	OutputBytes int64
	// Interfaces in the model; Streams written (CloudWatch layout).
	Interfaces, Streams int
	Elapsed             time.Duration
	Truth               *Truth
}

// bucketSeconds is the S3 delivery rollover: one file per 5 minutes.
const bucketSeconds = 300

// task is one flow log's 5-minute bucket.
type task struct {
	fl           int
	bucket       int64 // bucket start (Unix seconds)
	lo, hi       int64 // record ends fall in [lo, hi)
	base         int
	nodata, skip int
	seed         uint64
}

type run struct {
	cfg   Config
	net   *netmodel.Network
	m     *model
	plans []*plan
	tasks []task
	enc   *flowrec.Encoder

	mu       sync.Mutex
	stats    taskStats
	outBytes int64
	done     int
	began    time.Time
}

// Run generates the configured records. It is deterministic: the same
// Config (Workers and Progress aside) gives byte-identical output.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	r, err := newRun(cfg)
	if err != nil {
		return Summary{}, err
	}
	cfg = r.cfg
	net := r.net
	if cfg.Layout != LayoutStdout && cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return Summary{}, fmt.Errorf("create output directory: %w", err)
		}
	}
	if inv := r.inventoryPath(); inv != "" {
		if _, err := layout.WriteFileAtomic(inv, net.WriteInventory); err != nil {
			return Summary{}, fmt.Errorf("write inventory: %w", err)
		}
	}
	sum := Summary{Interfaces: len(net.ENIs)}
	switch cfg.Layout {
	case LayoutS3, LayoutHive, LayoutParquet:
		err = r.runFiles(ctx)
	case LayoutCloudWatch:
		sum.Streams, err = r.runCloudWatch(ctx)
	case LayoutStdout:
		err = r.runOrdered(ctx, func(recs []flowrec.Record, tw *layout.TextWriter) error {
			return tw.WriteLines(cfg.Stdout, recs, false)
		})
	}
	if err != nil {
		return Summary{}, err
	}
	truth := r.truth()
	if cfg.Truth != "" {
		if err := writeTruth(cfg.Truth, truth); err != nil {
			return Summary{}, err
		}
	}
	sum.Totals = truth.Totals
	sum.OutputBytes = r.outBytes
	sum.Elapsed = time.Since(r.began)
	sum.Truth = truth
	return sum, nil
}

// newRun validates cfg and builds the network, the scenario plans and the tasks.
func newRun(cfg Config) (*run, error) {
	began := time.Now()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	net, err := netmodel.Build(cfg.spec(), uint64(cfg.Seed))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	plans, scenRecs, err := planScenarios(&cfg, net)
	if err != nil {
		return nil, err
	}
	nodata := int64(math.Round(float64(cfg.Records) * cfg.NoDataShare))
	skip := nodata / 20
	if scenRecs+nodata+skip > cfg.Records {
		return nil, configErr("the scenarios need %d records and idle interfaces %d, more than --records %d: raise --records, or use fewer or smaller scenarios (--scenario none turns them off)",
			scenRecs, nodata+skip, cfg.Records)
	}
	var scenRejects int64
	for _, p := range plans {
		switch p.kind {
		case SSHBruteForce, RDPBruteForce, PortScan, HorizontalScan:
			scenRejects += int64(p.events)
		}
	}
	base := cfg.Records - scenRecs - nodata - skip
	share := 0.0
	if base > 0 && cfg.RejectShare > 0 {
		share = clamp((cfg.RejectShare*float64(cfg.Records)-float64(scenRejects))/float64(base), 0.005, 0.5)
	}
	r := &run{cfg: cfg, net: net, m: newModel(net, &cfg, share), plans: plans, enc: flowrec.NewEncoder(cfg.Format), began: began}
	r.planTasks(base, nodata, skip)
	r.stats.per = make([]scenarioStats, len(plans))
	return r, nil
}

func (r *run) inventoryPath() string {
	switch r.cfg.Inventory {
	case "-":
		return ""
	case "":
		if r.cfg.Layout == LayoutStdout {
			return ""
		}
		return filepath.Join(r.cfg.Out, "inventory.json")
	}
	return r.cfg.Inventory
}

// diurnal is the relative load at a time of day: a trough around 04:00 UTC
// at a quarter of the afternoon peak.
func diurnal(t int64) float64 {
	h := float64(t%86400) / 3600
	x := 0.5 - 0.5*math.Cos(2*math.Pi*(h-4)/24)
	return 0.25 + 0.75*x*x
}

// planTasks splits the records over flow logs and 5-minute buckets.
func (r *run) planTasks(base, nodata, skip int64) {
	t0 := r.cfg.Start.Unix()
	t1 := t0 + int64(r.cfg.Hours*3600)
	var bw []float64
	var buckets []int64
	for b := t0 - t0%bucketSeconds; b < t1; b += bucketSeconds {
		lo, hi := max(b, t0), min(b+bucketSeconds, t1)
		buckets = append(buckets, b)
		bw = append(bw, diurnal((lo+hi)/2)*float64(hi-lo))
	}
	flw := make([]float64, len(r.m.fls))
	flc := make([]float64, len(r.m.fls))
	for i, fl := range r.m.fls {
		flw[i] = fl.weight
		for _, v := range fl.vpcs {
			flc[i] += float64(len(v.ENIs))
		}
	}
	flat := make([]float64, len(buckets))
	for i, b := range buckets {
		flat[i] = float64(min(b+bucketSeconds, t1) - max(b, t0))
	}
	perBucket := apportion(base, bw)
	idlePerBucket := apportion(nodata, flat)
	skipPerBucket := apportion(skip, flat)
	for i, b := range buckets {
		perFL := apportion(perBucket[i], flw)
		idleFL := apportion(idlePerBucket[i], flc)
		skipFL := apportion(skipPerBucket[i], flc)
		for f := range r.m.fls {
			r.tasks = append(r.tasks, task{
				fl: f, bucket: b, lo: max(b, t0), hi: min(b+bucketSeconds, t1),
				base: int(perFL[f]), nodata: int(idleFL[f]), skip: int(skipFL[f]),
				seed: splitmix(uint64(r.cfg.Seed)*0x100000001b3 ^ uint64(len(r.tasks))),
			})
		}
	}
}

// apportion splits total in proportion to w, exactly (largest remainder,
// ties to the lower index).
func apportion(total int64, w []float64) []int64 {
	out := make([]int64, len(w))
	var sum float64
	for _, x := range w {
		sum += x
	}
	if sum <= 0 || total == 0 {
		if len(out) > 0 {
			out[0] = total
		}
		return out
	}
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(w))
	var given int64
	for i, x := range w {
		q := float64(total) * x / sum
		out[i] = int64(q)
		given += out[i]
		rems[i] = rem{i, q - float64(out[i])}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].f > rems[b].f })
	for j := int64(0); j < total-given; j++ {
		out[rems[j].i]++
	}
	return out
}

// generate builds the records of task i into recs (reused).
func (r *run) generate(i int, recs []flowrec.Record) []flowrec.Record {
	t := &r.tasks[i]
	g := &gen{m: r.m, r: rand.New(rand.NewPCG(t.seed, uint64(i))), fl: r.m.fls[t.fl], recs: recs[:0], lo: t.lo, hi: t.hi}
	g.baseline(t.base)
	for pi, p := range r.plans {
		for k := p.firstEvent(t.lo); k < p.events && p.eventTime(k) < t.hi; k++ {
			if r.m.flOfVPC[p.target(k).VPC.Index] == t.fl {
				g.emitScenario(p, pi, k)
			}
		}
	}
	g.idle(t.nodata, t.skip)
	// Shuffle the scenario and idle records into the baseline, as AWS
	// interleaves interfaces in a file.
	if n := len(g.recs) - t.base; n > 0 && t.base > 0 {
		for j := t.base; j < len(g.recs); j++ {
			k := g.r.IntN(j + 1)
			g.recs[j], g.recs[k] = g.recs[k], g.recs[j]
		}
	}
	return g.recs
}

func (r *run) finished(recs []flowrec.Record, out int64, files int) {
	var st taskStats
	st.count(recs, len(r.plans))
	st.Files = files
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.add(&st)
	r.outBytes += out
	r.done++
	if r.cfg.Progress != nil {
		r.cfg.Progress(Progress{
			Records: r.stats.Records, TotalRecords: r.cfg.Records, Files: r.done, TotalFiles: len(r.tasks),
			OutputBytes: r.outBytes, Elapsed: time.Since(r.began),
		})
	}
}

// runFiles writes one S3 object per task, in parallel.
func (r *run) runFiles(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	var next int64
	var nextMu sync.Mutex
	header := r.cfg.Format.Header()
	for w := 0; w < r.cfg.Workers; w++ {
		g.Go(func() error {
			tw := layout.NewTextWriter(r.enc, header, r.cfg.GzipLevel)
			pw := layout.NewParquetWriter(r.enc, r.cfg.Format)
			var recs []flowrec.Record
			for {
				nextMu.Lock()
				i := int(next)
				next++
				nextMu.Unlock()
				if i >= len(r.tasks) {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				recs = r.generate(i, recs)
				if len(recs) == 0 { // AWS delivers no file for an empty bucket
					r.finished(recs, 0, 0)
					continue
				}
				path := filepath.Join(r.cfg.Out, filepath.FromSlash(r.key(i).Path()))
				n, err := layout.WriteFileAtomic(path, func(w io.Writer) error {
					if r.cfg.Layout == LayoutParquet {
						return pw.Write(w, recs)
					}
					return tw.WriteGzip(w, recs)
				})
				if err != nil {
					return err
				}
				r.finished(recs, n, 1)
			}
		})
	}
	return g.Wait()
}

func (r *run) key(i int) layout.Key {
	t := &r.tasks[i]
	fl := r.m.fls[t.fl]
	h := splitmix(t.seed ^ 0x68617368)
	return layout.Key{
		Account: fl.Account, Region: fl.Region, FlowLogID: fl.ID, Time: time.Unix(t.bucket, 0).UTC(),
		Hash: fmt.Sprintf("%08x", uint32(h)), Hive: r.cfg.Hive, PerHour: r.cfg.PerHour,
		Parquet: r.cfg.Layout == LayoutParquet,
	}
}

// runOrdered generates tasks in parallel, a window at a time, and hands
// their records to write in task order.
func (r *run) runOrdered(ctx context.Context, write func([]flowrec.Record, *layout.TextWriter) error) error {
	tw := layout.NewTextWriter(r.enc, r.cfg.Format.Header(), r.cfg.GzipLevel)
	window := r.cfg.Workers
	bufs := make([][]flowrec.Record, window)
	for lo := 0; lo < len(r.tasks); lo += window {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+window, len(r.tasks))
		var wg sync.WaitGroup
		for i := lo; i < hi; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				bufs[i-lo] = r.generate(i, bufs[i-lo])
			}(i)
		}
		wg.Wait()
		for i := lo; i < hi; i++ {
			if err := write(bufs[i-lo], tw); err != nil {
				return err
			}
			r.finished(bufs[i-lo], 0, 0)
		}
	}
	return nil
}

func (r *run) runCloudWatch(ctx context.Context) (int, error) {
	cw := layout.NewCloudWatch(filepath.Join(r.cfg.Out, r.cfg.LogGroup), r.enc)
	err := r.runOrdered(ctx, func(recs []flowrec.Record, _ *layout.TextWriter) error {
		return cw.Add(recs)
	})
	if err != nil {
		return 0, err
	}
	n, err := cw.Close()
	r.outBytes = cw.Written()
	r.stats.Files = n
	return n, err
}

func (r *run) truth() *Truth {
	t := &Truth{
		Seed: r.cfg.Seed, Format: r.cfg.Format.String(), Layout: r.cfg.Layout,
		Start: r.cfg.Start, End: r.cfg.Start.Add(time.Duration(r.cfg.Hours * float64(time.Hour))),
		Window: r.cfg.Window.String(), Totals: r.stats.Totals, Scenarios: []*Injected{},
	}
	for i, p := range r.plans {
		in := p.describe()
		s := r.stats.per[i]
		in.Records, in.Rejects, in.Bytes, in.Packets = s.records, s.rejects, s.bytes, s.packets
		if s.first != 0 {
			in.First, in.Last = time.Unix(s.first, 0).UTC(), time.Unix(s.last, 0).UTC()
		}
		t.Scenarios = append(t.Scenarios, in)
	}
	return t
}
