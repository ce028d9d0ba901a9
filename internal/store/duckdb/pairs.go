package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// The distinct-pairs rollup (issue #18, Q5). A question such as
// `stats count_distinct(dstport) by srcaddr` needs the distinct (source,
// destination port) pairs of the records: day-20m's 20 M records hold
// 5.9 M of them, and building that hash table is what such a query costs.
// When a day file of at least pairsMinRecords records is installed
// (installSealed), its distinct pairs are
// written into `rollup_pairs` in the same transaction, one row per pair,
// and the file is listed in `rollup_pairs_files`; rows of files that are
// no longer registered are deleted in the transaction that unregisters
// them (refreshViews). The view `flows_pairs` is the distinct pairs of
// all records: those of the day files' rollup rows, plus those computed
// from the records that are in no such file (the record tables' rows,
// hour files, day files of an older flowlens), bound like `flows` when a
// query runs. The compiler reads it for that shape only when the query
// reads every record (no time range, no dataset, no filter).

// pairsView is the name of the distinct-pairs view.
const pairsView = "flows_pairs"

// PairsView reports that the store's SQL can read flows_pairs: every
// connection has it, also a window session's (over the window's flows).
func (s *Store) PairsView() bool { return true }

// pairsDDL creates the distinct-pairs rollup: per day file, its distinct
// (IPv4 source, source text when it is not IPv4, destination port)
// triples, and the files it holds.
var pairsDDL = []string{
	`CREATE TABLE IF NOT EXISTS rollup_pairs (file VARCHAR NOT NULL, _srcaddr_v4 UINTEGER, srcaddr VARCHAR, dstport INTEGER)`,
	`CREATE TABLE IF NOT EXISTS rollup_pairs_files (file VARCHAR PRIMARY KEY, pairs BIGINT NOT NULL)`,
}

// pairsSelect is the SELECT of the distinct pairs of table tb's rows read
// from the relation from: the IPv4 source, the source text only where
// there is no IPv4 value (the sealed files keep no IPv4 text), and the
// destination port, under those column names.
func pairsSelect(tb table, from string) string {
	v4, text, port := "CAST(NULL AS UINTEGER)", "CAST(NULL AS VARCHAR)", "CAST(NULL AS INTEGER)"
	if tb.has(flowlog.SrcAddr) {
		v4, text = "_srcaddr_v4", quoteIdent(flowlog.Get(flowlog.SrcAddr).Column)
	}
	if tb.has(flowlog.DstPort) {
		port = quoteIdent(flowlog.Get(flowlog.DstPort).Column)
	}
	return "SELECT DISTINCT " + v4 + " AS _srcaddr_v4, CASE WHEN " + v4 + " IS NULL THEN " + text + " END AS srcaddr, " +
		port + " AS dstport FROM " + from
}

// isDayFile reports whether the sealed file name is a day file (see
// rewriteSealed and mergeDays: "<table>/d<day>-<n>.parquet").
func isDayFile(name string) bool { return strings.HasPrefix(filepath.Base(name), "d") }

// pairsMinRecords is the fewest records of a day file whose pairs the
// rollup keeps. Below it, computing the pairs when a query runs costs
// little (day-20m's Q5 took ~1.4 s for 20 M records), while each rewrite
// of a day file rewrites its pairs in the DuckDB file: a small store under
// a rolling retention would churn its blocks for no gain.
const pairsMinRecords = 1 << 20

// addPairs writes the distinct pairs of the new sealed file name of table
// tb (a day file of records records) into the rollup, in w's transaction.
// Sorted by source and port, the rows compress to about 2 bytes each.
func (w *writeTx) addPairs(ctx context.Context, tb table, name string, records int64) error {
	if !isDayFile(name) || records < w.s.pairsMin {
		return nil
	}
	from := "read_parquet(" + quoteString(w.s.sealedPath(name)) + ")"
	res, err := w.conn.ExecContext(ctx, `INSERT INTO rollup_pairs SELECT `+quoteString(name)+`, * FROM (`+
		pairsSelect(tb, from)+`) ORDER BY _srcaddr_v4, srcaddr, dstport`)
	if err != nil {
		return fmt.Errorf("the distinct pairs of %s: %w", name, err)
	}
	n, _ := res.RowsAffected()
	if err := w.exec(ctx, `INSERT OR REPLACE INTO rollup_pairs_files VALUES (?, ?)`, name, n); err != nil {
		return fmt.Errorf("the distinct pairs of %s: %w", name, err)
	}
	return nil
}

// pairsState is what flows_pairs is built from: whether the database has
// the rollup, the registered files whose pairs it holds, and whether it
// also holds rows of files no longer registered (left by a flowlens that
// did not know the rollup).
type pairsState struct {
	stored bool
	paired map[string]bool
	stale  bool
}

