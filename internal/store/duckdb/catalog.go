package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// Datasets lists every dataset with its records, estimated bytes on disk,
// time range, formats, files and last ingest.
//
// The answer is computed once per change of the store (a commit, a
// retention, a statement through Query that is not a plain read) and kept:
// a server asks for it with every query, and counting the records scans
// every sealed file.
func (s *Store) Datasets(ctx context.Context) ([]store.Dataset, error) {
	gen := s.catGen.Load()
	s.catMu.Lock()
	if s.catValid && s.catCacheGen == gen {
		out := copyDatasets(s.catCache)
		s.catMu.Unlock()
		return out, nil
	}
	s.catMu.Unlock()
	out, err := s.computeDatasets(ctx)
	if err != nil {
		return nil, err
	}
	s.catMu.Lock()
	s.catCache, s.catCacheGen, s.catValid = copyDatasets(out), gen, true
	s.catMu.Unlock()
	return out, nil
}

// changed marks the store's contents changed (Datasets computes anew).
func (s *Store) changed() { s.catGen.Add(1) }

func copyDatasets(ds []store.Dataset) []store.Dataset {
	out := make([]store.Dataset, len(ds))
	for i, d := range ds {
		out[i] = d
		out[i].Formats = make(map[int]string, len(d.Formats))
		for k, v := range d.Formats {
			out[i].Formats[k] = v
		}
	}
	return out
}

