package clickhouse

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// Physical layout (see docs/clickhouse.md):
//
//   - one MergeTree table `records` for the records of every dataset and
//     format, with a column for each of the 14 fields of the default
//     format (not Nullable: 0 or '' where a record lacks the field, which
//     the bits of `_nulls` say, see nullsColumn) and the other fields
//     packed in two array columns;
//   - PARTITION BY _hour (epoch seconds of the record's hour), so that
//     retention drops whole partitions and time ranges prune them;
//   - ORDER BY (dataset, source IPv4, start): the peer measured in
//     BENCHMARK.md sorts by (srcaddr, start); the sort-key columns must not
//     be Nullable in ClickHouse 18.16, hence ifNull(_srcaddr_v4, 0);
//   - IPv4 addresses as UInt32 only (`_srcaddr_v4`, `_dstaddr_v4`,
//     Nullable): the text columns `srcaddr` and `dstaddr` of `records`
//     hold the other addresses (IPv6) and are '' for IPv4, whose text the
//     views compute with IPv4NumToString (the decoder accepts only
//     canonical dotted quads as IPv4, so the text is the one ingested);
//     enums and identifiers as LowCardinality(String) and, on servers that have column
//     codecs (19.1 and later), Delta/T64 + ZSTD on the numbers.
//
// Exactly-once without transactions: every row carries the `_file_id` of
// the ingest that wrote it, and a file's rows become visible only when its
// registry row is written (one single-row INSERT, atomic in ClickHouse):
// the `flows` view reads only the rows of the current registry entry of
// each (dataset, key). Rows of an interrupted, rolled back or replaced
// ingest are never visible and are deleted later (see cleanup).

// column is one column of `records`.
type column struct {
	name  string
	typ   string // ClickHouse type
	codec string // codec clause for servers that have codecs ("" none)
	field flowlog.FieldID
	kind  colKind
}

type colKind uint8

const (
	ckDataset colKind = iota + 1
	ckHour
	ckFile
	ckFormat
	ckIngestTime
	ckInt32
	ckInt64
	ckUInt16 // a uint16 field (ports), Int32 in the views
	ckUInt8  // a uint8 field (protocol), Int32 in the views
	ckText
	ckIPv4
	ckEndDelta // end - start (end itself in the packed columns when it does not fit)
	ckPackKeys // the field ids of the packed values of a record
	ckPackVals // the packed values, as text
	ckNulls    // which own-column fields a record lacks (nullsColumn)
)

// nullsColumn says which of the fields with a column of their own a
// record lacks ("-" in the log, or not in its format): bit 1<<id of
// field id (all of them are below 16, see ownColumn); for end, also when
// `_end_delta` holds no value (end packed, or no start). Those columns
// are not Nullable: they hold 0 or the empty string where the bit is set, and the views
// return NULL from the bit. On 18.16 a Nullable column costs the server
// about a third more insert CPU than a plain one (docs/BENCHMARKS.md).
// The IPv4 columns stay Nullable: they are in the sort key and queries
// filter on them (NULL: the address is none or no IPv4).
const nullsColumn = "_nulls"

// nullBit is the bit of a field in nullsColumn.
func nullBit(id flowlog.FieldID) uint16 { return 1 << id }

// isNullSQL is the SQL of "the record lacks field id" over the columns
// of `records`.
func isNullSQL(id flowlog.FieldID) string {
	return fmt.Sprintf("bitAnd(%s, %d) != 0", nullsColumn, nullBit(id))
}

// packKeysColumn and packValsColumn hold the values of the fields that
// have no column of their own (every field after log-status, see
// ownColumn): for each record, the ids of the fields it has and their
// values as text, in the same order (ids ascending). A record of the
// default format has none: two empty arrays.
const (
	packKeysColumn = "_xk"
	packValsColumn = "_xv"
)

