package duckdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// Direct sealing. A commit group whose rows fall in hours that are already
// over (a bulk ingest of yesterday's files, a replayed backlog) would write
// them into the record table only for Seal to copy them into the sealed
// tier afterwards: every record written twice (32% of an ingest's CPU in
// docs/BENCHMARKS.md, issue #18). Instead, the rows of such an hour go
// straight from the group's Arrow stream into the hour's sealed file, in
// the group's transaction, when
//   - the hour is over by Config.SealAfter (as Seal would take it),
//   - it has neither a sealed file nor rows in the table yet (else the rows
//     go to the table and the next Seal writes both into one file, as for
//     a late file), and
//   - the group holds at least Config.DirectSealRecords of its rows (a
//     trickle of small files keeps going through the table, where Seal
//     gathers an hour's runs into one file).
// The file is written and synced before the transaction registers it, as
// Seal's are: a crash before the commit leaves an unregistered file, which
// the next writable open removes, and the group's files stay unregistered.

// directPart is a range of a group's rows (one hour) written straight into
// the sealed tier.
type directPart struct {
	hour   int64
	lo, hi int
	cutoff int64 // the last hour that is over (Seal's cutoff)
}

// directParquetOptions are the COPY options of a directly written hour
// whose day is over: zstd at level 1 (the day file rewrites it at
// parquetOptions' level right after).
const directParquetOptions = `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 32768`

// directHours splits the rows of group g of table tb (sorted by hour) into
// the hours written straight into the sealed tier and the rest (in group
// order, for the table).
func (w *writeTx) directHours(ctx context.Context, tb table, g *group) ([]directPart, *group, error) {
	minRecs := w.s.cfg.DirectSealRecords
	if !canStream || minRecs < 0 || len(g.rows) < minRecs {
		return nil, g, nil
	}
	cutoff := w.s.cfg.Now().Add(-w.s.cfg.SealAfter).Unix() - hourSeconds
	var cand []directPart
	for lo := 0; lo < len(g.hours); {
		hi := lo + 1
		for hi < len(g.hours) && g.hours[hi] == g.hours[lo] {
			hi++
		}
		h := g.hours[lo]
		if h <= cutoff && hi-lo >= minRecs {
			if _, sealed := w.sealedView()[tb.name][h]; !sealed {
				cand = append(cand, directPart{hour: h, lo: lo, hi: hi, cutoff: cutoff})
			}
		}
		lo = hi
	}
	if len(cand) == 0 {
		return nil, g, nil
	}
	// hours holding table rows (of earlier commits, or this transaction's
	// spilled chunks) stay on the table path
	hs := make([]int64, len(cand))
	for i, c := range cand {
		hs[i] = c.hour
	}
	rows, err := w.conn.QueryContext(ctx, `SELECT DISTINCT _hour FROM `+quoteIdent(tb.name)+` WHERE _hour IN `+hourList(hs))
	if err != nil {
		return nil, nil, fmt.Errorf("look up the hours of the table: %w", err)
	}
	inTable := map[int64]bool{}
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return nil, nil, err
		}
		inTable[h] = true
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, nil, err
	}
	var direct []directPart
	for _, c := range cand {
		if !inTable[c.hour] {
			direct = append(direct, c)
		}
	}
	if len(direct) == 0 {
		return nil, g, nil
	}
	rest := &group{parts: g.parts, now: g.now}
	prev := 0
	for _, d := range direct {
		rest.rows = append(rest.rows, g.rows[prev:d.lo]...)
		rest.hours = append(rest.hours, g.hours[prev:d.lo]...)
		prev = d.hi
	}
	rest.rows = append(rest.rows, g.rows[prev:]...)
	rest.hours = append(rest.hours, g.hours[prev:]...)
	return direct, rest, nil
}

