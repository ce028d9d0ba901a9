package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/ClickHouse/ch-go/proto"
	"golang.org/x/sync/errgroup"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// pendingLease is how long the rows of an ingest that has neither
// committed nor rolled back are kept: an ingest still writing after that
// long (in another process) loses its rows to the cleanup and fails.
const pendingLease = 24 * time.Hour

// fileTx is one source object's ingest: batches are sent in INSERT blocks
// of Config.BlockRecords records tagged with the file's id; Commit writes
// the registry row that makes them visible.
type fileTx struct {
	s       *Store
	dataset string
	src     store.Source
	force   bool
	fileID  uint64
	now     int64 // BeginFile's time, epoch ms (in fileID, see newFileID)

	batches  []*flowlog.Batch
	buffered int
	records  int64
	minT     int64
	maxT     int64
	formats  map[int32]string
	sent     bool // rows were inserted (and a pending row written)
	done     bool
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

// FormatID is the _format_id of a format: a hash of its ${field} text, the
// same in every process and on every server.
func FormatID(f *flowlog.Format) int32 {
	h := fnv.New32a()
	h.Write([]byte(f.String()))
	return int32(h.Sum32() & math.MaxInt32)
}

// newFileID returns a new file id: the ingest's start, epoch ms, in the
// high bits (the views' `_ingest_time`, see fileIDTimeShift), random low
// bits, so that two processes beginning files in the same millisecond
// draw different ids (1 in 2^20 to collide), and above every id this
// store handed out before.
func (s *Store) newFileID(ms int64) (uint64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	ms = min(max(ms, 0), 1<<(63-fileIDTimeShift)-1)
	id := uint64(ms)<<fileIDTimeShift | binary.LittleEndian.Uint64(b[:])&(1<<fileIDTimeShift-1)
	for {
		last := s.lastFileID.Load()
		next := max(id, last+1, 1)
		if s.lastFileID.CompareAndSwap(last, next) {
			return next, nil
		}
	}
}

// BeginFile starts the ingest of one source object. It returns
// store.ErrAlreadyIngested when the registry's current entry for the key
// has the same size and checksum and force is false.
func (s *Store) BeginFile(ctx context.Context, dataset string, src store.Source, force bool) (store.FileTx, error) {
	if s.cfg.ReadOnly {
		return nil, fmt.Errorf("begin ingest: %w", errReadOnly)
	}
	if dataset == "" {
		dataset = DefaultDataset
	}
	if err := ValidDatasetName(dataset); err != nil {
		return nil, err
	}
	if !force {
		_, size, sum, ok, err := s.current(ctx, dataset, src.Key)
		if err != nil {
			return nil, fmt.Errorf("look up %s in the ingest registry: %w", src.Key, err)
		}
		if ok && size == src.Size && sum == src.Checksum {
			return nil, fmt.Errorf("%s: %w into dataset %s", src.Key, store.ErrAlreadyIngested, dataset)
		}
	}
	if err := s.ensureDataset(ctx, dataset); err != nil {
		return nil, err
	}
	now := s.cfg.Now().UnixMilli()
	id, err := s.newFileID(now)
	if err != nil {
		return nil, fmt.Errorf("begin ingest: %w", err)
	}
	tx := &fileTx{s: s, dataset: dataset, src: src, force: force, fileID: id, now: now,
		minT: math.MaxInt64, maxT: math.MinInt64, formats: map[int32]string{}}
	if o := s.observer.Load(); o != nil {
		tx.obs = (*o).ObserveFile(dataset, src)
	}
	return tx, nil
}

// current returns the current registry entry of (dataset, key).
func (s *Store) current(ctx context.Context, dataset, key string) (fileID uint64, size int64, sum string, ok bool, err error) {
	rows, err := s.conn.Query(ctx, `SELECT argMax(file_id, committed_ns), argMax(size, committed_ns), argMax(checksum, committed_ns)
		FROM ingest_registry WHERE dataset = ? AND key = ? GROUP BY dataset, key`, dataset, key)
	if err != nil {
		return 0, 0, "", false, err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&fileID, &size, &sum); err != nil {
			return 0, 0, "", false, err
		}
		ok = true
	}
	return fileID, size, sum, ok, rows.Err()
}

