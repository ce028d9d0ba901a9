package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// The sealed tier (layout 5). An hour that is over (see Seal) is written
// once into a zstd Parquet file of its own, sorted by (dataset, srcaddr,
// dstaddr, start) in small row groups, and its rows leave the record
// table: the table keeps the hours still being written. Once its day is
// over, the day's hour files are merged into one (sealed_days.go). The `flows` view
// is the UNION ALL of each record table and its hours' files, so every
// query, export and retention sees one set of records.
//
// A sealed file holds the record table's columns, except that the address
// text of an IPv4 address is left out (NULL): it is the canonical dotted
// quad of the integer column (the decoder stores the integer form only for
// text already in that form), and the view computes it. The text stays
// for IPv6 and other non-IPv4 values. Without the text and with entropy
// coding of the integer columns an hour takes about half the bytes of the
// DuckDB table (docs/BENCHMARKS.md, issue #18).
//
// Crash safety: the file is written and synced under a new name before the
// transaction that deletes the hour's rows from the table and registers
// the file (in `sealed_hours`) commits; a crash before the commit leaves an
// unregistered file, which the next writable open removes. Files replaced
// or dropped by a commit are removed a minute later (queries running on an
// older snapshot may still read them), at Close or at the next open.

// sealedDDL creates the registry of the sealed hours: per record table and
// hour, its Parquet file (a name inside the data directory's `sealed`
// folder), its records and bytes.
const sealedDDL = `CREATE TABLE IF NOT EXISTS sealed_hours (table_name VARCHAR NOT NULL, _hour BIGINT NOT NULL,
			file VARCHAR NOT NULL, records BIGINT NOT NULL, bytes BIGINT NOT NULL, sealed_ms BIGINT NOT NULL,
			PRIMARY KEY (table_name, _hour))`

// sealedDirName is the folder of the sealed files inside the data directory.
const sealedDirName = "sealed"

// parquetOptions are the COPY options of a sealed file: zstd level 9 and
// row groups of 32 k rows (zone maps then prune an address lookup to a row
// group or two of each hour). Measured on 2 M records (BENCHMARKS.md): 11.9
// bytes per record against 12.3 at zstd's default level, 12.4 with 122,880-row
// groups and 13.6 for Parquet format version 2's encodings.
const parquetOptions = `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 32768`

// sealedFile is one sealed hour of a record table.
type sealedFile struct {
	name    string // relative to the sealed folder
	records int64
	bytes   int64
}

// sealedSet is the sealed hours of every record table: table → hour → file.
// It is replaced, never changed in place, once installed in the Store.
type sealedSet map[string]map[int64]sealedFile

func (m sealedSet) clone() sealedSet {
	out := make(sealedSet, len(m))
	for t, hours := range m {
		h := make(map[int64]sealedFile, len(hours))
		for k, v := range hours {
			h[k] = v
		}
		out[t] = h
	}
	return out
}

func (m sealedSet) set(tb string, hour int64, f sealedFile) {
	if m[tb] == nil {
		m[tb] = map[int64]sealedFile{}
	}
	m[tb][hour] = f
}

