package plan

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"

	isyntax "github.com/flowlens/flowlens/internal/insights/syntax"
)

// LookupNames returns the lookup tables a query names (for the engine to load).
func LookupNames(q *isyntax.Query) []string {
	var out []string
	isyntax.Inspect(q, func(n isyntax.Node) bool {
		if l, ok := n.(*isyntax.Lookup); ok {
			out = append(out, l.Table.Name)
		}
		return true
	})
	return out
}

func (c *checker) table(cmd *isyntax.Lookup) *Table {
	t, ok := c.opt.Lookups[cmd.Table.Name]
	if !ok {
		names := make([]string, 0, len(c.opt.Lookups))
		for n := range c.opt.Lookups {
			names = append(names, n)
		}
		sort.Strings(names)
		msg := fmt.Sprintf("unknown lookup table %q", cmd.Table.Name)
		if len(names) > 0 {
			msg += " (tables: " + strings.Join(names, ", ") + ")"
		} else {
			msg += ": put NAME.csv (a header row, then rows) in the lookups folder of the data directory"
		}
		c.fail(cmd.Table, "%s", msg)
	}
	return t
}

func colIndex(c *checker, t *Table, f *isyntax.Field, table string) int {
	for i, name := range t.Columns {
		if name == f.Name {
			return i
		}
	}
	c.fail(f, "lookup table %s has no column %q (columns: %s)", table, f.Name, strings.Join(t.Columns, ", "))
	return -1
}

// lookup joins a lookup table on equal keys (lookup) or on the most
// specific IPv4 block holding an address (cidrlookup).
func (c *checker) lookup(cmd *isyntax.Lookup) {
	t := c.table(cmd)
	if c.cur.Grouped {
		c.newStage()
	}
	c.nextID++
	alias := fmt.Sprintf("_l%d", c.nextID)
	j := &Join{Alias: alias}
	col := func(i int, typ Type) *Ref {
		name := fmt.Sprintf("%s_%d", alias, i)
		j.Cols = append(j.Cols, name)
		j.Types = append(j.Types, typ)
		return &Ref{Name: name, T: typ}
	}
	outIdx := make([]int, len(cmd.Outputs))
	for i, o := range cmd.Outputs {
		outIdx[i] = colIndex(c, t, o.Col, cmd.Table.Name)
	}
	var outRefs []*Ref
	if cmd.CIDR {
		k := cmd.Keys[0]
		ci := 0
		if k.Table != k.Event {
			ci = colIndex(c, t, k.Table, cmd.Table.Name)
		}
		x := c.str(c.expr(k.Event, exprCtx{}))
		lo, hi := col(0, TypeNumber), col(1, TypeNumber)
		for range outIdx {
			outRefs = append(outRefs, col(len(j.Cols), TypeString))
		}
		j.Rows = cidrIntervals(t, ci, outIdx)
		j.On = &Call{Fn: "ipv4_between", Args: []Expr{x, lo, hi}, T: TypeBool}
	} else {
		var keyIdx []int
		var on Expr
		for _, k := range cmd.Keys {
			ki := colIndex(c, t, k.Table, cmd.Table.Name)
			keyIdx = append(keyIdx, ki)
			x := c.str(c.expr(k.Event, exprCtx{}))
			eq := &Call{Fn: "=", Args: []Expr{x, col(len(j.Cols), TypeString)}, T: TypeBool}
			if on == nil {
				on = eq
			} else {
				on = &Call{Fn: "and", Args: []Expr{on, eq}, T: TypeBool}
			}
		}
		for range outIdx {
			outRefs = append(outRefs, col(len(j.Cols), TypeString))
		}
		seen := map[string]bool{}
		for _, row := range t.Rows {
			var key strings.Builder
			r := make([]any, 0, len(keyIdx)+len(outIdx))
			for _, i := range keyIdx {
				key.WriteString(cell(row, i) + "\x1f")
				r = append(r, cell(row, i))
			}
			if seen[key.String()] {
				continue // the first row of a key wins
			}
			seen[key.String()] = true
			for _, i := range outIdx {
				r = append(r, cell(row, i))
			}
			j.Rows = append(j.Rows, r)
		}
		j.On = on
	}
	c.cur.Joins = append(c.cur.Joins, j)
	for i, o := range cmd.Outputs {
		var x Expr = outRefs[i]
		if cmd.New {
			if old, ok := c.sc.defs[o.As.Name]; ok {
				x = &Call{Fn: "coalesce", Args: []Expr{c.str(old), x}, T: TypeString}
			}
		}
		c.define(o.As.Name, x)
		c.addOutput(o.As.Name)
	}
}