// ownColumn reports whether a field has a column of its own in `records`:
// the 14 fields of the default format (version 2). The others are rare in
// practice (a default-format file has none of them), and on 18.16 each
// Nullable column costs the server about 0.085 core-seconds per million
// records inserted even when all its values are NULL (59 such columns
// cost ~5 core-seconds per million, docs/BENCHMARKS.md), so they share the
// two packed columns.
func ownColumn(id flowlog.FieldID) bool { return id <= flowlog.LogStatus }

// lowCardinality lists the text fields stored as LowCardinality: enums and
// identifiers with few distinct values per part (accounts, interfaces,
// subnets, VPCs, instances, regions, zones). IP text stays String: the
// IPv4 form has its own column. Not before 19.1, where LowCardinality is
// experimental: 18.16 counts NULL as a value in uniqExact over
// LowCardinality(Nullable(String)) and refuses sum() over a comparison of
// one.
func lowCardinality(ft features, f *flowlog.Field) bool {
	return ft.codecs && (f.Kind == flowlog.KindEnum || f.Kind == flowlog.KindString)
}

func (s *Store) recordColumns() []column { return recordColumns(s.ft) }

// recordColumns returns the columns of `records`, in table order.
func recordColumns(ft features) []column {
	cols := []column{
		{name: "dataset", typ: "String", kind: ckDataset},
		{name: "_hour", typ: "Int64", codec: "CODEC(Delta, ZSTD)", kind: ckHour},
		{name: "_file_id", typ: "UInt64", codec: "CODEC(ZSTD)", kind: ckFile},
		{name: "_format_id", typ: "Int32", codec: "CODEC(ZSTD)", kind: ckFormat},
		{name: nullsColumn, typ: "UInt16", codec: "CODEC(ZSTD)", kind: ckNulls},
	}
	for i := range flowlog.Fields() {
		f := &flowlog.Fields()[i]
		if !ownColumn(f.ID) {
			continue
		}
		c := column{name: f.Column, field: f.ID}
		switch {
		case f.ID == flowlog.End:
			// within a window of the start: a small number, which
			// compresses to a fraction of the time itself
			c.name, c.typ, c.kind, c.codec = "_end_delta", "Int32", ckEndDelta, "CODEC(T64, ZSTD)"
		case f.Kind == flowlog.KindTime:
			c.typ, c.kind, c.codec = "Int64", ckInt64, "CODEC(Delta, ZSTD)"
		case f.Kind == flowlog.KindInt && f.Type == "int64":
			c.typ, c.kind, c.codec = "Int64", ckInt64, "CODEC(T64, ZSTD)"
		case f.Kind == flowlog.KindInt && f.Type == "uint16":
			c.typ, c.kind, c.codec = "UInt16", ckUInt16, "CODEC(T64, ZSTD)"
		case f.Kind == flowlog.KindInt && f.Type == "uint8":
			c.typ, c.kind, c.codec = "UInt8", ckUInt8, "CODEC(ZSTD)"
		case f.Kind == flowlog.KindInt:
			c.typ, c.kind, c.codec = "Int32", ckInt32, "CODEC(T64, ZSTD)"
		case lowCardinality(ft, f):
			c.typ, c.kind = "LowCardinality(String)", ckText
		default:
			c.typ, c.kind, c.codec = "String", ckText, "CODEC(ZSTD)"
		}
		cols = append(cols, c)
		if hasV4Column(f.ID) {
			cols = append(cols, column{name: "_" + f.Column + "_v4", typ: "Nullable(UInt32)", codec: "CODEC(ZSTD)", field: f.ID, kind: ckIPv4})
		}
	}
	return append(cols,
		column{name: packKeysColumn, typ: "Array(UInt8)", codec: "CODEC(ZSTD)", kind: ckPackKeys},
		column{name: packValsColumn, typ: "Array(String)", codec: "CODEC(ZSTD)", kind: ckPackVals})
}

