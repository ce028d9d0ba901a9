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
// start), so an hour written by many small commits (a server receiving
// five-minute files one by one, late files, replaced files) holds many
// short sorted runs. Once such an hour is over (Config.SealAfter past its
// end), Seal rewrites it once as one run sorted by (dataset, srcaddr,
// dstaddr, start): the address columns compress better, and zone maps
// prune an address lookup to the few row groups that hold the address.
// An hour of at most Config.SealRuns runs (a bulk ingest writes each hour
// in one or two) is left as it is: rewriting costs about as much as the
// ingest did. An hour that receives rows again (a late file, a
// replacement) gets a run more and may be sealed again. An hour written
// less than Config.SealQuiet ago waits (a backlog replayed file by file
// would otherwise rewrite the same hour several times).
//
// The hours are rewritten in batches of about Config.SealBatch records,
// each in its own transaction (copy the rows aside, delete them, insert
// them back sorted, note the hours as one run), so a crash during a
// rewrite leaves those hours as they were, and the next Seal rewrites
// them.

// hourRunsDDL creates the table counting the sorted runs (commits) that
// wrote each hour of each record table; written_ms is the last of those
// commits, sealed_ms when Seal last rewrote the hour.
const hourRunsDDL = `CREATE TABLE IF NOT EXISTS hour_runs (table_name VARCHAR NOT NULL, _hour BIGINT NOT NULL,
			runs INTEGER NOT NULL, written_ms BIGINT NOT NULL, sealed_ms BIGINT, PRIMARY KEY (table_name, _hour))`

// sealOrder is the order of a sealed hour's rows.
const sealOrder = `_hour, _dataset_id, _srcaddr_v4, _dstaddr_v4, start`

// SealStats is what one Seal did.
type SealStats struct {
	Hours   int   // hours rewritten
	Records int64 // records rewritten
	Elapsed time.Duration
}

// Seal rewrites, sorted, every hour of every record table that ended at
// least Config.SealAfter ago and holds more than Config.SealRuns sorted
// runs, then checkpoints. lock (nil for none) is held around each
// rewrite transaction and the checkpoint: a server's write lock, so that
// its other writers wait for one batch at most.
func (s *Store) Seal(ctx context.Context, lock sync.Locker) (SealStats, error) {
	var st SealStats
	if s.cfg.ReadOnly {
		return st, fmt.Errorf("seal: the store is open read-only")
	}
	t0 := time.Now()
	// hour h is over at h + 1h; sealed when that is SealAfter ago
	cutoff := s.cfg.Now().Add(-s.cfg.SealAfter).Unix() - hourSeconds
	s.mu.Lock()
	tables := append([]table(nil), s.tables...)
	s.mu.Unlock()
	for _, tb := range tables {
		batches, err := s.sealBatches(ctx, tb, cutoff)
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
	if st.Hours > 0 {
		if lock != nil {
			lock.Lock()
		}
		err := s.Checkpoint(ctx)
		if lock != nil {
			lock.Unlock()
		}
		if err != nil {
			return st, fmt.Errorf("seal: checkpoint: %w", err)
		}
	}
	st.Elapsed = time.Since(t0)
	if st.Hours > 0 {
		s.logger.Info("sealed hours", "hours", st.Hours, "records", st.Records, "took", st.Elapsed)
	}
	return st, nil
}

// sealBatches returns the hours up to cutoff of table tb that need
// sealing, in batches of about Config.SealBatch records.
func (s *Store) sealBatches(ctx context.Context, tb table, cutoff int64) ([][]int64, error) {
	quiet := s.cfg.Now().Add(-s.cfg.SealQuiet).UnixMilli()
	rows, err := s.db.QueryContext(ctx, `SELECT r._hour, count(*) FROM `+quoteIdent(tb.name)+` r
		WHERE r._hour <= ? AND r._hour IN (SELECT _hour FROM hour_runs WHERE table_name = ? AND runs > ? AND _hour <= ? AND written_ms <= ?)
		GROUP BY 1 ORDER BY 1`, cutoff, tb.name, s.cfg.SealRuns, cutoff, quiet)
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

// sealHours rewrites some hours of table tb sorted, in one transaction.
func (s *Store) sealHours(ctx context.Context, tb table, hours []int64) (int64, error) {
	w, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	name, in := quoteIdent(tb.name), hourList(hours)
	var n int64
	err = w.exec(ctx, `CREATE OR REPLACE TEMP TABLE fl_seal AS SELECT * FROM `+name+` WHERE _hour IN `+in)
	if err == nil {
		err = w.conn.QueryRowContext(ctx, `SELECT count(*) FROM temp.fl_seal`).Scan(&n)
	}
	if err == nil {
		err = w.exec(ctx, `DELETE FROM `+name+` WHERE _hour IN `+in)
	}
	if err == nil {
		err = w.exec(ctx, `INSERT INTO `+name+` SELECT * FROM temp.fl_seal ORDER BY `+sealOrder)
	}
	if err == nil {
		err = w.exec(ctx, `DROP TABLE temp.fl_seal`)
	}
	if err == nil {
		err = w.exec(ctx, `UPDATE hour_runs SET runs = 1, sealed_ms = ? WHERE table_name = ? AND _hour IN `+in, w.now, tb.name)
	}
	if err == nil && s.sealHook != nil {
		s.sealHook(tb.name, hours)
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