func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

// cidrIntervals turns the IPv4 blocks of a table into disjoint ranges,
// each owned by the most specific block that holds it, as rows of
// (lo, hi, outputs…). CIDR blocks are nested or disjoint, so a sweep with
// a stack of open blocks finds the owner of every range. Rows whose block
// is not an IPv4 CIDR are skipped; of two equal blocks the first wins.
func cidrIntervals(t *Table, ci int, outIdx []int) [][]any {
	type block struct {
		lo, hi int64
		bits   int
		row    int
	}
	var blocks []block
	seen := map[[2]int64]bool{}
	for r, row := range t.Rows {
		p, err := netip.ParsePrefix(strings.TrimSpace(cell(row, ci)))
		if err != nil || !p.Addr().Is4() {
			continue
		}
		p = p.Masked()
		lo := v4(p.Addr())
		hi := lo | (int64(1)<<(32-p.Bits()) - 1)
		if seen[[2]int64{lo, hi}] {
			continue
		}
		seen[[2]int64{lo, hi}] = true
		blocks = append(blocks, block{lo, hi, p.Bits(), r})
	}
	sort.Slice(blocks, func(i, j int) bool {
		if blocks[i].lo != blocks[j].lo {
			return blocks[i].lo < blocks[j].lo
		}
		return blocks[i].bits < blocks[j].bits
	})
	var out [][]any
	var owners []int
	emit := func(lo, hi int64, b block) {
		if lo > hi {
			return
		}
		if n := len(out); n > 0 && owners[n-1] == b.row && out[n-1][1].(int64)+1 == lo {
			out[n-1][1] = hi
			return
		}
		r := []any{lo, hi}
		for _, oi := range outIdx {
			r = append(r, cell(t.Rows[b.row], oi))
		}
		out = append(out, r)
		owners = append(owners, b.row)
	}
	var stack []block
	pos := int64(0)                // first address not yet assigned
	flushTo := func(limit int64) { // assign [pos, limit) to the open blocks
		for len(stack) > 0 && pos < limit {
			top := stack[len(stack)-1]
			end := min(top.hi, limit-1)
			emit(pos, end, top)
			pos = end + 1
			if pos > top.hi {
				stack = stack[:len(stack)-1]
			}
		}
		if pos < limit {
			pos = limit
		}
	}
	for _, b := range blocks {
		flushTo(b.lo)
		stack = append(stack, b)
	}
	flushTo(math.MaxUint32 + 1)
	return out
}

