package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// fileTx buffers one source object's batches until Commit. Past
// Config.SpillRecords it opens its own write transaction (holding the
// store's write lock until Commit or Rollback) and writes sorted chunks
// into it, so that a huge stream does not have to fit in memory.
type fileTx struct {
	s       *Store
	dataset string
	src     store.Source
	force   bool

	batches []*flowlog.Batch
	records int64 // buffered and spilled
	minT    int64
	maxT    int64
	done    bool

	// spill is the open write transaction of a spilled FileTx.
	spill *writeTx
	// sorted is the row order of its commit group computed by SortGroup.
	sorted *sortedGroup
	// obs sees the batches and the outcome (Store.SetIngestObserver).
	obs store.TxObserver
}

// SetIngestObserver makes o see every FileTx begun from now on (nil: none).
func (s *Store) SetIngestObserver(o store.IngestObserver) {
	if o == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&o)
}

// finished tells the observer how the FileTx ended.
func (t *fileTx) finished(committed bool) {
	if t.obs == nil {
		return
	}
	if committed {
		t.obs.Committed()
	} else {
		t.obs.RolledBack()
	}
	t.obs = nil
}

var _ store.FileTx = (*fileTx)(nil)

// BeginFile starts the ingest of one source object. It returns
// store.ErrAlreadyIngested when the registry holds the same key, size and
// checksum for the dataset and force is false.
func (s *Store) BeginFile(ctx context.Context, dataset string, src store.Source, force bool) (store.FileTx, error) {
	if s.cfg.ReadOnly {
		return nil, errors.New("begin ingest: the store is open read-only")
	}
	if dataset == "" {
		dataset = DefaultDataset
	}
	if err := ValidDatasetName(dataset); err != nil {
		return nil, err
	}
	if !force {
		var size int64
		var sum string
		err := s.db.QueryRowContext(ctx, `SELECT r.size, r.checksum FROM ingest_registry r JOIN datasets d ON d.id = r.dataset_id
			WHERE d.name = ? AND r.key = ?`, dataset, src.Key).Scan(&size, &sum)
		switch {
		case err == nil && size == src.Size && sum == src.Checksum:
			return nil, fmt.Errorf("%s: %w into dataset %s", src.Key, store.ErrAlreadyIngested, dataset)
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("look up %s in the ingest registry: %w", src.Key, err)
		}
	}
	tx := &fileTx{s: s, dataset: dataset, src: src, force: force, minT: math.MaxInt64, maxT: math.MinInt64}
	if o := s.observer.Load(); o != nil {
		tx.obs = (*o).ObserveFile(dataset, src)
	}
	return tx, nil
}

// Append buffers a batch (kept until Commit or Rollback).
func (t *fileTx) Append(ctx context.Context, b *flowlog.Batch) error {
	if t.done {
		return errors.New("append to a finished file transaction")
	}
	if b == nil || b.N == 0 {
		return nil
	}
	if t.obs != nil {
		t.obs.Append(b)
	}
	t.batches = append(t.batches, b)
	t.sorted = nil
	t.records += int64(b.N)
	if c := b.Col(flowlog.Start); c != nil {
		for i := 0; i < b.N; i++ {
			if c.Valid[i] {
				t.minT = min(t.minT, c.Ints[i])
				t.maxT = max(t.maxT, c.Ints[i])
			}
		}
	}
	if t.buffered() >= t.s.cfg.SpillRecords {
		return t.flushSpill(ctx)
	}
	return nil
}

func (t *fileTx) buffered() int {
	n := 0
	for _, b := range t.batches {
		n += b.N
	}
	return n
}

// flushSpill writes the buffered batches into the FileTx's own open
// transaction.
func (t *fileTx) flushSpill(ctx context.Context) error {
	if t.spill == nil {
		wt, err := t.s.beginWrite(ctx)
		if err != nil {
			return err
		}
		t.spill = wt
		if err := wt.prepare(ctx, []*fileTx{t}); err != nil {
			t.spill.rollback()
			t.spill = nil
			return err
		}
	}
	if err := t.spill.insert(ctx, []*fileTx{t}); err != nil {
		return err
	}
	t.batches, t.sorted = nil, nil
	return nil
}

// Commit makes the records and the registry entry durable and visible.
func (t *fileTx) Commit(ctx context.Context) error {
	return t.s.commitGroup(ctx, []*fileTx{t})
}

