package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/telemetry"
)

const queryExamples = `  flowlens query 'stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 10'
  flowlens query --since 1h 'filter action = "REJECT" | stats count(*) as n by srcAddr | sort n desc | limit 20'
  flowlens query -g prod-vpc --start 2024-05-31T00:00Z --end 2024-05-31T06:00Z 'stats sum(bytes) as b by bin(5m)'
  flowlens query --output json 'filter isIpv4InSubnet(srcAddr, "10.1.0.0/16") | stats count(*) by dstPort'
  flowlens query --explain 'filter dstPort = 22 | stats count(*) as n by srcAddr'
  flowlens query -f runbook.insights --limit 50000

The language is CloudWatch Logs Insights: fields, display, filter, stats (every
aggregate, bin(), histogram(f, n)), sort, limit, parse (glob, /regex/, csv,
logfmt, multi), dedup, unnest, unmask, SOURCE, filterIndex, countFrequent,
estimate, and every function of the spec, JSON ones included:
  fields jsonParse(concat('{"p": [', srcPort, ', ', dstPort, ']}')) as j | fields j.p[0] as first
  parse multi @message /(?<a>[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)/ | unnest a into addr
List indexes are 0-based; docs/insights.md has the details. Every flow log
field has all its spellings: srcAddr, srcaddr, ` + "`log-status`" + `, log_status,
logStatus. @message is the record rebuilt in its own format; @timestamp is its
start. Without --since/--start/--end the query
sees all data; without limit it returns at most 10000 rows (--limit lifts that).
`

// runQuery runs a CloudWatch Logs Insights query.
func runQuery(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "query",
		"query [--data DIR] [--store URL] [-g DATASET]... [--since 1h | --start T --end T] [--limit N] [--output table|csv|json|jsonl] [--explain] 'QUERY' | -f FILE",
		queryExamples)
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	var groups stringList
	fs.Var(&groups, "g", "`dataset` to search (repeatable; default: every dataset)")
	since := fs.String("since", "", "search the last `duration` (15m, 1h, 1d)")
	startS := fs.String("start", "", "search from `time` (2024-05-31T14:00:00Z, 2024-05-31, epoch seconds, -2h)")
	endS := fs.String("end", "", "search until `time` (inclusive; default now when --start is given)")
	limit := fs.Int64("limit", 0, "row limit of a query without limit (default 10000, no cap)")
	output := fs.String("output", "table", "result format: table, csv, json or jsonl")
	explain := fs.Bool("explain", false, "print the plan and the SQL instead of running the query")
	file := fs.String("f", "", "read the query from `file` (- for standard input)")
	timeout := fs.Duration("timeout", 0, "stop the query after this `duration` (default: no limit)")
	lookups := fs.String("lookups", "", "`directory` of lookup tables NAME.csv for lookup and cidrlookup (default: DIR/lookups of --data)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutputFormat(*output); err != nil {
		return err
	}
	if *file != "-" {
		*file = env.abs(*file)
	}
	*lookups = env.abs(*lookups)
	text, err := queryText(env, fs.Args(), *file)
	if err != nil {
		return err
	}
	if *limit < 0 {
		return usageError("--limit must be positive")
	}
	req := query.Request{Query: text, Datasets: groups, Limit: *limit}
	now := time.Now().UTC()
	if *since != "" {
		if *startS != "" || *endS != "" {
			return usageError("give either --since or --start/--end, not both")
		}
		d, err := query.ParseSince(*since)
		if err != nil {
			return usageError("--since: %v", err)
		}
		req.Start, req.End = now.Add(-d), now
	}
	if *startS != "" {
		if req.Start, err = query.ParseTime(*startS, now); err != nil {
			return usageError("--start: %v", err)
		}
		req.End = now
	}
	if *endS != "" {
		if req.End, err = query.ParseTime(*endS, now); err != nil {
			return usageError("--end: %v", err)
		}
	}
	if !req.Start.IsZero() && !req.End.IsZero() && req.End.Before(req.Start) {
		return usageError("--end (%s) is before --start (%s)", req.End.Format(time.RFC3339), req.Start.Format(time.RFC3339))
	}
	if *lookups == "" {
		*lookups = filepath.Join(*data, "lookups")
	}
	if *explain {
		// Compile without opening the database when it is not there yet.
		eng := query.New(query.Config{LookupDir: *lookups}, nil, nil)
		if _, err := os.Stat(*data); err == nil || isExternal(*storeURL) {
			st, err := openStore(ctx, env, *data, *storeURL, true)
			if err != nil {
				return err
			}
			defer env.release(st)
			eng = newEngine(query.Config{LookupDir: *lookups}, st)
		}
		c, err := eng.Compile(ctx, req)
		if err != nil {
			return queryError(err)
		}
		_, err = io.WriteString(env.Stdout, c.Explain())
		return err
	}
	// Check the query before opening the database: a mistake is reported
	// even when the database is busy or missing. (SOURCE logGroups()
	// needs the catalog, so the check counts only without SOURCE.)
	if q, err := syntax.Parse(text); err != nil {
		return queryError(err)
	} else if _, isSource := q.Commands[0].(*syntax.Source); !isSource {
		if _, err := query.New(query.Config{LookupDir: *lookups}, nil, nil).Compile(ctx, query.Request{Query: text}); err != nil && errors.Is(err, syntax.ErrQuery) {
			return queryError(err)
		}
	}
	st, err := openStore(ctx, env, *data, *storeURL, true)
	if err != nil {
		return err
	}
	defer env.release(st)
	eng := query.New(query.Config{Timeout: *timeout, LookupDir: *lookups, Dialect: st.Dialect()}, env.timed(st, telemetry.KindInsights), st)
	res, c, err := eng.Run(ctx, req)
	if err != nil {
		if c != nil && errors.Is(err, query.ErrBackend) {
			env.Logger.Error("generated SQL failed", "sql", c.Statement.SQL, "err", err)
		}
		return queryError(err)
	}
	for _, w := range c.Plan.Warnings {
		fmt.Fprintf(env.Stderr, "flowlens query: warning: %s\n", w)
	}
	return writeResult(env.Stdout, *output, res)
}

// queryText reads the query from the arguments or -f.
func queryText(env *Env, args []string, file string) (string, error) {
	var text string
	switch {
	case file != "" && len(args) > 0:
		return "", usageError("give the query either as an argument or with -f, not both")
	case file == "-":
		b, err := io.ReadAll(env.Stdin)
		if err != nil {
			return "", fmt.Errorf("read the query from standard input: %w", err)
		}
		text = string(b)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read the query: %w", err)
		}
		text = string(b)
	case len(args) == 1:
		text = args[0]
	case len(args) == 0:
		return "", usageError("give a query (quoted), or -f FILE")
	default:
		return "", usageError("give the query as one argument: put it in single quotes")
	}
	if strings.TrimSpace(text) == "" {
		return "", usageError("empty query")
	}
	return text, nil
}

// queryError prints query mistakes with the line and a caret.
func queryError(err error) error {
	if errors.Is(err, syntax.ErrQuery) {
		return &ExitError{Code: 2, Err: errors.New(syntax.Detail(err))}
	}
	return err
}
