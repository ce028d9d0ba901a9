// Package duckdb is flowlens's embedded store: one DuckDB database in the
// data directory holding the records of every dataset, the ingest registry
// that makes ingest exactly-once, the `flows` view of package store's SQL
// contract with one view per dataset, retention by whole hours and the
// Athena-ready Parquet lake export. It is the only package that imports the
// DuckDB driver.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"

	"github.com/flowlens/flowlens/internal/athena"
	"github.com/flowlens/flowlens/internal/store"
)

// FileName is the database file inside the data directory.
const FileName = "flowlens.duckdb"

// Config configures Open.
type Config struct {
	// Dir is the data directory; it is created when missing (unless ReadOnly).
	Dir string
	// ReadOnly opens the database without write access; several read-only
	// processes may open it at once, but not while a writer has it.
	ReadOnly bool
	// MemoryLimit is DuckDB's memory_limit ("" → "1GB").
	MemoryLimit string
	// Threads is DuckDB's thread count (0 → DuckDB's default, one per core).
	Threads int
	// RowGroupSize is the row group size of a new database (0 → DuckDB's
	// 122,880; 1 M rows measured 2.5x slower to load here).
	RowGroupSize int
	// StorageVersion is the DuckDB storage version of a new database file
	// ("" → "v1.5.0": smaller and faster than the default old format).
	StorageVersion string
	// SpillRecords is how many records one FileTx buffers in memory before
	// it writes them into its open transaction (0 → 4 M).
	SpillRecords int
	// SealAfter is how long after its end an hour is sealed by Seal
	// (written into the sealed tier of Parquet files; 0 → 1 hour).
	SealAfter time.Duration
	// SealBatch is about how many records Seal rewrites in one
	// transaction (0 → 1 M).
	SealBatch int
	// SealQuiet is how long an hour must not have been written before
	// Seal rewrites it (0 → 10 minutes; negative: no wait).
	SealQuiet time.Duration
	// DirectSealRecords is how many records of one hour a commit group
	// must hold for them to go straight into the sealed tier when the hour
	// is over by SealAfter and holds nothing yet (direct.go; 0 → 32768,
	// negative: never).
	DirectSealRecords int
	// Now returns the current time (nil → time.Now); tests inject a clock.
	Now func() time.Time
}

// Store is the embedded DuckDB store. Its methods are safe for concurrent
// use; writes are serialised.
type Store struct {
	cfg    Config
	logger *slog.Logger
	db     *sql.DB
	path   string

	// wmu serialises write transactions. A spilled FileTx holds it from
	// its first write until Commit or Rollback.
	wmu sync.Mutex
	// mu guards the metadata caches below.
	mu         sync.Mutex
	datasets   map[int]string // id → name
	formats    map[string]int // format string → id
	tables     []table        // record tables, `records` first
	nextFileID uint32
	// tempViews (read-only opens) are the statements creating this
	// flowlens's views as TEMP views on each new connection.
	tempViews string
	// hasDeclared says whether the datasets table has declared_format (a
	// database opened read-only may predate it).
	hasDeclared bool
	// bufs recycles the buffers of the Arrow chunks of ingests.
	bufs *bufPool
	// pairsMin is the fewest records of a day file whose distinct pairs
	// are kept (pairsMinRecords; tests lower it).
	pairsMin int64
	// sealHook, when set (tests), runs inside each hour's rewrite before
	// its commit.
	sealHook func(table string, hours []int64)
	// observer sees every FileTx (SetIngestObserver).
	observer atomic.Pointer[store.IngestObserver]
	// memLimit is the memory limit LimitMemory set (nil: Config's).
	memLimit atomic.Pointer[string]
	// hasRejects says whether the database has the rejects rollup (a
	// database of layout 3 or older opened read-only has not).
	hasRejects bool
	// sealed is the sealed tier's hours (sealed.go), replaced whole by
	// the commits that change it.
	sealed sealedSet
	// garbage are sealed files no longer referenced, removed a minute
	// after (collect); lastSeq makes sealed file names unique.
	garbage []garbageFile
	lastSeq int64
	// catGen counts the changes of the store's contents; the answer of
	// Datasets is kept for one value of it.
	catGen      atomic.Int64
	catMu       sync.Mutex
	catCache    []store.Dataset
	catCacheGen int64
	catValid    bool
}

var (
	_ store.Writer    = (*Store)(nil)
	_ store.Querier   = (*Store)(nil)
	_ store.Cataloger = (*Store)(nil)
	_ store.Retainer  = (*Store)(nil)
)

