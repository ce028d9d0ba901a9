// Package cli implements the flowlens command line: one file per verb, each
// with its own flag set, help text and examples. It is the only package that
// wires concrete backends together.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
)

// Env is what a command may touch of the outside world. Tests build their own.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable.
	Getenv func(string) string
	// StderrIsTerminal enables progress bars.
	StderrIsTerminal bool
	// Logger receives diagnostics (text handler on stderr by default).
	Logger *slog.Logger
	// Program is how the user ran flowlens (os.Args[0]), for the commands
	// that suggest next commands; empty means "flowlens".
	Program string
	// Dir resolves the relative paths of a command run on a client's
	// behalf by flowlens serve (the client's working directory); empty:
	// the process's own.
	Dir string
	// shared, inside flowlens serve, is the store the server owns: verbs
	// use it instead of opening the database.
	shared *sharedStore
}

// program returns the name to show in suggested commands.
func (e *Env) program() string {
	if e.Program == "" {
		return "flowlens"
	}
	return e.Program
}

// StdEnv returns the process's real environment.
func StdEnv() *Env {
	tty := false
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty = true
	}
	return &Env{
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		StderrIsTerminal: tty,
		Logger:           slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Program:          os.Args[0],
	}
}

// command is one verb of the CLI.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands lists every verb; each run function lives in the verb's own file.
func commands() []command {
	return []command{
		{"demo", "generate a realistic day of flow logs, ingest it and print a report", runDemo},
		{"generate", "write realistic synthetic flow logs (S3, hive, Parquet, CloudWatch, stdout)", runGenerate},
		{"decode", "print what flowlens makes of flow log lines, one JSON object per record", runDecode},
		{"ingest", "load flow log files, folders or stdin into the database", runIngest},
		{"query", "run a CloudWatch Logs Insights query", runQuery},
		{"sql", "run SQL over the flows view (Athena column names; ClickHouse SQL on a ClickHouse store)", runSQL},
		{"datasets", "list datasets: records, size, time range, formats", runDatasets},
		{"retention", "remove whole hours older than a duration", runRetention},
		{"export", "write an Athena-ready Parquet lake", runExport},
		{"reports", "scheduled reports: add, list, delete, history, run one now", runReports},
		{"jobs", "the server's scheduled jobs (retention, reports) and their history", runJobs},
		{"serve", "run the server: web console, REST API and CLI forwarding", runServe},
		{"tokens", "create, list and revoke API tokens", runTokens},
		{"keys", "create, list and revoke access keys of the CloudWatch Logs API (SigV4)", runKeys},
		{"filters", "test filter patterns; metric filters of a dataset: add, list, delete, backfill", runFilters},
		{"alarms", "alarms on metric filter metrics: add, list, delete, history", runAlarms},
		{"loadtest", "drive a running server with concurrent clients (Q1–Q7)", runLoadtest},
		{"bench", "run the standard benchmark beside a plain DuckDB baseline", runBench},
		{"version", "print the version", runVersion},
	}
}

// Version is set at build time with -ldflags "-X github.com/flowlens/flowlens/internal/cli.Version=…".
var Version = "dev"

// ExitError asks Main to exit with Code after printing Err (if any).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

// usageError returns an error for a command-line mistake.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// Main runs the CLI with args (without the program name) and returns the exit status.
func Main(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			return Main(ctx, []string{args[1], "--help"}, env)
		}
		printUsage(env.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-v" {
		args[0] = "version"
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		if forwardable[c.name] && env.shared == nil && !wantsHelp(args[1:]) {
			if code, ok := forward(ctx, env, args); ok {
				return code
			}
		}
		err := c.run(ctx, env, args[1:])
		return exitCode(env, c.name, err)
	}
	fmt.Fprintf(env.Stderr, "flowlens: unknown command %q\n", args[0])
	if s := nearestCommand(args[0]); s != "" {
		fmt.Fprintf(env.Stderr, "Did you mean: flowlens %s\n", s)
	}
	fmt.Fprintln(env.Stderr, "Run 'flowlens --help' for the list of commands.")
	return 2
}

func exitCode(env *Env, name string, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(env.Stderr, "flowlens %s: %v\n", name, ee.Err)
		}
		return ee.Code
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintf(env.Stderr, "flowlens %s: %s\nRun 'flowlens %s --help' for usage.\n", name, strings.TrimPrefix(err.Error(), "usage: "), name)
		return 2
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(env.Stderr, "flowlens %s: interrupted\n", name)
		return 130
	}
	fmt.Fprintf(env.Stderr, "flowlens %s: %v\n", name, err)
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `flowlens — VPC Flow Logs analytics in one binary.

Usage: flowlens <command> [flags] [arguments]

Commands:
`)
	cmds := commands()
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Examples:
  flowlens demo                                   # generate, ingest and report on a realistic day
  flowlens ingest ./AWSLogs                        # load S3-downloaded .log.gz / Parquet files
  flowlens query --since 1h 'filter action = "REJECT" | stats count(*) as n by srcAddr | sort n desc | limit 20'
  flowlens sql 'SELECT srcaddr, sum(bytes) FROM flows GROUP BY 1 ORDER BY 2 DESC LIMIT 10'

The database lives in --data (default $FLOWLENS_DATA, else ./flowlens-data);
--store clickhouse://host:9000/db (default $FLOWLENS_STORE) keeps the records in
ClickHouse instead, one server or ?cluster=NAME (docs/clickhouse.md).
Run 'flowlens <command> --help' for a command's flags and examples.
`)
}

func nearestCommand(s string) string {
	var names []string
	for _, c := range commands() {
		if strings.HasPrefix(c.name, s) || strings.HasPrefix(s, c.name) {
			names = append(names, c.name)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// newFlagSet returns a flag set for a verb whose usage prints the synopsis,
// the flags and the examples.
func newFlagSet(env *Env, name, synopsis, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := env.Stdout
		fmt.Fprintf(w, "Usage: flowlens %s\n\n", synopsis)
		fmt.Fprintln(w, "Flags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(env.Stderr)
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s", examples)
		}
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError("%v", err)
	}
	return nil
}

// defaultDataDir is where the database lives unless --data says otherwise.
func defaultDataDir(env *Env) string {
	if d := env.Getenv("FLOWLENS_DATA"); d != "" {
		return d
	}
	return "flowlens-data"
}

// errNotYet is returned by verbs that have not been built yet.
var errNotYet = errors.New("this command is not available in this build yet")
