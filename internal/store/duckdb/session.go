package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/store"
)

// Session is one connection of the store's pool held for a sequence of
// statements: settings made with SET (not SET GLOBAL) apply to it alone,
// so that one client of a shared store cannot change another's.
type Session struct {
	s    *Store
	conn *sql.Conn
	// discard: the connection holds views of its own and is closed at
	// Close instead of going back to the pool.
	discard bool
}

// Session takes a connection from the pool until Close.
func (s *Store) Session(ctx context.Context) (*Session, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	return &Session{s: s, conn: conn}, nil
}

// Query runs SQL on the session's connection.
func (c *Session) Query(ctx context.Context, query string, args ...any) (*store.Result, error) {
	if !plainRead(query) && c.s != nil {
		defer c.s.changed()
	}
	rows, err := c.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return materialise(ctx, rows)
}

// Close resets the session's settings and returns its connection to the pool.
func (c *Session) Close() error {
	if c.discard {
		_ = c.conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = c.conn.Close()
		return nil
	}
	_, _ = c.conn.ExecContext(context.Background(), "RESET integer_division")
	return c.conn.Close()
}

var _ store.Querier = (*Session)(nil)

// WindowSession returns a session in which the data is that of one time
// window: `flows`, the dataset's own view, the vpc_flow_logs tables and
// every name of aliases show the records of dataset whose start is in
// [start, end); the other datasets' views show their records of the
// window; flows_5m the dataset's bins of the window, flows_rejects its
// hours (whole hours: a window that starts inside an hour includes that
// hour), flows_pairs the distinct pairs of its `flows`. The query text then
// needs no date clause. The session's connection is discarded at Close,
// so that no other client of the store sees these views.
func (s *Store) WindowSession(ctx context.Context, dataset string, start, end time.Time, aliases ...string) (*Session, error) {
	id, ok := s.datasetID(dataset)
	if !ok {
		return nil, fmt.Errorf("dataset %s: %w", dataset, store.ErrNotFound)
	}
	for _, a := range aliases {
		if err := ValidDatasetName(a); err != nil && !strings.HasPrefix(strings.ToLower(a), "vpc_flow_logs") {
			return nil, fmt.Errorf("table name %q: %v", a, err)
		}
	}
	s.mu.Lock()
	tables := append([]table(nil), s.tables...)
	datasets := make(map[int]string, len(s.datasets))
	for k, v := range s.datasets {
		datasets[k] = v
	}
	rejects := s.hasRejects
	sealed := s.sealed
	s.mu.Unlock()
	lo, hi := start.Unix(), end.Unix()
	cond := fmt.Sprintf("_hour >= %d AND _hour < %d AND start >= %d AND start < %d", hourOf(lo), hi, lo, hi)
	// Only the sealed files of the window's hours.
	files := s.parquetLists(sealed, func(h int64) bool { return h >= hourOf(lo) && h < hi })
	const create = "CREATE OR REPLACE TEMP VIEW "
	stmts := []string{
		create + "_window_all AS SELECT * FROM (" + flowsParts(tables, datasets, files, "") + ") WHERE " + cond,
		create + fmt.Sprintf("flows AS SELECT * FROM _window_all WHERE _dataset_id = %d", id),
		create + "flows_5m AS SELECT " + datasetCase(datasets) +
			fmt.Sprintf(", _bin AS bin, action, log_status, records, bytes, packets, _dataset_id, _file_id FROM rollup_5m WHERE _dataset_id = %d AND _bin >= %d AND _bin < %d", id, lo, hi),
		// The rejects rollup is hourly: the hours the window starts in
		// and ends before.
		create + "flows_rejects AS SELECT * FROM (" + rejectsView(tables, datasets, rejects) +
			fmt.Sprintf(") WHERE _dataset_id = %d AND _hour >= %d AND _hour < %d", id, hourOf(lo), hi),
		create + pairsView + " AS " + pairsFromFlows,
	}
	for _, did := range sortedKeys(datasets) {
		if did == id {
			continue
		}
		stmts = append(stmts, create+fmt.Sprintf("%s AS SELECT * FROM _window_all WHERE _dataset_id = %d", quoteIdent(datasets[did]), did))
	}
	names := append([]string{dataset}, athenaTables...)
	for _, a := range aliases {
		if !slices.Contains(names, a) {
			names = append(names, a)
		}
	}
	for _, n := range names {
		stmts = append(stmts, create+quoteIdent(n)+" AS SELECT * FROM flows")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	sess := &Session{s: s, conn: conn, discard: true}
	if _, err := conn.ExecContext(ctx, strings.Join(stmts, "; ")); err != nil {
		_ = sess.Close()
		return nil, fmt.Errorf("window views: %w", err)
	}
	return sess, nil
}
