// Package clickhouse is flowlens's ClickHouse store: the records of every
// dataset in a MergeTree table of a ClickHouse database, reached over the
// native protocol with clickhouse-go, behind the same `flows` view of
// package store's SQL contract (ClickHouse SQL), with the ingest registry
// (exactly-once per source object), the datasets catalogue and retention by
// dropping hour partitions. It is the only package that imports the
// ClickHouse driver. See docs/clickhouse.md.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowlens/flowlens/internal/insights/sqlgen"
	"github.com/flowlens/flowlens/internal/store"
)

// Config configures Open.
type Config struct {
	// DSN is a clickhouse:// URL: clickhouse://[user[:password]@]host:9000/db
	// (the native protocol). The database is created when missing (unless
	// ReadOnly); without a path it is "flowlens".
	DSN string
	// ReadOnly opens the store without writing anything (no schema
	// creation, no cleanup).
	ReadOnly bool
	// BlockRecords is how many records one FileTx buffers before it sends
	// them as one INSERT block (0 → 1 M).
	BlockRecords int
	// InsertParallel is how many INSERT blocks of one commit are sent at
	// once, each on its own connection (0 → GOMAXPROCS); a commit of fewer
	// than 64 k records per block sends one.
	InsertParallel int
	// Now returns the current time (nil → time.Now); tests inject a clock.
	Now func() time.Time
}

// Store is the ClickHouse store. Its methods are safe for concurrent use.
type Store struct {
	cfg    Config
	logger *slog.Logger
	conn   driver.Conn
	db     string
	ft     features
	// cluster is the cluster of ?cluster=NAME ("": one server); remotes
	// are its shards other than the coordinator (see cluster.go).
	cluster            string
	remotes            []remoteShard
	coordinatorIsShard bool
	// legacyIngestTime: the records table has the stored `_ingest_time`
	// of schema version 4 and older (set by migrate).
	legacyIngestTime bool
	// lastFileID is the last file id handed out (newFileID).
	lastFileID atomic.Uint64

	mu       sync.Mutex
	datasets map[string]bool // datasets known to exist (views created)
	viewMu   sync.Mutex      // one refreshViews at a time

	// observer sees every FileTx (SetIngestObserver).
	observer atomic.Pointer[store.IngestObserver]
}

var (
	_ store.Writer    = (*Store)(nil)
	_ store.Querier   = (*Store)(nil)
	_ store.Cataloger = (*Store)(nil)
	_ store.Retainer  = (*Store)(nil)
	_ store.Backend   = (*Store)(nil)
)

// Dialect returns the query compiler's ClickHouse dialect.
func (s *Store) Dialect() sqlgen.Dialect { return sqlgen.ClickHouse{} }

// IsDSN reports whether s names a ClickHouse store (a clickhouse:// URL).
func IsDSN(s string) bool { return strings.HasPrefix(strings.ToLower(s), "clickhouse://") }

