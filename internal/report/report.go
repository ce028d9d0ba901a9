// Package report holds scheduled reports: their definitions (reports.json
// in the data folder, replaced atomically), the window of data a run sees,
// the output file names and the writers of the output formats (CSV with a
// header row and RFC 4180 quoting, JSON, Parquet). Running the query is
// the caller's: the report's text carries no date clause, the window
// restricts what it sees.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/atomicfile"
)

// FileName is the report definitions file in the data folder.
const FileName = "reports.json"

// Languages of a report's query.
const (
	SQL      = "sql"
	Insights = "insights"
)

// Formats are the output formats.
var Formats = []string{"csv", "json", "parquet"}

// ErrNotFound is returned for an unknown report.
var ErrNotFound = errors.New("no such report")

// Definition is one report.
type Definition struct {
	Name    string `json:"name"`
	Dataset string `json:"dataset"`
	// Language is SQL (DuckDB SQL with the Athena rewrites, over the
	// window's flows view) or Insights (Logs Insights over the window).
	Language string `json:"language"`
	Query    string `json:"query"`
	// Source is the file the query was read from (for people).
	Source   string `json:"source,omitempty"`
	Schedule string `json:"schedule"`
	// Window is how much data a run sees, ending where the run's day (or
	// hour) starts: 1d, 7d, 6h.
	Window string `json:"window"`
	Format string `json:"format"`
	// Out is a folder or an s3://bucket/prefix URL.
	Out string `json:"out"`
	// Tables are other names the window's data has for SQL (the Athena
	// table name the text uses).
	Tables []string `json:"tables,omitempty"`
	// Webhook is POSTed a JSON note when a run has written its file.
	Webhook string    `json:"webhook,omitempty"`
	Created time.Time `json:"created"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,62}$`)

// Check validates a definition (schedule checking is the caller's).
func (d *Definition) Check() error {
	if !nameRE.MatchString(d.Name) {
		return fmt.Errorf("report name %q: use a letter then letters, digits, '_', '-' or '.' (at most 63)", d.Name)
	}
	if d.Dataset == "" {
		return errors.New("a report needs --dataset")
	}
	if d.Language != SQL && d.Language != Insights {
		return fmt.Errorf("language %q: sql or insights", d.Language)
	}
	if strings.TrimSpace(d.Query) == "" {
		return errors.New("the report's query is empty")
	}
	if _, _, err := ParseWindow(d.Window); err != nil {
		return err
	}
	if !validFormat(d.Format) {
		return fmt.Errorf("format %q: csv, json or parquet", d.Format)
	}
	if d.Out == "" {
		return errors.New("a report needs --out (a folder or s3://bucket/prefix)")
	}
	return nil
}

func validFormat(f string) bool {
	for _, x := range Formats {
		if f == x {
			return true
		}
	}
	return false
}

// ParseWindow reads 1d, 7d, 6h: whole days (calendar days of the
// schedule's time zone) or whole hours.
func ParseWindow(s string) (days int, hours int, err error) {
	bad := fmt.Errorf("window %q: whole days or hours (1d, 7d, 6h)", s)
	if len(s) < 2 {
		return 0, 0, bad
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || n > 10000 {
		return 0, 0, bad
	}
	switch s[len(s)-1] {
	case 'd':
		return n, 0, nil
	case 'h':
		return 0, n, nil
	}
	return 0, 0, bad
}

// Window returns the data range [start, end) of a run at at: the window
// that ends where at's day (or hour, for an hour window) starts in loc.
func Window(window string, at time.Time, loc *time.Location) (start, end time.Time, err error) {
	days, hours, err := ParseWindow(window)
	if err != nil {
		return start, end, err
	}
	t := at.In(loc)
	if days > 0 {
		end = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		return end.AddDate(0, 0, -days), end, nil
	}
	end = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, loc)
	return end.Add(-time.Duration(hours) * time.Hour), end, nil
}

// WindowFrom returns the window that starts at the beginning of day
// (YYYY-MM-DD, in loc; for an hour window also YYYY-MM-DDTHH, the label
// of its files), for `reports run --for`.
func WindowFrom(window, day string, loc *time.Location) (start, end time.Time, err error) {
	days, hours, err := ParseWindow(window)
	if err != nil {
		return start, end, err
	}
	if hours > 0 && len(day) == len("2006-01-02T15") {
		h, err := time.ParseInLocation("2006-01-02T15", day, loc)
		if err != nil {
			return start, end, fmt.Errorf("--for %q: a date YYYY-MM-DD or an hour YYYY-MM-DDTHH", day)
		}
		return h, h.Add(time.Duration(hours) * time.Hour), nil
	}
	d, err := time.ParseInLocation("2006-01-02", day, loc)
	if err != nil {
		return start, end, fmt.Errorf("--for %q: a date YYYY-MM-DD", day)
	}
	if days > 0 {
		return d, d.AddDate(0, 0, days), nil
	}
	return d, d.Add(time.Duration(hours) * time.Hour), nil
}

// Label names a run's output after its window's start: 2026-12-05, or
// 2026-12-05T06 for an hour window.
func Label(window string, start time.Time) string {
	if _, hours, _ := ParseWindow(window); hours > 0 {
		return start.Format("2006-01-02T15")
	}
	return start.Format("2006-01-02")
}

// OutputName is the file name of a run: NAME-LABEL.FORMAT.
func OutputName(name, label, format string) string {
	return name + "-" + label + "." + format
}

// Load reads the definitions of dir (none when the file is missing),
// sorted by name.
func Load(dir string) ([]Definition, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f struct {
		Reports []Definition `json:"reports"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, FileName), err)
	}
	sort.Slice(f.Reports, func(i, j int) bool { return f.Reports[i].Name < f.Reports[j].Name })
	return f.Reports, nil
}

// Save replaces the definitions of dir.
func Save(dir string, defs []Definition) error {
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	if defs == nil {
		defs = []Definition{}
	}
	b, err := json.MarshalIndent(map[string]any{"reports": defs}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, FileName), append(b, '\n'), 0o644)
}

// Find returns the definition named name.
func Find(defs []Definition, name string) (Definition, error) {
	for _, d := range defs {
		if d.Name == name {
			return d, nil
		}
	}
	return Definition{}, fmt.Errorf("report %q: %w (see 'flowlens reports list')", name, ErrNotFound)
}

// JobName is the scheduler's name of a report's job.
func JobName(name string) string { return "report:" + name }
