package duckdb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/flowlens/flowlens/internal/store"
)

// Session is one connection of the store's pool held for a sequence of
// statements: settings made with SET (not SET GLOBAL) apply to it alone,
// so that one client of a shared store cannot change another's.
type Session struct {
	conn *sql.Conn
}

// Session takes a connection from the pool until Close.
func (s *Store) Session(ctx context.Context) (*Session, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	return &Session{conn: conn}, nil
}

// Query runs SQL on the session's connection.
func (c *Session) Query(ctx context.Context, query string, args ...any) (*store.Result, error) {
	rows, err := c.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return materialise(ctx, rows)
}

// Close resets the session's settings and returns its connection to the pool.
func (c *Session) Close() error {
	_, _ = c.conn.ExecContext(context.Background(), "RESET integer_division")
	return c.conn.Close()
}

var _ store.Querier = (*Session)(nil)
