package filtereval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// The minutes are written every Config.Flush, so a crash (kill -9, power)
// loses the samples merged since the last write while their records are
// committed. Recovery makes the minutes exact again at Start: the
// snapshot says when it was written (F) and which files it had merged in
// the window before (F − margin, the margin covering every transaction in
// flight at F); the files the store registered from F − margin on that
// the snapshot does not list are evaluated again from their stored
// records and merged, each file once.

// IngestedFile is a committed source object of the store's registry.
type IngestedFile struct {
	Dataset  string
	Key      string
	FileID   int64
	Records  int64
	Ingested time.Time
}

// Recovery is what recovery reads: the files registered since a time, and
// their records (the flows view's _file_id and _format_id).
type Recovery interface {
	History
	FilesIngestedSince(ctx context.Context, since time.Time) ([]IngestedFile, error)
}

// minMargin is the least window before a write whose files are listed.
const minMargin = 2 * time.Minute

// mergedKey is a file merged, for the next snapshot.
type mergedKey struct {
	hash string
	at   int64 // ms
}

func fileHash(dataset, key string) string {
	s := sha256.Sum256([]byte(dataset + "\x00" + key))
	return hex.EncodeToString(s[:8])
}

// snapshotMarks fills the recovery marks of a snapshot at now; e.mu is held.
func (e *Evaluator) snapshotMarks(snap *snapshot, now time.Time) {
	margin := minMargin
	for _, began := range e.inflight {
		if d := now.Sub(began) + time.Minute; d > margin {
			margin = d
		}
	}
	from := now.Add(-margin).UnixMilli()
	keep := e.mergedKeys[:0]
	for _, k := range e.mergedKeys {
		if k.at >= from {
			keep = append(keep, k)
			snap.Recent = append(snap.Recent, k.hash)
		}
	}
	e.mergedKeys = keep
	snap.FlushedMs, snap.MarginMs = now.UnixMilli(), margin.Milliseconds()
}

// RecoverResult says what Recover did.
type RecoverResult struct {
	Files   int
	Records int64
}

// recover evaluates the files committed after the snapshot; it runs in
// Start, before the evaluator observes any commit.
func (e *Evaluator) recover(ctx context.Context, r Recovery, flushed time.Time, margin time.Duration, recent map[string]bool) (RecoverResult, error) {
	var res RecoverResult
	files, err := r.FilesIngestedSince(ctx, flushed.Add(-margin))
	if err != nil {
		return res, fmt.Errorf("list the files ingested since %s: %w", flushed.Add(-margin).Format(time.RFC3339), err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].FileID < files[j].FileID })
	var formats map[string]map[int]string
	for _, f := range files {
		if recent[fileHash(f.Dataset, f.Key)] {
			continue
		}
		e.mu.Lock()
		var fs []*compiled
		for _, c := range e.filters[f.Dataset] {
			if c.def.CreationTime <= f.Ingested.UnixMilli() {
				fs = append(fs, c)
			}
		}
		e.mu.Unlock()
		if len(fs) == 0 {
			// no filter to evaluate: only the records count
			e.mu.Lock()
			e.records[f.Dataset] += float64(f.Records)
			e.mergedKeys = append(e.mergedKeys, mergedKey{hash: fileHash(f.Dataset, f.Key), at: e.deps.Now().UnixMilli()})
			e.dirty = true
			e.mu.Unlock()
			res.Files++
			continue
		}
		if formats == nil {
			dss, err := r.Datasets(ctx)
			if err != nil {
				return res, err
			}
			formats = map[string]map[int]string{}
			for _, d := range dss {
				formats[d.Name] = d.Formats
			}
		}
		t := &txObserver{e: e, dataset: f.Dataset, filters: fs, now: f.Ingested}
		ids := make([]int, 0, len(formats[f.Dataset]))
		for id := range formats[f.Dataset] {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		for _, id := range ids {
			fm, err := flowlog.ParseFormat(formats[f.Dataset][id])
			if err != nil {
				return res, fmt.Errorf("format %d of dataset %s: %w", id, f.Dataset, err)
			}
			n, err := scanQuery(ctx, r, "_file_id = ? AND _format_id = ?", []any{f.FileID, id}, f.Dataset, fm, t.Append)
			res.Records += n
			if err != nil {
				return res, err
			}
		}
		t.key = f.Key
		e.merge(t)
		res.Files++
	}
	return res, nil
}
