package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/flowlens/flowlens/internal/athena"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
	"github.com/flowlens/flowlens/internal/telemetry"
)

const sqlExamples = `  flowlens sql 'SELECT srcaddr, sum(bytes) AS b FROM flows GROUP BY 1 ORDER BY 2 DESC LIMIT 10'
  flowlens sql --output csv 'SELECT * FROM "prod-vpc" WHERE action = '\''REJECT'\'' LIMIT 100'
  flowlens sql "SELECT date_trunc('hour', from_unixtime(start)) AS h, count(*) FROM vpc_flow_logs GROUP BY 1 ORDER BY 1"
  flowlens sql "SELECT sourceaddress, sum(numbytes) FROM \"mydb\".\"vpc_flow_logs\" WHERE day = '2024/05/31' GROUP BY 1"
  echo 'SELECT count(*) FROM flows' | flowlens sql -

Views: flows (every dataset, with a dataset column), one view per dataset, and
vpc_flow_logs / vpc_flow_logs_parquet (the "default" dataset, or every dataset
while there is none). Columns have Athena's names; year, month, day ('DD'), hour,
"date", dt ('YYYY-MM-DD'), accid, "aws-account-id", "aws-region" and "aws-service"
are the partition columns; _hour is the record's hour (epoch seconds: filter on it
to prune); _srcaddr_v4 and _dstaddr_v4 hold IPv4 addresses as integers
(ip4_int('10.1.0.0') converts). flows_5m is the 5-minute rollup (dataset, bin,
action, log_status, records, bytes, packets); flows_rejects the rollup of the
REJECT records (dataset, _hour, srcaddr, _srcaddr_v4, dstport, records, bytes,
packets).

Athena SQL runs with these rewrites (never inside strings or comments):
  - Presto functions: from_unixtime, to_unixtime, date_format, date_parse,
    format_datetime, date_add(unit, n, ts), from_iso8601_timestamp, day_of_week,
    approx_distinct, approx_percentile, arbitrary, regexp_like, bitwise_and, …
  - the legacy column names of AWS's older DDL: account, interfaceid,
    sourceaddress, destinationaddress, sourceport, destinationport, numpackets,
    numbytes, starttime, endtime, logstatus (unless the query defines the name);
  - day compared with a 'yyyy/MM/dd' string (=, <>, <, >, BETWEEN, IN, LIKE), as
    with partition projection: day is then 'yyyy/MM/dd' in that statement, and
    whole-date comparisons become _hour ranges (pruned);
  - col = '-' / col <> '-' → col IS NULL / IS NOT NULL (fields written '-' are NULL);
  - db.table, "db"."table", catalog.db.table: the database is dropped before
    any table or view the database has (and the databases of --database before
    any name); other vpc_flow_logs_* tables (vpc_flow_logs_pp, …) read
    vpc_flow_logs;
  - backticked identifiers are double-quoted.
Several statements separated by ';' run in turn, each result written in turn;
--show-sql prints what they run as.
CREATE EXTERNAL TABLE, ALTER TABLE … ADD PARTITION, MSCK REPAIR TABLE and CREATE
DATABASE succeed and do nothing (a line on stderr says what flowlens makes of
them), except that with --write a CREATE EXTERNAL TABLE whose columns are all
flow log fields declares the column order of its dataset's header-less text
for later ingests; SHOW PARTITIONS lists the hours as Athena's partitions. Statements
that change the database, files or settings (INSERT, DELETE, DROP, COPY, ATTACH,
SET, PRAGMA, INSTALL, LOAD, CALL, …) need --write. "$path" is not available.
See docs/athena-sql.md for the details.
bigint / bigint divides as floats in DuckDB: --integer-division (or //) truncates
as Athena does.
With a ClickHouse --store the statements are ClickHouse SQL over the same views
and columns, run as written (no Athena rewrites; intDiv(a, b) divides integers);
see docs/clickhouse.md.
`

// runSQL runs DuckDB SQL (with Athena's dialect rewritten) over the flows view.
func runSQL(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "sql", "sql [--data DIR] [--store URL] [--output table|csv|json|jsonl] [--write] [--database NAMES] [--integer-division] [--show-sql] 'SQL' | -", sqlExamples)
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	output := fs.String("output", "table", "result format: table, csv, json or jsonl")
	write := fs.Bool("write", false, "open the database for writing (statements that change it are refused otherwise)")
	intDiv := fs.Bool("integer-division", false, "divide integers as Athena does: bigint / bigint truncates (DuckDB's / gives a float)")
	show := fs.Bool("show-sql", false, "print the DuckDB SQL each statement runs as (after the Athena rewrites) instead of running it")
	databases := fs.String("database", "", "comma-separated database `names` dropped before any table name (any database is accepted before a table or view the database has)")
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
	// Classify first: refusals and no-ops need no database.
	stmts, err := athena.Prepare(q, athena.Options{})
	if err != nil {
		return err
	}
	if len(stmts) == 0 {
		return usageError("no SQL statement, only comments or ';'")
	}
	run := false
	for _, st := range stmts {
		if st.Kind == athena.KindWrite && !*write {
			return fmt.Errorf("%s: %s changes the database, files or settings, and flowlens sql opens the database read-only: "+
				"add --write to run it", st.Pos, st.Verb)
		}
		_, _, declares := declaration(st)
		run = run || !st.Kind.NoOp() || (declares && *write)
	}
	if !run {
		for _, st := range stmts {
			if err := noOp(ctx, env, nil, st); err != nil {
				return err
			}
		}
		return nil
	}
	st, err := openStore(ctx, env, *data, *storeURL, !*write)
	if err != nil {
		return err
	}
	defer env.release(st)
	if stmts, err = prepareSQL(ctx, st, q, splitList(*databases)); err != nil {
		return err
	}
	decl := st
	if !*write {
		decl = nil
	}
	var runner = env.timed(st, telemetry.KindSQL)
	if *intDiv {
		db := embedded(st)
		if db == nil {
			return usageError("--integer-division is a DuckDB setting; on ClickHouse write intDiv(a, b) for a truncating division")
		}
		// The parser reads the setting: it must be set before the
		// statements are sent, on the connection that runs them (a
		// session, so that other clients of a shared store keep theirs).
		sess, err := db.Session(ctx)
		if err != nil {
			return err
		}
		defer sess.Close()
		if _, err := sess.Query(ctx, "SET integer_division = true"); err != nil {
			return fmt.Errorf("set integer division: %w", err)
		}
		runner = env.timed(sess, telemetry.KindSQL)
	}
	return runStatements(ctx, env, runner, decl, stmts, *output, *show)
}