// hours returns the sealed hours of a table, ascending.
func (m sealedSet) hours(tb string) []int64 {
	hs := make([]int64, 0, len(m[tb]))
	for h := range m[tb] {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}

// bytes is the size of every sealed file (a day file counted once).
func (m sealedSet) bytes() int64 {
	var n int64
	for _, hours := range m {
		seen := map[string]bool{}
		for _, f := range hours {
			if !seen[f.name] {
				seen[f.name] = true
				n += f.bytes
			}
		}
	}
	return n
}

// files returns the sealed files of a table in the order of their first
// hour, each with its hours (ascending).
func (m sealedSet) files(tb string) []sealedGroup {
	var out []sealedGroup
	at := map[string]int{}
	for _, h := range m.hours(tb) {
		name := m[tb][h].name
		i, ok := at[name]
		if !ok {
			i = len(out)
			at[name] = i
			out = append(out, sealedGroup{name: name})
		}
		out[i].hours = append(out[i].hours, h)
		out[i].records += m[tb][h].records
	}
	return out
}

// sealedGroup is one sealed file of a table and the hours it holds.
type sealedGroup struct {
	name    string
	hours   []int64
	records int64
}

// shared reports whether the file of hour h of table tb holds other hours
// too (a day file).
func (m sealedSet) shared(tb string, h int64) bool {
	f, ok := m[tb][h]
	if !ok {
		return false
	}
	for k, g := range m[tb] {
		if k != h && g.name == f.name {
			return true
		}
	}
	return false
}

// sealedDir returns the sealed folder of the store.
func (s *Store) sealedDir() string { return filepath.Join(s.cfg.Dir, sealedDirName) }

// sealedPath returns the path of a sealed file.
func (s *Store) sealedPath(name string) string { return filepath.Join(s.sealedDir(), name) }

// parquetList renders the paths of the files of some hours of a table as
// a DuckDB list literal ("" when there are none). keep (nil for all)
// selects the hours.
func (s *Store) parquetList(m sealedSet, tb string, keep func(hour int64) bool) string {
	var parts []string
	seen := map[string]bool{}
	for _, h := range m.hours(tb) {
		if name := m[tb][h].name; (keep == nil || keep(h)) && !seen[name] {
			seen[name] = true
			parts = append(parts, quoteString(s.sealedPath(name)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// loadSealed reads the sealed hours (none in a database of an older layout).
func loadSealed(ctx context.Context, conn *sql.Conn) (sealedSet, error) {
	m := sealedSet{}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = 'fl' AND table_name = 'sealed_hours'`).Scan(&n); err != nil || n == 0 {
		return m, err
	}
	rows, err := conn.QueryContext(ctx, `SELECT table_name, _hour, file, records, bytes FROM sealed_hours`)
	if err != nil {
		return nil, fmt.Errorf("load the sealed hours: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tb string
		var h int64
		var f sealedFile
		if err := rows.Scan(&tb, &h, &f.name, &f.records, &f.bytes); err != nil {
			return nil, fmt.Errorf("load the sealed hours: %w", err)
		}
		m.set(tb, h, f)
	}
	return m, rows.Err()
}

// sweepSealed removes the files of the sealed folder that no sealed hour
// references: written by a seal that did not commit, or replaced before a
// crash. Only a writable open calls it, before any query runs.
func (s *Store) sweepSealed(m sealedSet) error {
	keep := map[string]bool{}
	for _, hours := range m {
		for _, f := range hours {
			keep[filepath.FromSlash(f.name)] = true
		}
	}
	root := s.sealedDir()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if !keep[rel] {
			s.logger.Info("removing an unreferenced sealed file", "file", p)
			return os.Remove(p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// garbageFile is a sealed file no longer referenced, since when.
type garbageFile struct {
	path string
	at   time.Time
}

// retire queues files for removal (after the transaction that stopped
// referencing them committed).
func (s *Store) retire(paths []string) {
	if len(paths) == 0 {
		return
	}
	s.mu.Lock()
	for _, p := range paths {
		s.garbage = append(s.garbage, garbageFile{p, time.Now()})
	}
	s.mu.Unlock()
}

// collect removes the retired files older than a minute (all with force).
func (s *Store) collect(force bool) {
	s.mu.Lock()
	var keep []garbageFile
	var del []string
	for _, g := range s.garbage {
		if force || time.Since(g.at) > time.Minute {
			del = append(del, g.path)
		} else {
			keep = append(keep, g)
		}
	}
	s.garbage = keep
	s.mu.Unlock()
	for _, p := range del {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.logger.Warn("remove a retired sealed file", "file", p, "err", err)
		}
	}
}

// sealedColumns is the select list writing a record table's rows into a
// sealed file: the table's columns, the address text only where it is not
// the IPv4 integer's canonical form.
func sealedColumns(tb table) string {
	var cols []string
	for _, c := range tb.cols {
		q := quoteIdent(c.name)
		if c.kind == ckText && (c.field == flowlog.SrcAddr || c.field == flowlog.DstAddr) {
			q = fmt.Sprintf("CASE WHEN %s IS NULL THEN %s END AS %s", quoteIdent("_"+c.name+"_v4"), q, q)
		}
		cols = append(cols, q)
	}
	return strings.Join(cols, ", ")
}

// restoredColumns is the select list reading a sealed file back into its
// record table's columns (the address text rebuilt).
func restoredColumns(tb table) string {
	var cols []string
	for _, c := range tb.cols {
		q := quoteIdent(c.name)
		if c.kind == ckText && (c.field == flowlog.SrcAddr || c.field == flowlog.DstAddr) {
			q = fmt.Sprintf("coalesce(%s, %s) AS %s", q, ipv4TextSQL(quoteIdent("_"+c.name+"_v4")), q)
		}
		cols = append(cols, q)
	}
	return strings.Join(cols, ", ")
}

// sealHour writes hour h of table tb (the table's rows of the hour and the
// hour's current file, if any) into a new sealed file, deletes the rows
// from the table and registers the file in w's transaction; the new state
// goes into next. It returns the records written and the file replaced
// ("" for none).
func (w *writeTx) sealHour(ctx context.Context, tb table, h int64, next sealedSet) (int64, string, error) {
	name := filepath.ToSlash(filepath.Join(tb.name, fmt.Sprintf("h%d-%d.parquet", h, w.s.sealSeq())))
	path := w.s.sealedPath(name)
	for _, err := os.Stat(path); err == nil; _, err = os.Stat(path) {
		// never over a file another sealed hour may reference
		name = filepath.ToSlash(filepath.Join(tb.name, fmt.Sprintf("h%d-%d.parquet", h, w.s.sealSeq())))
		path = w.s.sealedPath(name)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, "", fmt.Errorf("seal: %w", err)
	}
	src := "SELECT * FROM " + quoteIdent(tb.name) + " WHERE _hour = " + strconv.FormatInt(h, 10)
	old, hadOld := next[tb.name][h]
	if hadOld {
		src += " UNION ALL BY NAME SELECT * FROM read_parquet(" + quoteString(w.s.sealedPath(old.name)) + ")"
	}
	q := "COPY (SELECT " + sealedColumns(tb) + " FROM (" + src + ") ORDER BY _dataset_id, " + sealSortKeys(tb) + ") TO " +
		quoteString(path) + " (" + parquetOptions + ")"
	var n int64
	if err := w.conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
		_ = os.Remove(path)
		return 0, "", fmt.Errorf("seal: write %s: %w", name, err)
	}
	size, err := syncFile(path)
	if err != nil {
		_ = os.Remove(path)
		return 0, "", fmt.Errorf("seal: %w", err)
	}
	w.newFiles = append(w.newFiles, path)
	if err := w.exec(ctx, `DELETE FROM `+quoteIdent(tb.name)+` WHERE _hour = ?`, h); err != nil {
		return 0, "", fmt.Errorf("seal: %w", err)
	}
	if err := w.exec(ctx, `INSERT OR REPLACE INTO sealed_hours VALUES (?, ?, ?, ?, ?, ?)`, tb.name, h, name, n, size, w.now); err != nil {
		return 0, "", fmt.Errorf("seal: register %s: %w", name, err)
	}
	next.set(tb.name, h, sealedFile{name: name, records: n, bytes: size})
	replaced := ""
	if hadOld {
		replaced = w.s.sealedPath(old.name)
		n -= old.records
	}
	return n, replaced, nil
}

// sealSortKeys is the sort order of a sealed file after the dataset: the
// integer addresses, then start (the columns the table has).
func sealSortKeys(tb table) string {
	var keys []string
	for _, c := range tb.cols {
		if c.kind == ckIPv4 {
			keys = append(keys, quoteIdent(c.name))
		}
	}
	for _, c := range tb.cols {
		if c.field == flowlog.Start && c.kind == ckInt64 {
			keys = append(keys, quoteIdent(c.name))
		}
	}
	if len(keys) == 0 {
		return "_file_id"
	}
	return strings.Join(keys, ", ")
}

// unsealHours moves the rows of sealed hours of table tb back into the
// table, in w's transaction (a replaced file's rows or one dataset's hours
// can then be deleted as rows); next loses the hours. It returns the files
// to retire after the commit.
func (w *writeTx) unsealHours(ctx context.Context, tb table, hours []int64, next sealedSet) ([]string, error) {
	var retired []string
	// Hours of a day file: their rows go back, the day's others into a
	// new file.
	byFile := map[string][]int64{}
	var own []int64
	for _, h := range hours {
		if next.shared(tb.name, h) {
			f := next[tb.name][h].name
			byFile[f] = append(byFile[f], h)
		} else {
			own = append(own, h)
		}
	}
	for _, g := range next.files(tb.name) {
		back := byFile[g.name]
		if back == nil {
			continue
		}
		p := w.s.sealedPath(g.name)
		if err := w.exec(ctx, `INSERT INTO `+quoteIdent(tb.name)+` BY NAME SELECT `+restoredColumns(tb)+` FROM read_parquet(`+quoteString(p)+`) WHERE _hour IN `+hourList(back)); err != nil {
			return nil, fmt.Errorf("unseal %s: %w", g.name, err)
		}
		// installSealed retires the day file.
		if _, err := w.rewriteSealed(ctx, tb, []string{g.name}, "_hour NOT IN "+hourList(back), nil, next); err != nil {
			return nil, fmt.Errorf("unseal %s: %w", g.name, err)
		}
	}
	for _, h := range own {
		f, ok := next[tb.name][h]
		if !ok {
			continue
		}
		p := w.s.sealedPath(f.name)
		if err := w.exec(ctx, `INSERT INTO `+quoteIdent(tb.name)+` BY NAME SELECT `+restoredColumns(tb)+` FROM read_parquet(`+quoteString(p)+`)`); err != nil {
			return nil, fmt.Errorf("unseal %s: %w", f.name, err)
		}
		if err := w.exec(ctx, `DELETE FROM sealed_hours WHERE table_name = ? AND _hour = ?`, tb.name, h); err != nil {
			return nil, fmt.Errorf("unseal %s: %w", f.name, err)
		}
		delete(next[tb.name], h)
		retired = append(retired, p)
	}
	if len(retired) > 0 || len(byFile) > 0 {
		// The hours hold table rows again: Seal writes them anew once quiet.
		if err := w.addRuns(ctx, tb, hours); err != nil {
			return nil, err
		}
	}
	return retired, nil
}

// sealedHoursOf returns the sealed hours of table tb whose files hold rows
// of the given file ids.
func (w *writeTx) sealedHoursOf(ctx context.Context, tb table, m sealedSet, ids []int64) ([]int64, error) {
	list := w.s.parquetList(m, tb.name, nil)
	if list == "" || len(ids) == 0 {
		return nil, nil
	}
	in := make([]string, len(ids))
	for i, id := range ids {
		in[i] = strconv.FormatInt(id, 10)
	}
	rows, err := w.conn.QueryContext(ctx, `SELECT DISTINCT _hour FROM read_parquet(`+list+`) WHERE _file_id IN (`+strings.Join(in, ", ")+`) ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("find the sealed hours of replaced files: %w", err)
	}
	defer rows.Close()
	var hours []int64
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		hours = append(hours, h)
	}
	return hours, rows.Err()
}

// syncFile flushes a written file to disk (and its folder's entry) and
// returns its size.
func syncFile(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return fi.Size(), nil
}

// sealSeq returns a number unique among this store's sealed file names.
func (s *Store) sealSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := time.Now().UnixNano()
	if n <= s.lastSeq {
		n = s.lastSeq + 1
	}
	s.lastSeq = n
	return n
}

// parquetLists returns, per record table with sealed hours that keep
// accepts (nil: all), the DuckDB list of their files.
func (s *Store) parquetLists(m sealedSet, keep func(hour int64) bool) map[string]string {
	out := map[string]string{}
	for tb := range m {
		if list := s.parquetList(m, tb, keep); list != "" {
			out[tb] = list
		}
	}
	return out
}

// sealedNow returns the store's current sealed hours.
func (s *Store) sealedNow() sealedSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sealed
}

// sealedNext returns the sealed hours as this transaction leaves them (a
// copy of the store's, made at the first change).
func (w *writeTx) sealedNext() sealedSet {
	if w.sealed == nil {
		w.sealed = w.s.sealedNow().clone()
	}
	return w.sealed
}

// sealedView returns the sealed hours the transaction's views show.
func (w *writeTx) sealedView() sealedSet {
	if w.sealed != nil {
		return w.sealed
	}
	return w.s.sealedNow()
}
