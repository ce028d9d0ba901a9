// Package store defines the interfaces between flowlens and its storage
// backends (the embedded DuckDB store, ClickHouse) and the row types they
// share. Backends live in sub-packages; only the CLI wiring and a backend's own
// tests import them.
//
// The SQL contract every backend honours (the query compiler and `flowlens
// sql` rely on it): a view named `flows` with
//   - `dataset` (text): the dataset the record belongs to;
//   - one column per VPC field of the flowlog catalog, named by its canonical
//     column name (flowlog.Field.Column), typed as Field.Kind says: numbers as
//     integers (INTEGER for int32/uint16/uint8 fields, BIGINT for int64 and
//     time fields, seconds since the epoch), everything else text; NULL where
//     the record's format lacks the field or wrote '-';
//   - Athena's partition columns `year`, `month`, `day`, `hour` (zero-padded
//     text, UTC, from `start`; for NODATA records too), `date` (DATE), `dt`
//     ('YYYY-MM-DD' text), `accid` and `"aws-account-id"` (= account_id),
//     `"aws-region"` (= region) and `"aws-service"` ('vpcflowlogs');
//   - internal columns, prefixed with '_':
//     `_hour` (BIGINT, epoch seconds of the hour `start` falls in: prune on it),
//     `_srcaddr_v4`, `_dstaddr_v4` (UINTEGER / UInt32 IPv4 value, NULL for IPv6
//     or NULL addresses), `_format_id` (INTEGER, see Dataset.Formats),
//     `_ingest_time` (BIGINT, milliseconds since the epoch).
//
// A view per dataset, named after the dataset, has the same columns.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/sqlgen"
)

// ErrAlreadyIngested is returned by Writer.BeginFile when the registry holds
// the same source object (key, size and checksum) and force is false.
var ErrAlreadyIngested = errors.New("already ingested")

// ErrLocked is returned when another process holds the database for writing.
var ErrLocked = errors.New("database is locked by another flowlens process")

// ErrNotFound is returned for an unknown dataset.
var ErrNotFound = errors.New("not found")

// Source identifies one source object (a file, an S3 object, a stdin stream)
// in the ingest registry.
type Source struct {
	// Key is the absolute path, the s3://bucket/key, or "stdin:<checksum>".
	Key      string
	Size     int64
	Checksum string // hex SHA-256 (or the S3 ETag for S3 objects)
	ModTime  time.Time
}

// FileTx is one source object's ingest: every batch appended and the
// registry entry become visible together at Commit, or not at all.
type FileTx interface {
	// Append stores a batch. The FileTx may keep the batch until Commit or
	// Rollback returns; the caller must not reuse it before then.
	Append(ctx context.Context, b *flowlog.Batch) error
	// Commit makes the records and the registry entry durable and visible.
	Commit(ctx context.Context) error
	// Rollback discards everything appended; safe after Commit (no-op).
	Rollback() error
}

// Writer ingests source objects exactly once.
type Writer interface {
	// BeginFile starts the ingest of src into dataset. With force, a
	// previous ingest of the same key is replaced at Commit.
	BeginFile(ctx context.Context, dataset string, src Source, force bool) (FileTx, error)
}

// Result is a fully materialised query result.
type Result struct {
	Columns []string
	// Types are the backend's type names of the columns.
	Types []string
	// Rows hold nil, int64, float64, string, bool, time.Time or []byte values.
	Rows [][]any
}

// Querier runs SQL in the backend's dialect. Arguments are bound, never pasted.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (*Result, error)
}

// Dataset describes one named collection of records.
type Dataset struct {
	Name    string
	Records int64
	// Bytes is the estimated on-disk size of the dataset's records.
	Bytes            int64
	MinTime, MaxTime time.Time // range of `start`
	// Formats maps _format_id values to ${field} format strings.
	Formats    map[int]string
	LastIngest time.Time
	Files      int64
	// Retention is the configured retention (0: keep forever).
	Retention time.Duration
	// DeclaredFormat is the ${field} format header-less text ingested into
	// the dataset is read with ("" when none was declared).
	DeclaredFormat string
}

// Cataloger lists datasets.
type Cataloger interface {
	Datasets(ctx context.Context) ([]Dataset, error)
}

// Retainer removes whole hours of data.
type Retainer interface {
	// DropBefore removes every record of dataset ("" for all) whose hour
	// starts before cutoff and returns how many were removed.
	DropBefore(ctx context.Context, dataset string, cutoff time.Time) (int64, error)
}

// IngestObserver sees what a Writer stores, e.g. to evaluate metric filters
// on every ingested batch whatever path wrote it. Its methods run on the
// writer's goroutine and must be fast.
type IngestObserver interface {
	// ObserveFile is called by BeginFile; the TxObserver it returns (nil
	// to ignore the file) sees that transaction.
	ObserveFile(dataset string, src Source) TxObserver
}

// TxObserver sees one FileTx: its batches, then exactly one of Committed or
// RolledBack (a FileTx dropped without either is never counted).
type TxObserver interface {
	// Append sees a batch before the store keeps it; it must not keep or
	// change the batch.
	Append(b *flowlog.Batch)
	// Committed: the batches seen are durable and visible.
	Committed()
	// RolledBack: the batches seen are discarded.
	RolledBack()
}

// Backend is a store as the CLI and the server use it, whichever backend
// holds the records (the embedded DuckDB store, ClickHouse). Its methods
// are safe for concurrent use. What only one backend can do (DuckDB's
// sealing of hours, its Parquet export, its sessions) the CLI reaches
// through that backend's own type.
type Backend interface {
	Writer
	Querier
	Cataloger
	Retainer
	// SetRetention records the retention of dataset ("" for every
	// dataset); ErrNotFound for an unknown dataset.
	SetRetention(ctx context.Context, dataset string, keep time.Duration) error
	// DeclareFormat records the format header-less text ingested into
	// dataset is read with (creating the dataset when missing).
	DeclareFormat(ctx context.Context, dataset string, f *flowlog.Format) error
	// DeclaredFormat returns the declared format of dataset (nil: none).
	DeclaredFormat(ctx context.Context, dataset string) (*flowlog.Format, error)
	// RecordBytes returns the bytes the records use on disk.
	RecordBytes(ctx context.Context) (int64, error)
	// SetIngestObserver makes o see every FileTx begun from now on (nil:
	// none).
	SetIngestObserver(o IngestObserver)
	// Dialect is the SQL dialect Query takes (the query compiler's).
	Dialect() sqlgen.Dialect
	// ReadOnly reports whether the store was opened without write access.
	ReadOnly() bool
	// Close releases the store; no method may be called after it.
	Close() error
}