// legacyIngestTime is the `_ingest_time` column of the records tables of
// schema versions 1–4, which stored each record's ingest time (epoch ms).
// From version 5 on the time is part of the file id (see fileIDTimeShift):
// a migrated table keeps the column for its old rows, and the rows
// written since leave it 0.
var legacyIngestTime = column{name: "_ingest_time", typ: "Int64", codec: "CODEC(Delta, ZSTD)", kind: ckIngestTime}

// fileIDTimeShift is where the ingest time sits in a file id: a file id of
// schema version 5 is the epoch milliseconds of its BeginFile shifted left
// by fileIDTimeShift bits, plus random low bits (see Store.newFileID).
// The time is constant per file but, scattered by the sort, its own
// column cost ~1.1 bytes per record and a fifth of the server's insert
// CPU (docs/BENCHMARKS.md).
const fileIDTimeShift = 20

// ingestTimeOf is the views' `_ingest_time`: from the file id, or (legacy,
// a migrated table) the stored column of the rows that have it.
func ingestTimeOf(legacy bool) string {
	fromID := fmt.Sprintf("toInt64(bitShiftRight(_file_id, %d))", fileIDTimeShift)
	if !legacy {
		return fromID
	}
	st := quoteIdent(storedName(legacyIngestTime.name))
	return "if(" + st + " = 0, " + fromID + ", " + st + ")"
}

// packedValue is the view's expression of a field without a column of
// its own, from the packed columns: NULL when the record lacks it.
func packedValue(f *flowlog.Field) string {
	at := fmt.Sprintf("%s[indexOf(%s, %d)]", packValsColumn, packKeysColumn, f.ID)
	switch {
	case f.Kind == flowlog.KindInt && f.Type == "int64", f.Kind == flowlog.KindTime:
		return "toInt64OrNull(" + at + ")"
	case f.Kind == flowlog.KindInt:
		return "toInt32OrNull(" + at + ")"
	}
	return fmt.Sprintf("if(indexOf(%s, %d) = 0, NULL, %s)", packKeysColumn, f.ID, at)
}

// quoteIdent quotes an identifier with backticks.
func quoteIdent(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

// quoteString quotes a string literal.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// features are what the server's release supports.
type features struct {
	codecs bool // column CODEC clauses (19.1)
	t64    bool // the T64 codec (19.x; assumed from 20.1)
	// lcSetting: LowCardinality needs allow_experimental_low_cardinality_type
	// (before 19.x)
	lcSetting bool
}

func featuresOf(major, minor uint64) features {
	return features{
		codecs:    major >= 19 && !(major == 19 && minor < 1),
		t64:       major >= 20,
		lcSetting: major < 19,
	}
}

// codecOf returns a column's codec clause on a server of features ft
// ("" when it has none or the server has no codecs).
func codecOf(ft features, c column) string {
	codec := c.codec
	if codec != "" && !ft.codecs {
		return ""
	}
	if strings.Contains(codec, "T64") && !ft.t64 {
		codec = strings.Replace(codec, "T64", "Delta", 1)
	}
	return codec
}

// recordsDDL creates the records table.
func recordsDDL(ft features) string { return recordsTableDDL(ft, "records", false) }

// tableColumnsOf returns the columns of a records table: those of
// recordColumns, and the stored `_ingest_time` after `_format_id` when
// legacy (a table of version 4 or older).
func tableColumnsOf(ft features, legacy bool) []column {
	cols := recordColumns(ft)
	if !legacy {
		return cols
	}
	out := make([]column, 0, len(cols)+1)
	for _, c := range cols {
		out = append(out, c)
		if c.kind == ckFormat {
			out = append(out, legacyIngestTime)
		}
	}
	return out
}

// recordsTableDDL creates a table of the layout of `records` named name
// (with the stored `_ingest_time` when legacy).
func recordsTableDDL(ft features, name string, legacy bool) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + quoteIdent(name) + " (")
	for i, c := range tableColumnsOf(ft, legacy) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.name) + " " + c.typ)
		if codec := codecOf(ft, c); codec != "" {
			b.WriteString(" " + codec)
		}
	}
	b.WriteString(") ENGINE = MergeTree PARTITION BY _hour ORDER BY (dataset, ifNull(_srcaddr_v4, 0), start)")
	return b.String()
}

