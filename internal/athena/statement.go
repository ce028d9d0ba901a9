package athena

import (
	"fmt"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// Kind classifies a statement.
type Kind uint8

// Statement kinds.
const (
	// KindQuery only reads: SELECT, WITH, VALUES, TABLE, FROM-first
	// queries, SHOW, DESCRIBE, SUMMARIZE, PIVOT, EXPLAIN of a query.
	KindQuery Kind = iota
	// KindCreateExternalTable is Athena's CREATE EXTERNAL TABLE: flowlens
	// already has the table, nothing to do.
	KindCreateExternalTable
	// KindAddPartition is ALTER TABLE … ADD [IF NOT EXISTS] PARTITION:
	// flowlens computes partitions from the records, nothing to do.
	KindAddPartition
	// KindRepairTable is MSCK REPAIR TABLE: nothing to discover.
	KindRepairTable
	// KindCreateDatabase is Athena's CREATE DATABASE: flowlens has one.
	KindCreateDatabase
	// KindWrite is any other statement: it changes the database, writes
	// files, or changes the session (DROP, DELETE, INSERT, UPDATE, COPY,
	// ATTACH, PRAGMA, SET, INSTALL, LOAD, CALL, CREATE, …).
	KindWrite
)

func (k Kind) String() string {
	switch k {
	case KindQuery:
		return "query"
	case KindCreateExternalTable:
		return "create external table"
	case KindAddPartition:
		return "add partition"
	case KindRepairTable:
		return "repair table"
	case KindCreateDatabase:
		return "create database"
	}
	return "write"
}

// NoOp reports whether the statement is Athena catalog DDL that flowlens
// accepts and has nothing to do for.
func (k Kind) NoOp() bool {
	return k == KindCreateExternalTable || k == KindAddPartition || k == KindRepairTable || k == KindCreateDatabase
}

// Statement is one statement of an SQL text, classified and rewritten.
type Statement struct {
	Kind Kind
	// Verb names the statement: "SELECT", "CREATE EXTERNAL TABLE", "DROP", …
	Verb string
	// SQL is the DuckDB text to run (KindQuery, KindWrite), without the
	// statement's ';'.
	SQL string
	// Text is the statement as written, without its ';'.
	Text string
	// Pos is where the statement starts.
	Pos Position
	// Table is the table a catalog statement names (without its database).
	Table string
	// Columns are the columns CREATE EXTERNAL TABLE declares, then its
	// partition columns.
	Columns []Column
	// Notice is the one line to show for a no-op statement.
	Notice string
}

// Column is a column declared by CREATE EXTERNAL TABLE.
type Column struct {
	Name, Type string
	// Partition is set for a PARTITIONED BY column.
	Partition bool
	// Canonical is the flowlens column it is, "" when flowlens has none.
	Canonical string
}

// readVerbs start statements that only read.
var readVerbs = map[string]bool{
	"select": true, "with": true, "values": true, "table": true, "from": true, "show": true, "describe": true,
	"desc": true, "summarize": true, "pivot": true, "unpivot": true,
}

// partitionColumns are the partition columns of AWS's Athena tables that
// every flowlens view has (computed from the record).
var partitionColumns = map[string]string{
	"year": "year", "month": "month", "day": "day", "hour": "hour", "date": "date", "dt": "dt",
	"accid": "account_id", "aws-account-id": "account_id", "aws_account_id": "account_id",
	"aws-region": "region", "aws_region": "region", "aws-service": "aws-service", "aws_service": "aws-service",
	"region": "region", "dataset": "dataset",
}

// Prepare splits an SQL text into statements, classifies each and rewrites
// the ones to run (see Rewrite). Empty statements are dropped.
func Prepare(sql string, opt Options) ([]Statement, error) {
	r, err := newRewriter(sql, opt)
	if err != nil {
		return nil, err
	}
	var out []Statement
	for _, sp := range r.statements() {
		if sp.lo == sp.hi {
			continue
		}
		st := r.classify(sp)
		st.Text = strings.TrimSpace(r.sql[r.tok(sp.lo).Pos : r.tok(sp.hi-1).Pos+len(r.tok(sp.hi-1).Text)])
		if !st.Kind.NoOp() && st.SQL == "" {
			if err := r.rewriteStatement(sp); err != nil {
				return nil, err
			}
			st.SQL = strings.TrimSpace(r.text(r.sig[sp.lo], r.sig[sp.hi-1]+1))
		}
		out = append(out, st)
	}
	return out, nil
}

// Classify returns KindWrite and the verb of the first statement that
// would change anything, else the kind and verb of the last statement.
func Classify(sql string) (Kind, string, error) {
	r, err := newRewriter(sql, Options{})
	if err != nil {
		return 0, "", err
	}
	kind, verb := KindQuery, ""
	for _, sp := range r.statements() {
		if sp.lo == sp.hi {
			continue
		}
		st := r.classify(sp)
		if st.Kind == KindWrite {
			return st.Kind, st.Verb, nil
		}
		kind, verb = st.Kind, st.Verb
	}
	return kind, verb, nil
}

// classify classifies statement sp.
func (r *rewriter) classify(sp span) Statement {
	j := sp.lo
	for j < sp.hi && r.isOp(j, "(") {
		j++
	}
	st := Statement{Kind: KindWrite, Pos: r.position(r.tok(sp.lo).Pos)}
	if j >= sp.hi || r.tok(j).Kind != TokIdent {
		st.Kind, st.Verb = KindQuery, "query"
		return st
	}
	verb := strings.ToLower(r.tok(j).Text)
	st.Verb = strings.ToUpper(verb)
	switch {
	case verb == "explain":
		k := j + 1
		if r.isKw(k, "analyze") {
			k++
		}
		inner := r.classify(span{k, sp.hi})
		st.Kind = KindQuery
		if inner.Kind != KindQuery {
			st.Kind = KindWrite
		}
		st.Verb = "EXPLAIN " + inner.Verb
	case verb == "with":
		st.Kind = KindQuery
		depth := 0
		for k := j; k < sp.hi; k++ {
			switch {
			case r.isOp(k, "("):
				depth++
			case r.isOp(k, ")"):
				depth--
			case depth == 0 && r.isKw(k, "insert", "update", "delete", "merge", "copy"):
				st.Kind, st.Verb = KindWrite, "WITH … "+strings.ToUpper(r.tok(k).Text)
			}
		}
	case verb == "show" && r.isKw(j+1, "partitions"):
		_, table := r.tableName(j+2, sp.hi)
		st.Kind, st.Verb, st.Table = KindQuery, "SHOW PARTITIONS", table
		st.SQL = showPartitionsSQL(table, r)
	case readVerbs[verb]:
		st.Kind = KindQuery
	case verb == "create":
		k := j + 1
		if r.isKw(k, "or") && r.isKw(k+1, "replace") {
			k += 2
		}
		switch {
		case r.isKw(k, "external") && r.isKw(k+1, "table"):
			st.Kind, st.Verb = KindCreateExternalTable, "CREATE EXTERNAL TABLE"
			r.parseCreate(&st, k+2, sp.hi)
		case r.isKw(k, "database"):
			k++
			if r.isKw(k, "if") && r.isKw(k+1, "not") && r.isKw(k+2, "exists") {
				k += 3
			}
			_, db := r.tableName(k, sp.hi)
			st.Kind, st.Verb, st.Table = KindCreateDatabase, "CREATE DATABASE", db
			st.Notice = "CREATE DATABASE " + db + ": nothing to do, flowlens has one database; " +
				"a database name before one of its tables is dropped (flowlens sql --database " + db +
				" drops it before any table)"
		}
	case verb == "alter" && r.isKw(j+1, "table"):
		k, table := r.tableName(j+2, sp.hi)
		if r.isKw(k, "add") {
			k++
			if r.isKw(k, "if") && r.isKw(k+1, "not") && r.isKw(k+2, "exists") {
				k += 3
			}
			if r.isKw(k, "partition") {
				st.Kind, st.Verb, st.Table = KindAddPartition, "ALTER TABLE … ADD PARTITION", table
				st.Notice = st.Verb + " (" + table + "): nothing to do, flowlens has no partitions to declare: " +
					"year, month, day, hour, date and dt are computed from each record's start"
			}
		}
	case verb == "msck" && r.isKw(j+1, "repair") && r.isKw(j+2, "table"):
		_, table := r.tableName(j+3, sp.hi)
		st.Kind, st.Verb, st.Table = KindRepairTable, "MSCK REPAIR TABLE", table
		st.Notice = st.Verb + " " + table + ": nothing to do, flowlens has no partitions to discover: " +
			"every ingested record is queryable at once"
	}
	return st
}

// tableName reads a possibly qualified table name at k and returns the
// index after it and the table's name (its last part).
func (r *rewriter) tableName(k, hi int) (int, string) {
	name := ""
	for k < hi {
		n, ok := r.name(k)
		if !ok {
			break
		}
		name = n
		k++
		if !r.isOp(k, ".") {
			break
		}
		k++
	}
	return k, name
}

// parseCreate reads `[IF NOT EXISTS] name (columns) [COMMENT …]
// [PARTITIONED BY (columns)] …` from k.
func (r *rewriter) parseCreate(st *Statement, k, hi int) {
	if r.isKw(k, "if") && r.isKw(k+1, "not") && r.isKw(k+2, "exists") {
		k += 3
	}
	k, st.Table = r.tableName(k, hi)
	if r.isOp(k, "(") {
		k = r.parseColumns(st, k, hi, false)
	}
	for ; k < hi; k++ {
		if r.isKw(k, "partitioned") && r.isKw(k+1, "by") && r.isOp(k+2, "(") {
			k = r.parseColumns(st, k+2, hi, true)
			break
		}
	}
	st.Notice = createNotice(st, r.opt)
}

// parseColumns reads `(name type [COMMENT '…'], …)` at the parenthesis k and
// returns the index after it.
func (r *rewriter) parseColumns(st *Statement, k, hi int, partition bool) int {
	closing, commas := r.matchParen(k, hi)
	if closing < 0 {
		return hi
	}
	// Commas inside a type's angle brackets (map<string,int>) separate no
	// columns.
	var seps []int
	angle, next := 0, 0
	for j := k + 1; j < closing && next < len(commas); j++ {
		switch {
		case r.isOp(j, "<"):
			angle++
		case r.isOp(j, ">"):
			angle--
		case r.isOp(j, ">>"):
			angle -= 2
		case j == commas[next]:
			if angle <= 0 {
				seps = append(seps, j)
			}
			next++
		}
	}
	bounds := append(append([]int{k}, seps...), closing)
	for i := 0; i+1 < len(bounds); i++ {
		from, to := bounds[i]+1, bounds[i+1]
		name, ok := r.name(from)
		if !ok {
			continue
		}
		end := to
		for e := from + 1; e < to; e++ {
			if r.isKw(e, "comment") {
				end = e
				break
			}
		}
		typ := ""
		if from+1 < end {
			typ = r.sql[r.tok(from+1).Pos : r.tok(end-1).Pos+len(r.tok(end-1).Text)]
		}
		st.Columns = append(st.Columns, Column{Name: name, Type: typ, Partition: partition, Canonical: canonicalColumn(name)})
	}
	return closing + 1
}

// canonicalColumn returns the flowlens column a declared column is.
func canonicalColumn(name string) string {
	n := strings.ToLower(name)
	if c, ok := legacyColumn(n); ok {
		return c
	}
	if c, ok := partitionColumns[n]; ok {
		return c
	}
	if f, ok := flowlog.LookupFold(n); ok {
		return f.Column
	}
	return ""
}

// createNotice says what flowlens makes of a CREATE EXTERNAL TABLE.
func createNotice(st *Statement, opt Options) string {
	var known, unknown []string
	for _, c := range st.Columns {
		switch {
		case c.Canonical == "":
			unknown = append(unknown, c.Name)
		case c.Canonical != strings.ToLower(c.Name):
			known = append(known, c.Name+"="+c.Canonical)
		default:
			known = append(known, c.Name)
		}
	}
	r := &rewriter{opt: opt}
	where := "query it as " + st.Table
	switch {
	case st.Table == "":
		where = "query vpc_flow_logs, flows or a dataset's view"
	case strings.HasPrefix(st.Table, athenaTablePrefix) && !r.knownTable(st.Table):
		where = "queries of " + st.Table + " read vpc_flow_logs"
	case !r.isTable(st.Table):
		where = "flowlens has no table " + st.Table + ": query vpc_flow_logs, flows or a dataset's view"
	}
	msg := fmt.Sprintf("CREATE EXTERNAL TABLE %s: nothing to create, %s; flowlens already has %d of its %d columns (%s)",
		st.Table, where, len(known), len(st.Columns), strings.Join(known, ", "))
	if len(unknown) > 0 {
		msg += "; not known to flowlens: " + strings.Join(unknown, ", ")
	}
	return msg
}

// showPartitionsSQL lists the partitions Athena would show for a table:
// `date=YYYY-MM-DD` for vpc_flow_logs (AWS's DDL for text files), AWS's
// hive keys for vpc_flow_logs_parquet, year=/month=/day=/hour= otherwise.
func showPartitionsSQL(table string, r *rewriter) string {
	from := quoteIdent(table)
	if strings.HasPrefix(table, athenaTablePrefix) && !r.knownTable(table) {
		from = athenaTablePrefix
	}
	const hour = "make_timestamp(_hour * 1000000)"
	switch table {
	case athenaTablePrefix:
		return `SELECT 'date=' || strftime(d, '%Y-%m-%d') AS "partition" FROM (SELECT DISTINCT CAST(` + hour +
			` AS DATE) AS d FROM ` + from + `) ORDER BY 1`
	case "vpc_flow_logs_parquet":
		return `SELECT 'aws-account-id=' || coalesce(a, '') || '/aws-service=vpcflowlogs/aws-region=' || coalesce(g, '') ||
			strftime(h, '/year=%Y/month=%m/day=%d/hour=%H') AS "partition"
			FROM (SELECT DISTINCT account_id AS a, region AS g, ` + hour + ` AS h FROM ` + from + `) ORDER BY 1`
	}
	return `SELECT strftime(h, 'year=%Y/month=%m/day=%d/hour=%H') AS "partition" FROM (SELECT DISTINCT ` + hour +
		` AS h FROM ` + from + `) ORDER BY 1`
}
