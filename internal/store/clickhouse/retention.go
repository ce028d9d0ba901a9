package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/flowlens/flowlens/internal/store"
)

// DropBefore removes every record of dataset ("" for all) whose hour starts
// before the hour cutoff falls in. An hour partition that holds no other
// dataset is dropped (ALTER TABLE … DROP PARTITION: immediate, no rewrite);
// the dataset's rows of a shared hour are deleted by a mutation, which
// DropBefore waits for. Registry entries stay, so that re-ingesting an
// expired file is still recognised as done.
func (s *Store) DropBefore(ctx context.Context, dataset string, cutoff time.Time) (int64, error) {
	if s.cfg.ReadOnly {
		return 0, fmt.Errorf("retention: %w", errReadOnly)
	}
	if dataset != "" {
		drs, err := s.datasetRows(ctx, dataset)
		if err != nil {
			return 0, fmt.Errorf("retention: %w", err)
		}
		if len(drs) == 0 {
			return 0, fmt.Errorf("dataset %s: %w", dataset, store.ErrNotFound)
		}
	}
	hour := hourOf(cutoff.Unix())
	var n uint64
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM flows WHERE _hour < ? AND (? = '' OR dataset = ?)`, hour, dataset, dataset).Scan(&n); err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	var drop []int64
	shared := false
	err := s.each(ctx, `SELECT _hour, uniqExact(dataset), countIf(dataset = ?) FROM records WHERE _hour < ? GROUP BY _hour`,
		[]any{dataset, hour}, func(scan func(...any) error) error {
			var h int64
			var kinds, mine uint64
			if err := scan(&h, &kinds, &mine); err != nil {
				return err
			}
			switch {
			case dataset == "" || (kinds == 1 && mine > 0):
				drop = append(drop, h)
			case mine > 0:
				shared = true
			}
			return nil
		})
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	for _, h := range drop {
		if err := s.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE records DROP PARTITION %d", h)); err != nil {
			return 0, fmt.Errorf("retention: drop the hour %s: %w", time.Unix(h, 0).UTC().Format(time.RFC3339), err)
		}
	}
	if shared {
		if err := s.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE records DELETE WHERE dataset = %s AND _hour < %d", quoteString(dataset), hour)); err != nil {
			return 0, fmt.Errorf("retention: %w", err)
		}
		if err := s.waitMutations(ctx); err != nil {
			return 0, fmt.Errorf("retention: %w", err)
		}
	}
	return int64(n), nil
}

// waitMutations waits until the records table has no unfinished mutation.
func (s *Store) waitMutations(ctx context.Context) error {
	for {
		var n uint64
		if err := s.conn.QueryRow(ctx, `SELECT count() FROM system.mutations WHERE database = ? AND table = 'records' AND NOT is_done`, s.db).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
