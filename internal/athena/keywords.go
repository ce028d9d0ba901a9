package athena

// keywords are the SQL words that are never a column alias: after one of
// them an identifier is not an implicit alias, and they are never aliases
// themselves. Column names Athena users write unquoted (day, year, month,
// hour, date, type, action, version, protocol, …) are not in the list.
var keywords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range []string{
		"all", "and", "any", "array", "as", "asc", "asof", "between", "both", "by", "case", "cast", "collate",
		"create", "cross", "cube", "current_date", "current_time", "current_timestamp", "delete", "desc",
		"describe", "distinct", "drop", "else", "end", "escape", "except", "exclude", "exists", "explain",
		"false", "fetch", "filter", "first", "following", "for", "from", "full", "group", "grouping", "having",
		"ilike", "in", "inner", "insert", "intersect", "interval", "into", "is", "isnull", "join", "last",
		"lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural", "not",
		"notnull", "null", "nulls", "offset", "on", "only", "or", "order", "outer", "over", "partition",
		"pivot", "positional", "preceding", "qualify", "range", "recursive", "rename", "replace", "returning",
		"right", "rollup", "row", "rows", "sample", "select", "semi", "anti", "set", "similar", "some",
		"table", "tablesample", "then", "ties", "trailing", "true", "try_cast", "unbounded", "union", "unnest",
		"unpivot", "update", "using", "values", "when", "where", "window", "with", "within", "glob",
		"regexp", "rlike", "materialized", "ordinality",
	} {
		m[w] = true
	}
	return m
}()
