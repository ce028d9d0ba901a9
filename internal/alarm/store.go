package alarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/flowlens/flowlens/internal/atomicfile"
)

// maxHistory bounds the history kept per alarm.
const maxHistory = 200

// Store keeps the alarms of a data folder in DIR/alarms/alarms.json under a
// file lock: definitions, states, history and the notification outbox.
type Store struct {
	dir string
	now func() time.Time
}

// Open returns the store of data folder dataDir.
func Open(dataDir string) *Store {
	return &Store{dir: filepath.Join(dataDir, "alarms"), now: time.Now}
}

// document is the file's content.
type document struct {
	Alarms  []Item                   `json:"alarms"`
	History map[string][]HistoryItem `json:"history,omitempty"`
	Outbox  []Notification           `json:"outbox,omitempty"`
}

// List returns the alarms whose name starts with prefix, by name.
func (s *Store) List(ctx context.Context, prefix string) ([]Item, error) {
	var out []Item
	err := s.view(ctx, func(d *document) {
		for _, a := range d.Alarms {
			if strings.HasPrefix(a.Name, prefix) {
				out = append(out, a)
			}
		}
	})
	return out, err
}

// Get returns one alarm.
func (s *Store) Get(ctx context.Context, name string) (Item, error) {
	var it Item
	found := false
	err := s.view(ctx, func(d *document) {
		for _, a := range d.Alarms {
			if a.Name == name {
				it, found = a, true
			}
		}
	})
	if err == nil && !found {
		err = fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return it, err
}

// Put creates or replaces an alarm (AWS's PutMetricAlarm). A new alarm
// starts in INSUFFICIENT_DATA; a replaced one keeps its state.
func (s *Store) Put(ctx context.Context, def Definition) (Item, error) {
	if err := def.Validate(); err != nil {
		return Item{}, err
	}
	var it Item
	err := s.update(ctx, func(d *document) error {
		for i, a := range d.Alarms {
			if a.Name == def.Name {
				d.Alarms[i].Definition = def
				it = d.Alarms[i]
				return nil
			}
		}
		it = Item{Definition: def, State: State{Value: InsufficientData, Reason: "Unchecked: Initial alarm creation", Updated: s.now().UTC()}}
		d.Alarms = append(d.Alarms, it)
		slices.SortFunc(d.Alarms, func(a, b Item) int { return strings.Compare(a.Name, b.Name) })
		return nil
	})
	return it, err
}

// Delete removes an alarm and its history.
func (s *Store) Delete(ctx context.Context, name string) error {
	return s.update(ctx, func(d *document) error {
		for i, a := range d.Alarms {
			if a.Name == name {
				d.Alarms = slices.Delete(d.Alarms, i, i+1)
				delete(d.History, name)
				return nil
			}
		}
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	})
}

// History returns an alarm's history, newest first ("" for every alarm).
func (s *Store) History(ctx context.Context, name string) ([]HistoryItem, error) {
	var out []HistoryItem
	err := s.view(ctx, func(d *document) {
		for n, h := range d.History {
			if name == "" || n == name {
				out = append(out, h...)
			}
		}
	})
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b HistoryItem) int { return b.Timestamp.Compare(a.Timestamp) })
	return out, err
}

func (d *document) addHistory(h HistoryItem) {
	if d.History == nil {
		d.History = map[string][]HistoryItem{}
	}
	l := append(d.History[h.Alarm], h)
	if len(l) > maxHistory {
		l = l[len(l)-maxHistory:]
	}
	d.History[h.Alarm] = l
}

func (s *Store) view(ctx context.Context, f func(*document)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	d, err := s.read()
	if err != nil {
		return err
	}
	f(&d)
	return nil
}

func (s *Store) update(ctx context.Context, f func(*document) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	d, err := s.read()
	if err != nil {
		return err
	}
	if err := f(&d); err != nil {
		return err
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.dir, "alarms.json"), append(b, '\n'), 0o600)
}

func (s *Store) read() (document, error) {
	var d document
	path := filepath.Join(s.dir, "alarms.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("alarms: %w", err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("alarms %s: %w", path, err)
	}
	return d, nil
}

func (s *Store) lock(exclusive bool) (func(), error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("alarm folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, "alarms.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("alarm lock: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("alarm lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
