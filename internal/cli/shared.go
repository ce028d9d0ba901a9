package cli

import (
	"fmt"
	"path/filepath"

	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/sched"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/telemetry"
)

// sharedStore is the store flowlens serve owns, lent to the verbs it runs
// for CLI clients.
type sharedStore struct {
	st  store.Backend
	dir string // absolute data folder
	url string // the --store of the server ("": the embedded database)
	// alias is the name of the --config cluster the server's --store
	// named ("": none): a verb may name the store by it too.
	alias string
	// jobs is the server's scheduler: report runs asked for by clients
	// go through it (one run of a job at a time, in the history).
	jobs *sched.Scheduler
	// health counts what the verbs run for clients reject (ingest).
	health *telemetry.Health
	// filters is the server's metric filter evaluator (ingest --force
	// recomputes what it replaced).
	filters *filtereval.Evaluator
}

// use returns the shared store when dir is its folder and url is empty
// (a forwarded verb uses the server's store) or the server's --store.
func (s *sharedStore) use(dir, url string) (store.Backend, error) {
	if !sameDir(dir, s.dir) {
		return nil, fmt.Errorf("this flowlens serve owns %s, not %s", s.dir, dir)
	}
	if url != "" && url != s.url && (s.alias == "" || url != s.alias) {
		return nil, fmt.Errorf("the flowlens serve that owns %s keeps its records in %s, not %s: give its --store or none", s.dir, storeName(s.url), redact(url))
	}
	return s.st, nil
}

// storeName says where a --store value keeps the records.
func storeName(url string) string {
	if url == "" {
		return "the embedded database"
	}
	return redact(url)
}

// release closes a store a verb opened; the shared store stays open.
func (e *Env) release(st store.Backend) {
	if st == nil || (e.shared != nil && st == e.shared.st) {
		return
	}
	_ = st.Close()
}

// abs resolves a relative path against Env.Dir when set; "" stays "".
func (e *Env) abs(p string) string {
	if p == "" || e.Dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

func sameDir(a, b string) bool {
	ca, err1 := filepath.EvalSymlinks(a)
	cb, err2 := filepath.EvalSymlinks(b)
	if err1 == nil && err2 == nil {
		return ca == cb
	}
	aa, _ := filepath.Abs(a)
	bb, _ := filepath.Abs(b)
	return aa == bb
}

// countRejects counts rejected lines on the server's /metrics when the
// verb runs inside flowlens serve.
func (e *Env) countRejects(path string, n int64) {
	if e.shared != nil && e.shared.health != nil {
		e.shared.health.AddRejects(path, n)
	}
}

// timed returns q, timing its queries as kind on the server's /metrics
// (flowlens_query_duration_seconds) when the verb runs inside flowlens
// serve for a client; standalone, q itself.
func (e *Env) timed(q store.Querier, kind string) store.Querier {
	if e.shared == nil || e.shared.health == nil {
		return q
	}
	return timedQuerier{q, e.shared.health, kind}
}
