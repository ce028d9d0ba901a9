package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Day files. Once every hour of a UTC day is over and sealed, Seal merges
// the day's hour files of a record table into one file sorted by
// (dataset, srcaddr, start), ClickHouse's ORDER BY of a daily partition:
// a lookup of one address then reads a row group or two of the day
// instead of one per hour, and the longer address runs compress better
// (docs/BENCHMARKS.md, issue #18 step 10). The hours stay the unit of the
// registry (`sealed_hours` has one row per hour, its file shared by the
// day's hours) and of retention: a change to some hours of a day file (a
// late file sealed into it, a replaced file's hours moved back into the
// table, retention cutting hours or one dataset's rows) writes the day's
// other rows into a new file in the same transaction (rewriteSealed).

// daySeconds is the length of the day of a day file.
const daySeconds = 24 * hourSeconds

// dayParquetOptions are the COPY options of a day file: as an hour's, in
// row groups of 64 k rows (DuckDB's cost per row group and column of a
// lookup falls with fewer groups, the bytes rise with larger ones; measured in
// docs/BENCHMARKS.md, step 10).
const dayParquetOptions = `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 65536`

// dayOf returns the start of the UTC day of hour h.
func dayOf(h int64) int64 {
	d := h - h%daySeconds
	if h < 0 && h%daySeconds != 0 {
		d -= daySeconds
	}
	return d
}

// daySortKeys is the sort order of a day file: the dataset, the source
// address (its integer, else its text), then start.
func daySortKeys(tb table) string {
	keys := []string{"_dataset_id"}
	for _, c := range tb.cols {
		if c.kind == ckIPv4 && c.name == "_srcaddr_v4" {
			keys = append(keys, quoteIdent(c.name))
		}
	}
	for _, c := range tb.cols {
		if c.name == "start" && c.kind == ckInt64 {
			keys = append(keys, quoteIdent(c.name))
		}
	}
	return strings.Join(keys, ", ")
}

// sealedSource is the query of the rows a new sealed file is written
// from: the rows of the sealed files (names in the sealed folder) that
// keep accepts ("" for all), and the record table's rows of the hours
// fromTable.
func (s *Store) sealedSource(tb table, files []string, keep string, fromTable []int64) string {
	var parts []string
	if len(fromTable) > 0 {
		parts = append(parts, "SELECT * FROM "+quoteIdent(tb.name)+" WHERE _hour IN "+hourList(fromTable))
	}
	if len(files) > 0 {
		paths := make([]string, len(files))
		for i, f := range files {
			paths[i] = quoteString(s.sealedPath(f))
		}
		q := "SELECT * FROM read_parquet([" + strings.Join(paths, ", ") + "])"
		if keep != "" {
			q += " WHERE " + keep
		}
		parts = append(parts, q)
	}
	return strings.Join(parts, " UNION ALL BY NAME ")
}

// newSealedName returns the name of a new sealed file of table tb (prefix
// "h<hour>" or "d<day>") that no file in the folder has.
func (s *Store) newSealedName(tb table, prefix string) (string, string) {
	for {
		name := filepath.ToSlash(filepath.Join(tb.name, fmt.Sprintf("%s-%d.parquet", prefix, s.sealSeq())))
		path := s.sealedPath(name)
		if _, err := os.Stat(path); err != nil {
			return name, path
		}
	}
}

// writeDayFile writes the rows of src (see sealedSource) into the new day
// file path in the day order and syncs it; conn runs the COPY (a
// transaction's, or any of the pool's). It returns the file's size.
func (s *Store) writeDayFile(ctx context.Context, conn interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, tb table, src, path string) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	q := "COPY (SELECT " + sealedColumns(tb) + " FROM (" + src + ") ORDER BY " + daySortKeys(tb) + ") TO " +
		quoteString(path) + " (" + dayParquetOptions + ")"
	var n int64
	if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
		_ = os.Remove(path)
		return 0, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	size, err := syncFile(path)
	if err != nil {
		_ = os.Remove(path)
		return 0, err
	}
	return size, nil
}