// computeDatasets computes Datasets.
func (s *Store) computeDatasets(ctx context.Context) ([]store.Dataset, error) {
	byID := map[int]*store.Dataset{}
	declared := "NULL"
	if s.hasDeclared {
		declared = "declared_format"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, retention_seconds, `+declared+` FROM datasets`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	for rows.Next() {
		var id int
		var ret int64
		var df sql.NullString
		d := &store.Dataset{Formats: map[int]string{}}
		if err := rows.Scan(&id, &d.Name, &ret, &df); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list datasets: %w", err)
		}
		d.Retention = time.Duration(ret) * time.Second
		d.DeclaredFormat = df.String
		byID[id] = d
	}
	rows.Close()

	var total int64
	rows, err = s.db.QueryContext(ctx, `SELECT _dataset_id, count(*), min(start), max(start) FROM flows GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	for rows.Next() {
		var id int
		var n int64
		var lo, hi sql.NullInt64
		if err := rows.Scan(&id, &n, &lo, &hi); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list datasets: %w", err)
		}
		if d := byID[id]; d != nil {
			d.Records = n
			if lo.Valid {
				d.MinTime, d.MaxTime = time.Unix(lo.Int64, 0).UTC(), time.Unix(hi.Int64, 0).UTC()
			}
		}
		total += n
	}
	rows.Close()

	rows, err = s.db.QueryContext(ctx, `SELECT dataset_id, count(*), max(ingested_ms) FROM ingest_registry GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	for rows.Next() {
		var id int
		var n, last int64
		if err := rows.Scan(&id, &n, &last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list datasets: %w", err)
		}
		if d := byID[id]; d != nil {
			d.Files, d.LastIngest = n, time.UnixMilli(last).UTC()
		}
	}
	rows.Close()

	rows, err = s.db.QueryContext(ctx, `SELECT df.dataset_id, f.id, f.format FROM dataset_formats df JOIN formats f ON f.id = df.format_id`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	for rows.Next() {
		var id, fid int
		var f string
		if err := rows.Scan(&id, &fid, &f); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list datasets: %w", err)
		}
		if d := byID[id]; d != nil {
			d.Formats[fid] = f
		}
	}
	rows.Close()

	size, _ := s.RecordBytes(ctx)
	if fb := s.FileBytes(); size == 0 || fb < size {
		size = fb
	}
	out := make([]store.Dataset, 0, len(byID))
	for _, d := range byID {
		if total > 0 {
			d.Bytes = int64(float64(size) * float64(d.Records) / float64(total))
		}
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RecordBytes returns the bytes the database uses on disk (used blocks;
// the file may be larger while freed blocks wait for reuse) and the sealed
// files.
func (s *Store) RecordBytes(ctx context.Context) (int64, error) {
	var blockSize, used int64
	err := s.db.QueryRowContext(ctx, `SELECT block_size, used_blocks FROM pragma_database_size() WHERE database_name = 'fl'`).Scan(&blockSize, &used)
	if err != nil {
		return 0, fmt.Errorf("database size: %w", err)
	}
	return blockSize*used + s.sealedNow().bytes(), nil
}

// FileBytes returns the size of the database file, its write-ahead log and
// the sealed files.
func (s *Store) FileBytes() int64 {
	var n int64
	for _, p := range []string{s.path, s.path + ".wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n + s.sealedNow().bytes()
}

// SetRetention records the retention of a dataset ("" for all datasets).
func (s *Store) SetRetention(ctx context.Context, dataset string, keep time.Duration) error {
	q := `UPDATE datasets SET retention_seconds = ?`
	args := []any{int64(keep / time.Second)}
	if dataset != "" {
		q += ` WHERE name = ?`
		args = append(args, dataset)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.db.ExecContext(ctx, q, args...)
	s.changed()
	if err != nil {
		return fmt.Errorf("set retention: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 && dataset != "" {
		return fmt.Errorf("dataset %s: %w", dataset, store.ErrNotFound)
	}
	return nil
}

// LimitMemory sets DuckDB's memory limit (a DuckDB size: "400MB") until
// restore is called, which sets Config.MemoryLimit again. Meant for a
// caller that has the store to itself (Seal at the end of an ingest): the
// limit is the whole database's, queries included.
func (s *Store) LimitMemory(ctx context.Context, limit string) (restore func() error, err error) {
	if _, err := s.db.ExecContext(ctx, "SET GLOBAL memory_limit = "+quoteString(limit)); err != nil {
		return nil, fmt.Errorf("set the memory limit: %w", err)
	}
	s.memLimit.Store(&limit)
	return func() error {
		s.memLimit.Store(nil)
		if _, err := s.db.ExecContext(context.Background(), "SET GLOBAL memory_limit = "+quoteString(s.cfg.MemoryLimit)); err != nil {
			return fmt.Errorf("reset the memory limit: %w", err)
		}
		return nil
	}, nil
}

// Checkpoint writes the WAL into the database file.
func (s *Store) Checkpoint(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.db.ExecContext(ctx, "CHECKPOINT")
	return err
}

// DeclareFormat records the column order of header-less text for a
// dataset (creating the dataset when it does not exist): ingests into it
// read such text with f unless told otherwise.
func (s *Store) DeclareFormat(ctx context.Context, dataset string, f *flowlog.Format) error {
	if s.cfg.ReadOnly {
		return errors.New("declare a format: the store is open read-only")
	}
	if err := ValidDatasetName(dataset); err != nil {
		return err
	}
	w, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	id, err := w.datasetID(ctx, dataset)
	if err == nil {
		err = w.exec(ctx, `UPDATE datasets SET declared_format = ? WHERE id = ?`, f.String(), id)
	}
	if err == nil && len(w.newDatasets) > 0 {
		err = w.refreshViews(ctx)
	}
	if err != nil {
		w.rollback()
		return fmt.Errorf("declare the format of dataset %s: %w", dataset, err)
	}
	return w.commit(ctx)
}

// DeclaredFormat returns the format declared for a dataset's header-less
// text, nil when none was.
func (s *Store) DeclaredFormat(ctx context.Context, dataset string) (*flowlog.Format, error) {
	if !s.hasDeclared {
		return nil, nil
	}
	var text sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT declared_format FROM datasets WHERE name = ?`, dataset).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !text.Valid) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the declared format of dataset %s: %w", dataset, err)
	}
	f, err := flowlog.ParseFormat(text.String)
	if err != nil {
		return nil, fmt.Errorf("the declared format of dataset %s: %w", dataset, err)
	}
	return f, nil
}