// ensureDataset creates a dataset's catalogue row and view when missing.
func (s *Store) ensureDataset(ctx context.Context, name string) error {
	s.mu.Lock()
	known := s.datasets[name]
	s.mu.Unlock()
	if known {
		return nil
	}
	names, err := s.datasetNames(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == name {
			return s.refreshViews(ctx)
		}
	}
	now := s.cfg.Now()
	if err := s.insertRow(ctx, "datasets", "name, retention_seconds, created_ms, declared_format, version", name, int64(0), now.UnixMilli(), (*string)(nil), now.UnixNano()); err != nil {
		return fmt.Errorf("create dataset %s: %w", name, err)
	}
	return s.refreshViews(ctx)
}

// Append buffers a batch and sends full blocks.
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
	t.buffered += b.N
	t.records += int64(b.N)
	if _, ok := t.formats[FormatID(b.Format)]; !ok {
		t.formats[FormatID(b.Format)] = b.Format.String()
	}
	if c := b.Col(flowlog.Start); c != nil {
		for i := 0; i < b.N; i++ {
			if c.Valid[i] {
				t.minT = min(t.minT, c.Ints[i])
				t.maxT = max(t.maxT, c.Ints[i])
			}
		}
	}
	if t.buffered >= t.s.cfg.BlockRecords {
		return t.flush(ctx)
	}
	return nil
}

// flush sends the buffered batches as one INSERT block.
func (t *fileTx) flush(ctx context.Context) error {
	if t.buffered == 0 {
		return nil
	}
	if !t.sent {
		if err := t.s.insertPending(ctx, []*fileTx{t}); err != nil {
			return fmt.Errorf("ingest %s: %w", t.src.Key, err)
		}
	}
	if err := t.s.insert(ctx, []*fileTx{t}); err != nil {
		return fmt.Errorf("ingest %s: %w", t.src.Key, err)
	}
	t.batches, t.buffered = nil, 0
	return nil
}

// Commit sends the rest and writes the registry row: the file's records
// become visible, those of the key's previous ingest invisible.
func (t *fileTx) Commit(ctx context.Context) error {
	return t.s.commitGroup(ctx, []*fileTx{t})
}

// CommitGroup commits several FileTx of this store together: their
// records go in one INSERT block and their registry rows in another, the
// commit point of the whole group (a block is written atomically). Either
// every file of the group becomes visible or none.
func (s *Store) CommitGroup(ctx context.Context, txs []store.FileTx) error {
	ft := make([]*fileTx, 0, len(txs))
	for _, x := range txs {
		t, ok := x.(*fileTx)
		if !ok || t.s != s {
			return errors.New("commit group: a file transaction of another store")
		}
		ft = append(ft, t)
	}
	return s.commitGroup(ctx, ft)
}

