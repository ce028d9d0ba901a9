package cwlogs

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/flowlens/flowlens/internal/atomicfile"
)

// state is the API's metadata, kept in DIR/cwlogs/state.json.
type state struct {
	path   string
	Groups map[string]*groupMeta `json:"groups"`
}

// groupMeta is one log group created through the API (groups of datasets
// ingested otherwise have none until the API touches them).
type groupMeta struct {
	Name    string `json:"name"`
	Dataset string `json:"dataset"`
	// Created is the creation time (epoch ms); it also tells a group from
	// an earlier one of the same name in the batches' registry keys.
	Created       int64                  `json:"created"`
	RetentionDays int                    `json:"retentionInDays,omitempty"`
	Streams       map[string]*streamMeta `json:"streams,omitempty"`
	// NotFlowLog counts the messages kept aside because they are not flow
	// log records in the group's format.
	NotFlowLog int64 `json:"notFlowLogEvents,omitempty"`
}

// streamMeta is one log stream created or written through the API.
type streamMeta struct {
	Name          string `json:"name"`
	Created       int64  `json:"created"`
	FirstEvent    int64  `json:"firstEvent,omitempty"`
	LastEvent     int64  `json:"lastEvent,omitempty"`
	LastIngestion int64  `json:"lastIngestion,omitempty"`
}

func loadState(dir string) (*state, error) {
	st := &state{path: filepath.Join(dir, "state.json"), Groups: map[string]*groupMeta{}}
	b, err := os.ReadFile(st.path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cwlogs state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("cwlogs state %s: %w", st.path, err)
	}
	if st.Groups == nil {
		st.Groups = map[string]*groupMeta{}
	}
	return st, nil
}

func (st *state) save() error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(st.path), 0o755); err != nil {
		return fmt.Errorf("cwlogs state: %w", err)
	}
	return atomicfile.Write(st.path, append(b, '\n'), 0o644)
}

// datasetFor names the dataset of a log group: the group name itself when
// it is a valid dataset name, else a readable transcription
// ("/flowlogs/prod" → "flowlogs.prod"), made unique among the known ones.
func datasetFor(name string, valid func(string) error, taken func(string) bool) string {
	if valid(name) == nil && !taken(name) {
		return name
	}
	var b strings.Builder
	for _, r := range strings.Trim(name, "/") {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('.')
		}
	}
	d := b.String()
	if d == "" || !(d[0] >= 'a' && d[0] <= 'z' || d[0] >= 'A' && d[0] <= 'Z') {
		d = "g" + d
	}
	sum := sha256.Sum256([]byte(name))
	if len(d) > 63 || valid(d) != nil || taken(d) {
		if len(d) > 54 {
			d = d[:54]
		}
		d += "-" + hex.EncodeToString(sum[:4])
	}
	return d
}

// asideEvent is a message kept aside: not a flow log record in its
// group's format.
type asideEvent struct {
	Batch     string `json:"batch"`
	Stream    string `json:"stream"`
	Timestamp int64  `json:"timestamp"`
	Ingestion int64  `json:"ingestion"`
	Message   string `json:"message"`
}

// asideStore keeps aside events in one JSON-lines file per group
// (DIR/cwlogs/aside/<hash>.jsonl), synced before PutLogEvents answers.
type asideStore struct {
	dir string

	mu     sync.Mutex
	loaded map[string][]asideEvent // by file
	seen   map[string]map[string]bool
}

func newAsideStore(dir string) *asideStore {
	return &asideStore{dir: filepath.Join(dir, "aside"), loaded: map[string][]asideEvent{}, seen: map[string]map[string]bool{}}
}

func (a *asideStore) file(g *groupMeta) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d", g.Name, g.Created))
	return filepath.Join(a.dir, hex.EncodeToString(sum[:10])+".jsonl")
}

func (a *asideStore) loadLocked(path string) ([]asideEvent, error) {
	if evs, ok := a.loaded[path]; ok {
		return evs, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		a.loaded[path], a.seen[path] = nil, map[string]bool{}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var evs []asideEvent
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var e asideEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // a torn last line after a crash: its batch was not acknowledged
		}
		evs = append(evs, e)
		seen[e.Batch] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sortAside(evs)
	a.loaded[path], a.seen[path] = evs, seen
	return evs, nil
}

func asideLess(a, b asideEvent) bool {
	if a.Timestamp != b.Timestamp {
		return a.Timestamp < b.Timestamp
	}
	return a.Message < b.Message
}

func sortAside(evs []asideEvent) {
	sort.SliceStable(evs, func(i, j int) bool { return asideLess(evs[i], evs[j]) })
}

// add appends the events of one batch, unless that batch is already there
// (a retried request); it returns whether it wrote them.
func (a *asideStore) add(g *groupMeta, batch string, evs []asideEvent) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	path := a.file(g)
	if _, err := a.loadLocked(path); err != nil {
		return false, err
	}
	if a.seen[path][batch] {
		return false, nil
	}
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return false, err
	}
	var buf []byte
	for i := range evs {
		evs[i].Batch = batch
		b, _ := json.Marshal(&evs[i])
		buf = append(append(buf, b...), '\n')
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	old := a.loaded[path]
	sorted := len(old) == 0 || !asideLess(evs[0], old[len(old)-1])
	for i := 1; i < len(evs) && sorted; i++ {
		sorted = !asideLess(evs[i], evs[i-1])
	}
	all := append(old, evs...)
	if !sorted {
		sortAside(all)
	}
	a.loaded[path] = all
	a.seen[path][batch] = true
	return true, nil
}

// events returns the aside events of a group (sorted; do not modify).
func (a *asideStore) events(g *groupMeta) ([]asideEvent, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.loadLocked(a.file(g))
}

// remove deletes a group's aside events.
func (a *asideStore) remove(g *groupMeta) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	path := a.file(g)
	delete(a.loaded, path)
	delete(a.seen, path)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// removeStream deletes a stream's aside events (rewrites the file).
func (a *asideStore) removeStream(g *groupMeta, stream string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	path := a.file(g)
	evs, err := a.loadLocked(path)
	if err != nil {
		return err
	}
	var keep []asideEvent
	var buf []byte
	for _, e := range evs {
		if e.Stream != stream {
			keep = append(keep, e)
			b, _ := json.Marshal(&e)
			buf = append(append(buf, b...), '\n')
		}
	}
	if len(keep) == len(evs) {
		return nil
	}
	if err := atomicfile.Write(path, buf, 0o644); err != nil {
		return err
	}
	a.loaded[path] = keep
	return nil
}
