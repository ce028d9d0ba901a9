package clickhouse

import (
	"regexp"
	"strings"

	"github.com/flowlens/flowlens/internal/insights/sqlgen"
)

// FlowsScan returns a FROM item with the rows of the flows view but only
// the named columns of it (flows-view column names), computed as the view
// computes them, aliased "flows"; the filters (sqlgen.ScanFilter) on
// columns that `records` stores as the view has them, or as a narrower
// integer the view converts, are applied to `records` itself, beside the
// exactly-once filter of the view. The server moves the cheapest of those
// conditions to PREWHERE (optimize_move_to_prewhere, on by default), which
// a view does not take: a query reads the columns it uses, and the others
// only for the rows its filters keep (docs/clickhouse.md, "Performance").
// ok is false when a name is not a column of the view, or on a cluster
// store, whose `flows` runs the query's aggregation on every shard (then
// query the flows view).
func (s *Store) FlowsScan(cols []string, filters []sqlgen.ScanFilter) (string, bool) {
	if s.cluster != "" {
		return "", false
	}
	def, ok := parseFlowsSelect(flowsSelect(s.legacyIngestTime))
	if !ok {
		return "", false
	}
	return def.narrow(cols, filters)
}

// flowsDef is the flows view's SELECT (flowsSelect) taken apart, so that a
// narrow FROM item computes each column with the view's own expression.
type flowsDef struct {
	outer []viewItem // the columns of the view, in order
	inner []viewItem // the inner SELECT's items over `records`, in order
	from  string     // the inner SELECT's FROM: "records"
	where string     // the inner SELECT's WHERE: the exactly-once filter
}

// viewItem is one item of a select list: its text, the name it has in
// the result, and the expression without the alias.
type viewItem struct {
	text, name, expr string
}

// narrow renders FlowsScan's FROM item.
func (d *flowsDef) narrow(cols []string, filters []sqlgen.ScanFilter) (string, bool) {
	if len(cols) == 0 {
		return "", false
	}
	want := make(map[string]bool, len(cols))
	for _, c := range cols {
		want[c] = true
	}
	innerNames := make(map[string]bool, len(d.inner))
	for _, it := range d.inner {
		innerNames[it.name] = true
	}
	stored := d.storedAsIs()
	// plain: the columns given as stored, without the view's NULL, since
	// a pushed filter drops every row lacking the field (see Excludes)
	plain := map[string]bool{}
	for _, f := range filters {
		if len(f.Cols) == 1 && f.Excludes != nil {
			if st, ok := stored[f.Cols[0]]; ok && f.Excludes(st.zero) {
				plain[f.Cols[0]] = true
			}
		}
	}
	reads := map[string]bool{}
	var outer []string
	for _, it := range d.outer {
		if !want[it.name] {
			continue
		}
		expr, text := it.expr, it.text
		if plain[it.name] {
			expr = stored[it.name].value
			text = expr + " AS " + quoteIdent(it.name)
		}
		outer = append(outer, text)
		for _, id := range identifiers(expr) {
			if innerNames[id] {
				reads[id] = true
			}
		}
	}
	if len(outer) != len(want) {
		return "", false // a name the view does not have
	}
	var inner []string
	for _, it := range d.inner {
		if reads[it.name] {
			inner = append(inner, it.text)
		}
	}
	if len(inner) == 0 {
		inner = []string{"_hour"} // constants only: the rows still count
	}
	var where []string
	for _, f := range filters {
		ok := len(f.Cols) > 0
		for _, c := range f.Cols {
			_, is := stored[c]
			ok = ok && is
		}
		if ok {
			// On `records` itself, without the `_nulls` condition that
			// the record has the field: where it lacks it, the view's
			// NULL makes each comparison NULL, and a filter of such
			// comparisons under AND, OR and NOT that is true with NULL is
			// true with any value (three-valued logic), so the stored 0 or
			// '' keeps every row the query keeps; the query applies the
			// filter again. A bitAnd(_nulls, …) conjunct beside it made the
			// server move `_nulls` to PREWHERE instead of the filter's own
			// column (Q2: 77.7 MB read instead of 32.4, docs/BENCHMARKS.md).
			// Where the filter is false on the stored 0 or '' (Excludes),
			// it drops every row lacking the field, so that the column
			// is given as stored (plain above): no `if` over `_nulls` per
			// row, and a type without NULL, which ScanFilter.Excludes
			// says cannot change the answer.
			where = append(where, "("+f.SQL+")")
		}
	}
	where = append(where, d.where)
	return "(SELECT " + strings.Join(outer, ", ") + " FROM (SELECT " + strings.Join(inner, ", ") + " FROM " + d.from +
		" WHERE " + strings.Join(where, " AND ") + ")) AS flows", true
}

// storedCol is a view column that `records` stores as the view has it
// where the record has the field: value is the view's expression of it
// without the NULL from `_nulls`, zero the value stored where the record
// lacks the field (int64 0 or "", see nullsColumn).
type storedCol struct {
	value string
	zero  any
}