func (s *Store) commitGroup(ctx context.Context, txs []*fileTx) error {
	if len(txs) == 0 {
		return nil
	}
	for _, t := range txs {
		if t.done {
			return fmt.Errorf("commit %s: the file transaction is already finished", t.src.Key)
		}
	}
	fail := func(err error) error {
		for _, t := range txs {
			_ = t.Rollback()
		}
		if len(txs) == 1 {
			return fmt.Errorf("commit %s: %w", txs[0].src.Key, err)
		}
		return fmt.Errorf("commit %d files (%s, …): %w", len(txs), txs[0].src.Key, err)
	}
	var unsent, rest []*fileTx
	for _, t := range txs {
		if !t.sent && t.buffered > 0 {
			unsent = append(unsent, t)
		}
		if t.buffered > 0 {
			rest = append(rest, t)
		}
	}
	if err := s.insertPending(ctx, unsent); err != nil {
		return fail(err)
	}
	if err := s.insert(ctx, rest); err != nil {
		return fail(err)
	}
	for _, t := range rest {
		t.batches, t.buffered = nil, 0
	}
	if err := s.insertFormats(ctx, txs); err != nil {
		return fail(err)
	}
	old, err := s.currentFiles(ctx, txs)
	if err != nil {
		return fail(err)
	}
	now := s.cfg.Now()
	rows := make([]registryRow, len(txs))
	for i, t := range txs {
		r := registryRow{fileID: t.fileID, dataset: t.dataset, key: t.src.Key, size: t.src.Size, checksum: t.src.Checksum,
			records: t.records, ingested: now.UnixMilli(), committed: now.UnixNano() + int64(i)}
		if t.minT <= t.maxT {
			lo, hi := t.minT, t.maxT
			r.lo, r.hi = &lo, &hi
		}
		if !t.src.ModTime.IsZero() {
			r.mod = t.src.ModTime.UnixMilli()
		}
		rows[i] = r
	}
	// The commit point: one INSERT block of registry rows.
	if err := writeRegistry(ctx, s.conn, rows); err != nil {
		return fail(err)
	}
	for _, sh := range s.remotes {
		if err := writeRegistry(ctx, sh.conn, rows); err != nil {
			// committed: the shard shows these files once its copy is
			// written (at the next Open at the latest)
			s.logger.Error("copy registry rows to a shard", "shard", sh.addr, "files", len(rows), "err", err)
		}
	}
	var replaced []uint64
	for _, t := range txs {
		t.done = true
		t.finished(true)
		if id, ok := old[registryKey{t.dataset, t.src.Key}]; ok && id != t.fileID {
			replaced = append(replaced, id)
		}
	}
	if len(replaced) > 0 {
		// invisible from now on; the space comes back when the mutation runs
		if err := s.deleteFiles(ctx, replaced); err != nil {
			s.logger.Warn("remove the rows of replaced ingests", "files", len(replaced), "err", err)
		}
	}
	return nil
}

// insertPending writes the pending rows of ingests about to send records.
func (s *Store) insertPending(ctx context.Context, txs []*fileTx) error {
	if len(txs) == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO ingest_pending (file_id, dataset, key, started_ms)")
	if err != nil {
		return err
	}
	defer b.Close()
	for _, t := range txs {
		if err := b.Append(t.fileID, t.dataset, t.src.Key, t.now); err != nil {
			return err
		}
	}
	if err := b.Send(); err != nil {
		return err
	}
	for _, t := range txs {
		t.sent = true
	}
	return nil
}

// insertFormats records the formats of the group's files.
func (s *Store) insertFormats(ctx context.Context, txs []*fileTx) error {
	type key struct {
		dataset string
		id      int32
	}
	seen := map[key]bool{}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO formats (dataset, format_id, format)")
	if err != nil {
		return err
	}
	defer b.Close()
	for _, t := range txs {
		for id, f := range t.formats {
			if k := (key{t.dataset, id}); !seen[k] {
				seen[k] = true
				if err := b.Append(t.dataset, id, f); err != nil {
					return err
				}
			}
		}
	}
	if len(seen) == 0 {
		return nil
	}
	return b.Send()
}

type registryKey struct{ dataset, key string }

