package duckdb

import (
	"context"
	"fmt"
	"strconv"
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
	// Sealed files with hours before the cutoff: a file whose every row
	// goes is dropped whole; one that keeps some rows (an hour file shared
	// with another dataset, a day file whose later hours stay) is written
	// anew without the others, in this transaction.
	for _, t := range w.tables() {
		for _, g := range w.sealedView().files(t.name) {
			if g.hours[0] >= cutoff {
				continue
			}
			cond := "_hour < " + strconv.FormatInt(cutoff, 10)
			if dataset != "" {
				cond += " AND _dataset_id = " + strconv.FormatInt(int64(args[1].(int)), 10)
			}
			gone, all := g.records, g.records
			if dataset != "" || g.hours[len(g.hours)-1] >= cutoff {
				if err := w.conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE `+cond+`), count(*) FROM read_parquet(`+
					quoteString(w.s.sealedPath(g.name))+`)`).Scan(&gone, &all); err != nil {
					return 0, fmt.Errorf("read %s: %w", g.name, err)
				}
			}
			switch {
			case gone == 0:
				continue
			case gone == all:
				next := w.sealedNext()
				w.retired = append(w.retired, w.s.sealedPath(g.name))
				for _, h := range g.hours {
					delete(next[t.name], h)
				}
				if err := w.exec(ctx, `DELETE FROM sealed_hours WHERE table_name = ? AND _hour IN `+hourList(g.hours), t.name); err != nil {
					return 0, err
				}
			default:
				if _, err := w.rewriteSealed(ctx, t, []string{g.name}, "NOT ("+cond+")", nil, w.sealedNext()); err != nil {
					return 0, err
				}
			}
			n += gone
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