// Path returns the database file of a data directory.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Open opens (creating when allowed) the database in cfg.Dir. A database
// held for writing by another process fails with an error matching
// store.ErrLocked that names the data directory.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dir == "" {
		return nil, errors.New("open store: no data directory given")
	}
	if cfg.MemoryLimit == "" {
		cfg.MemoryLimit = "1GB"
	}
	if cfg.SpillRecords <= 0 {
		cfg.SpillRecords = 4 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SealAfter <= 0 {
		cfg.SealAfter = time.Hour
	}
	if cfg.DirectSealRecords == 0 {
		cfg.DirectSealRecords = 32768
	}
	if cfg.SealBatch <= 0 {
		cfg.SealBatch = 1 << 20
	}
	switch {
	case cfg.SealQuiet == 0:
		cfg.SealQuiet = 10 * time.Minute
	case cfg.SealQuiet < 0:
		cfg.SealQuiet = 0
	}
	path := Path(cfg.Dir)
	if cfg.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store: no flowlens database in %s (run 'flowlens ingest' first): %w", cfg.Dir, store.ErrNotFound)
		}
	} else if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{cfg: cfg, logger: logger, path: path, bufs: newBufPool(256 << 20), pairsMin: pairsMinRecords}
	if !cfg.ReadOnly {
		// A compaction that did not finish (Compact).
		_ = os.Remove(path + compactSuffix)
		_ = os.Remove(path + compactSuffix + ".wal")
	}
	if err := s.connect(); err != nil {
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		_ = s.db.Close()
		return nil, s.openError(err)
	}
	defer conn.Close()
	if !cfg.ReadOnly {
		if err := s.migrate(ctx, conn); err != nil {
			_ = s.db.Close()
			return nil, err
		}
	}
	if err := s.loadMeta(ctx, conn); err != nil {
		_ = s.db.Close()
		return nil, s.openError(err)
	}
	if cfg.ReadOnly {
		// The views stored in the database are those of the flowlens that
		// last wrote it; a read-only open uses this flowlens's views as
		// TEMP views (on this connection and every new one).
		pairs, _, err := loadPairs(ctx, conn, s.sealedNow())
		if err != nil {
			_ = s.db.Close()
			return nil, s.openError(err)
		}
		s.mu.Lock()
		s.tempViews = strings.Join(viewDDL(s.tables, s.datasets, nil, true, s.hasRejects, s.parquetLists(s.sealed, nil),
			s.pairsViewSQL(s.tables, s.sealed, pairs)), "; ")
		views := s.tempViews
		s.mu.Unlock()
		if _, err := conn.ExecContext(ctx, views); err != nil {
			_ = s.db.Close()
			return nil, s.openError(fmt.Errorf("create views: %w", err))
		}
	}
	return s, nil
}

