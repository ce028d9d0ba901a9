package duckdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sealing. An ingest sorts each commit group by (hour, srcaddr, dstaddr,
// start) and appends it to a record table, so an hour written by many
// small commits (a server receiving five-minute files one by one, late
// files, replaced files) holds many short sorted runs, and any hour holds
// the address text and DuckDB's per-column encodings. Once an hour is over
// (Config.SealAfter past its end) and has not been written for
// Config.SealQuiet, Seal writes it once into the sealed tier (sealed.go): a
// zstd Parquet file of its own, sorted by (dataset, srcaddr, dstaddr,
// start), and deletes its rows from the table. An hour that receives rows
// again (a late file) holds table rows beside its file; the next Seal
// writes the two together into a new file.
//
// The hours are written in batches of about Config.SealBatch records, each
// batch in its own transaction, so a crash during a batch leaves its hours
// as they were (in the table), and the next Seal writes them.

// hourRunsDDL creates the table counting the sorted runs (commits) that
// wrote each hour of each record table; written_ms is the last of those
// commits, sealed_ms when Seal last rewrote the hour.
const hourRunsDDL = `CREATE TABLE IF NOT EXISTS hour_runs (table_name VARCHAR NOT NULL, _hour BIGINT NOT NULL,
			runs INTEGER NOT NULL, written_ms BIGINT NOT NULL, sealed_ms BIGINT, PRIMARY KEY (table_name, _hour))`

// SealStats is what one Seal did.
type SealStats struct {
	Hours   int   // hours written into the sealed tier
	Records int64 // records moved there
	// Days are the days merged into a day file each (sealed_days.go),
	// DayRecords their records.
	Days       int
	DayRecords int64
	Elapsed    time.Duration
	// Compacted is the database file's size before and after Seal
	// compacted it (both 0 when it did not).
	CompactedFrom, CompactedTo int64
}

// Seal writes every hour of every record table that ended at least
// Config.SealAfter ago and was not written for Config.SealQuiet into the
// sealed tier, then checkpoints. lock (nil for none) is held around each
// batch's transaction and the checkpoint: a server's write lock, so that
// its other writers wait for one batch at most. With no lock the caller
// has the store to itself (`flowlens ingest`, at its end): Seal then does
// not wait for Config.SealQuiet (the ingest that wrote the hours is over;
// a backlog replayed one `flowlens ingest` per file rewrites an hour's file
// once per call), and compacts the database file when most of its blocks
// are free (see Compact).
func (s *Store) Seal(ctx context.Context, lock sync.Locker) (SealStats, error) {
	var st SealStats
	if s.cfg.ReadOnly {
		return st, fmt.Errorf("seal: the store is open read-only")
	}
	t0 := time.Now()
	s.collect(false)
	// hour h is over at h + 1h; sealed when that is SealAfter ago
	cutoff := s.cfg.Now().Add(-s.cfg.SealAfter).Unix() - hourSeconds
	s.mu.Lock()
	tables := append([]table(nil), s.tables...)
	s.mu.Unlock()
	for _, tb := range tables {
		quiet := s.cfg.SealQuiet
		if lock == nil {
			quiet = 0
			// The caller has the store to itself: the table rows of the
			// days that are over go straight into their day files with
			// the days' hour files (sealed_days.go), not first into
			// hour files that the day merge would rewrite.
			if err := s.sealDays(ctx, tb, cutoff, &st); err != nil {
				return st, err
			}
		}
		batches, err := s.sealBatches(ctx, tb, cutoff, quiet)
		if err != nil {
			return st, err
		}
		for _, hours := range batches {
			if lock != nil {
				lock.Lock()
			}
			n, err := s.sealHours(ctx, tb, hours)
			if lock != nil {
				lock.Unlock()
			}
			if err != nil {
				return st, err
			}
			st.Hours += len(hours)
			st.Records += n
		}
	}
	// Then the days that are over: one file each.
	for _, tb := range tables {
		days, n, err := s.mergeDays(ctx, tb, cutoff, lock)
		st.Days += days
		st.DayRecords += n
		if err != nil {
			return st, err
		}
	}
	if st.Hours > 0 || st.Days > 0 {
		if lock != nil {
			lock.Lock()
		}
		s.checkpointAfter(ctx, "seal")
		if lock != nil {
			lock.Unlock()
		}
	}
	if lock == nil {
		from, to, err := s.compactIfSparse(ctx)
		if err != nil {
			return st, err
		}
		st.CompactedFrom, st.CompactedTo = from, to
	}
	st.Elapsed = time.Since(t0)
	if st.Hours > 0 || st.Days > 0 {
		s.logger.Info("sealed hours", "hours", st.Hours, "records", st.Records, "days merged", st.Days, "took", st.Elapsed)
	}
	return st, nil
}

// sealBatches returns the hours up to cutoff of table tb that need
// sealing (rows in the table, not written for wait), in
// batches of about Config.SealBatch records.
func (s *Store) sealBatches(ctx context.Context, tb table, cutoff int64, wait time.Duration) ([][]int64, error) {
	quiet := s.cfg.Now().Add(-wait).UnixMilli()
	rows, err := s.db.QueryContext(ctx, `SELECT r._hour, count(*) FROM `+quoteIdent(tb.name)+` r
		WHERE r._hour <= ? AND r._hour NOT IN (SELECT _hour FROM hour_runs WHERE table_name = ? AND written_ms > ?)
		GROUP BY 1 ORDER BY 1`, cutoff, tb.name, quiet)
	if err != nil {
		return nil, fmt.Errorf("seal: list the hours of %s: %w", tb.name, err)
	}
	defer rows.Close()
	var out [][]int64
	var cur []int64
	var n int64
	for rows.Next() {
		var h, k int64
		if err := rows.Scan(&h, &k); err != nil {
			return nil, fmt.Errorf("seal: list the hours of %s: %w", tb.name, err)
		}
		if len(cur) > 0 && n+k > int64(s.cfg.SealBatch) {
			out, cur, n = append(out, cur), nil, 0
		}
		cur = append(cur, h)
		n += k
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, rows.Err()
}

// hourList renders hours as a SQL list.
func hourList(hours []int64) string {
	parts := make([]string, len(hours))
	for i, h := range hours {
		parts[i] = strconv.FormatInt(h, 10)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// sealHours writes some hours of table tb into the sealed tier, in one
// transaction.
func (s *Store) sealHours(ctx context.Context, tb table, hours []int64) (int64, error) {
	w, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	next := w.sealedNext()
	var n int64
	// Hours of a day file: the day is written anew with their rows.
	var own []int64
	byFile := map[string][]int64{}
	var shared []string
	for _, h := range hours {
		if !next.shared(tb.name, h) {
			own = append(own, h)
			continue
		}
		f := next[tb.name][h].name
		if byFile[f] == nil {
			shared = append(shared, f)
		}
		byFile[f] = append(byFile[f], h)
	}
	for _, f := range shared {
		var was int64
		for _, g := range next.files(tb.name) {
			if g.name == f {
				was = g.records
			}
		}
		k, err2 := w.rewriteSealed(ctx, tb, []string{f}, "", byFile[f], next)
		if err2 != nil {
			err = err2
			break
		}
		n += k - was
	}
	for _, h := range own {
		if err != nil {
			break
		}
		k, old, err2 := w.sealHour(ctx, tb, h, next)
		if err2 != nil {
			err = err2
			break
		}
		n += k
		if old != "" {
			w.retired = append(w.retired, old)
		}
	}
	if err == nil {
		err = w.sealedHours(ctx, tb, hours)
	}
	what := func() string {
		return fmt.Sprintf("seal %d hours of %s from %s", len(hours), tb.name, time.Unix(hours[0], 0).UTC().Format(time.RFC3339))
	}
	if err != nil {
		w.rollback()
		return 0, fmt.Errorf("%s: %w", what(), err)
	}
	if err := w.commit(ctx); err != nil {
		return 0, fmt.Errorf("%s: %w", what(), err)
	}
	return n, nil
}

// addRuns counts one more sorted run for each hour of a group's rows
// (sorted by hour), in the group's transaction.
func (w *writeTx) addRuns(ctx context.Context, tb table, hours []int64) error {
	var vals []string
	for i, h := range hours {
		if i == 0 || h != hours[i-1] {
			vals = append(vals, "("+quoteString(tb.name)+", "+strconv.FormatInt(h, 10)+", 1, "+strconv.FormatInt(w.now, 10)+", NULL)")
		}
	}
	if len(vals) == 0 {
		return nil
	}
	if err := w.exec(ctx, `INSERT INTO hour_runs VALUES `+strings.Join(vals, ", ")+
		` ON CONFLICT (table_name, _hour) DO UPDATE SET runs = hour_runs.runs + 1, written_ms = excluded.written_ms`); err != nil {
		return fmt.Errorf("count the runs of the hours: %w", err)
	}
	return nil
}

// sealedHours ends a seal of hours of tb inside w: their run counts reset,
// the views over the new file list, and the test hook.
func (w *writeTx) sealedHours(ctx context.Context, tb table, hours []int64) error {
	if err := w.exec(ctx, `UPDATE hour_runs SET runs = 0, sealed_ms = ? WHERE table_name = ? AND _hour IN `+hourList(hours), w.now, tb.name); err != nil {
		return err
	}
	if err := w.refreshViews(ctx); err != nil {
		return err
	}
	if w.s.sealHook != nil {
		w.s.sealHook(tb.name, hours)
	}
	return nil
}
