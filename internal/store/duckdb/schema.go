package duckdb

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// Physical layout (decided by benchmark, see docs/BENCHMARKS.md "Store and
// ingest"):
//
//   - one table `records` for the records of every dataset whose format
//     has only version 2 fields, and one table per other set of catalog
//     fields (see narrowTable), each with a dataset id;
//   - rows are sorted per commit group by (_hour, srcaddr, dstaddr, start)
//     before they are appended, in row groups of 1 M rows, so that the
//     sort columns compress to almost nothing and zone maps prune lookups;
//   - numbers are stored with the view's types (no casts in the view, so
//     filters push down into the scan); text as VARCHAR (DuckDB picks
//     dictionary / FSST compression per segment);
//   - IPv4 addresses are also kept as UINTEGER (`_srcaddr_v4`, `_dstaddr_v4`)
//     for cheap grouping, subnet ranges and equality lookups;
//   - hours that are over move into the sealed tier (sealed.go): a zstd
//     Parquet file per table and hour, without the IPv4 address text, then
//     one per table and day once the day is over (sealed_days.go).
//
// The view `flows` exposes the contract of package store on top of it.

// colKind says where a physical column's values come from.
type colKind uint8

const (
	ckDataset    colKind = iota + 1 // _dataset_id
	ckHour                          // _hour
	ckFile                          // _file_id
	ckFormat                        // _format_id
	ckIngestTime                    // _ingest_time
	ckInt32                         // an int32/uint16/uint8 field
	ckInt64                         // an int64 or time field
	ckText                          // a text, enum or IP field as text
	ckIPv4                          // the UINTEGER form of an IP field
	ckEndDelta                      // _end_delta: end - start (INTEGER)
	ckEndRaw                        // _end_raw: end when it has no delta form
)

// physCol is one column of the `records` table.
type physCol struct {
	name    string
	sqlType string
	kind    colKind
	field   flowlog.FieldID // for field-backed kinds
}

// table is one physical table of records.
type table struct {
	name string
	cols []physCol
	set  fieldSet // the catalog fields it has columns for
}

// fieldSet is a set of catalog fields.
type fieldSet [2]uint64

func (s *fieldSet) add(id flowlog.FieldID)     { s[id/64] |= 1 << (id % 64) }
func (s fieldSet) has(id flowlog.FieldID) bool { return s[id/64]&(1<<(id%64)) != 0 }

// within reports whether every field of s is in o.
func (s fieldSet) within(o fieldSet) bool { return s[0]&^o[0] == 0 && s[1]&^o[1] == 0 }

// names returns the canonical column names of the set, in catalog order.
func (s fieldSet) names() []string {
	var out []string
	for i := range flowlog.Fields() {
		if f := &flowlog.Fields()[i]; s.has(f.ID) {
			out = append(out, f.Column)
		}
	}
	return out
}

// parseFieldSet reads the names written by fieldSet.names.
func parseFieldSet(text string) (fieldSet, error) {
	var s fieldSet
	for _, name := range strings.Fields(text) {
		f, ok := flowlog.Lookup(name)
		if !ok {
			return s, fmt.Errorf("unknown field %q", name)
		}
		s.add(f.ID)
	}
	return s, nil
}

// formatSet returns the catalog fields of a format (its extra fields have
// nowhere to go).
func formatSet(f *flowlog.Format) fieldSet {
	var s fieldSet
	for i, fl := range f.Fields {
		if !f.Extra[i] {
			s.add(fl.ID)
		}
	}
	return s
}

func setOf(keep func(*flowlog.Field) bool) fieldSet {
	var s fieldSet
	for i := range flowlog.Fields() {
		if f := &flowlog.Fields()[i]; keep(f) {
			s.add(f.ID)
		}
	}
	return s
}

func newTable(name string, set fieldSet) table {
	return table{name: name, cols: tableColumns(set.has), set: set}
}

