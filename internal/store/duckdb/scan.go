package duckdb

import (
	"context"
	"database/sql/driver"

	"github.com/flowlens/flowlens/internal/store"
)

// scanOptimizers are the DuckDB optimizers queryScan leaves out. A
// lookup of one address in a day file (docs/BENCHMARKS.md, issue #18
// step 17) spends several milliseconds in them, per column and row group
// of the file, though it joins nothing and aggregates nothing; the scan's
// own filter pushdown and zone maps still prune the row groups.
const scanOptimizers = "join_order,statistics_propagation"

// queryScan is Query for a read whose context is marked by
// store.WithScan (SQL that is one filtered scan: no join, aggregate or
// subquery): planned without scanOptimizers on a connection of its own,
// which it resets. Optimizers do not change answers, only plans.
func (s *Store) queryScan(ctx context.Context, query string, args ...any) (*store.Result, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET disabled_optimizers = '"+scanOptimizers+"'"); err != nil {
		return nil, err
	}
	res, qerr := func() (*store.Result, error) {
		rows, err := conn.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		return materialise(ctx, rows)
	}()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "RESET disabled_optimizers"); err != nil {
		// never hand the setting on to another query: drop the connection
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return res, qerr
}