// connect opens the DuckDB instance of the store's database file (s.db).
func (s *Store) connect() error {
	cfg := s.cfg
	q := url.Values{}
	q.Set("memory_limit", cfg.MemoryLimit)
	if cfg.Threads > 0 {
		q.Set("threads", itoa(cfg.Threads))
	}
	q.Set("preserve_insertion_order", "false")
	q.Set("autoinstall_known_extensions", "false")
	q.Set("autoload_known_extensions", "false")
	if !cfg.ReadOnly {
		q.Set("temp_directory", filepath.Join(cfg.Dir, "tmp"))
	}
	storage := cfg.StorageVersion
	if storage == "" {
		storage = "v1.5.0"
	}
	attach := fmt.Sprintf("ATTACH IF NOT EXISTS %s AS fl (STORAGE_VERSION %s", quoteString(s.path), quoteString(storage))
	if cfg.RowGroupSize > 0 {
		attach += fmt.Sprintf(", ROW_GROUP_SIZE %d", cfg.RowGroupSize)
	}
	if cfg.ReadOnly {
		attach += ", READ_ONLY"
	}
	attach += ")"
	// The Presto macros are TEMP macros of every connection, so that a
	// database written by an older flowlens, even opened read-only, has
	// every macro of this one.
	macros := strings.Join(athena.Macros(), "; ")
	connector, err := duckdbdrv.NewConnector("?"+q.Encode(), func(ex driver.ExecerContext) error {
		// The sealed files' footers are read once, not per query.
		for _, stmt := range []string{attach, "USE fl", "SET TimeZone = 'UTC'", "SET parquet_metadata_cache = true", macros} {
			if _, err := ex.ExecContext(context.Background(), stmt, nil); err != nil {
				return err
			}
		}
		s.mu.Lock()
		views := s.tempViews
		s.mu.Unlock()
		if views != "" {
			if _, err := ex.ExecContext(context.Background(), views, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("open store %s: %w", cfg.Dir, err)
	}
	s.db = sql.OpenDB(connector)
	s.db.SetMaxIdleConns(4)
	return nil
}

var pidRE = regexp.MustCompile(`PID (\d+)`)

// openError turns DuckDB's lock conflict into store.ErrLocked.
func (s *Store) openError(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "Could not set lock") || strings.Contains(msg, "Conflicting lock") {
		who := "another process"
		if m := pidRE.FindStringSubmatch(msg); m != nil {
			who = "process " + m[1]
		}
		return fmt.Errorf("%s: %w (%s holds it; wait for it to finish or stop it)", s.cfg.Dir, store.ErrLocked, who)
	}
	return fmt.Errorf("open store %s: %w", s.cfg.Dir, err)
}

// schemaVersion is the layout version of the record tables. Version 3
// added a table per set of catalog fields (`record_tables`); a version 2
// database is upgraded in place (its wide table `records_ext` becomes one
// of the registered tables). Version 4 added the rejects rollup
// (`rollup_rejects`), filled from the records when an older database is
// upgraded. Version 5 added the sealed tier (`sealed_hours` and the
// Parquet files of the `sealed` folder); nothing is copied on upgrade: the
// next Seal writes the hours that are over.
const schemaVersion = "5"

// migrate creates the schema, macros and views.
func (s *Store) migrate(ctx context.Context, conn *sql.Conn) error {
	var v string
	err := conn.QueryRowContext(ctx, `SELECT value FROM flowlens_meta WHERE key = 'schema_version'`).Scan(&v)
	if err == nil && v != schemaVersion && v != "2" && v != "3" && v != "4" {
		return fmt.Errorf("open store %s: the database has layout version %s, this flowlens reads versions 2 to 5: ingest into a new data directory", s.cfg.Dir, v)
	}
	stmts := schemaDDL()
	if v == "2" {
		s.logger.Info("upgrading the database layout", "from", v, "to", schemaVersion, "dir", s.cfg.Dir)
		stmts = append(stmts, fmt.Sprintf(`INSERT OR IGNORE INTO record_tables VALUES (%s, %s)`,
			quoteString(extTable.name), quoteString(strings.Join(extTable.set.names(), " "))))
	}
	// One transaction: an upgrade interrupted half-way is redone whole at
	// the next open.
	stmts = append([]string{"BEGIN TRANSACTION"}, stmts...)
	if v == "2" || v == "3" {
		tables := []table{narrowTable, extTable}
		if v == "3" {
			var err error
			if tables, err = loadTables(ctx, conn); err != nil {
				return s.openError(err)
			}
		}
		s.logger.Info("upgrading the database layout: filling the rejects rollup", "from", v, "to", schemaVersion, "dir", s.cfg.Dir)
		stmts = append(stmts, "DELETE FROM rollup_rejects")
		for _, t := range tables {
			if q := rejectsRollupSelect(t, "true"); q != "" {
				stmts = append(stmts, "INSERT INTO rollup_rejects "+q)
			}
		}
	}
	stmts = append(stmts, `INSERT OR REPLACE INTO flowlens_meta VALUES ('schema_version', '`+schemaVersion+`')`, "COMMIT")
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
			return s.openError(fmt.Errorf("create schema: %w", err))
		}
	}
	return nil
}

