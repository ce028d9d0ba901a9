package duckdb

import (
	"context"
	"fmt"
	"os"
)

// compactSuffix names the new database file while Compact writes it.
const compactSuffix = ".compact"

// DuckDB reuses the blocks a DELETE frees but never shrinks its file: once
// Seal has moved a backlog of hours into the sealed tier, the file keeps
// the size the rows had. Compact writes the live contents into a new file
// and puts it in the old one's place.

// compactIfSparse compacts the database file when more than half of its
// blocks (and at least 16 MiB) are free.
func (s *Store) compactIfSparse(ctx context.Context) (from, to int64, err error) {
	var blockSize, total, free int64
	if err := s.db.QueryRowContext(ctx, `SELECT block_size, total_blocks, free_blocks FROM pragma_database_size()
		WHERE database_name = 'fl'`).Scan(&blockSize, &total, &free); err != nil {
		return 0, 0, fmt.Errorf("database size: %w", err)
	}
	if free*2 <= total || free*blockSize < 16<<20 {
		return 0, 0, nil
	}
	return s.Compact(ctx)
}

// Compact rewrites the database file without its free blocks and returns
// its size before and after. The caller must have the store to itself (no
// query or write in flight, none started until Compact returns): the
// DuckDB instance is closed and opened again on the new file. The new file
// is complete and synced before it replaces the old one with a rename, so
// a crash leaves one or the other (the next writable open removes a
// half-written new file).
func (s *Store) Compact(ctx context.Context) (from, to int64, err error) {
	if s.cfg.ReadOnly {
		return 0, 0, fmt.Errorf("compact: the store is open read-only")
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tmp := s.path + compactSuffix
	_ = os.Remove(tmp)
	_ = os.Remove(tmp + ".wal")
	from = fileSize(s.path) + fileSize(s.path+".wal")
	storage := s.cfg.StorageVersion
	if storage == "" {
		storage = "v1.5.0"
	}
	attach := fmt.Sprintf("ATTACH %s AS fl_compact (STORAGE_VERSION %s", quoteString(tmp), quoteString(storage))
	if s.cfg.RowGroupSize > 0 {
		attach += fmt.Sprintf(", ROW_GROUP_SIZE %d", s.cfg.RowGroupSize)
	}
	attach += ")"
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	for _, q := range []string{"CHECKPOINT", attach, "COPY FROM DATABASE fl TO fl_compact", "DETACH fl_compact"} {
		if _, err = conn.ExecContext(ctx, q); err != nil {
			err = fmt.Errorf("compact: %s: %w", q, err)
			break
		}
	}
	conn.Close()
	if err != nil {
		_ = os.Remove(tmp)
		_ = os.Remove(tmp + ".wal")
		return 0, 0, err
	}
	if _, err := syncFile(tmp); err != nil {
		_ = os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	// Close the instance (it checkpoints the old file), swap, reopen.
	if err := s.db.Close(); err != nil {
		s.logger.Warn("compact: close", "err", err)
	}
	s.db = nil
	if err := os.Rename(tmp, s.path); err != nil {
		_ = os.Remove(tmp)
		if cerr := s.connect(); cerr != nil {
			return 0, 0, fmt.Errorf("compact: %v; reopen: %w", err, cerr)
		}
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	_ = os.Remove(s.path + ".wal")
	if _, err := syncFile(s.path); err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := s.connect(); err != nil {
		return 0, 0, fmt.Errorf("compact: reopen: %w", err)
	}
	conn, err = s.db.Conn(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("compact: reopen: %w", err)
	}
	defer conn.Close()
	if err := s.loadMeta(ctx, conn); err != nil {
		return 0, 0, fmt.Errorf("compact: reopen: %w", err)
	}
	to = fileSize(s.path)
	s.changed()
	s.logger.Info("compacted the database file", "from", from, "to", to)
	return from, to, nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}