// sealDirect writes rows [d.lo, d.hi) of group g (one hour of table tb) into
// a new sealed file and registers it in w's transaction.
func (w *writeTx) sealDirect(ctx context.Context, tb table, g *group, d directPart) error {
	name, path := w.s.newSealedName(tb, "h"+strconv.FormatInt(d.hour, 10))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	sub := &group{parts: g.parts, rows: g.rows[d.lo:d.hi], hours: g.hours[d.lo:d.hi], now: g.now}
	// The group's order is (hour, srcaddr, dstaddr, start): the sealed
	// order when the hour holds one dataset; DuckDB keeps it when told to
	// preserve the insertion order (the store turns that off).
	order := ""
	for _, r := range sub.rows {
		if g.parts[r.p].dataset != g.parts[sub.rows[0].p].dataset {
			order = " ORDER BY _dataset_id, " + sealSortKeys(tb)
			break
		}
	}
	if err := w.exec(ctx, "SET preserve_insertion_order = true"); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	opts := parquetOptions
	if dayOf(d.hour)+daySeconds-hourSeconds <= d.cutoff {
		// The hour's day is over: the next Seal merges its hours into a
		// day file (sealed_days.go), so this file is read once more and
		// need not be small.
		opts = directParquetOptions
	}
	err := w.streamGroup(ctx, tb, sub, func(cols []physCol) string {
		return "COPY (SELECT " + directColumns(tb, cols) + " FROM fl_incoming" + order + ") TO " +
			quoteString(path) + " (" + opts + ")"
	})
	if rerr := w.exec(ctx, "SET preserve_insertion_order = false"); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("seal: write %s: %w", name, err)
	}
	size, err := syncFile(path)
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("seal: %w", err)
	}
	w.newFiles = append(w.newFiles, path)
	n := int64(d.hi - d.lo)
	if err := w.exec(ctx, `INSERT INTO sealed_hours VALUES (?, ?, ?, ?, ?, ?)`, tb.name, d.hour, name, n, size, w.now); err != nil {
		return fmt.Errorf("seal: register %s: %w", name, err)
	}
	if err := w.exec(ctx, `INSERT INTO hour_runs VALUES (?, ?, 0, ?, ?)
		ON CONFLICT (table_name, _hour) DO UPDATE SET written_ms = excluded.written_ms, sealed_ms = excluded.sealed_ms`,
		tb.name, d.hour, w.now, w.now); err != nil {
		return fmt.Errorf("seal: register %s: %w", name, err)
	}
	w.sealedNext().set(tb.name, d.hour, sealedFile{name: name, records: n, bytes: size})
	w.direct[tb.name] = append(w.direct[tb.name], path)
	return nil
}

// directColumns is the select list writing a group's stream into a sealed
// file: every column of table tb in its order (sealedColumns' form), NULL
// of its type where the group has no values.
func directColumns(tb table, present []physCol) string {
	has := map[string]bool{}
	for _, c := range present {
		has[c.name] = true
	}
	out := make([]string, len(tb.cols))
	for i, c := range tb.cols {
		q := quoteIdent(c.name)
		switch {
		case !has[c.name]:
			q = "CAST(NULL AS " + c.sqlType + ") AS " + q
		case c.kind == ckText && (c.field == flowlog.SrcAddr || c.field == flowlog.DstAddr):
			v4 := "_" + c.name + "_v4"
			if has[v4] {
				q = fmt.Sprintf("CASE WHEN %s IS NULL THEN %s END AS %s", quoteIdent(v4), q, q)
			}
		default:
			q = "CAST(" + q + " AS " + c.sqlType + ") AS " + q
		}
		out[i] = q
	}
	return strings.Join(out, ", ")
}

// rollupSource is what the rollups of a commit read the rows of table tb
// from: the table, and the sealed files the commit wrote directly (address
// text restored).
func (w *writeTx) rollupSource(tb table) string {
	files := w.direct[tb.name]
	if len(files) == 0 {
		return quoteIdent(tb.name)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = quoteString(f)
	}
	return "(SELECT * FROM " + quoteIdent(tb.name) + " UNION ALL BY NAME SELECT " + restoredColumns(tb) +
		" FROM read_parquet([" + strings.Join(paths, ", ") + "])) AS " + quoteIdent(tb.name)
}
