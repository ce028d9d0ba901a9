// Package catalog keeps the server's durable definitions of a data folder:
// saved queries, dashboards and the query history. Each collection is one
// JSON file under DIR/catalog/, replaced atomically on every change (a
// temporary file synced, renamed, the folder synced), so a crash leaves the
// previous or the new version, never half of one. The history is a bounded
// JSON-lines file.
package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/atomicfile"
)

// ErrNotFound is returned for an unknown id.
var ErrNotFound = errors.New("not found")

// ErrInvalid marks a definition that fails validation.
var ErrInvalid = errors.New("invalid definition")

// Range is a time range: relative (Since, "1h") or absolute (Start/End,
// RFC 3339). Empty: all data.
type Range struct {
	Since string `json:"since,omitempty"`
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// SavedQuery is a named query with what it needs to run again.
type SavedQuery struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	Language  string    `json:"language"`
	Datasets  []string  `json:"datasets"`
	Range     Range     `json:"range"`
	Chart     string    `json:"chart"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Panel is one cell of a dashboard's grid.
type Panel struct {
	SavedQueryID string `json:"savedQueryId"`
	Title        string `json:"title,omitempty"`
	Chart        string `json:"chart,omitempty"`
	X            int    `json:"x"`
	Y            int    `json:"y"`
	W            int    `json:"w"`
	H            int    `json:"h"`
}

// Dashboard is a grid of saved queries.
type Dashboard struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Range     Range     `json:"range"`
	Panels    []Panel   `json:"panels"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Charts are the chart kinds a saved query or panel may ask for.
var charts = []string{"", "auto", "line", "area", "bar", "sankey", "table"}

func validChart(c string) bool {
	for _, x := range charts {
		if c == x {
			return true
		}
	}
	return false
}

func (q *SavedQuery) validate() error {
	q.Name = strings.TrimSpace(q.Name)
	switch {
	case q.Name == "":
		return fmt.Errorf("%w: a saved query needs a name", ErrInvalid)
	case len(q.Name) > 200:
		return fmt.Errorf("%w: a name has at most 200 characters", ErrInvalid)
	case strings.TrimSpace(q.Query) == "":
		return fmt.Errorf("%w: a saved query needs a query", ErrInvalid)
	case len(q.Query) > 64<<10:
		return fmt.Errorf("%w: a query has at most 64 KiB", ErrInvalid)
	case q.Language != "" && q.Language != "insights" && q.Language != "sql":
		return fmt.Errorf("%w: language is \"insights\" or \"sql\", not %q", ErrInvalid, q.Language)
	case !validChart(q.Chart):
		return fmt.Errorf("%w: chart is one of auto, line, area, bar, sankey, table, not %q", ErrInvalid, q.Chart)
	}
	if q.Language == "" {
		q.Language = "insights"
	}
	if q.Chart == "" {
		q.Chart = "auto"
	}
	if q.Datasets == nil {
		q.Datasets = []string{}
	}
	return q.Range.validate()
}

func (r Range) validate() error {
	if r.Since != "" && (r.Start != "" || r.End != "") {
		return fmt.Errorf("%w: a range is either since or start/end", ErrInvalid)
	}
	for _, t := range []string{r.Start, r.End} {
		if t == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339, t); err != nil {
			return fmt.Errorf("%w: range times are RFC 3339 (2024-05-31T00:00:00Z), not %q", ErrInvalid, t)
		}
	}
	return nil
}

func (d *Dashboard) validate(queryExists func(string) bool) error {
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		return fmt.Errorf("%w: a dashboard needs a name", ErrInvalid)
	}
	if len(d.Panels) > 100 {
		return fmt.Errorf("%w: a dashboard has at most 100 panels", ErrInvalid)
	}
	if d.Panels == nil {
		d.Panels = []Panel{}
	}
	for i, p := range d.Panels {
		if !queryExists(p.SavedQueryID) {
			return fmt.Errorf("%w: panel %d: no saved query %q", ErrInvalid, i+1, p.SavedQueryID)
		}
		if !validChart(p.Chart) {
			return fmt.Errorf("%w: panel %d: chart %q", ErrInvalid, i+1, p.Chart)
		}
		if p.W <= 0 || p.H <= 0 || p.X < 0 || p.Y < 0 {
			return fmt.Errorf("%w: panel %d: x, y ≥ 0 and w, h > 0", ErrInvalid, i+1)
		}
	}
	return d.Range.validate()
}

// Catalog holds the collections of one data folder. Safe for concurrent
// use within one process (the server is the only writer).
type Catalog struct {
	dir string
	now func() time.Time

	mu         sync.Mutex
	queries    map[string]SavedQuery
	dashboards map[string]Dashboard
	history    *history
}

