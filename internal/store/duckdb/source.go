package duckdb

import "strings"

// sealedMacroName is the table macro of table t's sealed files (see
// viewDDL).
func sealedMacroName(t table) string { return "_sealed_" + t.name }

// FlowsSource returns a FROM item with the rows of the flows view but only
// the named columns of it (flows-view column names; the order does not
// matter): the UNION ALL over every record table of its rows and of its
// sealed files, each part selecting just those columns as the view
// computes them, aliased "flows". Planning and scanning the whole view
// costs per column of its select list, used or not (docs/BENCHMARKS.md
// step 13): a query that reads a few columns reads only them this way.
// ok is false when a name is not a column of the view or is one this
// form does not offer (then query the flows view).
func (s *Store) FlowsSource(cols []string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return flowsNarrow(s.tables, s.datasets, cols)
}

// flowsNarrow renders FlowsSource's FROM item over tables.
func flowsNarrow(tables []table, datasets map[int]string, cols []string) (string, bool) {
	if len(cols) == 0 || len(tables) == 0 {
		return "", false
	}
	want := make(map[string]bool, len(cols))
	for _, c := range cols {
		if !narrowable(c) {
			return "", false
		}
		want[c] = true
	}
	var parts []string
	for _, t := range tables {
		for _, sealed := range []bool{false, true} {
			var sel, phys []string
			seen := map[string]bool{}
			for _, c := range flowsColumns(t, datasets, sealed) {
				if !want[c.name] {
					continue
				}
				sel = append(sel, c.expr)
				for _, p := range c.phys {
					if !seen[p] {
						seen[p] = true
						phys = append(phys, quoteString(p))
					}
				}
			}
			if len(sel) != len(want) {
				return "", false // a name the view does not have
			}
			from := quoteIdent(t.name)
			if sealed {
				if len(phys) == 0 {
					phys = []string{quoteString("_hour")} // constants only: the rows still count
				}
				from = quoteIdent(sealedMacroName(t)) + "([" + strings.Join(phys, ", ") + "])"
			}
			parts = append(parts, "SELECT "+strings.Join(sel, ", ")+" FROM "+from)
		}
	}
	return "(" + strings.Join(parts, " UNION ALL ") + ") AS flows", true
}