// The record tables. Records whose format has only version 2 fields go to
// `records`; every other set of catalog fields gets a table of its own,
// created by the first ingest that needs it and listed in
// `record_tables`. DuckDB's append cost grows with the number of columns,
// NULL ones included: the same 900 k default-format rows took 3x longer
// into a table with every catalog field, and 2 M rows of a version 5
// format 1.5x longer than into a table of just its 34 columns. Databases
// of layout 2 also have `records_ext` (every catalog field), kept as one
// of the registered tables.
var (
	narrowSet   = setOf(func(f *flowlog.Field) bool { return f.ID <= flowlog.LogStatus })
	narrowTable = newTable("records", narrowSet)
	extTable    = newTable("records_ext", setOf(func(*flowlog.Field) bool { return true }))
)

// tableSet returns the field set of the table format f's records go to.
func tableSet(f *flowlog.Format) fieldSet {
	s := formatSet(f)
	if s.within(narrowSet) {
		return narrowSet
	}
	return s
}

// has reports whether the table has a column for catalog field id.
func (t table) has(id flowlog.FieldID) bool { return t.set.has(id) }

// tableColumns returns the columns of a record table with the catalog
// fields keep accepts, in table order.
func tableColumns(keep func(flowlog.FieldID) bool) []physCol {
	cols := []physCol{
		{"_dataset_id", "USMALLINT", ckDataset, 0},
		{"_hour", "BIGINT", ckHour, 0},
		{"_file_id", "UINTEGER", ckFile, 0},
		{"_format_id", "INTEGER", ckFormat, 0},
		{"_ingest_time", "BIGINT", ckIngestTime, 0},
	}
	for i := range flowlog.Fields() {
		f := &flowlog.Fields()[i]
		if !keep(f.ID) {
			continue
		}
		if f.ID == flowlog.End {
			// `end` is stored as its distance from `start` (a few bits
			// instead of twelve: 1.98 → under 1 byte per record).
			cols = append(cols, physCol{"_end_delta", "INTEGER", ckEndDelta, f.ID},
				physCol{"_end_raw", "BIGINT", ckEndRaw, f.ID})
			continue
		}
		cols = append(cols, physCol{f.Column, fieldSQLType(f), fieldKind(f), f.ID})
		if f.ID == flowlog.SrcAddr || f.ID == flowlog.DstAddr {
			cols = append(cols, physCol{"_" + f.Column + "_v4", "UINTEGER", ckIPv4, f.ID})
		}
	}
	return cols
}

func fieldKind(f *flowlog.Field) colKind {
	switch {
	case f.Kind == flowlog.KindTime || f.Type == "int64":
		return ckInt64
	case f.Kind == flowlog.KindInt:
		return ckInt32
	}
	return ckText
}

func fieldSQLType(f *flowlog.Field) string {
	switch fieldKind(f) {
	case ckInt64:
		return "BIGINT"
	case ckInt32:
		return "INTEGER"
	}
	return "VARCHAR"
}

// quoteIdent quotes a SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteString quotes a SQL string literal.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// createTableDDL returns the CREATE TABLE statement of a record table.
func createTableDDL(t table) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + quoteIdent(t.name) + " (")
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.name) + " " + c.sqlType)
	}
	b.WriteString(")")
	return b.String()
}

