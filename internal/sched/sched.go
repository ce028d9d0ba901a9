// Package sched runs the server's scheduled jobs (retention, reports): cron
// expressions with time zones, one run of a job at a time, a bounded
// catch-up of the runs missed while the server was down, and a job history
// (status, duration, rows, output location). The last run of every job and
// the history live in one file of the data folder (STATE.json below),
// replaced atomically after every change, so that a restart knows what it
// missed.
//
// The scheduler never sleeps on its own clock in tests: RunDue runs what is
// due at Config.Now and returns when those runs have ended.
package sched

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/flowlens/flowlens/internal/atomicfile"
)

// StateFile is the scheduler's state inside the data folder.
const StateFile = "jobs.json"

// Statuses of a run.
const (
	StatusRunning = "running"
	StatusOK      = "ok"
	StatusFailed  = "failed"
	// StatusSkipped: a run asked for while the job was running (refused).
	StatusSkipped = "skipped"
	// StatusMissed: runs missed while the server was down, beyond the
	// catch-up bound (one entry for all of them).
	StatusMissed = "missed"
)

// Triggers of a run.
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch-up"
	TriggerManual   = "manual"
)

// ErrRunning is returned by RunNow when the job is running.
var ErrRunning = errors.New("the job is running")

// ErrUnknownJob is returned for a job the scheduler does not have.
var ErrUnknownJob = errors.New("unknown job")

// Outcome is what a run produced.
type Outcome struct {
	// Rows: records removed, rows written.
	Rows int64
	// Output is where the result went (a file, an s3:// URL), if anywhere.
	Output string
	// Detail is one line for people (what was dropped, bytes reclaimed).
	Detail string
}

// Job is one scheduled piece of work.
type Job struct {
	Name string
	// Schedule is a cron expression: five fields (minute hour day-of-month
	// month day-of-week; '?' reads as '*'), or @hourly, @daily, @weekly,
	// @monthly, @every 1h30m, or EventBridge's cron(0 2 * * ? *) and
	// rate(1 hour); "CRON_TZ=Europe/Paris " before it sets its time zone
	// (default UTC).
	Schedule string
	// Run does the work for the run scheduled at at (a manual run gets
	// the time it was asked for). It must honour ctx.
	Run func(ctx context.Context, at time.Time) (Outcome, error)
}

