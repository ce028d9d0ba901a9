package duckdb

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The memory limit of a day's sort. DuckDB's sort of a day file keeps the
// whole day in memory when the day is only a little larger than the
// memory left to it, and then runs out of memory instead of spilling
// (a 2 M-record day under the ingest's 400 MB; a 20 M-record day, far
// over the limit, is sorted externally; docs/BENCHMARKS.md, issue #18
// steps 18 and 21). So before a day is sealed its sort is sized from its
// records: one that fits in memory under the store's own limit gets a
// limit that holds it, for that day only; a larger one keeps the lowered
// limit and spills. sealDay's retry under the store's limit stays the
// fallback.

// sortBytesPerRecord is DuckDB's ORDER_BY memory per record of a day
// file's sort (465 MB for 2 M records, measured in step 18), with some
// headroom.
const sortBytesPerRecord = 260

// sortWriteBytes is the memory besides the sorted rows that a day's sort
// and Parquet write take (the row group being compressed, the allocator's
// caches).
const sortWriteBytes = 64 << 20

// daySortLimit returns the memory limit under which a day of records
// records is sealed when held bytes of DuckDB's memory are in use, the
// limit is cur and the store's own limit is max: cur when the sort fits
// under it or when it would not fit in memory under max either (it then
// spills under cur), else the bytes it needs.
func daySortLimit(records, held, cur, max int64) int64 {
	need := held + records*sortBytesPerRecord + sortWriteBytes
	if need <= cur || need > max {
		return cur
	}
	return need
}

// sizeDaySort sets the memory limit for sealing the day d (its sealed
// files files and the table's rows of hours) as daySortLimit says, and
// returns the function that puts the limit in force before it (the one
// LimitMemory set, else Config.MemoryLimit) back. Sizing is
// best effort: when a figure cannot be read, the limit stays.
func (s *Store) sizeDaySort(ctx context.Context, tb table, d int64, files []string, hours []int64) (restore func()) {
	none := func() {}
	var records int64
	for _, g := range s.sealedNow().files(tb.name) {
		if slices.Contains(files, g.name) {
			records += g.records
		}
	}
	var inTable, held int64
	cur := s.cfg.MemoryLimit
	if l := s.memLimit.Load(); l != nil {
		cur = *l
	}
	if len(hours) > 0 {
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(tb.name)+` WHERE _hour IN `+hourList(hours)).Scan(&inTable); err != nil {
			return none
		}
	}
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory()`).Scan(&held); err != nil {
		return none
	}
	curB, err1 := parseBytes(cur)
	maxB, err2 := parseBytes(s.cfg.MemoryLimit)
	if err1 != nil || err2 != nil {
		return none
	}
	lim := daySortLimit(records+inTable, held, curB, maxB)
	if lim == curB {
		return none
	}
	if _, err := s.db.ExecContext(ctx, "SET GLOBAL memory_limit = "+quoteString(strconv.FormatInt(lim, 10)+"B")); err != nil {
		return none
	}
	s.logger.Debug("sealing a day under a memory limit sized for its sort", "table", tb.name,
		"day", time.Unix(d, 0).UTC().Format(time.DateOnly), "records", records+inTable, "limit", lim, "was", cur)
	return func() {
		if _, err := s.db.ExecContext(context.Background(), "SET GLOBAL memory_limit = "+quoteString(cur)); err != nil {
			s.logger.Warn("lower the memory limit again", "err", err)
		}
	}
}

// parseBytes reads a DuckDB memory size ("400MB", "381.4 MiB", "1GB",
// "12345 bytes"): KB, MB, GB, TB are powers of 1000, KiB, MiB, GiB, TiB
// of 1024.
func parseBytes(v string) (int64, error) {
	t := strings.TrimSpace(v)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(t[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("memory size %q: %w", v, err)
	}
	mult := map[string]float64{
		"": 1, "b": 1, "byte": 1, "bytes": 1,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}
	m, ok := mult[strings.ToLower(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("memory size %q: unknown unit", v)
	}
	return int64(math.Round(n * m)), nil
}
