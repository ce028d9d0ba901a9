package duckdb

import (
	"runtime"
	"slices"
	"sync"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// part is one batch of a commit group with the ids its rows get.
type part struct {
	b       *flowlog.Batch
	dataset uint16
	file    uint32
	format  int32
}

// rowRef addresses one record of a group: parts[p].b, row r.
type rowRef struct {
	p uint32
	r uint32
}

// group is the rows of one commit, in the order they are appended.
type group struct {
	parts []part
	rows  []rowRef
	hours []int64 // parallel to rows: epoch seconds of the row's hour
	now   int64   // ingest time (ms)
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

// keyed is a row of a group with its sort key.
type keyed struct {
	k1, k2 uint64
	ref    rowRef
	hour   int64
}

func cmpKeyed(a, b keyed) int {
	switch {
	case a.k1 < b.k1:
		return -1
	case a.k1 > b.k1:
		return 1
	case a.k2 < b.k2:
		return -1
	case a.k2 > b.k2:
		return 1
	}
	return 0
}

// minParallelSort is the smallest slice sortKeyed splits over goroutines.
const minParallelSort = 1 << 16

// sortDepth is how many times sortKeyed halves n keys: one part per
// processor (the sort runs under the store's write lock, while DuckDB
// waits).
func sortDepth(n int) int {
	d := 0
	for p := runtime.GOMAXPROCS(0); p > 1 && n>>d >= 2*minParallelSort; p = (p + 1) / 2 {
		d++
	}
	return d
}

// sortKeyed sorts ks by (k1, k2): below depth 0 in place, else both halves
// concurrently and then merged through buf (len(buf) >= len(ks)).
func sortKeyed(ks, buf []keyed, depth int) {
	if depth <= 0 || len(ks) < 2*minParallelSort {
		slices.SortFunc(ks, cmpKeyed)
		return
	}
	h := len(ks) / 2
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sortKeyed(ks[:h], buf[:h], depth-1)
	}()
	sortKeyed(ks[h:], buf[h:], depth-1)
	wg.Wait()
	a, b, out := ks[:h], ks[h:], buf[:0]
	for len(a) > 0 && len(b) > 0 {
		if cmpKeyed(b[0], a[0]) < 0 {
			out = append(out, b[0])
			b = b[1:]
		} else {
			out = append(out, a[0])
			a = a[1:]
		}
	}
	out = append(out, a...)
	out = append(out, b...)
	copy(ks, out)
}

// newGroup returns the group of parts, its rows ordered by (hour, srcaddr, dstaddr, start): the
// clustering that makes the address columns compress and lets zone maps
// skip data for address lookups. IPv6 and NULL addresses sort after IPv4.
func newGroup(parts []part, now int64) *group {
	rows, hours := sortRows(parts)
	return &group{parts: parts, rows: rows, hours: hours, now: now}
}

// sortRows returns the rows of parts in group order and the hour of each.
func sortRows(parts []part) ([]rowRef, []int64) {
	n := 0
	for _, p := range parts {
		n += p.b.N
	}
	ks := make([]keyed, 0, n)
	for pi, p := range parts {
		b := p.b
		st := b.Col(flowlog.Start)
		src := b.Col(flowlog.SrcAddr)
		dst := b.Col(flowlog.DstAddr)
		for r := 0; r < b.N; r++ {
			var start, hour int64
			if st != nil && st.Valid[r] {
				start = st.Ints[r]
				hour = hourOf(start)
			}
			s4, d4 := uint64(1<<32-1), uint64(1<<32-1)
			if src != nil && src.Fam[r] == 4 {
				s4 = uint64(src.V4[r])
			}
			if dst != nil && dst.Fam[r] == 4 {
				d4 = uint64(dst.V4[r])
			}
			ks = append(ks, keyed{
				k1:   uint64(hour/hourSeconds)<<32 | s4,
				k2:   d4<<32 | uint64(uint32(start-hour)),
				ref:  rowRef{uint32(pi), uint32(r)},
				hour: hour,
			})
		}
	}
	var buf []keyed
	depth := sortDepth(len(ks))
	if depth > 0 {
		buf = make([]keyed, len(ks))
	}
	sortKeyed(ks, buf, depth)
	rows, hours := make([]rowRef, n), make([]int64, n)
	for i, k := range ks {
		rows[i] = k.ref
		hours[i] = k.hour
	}
	return rows, hours
}

// colIndex returns, per part, the position of the catalog field in the
// part's format (-1 when absent), and whether any part has it.
func (g *group) colIndex(id flowlog.FieldID) ([]int, bool) {
	idx := make([]int, len(g.parts))
	any := false
	for i, p := range g.parts {
		idx[i] = p.b.Format.Index(id)
		if idx[i] >= 0 {
			any = true
		}
	}
	return idx, any
}

// endForms returns the stored forms of record r's `end` in part p: the
// delta from `start` when both are present and it fits an int32, else the
// raw value.
func endForms(p *part, r uint32) (delta int32, hasDelta bool, raw int64, hasRaw bool) {
	return endFormsOf(p.b.Col(flowlog.End), p.b.Col(flowlog.Start), r)
}

// endFormsOf is endForms with the part's `end` and `start` columns (nil
// when absent).
func endFormsOf(e, st *flowlog.Column, r uint32) (delta int32, hasDelta bool, raw int64, hasRaw bool) {
	if e == nil || !e.Valid[r] {
		return 0, false, 0, false
	}
	if st != nil && st.Valid[r] {
		d := e.Ints[r] - st.Ints[r]
		if d >= -1<<31 && d < 1<<31 {
			return int32(d), true, 0, false
		}
	}
	return 0, false, e.Ints[r], true
}
