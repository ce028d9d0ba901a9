package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// schemaVersion is the layout version of the ClickHouse schema, recorded
// as schema_version in flowlens_meta:
//
//	1  the first layout: text enums and identifiers LowCardinality on
//	   every release
//	2  no LowCardinality before 19.1 (18.16's experimental LowCardinality
//	   counts NULL in uniqExact and refuses sum() over a comparison);
//	   every field of the catalog has its column
//	3  IPv4 addresses as UInt32 only: `srcaddr` and `dstaddr` of records
//	   hold the text of the other addresses (NULL for IPv4), the views
//	   compute the IPv4 text; the cluster's sharding key hashes that text
//	   (the same shards as before)
//
// migrate brings any older database to the current layout, in place: it
// adds the columns of fields a database lacks (NULL in the rows it holds),
// converts columns whose LowCardinality differs from what the server should
// use, recreates the views (whose column lists follow the table) and, from
// versions before 3, clears the IPv4 text of the rows it holds (a mutation
// in the background: the views compute the same text either way).
const schemaVersion = "3"

// migrate creates the tables and views (idempotent) and migrates older
// layouts.
func (s *Store) migrate(ctx context.Context) error {
	for _, c := range s.shardConns() {
		for _, stmt := range []string{recordsDDL(s.ft), registryDDL} {
			if err := c.Exec(s.ddl(ctx), stmt); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
	}
	for _, stmt := range metaDDL() {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	old, err := s.storedVersion(ctx)
	if err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	changed := false
	for _, c := range s.shardConns() {
		ch, err := s.reconcileColumns(ctx, c)
		if err != nil {
			return fmt.Errorf("migrate the schema from version %s: %w", old, err)
		}
		changed = changed || ch
	}
	if changed || (old != "" && old != schemaVersion) {
		s.logger.Info("migrating the schema", "from", old, "to", schemaVersion)
		if err := s.dropViews(ctx); err != nil {
			return fmt.Errorf("migrate the schema from version %s: %w", old, err)
		}
	}
	if old == "1" || old == "2" {
		if err := s.clearIPv4Text(ctx); err != nil {
			return fmt.Errorf("migrate the schema from version %s: %w", old, err)
		}
	}
	if s.cluster != "" {
		for _, c := range s.shardConns() {
			if err := c.Exec(s.ddl(ctx), "CREATE VIEW IF NOT EXISTS flows_local AS "+flowsSelect()); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
		for _, stmt := range s.clusterDDL() {
			if err := s.conn.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
	}
	if old != schemaVersion {
		if err := s.insertRow(ctx, "flowlens_meta", "key, value, version", "schema_version", schemaVersion, s.cfg.Now().UnixNano()); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	return s.refreshViews(ctx)
}

// storedVersion returns the schema_version of flowlens_meta ("" for a new
// database).
func (s *Store) storedVersion(ctx context.Context) (string, error) {
	var v string
	err := s.each(ctx, `SELECT argMax(value, version) FROM flowlens_meta WHERE key = 'schema_version' GROUP BY key`, nil,
		func(scan func(...any) error) error { return scan(&v) })
	return v, err
}

// reconcileColumns brings one server's records table to the columns of
// recordColumns: missing columns are added in their place, columns whose
// LowCardinality differs are converted. It reports whether it changed
// anything.
func (s *Store) reconcileColumns(ctx context.Context, c driver.Conn) (bool, error) {
	have := map[string]string{}
	rows, err := c.Query(ctx, `SELECT name, type FROM system.columns WHERE database = ? AND table = 'records'`, s.db)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			rows.Close()
			return false, err
		}
		have[n] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	var stmts []string
	prev := ""
	for _, col := range s.recordColumns() {
		typ, ok := have[col.name]
		switch {
		case !ok:
			st := "ALTER TABLE records ADD COLUMN " + quoteIdent(col.name) + " " + col.typ
			if codec := codecOf(s.ft, col); codec != "" {
				st += " " + codec
			}
			if prev != "" {
				st += " AFTER " + quoteIdent(prev)
			}
			stmts = append(stmts, st)
		case isLowCardinality(typ) != isLowCardinality(col.typ):
			stmts = append(stmts, "ALTER TABLE records MODIFY COLUMN "+quoteIdent(col.name)+" "+col.typ)
		}
		prev = col.name
	}
	for _, st := range stmts {
		if err := c.Exec(s.ddl(ctx), st); err != nil {
			return false, fmt.Errorf("%s: %w", st, err)
		}
	}
	return len(stmts) > 0, nil
}

func isLowCardinality(typ string) bool { return strings.HasPrefix(typ, "LowCardinality(") }

// dropViews drops the views (and a cluster's Distributed tables), which
// refreshViews and migrate create again with the table's columns.
func (s *Store) dropViews(ctx context.Context) error {
	var names []string
	err := s.each(ctx, `SELECT name FROM system.tables WHERE database = ? AND (engine = 'View' OR engine = 'Distributed')`, []any{s.db},
		func(scan func(...any) error) error {
			var n string
			if err := scan(&n); err != nil {
				return err
			}
			names = append(names, n)
			return nil
		})
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := s.conn.Exec(ctx, "DROP TABLE IF EXISTS "+quoteIdent(n)); err != nil {
			return err
		}
	}
	for _, r := range s.remotes {
		if err := r.conn.Exec(ctx, "DROP TABLE IF EXISTS flows_local"); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.datasets = map[string]bool{}
	s.mu.Unlock()
	return nil
}

// clearIPv4Text sets the stored text of IPv4 addresses to NULL in the rows
// written before schema version 3 (the space comes back when the mutation
// has run; it is not waited for).
func (s *Store) clearIPv4Text(ctx context.Context) error {
	for _, c := range s.shardConns() {
		for _, col := range s.recordColumns() {
			if col.kind != ckText || !hasV4Column(col.field) {
				continue
			}
			v4 := quoteIdent("_" + col.name + "_v4")
			st := "ALTER TABLE records UPDATE " + quoteIdent(col.name) + " = NULL WHERE " + v4 + " IS NOT NULL AND " + quoteIdent(col.name) + " IS NOT NULL"
			if err := c.Exec(ctx, st); err != nil {
				return fmt.Errorf("%s: %w", st, err)
			}
		}
	}
	return nil
}