// installSealed registers the new sealed file name of table tb (size
// bytes, already written and synced) for the hours its rows fall in, in
// place of the files old (names): every hour that pointed to one of them
// is unregistered first. A file without rows is removed instead. It
// returns the records of the new file.
func (w *writeTx) installSealed(ctx context.Context, tb table, name string, size int64, old []string, next sealedSet) (int64, error) {
	path := w.s.sealedPath(name)
	w.newFiles = append(w.newFiles, path)
	rows, err := w.conn.QueryContext(ctx, `SELECT _hour, count(*) FROM read_parquet(`+quoteString(path)+`) GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return 0, fmt.Errorf("count the hours of %s: %w", name, err)
	}
	type hc struct{ h, n int64 }
	var counts []hc
	for rows.Next() {
		var c hc
		if err := rows.Scan(&c.h, &c.n); err != nil {
			rows.Close()
			return 0, err
		}
		counts = append(counts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var gone []int64
	for _, g := range next.files(tb.name) {
		if slices.Contains(old, g.name) {
			gone = append(gone, g.hours...)
			w.retired = append(w.retired, w.s.sealedPath(g.name))
		}
	}
	if len(gone) > 0 {
		if err := w.exec(ctx, `DELETE FROM sealed_hours WHERE table_name = ? AND _hour IN `+hourList(gone), tb.name); err != nil {
			return 0, err
		}
		for _, h := range gone {
			delete(next[tb.name], h)
		}
	}
	var total int64
	var vals []string
	for _, c := range counts {
		vals = append(vals, "("+quoteString(tb.name)+", "+strconv.FormatInt(c.h, 10)+", "+quoteString(name)+", "+
			strconv.FormatInt(c.n, 10)+", "+strconv.FormatInt(size, 10)+", "+strconv.FormatInt(w.now, 10)+")")
		next.set(tb.name, c.h, sealedFile{name: name, records: c.n, bytes: size})
		total += c.n
	}
	if len(vals) == 0 {
		// nothing left: the empty file goes now, the others after the commit
		w.newFiles = w.newFiles[:len(w.newFiles)-1]
		_ = os.Remove(path)
		return 0, nil
	}
	if err := w.exec(ctx, `INSERT OR REPLACE INTO sealed_hours VALUES `+strings.Join(vals, ", ")); err != nil {
		return 0, fmt.Errorf("register %s: %w", name, err)
	}
	if err := w.addPairs(ctx, tb, name, total); err != nil {
		return 0, err
	}
	return total, nil
}

// rewriteSealed writes, in w's transaction, the rows of the sealed files
// of table tb that keep accepts ("" for all) and the table's rows of the
// hours fromTable into one new day file that replaces those files, and
// deletes those table rows. It returns the records of the new file.
func (w *writeTx) rewriteSealed(ctx context.Context, tb table, files []string, keep string, fromTable []int64, next sealedSet) (int64, error) {
	var first int64
	found := false
	for h, f := range next[tb.name] {
		if slices.Contains(files, f.name) && (!found || h < first) {
			first, found = h, true
		}
	}
	for _, h := range fromTable {
		if !found || h < first {
			first, found = h, true
		}
	}
	name, path := w.s.newSealedName(tb, "d"+strconv.FormatInt(dayOf(first), 10))
	size, err := w.s.writeDayFile(ctx, w.conn, tb, w.s.sealedSource(tb, files, keep, fromTable), path)
	if err != nil {
		return 0, err
	}
	n, err := w.installSealed(ctx, tb, name, size, files, next)
	if err != nil {
		return 0, err
	}
	if len(fromTable) > 0 {
		if err := w.exec(ctx, `DELETE FROM `+quoteIdent(tb.name)+` WHERE _hour IN `+hourList(fromTable)); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// mergeDays merges the sealed hours of table tb of every day that is over
// (its last hour at or before cutoff), has no rows left in the table and
// is in more than one file into a day file. The file is written outside
// any lock (sealed files do not change); lock (nil for none) is then held
// around the transaction that installs it, which gives up if the day's
// files changed meanwhile. It returns the days merged and their records.
func (s *Store) mergeDays(ctx context.Context, tb table, cutoff int64, lock sync.Locker) (int, int64, error) {
	type day struct {
		d     int64
		files []string
	}
	var days []day
	for _, g := range s.sealedNow().files(tb.name) {
		d := dayOf(g.hours[0])
		if dayOf(g.hours[len(g.hours)-1]) != d || d+daySeconds-hourSeconds > cutoff {
			continue
		}
		if len(days) == 0 || days[len(days)-1].d != d {
			days = append(days, day{d: d})
		}
		days[len(days)-1].files = append(days[len(days)-1].files, g.name)
	}
	var merged int
	var records int64
	for _, dy := range days {
		if len(dy.files) < 2 {
			continue
		}
		var left int64
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(tb.name)+` WHERE _hour >= ? AND _hour < ?`,
			dy.d, dy.d+daySeconds).Scan(&left); err != nil {
			return merged, records, fmt.Errorf("merge the day %d: %w", dy.d, err)
		}
		if left > 0 {
			continue // the next Seal writes those rows first
		}
		name, path := s.newSealedName(tb, "d"+strconv.FormatInt(dy.d, 10))
		size, err := s.writeDayFile(ctx, s.db, tb, s.sealedSource(tb, dy.files, "", nil), path)
		if err != nil {
			return merged, records, fmt.Errorf("merge the day %d: %w", dy.d, err)
		}
		if lock != nil {
			lock.Lock()
		}
		n, err := s.installDay(ctx, tb, dy.d, dy.files, name, size)
		if lock != nil {
			lock.Unlock()
		}
		if err != nil {
			return merged, records, err
		}
		if n > 0 {
			merged++
			records += n
		}
	}
	return merged, records, nil
}

// installDay is mergeDays' transaction: the day file name replaces files,
// unless the day's hours are no longer in exactly those files (then the
// new file is removed and 0 returned).
func (s *Store) installDay(ctx context.Context, tb table, d int64, files []string, name string, size int64) (int64, error) {
	path := s.sealedPath(name)
	w, err := s.beginWrite(ctx)
	if err != nil {
		_ = os.Remove(path)
		return 0, err
	}
	var now []string
	for _, g := range w.sealedView().files(tb.name) {
		if dayOf(g.hours[0]) == d || dayOf(g.hours[len(g.hours)-1]) == d {
			now = append(now, g.name)
		}
	}
	if !slices.Equal(now, files) {
		w.rollback()
		_ = os.Remove(path)
		return 0, nil
	}
	next := w.sealedNext()
	n, err := w.installSealed(ctx, tb, name, size, files, next)
	if err == nil {
		err = w.refreshViews(ctx)
	}
	if err != nil {
		w.rollback()
		return 0, fmt.Errorf("merge the day %d of %s: %w", d, tb.name, err)
	}
	if err := w.commit(ctx); err != nil {
		return 0, fmt.Errorf("merge the day %d of %s: %w", d, tb.name, err)
	}
	return n, nil
}

// sealDays writes the rows the record table tb holds of each day that is
// over (its last hour at or before cutoff) together with the day's sealed
// files into one new day file, in one transaction per day: every record
// of such a day is then written once more instead of twice (into an hour
// file, then by mergeDays). A day with a sealed file that holds hours of
// another day is left to sealHours and mergeDays. The caller has the
// store to itself (Seal without a lock). It adds the days written, the
// table hours they took, the records moved from the table and those of
// the new files to st.
func (s *Store) sealDays(ctx context.Context, tb table, cutoff int64, st *SealStats) error {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT _hour FROM `+quoteIdent(tb.name)+` WHERE _hour <= ? ORDER BY 1`, cutoff)
	if err != nil {
		return fmt.Errorf("seal: list the hours of %s: %w", tb.name, err)
	}
	type day struct {
		d     int64
		hours []int64
	}
	var days []day
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return fmt.Errorf("seal: list the hours of %s: %w", tb.name, err)
		}
		d := dayOf(h)
		if d+daySeconds-hourSeconds > cutoff {
			continue
		}
		if len(days) == 0 || days[len(days)-1].d != d {
			days = append(days, day{d: d})
		}
		days[len(days)-1].hours = append(days[len(days)-1].hours, h)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("seal: list the hours of %s: %w", tb.name, err)
	}
	for _, dy := range days {
		var files []string
		var was int64
		whole := true
		for _, g := range s.sealedNow().files(tb.name) {
			first, last := dayOf(g.hours[0]), dayOf(g.hours[len(g.hours)-1])
			if last < dy.d || first > dy.d {
				continue
			}
			if first != dy.d || last != dy.d {
				whole = false
			}
			files = append(files, g.name)
			was += g.records
		}
		if !whole {
			continue
		}
		n, err := s.sealDay(ctx, tb, dy.d, files, dy.hours)
		if err != nil {
			return err
		}
		st.Days++
		st.Hours += len(dy.hours)
		st.Records += n - was
		st.DayRecords += n
	}
	return nil
}

