package storetest

// systemCases cover the system fields built from several columns: @log is
// `account-id:dataset`, or the dataset alone for a format without the
// account; @logStream is `<interface-id>-all`, absent without the
// interface.
func systemCases() []Case {
	return []Case{
		{Name: "system_log_and_stream", Query: `stats count(*) as n by @log, @logStream`,
			Want: func(rs []record) [][]any {
				k, g := groupBy(rs, func(r record) []any {
					log := r.dataset
					if a := str(r, "account_id"); a != "" {
						log = a + ":" + r.dataset
					}
					var stream any
					if i := str(r, "interface_id"); i != "" {
						stream = i + "-all"
					}
					return []any{log, stream}
				})
				return rowsOf(k, g, countOf)
			}},
	}
}
