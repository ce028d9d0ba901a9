package clickhouse

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// datasetRow is a dataset's newest catalogue row.
type datasetRow struct {
	name      string
	retention int64
	created   int64
	declared  *string
}

func (s *Store) datasetRows(ctx context.Context, name string) ([]datasetRow, error) {
	q := `SELECT name, argMax(retention_seconds, version), argMax(created_ms, version), argMax(declared_format, version) FROM datasets`
	var args []any
	if name != "" {
		q += ` WHERE name = ?`
		args = append(args, name)
	}
	rows, err := s.conn.Query(ctx, q+` GROUP BY name ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []datasetRow
	for rows.Next() {
		var d datasetRow
		if err := rows.Scan(&d.name, &d.retention, &d.created, &d.declared); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Datasets lists every dataset with its records, estimated bytes on disk,
// time range, formats, files and last ingest.
func (s *Store) Datasets(ctx context.Context) ([]store.Dataset, error) {
	drs, err := s.datasetRows(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	byName := map[string]*store.Dataset{}
	for _, r := range drs {
		d := &store.Dataset{Name: r.name, Formats: map[int]string{}, Retention: time.Duration(r.retention) * time.Second}
		if r.declared != nil {
			d.DeclaredFormat = *r.declared
		}
		byName[r.name] = d
	}
	var total int64
	err = s.each(ctx, `SELECT dataset, count(), min(start), max(start) FROM flows GROUP BY dataset`, nil, func(scan func(...any) error) error {
		var name string
		var n uint64
		var lo, hi *int64
		if err := scan(&name, &n, &lo, &hi); err != nil {
			return err
		}
		if d := byName[name]; d != nil {
			d.Records = int64(n)
			if lo != nil && hi != nil {
				d.MinTime, d.MaxTime = time.Unix(*lo, 0).UTC(), time.Unix(*hi, 0).UTC()
			}
		}
		total += int64(n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	err = s.each(ctx, `SELECT dataset, count(), max(im) FROM (SELECT dataset, key, argMax(ingested_ms, committed_ns) AS im
		FROM ingest_registry GROUP BY dataset, key) GROUP BY dataset`, nil, func(scan func(...any) error) error {
		var name string
		var n uint64
		var last int64
		if err := scan(&name, &n, &last); err != nil {
			return err
		}
		if d := byName[name]; d != nil {
			d.Files, d.LastIngest = int64(n), time.UnixMilli(last).UTC()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	err = s.each(ctx, `SELECT DISTINCT dataset, format_id, format FROM formats`, nil, func(scan func(...any) error) error {
		var name, f string
		var id int32
		if err := scan(&name, &id, &f); err != nil {
			return err
		}
		if d := byName[name]; d != nil {
			d.Formats[int(id)] = f
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	size, err := s.RecordBytes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	out := make([]store.Dataset, 0, len(byName))
	for _, d := range byName {
		if total > 0 {
			d.Bytes = int64(float64(size) * float64(d.Records) / float64(total))
		}
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// each runs a query and calls f for every row.
func (s *Store) each(ctx context.Context, q string, args []any, f func(scan func(...any) error) error) error {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RecordBytes returns the bytes the records table uses on disk.
// (on every shard of a cluster).
func (s *Store) RecordBytes(ctx context.Context) (int64, error) {
	var total int64
	for _, c := range s.shardConns() {
		var n uint64
		if err := c.QueryRow(ctx, `SELECT sum(bytes_on_disk) FROM system.parts WHERE database = ? AND table = 'records' AND active`, s.db).Scan(&n); err != nil {
			return 0, err
		}
		total += int64(n)
	}
	return total, nil
}

// writeDataset writes a new catalogue row for a dataset.
func (s *Store) writeDataset(ctx context.Context, d datasetRow) error {
	return s.insertRow(ctx, "datasets", "name, retention_seconds, created_ms, declared_format, version", d.name, d.retention, d.created, d.declared, s.cfg.Now().UnixNano())
}

// SetRetention records the retention of a dataset ("" for all datasets).
func (s *Store) SetRetention(ctx context.Context, dataset string, keep time.Duration) error {
	if s.cfg.ReadOnly {
		return fmt.Errorf("set retention: %w", errReadOnly)
	}
	drs, err := s.datasetRows(ctx, dataset)
	if err != nil {
		return fmt.Errorf("set retention: %w", err)
	}
	if len(drs) == 0 && dataset != "" {
		return fmt.Errorf("dataset %s: %w", dataset, store.ErrNotFound)
	}
	for _, d := range drs {
		d.retention = int64(keep / time.Second)
		if err := s.writeDataset(ctx, d); err != nil {
			return fmt.Errorf("set retention: %w", err)
		}
	}
	return nil
}

// DeclareFormat records the column order of header-less text for a
// dataset (creating the dataset when it does not exist).
func (s *Store) DeclareFormat(ctx context.Context, dataset string, f *flowlog.Format) error {
	if s.cfg.ReadOnly {
		return fmt.Errorf("declare a format: %w", errReadOnly)
	}
	if err := ValidDatasetName(dataset); err != nil {
		return err
	}
	if err := s.ensureDataset(ctx, dataset); err != nil {
		return err
	}
	drs, err := s.datasetRows(ctx, dataset)
	if err != nil || len(drs) == 0 {
		return fmt.Errorf("declare the format of dataset %s: %v", dataset, err)
	}
	text := f.String()
	drs[0].declared = &text
	if err := s.writeDataset(ctx, drs[0]); err != nil {
		return fmt.Errorf("declare the format of dataset %s: %w", dataset, err)
	}
	return nil
}

// DeclaredFormat returns the format declared for a dataset's header-less
// text, nil when none was.
func (s *Store) DeclaredFormat(ctx context.Context, dataset string) (*flowlog.Format, error) {
	drs, err := s.datasetRows(ctx, dataset)
	if err != nil {
		return nil, fmt.Errorf("read the declared format of dataset %s: %w", dataset, err)
	}
	if len(drs) == 0 || drs[0].declared == nil {
		return nil, nil
	}
	f, err := flowlog.ParseFormat(*drs[0].declared)
	if err != nil {
		return nil, fmt.Errorf("the declared format of dataset %s: %w", dataset, err)
	}
	return f, nil
}