// sealDay is sealDays' transaction for the day d: the sealed files files
// of the day and the table's rows of hours go into one new day file.
func (s *Store) sealDay(ctx context.Context, tb table, d int64, files []string, hours []int64) (int64, error) {
	// Under a memory limit lowered for the ingest (LimitMemory), DuckDB
	// can run out of memory in the day's sort and Parquet write: a 2 M-
	// record day under the ingest's 400 MB failed in 5 of 6 runs (DuckDB
	// holding 36 MB when the Seal started; pauses of 2-8 s before another
	// attempt did not help; docs/BENCHMARKS.md, issue #18 step 18). The
	// failed statement aborts its transaction (its file is removed, the
	// transaction rolled back), so the whole day runs again once under
	// the store's own limit (Config.MemoryLimit), which is then lowered
	// again. Before the first attempt the limit is sized for the day's
	// sort (sizeDaySort), which leaves the retry to days it misjudges.
	defer s.sizeDaySort(ctx, tb, d, files, hours)()
	n, err := s.sealDayOnce(ctx, tb, d, files, hours)
	if err == nil || !isOutOfMemory(err) {
		return n, err
	}
	var cur string
	if qerr := s.db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&cur); qerr != nil {
		return 0, err
	}
	s.logger.Warn("sealing a day ran out of DuckDB memory; trying again under the store's memory limit", "table", tb.name,
		"day", time.Unix(d, 0).UTC().Format(time.DateOnly), "limit", cur, "store_limit", s.cfg.MemoryLimit, "err", err)
	if _, serr := s.db.ExecContext(ctx, "SET GLOBAL memory_limit = "+quoteString(s.cfg.MemoryLimit)); serr != nil {
		return 0, err
	}
	defer func() {
		if _, rerr := s.db.ExecContext(context.Background(), "SET GLOBAL memory_limit = "+quoteString(cur)); rerr != nil {
			s.logger.Warn("lower the memory limit again", "err", rerr)
		}
	}()
	return s.sealDayOnce(ctx, tb, d, files, hours)
}

// isOutOfMemory reports whether err is DuckDB's out-of-memory error.
func isOutOfMemory(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Out of Memory Error")
}

func (s *Store) sealDayOnce(ctx context.Context, tb table, d int64, files []string, hours []int64) (int64, error) {
	w, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	n, err := w.rewriteSealed(ctx, tb, files, "", hours, w.sealedNext())
	if err == nil {
		err = w.sealedHours(ctx, tb, hours)
	}
	if err != nil {
		w.rollback()
		return 0, fmt.Errorf("seal the day %d of %s: %w", d, tb.name, err)
	}
	if err := w.commit(ctx); err != nil {
		return 0, fmt.Errorf("seal the day %d of %s: %w", d, tb.name, err)
	}
	return n, nil
}