// Open connects to the server, creates the database and schema when
// missing (unless cfg.ReadOnly) and removes the rows of abandoned ingests.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BlockRecords <= 0 {
		cfg.BlockRecords = 1 << 20
	}
	if cfg.InsertParallel <= 0 {
		cfg.InsertParallel = runtime.GOMAXPROCS(0)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opts, db, cluster, err := parseDSN(cfg.DSN)
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, logger: logger, db: db, cluster: cluster, datasets: map[string]bool{}}
	if !cfg.ReadOnly {
		// The database may not exist yet: create it from the default one.
		boot := *opts
		boot.Auth.Database = "default"
		c, err := ch.Open(&boot)
		if err != nil {
			return nil, s.openError(err)
		}
		err = c.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(db))
		c.Close()
		if err != nil {
			return nil, s.openError(err)
		}
	}
	opts.Auth.Database = db
	if s.conn, err = ch.Open(opts); err != nil {
		return nil, s.openError(err)
	}
	v, err := s.conn.ServerVersion()
	if err != nil {
		s.conn.Close()
		var ex *ch.Exception
		if cfg.ReadOnly && errors.As(err, &ex) && ex.Code == 81 { // UNKNOWN_DATABASE
			return nil, fmt.Errorf("open store %s: no database %s (run 'flowlens ingest' first): %w", s.Name(), db, store.ErrNotFound)
		}
		return nil, s.openError(err)
	}
	s.ft = featuresOf(v.Version.Major, v.Version.Minor)
	if cluster != "" {
		if err := s.openShards(ctx, opts); err != nil {
			s.Close()
			return nil, s.openError(err)
		}
	}
	if !cfg.ReadOnly {
		if err := s.migrate(ctx); err != nil {
			s.conn.Close()
			return nil, s.openError(err)
		}
		if err := s.cleanup(ctx); err != nil {
			logger.Warn("remove the rows of abandoned ingests", "err", err)
		}
	} else {
		var n uint64
		if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = 'flows'", db).Scan(&n); err != nil {
			s.conn.Close()
			return nil, s.openError(err)
		}
		if n == 0 {
			s.conn.Close()
			return nil, fmt.Errorf("open store %s: no flowlens database (run 'flowlens ingest' first): %w", s.Name(), store.ErrNotFound)
		}
	}
	return s, nil
}

// parseDSN reads a clickhouse:// URL into driver options, the database
// and the cluster (the query parameter cluster, "" for none).
func parseDSN(dsn string) (*ch.Options, string, string, error) {
	if !IsDSN(dsn) {
		return nil, "", "", fmt.Errorf("open store: %q is not a clickhouse:// URL", dsn)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, "", "", fmt.Errorf("open store: %w", err)
	}
	db := strings.Trim(u.Path, "/")
	if db == "" {
		db = "flowlens"
	}
	if strings.ContainsAny(db, "/`") {
		return nil, "", "", fmt.Errorf("open store %s: invalid database name %q", u.Redacted(), db)
	}
	u.Path = "/" + db
	q := u.Query()
	cluster := q.Get("cluster")
	q.Del("cluster")
	u.RawQuery = q.Encode()
	opts, err := ch.ParseDSN(u.String())
	if err != nil {
		return nil, "", "", fmt.Errorf("open store %s: %w", u.Redacted(), err)
	}
	if opts.Settings == nil {
		opts.Settings = ch.Settings{}
	}
	// Filters on the views reach the table scan (partition and primary
	// key pruning); the default from 19.x on, off in 18.16.
	opts.Settings["enable_optimize_predicate_expression"] = 1
	// Integer / integer is a float in ClickHouse as in flowlens; the
	// generated SQL never relies on join_use_nulls or other defaults.
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 10 * time.Second
	}
	return opts, db, cluster, nil
}

// Name returns the DSN without its password.
func (s *Store) Name() string {
	if u, err := url.Parse(s.cfg.DSN); err == nil {
		return u.Redacted()
	}
	return "clickhouse"
}

// Database returns the ClickHouse database of the store.
func (s *Store) Database() string { return s.db }

// ReadOnly reports whether the store was opened without write access.
func (s *Store) ReadOnly() bool { return s.cfg.ReadOnly }

func (s *Store) openError(err error) error {
	return fmt.Errorf("open store %s: %w", s.Name(), err)
}

