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
	s.collect(false)
	w, err := s.beginWrite(ctx)
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	n, err := w.dropBefore(ctx, q, args, dataset)
	if err != nil {
		w.rollback()
		return 0, fmt.Errorf("retention: %w", err)
	}
	if err := w.commit(ctx); err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	if n > 0 {
		s.checkpointAfter(ctx, "retention")
	}
	return n, nil
}

// checkpointAfter checkpoints after a committed change (so that the freed
// blocks are reused), retrying while another connection's transaction
// holds it off; a checkpoint that still cannot run is left to DuckDB's
// own (the change is committed either way).
func (s *Store) checkpointAfter(ctx context.Context, what string) {
	var err error
	for i := range 5 {
		if err = s.Checkpoint(ctx); err == nil {
			return
		}
		time.Sleep(time.Duration(50<<i) * time.Millisecond)
	}
	s.logger.Warn(what+": checkpoint", "err", err)
}

// dropBefore is DropBefore's transaction: q is the WHERE clause on the
// record tables, args its arguments (the first the cutoff hour).
func (w *writeTx) dropBefore(ctx context.Context, q string, args []any, dataset string) (int64, error) {
	cutoff := args[0].(int64)
	var n int64
	// Sealed hours before the cutoff: a file of the dataset's rows only
	// (or of every dataset) goes whole; one shared with other datasets is
	// moved back into its table, where the DELETE below cuts it.
	for _, t := range w.tables() {
		var drop, back []int64
		for _, h := range w.sealedView().hours(t.name) {
			if h >= cutoff {
				continue
			}
			f := w.sealedView()[t.name][h]
			if dataset == "" {
				drop = append(drop, h)
				n += f.records
				continue
			}
			var mine, all int64
			if err := w.conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE _dataset_id = ?), count(*) FROM read_parquet(`+
				quoteString(w.s.sealedPath(f.name))+`)`, args[1]).Scan(&mine, &all); err != nil {
				return 0, fmt.Errorf("read %s: %w", f.name, err)
			}
			switch {
			case mine == all:
				drop = append(drop, h)
				n += f.records
			case mine > 0:
				back = append(back, h)
			}
		}
		if len(back) > 0 {
			retired, err := w.unsealHours(ctx, t, back, w.sealedNext())
			if err != nil {
				return 0, err
			}
			w.retired = append(w.retired, retired...)
		}
		if len(drop) > 0 {
			next := w.sealedNext()
			for _, h := range drop {
				w.retired = append(w.retired, w.s.sealedPath(next[t.name][h].name))
				delete(next[t.name], h)
			}
			if err := w.exec(ctx, `DELETE FROM sealed_hours WHERE table_name = ? AND _hour IN `+hourList(drop), t.name); err != nil {
				return 0, err
			}
		}
	}
	for _, t := range w.tables() {
		res, err := w.conn.ExecContext(ctx, "DELETE FROM "+quoteIdent(t.name)+q, args...)
		if err != nil {
			return 0, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	// The rollup's bins divide hours, so the same cutoff removes them.
	rq := strings.Replace(q, "_hour", "coalesce(_bin, 0)", 1)
	if err := w.exec(ctx, "DELETE FROM rollup_5m"+rq, args...); err != nil {
		return 0, err
	}
	if err := w.exec(ctx, "DELETE FROM rollup_rejects"+strings.Replace(q, "_hour", "coalesce(_hour, 0)", 1), args...); err != nil {
		return 0, err
	}
	// The run counts of the hours left empty go too (a dataset's rows
	// leave holes in an hour's runs, which stay sorted).
	for _, t := range w.tables() {
		if err := w.exec(ctx, `DELETE FROM hour_runs WHERE table_name = ? AND _hour < ?
			AND _hour NOT IN (SELECT DISTINCT _hour FROM `+quoteIdent(t.name)+` WHERE _hour < ?)`, t.name, cutoff, cutoff); err != nil {
			return 0, err
		}
	}
	if w.sealed != nil {
		if err := w.refreshViews(ctx); err != nil {
			return 0, err
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