// storedAsIs are the view's columns that a comparison with constants may
// test on the column of `records` of the same name: the view reads that
// column as it is, or converts the stored integer with toInt32 (a narrower
// integer type compares with a constant as the Int32 does), where the
// record has the field (the view's NULL where `_nulls` says it lacks the
// field, fieldValue).
func (d *flowsDef) storedAsIs() map[string]storedCol {
	innerOf := make(map[string]viewItem, len(d.inner))
	for _, it := range d.inner {
		innerOf[it.name] = it
	}
	kinds := map[string]colKind{}
	for _, c := range tableColumnsOf(features{}, true) {
		kinds[c.name] = c.kind
	}
	zeroOf := func(name string) any {
		switch kinds[name] {
		case ckText, ckDataset:
			return ""
		case ckNulls, ckPackKeys, ckPackVals, 0:
			return nil // not a field's column (or not one of records)
		}
		return int64(0)
	}
	out := map[string]storedCol{}
	for _, it := range d.outer {
		expr := it.expr
		if rest, ok := strings.CutPrefix(expr, "if(bitAnd("+nullsColumn+", "); ok {
			bit, val, ok := strings.Cut(rest, ") != 0, NULL, ")
			if !ok || !strings.HasSuffix(val, ")") || strings.Trim(bit, "0123456789") != "" {
				continue
			}
			expr = strings.TrimSuffix(val, ")")
		}
		if in, ok := innerOf[unquote(expr)]; ok && unquote(in.expr) == it.name {
			out[it.name] = storedCol{expr, zeroOf(it.name)} // the column itself
			continue
		}
		arg, ok := strings.CutPrefix(expr, "toInt32(")
		if !ok || !strings.HasSuffix(arg, ")") {
			continue
		}
		if in, ok := innerOf[unquote(strings.TrimSuffix(arg, ")"))]; ok && unquote(in.expr) == it.name {
			out[it.name] = storedCol{expr, zeroOf(it.name)} // toInt32 of the stored column of that name
		}
	}
	return out
}

// parseFlowsSelect takes flowsSelect's text apart:
// SELECT outer FROM (SELECT inner FROM records WHERE cond).
func parseFlowsSelect(q string) (*flowsDef, bool) {
	rest, ok := strings.CutPrefix(q, "SELECT ")
	if !ok {
		return nil, false
	}
	i := topLevelIndex(rest, " FROM (SELECT ")
	if i < 0 || !strings.HasSuffix(rest, ")") {
		return nil, false
	}
	d := &flowsDef{outer: selectItems(rest[:i])}
	sub := strings.TrimSuffix(rest[i+len(" FROM (SELECT "):], ")")
	j := topLevelIndex(sub, " FROM ")
	if j < 0 {
		return nil, false
	}
	d.inner = selectItems(sub[:j])
	from := sub[j+len(" FROM "):]
	k := topLevelIndex(from, " WHERE ")
	if k < 0 {
		return nil, false
	}
	d.from, d.where = from[:k], from[k+len(" WHERE "):]
	if len(d.outer) == 0 || len(d.inner) == 0 || topLevelIndex(d.where, " GROUP BY ") >= 0 {
		return nil, false
	}
	return d, true
}

// selectItems splits a select list at its top-level commas.
func selectItems(list string) []viewItem {
	var out []viewItem
	for _, text := range splitTopLevel(list, ", ") {
		it := viewItem{text: text, expr: text, name: unquote(text)}
		if a := lastTopLevelIndex(text, " AS "); a >= 0 {
			it.expr, it.name = text[:a], unquote(text[a+len(" AS "):])
		}
		out = append(out, it)
	}
	return out
}

// scanSQL walks s outside string literals and quoted identifiers, calling
// f with each byte offset at nesting depth 0; f returns false to stop.
func scanSQL(s string, f func(i int) bool) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '`', '"':
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			continue
		case '(', '[':
			depth++
			continue
		case ')', ']':
			depth--
			continue
		}
		if depth == 0 && !f(i) {
			return
		}
	}
}

func topLevelIndex(s, sep string) int {
	at := -1
	scanSQL(s, func(i int) bool {
		if strings.HasPrefix(s[i:], sep) {
			at = i
			return false
		}
		return true
	})
	return at
}

func lastTopLevelIndex(s, sep string) int {
	at := -1
	scanSQL(s, func(i int) bool {
		if strings.HasPrefix(s[i:], sep) {
			at = i
		}
		return true
	})
	return at
}

func splitTopLevel(s, sep string) []string {
	var out []string
	start := 0
	scanSQL(s, func(i int) bool {
		if i >= start && strings.HasPrefix(s[i:], sep) {
			out = append(out, s[start:i])
			start = i + len(sep)
		}
		return true
	})
	return append(out, s[start:])
}

// unquote returns the name an identifier denotes (backticks removed).
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.NewReplacer("\\`", "`", `\\`, `\`).Replace(s[1 : len(s)-1])
	}
	return s
}

var identRE = regexp.MustCompile("`(?:[^`\\\\]|\\\\.)*`|[A-Za-z_][A-Za-z0-9_]*")

// identifiers returns the identifiers of an expression, outside its string
// literals (a function name counts too: the caller keeps the column names).
func identifiers(expr string) []string {
	var b strings.Builder
	last := 0
	// blank the string literals out
	for i := 0; i < len(expr); i++ {
		if expr[i] != '\'' {
			continue
		}
		b.WriteString(expr[last:i])
		j := i + 1
		for ; j < len(expr) && expr[j] != '\''; j++ {
			if expr[j] == '\\' {
				j++
			}
		}
		b.WriteString("''")
		i, last = j, j+1
	}
	if last < len(expr) {
		b.WriteString(expr[last:])
	}
	var out []string
	for _, m := range identRE.FindAllString(b.String(), -1) {
		out = append(out, unquote(m))
	}
	return out
}