// currentFiles returns the current file id of the keys of txs.
func (s *Store) currentFiles(ctx context.Context, txs []*fileTx) (map[registryKey]uint64, error) {
	keys := map[string]bool{}
	datasets := map[string]bool{}
	for _, t := range txs {
		keys[quoteString(t.src.Key)] = true
		datasets[quoteString(t.dataset)] = true
	}
	out := map[registryKey]uint64{}
	err := s.each(ctx, `SELECT dataset, key, argMax(file_id, committed_ns) FROM ingest_registry WHERE dataset IN (`+
		strings.Join(sortedSet(datasets), ", ")+`) AND key IN (`+strings.Join(sortedSet(keys), ", ")+`) GROUP BY dataset, key`, nil,
		func(scan func(...any) error) error {
			var k registryKey
			var id uint64
			if err := scan(&k.dataset, &k.key, &id); err != nil {
				return err
			}
			out[k] = id
			return nil
		})
	return out, err
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Rollback discards the buffered batches and deletes the rows sent (they
// were never visible).
func (t *fileTx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	t.batches, t.buffered = nil, 0
	t.finished(false)
	if t.sent {
		return t.s.deleteFiles(context.Background(), []uint64{t.fileID})
	}
	return nil
}

// deleteFiles removes the rows of the given file ids (an asynchronous
// mutation: the rows are invisible already).
func (s *Store) deleteFiles(ctx context.Context, ids []uint64) error {
	if len(ids) == 0 {
		return nil
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	list := strings.Join(parts, ", ")
	for _, c := range s.shardConns() {
		if err := c.Exec(ctx, "ALTER TABLE records DELETE WHERE _file_id IN ("+list+")"); err != nil {
			return err
		}
	}
	return s.conn.Exec(ctx, "ALTER TABLE ingest_pending DELETE WHERE file_id IN ("+list+")")
}

// cleanup deletes the rows of ingests that never committed (a crash, kill
// -9) or were replaced: file ids in `records` that are not current in the
// registry and have no pending row younger than pendingLease.
func (s *Store) cleanup(ctx context.Context) error {
	if err := s.copyRegistry(ctx); err != nil {
		return err
	}
	lease := s.cfg.Now().Add(-pendingLease).UnixMilli()
	young := map[uint64]bool{}
	err := s.each(ctx, `SELECT file_id FROM ingest_pending WHERE started_ms >= ?`, []any{lease}, func(scan func(...any) error) error {
		var id uint64
		if err := scan(&id); err != nil {
			return err
		}
		young[id] = true
		return nil
	})
	if err != nil {
		return err
	}
	garbage := map[uint64]bool{}
	for _, c := range s.shardConns() {
		rows, err := c.Query(ctx, `SELECT DISTINCT _file_id FROM records WHERE _file_id NOT IN (`+currentFiles+`)`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id uint64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			if !young[id] {
				garbage[id] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	ids := make([]uint64, 0, len(garbage))
	for id := range garbage {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) > 0 {
		s.logger.Info("removing the rows of abandoned or replaced ingests", "files", len(ids))
	}
	return s.deleteFiles(ctx, ids)
}

// insert sends the buffered batches of txs as one INSERT block into
// records.
func (s *Store) insert(ctx context.Context, txs []*fileTx) error {
	if len(txs) == 0 {
		return nil
	}
	var parts []blockPart
	total := 0
	for _, t := range txs {
		for _, b := range t.batches {
			parts = append(parts, blockPart{b: b, dataset: t.dataset, fileID: t.fileID})
			total += b.N
		}
	}
	// Several INSERTs at once, each on a connection of its own: an INSERT
	// is one thread on the server (and one goroutine here building its
	// columns), so one block at a time leaves a core idle. The rows are
	// invisible until the registry row commits them, whichever block they
	// came in.
	k := min(s.cfg.InsertParallel, max(total/minParallelBlock, 1))
	if k <= 1 {
		return s.insertBlock(ctx, parts, total)
	}
	g, gctx := errgroup.WithContext(ctx)
	per, i := (total+k-1)/k, 0
	for i < len(parts) {
		j, n := i, 0
		for j < len(parts) && (n < per || j == i) {
			n += parts[j].b.N
			j++
		}
		chunk := parts[i:j]
		g.Go(func() error { return s.insertBlock(gctx, chunk, n) })
		i = j
	}
	return g.Wait()
}

// minParallelBlock is the fewest records of one of several concurrent
// INSERT blocks (smaller groups go in one block).
const minParallelBlock = 64 << 10

// blockPart is a batch of an INSERT block and its file's dataset and id.
type blockPart struct {
	b       *flowlog.Batch
	dataset string
	fileID  uint64
}

// insertBlock sends the n records of parts as one INSERT block.
func (s *Store) insertBlock(ctx context.Context, parts []blockPart, n int) error {
	batches := make([]*flowlog.Batch, len(parts))
	fileID := make([]uint64, 0, n)
	for i, p := range parts {
		batches[i] = p.b
		for range p.b.N {
			fileID = append(fileID, p.fileID)
		}
	}
	// The values of the fields without a column of their own (and of end
	// when it is too far from start): a default-format file has none.
	keys, vals, err := packRows(batches, n)
	if err != nil {
		return err
	}
	// Only the columns some batch has: the others are 0, '', NULL (the
	// IPv4 columns) or empty arrays, their default, with the fields'
	// bits set in `_nulls` (a default-format file fills 19 of the 24
	// columns).
	var cols []column
	for _, c := range s.recordColumns() {
		switch c.kind {
		case ckDataset, ckHour, ckFile, ckFormat, ckNulls:
			cols = append(cols, c)
			continue
		case ckPackKeys, ckPackVals:
			if keys != nil {
				cols = append(cols, c)
			}
			continue
		case ckEndDelta:
			for _, bt := range batches {
				if fieldCol(bt, flowlog.End) != nil && fieldCol(bt, flowlog.Start) != nil {
					cols = append(cols, c)
					break
				}
			}
			continue
		}
		for _, bt := range batches {
			if col := fieldCol(bt, c.field); col != nil && (c.kind != ckText || !hasV4Column(c.field) || hasNonIPv4(col, bt.N)) {
				cols = append(cols, c)
				break
			}
		}
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
	}
	b, err := s.conn.PrepareBatch(s.insertContext(ctx), "INSERT INTO "+s.recordsTable()+" ("+strings.Join(names, ", ")+")")
	if err != nil {
		return err
	}
	defer b.Close()
	dcols := b.Columns()
	if len(dcols) != len(cols) {
		return fmt.Errorf("insert into records: %d columns in the server's block, %d sent", len(dcols), len(cols))
	}
	for i, c := range cols {
		var v any
		switch c.kind {
		case ckDataset:
			v = datasetValues(parts, n)
		case ckFile:
			v = fileID
		case ckFormat:
			out := make([]int32, 0, n)
			for _, bt := range batches {
				out = append(out, repeat(FormatID(bt.Format), bt.N)...)
			}
			v = out
		case ckHour:
			out := make([]int64, 0, n)
			for _, bt := range batches {
				st := bt.Col(flowlog.Start)
				for r := 0; r < bt.N; r++ {
					var h int64
					if st != nil && st.Valid[r] {
						h = hourOf(st.Ints[r])
					}
					out = append(out, h)
				}
			}
			v = out
		case ckNulls:
			v = nullBits(batches, n)
		case ckInt32:
			v = ints(batches, c.field, n, func(x int64) int32 { return int32(x) })
		case ckInt64:
			v = ints(batches, c.field, n, func(x int64) int64 { return x })
		case ckUInt16:
			if err := inRange(batches, c.field, 0, math.MaxUint16); err != nil {
				return err
			}
			v = ints(batches, c.field, n, func(x int64) uint16 { return uint16(x) })
		case ckUInt8:
			if err := inRange(batches, c.field, 0, math.MaxUint8); err != nil {
				return err
			}
			v = ints(batches, c.field, n, func(x int64) uint8 { return uint8(x) })
		case ckEndDelta:
			out := make([]int32, 0, n)
			for _, bt := range batches {
				st, en := fieldCol(bt, flowlog.Start), fieldCol(bt, flowlog.End)
				for r := 0; r < bt.N; r++ {
					d, _ := endDelta(st, en, r)
					out = append(out, d)
				}
			}
			v = out
		case ckPackKeys:
			v = keys
		case ckPackVals:
			v = vals
		case ckIPv4:
			v = ipv4Values(batches, c.field, n)
		case ckText:
			v = textColumn(batches, c.field, n)
		}
		if err := fillColumn(dcols[i], v); err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
	}
	return b.Send()
}

// datasetValues returns the `dataset` column of the n records of parts:
// each dataset's name once in the buffer, every record's range on it.
func datasetValues(parts []blockPart, n int) textValues {
	v := textValues{pos: make([]proto.Position, 0, n)}
	var last proto.Position
	for i, p := range parts {
		if i == 0 || p.dataset != parts[i-1].dataset {
			last = proto.Position{Start: len(v.buf), End: len(v.buf) + len(p.dataset)}
			v.buf = append(v.buf, p.dataset...)
		}
		for range p.b.N {
			v.pos = append(v.pos, last)
		}
	}
	return v
}

// ipv4Values returns the IPv4 column of an address field of n records:
// NULL where a record has no address or one that is no IPv4.
func ipv4Values(batches []*flowlog.Batch, id flowlog.FieldID, n int) nullableUInt32 {
	v := nullableUInt32{vals: make([]uint32, n), nulls: make([]uint8, n)}
	k := 0
	for _, bt := range batches {
		col := fieldCol(bt, id)
		for r := 0; r < bt.N; r++ {
			if col == nil || !col.Valid[r] || col.Fam[r] != 4 {
				v.nulls[k] = 1
			} else {
				v.vals[k] = col.V4[r]
			}
			k++
		}
	}
	return v
}

// textColumn returns the text column of a field of n records: ” where a
// record lacks the field. An address with an IPv4 column is stored as
// text only when it is no IPv4: only those values are copied; of other
// fields each batch's text is copied whole, once.
func textColumn(batches []*flowlog.Batch, id flowlog.FieldID, n int) textValues {
	v4 := hasV4Column(id)
	size := 0
	if !v4 {
		for _, bt := range batches {
			if col := fieldCol(bt, id); col != nil {
				size += int(col.Offsets[bt.N])
			}
		}
	}
	v := textValues{buf: make([]byte, 0, size), pos: make([]proto.Position, n)}
	k := 0
	for _, bt := range batches {
		col := fieldCol(bt, id)
		if col == nil {
			k += bt.N
			continue
		}
		if !v4 {
			base := len(v.buf)
			v.buf = append(v.buf, col.Data[:col.Offsets[bt.N]]...)
			for r := 0; r < bt.N; r++ {
				// a record without the field has an empty range
				v.pos[k] = proto.Position{Start: base + int(col.Offsets[r]), End: base + int(col.Offsets[r+1])}
				k++
			}
			continue
		}
		for r := 0; r < bt.N; r++ {
			if col.Valid[r] && col.Fam[r] != 4 {
				start := len(v.buf)
				v.buf = append(v.buf, col.Data[col.Offsets[r]:col.Offsets[r+1]]...)
				v.pos[k] = proto.Position{Start: start, End: len(v.buf)}
			}
			k++
		}
	}
	return v
}

// textAt returns the text of row r of a text column, pointing into the
// column's data (no copy).
func textAt(col *flowlog.Column, r int) string {
	if lo, hi := col.Offsets[r], col.Offsets[r+1]; hi > lo {
		return unsafe.String(&col.Data[lo], int(hi-lo))
	}
	return ""
}

// endDelta returns end - start of row r when both are set and the
// difference fits in an Int32 (wrapping arithmetic: start + delta gives
// end back in the server's Int64 arithmetic as well).
func endDelta(st, en *flowlog.Column, r int) (int32, bool) {
	if st == nil || en == nil || !st.Valid[r] || !en.Valid[r] {
		return 0, false
	}
	d := en.Ints[r] - st.Ints[r]
	if d < math.MinInt32 || d > math.MaxInt32 {
		return 0, false
	}
	return int32(d), true
}

// inRange checks that a field's values fit its column (the decoders keep
// to the catalog's bounds).
func inRange(batches []*flowlog.Batch, id flowlog.FieldID, lo, hi int64) error {
	for _, bt := range batches {
		col := fieldCol(bt, id)
		if col == nil {
			continue
		}
		for r := 0; r < bt.N; r++ {
			if col.Valid[r] && (col.Ints[r] < lo || col.Ints[r] > hi) {
				return fmt.Errorf("field %s: value %d out of its range %d–%d", flowlog.Fields()[id].Name, col.Ints[r], lo, hi)
			}
		}
	}
	return nil
}

// packRows builds the packed columns of n records: per record the ids of
// the fields without a column of their own that it has (and of end when
// it is not within an Int32 of start), ascending, and their values as
// text. Both are nil when no record has any.
func packRows(batches []*flowlog.Batch, n int) ([][]uint8, [][]string, error) {
	var ids []flowlog.FieldID // the packed fields some batch has
	seen := map[flowlog.FieldID]bool{}
	endPacked := false
	for _, bt := range batches {
		for i := range bt.Format.Fields {
			id := bt.Format.Fields[i].ID
			if bt.Format.Extra[i] || ownColumn(id) || seen[id] {
				continue
			}
			seen[id] = true
			ids = append(ids, id)
		}
		st, en := fieldCol(bt, flowlog.Start), fieldCol(bt, flowlog.End)
		for r := 0; en != nil && r < bt.N && !endPacked; r++ {
			if _, ok := endDelta(st, en, r); !ok && en.Valid[r] {
				endPacked = true
			}
		}
	}
	if len(ids) == 0 && !endPacked {
		return nil, nil, nil
	}
	if endPacked {
		ids = append(ids, flowlog.End)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	keys := make([][]uint8, 0, n)
	vals := make([][]string, 0, n)
	var keyBuf []uint8
	var valBuf []string
	for _, bt := range batches {
		st := fieldCol(bt, flowlog.Start)
		cols := make([]*flowlog.Column, len(ids))
		for i, id := range ids {
			cols[i] = fieldCol(bt, id)
		}
		for r := 0; r < bt.N; r++ {
			k0 := len(keyBuf)
			for i, id := range ids {
				col := cols[i]
				if col == nil || !col.Valid[r] {
					continue
				}
				if id == flowlog.End {
					if _, ok := endDelta(st, col, r); ok {
						continue
					}
				}
				var v string
				if f := &flowlog.Fields()[id]; f.Kind.Numeric() {
					v = strconv.FormatInt(col.Ints[r], 10)
				} else {
					v = textAt(col, r)
				}
				keyBuf = append(keyBuf, uint8(id))
				valBuf = append(valBuf, v)
			}
			// full slices: a later append to the buffers reallocates
			// instead of writing into a record's slice
			keys = append(keys, keyBuf[k0:len(keyBuf):len(keyBuf)])
			vals = append(vals, valBuf[k0:len(valBuf):len(valBuf)])
		}
	}
	return keys, vals, nil
}

// hasNonIPv4 reports whether an address column has a value other than an
// IPv4 address (whose text `records` does not store).
func hasNonIPv4(col *flowlog.Column, n int) bool {
	for r := 0; r < n; r++ {
		if col.Valid[r] && col.Fam[r] != 4 {
			return true
		}
	}
	return false
}

// fieldCol returns the batch's column of a catalog field (nil when its
// format lacks it or has it only as an extra field).
func fieldCol(b *flowlog.Batch, id flowlog.FieldID) *flowlog.Column {
	i := b.Format.Index(id)
	if i < 0 || b.Format.Extra[i] {
		return nil
	}
	return &b.Cols[i]
}

// ints returns the values of an integer field of n records: 0 where a
// record lacks it (its bit in `_nulls`, see nullBits).
func ints[T int32 | int64 | uint16 | uint8](batches []*flowlog.Batch, id flowlog.FieldID, n int, conv func(int64) T) []T {
	out := make([]T, n)
	k := 0
	for _, bt := range batches {
		col := fieldCol(bt, id)
		if col == nil {
			k += bt.N
			continue
		}
		for r := 0; r < bt.N; r++ {
			if col.Valid[r] {
				out[k] = conv(col.Ints[r])
			}
			k++
		}
	}
	return out
}

// nullBits returns the `_nulls` of n records: the bits of the fields
// with a column of their own that a record lacks, and of end when
// `_end_delta` holds no value (see nullsColumn).
func nullBits(batches []*flowlog.Batch, n int) []uint16 {
	out := make([]uint16, 0, n)
	var cols []*flowlog.Column
	for _, bt := range batches {
		var all uint16 // the fields the batch's format lacks
		cols = cols[:0]
		for i := range flowlog.Fields() {
			id := flowlog.Fields()[i].ID
			if !ownColumn(id) || id == flowlog.End {
				continue
			}
			if col := fieldCol(bt, id); col != nil {
				cols = append(cols, col)
			} else {
				all |= nullBit(id)
			}
		}
		st, en := fieldCol(bt, flowlog.Start), fieldCol(bt, flowlog.End)
		for r := 0; r < bt.N; r++ {
			m := all
			for _, col := range cols {
				if !col.Valid[r] {
					m |= nullBit(col.Field.ID)
				}
			}
			if _, ok := endDelta(st, en, r); !ok {
				m |= nullBit(flowlog.End)
			}
			out = append(out, m)
		}
	}
	return out
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

const hourSeconds = 3600

// hourOf returns the start of the hour t falls in.
func hourOf(t int64) int64 {
	h := t - t%hourSeconds
	if t < 0 && t%hourSeconds != 0 {
		h -= hourSeconds
	}
	return h
}