// Rollback discards everything appended; safe after Commit.
func (t *fileTx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	t.batches, t.sorted = nil, nil
	t.finished(false)
	if t.spill != nil {
		t.spill.rollback()
		t.spill = nil
	}
	return nil
}

// CommitGroup commits several FileTx of this store in one transaction: their
// rows are sorted together, so a group of small files clusters like one
// big file. Either every file of the group is committed or none.
func (s *Store) CommitGroup(ctx context.Context, txs []store.FileTx) error {
	ft := make([]*fileTx, 0, len(txs))
	for _, t := range txs {
		x, ok := t.(*fileTx)
		if !ok || x.s != s {
			return errors.New("BUG: CommitGroup with a FileTx of another store")
		}
		ft = append(ft, x)
	}
	return s.commitGroup(ctx, ft)
}

func (s *Store) commitGroup(ctx context.Context, txs []*fileTx) error {
	// A spilled FileTx already holds the write lock: commit it on its own.
	var plain []*fileTx
	for _, t := range txs {
		if t.done {
			return fmt.Errorf("commit %s: the file transaction is already finished", t.src.Key)
		}
		if t.spill == nil {
			plain = append(plain, t)
			continue
		}
		wt := t.spill
		err := wt.insert(ctx, []*fileTx{t})
		if err == nil {
			err = wt.register(ctx, []*fileTx{t})
		}
		if err == nil {
			err = wt.commit(ctx)
		} else {
			wt.rollback()
		}
		t.spill, t.done, t.batches, t.sorted = nil, true, nil, nil
		t.finished(err == nil)
		if err != nil {
			return fmt.Errorf("commit %s: %w", t.src.Key, err)
		}
	}
	if len(plain) == 0 {
		return nil
	}
	wt, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	err = wt.prepare(ctx, plain)
	if err == nil {
		err = wt.insert(ctx, plain)
	}
	if err == nil {
		err = wt.register(ctx, plain)
	}
	if err == nil {
		err = wt.commit(ctx)
	} else {
		wt.rollback()
	}
	for _, t := range plain {
		t.done, t.batches, t.sorted = true, nil, nil
		t.finished(err == nil)
	}
	if err != nil {
		if len(plain) == 1 {
			return fmt.Errorf("commit %s: %w", plain[0].src.Key, err)
		}
		return fmt.Errorf("commit %d files (%s, …): %w", len(plain), plain[0].src.Key, err)
	}
	return nil
}

// writeTx is one open write transaction on its own connection. It holds
// the store's write lock.
type writeTx struct {
	s    *Store
	conn *sql.Conn
	now  int64 // ingest time, ms

	// ids assigned in this transaction, merged into the store's caches at
	// commit.
	newDatasets map[int]string
	newFormats  map[string]int
	fileIDs     map[*fileTx]uint32
	datasetIDs  map[*fileTx]int
	nextFileID  uint32
	// newTables are the record tables created in this transaction,
	// written the tables that received rows.
	newTables []table
	written   map[string]table
	// sealed is the sealed tier as this transaction leaves it (nil:
	// unchanged); newFiles the sealed files it wrote (removed if it rolls
	// back), retired those it stopped referencing (removed a minute after
	// it commits).
	sealed   sealedSet
	newFiles []string
	retired  []string
	// direct are the sealed files this transaction wrote from its groups
	// (direct.go), per record table: its rollups read them.
	direct map[string][]string
}

func (s *Store) beginWrite(ctx context.Context) (*writeTx, error) {
	s.wmu.Lock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		s.wmu.Unlock()
		return nil, fmt.Errorf("begin write: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		conn.Close()
		s.wmu.Unlock()
		return nil, fmt.Errorf("begin write: %w", err)
	}
	s.mu.Lock()
	next := s.nextFileID
	s.mu.Unlock()
	return &writeTx{
		s: s, conn: conn, now: s.cfg.Now().UnixMilli(),
		newDatasets: map[int]string{}, newFormats: map[string]int{},
		fileIDs: map[*fileTx]uint32{}, datasetIDs: map[*fileTx]int{}, nextFileID: next,
		written: map[string]table{}, direct: map[string][]string{},
	}, nil
}

func (w *writeTx) exec(ctx context.Context, q string, args ...any) error {
	_, err := w.conn.ExecContext(ctx, q, args...)
	return err
}