// loadTables reads the registered record tables. A version 2 database
// opened read-only (not upgraded) has `records` and `records_ext`.
func loadTables(ctx context.Context, conn *sql.Conn) ([]table, error) {
	tables := []table{narrowTable}
	var v string
	if err := conn.QueryRowContext(ctx, `SELECT value FROM flowlens_meta WHERE key = 'schema_version'`).Scan(&v); err != nil {
		return nil, fmt.Errorf("read the layout version: %w", err)
	}
	switch v {
	case "2":
		return append(tables, extTable), nil
	case "3", "4", schemaVersion:
	default:
		return nil, fmt.Errorf("the database has layout version %s, this flowlens reads versions 2 to 5", v)
	}
	rows, err := conn.QueryContext(ctx, `SELECT name, fields FROM record_tables ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("load record tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, fields string
		if err := rows.Scan(&name, &fields); err != nil {
			return nil, fmt.Errorf("load record tables: %w", err)
		}
		set, err := parseFieldSet(fields)
		if err != nil {
			return nil, fmt.Errorf("load record tables: table %s: %w", name, err)
		}
		tables = append(tables, newTable(name, set))
	}
	return tables, rows.Err()
}

// loadMeta reads datasets, formats and the next file id, and (when
// writable) refreshes the views.
func (s *Store) loadMeta(ctx context.Context, conn *sql.Conn) error {
	ds := map[int]string{}
	rows, err := conn.QueryContext(ctx, `SELECT id, name FROM datasets`)
	if err != nil {
		return fmt.Errorf("load datasets: %w", err)
	}
	for rows.Next() {
		var id int
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return fmt.Errorf("load datasets: %w", err)
		}
		ds[id] = name
	}
	rows.Close()
	fm := map[string]int{}
	rows, err = conn.QueryContext(ctx, `SELECT id, format FROM formats`)
	if err != nil {
		return fmt.Errorf("load formats: %w", err)
	}
	for rows.Next() {
		var id int
		var f string
		if err := rows.Scan(&id, &f); err != nil {
			rows.Close()
			return fmt.Errorf("load formats: %w", err)
		}
		fm[f] = id
	}
	rows.Close()
	var next sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT max(file_id) FROM ingest_registry`).Scan(&next); err != nil {
		return fmt.Errorf("load registry: %w", err)
	}
	tables, err := loadTables(ctx, conn)
	if err != nil {
		return err
	}
	var declared int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns()
		WHERE database_name = 'fl' AND table_name = 'datasets' AND column_name = 'declared_format'`).Scan(&declared); err != nil {
		return fmt.Errorf("load datasets: %w", err)
	}
	s.hasDeclared = declared > 0
	var rejects int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = 'fl' AND table_name = 'rollup_rejects'`).Scan(&rejects); err != nil {
		return fmt.Errorf("load the rollups: %w", err)
	}
	s.hasRejects = rejects > 0
	sealed, err := loadSealed(ctx, conn)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.datasets, s.formats, s.tables, s.nextFileID, s.sealed = ds, fm, tables, uint32(next.Int64)+1, sealed
	s.mu.Unlock()
	if !s.cfg.ReadOnly {
		if err := s.sweepSealed(sealed); err != nil {
			return fmt.Errorf("remove unreferenced sealed files: %w", err)
		}
		pairs, _, err := loadPairs(ctx, conn, sealed)
		if err != nil {
			return err
		}
		for _, stmt := range viewDDL(tables, ds, nil, false, true, s.parquetLists(sealed, nil), s.pairsViewSQL(tables, sealed, pairs)) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create views: %w", err)
			}
		}
	}
	return nil
}

// Close closes the database (checkpointing it when writable).
func (s *Store) Close() error {
	if s.db == nil {
		return nil
	}
	if !s.cfg.ReadOnly {
		if _, err := s.db.Exec("CHECKPOINT"); err != nil {
			s.logger.Warn("checkpoint on close", "err", err)
		}
	}
	err := s.db.Close()
	s.db = nil
	s.collect(true)
	return err
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.cfg.Dir }

// ReadOnly reports whether the store was opened without write access.
func (s *Store) ReadOnly() bool { return s.cfg.ReadOnly }

// Query runs DuckDB SQL and materialises the result. Values are converted
// to the types store.Result documents.
func (s *Store) Query(ctx context.Context, query string, args ...any) (*store.Result, error) {
	if !plainRead(query) {
		defer s.changed()
	} else if store.IsScan(ctx) {
		return s.queryScan(ctx, query, args...)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return materialise(ctx, rows)
}

// plainRead reports whether SQL text is one statement that cannot change
// the store: a SELECT, FROM, DESCRIBE, SHOW, SUMMARIZE or VALUES, or a
// WITH without a writing keyword, and no ';' inside. Anything else may
// write: Datasets computes anew after it.
func plainRead(q string) bool {
	q = strings.TrimSpace(q)
	if strings.Contains(strings.TrimRight(q, "; \t\r\n"), ";") {
		return false
	}
	word := strings.ToUpper(strings.TrimLeft(strings.FieldsFunc(q+" ", func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})[0], "("))
	switch word {
	case "SELECT", "FROM", "DESCRIBE", "SHOW", "SUMMARIZE", "VALUES":
		return true
	case "WITH":
		up := strings.ToUpper(q)
		for _, w := range []string{"INSERT", "UPDATE", "DELETE", "COPY", "CREATE", "DROP", "ALTER"} {
			if strings.Contains(up, w) {
				return false
			}
		}
		return true
	}
	return false
}

// materialise reads every row of rows and closes it.
func materialise(ctx context.Context, rows *sql.Rows) (*store.Result, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &store.Result{Columns: cols, Types: make([]string, len(cols))}
	for i, ct := range cts {
		res.Types[i] = ct.DatabaseTypeName()
	}
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			vals[i] = normalise(v)
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
	switch x := v.(type) {
	case nil, int64, float64, string, bool, time.Time, []byte:
		return x
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
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case duckdbdrv.Decimal:
		return x.Float64()
	case duckdbdrv.Interval:
		d := time.Duration(x.Micros) * time.Microsecond
		if x.Days == 0 && x.Months == 0 {
			return d.String()
		}
		return fmt.Sprintf("%d months %d days %s", x.Months, x.Days, d)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}
