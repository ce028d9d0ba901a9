package sched

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestScheduleNext(t *testing.T) {
	cases := []struct {
		name, spec, from string
		want             []string // the next times, RFC 3339 in UTC
	}{
		{"daily at 2", "0 2 * * *", "2026-02-27T03:00:00Z", []string{"2026-02-28T02:00:00Z", "2026-03-01T02:00:00Z"}},
		{"eventbridge question mark", "0 2 * * ?", "2026-02-27T03:00:00Z", []string{"2026-02-28T02:00:00Z"}},
		{"hourly descriptor", "@hourly", "2026-12-06T19:59:59Z", []string{"2026-12-06T20:00:00Z", "2026-12-06T21:00:00Z"}},
		// The 31st skips the months that have none.
		{"month end 31", "0 0 31 * *", "2026-01-31T00:00:00Z", []string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"}},
		// 29 February only in leap years.
		{"leap day", "0 0 29 2 *", "2026-01-01T00:00:00Z", []string{"2028-02-29T00:00:00Z"}},
		{"year end rollover", "59 23 31 12 *", "2026-12-31T23:58:00Z", []string{"2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"}},
		// Paris: 02:00 local is 01:00 UTC in winter, 00:00 UTC in summer.
		{"time zone", "CRON_TZ=Europe/Paris 0 2 * * *", "2026-03-27T12:00:00Z", []string{"2026-03-28T01:00:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"}},
		// Spring forward in Paris (29 March 2026, 02:00 → 03:00): 02:30
		// does not exist that day; the run is shifted by the change, to
		// 03:30 local (the cron library alone skips the day).
		{"dst gap", "CRON_TZ=Europe/Paris 30 2 * * *", "2026-03-28T12:00:00Z", []string{"2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"}},
		// Fall back in New York (1 November 2026, 02:00 → 01:00): 01:30
		// happens twice; the job runs once, at the first (the cron
		// library alone runs it twice).
		{"dst overlap", "CRON_TZ=America/New_York 30 1 * * *", "2026-10-31T12:00:00Z", []string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		// Hourly follows real time through the repeated hour.
		{"hourly through fall back", "CRON_TZ=America/New_York 0 * * * *", "2026-11-01T04:30:00Z", []string{"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"}},
		// EventBridge's schedules, as the article's Lambdas have them.
		{"eventbridge cron", "cron(0 23 * * ? *)", "2026-12-06T23:30:00Z", []string{"2026-12-07T23:00:00Z"}},
		// EventBridge counts days of the week from Sunday = 1: 2-6 is MON-FRI.
		{"eventbridge weekdays", "cron(0 9 ? * 2-6 *)", "2026-12-05T12:00:00Z", []string{"2026-12-07T09:00:00Z", "2026-12-08T09:00:00Z"}},
		{"eventbridge sunday", "cron(0 9 ? * 1 *)", "2026-12-05T12:00:00Z", []string{"2026-12-06T09:00:00Z", "2026-12-13T09:00:00Z"}},
		{"eventbridge names", "CRON_TZ=Europe/Paris cron(0 2 ? * MON *)", "2026-12-05T12:00:00Z", []string{"2026-12-07T01:00:00Z"}},
		// A step is not a day: 2/2 is MON, WED, FRI in both counts.
		{"eventbridge step", "cron(0 9 ? * 2/2 *)", "2026-12-06T12:00:00Z", []string{"2026-12-07T09:00:00Z", "2026-12-09T09:00:00Z", "2026-12-11T09:00:00Z", "2026-12-14T09:00:00Z"}},
		{"rate", "rate(2 hours)", "2026-12-06T00:00:00Z", []string{"2026-12-06T02:00:00Z"}},
		{"every", "@every 90m", "2026-12-06T00:00:00Z", []string{"2026-12-06T01:30:00Z", "2026-12-06T03:00:00Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSchedule(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			at := mustTime(t, c.from)
			for i, w := range c.want {
				at = s.Next(at)
				if got := at.UTC().Format(time.RFC3339); got != w {
					t.Fatalf("next #%d after %s: got %s, want %s", i+1, c.from, got, w)
				}
			}
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, spec := range []string{"", "0 2 * *", "61 * * * *", "CRON_TZ=Mars/Olympus 0 2 * * *", "0 0 32 * *", "@fortnightly",
		"cron(0 2 * * ? 2027)", "cron(0 2 * * ?)", "cron(0 9 ? * 8 *)", "cron(0 9 ? * 10 *)", "rate(0 hours)", "rate(1 fortnight)", "rate(hour)"} {
		if _, err := ParseSchedule(spec); err == nil {
			t.Errorf("%q: no error", spec)
		} else if !strings.Contains(err.Error(), "five fields") {
			t.Errorf("%q: error without a hint: %v", spec, err)
		}
	}
	if loc, err := Location("CRON_TZ=Asia/Kolkata 0 2 * * *"); err != nil || loc.String() != "Asia/Kolkata" {
		t.Errorf("Location: %v %v", loc, err)
	}
	if loc, _ := Location("0 2 * * *"); loc != time.UTC {
		t.Errorf("Location without a zone: %v", loc)
	}
}

// recorder is a job that records the times it ran for.
type recorder struct {
	mu   sync.Mutex
	runs []time.Time
	fail bool
}

func (r *recorder) job(name, spec string) Job {
	return Job{Name: name, Schedule: spec, Run: func(ctx context.Context, at time.Time) (Outcome, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.runs = append(r.runs, at)
		if r.fail {
			return Outcome{}, errors.New("boom")
		}
		return Outcome{Rows: int64(len(r.runs)), Output: "out/" + at.Format("2006-01-02")}, nil
	}}
}

func (r *recorder) times() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, t := range r.runs {
		out = append(out, t.UTC().Format(time.RFC3339))
	}
	return out
}

func newSched(t *testing.T, dir string, clk *clock, catchUp int, jobs ...Job) *Scheduler {
	t.Helper()
	s, err := New(Config{Dir: dir, CatchUp: catchUp, Now: clk.Now}, Deps{Jobs: func(context.Context) ([]Job, error) { return jobs, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCatchUp(t *testing.T) {
	cases := []struct {
		name    string
		catchUp int
		down    string // the clock when the server comes back
		want    []string
		missed  int
	}{
		{"no gap", 3, "2026-12-02T02:00:30Z", []string{"2026-12-02T02:00:00Z"}, 0},
		{"gap within bound", 3, "2026-12-04T02:10:00Z", []string{"2026-12-02T02:00:00Z", "2026-12-03T02:00:00Z", "2026-12-04T02:00:00Z"}, 0},
		{"gap beyond bound", 1, "2026-12-06T03:00:00Z", []string{"2026-12-05T02:00:00Z", "2026-12-06T02:00:00Z"}, 3},
		{"latest only", 0, "2026-12-06T03:00:00Z", []string{"2026-12-06T02:00:00Z"}, 4},
		{"none of the missed", -1, "2026-12-06T03:00:00Z", []string{"2026-12-06T02:00:00Z"}, 4},
		{"nothing due yet", 3, "2026-12-02T01:59:59Z", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			clk := &clock{t: mustTime(t, "2026-12-01T12:00:00Z")}
			rec := &recorder{}
			s := newSched(t, dir, clk, c.catchUp, rec.job("nightly", "0 2 * * *"))
			s.RunDue(context.Background()) // first sight: nothing runs
			if len(rec.runs) != 0 {
				t.Fatalf("a new job ran for its past: %v", rec.times())
			}
			// The server stops and starts again later: a new scheduler
			// reads the state the first one left.
			clk.Set(mustTime(t, c.down))
			s = newSched(t, dir, clk, c.catchUp, rec.job("nightly", "0 2 * * *"))
			s.RunDue(context.Background())
			if got := rec.times(); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("ran for %v, want %v", got, c.want)
			}
			// Nothing more is due at the same time.
			s.RunDue(context.Background())
			if n := len(rec.runs); n != len(c.want) {
				t.Fatalf("ran again: %v", rec.times())
			}
			h := s.History("nightly", 0)
			missed := 0
			ok := 0
			for _, r := range h {
				switch r.Status {
				case StatusMissed:
					missed++
					if !strings.Contains(r.Detail, "not run while the server was down") {
						t.Errorf("missed entry: %+v", r)
					}
				case StatusOK:
					ok++
					if r.Output == "" || r.Rows == 0 || r.Finished.IsZero() {
						t.Errorf("entry without outcome: %+v", r)
					}
				}
			}
			if ok != len(c.want) || (missed > 0) != (c.missed > 0) {
				t.Fatalf("history %+v: %d ok, %d missed entries; want %d ok, missed %d", h, ok, missed, len(c.want), c.missed)
			}
			if c.missed > 0 && !strings.HasPrefix(h[len(h)-1].Detail, strconv.Itoa(c.missed)+" run") {
				t.Errorf("missed detail %q, want %d runs", h[len(h)-1].Detail, c.missed)
			}
			// The history survives a restart.
			disk, err := History(dir, "nightly", 0)
			if err != nil || len(disk) != len(h) {
				t.Fatalf("history on disk: %d entries (%v), in memory %d", len(disk), err, len(h))
			}
		})
	}
}

func TestOverlapRefused(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: mustTime(t, "2026-12-01T00:00:30Z")}
	started := make(chan struct{})
	release := make(chan struct{})
	var runs int
	slow := Job{Name: "slow", Schedule: "* * * * *", Run: func(ctx context.Context, at time.Time) (Outcome, error) {
		runs++
		if runs == 1 {
			close(started)
			<-release
		}
		return Outcome{Rows: 1}, nil
	}}
	s := newSched(t, dir, clk, 3, slow)
	s.RunDue(context.Background()) // first sight
	clk.Set(mustTime(t, "2026-12-01T00:01:30Z"))
	done := make(chan struct{})
	go func() { s.RunDue(context.Background()); close(done) }()
	<-started
	// While the run lasts, the next minute comes: it is not started.
	clk.Set(mustTime(t, "2026-12-01T00:02:30Z"))
	s.RunDue(context.Background())
	if _, err := s.RunNow(context.Background(), "slow", clk.Now()); !errors.Is(err, ErrRunning) {
		t.Fatalf("RunNow during a run: %v, want ErrRunning", err)
	}
	infos, _ := s.Jobs(context.Background())
	if len(infos) != 1 || !infos[0].Running {
		t.Fatalf("jobs during the run: %+v", infos)
	}
	if !infos[0].LastRun.IsZero() {
		t.Fatalf("a job that has not run has a last run: %+v", infos[0])
	}
	close(release)
	<-done
	if infos, _ := s.Jobs(context.Background()); !infos[0].LastRun.Equal(mustTime(t, "2026-12-01T00:01:00Z")) {
		t.Fatalf("last run after the run: %+v", infos[0])
	}
	if runs != 1 {
		t.Fatalf("%d runs while one was running", runs)
	}
	// Once it has ended, the minute it could not run is run.
	s.RunDue(context.Background())
	if runs != 2 {
		t.Fatalf("%d runs after the first ended, want 2", runs)
	}
	var skipped int
	for _, r := range s.History("", 0) {
		if r.Status == StatusSkipped {
			skipped++
		}
	}
	if skipped != 1 {
		t.Fatalf("history: %d skipped entries, want 1: %+v", skipped, s.History("", 0))
	}
}

func TestFailureAndManualRun(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: mustTime(t, "2026-12-01T00:00:00Z")}
	rec := &recorder{fail: true}
	s := newSched(t, dir, clk, 3, rec.job("r", "@daily"))
	s.RunDue(context.Background())
	clk.Set(mustTime(t, "2026-12-02T00:00:10Z"))
	s.RunDue(context.Background())
	h := s.History("r", 1)
	if len(h) != 1 || h[0].Status != StatusFailed || h[0].Error != "boom" || h[0].Trigger != TriggerSchedule {
		t.Fatalf("failed run: %+v", h)
	}
	// A failed run counts as run: it is not retried at the next look.
	s.RunDue(context.Background())
	if len(rec.runs) != 1 {
		t.Fatalf("retried: %v", rec.times())
	}
	rec.fail = false
	run, err := s.RunNow(context.Background(), "r", mustTime(t, "2026-11-20T00:00:00Z"))
	if err != nil || run.Status != StatusOK || run.Trigger != TriggerManual {
		t.Fatalf("manual run: %+v %v", run, err)
	}
	if _, err := s.RunNow(context.Background(), "nope", clk.Now()); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("unknown job: %v", err)
	}
	// A manual run for an old day does not move the schedule back or
	// forward: the next day's run still happens.
	clk.Set(mustTime(t, "2026-12-03T00:00:05Z"))
	s.RunDue(context.Background())
	if got := rec.times(); len(got) != 3 || got[2] != "2026-12-03T00:00:00Z" {
		t.Fatalf("runs %v", got)
	}
}

func TestHistoryLimit(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: mustTime(t, "2026-12-01T00:00:00Z")}
	hourly, daily := &recorder{}, &recorder{}
	s, err := New(Config{Dir: dir, CatchUp: 100, HistoryLimit: 5, Now: clk.Now},
		Deps{Jobs: func(context.Context) ([]Job, error) {
			return []Job{hourly.job("h", "@hourly"), daily.job("d", "0 0 * * *")}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.RunDue(context.Background())
	clk.Set(mustTime(t, "2026-12-03T12:00:00Z"))
	s.RunDue(context.Background())
	if len(hourly.runs) != 60 || len(daily.runs) != 2 {
		t.Fatalf("%d hourly and %d daily runs, want 60 and 2", len(hourly.runs), len(daily.runs))
	}
	h, _ := History(dir, "h", 0)
	if len(h) != 5 || !h[0].Scheduled.Equal(mustTime(t, "2026-12-03T12:00:00Z")) {
		t.Fatalf("hourly history kept %d entries (newest %v), want the 5 newest", len(h), h)
	}
	// The hourly job's runs do not push the daily one's out.
	if d, _ := History(dir, "d", 0); len(d) != 2 {
		t.Fatalf("daily history: %v", d)
	}
}

// FuzzSchedule: any schedule text either fails to parse with a message
// or gives run times strictly after the time asked from, in order.
func FuzzSchedule(f *testing.F) {
	for _, s := range []string{"0 2 * * *", "CRON_TZ=Europe/Paris 30 2 * * *", "CRON_TZ=America/New_York 30 1 * * ?", "@every 90m",
		"@hourly", "0 0 31 2 *", "cron(0 2 * * ? *)", "rate(5 minutes)", "cron(0 9 ? * 2-6,1 *)", "*/7 1-5 * 1,6 MON-FRI", "TZ=Asia/Kolkata 0 0 * * *", "CRON_TZ= 0 0 * * *", "0 0 29 2 *"} {
		f.Add(s, int64(1774746000))
	}
	f.Fuzz(func(t *testing.T, spec string, at int64) {
		if len(spec) > 200 {
			return
		}
		_, _ = Location(spec)
		s, err := ParseSchedule(spec)
		if err != nil {
			if !strings.Contains(err.Error(), "five fields") {
				t.Fatalf("%q: error without a hint: %v", spec, err)
			}
			return
		}
		from := time.Unix(at%(1<<34), 0).UTC()
		prev := from
		for range 3 {
			n := s.Next(prev)
			if n.IsZero() {
				return
			}
			if !n.After(prev) {
				t.Fatalf("%q: Next(%s) = %s, not after", spec, prev, n)
			}
			prev = n
		}
	})
}

func TestInterruptedRun(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: mustTime(t, "2026-12-01T00:00:00Z")}
	started := make(chan struct{}, 1)
	var calls int
	job := Job{Name: "long", Schedule: "@daily", Run: func(ctx context.Context, at time.Time) (Outcome, error) {
		calls++
		started <- struct{}{}
		<-ctx.Done()
		return Outcome{}, ctx.Err()
	}}
	s := newSched(t, dir, clk, 3, job)
	s.RunDue(context.Background())
	clk.Set(mustTime(t, "2026-12-02T00:00:05Z"))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	s.RunDue(ctx) // the server stops during the run
	h := s.History("long", 1)
	if len(h) != 1 || h[0].Status != StatusFailed || !strings.Contains(h[0].Error, "interrupted") {
		t.Fatalf("interrupted run: %+v", h)
	}
	// On start the run is due again.
	s = newSched(t, dir, clk, 3, Job{Name: "long", Schedule: "@daily", Run: func(context.Context, time.Time) (Outcome, error) {
		calls++
		return Outcome{Rows: 1}, nil
	}})
	s.RunDue(context.Background())
	if calls != 2 || s.History("long", 1)[0].Status != StatusOK {
		t.Fatalf("after restart: %d calls, %+v", calls, s.History("long", 0))
	}
	// A run left "running" by a crash reads as failed.
	st, _ := ReadState(dir)
	st.History = append(st.History, Run{ID: 99, Job: "long", Status: StatusRunning})
	if err := writeState(dir, st); err != nil {
		t.Fatal(err)
	}
	s = newSched(t, dir, clk, 3, job)
	if r := s.History("long", 1)[0]; r.Status != StatusFailed || !strings.Contains(r.Error, "stopped during the run") {
		t.Fatalf("crashed run: %+v", r)
	}
}