// Run is one entry of the job history.
type Run struct {
	ID      int64  `json:"id"`
	Job     string `json:"job"`
	Trigger string `json:"trigger"`
	Status  string `json:"status"`
	// Scheduled is the time the run was for.
	Scheduled  time.Time `json:"scheduled"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished,omitzero"`
	DurationMS int64     `json:"durationMs"`
	Rows       int64     `json:"rows"`
	Output     string    `json:"output,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// JobInfo describes a job for the API and `flowlens jobs`.
type JobInfo struct {
	Name     string `json:"name"`
	Schedule string `json:"schedule"`
	// LastRun is the scheduled time of the last scheduled run.
	LastRun time.Time `json:"lastRun,omitzero"`
	NextRun time.Time `json:"nextRun,omitzero"`
	Running bool      `json:"running"`
	Last    *Run      `json:"last,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// Config tunes a Scheduler.
type Config struct {
	// Dir is the data folder (StateFile is written there).
	Dir string
	// CatchUp is how many runs missed while the server was down are run
	// on start, besides the latest one (older ones are recorded as
	// missed). 0 runs only the latest; negative runs none of the missed.
	CatchUp int
	// HistoryLimit is how many history entries are kept per job (0: 1000).
	HistoryLimit int
	// Poll is the longest the loop waits before looking at the jobs
	// again (new reports are picked up then; 0: 30s).
	Poll time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// DefaultConfig returns the server's defaults.
func DefaultConfig() Config { return Config{CatchUp: 3, HistoryLimit: 1000, Poll: 30 * time.Second} }

// Deps are what the scheduler works with.
type Deps struct {
	Logger *slog.Logger
	// Jobs lists the jobs; it is called at every look (jobs may come and
	// go while the server runs).
	Jobs func(ctx context.Context) ([]Job, error)
}

// jobState is what the state file keeps of a job.
type jobState struct {
	// Last is the scheduled time of the last run (or when the job was
	// first seen): runs after it are due.
	Last time.Time `json:"last"`
	// Ran: Last is a run's (not when the job was first seen).
	Ran bool `json:"ran,omitempty"`
}

type state struct {
	Jobs    map[string]*jobState `json:"jobs"`
	History []Run                `json:"history"`
	NextID  int64                `json:"nextId"`
}

// Scheduler runs jobs on their schedules.
type Scheduler struct {
	cfg  Config
	deps Deps

	mu      sync.Mutex
	st      state
	running map[string]bool

	wg     sync.WaitGroup
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a scheduler; it reads the state file when there is one.
func New(cfg Config, deps Deps) (*Scheduler, error) {
	if cfg.Dir == "" {
		return nil, errors.New("scheduler: no data folder")
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = 1000
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Jobs == nil {
		deps.Jobs = func(context.Context) ([]Job, error) { return nil, nil }
	}
	st, err := ReadState(cfg.Dir)
	if err != nil {
		return nil, err
	}
	// A run still "running" in the file was cut short by a crash.
	for i := range st.History {
		if st.History[i].Status == StatusRunning {
			st.History[i].Status = StatusFailed
			st.History[i].Error = "the server stopped during the run"
		}
	}
	return &Scheduler{cfg: cfg, deps: deps, st: st, running: map[string]bool{}}, nil
}

// Parser is the cron parser of job schedules.
func Parser() cron.Parser {
	return cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// ParseSchedule checks a schedule (see Job.Schedule) and returns it. A schedule at set hours
// runs by the wall clock of its time zone, once per wall-clock time: a
// time that a DST change skips runs shifted by the change (02:30 on the
// night clocks jump from 02:00 to 03:00 runs at 03:30), a time that a DST
// change repeats runs once, at its first occurrence. (The cron library
// alone skips the first and runs the second twice.) Schedules at every
// hour, and @every, follow real time.
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := parseCron(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v (five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"; or @daily, @hourly; \"CRON_TZ=Europe/Paris 0 2 * * *\" for a time zone)", spec, err)
	}
	if ss, ok := s.(*cron.SpecSchedule); ok && bits.OnesCount64(ss.Hour&(1<<24-1)) < 24 && ss.Location != time.UTC {
		inner := *ss
		inner.Location = time.UTC
		return wallSchedule{spec: &inner, loc: ss.Location}, nil
	}
	return s, nil
}

// parseCron parses with the cron library, which panics on some text
// ("TZ=" alone, found by FuzzSchedule): that is an error too.
func parseCron(spec string) (s cron.Schedule, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("not a schedule")
		}
	}()
	spec, err = fromEventBridge(spec)
	if err != nil {
		return nil, err
	}
	return Parser().Parse(spec)
}

// fromEventBridge turns EventBridge's cron(min hour dom month dow year)
// and rate(N unit) into the cron library's text, so that the schedules of
// an AWS setup can be pasted: its day-of-week numbers are 1-7 from
// Sunday (cron's 0-6), and only '*' is taken for its year.
func fromEventBridge(spec string) (string, error) {
	prefix, rest := "", strings.TrimSpace(spec)
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if strings.HasPrefix(rest, p) {
			if i := strings.IndexAny(rest, " \t"); i > 0 {
				prefix, rest = rest[:i+1], strings.TrimSpace(rest[i+1:])
			}
		}
	}
	switch {
	case strings.HasPrefix(rest, "rate(") && strings.HasSuffix(rest, ")"):
		f := strings.Fields(rest[5 : len(rest)-1])
		if len(f) != 2 {
			return "", errors.New("rate(N unit): e.g. rate(1 hour), rate(15 minutes)")
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n <= 0 {
			return "", fmt.Errorf("rate(%s): N must be a positive whole number", strings.Join(f, " "))
		}
		unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
		if unit == 0 {
			return "", fmt.Errorf("rate(%s): the unit is minute(s), hour(s) or day(s)", strings.Join(f, " "))
		}
		return prefix + "@every " + (time.Duration(n) * unit).String(), nil
	case strings.HasPrefix(rest, "cron(") && strings.HasSuffix(rest, ")"):
		f := strings.Fields(rest[5 : len(rest)-1])
		if len(f) != 6 {
			return "", errors.New("cron(...) has six fields: minute hour day-of-month month day-of-week year")
		}
		if f[5] != "*" && f[5] != "?" {
			return "", fmt.Errorf("cron(...) year %q: only * is supported", f[5])
		}
		dow, err := eventBridgeDow(f[4])
		if err != nil {
			return "", err
		}
		return prefix + strings.Join(append(f[:4:4], dow), " "), nil
	}
	return spec, nil
}

// eventBridgeDow renumbers EventBridge's days of the week (1-7 from
// Sunday) as cron's (0-6) in a list of RANGE[/STEP] items; names stay.
func eventBridgeDow(field string) (string, error) {
	items := strings.Split(field, ",")
	for i, item := range items {
		rng, step, hasStep := strings.Cut(item, "/")
		ends := strings.Split(rng, "-")
		for k, e := range ends {
			if e == "" || e[0] < '0' || e[0] > '9' {
				continue // *, ?, a name
			}
			n, err := strconv.Atoi(e)
			if err != nil || n < 1 || n > 7 {
				return "", fmt.Errorf("cron(...) day-of-week %q: 1-7 (Sunday is 1) or SUN-SAT", field)
			}
			ends[k] = strconv.Itoa(n - 1)
		}
		items[i] = strings.Join(ends, "-")
		if hasStep {
			items[i] += "/" + step
		}
	}
	return strings.Join(items, ","), nil
}

// wallSchedule evaluates a cron spec on the wall clock of loc.
type wallSchedule struct {
	spec *cron.SpecSchedule // in UTC, which has no DST
	loc  *time.Location
}

func (w wallSchedule) Next(t time.Time) time.Time {
	lt := t.In(w.loc)
	wall := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), time.UTC)
	for range 4 {
		n := w.spec.Next(wall)
		if n.IsZero() {
			return n
		}
		if r := time.Date(n.Year(), n.Month(), n.Day(), n.Hour(), n.Minute(), n.Second(), 0, w.loc); r.After(t) {
			return r
		}
		wall = n
	}
	return time.Time{}
}

