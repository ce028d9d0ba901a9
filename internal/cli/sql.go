package cli

import (
	"context"
	"io"
	"strings"

	"github.com/flowlens/flowlens/internal/athena"
)

const sqlExamples = `  flowlens sql 'SELECT srcaddr, sum(bytes) AS b FROM flows GROUP BY 1 ORDER BY 2 DESC LIMIT 10'
  flowlens sql --output csv 'SELECT * FROM "prod-vpc" WHERE action = '\''REJECT'\'' LIMIT 100'
  flowlens sql "SELECT date_trunc('hour', from_unixtime(start)) AS h, count(*) FROM vpc_flow_logs GROUP BY 1 ORDER BY 1"
  echo 'SELECT count(*) FROM flows' | flowlens sql -

Views: flows (every dataset, with a dataset column), one view per dataset, and
vpc_flow_logs (the "default" dataset). Columns have Athena's names; year, month,
day, hour and "date" are the partition columns; _srcaddr_v4 and _dstaddr_v4 hold
IPv4 addresses as integers (ip4_int('10.1.0.0') converts). flows_5m is the
5-minute rollup (dataset, bin, action, log_status, records, bytes, packets). Presto functions Athena users
write (from_unixtime, to_unixtime, date_format, day_of_week, approx_distinct,
regexp_like, bitwise_and, arbitrary, …) work. Fields written as '-' are NULL.
`

// runSQL runs DuckDB SQL over the flows view.
func runSQL(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "sql", "sql [--data DIR] [--output table|csv|json|jsonl] [--write] 'SQL' | -", sqlExamples)
	data := dataFlag(fs, env)
	output := fs.String("output", "table", "result format: table, csv, json or jsonl")
	write := fs.Bool("write", false, "open the database for writing (statements that change it are refused otherwise)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutputFormat(*output); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("give one SQL text (quoted), or - to read it from standard input")
	}
	q := fs.Arg(0)
	if q == "-" {
		b, err := io.ReadAll(env.Stdin)
		if err != nil {
			return err
		}
		q = string(b)
	}
	if strings.TrimSpace(q) == "" {
		return usageError("empty SQL")
	}
	st, err := openStore(ctx, env, *data, !*write)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := st.Query(ctx, athena.Rewrite(q))
	if err != nil {
		return err
	}
	return writeResult(env.Stdout, *output, res)
}
