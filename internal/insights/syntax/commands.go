package syntax

// Commands lists the commands the parser accepts, as Logs Insights spells
// them, for editors' completion.
func Commands() []string {
	return []string{
		"fields", "display", "filter", "filterIndex", "stats", "sort", "limit", "parse", "dedup",
		"unmask", "SOURCE", "countFrequent", "accum", "estimate", "autoregress", "filldown", "pattern",
		"addtotals", "sessionize", "outlier", "unnest", "expand", "fillmissing", "lookup", "cidrlookup",
		"join", "diff", "appendcols", "anomaly", "relevantfields", "logcompare",
	}
}

// Keywords lists the words that join the parts of commands.
func Keywords() []string {
	return []string{"by", "as", "and", "or", "not", "like", "in", "asc", "desc", "into", "logfmt", "csv", "multi"}
}