// Location returns the time zone of a schedule (UTC unless CRON_TZ= or
// TZ= names one).
func Location(spec string) (*time.Location, error) {
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if len(spec) > len(p) && spec[:len(p)] == p {
			rest := spec[len(p):]
			name := rest
			for i, c := range rest {
				if c == ' ' || c == '\t' {
					name = rest[:i]
					break
				}
			}
			return time.LoadLocation(name)
		}
	}
	return time.UTC, nil
}

// ReadState reads the state file of dir (empty when there is none).
func ReadState(dir string) (state, error) {
	st := state{Jobs: map[string]*jobState{}}
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("scheduler state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("scheduler state %s: %w", filepath.Join(dir, StateFile), err)
	}
	if st.Jobs == nil {
		st.Jobs = map[string]*jobState{}
	}
	return st, nil
}

// History reads the history of dir's state file, newest first: every job
// or one ("" for all), at most limit entries (0: all).
func History(dir, job string, limit int) ([]Run, error) {
	st, err := ReadState(dir)
	if err != nil {
		return nil, err
	}
	return filterHistory(st.History, job, limit), nil
}

func filterHistory(h []Run, job string, limit int) []Run {
	out := []Run{}
	for i := len(h) - 1; i >= 0; i-- {
		if job != "" && h[i].Job != job {
			continue
		}
		out = append(out, h[i])
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out
}

// Record appends a finished run to dir's history without a scheduler (a
// one-off run of the CLI while no server owns the folder).
func Record(dir string, limit int, r Run) error {
	st, err := ReadState(dir)
	if err != nil {
		return err
	}
	st.NextID++
	r.ID = st.NextID
	st.History = append(st.History, r)
	if limit <= 0 {
		limit = 1000
	}
	st.History = trimHistory(st.History, limit)
	return writeState(dir, st)
}

// trimHistory keeps the newest limit entries of each job (so that an
// hourly job does not push a nightly one's runs out).
func trimHistory(h []Run, limit int) []Run {
	per := map[string]int{}
	drop := 0
	for i := len(h) - 1; i >= 0; i-- {
		per[h[i].Job]++
		if per[h[i].Job] > limit {
			drop++
		}
	}
	if drop == 0 {
		return h
	}
	out := make([]Run, 0, len(h)-drop)
	seen := map[string]int{}
	for i := len(h) - 1; i >= 0; i-- {
		seen[h[i].Job]++
		if seen[h[i].Job] <= limit {
			out = append(out, h[i])
		}
	}
	slices.Reverse(out)
	return out
}

func writeState(dir string, st state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, StateFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("scheduler state: %w", err)
	}
	return nil
}

