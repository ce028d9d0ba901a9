package plan

// Semantics decided here (the spec's "project" points and approximations):
//
//   - Names: a field resolves, in order, to a name the query defined
//     (fields … as, parse, stats outputs, lookup outputs), a system field,
//     then any spelling of a catalog field (srcAddr, srcaddr, `log-status`,
//     log_status). An unknown name is an error with the nearest name.
//   - @timestamp is the record's start (milliseconds); @message is the
//     record rebuilt in its own format ('-' for NULL); @logStream is
//     "<interface-id>-all" (absent without the interface); @log is
//     "<account-id>:<dataset>" (the dataset alone without the account);
//     @ingestionTime is the store's ingest time. @ptr does not exist.
//   - Typing (§6.2): numeric text compares as a number, a number never
//     equals non-numeric text, NULL compares false (also with !=).
//   - Sort: numbers by value; text in the spec's natural order (non-numbers
//     first, then numbers, digit runs by length then value; runs longer
//     than 20 digits compare as text); NULL last in both directions;
//     ascending by default; `sort by x` is `sort x`. A sort after stats
//     breaks ties by the group keys not sorted on (ascending), so a limit
//     cuts at the same row every time; a sort of records breaks them by the
//     stored columns the output shows and @timestamp (with @message shown:
//     every field of the formats in play), and so does the row dedup keeps.
//     Rows without stats or sort come
//     newest first; so do the bins of a stats by bin() without sort (then
//     by its other keys), as the console lists a time series.
//   - stats: count_distinct is exact; pct is the nearest rank (DuckDB's
//     quantile_disc; ClickHouse's quantileExact may pick the next value
//     up); stddev is the sample deviation; earliest and
//     latest use start; sortsFirst/sortsLast are min/max; groups with NULL
//     keys are kept. Up to 10 stats per query.
//   - bin() floors epoch time (weeks start on Monday, months, quarters and
//     years on the first day, UTC); units over their cap are clamped with
//     a warning; stats … offset d floors @timestamp − d.
//   - parse "* * …" over @message maps onto stored columns when every
//     format in play has those fields in that order; otherwise globs and
//     regexes run over the rebuilt @message (a field per named group).
//   - Heuristic commands are deterministic approximations: pattern turns
//     every token containing a digit into <*> and counts (with @ratio and
//     @severityLabel UNKNOWN); countFrequent is an exact count.
//   - Row-wise commands (accum, autoregress, filldown, sessionize, outlier)
//     are window functions over the current row order; sessionize numbers
//     the sessions of each key 1, 2, …; outlier uses quantile_cont fences;
//     addtotals adds row totals (col=true is refused).
//   - lookup and cidrlookup read CSV tables (the engine loads them); the
//     first row of a key wins; cidrlookup matches IPv4 blocks, the most
//     specific block winning. join joins a subquery on equal keys (one per
//     query); appendcols pairs rows by position; subqueries cannot nest
//     and run over the query's time range.
//   - diff and logcompare compare the patterns of the query's range with
//     an earlier one (the previous range of equal length, a day, a week,
//     30 days, or the timeshift): counts of both, their difference and
//     new/gone/increased/decreased/unchanged. They need a time range.
//   - anomaly (after pattern) flags, after diff, new patterns and counts
//     that tripled or fell to a third, else patterns under 0.1% of events.
//   - relevantfields (after filters) ranks the numeric fields by
//     |median of the matching events − median of all events| /
//     (|median of all| + 1); @topRelevanceContributors is empty.
//   - rate(f, p) is sum(f) per period p: over the stats bin() when there
//     is one, else over the time the group's records span.
//   - countOverTime(f) and sumOverTime(f) are count(f) and sum(f) of each
//     group (per bin() when the stats has one).
//   - histogram(f, n) (n a whole number, 1 to 100) splits the group's
//     numeric values into n buckets of equal width between the least and
//     the greatest (one bucket when they are equal; the greatest value
//     falls in the last) and returns a JSON object from each bucket's lower
//     bound to its count, in bucket order, empty buckets included:
//     {"0":12,"250.5":3,"501":0,"751.5":1}. Bounds print as integers when
//     whole, else as the shortest decimal. No numeric value: absent.
//   - JSON (check_json.go): jsonParse(s) is s when it is a JSON object or
//     array, else absent; the value is held as its JSON text (type json).
//     j.a.b, j.`odd.key` and j.list[i] read into it; indexes are 0-based,
//     like split() lists and substr() (the spec leaves it open). A missing
//     key or index, or JSON null, is absent. A value read into is text
//     wherever text or a number is needed: strings without their quotes,
//     objects and arrays as their JSON text; a map may be read in the
//     command that created it as well as later ones. jsonStringify takes a
//     map or a list (split(), parse multi) and returns its JSON text;
//     jsonArraySize is absent unless the text is a JSON array;
//     jsonArrayContains compares v with each element as text (1/0; 0 for
//     anything but an array). Dotted access on a field that is not a map
//     is a checker error.
//   - parse [field] logfmt as m: m is a map of every key=value pair;
//     quoted values ("a \"b\"") lose their quotes and backslash escapes;
//     a key without = is "true"; of repeated keys the first wins; a text
//     without pairs leaves m absent.
//   - parse [field] csv as a, b: RFC 4180 fields ("x, ""y""" is x, "y"
//     with the comma); bare fields are trimmed; a field a line lacks is
//     absent.
//   - parse multi [field] "glob" | /regex/ (the syntax is project-chosen:
//     multi right after parse): each name is a list of that capture in
//     every match, in order (element k of each list comes from match k
//     when every group takes part; a glob whose last * ends the pattern
//     matches once). No match leaves the lists absent (ClickHouse: empty,
//     as its arrays cannot be NULL). Index or unnest the lists.
//   - unnest takes a split()/parse multi list or a JSON array (one row per
//     element; none for an empty or absent list or a JSON object).