// Open loads the catalog of a data folder (DIR/catalog), creating it.
func Open(ctx context.Context, dataDir string, historyKeep int) (*Catalog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir := filepath.Join(dataDir, "catalog")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c := &Catalog{dir: dir, now: time.Now, queries: map[string]SavedQuery{}, dashboards: map[string]Dashboard{}}
	if err := loadJSON(filepath.Join(dir, "saved-queries.json"), &c.queries); err != nil {
		return nil, err
	}
	if err := loadJSON(filepath.Join(dir, "dashboards.json"), &c.dashboards); err != nil {
		return nil, err
	}
	h, err := openHistory(filepath.Join(dir, "history.jsonl"), historyKeep)
	if err != nil {
		return nil, err
	}
	c.history = h
	return c, nil
}

// SavedQueries lists saved queries by name.
func (c *Catalog) SavedQueries() []SavedQuery {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]SavedQuery, 0, len(c.queries))
	for _, q := range c.queries {
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// SavedQuery returns one saved query.
func (c *Catalog) SavedQuery(id string) (SavedQuery, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.queries[id]
	if !ok {
		return SavedQuery{}, fmt.Errorf("saved query %q: %w", id, ErrNotFound)
	}
	return q, nil
}

// PutSavedQuery creates (empty ID) or replaces a saved query and returns it.
func (c *Catalog) PutSavedQuery(ctx context.Context, q SavedQuery) (SavedQuery, error) {
	if err := ctx.Err(); err != nil {
		return q, err
	}
	if err := q.validate(); err != nil {
		return q, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now().UTC().Truncate(time.Millisecond)
	if q.ID == "" {
		q.ID = newID("sq")
		q.CreatedAt = now
	} else if old, ok := c.queries[q.ID]; ok {
		q.CreatedAt = old.CreatedAt
	} else {
		return q, fmt.Errorf("saved query %q: %w", q.ID, ErrNotFound)
	}
	q.UpdatedAt = now
	next := cloneMap(c.queries)
	next[q.ID] = q
	if err := saveJSON(filepath.Join(c.dir, "saved-queries.json"), next); err != nil {
		return q, err
	}
	c.queries = next
	return q, nil
}

// DeleteSavedQuery removes a saved query; one that a dashboard shows cannot be removed.
func (c *Catalog) DeleteSavedQuery(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.queries[id]; !ok {
		return fmt.Errorf("saved query %q: %w", id, ErrNotFound)
	}
	for _, d := range c.dashboards {
		for _, p := range d.Panels {
			if p.SavedQueryID == id {
				return fmt.Errorf("%w: dashboard %q shows saved query %q: remove the panel first", ErrInvalid, d.Name, id)
			}
		}
	}
	next := cloneMap(c.queries)
	delete(next, id)
	if err := saveJSON(filepath.Join(c.dir, "saved-queries.json"), next); err != nil {
		return err
	}
	c.queries = next
	return nil
}

// Dashboards lists dashboards by name.
func (c *Catalog) Dashboards() []Dashboard {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Dashboard, 0, len(c.dashboards))
	for _, d := range c.dashboards {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Dashboard returns one dashboard.
func (c *Catalog) Dashboard(id string) (Dashboard, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.dashboards[id]
	if !ok {
		return Dashboard{}, fmt.Errorf("dashboard %q: %w", id, ErrNotFound)
	}
	return d, nil
}

// PutDashboard creates (empty ID) or replaces a dashboard and returns it.
func (c *Catalog) PutDashboard(ctx context.Context, d Dashboard) (Dashboard, error) {
	if err := ctx.Err(); err != nil {
		return d, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := d.validate(func(id string) bool { _, ok := c.queries[id]; return ok }); err != nil {
		return d, err
	}
	now := c.now().UTC().Truncate(time.Millisecond)
	if d.ID == "" {
		d.ID = newID("db")
		d.CreatedAt = now
	} else if old, ok := c.dashboards[d.ID]; ok {
		d.CreatedAt = old.CreatedAt
	} else {
		return d, fmt.Errorf("dashboard %q: %w", d.ID, ErrNotFound)
	}
	d.UpdatedAt = now
	next := cloneMap(c.dashboards)
	next[d.ID] = d
	if err := saveJSON(filepath.Join(c.dir, "dashboards.json"), next); err != nil {
		return d, err
	}
	c.dashboards = next
	return d, nil
}

// DeleteDashboard removes a dashboard.
func (c *Catalog) DeleteDashboard(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.dashboards[id]; !ok {
		return fmt.Errorf("dashboard %q: %w", id, ErrNotFound)
	}
	next := cloneMap(c.dashboards)
	delete(next, id)
	if err := saveJSON(filepath.Join(c.dir, "dashboards.json"), next); err != nil {
		return err
	}
	c.dashboards = next
	return nil
}

// AddHistory records a finished query.
func (c *Catalog) AddHistory(ctx context.Context, e HistoryEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.history.add(e)
}

// History returns at most n entries, newest first.
func (c *Catalog) History(n int) []HistoryEntry { return c.history.list(n) }

func cloneMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func loadJSON(path string, into any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("catalog file %s is damaged: %w", path, err)
	}
	return nil
}

func saveJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("catalog: save %s: %w", filepath.Base(path), err)
	}
	return nil
}