// saveLocked writes the state; s.mu is held.
func (s *Scheduler) saveLocked() {
	s.st.History = trimHistory(s.st.History, s.cfg.HistoryLimit)
	if err := writeState(s.cfg.Dir, s.st); err != nil {
		s.deps.Logger.Error("save scheduler state", "err", err)
	}
}

// addLocked appends a history entry and returns its index.
func (s *Scheduler) addLocked(r Run) int64 {
	s.st.NextID++
	r.ID = s.st.NextID
	s.st.History = append(s.st.History, r)
	return r.ID
}

func (s *Scheduler) updateLocked(id int64, f func(*Run)) {
	for i := len(s.st.History) - 1; i >= 0; i-- {
		if s.st.History[i].ID == id {
			f(&s.st.History[i])
			return
		}
	}
}

// pending is the runs of one job due now.
type pending struct {
	job   Job
	times []time.Time // oldest first; the last is the latest due
}

// maxEnumerate bounds the schedule times looked at after a long gap.
const maxEnumerate = 1_000_000

// due computes what each job has due at now, records missed runs and
// first sightings; s.mu is held.
func (s *Scheduler) dueLocked(jobs []Job, now time.Time) []pending {
	var out []pending
	changed := false
	for _, j := range jobs {
		sch, err := ParseSchedule(j.Schedule)
		if err != nil {
			continue // reported by Jobs()
		}
		js := s.st.Jobs[j.Name]
		if js == nil {
			// A new job runs from now on, not for its past.
			s.st.Jobs[j.Name] = &jobState{Last: now}
			changed = true
			continue
		}
		if s.running[j.Name] {
			continue
		}
		var times []time.Time
		n := 0
		for t := sch.Next(js.Last); !t.IsZero() && !t.After(now) && n < maxEnumerate; t = sch.Next(t) {
			n++
			times = append(times, t)
			if keep := max(s.cfg.CatchUp, 0) + 1; len(times) > 2*keep+16 {
				times = append(times[:0], times[len(times)-keep:]...)
			}
		}
		if n == 0 {
			continue
		}
		keep := max(s.cfg.CatchUp, 0) + 1
		if len(times) > keep {
			times = times[len(times)-keep:]
		}
		if missed := n - len(times); missed > 0 {
			first := sch.Next(js.Last)
			s.addLocked(Run{Job: j.Name, Trigger: TriggerCatchUp, Status: StatusMissed, Scheduled: first, Started: now, Finished: now,
				Detail: fmt.Sprintf("%d run%s from %s not run while the server was down (catch-up runs at most %d)",
					missed, plural(missed), first.UTC().Format(time.RFC3339), keep)})
			changed = true
		}
		out = append(out, pending{job: j, times: times})
	}
	if changed {
		s.saveLocked()
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// RunDue runs every run due at the clock's now (each job's in turn, jobs
// side by side) and returns when they have ended. A job still running
// from an earlier call is left alone: its due runs wait for the next look.
func (s *Scheduler) RunDue(ctx context.Context) {
	jobs, err := s.deps.Jobs(ctx)
	if err != nil {
		s.deps.Logger.Error("list jobs", "err", err)
	}
	now := s.cfg.Now()
	s.mu.Lock()
	due := s.dueLocked(jobs, now)
	for _, p := range due {
		s.running[p.job.Name] = true
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range due {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.running, p.job.Name)
				s.mu.Unlock()
			}()
			for i, t := range p.times {
				trigger := TriggerCatchUp
				if i == len(p.times)-1 && now.Sub(t) < time.Minute {
					trigger = TriggerSchedule
				}
				s.run(ctx, p.job, t, trigger, true)
				if ctx.Err() != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// run runs one job for at and records it; the caller holds the job's
// running flag.
func (s *Scheduler) run(ctx context.Context, j Job, at time.Time, trigger string, advance bool) (Run, error) {
	started := s.cfg.Now()
	s.mu.Lock()
	id := s.addLocked(Run{Job: j.Name, Trigger: trigger, Status: StatusRunning, Scheduled: at, Started: started})
	s.saveLocked()
	s.mu.Unlock()
	out, err := safeRun(ctx, j, at)
	finished := s.cfg.Now()
	var r Run
	s.mu.Lock()
	s.updateLocked(id, func(e *Run) {
		e.Finished = finished
		e.DurationMS = finished.Sub(started).Milliseconds()
		e.Rows, e.Output, e.Detail = out.Rows, out.Output, out.Detail
		e.Status = StatusOK
		if err != nil {
			e.Status = StatusFailed
			e.Error = err.Error()
		}
		r = *e
	})
	interrupted := err != nil && ctx.Err() != nil
	if interrupted {
		s.updateLocked(id, func(e *Run) {
			e.Error = "interrupted: the server stopped (" + err.Error() + "); the run is due again on start"
			r = *e
		})
	}
	if advance && !interrupted {
		if js := s.st.Jobs[j.Name]; js == nil || js.Last.Before(at) {
			s.st.Jobs[j.Name] = &jobState{Last: at, Ran: true}
		}
	}
	s.saveLocked()
	s.mu.Unlock()
	if err != nil {
		s.deps.Logger.Error("job failed", "job", j.Name, "scheduled", at, "trigger", trigger, "err", err)
	} else {
		s.deps.Logger.Info("job done", "job", j.Name, "scheduled", at, "trigger", trigger, "rows", out.Rows, "output", out.Output, "elapsed_ms", r.DurationMS)
	}
	return r, err
}

func safeRun(ctx context.Context, j Job, at time.Time) (out Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job %s panicked: %v", j.Name, p)
		}
	}()
	return j.Run(ctx, at)
}

// RunNow runs a job now for at (outside its schedule) and returns its
// history entry; a job already running is refused with ErrRunning (and
// the refusal recorded).
func (s *Scheduler) RunNow(ctx context.Context, name string, at time.Time) (Run, error) {
	jobs, err := s.deps.Jobs(ctx)
	if err != nil {
		return Run{}, err
	}
	var job *Job
	for i := range jobs {
		if jobs[i].Name == name {
			job = &jobs[i]
		}
	}
	if job == nil {
		return Run{}, fmt.Errorf("job %q: %w", name, ErrUnknownJob)
	}
	return s.RunJob(ctx, *job, at)
}

// RunJob runs j now for at, as RunNow does, for a job that need not be in
// the list (a report run for another folder).
func (s *Scheduler) RunJob(ctx context.Context, j Job, at time.Time) (Run, error) {
	now := s.cfg.Now()
	s.mu.Lock()
	if s.running[j.Name] {
		r := Run{Job: j.Name, Trigger: TriggerManual, Status: StatusSkipped, Scheduled: at, Started: now, Finished: now,
			Detail: "refused: the job was running"}
		r.ID = s.addLocked(r)
		s.saveLocked()
		s.mu.Unlock()
		return r, fmt.Errorf("job %s: %w (one run at a time; see 'flowlens jobs')", j.Name, ErrRunning)
	}
	s.running[j.Name] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, j.Name)
		s.mu.Unlock()
	}()
	return s.run(ctx, j, at, TriggerManual, false)
}