// join joins the current rows with a subquery's rows on equal keys; the
// subquery's fields are then right.field.
func (c *checker) join(cmd *isyntax.JoinCmd) {
	if c.joinLeft != "" {
		c.fail(cmd, "a query can have one join")
	}
	sub := c.compileSub(cmd.Sub)
	if s := c.cur; s.Grouped || s.Limit > 0 || len(s.Dedup) > 0 || s.Windowed || len(s.Order) > 0 {
		c.newStage()
	}
	c.nextID++
	alias := fmt.Sprintf("_j%d", c.nextID)
	j := &Join{Alias: alias, Sub: sub, Inner: cmd.Type == "inner"}
	right := map[string]*Ref{}
	for i, o := range sub.Output {
		name := fmt.Sprintf("%s_%d", alias, i)
		j.Cols = append(j.Cols, name)
		j.Types = append(j.Types, o.Type)
		right[o.Name] = &Ref{Name: name, T: o.Type}
	}
	c.joinLeft = cmd.Left
	side := func(f *isyntax.Field) (Expr, bool) {
		if rest, ok := strings.CutPrefix(f.Name, cmd.Right+"."); ok {
			r, ok := right[rest]
			if !ok {
				c.fail(f, "the subquery has no field %q (it has %s)", rest, outNames(sub))
			}
			return r, true
		}
		return c.resolveName(f, f.Name, f.Quoted), false
	}
	var on Expr
	var walk func(e isyntax.Expr)
	walk = func(e isyntax.Expr) {
		b := e.(*isyntax.Binary)
		if b.Op == "and" {
			walk(b.X)
			walk(b.Y)
			return
		}
		lf, rf := b.X.(*isyntax.Field), b.Y.(*isyntax.Field)
		l, lr := side(lf)
		r, rr := side(rf)
		if lr == rr {
			c.fail(b, "a join condition compares a field of %s with one of %s", cmd.Left, cmd.Right)
		}
		if lr {
			l, r = r, l
		}
		l2, r2, ok := c.coerce(b, l, r)
		var eq Expr = &Call{Fn: "=", Args: []Expr{l2, r2}, T: TypeBool}
		if !ok {
			eq = &Lit{Value: false, T: TypeBool}
		}
		if on == nil {
			on = eq
		} else {
			on = &Call{Fn: "and", Args: []Expr{on, eq}, T: TypeBool}
		}
	}
	walk(cmd.On)
	j.On = on
	c.cur.Joins = append(c.cur.Joins, j)
	for _, o := range sub.Output {
		name := cmd.Right + "." + o.Name
		c.define(name, right[o.Name])
		c.addOutput(name)
	}
}

func outNames(p *Plan) string {
	names := make([]string, len(p.Output))
	for i, o := range p.Output {
		names[i] = o.Name
	}
	return strings.Join(names, ", ")
}

// appendcols appends the subquery's columns to the rows by position: row
// i gets the subquery's row i (in the order of each side), up to max rows.
func (c *checker) appendcols(cmd *isyntax.Appendcols) {
	sub := c.compileSub(cmd.Sub)
	last := sub.Stages[len(sub.Stages)-1]
	last.Cols = append(last.Cols, Named{Name: "_rn", X: &Call{Fn: "row_number", T: TypeNumber, Agg: last.Grouped, Win: &Window{Order: last.Order}}})
	sub.Output = append(sub.Output, OutCol{Name: "_rn", Type: TypeNumber})
	c.windowStage()
	c.define("_rn", &Call{Fn: "row_number", T: TypeNumber, Agg: c.cur.Grouped, Win: &Window{Order: c.rowOrder()}})
	c.newStage()
	c.nextID++
	alias := fmt.Sprintf("_j%d", c.nextID)
	j := &Join{Alias: alias, Sub: sub}
	refs := make([]*Ref, len(sub.Output))
	for i, o := range sub.Output {
		name := fmt.Sprintf("%s_%d", alias, i)
		j.Cols = append(j.Cols, name)
		j.Types = append(j.Types, o.Type)
		refs[i] = &Ref{Name: name, T: o.Type}
	}
	rn := refs[len(refs)-1]
	j.On = &Call{Fn: "and", T: TypeBool, Args: []Expr{
		&Call{Fn: "=", Args: []Expr{c.sc.defs["_rn"], rn}, T: TypeBool},
		&Call{Fn: "<=", Args: []Expr{rn, &Lit{Value: cmd.Max, T: TypeNumber}}, T: TypeBool},
	}}
	c.cur.Joins = append(c.cur.Joins, j)
	for i, o := range sub.Output[:len(sub.Output)-1] {
		if _, exists := c.sc.defs[o.Name]; exists && !cmd.Override {
			continue
		}
		c.define(o.Name, refs[i])
		c.addOutput(o.Name)
	}
	c.cur.Order = []SortKey{{X: c.sc.defs["_rn"]}}
	c.explicit = true
}
