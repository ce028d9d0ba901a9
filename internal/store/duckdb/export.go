package duckdb

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// ExportStats says what Export wrote for one dataset.
type ExportStats struct {
	Dataset string
	Dir     string
	Records int64
	Files   int
	Bytes   int64
}

// Export writes an Athena-ready Parquet lake of the named datasets (all when
// none is named) into dir: <dataset>/year=YYYY/month=MM/day=DD/hour=HH/*.parquet
// with AWS's Parquet column names and types (INT32 for the 32-bit fields,
// INT64 for packets, bytes, start and end, STRING for text). A dataset's
// folder is replaced as a whole.
func (s *Store) Export(ctx context.Context, dir string, datasets ...string) ([]ExportStats, error) {
	all, err := s.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, d := range datasets {
		want[d] = true
	}
	var out []ExportStats
	for _, d := range all {
		if len(want) > 0 && !want[d.Name] {
			continue
		}
		delete(want, d.Name)
		st, err := s.exportDataset(ctx, dir, d)
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
	for name := range want {
		return out, fmt.Errorf("export dataset %s: %w", name, store.ErrNotFound)
	}
	return out, nil
}

// ExportColumns returns the columns the lake has for a dataset with the
// given formats: every VPC field, plus the transit gateway fields when a
// format has them.
func ExportColumns(formats map[int]string) []*flowlog.Field {
	tgw := false
	for _, f := range formats {
		if pf, err := flowlog.ParseFormat(f); err == nil && pf.IsTGW() {
			tgw = true
		}
	}
	var cols []*flowlog.Field
	for _, f := range flowlog.Fields() {
		if f.VPC || tgw {
			cols = append(cols, flowlog.Get(f.ID))
		}
	}
	return cols
}

func (s *Store) exportDataset(ctx context.Context, dir string, d store.Dataset) (ExportStats, error) {
	st := ExportStats{Dataset: d.Name, Dir: filepath.Join(dir, d.Name), Records: d.Records}
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		return st, fmt.Errorf("export %s: %w", d.Name, err)
	}
	if d.Records == 0 {
		return st, nil
	}
	var sel []string
	for _, f := range ExportColumns(d.Formats) {
		sel = append(sel, quoteIdent(f.Column))
	}
	sel = append(sel, `"year"`, `"month"`, `"day"`, `"hour"`)
	q := fmt.Sprintf(`COPY (SELECT %s FROM flows WHERE dataset = %s) TO %s
		(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ("year", "month", "day", "hour"), OVERWRITE true,
		 ROW_GROUP_SIZE 1048576, FILENAME_PATTERN 'flows_{i}')`,
		strings.Join(sel, ", "), quoteString(d.Name), quoteString(st.Dir))
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		return st, fmt.Errorf("export %s: %w", d.Name, err)
	}
	err := filepath.WalkDir(st.Dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".parquet") {
			st.Files++
			if fi, err := e.Info(); err == nil {
				st.Bytes += fi.Size()
			}
		}
		return nil
	})
	return st, err
}