// Close closes the connections.
func (s *Store) Close() error {
	for _, r := range s.remotes {
		_ = r.conn.Close()
	}
	s.remotes = nil
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// ddl returns the context of statements that create tables or views: on
// servers before 19.x LowCardinality columns need a setting.
func (s *Store) ddl(ctx context.Context) context.Context {
	if s.ft.lcSetting {
		return ch.Context(ctx, ch.WithSettings(ch.Settings{"allow_experimental_low_cardinality_type": 1}))
	}
	return ctx
}

// refreshViews creates the views that are missing: `flows`, one per
// dataset and the Athena table names. ClickHouse 18.16 has no CREATE OR
// REPLACE VIEW: only an Athena view whose target changes (the default
// dataset appeared) is dropped and created, so that queries of other
// clients keep their views.
func (s *Store) refreshViews(ctx context.Context) error {
	s.viewMu.Lock()
	defer s.viewMu.Unlock()
	names, err := s.datasetNames(ctx)
	if err != nil {
		return err
	}
	views := map[string]string{}
	err = s.each(ctx, `SELECT name, create_table_query FROM system.tables WHERE database = ? AND engine = 'View'`, []any{s.db},
		func(scan func(...any) error) error {
			var n, q string
			if err := scan(&n, &q); err != nil {
				return err
			}
			views[n] = q
			return nil
		})
	if err != nil {
		return fmt.Errorf("create views: %w", err)
	}
	var stmts []string
	if _, ok := views["flows"]; !ok && s.cluster == "" {
		stmts = append(stmts, "CREATE VIEW IF NOT EXISTS flows AS "+flowsSelect(s.legacyIngestTime))
	}
	hasDefault := false
	for _, n := range names {
		hasDefault = hasDefault || n == DefaultDataset
		if _, ok := views[n]; !ok {
			stmts = append(stmts, "CREATE VIEW IF NOT EXISTS "+quoteIdent(n)+" AS SELECT * FROM flows WHERE dataset = "+quoteString(n))
		}
	}
	athena := "SELECT * FROM flows"
	if hasDefault {
		athena += " WHERE dataset = " + quoteString(DefaultDataset)
	}
	for _, a := range athenaTables {
		q, ok := views[a]
		if ok && strings.Contains(q, quoteString(DefaultDataset)) != hasDefault {
			stmts = append(stmts, "DROP TABLE IF EXISTS "+a)
			ok = false
		}
		if !ok {
			stmts = append(stmts, "CREATE VIEW IF NOT EXISTS "+a+" AS "+athena)
		}
	}
	for _, st := range stmts {
		if err := s.conn.Exec(s.ddl(ctx), st); err != nil {
			return fmt.Errorf("create views: %w", err)
		}
	}
	s.mu.Lock()
	for _, n := range names {
		s.datasets[n] = true
	}
	s.mu.Unlock()
	return nil
}

func (s *Store) datasetNames(ctx context.Context) ([]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT name FROM datasets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list datasets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list datasets: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Query runs ClickHouse SQL and materialises the result. Values are
// converted to the types store.Result documents.
func (s *Store) Query(ctx context.Context, query string, args ...any) (*store.Result, error) {
	rows, err := s.conn.Query(ctx, s.clusterQuery(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts := rows.ColumnTypes()
	res := &store.Result{Columns: rows.Columns(), Types: make([]string, len(cts))}
	ptrs := make([]any, len(cts))
	for i, ct := range cts {
		res.Types[i] = ct.DatabaseTypeName()
	}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i, ct := range cts {
			ptrs[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		vals := make([]any, len(cts))
		for i, p := range ptrs {
			vals[i] = normalise(reflect.ValueOf(p).Elem().Interface())
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// normalise maps a driver value onto the types store.Result allows.
func normalise(v any) any {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return normalise(rv.Elem().Interface())
	}
	switch x := v.(type) {
	case int64, float64, string, bool, []byte:
		return x
	case time.Time:
		return x.UTC()
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		f, _ := new(big.Float).SetInt(&x).Float64()
		return f
	case fmt.Stringer:
		return x.String()
	}
	if rv.Kind() == reflect.Slice {
		// arrays print as DuckDB's lists do through fmt
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = normalise(rv.Index(i).Interface())
		}
		return fmt.Sprint(out)
	}
	return fmt.Sprint(v)
}

// errReadOnly is returned by writes to a store opened read-only.
var errReadOnly = errors.New("the store is open read-only")

// insertRow inserts one row. Statements are sent as INSERT blocks with a
// column list: ClickHouse 18.16 does not answer an INSERT … VALUES sent as
// a query over the native protocol, nor a block without a column list.
func (s *Store) insertRow(ctx context.Context, table, cols string, vals ...any) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+cols+")")
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.Append(vals...); err != nil {
		return err
	}
	return b.Send()
}
