package query

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/flowlens/flowlens/internal/insights/plan"
)

// MaxLookupBytes caps a lookup table file (the Logs Insights limit).
const MaxLookupBytes = 10 << 20

var lookupNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// loadLookups reads the named lookup tables, NAME.csv in dir: a header
// row, then rows. Tables that do not exist are left out (the checker
// reports them with their position).
func loadLookups(dir string, names []string) (map[string]*plan.Table, error) {
	out := map[string]*plan.Table{}
	for _, name := range names {
		if _, done := out[name]; done || !lookupNameRE.MatchString(name) || dir == "" {
			continue
		}
		path := filepath.Join(dir, name+".csv")
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open lookup table %s: %w", name, err)
		}
		t, err := readTable(io.LimitReader(f, MaxLookupBytes+1), path)
		f.Close()
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

func readTable(r io.Reader, path string) (*plan.Table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read lookup table %s: header row: %w", path, err)
	}
	t := &plan.Table{Columns: header}
	size := 0
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read lookup table %s: %w", path, err)
		}
		for _, c := range row {
			size += len(c) + 1
		}
		if size > MaxLookupBytes {
			return nil, fmt.Errorf("lookup table %s is larger than %d MB", path, MaxLookupBytes>>20)
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}
