package duckdb

import (
	"slices"

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

// newGroup orders the rows of parts by (hour, srcaddr, dstaddr, start): the
// clustering that makes the address columns compress and lets zone maps
// skip data for address lookups. IPv6 and NULL addresses sort after IPv4.
func newGroup(parts []part, now int64) *group {
	n := 0
	for _, p := range parts {
		n += p.b.N
	}
	type keyed struct {
		k1, k2 uint64
		ref    rowRef
		hour   int64
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
	slices.SortFunc(ks, func(a, b keyed) int {
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
	})
	g := &group{parts: parts, rows: make([]rowRef, n), hours: make([]int64, n), now: now}
	for i, k := range ks {
		g.rows[i] = k.ref
		g.hours[i] = k.hour
	}
	return g
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
	e := p.b.Col(flowlog.End)
	if e == nil || !e.Valid[r] {
		return 0, false, 0, false
	}
	if st := p.b.Col(flowlog.Start); st != nil && st.Valid[r] {
		d := e.Ints[r] - st.Ints[r]
		if d >= -1<<31 && d < 1<<31 {
			return int32(d), true, 0, false
		}
	}
	return 0, false, e.Ints[r], true
}