// prepare assigns dataset, format and file ids and removes the rows of
// files being replaced.
func (w *writeTx) prepare(ctx context.Context, txs []*fileTx) error {
	for _, t := range txs {
		did, err := w.datasetID(ctx, t.dataset)
		if err != nil {
			return err
		}
		w.datasetIDs[t] = did
	}
	old, err := w.registered(ctx, txs)
	if err != nil {
		return err
	}
	if err := w.unsealReplaced(ctx, txs, old); err != nil {
		return err
	}
	for _, t := range txs {
		if id, ok := old[registryKey{w.datasetIDs[t], t.src.Key}]; ok {
			names := []string{"rollup_5m", "rollup_rejects"}
			for _, tb := range w.tables() {
				names = append(names, quoteIdent(tb.name))
			}
			for _, tb := range names {
				if err := w.exec(ctx, `DELETE FROM `+tb+` WHERE _file_id = ?`, id); err != nil {
					return fmt.Errorf("remove the previous ingest of %s: %w", t.src.Key, err)
				}
			}
			if err := w.exec(ctx, `DELETE FROM ingest_registry WHERE file_id = ?`, id); err != nil {
				return fmt.Errorf("remove the previous ingest of %s: %w", t.src.Key, err)
			}
			w.s.logger.Info("replacing previous ingest", "file", t.src.Key, "dataset", t.dataset)
		}
		w.fileIDs[t] = w.nextFileID
		w.nextFileID++
	}
	return nil
}