// schemaDDL creates the tables (idempotent).
func schemaDDL() []string {
	return []string{
		createTableDDL(narrowTable),
		// The record tables besides `records`: name and field set (the
		// canonical column names, space-separated, in catalog order).
		`CREATE TABLE IF NOT EXISTS record_tables (name VARCHAR PRIMARY KEY, fields VARCHAR NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS flowlens_meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
		`CREATE TABLE IF NOT EXISTS datasets (id USMALLINT PRIMARY KEY, name VARCHAR UNIQUE NOT NULL,
			retention_seconds BIGINT NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL)`,
		// The column order declared for a dataset's header-less text
		// (flowlens sql's CREATE EXTERNAL TABLE), a ${field} format.
		`ALTER TABLE datasets ADD COLUMN IF NOT EXISTS declared_format VARCHAR`,
		`CREATE TABLE IF NOT EXISTS formats (id USMALLINT PRIMARY KEY, format VARCHAR UNIQUE NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS dataset_formats (dataset_id USMALLINT NOT NULL, format_id USMALLINT NOT NULL,
			PRIMARY KEY (dataset_id, format_id))`,
		// The ingest registry: one row per source object and dataset.
		`CREATE TABLE IF NOT EXISTS ingest_registry (file_id UINTEGER PRIMARY KEY, dataset_id USMALLINT NOT NULL,
			key VARCHAR NOT NULL, size BIGINT NOT NULL, checksum VARCHAR NOT NULL, mod_time_ms BIGINT,
			records BIGINT NOT NULL, min_start BIGINT, max_start BIGINT, ingested_ms BIGINT NOT NULL,
			UNIQUE (dataset_id, key))`,
		// The 5-minute rollup: per file, bin, action and log status, the
		// record count and the sums of bytes and packets. Queries that need
		// only these keys and sums (traffic over time) read it instead of
		// the records; it is maintained in the commit of its files.
		`CREATE TABLE IF NOT EXISTS rollup_5m (_dataset_id USMALLINT NOT NULL, _file_id UINTEGER NOT NULL,
			_bin BIGINT, action VARCHAR, log_status VARCHAR, records BIGINT, bytes BIGINT, packets BIGINT)`,
		rejectsDDL,
		hourRunsDDL,
		sealedDDL,
		pairsDDL[0],
		pairsDDL[1],
	}
}

// rejectsDDL creates the rejects rollup: per file, hour, source address
// and destination port, the count and the sums of bytes and packets of the
// REJECT records only (about 5% of the records, and far fewer rows: a
// scanner's or a brute-force source's rejects collapse). Questions about
// rejected traffic by source and port (who is rejected most, SSH knocking)
// read it instead of the records; it is written in the commit of its
// files, replaced with them and cut by retention like rollup_5m.
const rejectsDDL = `CREATE TABLE IF NOT EXISTS rollup_rejects (_dataset_id USMALLINT NOT NULL, _file_id UINTEGER NOT NULL,
			_hour BIGINT, srcaddr VARCHAR, _srcaddr_v4 UINTEGER, dstport INTEGER, records BIGINT, bytes BIGINT, packets BIGINT)`

// rejectsRollupSelect is the SELECT computing the rejects rollup rows of
// record table tb's rows that match where (a predicate on the table).
func rejectsRollupSelect(tb table, where string) string {
	return rejectsRollupFrom(tb, quoteIdent(tb.name), where)
}

// rejectsRollupFrom is rejectsRollupSelect reading the rows from the
// relation from (table tb's columns).
func rejectsRollupFrom(tb table, from, where string) string {
	col := func(id flowlog.FieldID, typ string) string {
		if tb.has(id) {
			return quoteIdent(flowlog.Get(id).Column)
		}
		return "CAST(NULL AS " + typ + ")"
	}
	if !tb.has(flowlog.Action) {
		return ""
	}
	v4 := "CAST(NULL AS UINTEGER)"
	if tb.has(flowlog.SrcAddr) {
		v4 = "_srcaddr_v4"
	}
	return fmt.Sprintf(`SELECT _dataset_id, _file_id, _hour, %s, %s, %s, count(*), CAST(sum(%s) AS BIGINT), CAST(sum(%s) AS BIGINT)
			FROM %s WHERE action = 'REJECT' AND (%s) GROUP BY ALL`,
		col(flowlog.SrcAddr, "VARCHAR"), v4, col(flowlog.DstPort, "INTEGER"),
		col(flowlog.Bytes, "BIGINT"), col(flowlog.Packets, "BIGINT"), from, where)
}

// rejectsView is the select of the `flows_rejects` view: the rejects
// rollup under the flows view's column names (`action` is the constant
// 'REJECT', so the query's own filter on it stays valid). A database of an
// older layout opened read-only has no rollup table: the view then
// computes the same rows from the records.
func rejectsView(tables []table, datasets map[int]string, stored bool) string {
	cols := datasetCase(datasets) + `, _dataset_id, _file_id, _hour, srcaddr, _srcaddr_v4, dstport, CAST('REJECT' AS VARCHAR) AS action, records, bytes, packets`
	if stored {
		return "SELECT " + cols + " FROM rollup_rejects"
	}
	var parts []string
	for _, t := range tables {
		if q := rejectsRollupSelect(t, "true"); q != "" {
			parts = append(parts, q)
		}
	}
	if len(parts) == 0 {
		return "SELECT " + cols + " FROM (" + rejectsNone + ")"
	}
	return "SELECT " + cols + " FROM (" + strings.Join(parts, " UNION ALL ") + ") AS r (_dataset_id, _file_id, _hour, srcaddr, _srcaddr_v4, dstport, records, bytes, packets)"
}

// rejectsNone is an empty relation with the rollup's columns.
const rejectsNone = `SELECT CAST(NULL AS USMALLINT) AS _dataset_id, CAST(NULL AS UINTEGER) AS _file_id, CAST(NULL AS BIGINT) AS _hour,
	CAST(NULL AS VARCHAR) AS srcaddr, CAST(NULL AS UINTEGER) AS _srcaddr_v4, CAST(NULL AS INTEGER) AS dstport,
	CAST(NULL AS BIGINT) AS records, CAST(NULL AS BIGINT) AS bytes, CAST(NULL AS BIGINT) AS packets LIMIT 0`

// rollupBin is the width of the rollup's bins in seconds.
const rollupBin = 300

// datasetNameRE is what a dataset name may look like: it becomes a view name.
var datasetNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,62}$`)

// reservedNames are objects of the database a dataset may not shadow.
var reservedNames = map[string]bool{
	"flows": true, "flows_5m": true, "rollup_5m": true, "flows_rejects": true, "rollup_rejects": true, "flows_pairs": true, "rollup_pairs": true, "rollup_pairs_files": true, "hour_runs": true, "sealed_hours": true, "records": true, "records_ext": true, "datasets": true, "formats": true, "dataset_formats": true,
	"ingest_registry": true, "flowlens_meta": true, "vpc_flow_logs": true, "vpc_flow_logs_parquet": true,
	"record_tables": true,
}

// ValidDatasetName reports whether name can be used as a dataset name, and
// why not.
func ValidDatasetName(name string) error {
	if !datasetNameRE.MatchString(name) {
		return fmt.Errorf("invalid dataset name %q: use a letter then letters, digits, '_', '-' or '.' (at most 63)", name)
	}
	if low := strings.ToLower(name); reservedNames[low] || strings.HasPrefix(low, "records_") {
		return fmt.Errorf("invalid dataset name %q: the name is reserved", name)
	}
	return nil
}

// ipv4TextSQL is the SQL expression turning a UINTEGER IPv4 column into text.
func ipv4TextSQL(col string) string {
	return fmt.Sprintf("printf('%%d.%%d.%%d.%%d', %[1]s >> 24, (%[1]s >> 16) & 255, (%[1]s >> 8) & 255, %[1]s & 255)", col)
}

// flowsSelect returns the select list of the `flows` view over table t
// (NULL for the fields t lacks); datasets maps _dataset_id to names.
func flowsSelect(t table, datasets map[int]string) string { return flowsSelectOf(t, datasets, false) }

// flowsSelectOf is flowsSelect over the table's rows (sealed false) or
// over its sealed files, whose IPv4 address text is computed from the
// integer columns.
func flowsSelectOf(t table, datasets map[int]string, sealed bool) string {
	cols := flowsColumns(t, datasets, sealed)
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.expr
	}
	return strings.Join(parts, ", ")
}

// viewCol is one column of the flows view over a record table: its name
// and its select-list item.
type viewCol struct {
	name, expr string
	phys       []string // the table columns expr reads
}

// flowsColumns returns the columns of the flows view over table t, in the
// view's order (see flowsSelectOf).
func flowsColumns(t table, datasets map[int]string, sealed bool) []viewCol {
	cols := make([]viewCol, 0, len(flowlog.Fields())+20)
	add := func(name, expr string, phys ...string) { cols = append(cols, viewCol{name, expr, phys}) }
	add("dataset", datasetCase(datasets), "_dataset_id")
	for i := range flowlog.Fields() {
		f := &flowlog.Fields()[i]
		switch {
		case t.has(f.ID) && f.ID == flowlog.End:
			add(f.Column, `coalesce(start + _end_delta, _end_raw) AS "end"`, "start", "_end_delta", "_end_raw")
		case sealed && t.has(f.ID) && (f.ID == flowlog.SrcAddr || f.ID == flowlog.DstAddr):
			v4 := "_" + f.Column + "_v4"
			add(f.Column, fmt.Sprintf("coalesce(%s, %s) AS %s", quoteIdent(f.Column), ipv4TextSQL(quoteIdent(v4)), quoteIdent(f.Column)), f.Column, v4)
		case t.has(f.ID):
			add(f.Column, quoteIdent(f.Column), f.Column)
		default:
			add(f.Column, fmt.Sprintf("CAST(NULL AS %s) AS %s", fieldSQLType(f), quoteIdent(f.Column)))
		}
	}
	const hourTS = "make_timestamp(_hour * 1000000)"
	add("year", fmt.Sprintf("strftime(%s, '%%Y') AS \"year\"", hourTS), "_hour")
	add("month", fmt.Sprintf("strftime(%s, '%%m') AS \"month\"", hourTS), "_hour")
	add("day", fmt.Sprintf("strftime(%s, '%%d') AS \"day\"", hourTS), "_hour")
	add("hour", fmt.Sprintf("strftime(%s, '%%H') AS \"hour\"", hourTS), "_hour")
	add("date", fmt.Sprintf("CAST(%s AS DATE) AS \"date\"", hourTS), "_hour")
	// The rest of Athena's partition columns (spec athena.md §2): the legacy
	// string date `dt`, the account and region under their partition names,
	// and the constant service name. (`account_id` and `region` here are the
	// select list's own columns above, NULL when the table lacks them.)
	add("dt", fmt.Sprintf("strftime(%s, '%%Y-%%m-%%d') AS \"dt\"", hourTS), "_hour")
	add("accid", `account_id AS "accid"`)
	add("aws-account-id", `account_id AS "aws-account-id"`)
	add("aws-region", `region AS "aws-region"`)
	add("aws-service", `'vpcflowlogs' AS "aws-service"`)
	add("_hour", "_hour", "_hour")
	for _, id := range []flowlog.FieldID{flowlog.SrcAddr, flowlog.DstAddr} {
		col := "_" + flowlog.Get(id).Column + "_v4"
		if t.has(id) {
			add(col, col, col)
		} else {
			add(col, "CAST(NULL AS UINTEGER) AS "+col)
		}
	}
	for _, c := range []string{"_format_id", "_ingest_time", "_dataset_id", "_file_id"} {
		add(c, c, c)
	}
	return cols
}

// narrowable reports whether the flows view's column name can be read
// through FlowsSource: every column but the partition columns that name
// another column of the select list (accid, aws-account-id, aws-region).
func narrowable(name string) bool {
	switch name {
	case "accid", "aws-account-id", "aws-region":
		return false
	}
	return true
}

// datasetCase maps _dataset_id to the dataset name.
func datasetCase(datasets map[int]string) string {
	var b strings.Builder
	b.WriteString("CASE _dataset_id WHEN 0 THEN NULL")
	for _, id := range sortedKeys(datasets) {
		fmt.Fprintf(&b, " WHEN %d THEN %s", id, quoteString(datasets[id]))
	}
	b.WriteString(" END AS dataset")
	return b.String()
}

// viewDDL returns the statements that (re)create the views for the given
// datasets; temp makes them TEMP views (of one connection).
//
// sealed maps a record table to the DuckDB list of its sealed files (see
// Store.parquetLists); the table's part of `flows` is then the UNION ALL of
// its rows and those files. pairs is the select of flows_pairs
// (Store.pairsViewSQL; "": computed from flows).
func viewDDL(tables []table, datasets map[int]string, dropped []string, temp, rejects bool, sealed map[string]string, pairs string) []string {
	create := "CREATE OR REPLACE VIEW "
	if temp {
		create = "CREATE OR REPLACE TEMP VIEW "
	}
	stmts := make([]string, 0, len(datasets)+3)
	for _, name := range dropped {
		stmts = append(stmts, "DROP VIEW IF EXISTS "+quoteIdent(name))
	}
	stmts = append(stmts, create+"flows AS "+flowsParts(tables, datasets, sealed, ""))
	// Each table's sealed files, for the narrow FROM items of FlowsSource:
	// a table macro of the physical columns to read (a list of names), so
	// that the file list is bound when a query runs, as flows is (a query
	// never reads a file list older than the table rows it reads), and
	// the scan is planned over those columns only (a view's `SELECT *`
	// over the files costs planning time per column, used or not).
	macro := "CREATE OR REPLACE MACRO "
	if temp {
		macro = "CREATE OR REPLACE TEMP MACRO "
	}
	for _, t := range tables {
		from := quoteIdent(t.name) + " LIMIT 0"
		if list := sealed[t.name]; list != "" {
			from = "read_parquet(" + list + ")"
		}
		stmts = append(stmts, macro+quoteIdent(sealedMacroName(t))+"(cols) AS TABLE SELECT COLUMNS(lambda c: list_contains(cols, c)) FROM "+from)
	}
	stmts = append(stmts, create+"flows_5m AS SELECT "+datasetCase(datasets)+
		", _bin AS bin, action, log_status, records, bytes, packets, _dataset_id, _file_id FROM rollup_5m")
	stmts = append(stmts, create+"flows_rejects AS "+rejectsView(tables, datasets, rejects))
	if pairs == "" {
		pairs = pairsFromFlows
	}
	stmts = append(stmts, create+pairsView+" AS "+pairs)
	def := ""
	for _, id := range sortedKeys(datasets) {
		name := datasets[id]
		stmts = append(stmts, fmt.Sprintf(create+"%s AS SELECT * FROM flows WHERE _dataset_id = %d", quoteIdent(name), id))
		if name == DefaultDataset {
			def = name
		}
	}
	// The table names of AWS's Athena documentation reach the default
	// dataset (every dataset while there is none), so pasted queries run.
	from := "flows"
	if def != "" {
		from = quoteIdent(def)
	}
	for _, alias := range athenaTables {
		stmts = append(stmts, create+alias+" AS SELECT * FROM "+from)
	}
	return stmts
}

// flowsParts is the UNION ALL of every record table's rows and sealed
// files (sealed: see viewDDL) under the flows view's columns, each part
// filtered by where ("" for none).
func flowsParts(tables []table, datasets map[int]string, sealed map[string]string, where string) string {
	if where != "" {
		where = " WHERE " + where
	}
	var parts []string
	for _, t := range tables {
		parts = append(parts, "SELECT "+flowsSelect(t, datasets)+" FROM "+quoteIdent(t.name)+where)
		if list := sealed[t.name]; list != "" {
			parts = append(parts, "SELECT "+flowsSelectOf(t, datasets, true)+" FROM read_parquet("+list+")"+where)
		}
	}
	return strings.Join(parts, " UNION ALL ")
}

// athenaTables are the table names AWS's Athena documentation uses.
var athenaTables = []string{"vpc_flow_logs", "vpc_flow_logs_parquet"}

// DefaultDataset is the dataset records go to when none is named.
const DefaultDataset = "default"

func sortedKeys(m map[int]string) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}

func itoa(i int) string { return strconv.Itoa(i) }
