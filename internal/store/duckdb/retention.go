package duckdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/store"
)

// DropBefore removes every record of dataset ("" for all) whose hour starts
// before the hour cutoff falls in (whole hours only, so that the records and
// the 5-minute rollup stay in step), in one transaction, then checkpoints so
// that the freed blocks are reused by later ingests. Registry entries stay,
// so that re-ingesting an expired file is still recognised as done.
func (s *Store) DropBefore(ctx context.Context, dataset string, cutoff time.Time) (int64, error) {
	if s.cfg.ReadOnly {
		return 0, fmt.Errorf("retention: the store is open read-only")
	}
	q := ` WHERE _hour < ?`
	args := []any{hourOf(cutoff.Unix())}
	if dataset != "" {
		id, ok := s.datasetID(dataset)
		if !ok {
			return 0, fmt.Errorf("dataset %s: %w", dataset, store.ErrNotFound)
		}
		q += ` AND _dataset_id = ?`
		args = append(args, id)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	s.mu.Lock()
	tables := append([]table(nil), s.tables...)
	s.mu.Unlock()
	var n int64
	for _, t := range tables {
		res, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(t.name)+q, args...)
		if err != nil {
			return 0, fmt.Errorf("retention: %w", err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	// The rollup's bins divide hours, so the same cutoff removes them.
	rq := strings.Replace(q, "_hour", "coalesce(_bin, 0)", 1)
	if _, err := tx.ExecContext(ctx, "DELETE FROM rollup_5m"+rq, args...); err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM rollup_rejects"+strings.Replace(q, "_hour", "coalesce(_hour, 0)", 1), args...); err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	// The run counts of the hours left empty go too (a dataset's rows
	// leave holes in an hour's runs, which stay sorted).
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM hour_runs WHERE table_name = ? AND _hour < ?
			AND _hour NOT IN (SELECT DISTINCT _hour FROM `+quoteIdent(t.name)+` WHERE _hour < ?)`, t.name, args[0], args[0]); err != nil {
			return 0, fmt.Errorf("retention: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	if n > 0 {
		if _, err := s.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
			return n, fmt.Errorf("retention: checkpoint: %w", err)
		}
	}
	return n, nil
}

func (s *Store) datasetID(name string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.datasets {
		if n == name {
			return id, true
		}
	}
	return 0, false
}