// Jobs describes every job: schedule, last and next run.
func (s *Scheduler) Jobs(ctx context.Context) ([]JobInfo, error) {
	jobs, err := s.deps.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JobInfo, 0, len(jobs))
	for _, j := range jobs {
		info := JobInfo{Name: j.Name, Schedule: j.Schedule, Running: s.running[j.Name]}
		sch, err := ParseSchedule(j.Schedule)
		if err != nil {
			info.Error = err.Error()
		} else {
			from := now
			if js := s.st.Jobs[j.Name]; js != nil {
				if js.Ran {
					info.LastRun = js.Last
				}
				if n := sch.Next(js.Last); n.Before(now) {
					from = js.Last
				}
			}
			info.NextRun = sch.Next(from)
		}
		if h := filterHistory(s.st.History, j.Name, 1); len(h) > 0 {
			info.Last = &h[0]
		}
		out = append(out, info)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// History returns the history, newest first (job "" for every job).
func (s *Scheduler) History(job string, limit int) []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return filterHistory(s.st.History, job, limit)
}

// Start runs the loop until Stop or ctx ends: it looks at the jobs, runs
// what is due, and waits for the next run time (at most Config.Poll).
func (s *Scheduler) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		for {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.RunDue(ctx)
			}()
			wait := s.cfg.Poll
			if jobs, err := s.Jobs(ctx); err == nil {
				now := s.cfg.Now()
				for _, j := range jobs {
					if d := j.NextRun.Sub(now); !j.NextRun.IsZero() && d < wait {
						wait = max(d, time.Second)
					}
				}
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop cancels the running jobs and waits for them (at most until ctx
// ends).
func (s *Scheduler) Stop(ctx context.Context) error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	finished := make(chan struct{})
	go func() {
		<-s.done
		s.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
