package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

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
	for _, c := range s.shardConns() {
		if err := s.dropBefore(ctx, c, dataset, hour); err != nil {
			return 0, err
		}
	}
	return int64(n), nil
}

// dropBefore removes the records of dataset ("" for all) of the hours
// before hour from one server's records table.
func (s *Store) dropBefore(ctx context.Context, c driver.Conn, dataset string, hour int64) error {
	var drop []int64
	shared := false
	rows, err := c.Query(ctx, `SELECT _hour, uniqExact(dataset), countIf(dataset = ?) FROM records WHERE _hour < ? GROUP BY _hour`, dataset, hour)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	for rows.Next() {
		var h int64
		var kinds, mine uint64
		if err := rows.Scan(&h, &kinds, &mine); err != nil {
			rows.Close()
			return fmt.Errorf("retention: %w", err)
		}
		switch {
		case dataset == "" || (kinds == 1 && mine > 0):
			drop = append(drop, h)
		case mine > 0:
			shared = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	for _, h := range drop {
		if err := c.Exec(ctx, fmt.Sprintf("ALTER TABLE records DROP PARTITION %d", h)); err != nil {
			return fmt.Errorf("retention: drop the hour %s: %w", time.Unix(h, 0).UTC().Format(time.RFC3339), err)
		}
	}
	if shared {
		if err := c.Exec(ctx, fmt.Sprintf("ALTER TABLE records DELETE WHERE dataset = %s AND _hour < %d", quoteString(dataset), hour)); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		if err := s.waitMutations(ctx, c); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
	}
	return nil
}

// waitMutations waits until the records table of one server has no
// unfinished mutation.
func (s *Store) waitMutations(ctx context.Context, c driver.Conn) error {
	for {
		var n uint64
		if err := c.QueryRow(ctx, `SELECT count() FROM system.mutations WHERE database = ? AND table = 'records' AND NOT is_done`, s.db).Scan(&n); err != nil {
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
