package catalog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/atomicfile"
)

// HistoryEntry is one query that ran.
type HistoryEntry struct {
	ID          string    `json:"id"`
	Query       string    `json:"query"`
	Language    string    `json:"language"`
	Datasets    []string  `json:"datasets"`
	Since       string    `json:"since,omitempty"`
	Start       string    `json:"start,omitempty"`
	End         string    `json:"end,omitempty"`
	Status      string    `json:"status"`
	Error       string    `json:"error,omitempty"`
	SubmittedAt time.Time `json:"submittedAt"`
	ElapsedMs   int64     `json:"elapsedMs"`
	Rows        int       `json:"rows"`
	User        string    `json:"user,omitempty"`
}

// history keeps the newest entries in memory and in a JSON-lines file that
// is rewritten (atomically) when it holds twice as many as are kept.
type history struct {
	path string
	keep int

	mu      sync.Mutex
	entries []HistoryEntry // oldest first
	lines   int            // lines in the file
}

func openHistory(path string, keep int) (*history, error) {
	if keep <= 0 {
		keep = 1000
	}
	h := &history{path: path, keep: keep}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	torn := false
	for sc.Scan() {
		h.lines++
		var e HistoryEntry
		// A line torn by a crash is skipped: the others stay, and the
		// next add rewrites the file without it.
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			h.entries = append(h.entries, e)
		} else {
			torn = true
		}
	}
	if torn {
		h.lines = 2 * keep
	}
	if len(h.entries) > keep {
		h.entries = h.entries[len(h.entries)-keep:]
	}
	return h, nil
}

func (h *history) add(e HistoryEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entries = append(h.entries, e)
	if len(h.entries) > h.keep {
		h.entries = h.entries[len(h.entries)-h.keep:]
	}
	if h.lines+1 > 2*h.keep {
		var buf bytes.Buffer
		for _, x := range h.entries {
			line, _ := json.Marshal(x)
			buf.Write(line)
			buf.WriteByte('\n')
		}
		if err := atomicfile.Write(h.path, buf.Bytes(), 0o600); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		h.lines = len(h.entries)
		return nil
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	h.lines++
	return nil
}

func (h *history) list(n int) []HistoryEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n <= 0 || n > len(h.entries) {
		n = len(h.entries)
	}
	out := make([]HistoryEntry, 0, n)
	for i := len(h.entries) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, h.entries[i])
	}
	return out
}
