package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowlens/flowlens/internal/flowlog"
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
//	4  columns of their own only for the 14 fields of the default format;
//	   the other fields packed in two array columns (`_xk` field ids,
//	   `_xv` values as text); ports and protocol as Nullable(UInt16) and
//	   Nullable(UInt8); end as `_end_delta` = end - start (Int32; end
//	   itself packed when it does not fit). The views keep their columns
//	   and types.
//	5  no `_ingest_time` column: a file id holds the epoch milliseconds of
//	   its ingest (fileIDTimeShift), from which the views compute
//	   `_ingest_time`. A table of version 4 or older keeps its stored
//	   column for the rows it has (the views read it where it is not 0).
//	6  the columns of the 14 default-format fields not Nullable (0 or ''
//	   where a record lacks the field) and `_nulls`, a bit per field the
//	   record lacks, from which the views return NULL; the sort key's
//	   start without ifNull. The views keep their columns and types.
//
// migrate brings any older database to the current layout: a records
// table of versions 1–5 (Nullable columns) is copied into one of the
// current layout, which then takes its name (see migrateLayout); columns
// whose LowCardinality differs from what the server should use are
// converted, and the views are recreated (their column lists follow the
// table).
const schemaVersion = "6"

// migrate creates the tables and views (idempotent) and migrates older
// layouts.
func (s *Store) migrate(ctx context.Context) error {
	copied := false
	for _, c := range s.shardConns() {
		ok, err := s.migrateLayout(ctx, c)
		if err != nil {
			return fmt.Errorf("migrate the records to schema version %s: %w", schemaVersion, err)
		}
		copied = copied || ok
		for _, stmt := range []string{recordsDDL(s.ft), registryDDL} {
			if err := c.Exec(s.ddl(ctx), stmt); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
	}
	// Tables of version 4 and older keep their stored `_ingest_time`.
	legacy := map[driver.Conn]bool{}
	for _, c := range s.shardConns() {
		have, err := s.tableColumns(ctx, c, "records")
		if err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		legacy[c] = have[legacyIngestTime.name] != ""
	}
	s.legacyIngestTime = legacy[s.conn]
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
	if changed || copied || (old != "" && old != schemaVersion) {
		s.logger.Info("migrating the schema", "from", old, "to", schemaVersion)
		if err := s.dropViews(ctx); err != nil {
			return fmt.Errorf("migrate the schema from version %s: %w", old, err)
		}
	}
	if s.cluster != "" {
		for _, c := range s.shardConns() {
			if err := c.Exec(s.ddl(ctx), "CREATE VIEW IF NOT EXISTS flows_local AS "+flowsSelect(legacy[c])); err != nil {
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

// tableColumns returns the columns of a table of the store's database on
// one server, name to type (empty when there is no such table).
func (s *Store) tableColumns(ctx context.Context, c driver.Conn, table string) (map[string]string, error) {
	have := map[string]string{}
	rows, err := c.Query(ctx, `SELECT name, type FROM system.columns WHERE database = ? AND table = ?`, s.db, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		have[n] = t
	}
	return have, rows.Err()
}

// migrateLayout copies the rows of a records table of an older layout
// (schema versions 1–5: Nullable columns and no `_nulls`; in versions
// 1–3 a column per catalog field, the IPv4 text stored in versions 1 and
// 2) into a new table of the current layout on one
// server, which then takes the name `records` (RENAME, one statement);
// the old table is dropped. It reports whether it copied. The copy is one
// INSERT … SELECT on the server: a database that is ingested into while
// it is migrated loses what arrives during the copy, so migrate before
// ingesting (Open of the first new release does it). An interrupted copy
// leaves the old table in place and is done again at the next Open.
func (s *Store) migrateLayout(ctx context.Context, c driver.Conn) (bool, error) {
	have, err := s.tableColumns(ctx, c, "records")
	if err != nil || len(have) == 0 || have[nullsColumn] != "" {
		return false, err
	}
	s.logger.Info("copying the records into the layout of schema version " + schemaVersion)
	// the old rows keep their stored ingest time (their file ids hold none)
	legacy := have[legacyIngestTime.name] != ""
	cols := tableColumnsOf(s.ft, legacy)
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = quoteIdent(col.name)
	}
	for _, st := range []string{
		"DROP TABLE IF EXISTS records_new",
		"DROP TABLE IF EXISTS records_old",
		recordsTableDDL(s.ft, "records_new", legacy),
		"INSERT INTO records_new (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(oldLayoutSelect(have, cols), ", ") + " FROM records",
		"RENAME TABLE records TO records_old, records_new TO records",
		"DROP TABLE records_old",
	} {
		if err := c.Exec(s.ddl(ctx), st); err != nil {
			return false, fmt.Errorf("%.120s: %w", st, err)
		}
	}
	return true, nil
}

// oldLayoutSelect returns the expressions that compute the columns cols
// of the current layout from a records table of an older one whose
// columns (name to type) are have: a field the old table lacks, or a NULL,
// is 0 or the empty string with its bit set in `_nulls`.
func oldLayoutSelect(have map[string]string, cols []column) []string {
	out := nullableLayoutSelect(have, cols)
	var lacks []string // the terms of `_nulls`
	for i, c := range cols {
		switch c.kind {
		case ckInt32, ckInt64, ckUInt16, ckUInt8, ckEndDelta, ckText:
		default:
			continue
		}
		isNull := "isNull(" + out[i] + ")"
		if c.kind == ckText && hasV4Column(c.field) {
			// an IPv4 address has no text
			isNull += " AND isNull(" + out[i+1] + ")"
		}
		lacks = append(lacks, fmt.Sprintf("if(%s, %d, 0)", isNull, nullBit(c.field)))
		zero := "0"
		if c.kind == ckText {
			zero = "''"
		}
		out[i] = "ifNull(" + out[i] + ", " + zero + ")"
	}
	for i, c := range cols {
		if c.kind == ckNulls {
			out[i] = "toUInt16(" + strings.Join(lacks, " + ") + ")"
		}
	}
	return out
}

// nullableLayoutSelect returns the expressions of oldLayoutSelect as
// versions 1–5 had them: NULL where a record lacks a field (and nothing
// for `_nulls`).
func nullableLayoutSelect(have map[string]string, cols []column) []string {
	old := func(name string) string {
		typ, ok := have[name]
		switch {
		case !ok:
			return "NULL"
		case isLowCardinality(typ):
			return "CAST(" + quoteIdent(name) + " AS Nullable(String))"
		}
		return quoteIdent(name)
	}
	_, hasStart := have["start"]
	_, hasEnd := have["end"]
	_, packed := have[packKeysColumn] // versions 4 and 5
	// end - start fits in an Int32 (0 when either is NULL)
	fits := "ifNull(`end` - `start` BETWEEN -2147483648 AND 2147483647, 0)"
	var keys, vals []string
	if hasEnd {
		if hasStart {
			keys = append(keys, fmt.Sprintf("if(isNotNull(`end`) AND NOT %s, %d, 255)", fits, flowlog.End))
		} else {
			keys = append(keys, fmt.Sprintf("if(isNull(`end`), 255, %d)", flowlog.End))
		}
		vals = append(vals, "ifNull(toString(`end`), '')")
	}
	for i := range flowlog.Fields() {
		f := &flowlog.Fields()[i]
		if ownColumn(f.ID) {
			continue
		}
		if _, ok := have[f.Column]; !ok {
			continue
		}
		keys = append(keys, fmt.Sprintf("if(isNull(%s), 255, %d)", quoteIdent(f.Column), f.ID))
		vals = append(vals, "ifNull(toString("+old(f.Column)+"), '')")
	}
	out := make([]string, len(cols))
	for i, c := range cols {
		switch c.kind {
		case ckDataset, ckHour, ckFile, ckFormat, ckIngestTime, ckIPv4, ckInt32, ckInt64:
			out[i] = old(c.name)
		case ckUInt16, ckUInt8:
			out[i] = "CAST(" + old(c.name) + " AS Nullable(" + c.typ + "))"
		case ckText:
			out[i] = old(c.name)
			if v4 := "_" + c.name + "_v4"; hasV4Column(c.field) && have[v4] != "" {
				out[i] = "if(isNull(" + quoteIdent(v4) + "), " + old(c.name) + ", NULL)"
			}
		case ckEndDelta:
			out[i] = "NULL"
			if packed {
				out[i] = old(c.name)
			} else if hasStart && hasEnd {
				out[i] = "if(" + fits + ", toInt32(`end` - `start`), NULL)"
			}
		case ckPackKeys:
			out[i] = "emptyArrayUInt8()"
			if packed {
				out[i] = quoteIdent(c.name)
			} else if len(keys) > 0 {
				out[i] = "arrayFilter(k -> k != 255, [" + strings.Join(keys, ", ") + "])"
			}
		case ckPackVals:
			out[i] = "emptyArrayString()"
			if packed {
				out[i] = quoteIdent(c.name)
			} else if len(keys) > 0 {
				out[i] = "arrayFilter((v, k) -> k != 255, [" + strings.Join(vals, ", ") + "], [" + strings.Join(keys, ", ") + "])"
			}
		}
	}
	return out
}