// unsealReplaced moves the sealed hours holding rows of files being
// replaced back into their tables, so that those rows can be deleted.
func (w *writeTx) unsealReplaced(ctx context.Context, txs []*fileTx, old map[registryKey]int64) error {
	var ids []int64
	for _, t := range txs {
		if id, ok := old[registryKey{w.datasetIDs[t], t.src.Key}]; ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || len(w.s.sealedNow()) == 0 {
		return nil
	}
	for _, tb := range w.tables() {
		hours, err := w.sealedHoursOf(ctx, tb, w.sealedView(), ids)
		if err != nil {
			return err
		}
		if len(hours) == 0 {
			continue
		}
		retired, err := w.unsealHours(ctx, tb, hours, w.sealedNext())
		if err != nil {
			return err
		}
		w.retired = append(w.retired, retired...)
	}
	return nil
}

// registryKey is a registry entry's key: dataset id and source key.
type registryKey struct {
	dataset int
	key     string
}

// registered returns the file ids the registry holds for the sources of
// txs, in one query per dataset (a statement costs ~0.3 ms: per file,
// that was 2% of an ingest of 5-minute files).
func (w *writeTx) registered(ctx context.Context, txs []*fileTx) (map[registryKey]int64, error) {
	byDataset := map[int][]any{}
	for _, t := range txs {
		did := w.datasetIDs[t]
		byDataset[did] = append(byDataset[did], t.src.Key)
	}
	out := map[registryKey]int64{}
	for did, keys := range byDataset {
		q := `SELECT key, file_id FROM ingest_registry WHERE dataset_id = ? AND key IN (?` + strings.Repeat(", ?", len(keys)-1) + `)`
		rows, err := w.conn.QueryContext(ctx, q, append([]any{did}, keys...)...)
		if err != nil {
			return nil, fmt.Errorf("look up %s in the ingest registry: %w", keys[0], err)
		}
		for rows.Next() {
			var k string
			var id int64
			if err := rows.Scan(&k, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look up %s in the ingest registry: %w", k, err)
			}
			out[registryKey{did, k}] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("look up %s in the ingest registry: %w", keys[0], err)
		}
	}
	return out, nil
}

// tables returns the record tables, those created in this transaction
// included.
func (w *writeTx) tables() []table {
	w.s.mu.Lock()
	out := append([]table(nil), w.s.tables...)
	w.s.mu.Unlock()
	return append(out, w.newTables...)
}

// tableFor returns the record table of a field set, creating it in this
// transaction.
func (w *writeTx) tableFor(ctx context.Context, set fieldSet) (table, error) {
	tables := w.tables()
	n := 0
	for _, t := range tables {
		if t.set == set {
			return t, nil
		}
		if k, err := strconv.Atoi(strings.TrimPrefix(t.name, "records_")); err == nil {
			n = max(n, k)
		}
	}
	t := newTable("records_"+strconv.Itoa(n+1), set)
	if err := w.exec(ctx, createTableDDL(t)); err != nil {
		return table{}, fmt.Errorf("create record table %s: %w", t.name, err)
	}
	if err := w.exec(ctx, `INSERT INTO record_tables VALUES (?, ?)`, t.name, strings.Join(set.names(), " ")); err != nil {
		return table{}, fmt.Errorf("create record table %s: %w", t.name, err)
	}
	w.s.logger.Info("new record table", "table", t.name, "fields", len(set.names()))
	w.newTables = append(w.newTables, t)
	return t, nil
}

// datasetID returns the id of a dataset, creating it in this transaction.
func (w *writeTx) datasetID(ctx context.Context, name string) (int, error) {
	w.s.mu.Lock()
	maxID := 0
	for id, n := range w.s.datasets {
		if n == name {
			w.s.mu.Unlock()
			return id, nil
		}
		maxID = max(maxID, id)
	}
	w.s.mu.Unlock()
	for id, n := range w.newDatasets {
		if n == name {
			return id, nil
		}
		maxID = max(maxID, id)
	}
	id := maxID + 1
	if id > math.MaxUint16 {
		return 0, errors.New("too many datasets")
	}
	if err := w.exec(ctx, `INSERT INTO datasets (id, name, created_ms) VALUES (?, ?, ?)`, id, name, w.now); err != nil {
		return 0, fmt.Errorf("create dataset %s: %w", name, err)
	}
	w.newDatasets[id] = name
	return id, nil
}

// formatID returns the id of a format, creating it in this transaction.
func (w *writeTx) formatID(ctx context.Context, f *flowlog.Format) (int, error) {
	key := f.String()
	w.s.mu.Lock()
	id, ok := w.s.formats[key]
	maxID := 0
	for _, i := range w.s.formats {
		maxID = max(maxID, i)
	}
	w.s.mu.Unlock()
	if ok {
		return id, nil
	}
	if id, ok := w.newFormats[key]; ok {
		return id, nil
	}
	for _, i := range w.newFormats {
		maxID = max(maxID, i)
	}
	id = maxID + 1
	if err := w.exec(ctx, `INSERT INTO formats (id, format) VALUES (?, ?)`, id, key); err != nil {
		return 0, fmt.Errorf("register format: %w", err)
	}
	w.newFormats[key] = id
	return id, nil
}

// insert sorts the buffered rows of txs (unless SortGroup did) and appends
// them to their tables.
func (w *writeTx) insert(ctx context.Context, txs []*fileTx) error {
	var parts []part
	seen := map[[2]int]bool{}
	for _, t := range txs {
		for _, b := range t.batches {
			fid, err := w.formatID(ctx, b.Format)
			if err != nil {
				return err
			}
			did := w.datasetIDs[t]
			if !seen[[2]int{did, fid}] {
				seen[[2]int{did, fid}] = true
				if err := w.exec(ctx, `INSERT OR IGNORE INTO dataset_formats VALUES (?, ?)`, did, fid); err != nil {
					return fmt.Errorf("register format: %w", err)
				}
			}
			parts = append(parts, part{b: b, dataset: uint16(did), file: w.fileIDs[t], format: int32(fid)})
		}
	}
	if len(parts) == 0 {
		return nil
	}
	sorted := txs[0].sorted
	for _, t := range txs {
		if t.sorted != sorted {
			sorted = nil
		}
	}
	for _, tp := range partsByTable(parts) {
		tb, err := w.tableFor(ctx, tp.set)
		if err != nil {
			return err
		}
		t0 := time.Now()
		var g *group
		if o := sorted.order(tp.set, tp.parts); o != nil {
			g = &group{parts: tp.parts, rows: o.rows, hours: o.hours, now: w.now}
		} else {
			g = newGroup(tp.parts, w.now)
		}
		t1 := time.Now()
		direct, rest, err := w.directHours(ctx, tb, g)
		if err != nil {
			return err
		}
		for _, d := range direct {
			if err := w.sealDirect(ctx, tb, g, d); err != nil {
				return err
			}
		}
		if len(direct) > 0 && w.s.sealHook != nil {
			hs := make([]int64, len(direct))
			for i, d := range direct {
				hs[i] = d.hour
			}
			w.s.sealHook(tb.name, hs)
		}
		if len(rest.rows) > 0 {
			if err := w.appendGroup(ctx, tb, rest); err != nil {
				return err
			}
			if err := w.addRuns(ctx, tb, rest.hours); err != nil {
				return err
			}
		}
		w.written[tb.name] = tb
		w.s.logger.Debug("append group", "table", tb.name, "records", len(g.rows), "sealed hours", len(direct),
			"sort", t1.Sub(t0), "append", time.Since(t1))
	}
	return nil
}

// tableParts are the parts of a group whose records go to one table.
type tableParts struct {
	set   fieldSet
	parts []part
}

// partsByTable splits parts by the table their records go to, in the order
// the tables first appear.
func partsByTable(parts []part) []tableParts {
	var out []tableParts
	for _, p := range parts {
		set := tableSet(p.b.Format)
		i := 0
		for i < len(out) && out[i].set != set {
			i++
		}
		if i == len(out) {
			out = append(out, tableParts{set: set})
		}
		out[i].parts = append(out[i].parts, p)
	}
	return out
}

// sortedGroup is the row order of a commit group computed by SortGroup,
// per table.
type sortedGroup struct {
	tables map[fieldSet]*tableOrder
}

type tableOrder struct {
	batches []*flowlog.Batch // the parts the order refers to
	rows    []rowRef
	hours   []int64
}

// order returns the order of table tb when it was computed for exactly
// these parts, else nil.
func (s *sortedGroup) order(tb fieldSet, parts []part) *tableOrder {
	if s == nil {
		return nil
	}
	o := s.tables[tb]
	if o == nil || len(o.batches) != len(parts) {
		return nil
	}
	for i, p := range parts {
		if o.batches[i] != p.b {
			return nil
		}
	}
	return o
}

// SortGroup orders the rows of a commit group ahead of CommitGroup, outside
// the store's write lock, so that an ingest sorts the next group while the
// current one is written. CommitGroup with the same FileTx, in the same
// order and with nothing appended since, uses that order; otherwise it
// sorts again. It must not run concurrently with other calls on these
// FileTx.
func (s *Store) SortGroup(txs []store.FileTx) {
	sg := &sortedGroup{tables: map[fieldSet]*tableOrder{}}
	var ft []*fileTx
	var parts []part
	for _, t := range txs {
		x, ok := t.(*fileTx)
		if !ok || x.s != s || x.done || x.spill != nil {
			return
		}
		ft = append(ft, x)
		for _, b := range x.batches {
			parts = append(parts, part{b: b})
		}
	}
	for _, tp := range partsByTable(parts) {
		batches := make([]*flowlog.Batch, len(tp.parts))
		for i, p := range tp.parts {
			batches[i] = p.b
		}
		rows, hours := sortRows(tp.parts)
		sg.tables[tp.set] = &tableOrder{batches: batches, rows: rows, hours: hours}
	}
	for _, t := range ft {
		t.sorted = sg
	}
}

// register writes the registry entries of txs.
func (w *writeTx) register(ctx context.Context, txs []*fileTx) error {
	if err := w.rollup(ctx, txs); err != nil {
		return err
	}
	// One INSERT for the group's entries (one per file cost ~0.5 ms each).
	const perRow = 10
	for lo := 0; lo < len(txs); lo += 200 {
		part := txs[lo:min(lo+200, len(txs))]
		args := make([]any, 0, perRow*len(part))
		for _, t := range part {
			var minT, maxT any
			if t.minT <= t.maxT {
				minT, maxT = t.minT, t.maxT
			}
			var mod any
			if !t.src.ModTime.IsZero() {
				mod = t.src.ModTime.UnixMilli()
			}
			args = append(args, w.fileIDs[t], w.datasetIDs[t], t.src.Key, t.src.Size, t.src.Checksum, mod, t.records, minT, maxT, w.now)
		}
		row := "(?" + strings.Repeat(", ?", perRow-1) + ")"
		q := `INSERT INTO ingest_registry VALUES ` + row + strings.Repeat(", "+row, len(part)-1)
		if err := w.exec(ctx, q, args...); err != nil {
			if len(part) == 1 {
				return fmt.Errorf("register %s: %w", part[0].src.Key, err)
			}
			return fmt.Errorf("register %d files (%s, …): %w", len(part), part[0].src.Key, err)
		}
	}
	if len(w.newDatasets) > 0 || len(w.newTables) > 0 || w.sealed != nil {
		return w.refreshViews(ctx)
	}
	return nil
}

// refreshViews recreates the views with the datasets and tables of this
// transaction.
func (w *writeTx) refreshViews(ctx context.Context) error {
	w.s.mu.Lock()
	all := make(map[int]string, len(w.s.datasets)+len(w.newDatasets))
	for id, n := range w.s.datasets {
		all[id] = n
	}
	w.s.mu.Unlock()
	for id, n := range w.newDatasets {
		all[id] = n
	}
	pairs, err := w.pairsNow(ctx)
	if err != nil {
		return err
	}
	for _, stmt := range viewDDL(w.tables(), all, nil, false, true, w.s.parquetLists(w.sealedView(), nil), w.s.pairsViewSQL(w.tables(), w.sealedView(), pairs)) {
		if err := w.exec(ctx, stmt); err != nil {
			return fmt.Errorf("create views: %w", err)
		}
	}
	return nil
}

// rollup adds the 5-minute and the rejects rollup rows of the files of txs (whose rows are
// all inserted by now).
func (w *writeTx) rollup(ctx context.Context, txs []*fileTx) error {
	lo, hi := uint32(math.MaxUint32), uint32(0)
	for _, t := range txs {
		lo, hi = min(lo, w.fileIDs[t]), max(hi, w.fileIDs[t])
	}
	for _, tb := range w.written {
		col := func(id flowlog.FieldID, typ string) string {
			if tb.has(id) {
				return quoteIdent(flowlog.Get(id).Column)
			}
			return "CAST(NULL AS " + typ + ")"
		}
		start := col(flowlog.Start, "BIGINT")
		q := fmt.Sprintf(`INSERT INTO rollup_5m SELECT _dataset_id, _file_id, %s - %s %% %d, %s, %s,
			count(*), CAST(sum(%s) AS BIGINT), CAST(sum(%s) AS BIGINT)
			FROM %s WHERE _file_id BETWEEN ? AND ? GROUP BY ALL`, start, start, rollupBin,
			col(flowlog.Action, "VARCHAR"), col(flowlog.LogStatus, "VARCHAR"),
			col(flowlog.Bytes, "BIGINT"), col(flowlog.Packets, "BIGINT"), w.rollupSource(tb))
		if err := w.exec(ctx, q, lo, hi); err != nil {
			return fmt.Errorf("update the rollup: %w", err)
		}
		if q := rejectsRollupFrom(tb, w.rollupSource(tb), "_file_id BETWEEN ? AND ?"); q != "" {
			if err := w.exec(ctx, "INSERT INTO rollup_rejects "+q, lo, hi); err != nil {
				return fmt.Errorf("update the rejects rollup: %w", err)
			}
		}
	}
	return nil
}

func (w *writeTx) commit(ctx context.Context) error {
	defer w.release()
	t0 := time.Now()
	defer func() { w.s.logger.Debug("commit", "took", time.Since(t0)) }()
	if err := w.exec(ctx, "COMMIT"); err != nil {
		_ = w.exec(context.Background(), "ROLLBACK")
		for _, p := range w.newFiles {
			_ = os.Remove(p)
		}
		return err
	}
	w.s.changed()
	w.s.mu.Lock()
	for id, n := range w.newDatasets {
		w.s.datasets[id] = n
	}
	for f, id := range w.newFormats {
		w.s.formats[f] = id
	}
	w.s.tables = append(w.s.tables, w.newTables...)
	w.s.nextFileID = max(w.s.nextFileID, w.nextFileID)
	if w.sealed != nil {
		w.s.sealed = w.sealed
	}
	w.s.mu.Unlock()
	w.s.retire(w.retired)
	return nil
}

func (w *writeTx) rollback() {
	defer w.release()
	for _, p := range w.newFiles {
		_ = os.Remove(p)
	}
	if err := w.exec(context.Background(), "ROLLBACK"); err != nil {
		w.s.logger.Warn("rollback", "err", err)
	}
}

func (w *writeTx) release() {
	w.conn.Close()
	w.s.wmu.Unlock()
}

// rawConn runs f on the driver connection of the transaction.
func (w *writeTx) rawConn(f func(driver.Conn) error) error {
	return w.conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("BUG: not a driver connection")
		}
		return f(c)
	})
}