// registryDDL creates the ingest registry: a row per committed ingest of a
// source object; the newest (committed_ns) per (dataset, key) is current.
const registryDDL = `CREATE TABLE IF NOT EXISTS ingest_registry (file_id UInt64, dataset String, key String, size Int64,
	checksum String, mod_time_ms Int64, records Int64, min_start Nullable(Int64), max_start Nullable(Int64),
	ingested_ms Int64, committed_ns Int64) ENGINE = MergeTree ORDER BY (dataset, key)`

// metaDDL creates the catalogue tables of the coordinator (the registry
// is created with the records, on every shard).
func metaDDL() []string {
	return []string{
		// One row per write of a dataset's settings; the newest wins.
		`CREATE TABLE IF NOT EXISTS datasets (name String, retention_seconds Int64, created_ms Int64,
			declared_format Nullable(String), version Int64) ENGINE = ReplacingMergeTree(version) ORDER BY name`,
		`CREATE TABLE IF NOT EXISTS formats (dataset String, format_id Int32, format String)
			ENGINE = ReplacingMergeTree ORDER BY (dataset, format_id)`,
		// Ingests under way: a row at the first write of a FileTx. Rows of
		// a file id that is neither current in the registry nor pending
		// (younger than pendingLease) are garbage (see cleanup).
		`CREATE TABLE IF NOT EXISTS ingest_pending (file_id UInt64, dataset String, key String, started_ms Int64)
			ENGINE = MergeTree ORDER BY file_id`,
		`CREATE TABLE IF NOT EXISTS flowlens_meta (key String, value String, version Int64)
			ENGINE = ReplacingMergeTree(version) ORDER BY key`,
	}
}

// currentFiles is the set of visible file ids: the newest registry entry
// of every (dataset, key).
const currentFiles = `SELECT argMax(file_id, committed_ns) FROM ingest_registry GROUP BY dataset, key`

// hasV4Column reports whether a field has an integer IPv4 column beside
// its text (`_srcaddr_v4` for srcaddr).
func hasV4Column(id flowlog.FieldID) bool { return id == flowlog.SrcAddr || id == flowlog.DstAddr }

// addrText is the text of an address field with an IPv4 column, from the
// columns of the view's inner SELECT: the IPv4 number's dotted quad, or
// the stored text (other addresses; NULL when the record has none).
func addrText(f *flowlog.Field) string {
	v4 := quoteIdent("_" + f.Column + "_v4")
	return "if(isNull(" + v4 + "), if(" + isNullSQL(f.ID) + ", NULL, " + quoteIdent(storedName(f.Column)) + "), IPv4NumToString(assumeNotNull(" + v4 + ")))"
}

// storedName is the name the inner SELECT of the views gives a column
// whose value the outer one computes under the field's name (an alias
// equal to a column it reads would be cyclic).
func storedName(column string) string { return "_" + column + "_stored" }

// fieldValue is the outer SELECT's expression of a field of the views,
// over the columns of the inner SELECT (those of `records`, a field's own
// column under storedName): NULL where nullsColumn says the record lacks
// the field.
func fieldValue(f *flowlog.Field) string {
	stored := quoteIdent(storedName(f.Column))
	switch {
	case !ownColumn(f.ID):
		return packedValue(f)
	case f.ID == flowlog.End:
		// end itself is packed when it is no Int32 away from start
		return "if(" + isNullSQL(f.ID) + ", " + packedValue(f) + ", " + quoteIdent(storedName("start")) + " + _end_delta)"
	case hasV4Column(f.ID):
		return addrText(f)
	case f.Kind == flowlog.KindInt && (f.Type == "uint16" || f.Type == "uint8"):
		return "if(" + isNullSQL(f.ID) + ", NULL, toInt32(" + stored + "))"
	}
	return "if(" + isNullSQL(f.ID) + ", NULL, " + stored + ")"
}