// prepareSQL splits and classifies SQL text for st: on the embedded
// database with the Athena rewrites (given what the database holds); on
// ClickHouse each statement runs as written (ClickHouse SQL over the same
// views and columns).
func prepareSQL(ctx context.Context, st store.Backend, text string, databases []string) ([]athena.Statement, error) {
	if embedded(st) == nil {
		stmts, err := athena.Prepare(text, athena.Options{Databases: databases})
		if err != nil {
			return nil, err
		}
		for i := range stmts {
			stmts[i].SQL = stmts[i].Text
		}
		return stmts, nil
	}
	opt, err := sqlOptions(ctx, st, databases)
	if err != nil {
		return nil, err
	}
	return athena.Prepare(text, opt)
}

// sqlOptions says what the database holds for the Athena rewrites: the
// views with the flows columns (the dataset views among them) provide the
// legacy column names; before any table a database name is dropped.
func sqlOptions(ctx context.Context, st store.Querier, databases []string) (athena.Options, error) {
	opt := athena.Options{Databases: databases}
	tables, err := st.Query(ctx, `SELECT table_name,
		count(DISTINCT column_name) FILTER (WHERE column_name IN ('srcaddr', 'end', '_hour', 'dt')) = 4
		FROM duckdb_columns() WHERE NOT internal GROUP BY 1`)
	if err != nil {
		return opt, fmt.Errorf("list tables: %w", err)
	}
	for _, row := range tables.Rows {
		name, _ := row[0].(string)
		if flows, _ := row[1].(bool); flows {
			opt.Tables = append(opt.Tables, name)
		} else {
			opt.OtherTables = append(opt.OtherTables, name)
		}
	}
	return opt, nil
}

// runStatements runs prepared statements in turn and writes each result;
// no-ops print their notice, show prints the SQL instead of running it.
func runStatements(ctx context.Context, env *Env, q store.Querier, st store.Backend, stmts []athena.Statement, output string, show bool) error {
	for _, s := range stmts {
		switch {
		case s.Kind.NoOp():
			if err := noOp(ctx, env, st, s); err != nil {
				return err
			}
			continue
		case show:
			fmt.Fprintln(env.Stdout, s.SQL+";")
			continue
		}
		res, err := q.Query(ctx, s.SQL)
		if err != nil {
			if s.SQL != s.Text {
				err = fmt.Errorf("%w\n(after the Athena rewrites, the statement ran as: %s)", err, s.SQL)
			}
			if len(stmts) > 1 {
				return fmt.Errorf("statement at %s: %w", s.Pos, err)
			}
			return err
		}
		if err := writeResult(env.Stdout, output, res); err != nil {
			return err
		}
	}
	return nil
}

// noOp prints what a statement that runs as a no-op does. A CREATE
// EXTERNAL TABLE whose columns are all flow log fields declares the column
// order of the dataset's header-less text, recorded when the store is open
// for writing (st nil: not open).
func noOp(ctx context.Context, env *Env, st store.Backend, s athena.Statement) error {
	fmt.Fprintln(env.Stderr, s.Notice)
	dataset, f, ok := declaration(s)
	if !ok {
		return nil
	}
	if st == nil || st.ReadOnly() {
		fmt.Fprintf(env.Stderr, "(with --write, header-less text ingested into dataset %s would be read as %s)\n", dataset, f)
		return nil
	}
	if err := st.DeclareFormat(ctx, dataset, f); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "dataset %s: header-less text ingested into it is read as %s (a header line or Parquet schema still wins)\n", dataset, f)
	return nil
}

// declaration returns the dataset a CREATE EXTERNAL TABLE names (the
// default dataset for AWS's vpc_flow_logs tables) and the format of its
// data columns, when every one of them is a flow log field.
func declaration(s athena.Statement) (string, *flowlog.Format, bool) {
	if s.Verb != "CREATE EXTERNAL TABLE" || s.Table == "" {
		return "", nil, false
	}
	var names []string
	for _, c := range s.Columns {
		if c.Partition {
			continue
		}
		f, ok := flowlog.Lookup(c.Canonical)
		if !ok {
			return "", nil, false
		}
		names = append(names, "${"+f.Name+"}")
	}
	if len(names) == 0 {
		return "", nil, false
	}
	f, err := flowlog.ParseFormat(strings.Join(names, " "))
	if err != nil {
		return "", nil, false
	}
	dataset := s.Table
	if strings.HasPrefix(strings.ToLower(dataset), "vpc_flow_logs") {
		dataset = duckdb.DefaultDataset
	} else if duckdb.ValidDatasetName(dataset) != nil {
		return "", nil, false
	}
	return dataset, f, true
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