// loadPairs reads the files of the distinct-pairs rollup that m still
// registers; stale lists the others.
func loadPairs(ctx context.Context, conn interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, m sealedSet) (st pairsState, stale []string, err error) {
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = 'fl' AND table_name = 'rollup_pairs_files'`).Scan(&n); err != nil {
		return st, nil, fmt.Errorf("load the distinct pairs: %w", err)
	}
	if n == 0 {
		return st, nil, nil
	}
	st.stored, st.paired = true, map[string]bool{}
	registered := map[string]bool{}
	for tb := range m {
		for _, f := range m[tb] {
			registered[f.name] = true
		}
	}
	rows, err := conn.QueryContext(ctx, `SELECT file FROM rollup_pairs_files`)
	if err != nil {
		return st, nil, fmt.Errorf("load the distinct pairs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return st, nil, err
		}
		if registered[f] {
			st.paired[f] = true
		} else {
			stale = append(stale, f)
		}
	}
	sort.Strings(stale)
	st.stale = len(stale) > 0
	return st, stale, rows.Err()
}

// pairsNow returns the rollup's state for the views of w's transaction,
// after deleting the rows of the files the transaction unregistered.
func (w *writeTx) pairsNow(ctx context.Context) (pairsState, error) {
	st, stale, err := loadPairs(ctx, w.conn, w.sealedView())
	if err != nil || len(stale) == 0 {
		return st, err
	}
	list := make([]string, len(stale))
	for i, f := range stale {
		list[i] = quoteString(f)
	}
	in := " WHERE file IN (" + strings.Join(list, ", ") + ")"
	for _, t := range []string{"rollup_pairs", "rollup_pairs_files"} {
		if err := w.exec(ctx, "DELETE FROM "+t+in); err != nil {
			return st, fmt.Errorf("drop the distinct pairs of retired files: %w", err)
		}
	}
	st.stale = false
	return st, nil
}

// pairsFromFlows is flows_pairs computed from the `flows` view (of the
// database, or of a window session).
const pairsFromFlows = "SELECT DISTINCT _srcaddr_v4, CASE WHEN _srcaddr_v4 IS NULL THEN srcaddr END AS srcaddr, dstport FROM flows"

// pairsViewSQL is the select of the flows_pairs view: the distinct
// (`_srcaddr_v4`, `srcaddr`, `dstport`) of every record, the source text
// only where there is no IPv4 value. m is the sealed files the views
// show, st the rollup's files among them.
func (s *Store) pairsViewSQL(tables []table, m sealedSet, st pairsState) string {
	var rest []string
	var files []string
	for _, t := range tables {
		rest = append(rest, pairsSelect(t, quoteIdent(t.name)))
		list := s.parquetList(m, t.name, func(h int64) bool { return !st.paired[m[t.name][h].name] })
		if list != "" {
			rest = append(rest, pairsSelect(t, "read_parquet("+list+")"))
		}
		for _, g := range m.files(t.name) {
			if st.paired[g.name] {
				files = append(files, g.name)
			}
		}
	}
	const cols = "_srcaddr_v4, srcaddr, dstport"
	others := "SELECT DISTINCT " + cols + " FROM (" + strings.Join(rest, " UNION ALL ") + ")"
	if len(rest) == 0 {
		others = "SELECT CAST(NULL AS UINTEGER) AS _srcaddr_v4, CAST(NULL AS VARCHAR) AS srcaddr, CAST(NULL AS INTEGER) AS dstport LIMIT 0"
	}
	if len(files) == 0 {
		return others
	}
	// The rows of one file are distinct; those of several are made so.
	paired := "SELECT " + cols + " FROM rollup_pairs"
	if len(files) > 1 {
		paired = "SELECT DISTINCT " + cols + " FROM rollup_pairs"
	}
	if st.stale {
		list := make([]string, len(files))
		for i, f := range files {
			list[i] = quoteString(f)
		}
		paired += " WHERE file IN (" + strings.Join(list, ", ") + ")"
	}
	// Pairs of the rollup that the other records hold too are counted once.
	return "WITH _rest AS MATERIALIZED (" + others + ") SELECT " + cols + " FROM _rest UNION ALL SELECT p._srcaddr_v4, p.srcaddr, p.dstport FROM (" +
		paired + ") AS p ANTI JOIN _rest AS r ON p._srcaddr_v4 IS NOT DISTINCT FROM r._srcaddr_v4 AND p.srcaddr IS NOT DISTINCT FROM r.srcaddr" +
		" AND p.dstport IS NOT DISTINCT FROM r.dstport"
}