// flowsSelect returns the select of the `flows` view: the columns of
// every field with the types of the catalog (Int32, Int64, String, all
// Nullable), whatever `records` stores. The inner SELECT renames the
// stored columns whose value the outer one computes under the field's
// name. legacy: the table has the stored `_ingest_time` of version 4 and
// older.
func flowsSelect(legacy bool) string {
	var b strings.Builder
	b.WriteString("SELECT dataset")
	var inner []string
	for _, c := range tableColumnsOf(features{}, legacy) {
		switch {
		case c.kind == ckIngestTime, c.kind == ckInt32, c.kind == ckInt64, c.kind == ckUInt16, c.kind == ckUInt8, c.kind == ckText:
			inner = append(inner, quoteIdent(c.name)+" AS "+quoteIdent(storedName(c.name)))
		default:
			inner = append(inner, quoteIdent(c.name))
		}
	}
	for i := range flowlog.Fields() {
		f := &flowlog.Fields()[i]
		if v := fieldValue(f); v != quoteIdent(f.Column) {
			b.WriteString(", " + v + " AS " + quoteIdent(f.Column))
			continue
		}
		b.WriteString(", " + quoteIdent(f.Column))
	}
	const hourTS = "toDateTime(_hour, 'UTC')"
	fmt.Fprintf(&b, ", formatDateTime(%s, '%%Y') AS `year`", hourTS)
	fmt.Fprintf(&b, ", formatDateTime(%s, '%%m') AS `month`", hourTS)
	fmt.Fprintf(&b, ", formatDateTime(%s, '%%d') AS `day`", hourTS)
	fmt.Fprintf(&b, ", formatDateTime(%s, '%%H') AS `hour`", hourTS)
	fmt.Fprintf(&b, ", toDate(%s) AS `date`", hourTS)
	fmt.Fprintf(&b, ", formatDateTime(%s, '%%Y-%%m-%%d') AS `dt`", hourTS)
	b.WriteString(", account_id AS `accid`, account_id AS `aws-account-id`, region AS `aws-region`, 'vpcflowlogs' AS `aws-service`")
	b.WriteString(", _hour, _srcaddr_v4, _dstaddr_v4, _format_id, " + ingestTimeOf(legacy) + " AS _ingest_time, _file_id")
	b.WriteString(" FROM (SELECT " + strings.Join(inner, ", ") + " FROM records WHERE _file_id IN (" + currentFiles + "))")
	return b.String()
}

// DefaultDataset is the dataset records go to when none is named.
const DefaultDataset = "default"

// athenaTables are the table names of AWS's Athena documentation: views
// of the default dataset (of every dataset while there is none).
var athenaTables = []string{"vpc_flow_logs", "vpc_flow_logs_parquet"}

var datasetNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,62}$`)

var reservedNames = map[string]bool{
	"flows": true, "records": true, "datasets": true, "formats": true, "ingest_registry": true,
	"ingest_pending": true, "flowlens_meta": true, "vpc_flow_logs": true, "vpc_flow_logs_parquet": true, "flows_local": true,
	"records_local": true, "records_dist": true,
}

// ValidDatasetName reports whether name can be used as a dataset name, and
// why not (the same rule as the DuckDB store's).
func ValidDatasetName(name string) error {
	if !datasetNameRE.MatchString(name) {
		return fmt.Errorf("invalid dataset name %q: use a letter then letters, digits, '_', '-' or '.' (at most 63)", name)
	}
	if low := strings.ToLower(name); reservedNames[low] || strings.HasPrefix(low, "records_") {
		return fmt.Errorf("invalid dataset name %q: the name is reserved", name)
	}
	return nil
}
