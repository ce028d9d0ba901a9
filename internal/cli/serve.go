package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/api"
	"github.com/flowlens/flowlens/internal/atomicfile"
	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/catalog"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/sched"
	"github.com/flowlens/flowlens/internal/telemetry"
	"github.com/flowlens/flowlens/internal/web"
)

const serveExamples = `  flowlens serve                                   # ./flowlens-data on http://127.0.0.1:8080
  flowlens serve --data ./flowlens-demo/db --listen 127.0.0.1:9090
  flowlens serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem
  TOKEN=$(flowlens tokens create --name me)        # send it as "Authorization: Bearer $TOKEN"
  curl -H "Authorization: Bearer $TOKEN" -d '{"query":"stats count(*) by action"}' http://127.0.0.1:8080/api/v1/query
  eval "$(flowlens keys create --name me)"         # CloudWatch Logs API keys (SigV4)
  aws --endpoint-url http://127.0.0.1:8080 --region us-east-1 logs describe-log-groups
  flowlens serve --follow s3://my-flow-logs/AWSLogs/ --follow nat-gw=s3://other-bucket/nat/

With --store clickhouse://host:9000/db (or $FLOWLENS_STORE) the records live in
ClickHouse (?cluster=NAME: a Distributed table over its shards); --data keeps the
tokens, keys, filters, alarms, reports and the server's lock (docs/clickhouse.md).
The CloudWatch Logs API (AWS JSON 1.1 at POST /) serves the AWS CLI and
SDKs: log groups are datasets, streams are <interface-id>-all (docs/API.md).
A Firehose stream delivers to POST /firehose (its access key: a token).
--follow lists an S3 prefix every --follow-interval and ingests the objects
VPC delivered since (text or Parquet, plain or hive-compatible keys), once
each by key + ETag; only the date folders from --follow-lookback before the
newest key ingested are listed, and a checkpoint in the data folder
(s3follow/) resumes after a restart. Credentials and endpoint as for
'flowlens ingest s3://…' (AWS_PROFILE, AWS_ENDPOINT_URL_S3…). Lag and counts
are at GET /api/v1/ingest/s3 and on /metrics (flowlens_s3_follow_*).
While it runs, the server owns the data folder: 'flowlens query', 'sql',
'datasets', 'ingest', 'retention', 'export', 'reports' and 'jobs' given that --data send their
work to it (same flags, output and exit status) instead of opening the
database. The web console is at the same address: open it in a browser and
sign in with a token from 'flowlens tokens create'. SIGINT or SIGTERM stop
it: running requests get --grace to finish, then are cancelled, and the database is closed cleanly. The server runs the
scheduled jobs (see 'flowlens jobs'): the datasets' retention every hour
(--retention-schedule) and the reports of 'flowlens reports'; runs missed while
it was down are caught up on start (at most --catch-up of each job). The API is
documented in docs/API.md and at /api/v1/openapi.json.
`

// runServe runs the server until the context ends.
func runServe(ctx context.Context, env *Env, args []string) error {
	var sc *serveConfig
	err := serve(ctx, env, args, &sc)
	return sc.at(err)
}

// serve is runServe; *sc is set to the --config file once read.
func serve(ctx context.Context, env *Env, args []string, sc **serveConfig) error {
	fs := newFlagSet(env, "serve", "serve [--config FILE] [--data DIR] [--store URL|CLUSTER] [--listen ADDR] [--tls-cert F --tls-key F] [limits]", serveExamples+serveConfigHelp)
	configPath := fs.String("config", "", "read the settings from this YAML `file`: keys named like these flags, follow and clusters (see below); flags given here win")
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	def := api.DefaultConfig()
	listen := fs.String("listen", def.Listen, "`address` to listen on (host:port)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate `file` (PEM; with --tls-key)")
	tlsKey := fs.String("tls-key", "", "the certificate's private key `file` (PEM)")
	maxConc := fs.Int("max-concurrent", def.MaxConcurrent, "queries run at once; beyond that a query gets HTTP 429 with Retry-After (the CloudWatch Logs API's StartQuery waits Scheduled instead, up to 30 queries not finished, as AWS's quota)")
	timeout := fs.Duration("query-timeout", def.QueryTimeout, "longest a query may run (a request may ask for less); a CloudWatch Logs API query past it, its wait included, ends Timeout")
	maxRows := fs.Int64("max-rows", def.MaxRows, "largest row cap a request may ask for (\"limit\"; the default cap is 10000)")
	maxBody := fs.Int64("max-body", def.MaxBodyBytes, "largest request body in `bytes`")
	memLimit := fs.String("memory-limit", "4GB", "memory limit of the query engine (DuckDB memory_limit; not used with a ClickHouse --store)")
	retSched := fs.String("retention-schedule", "0 * * * *", "when the datasets' retention ('flowlens retention --keep') is applied: a cron expression")
	catchUp := fs.Int("catch-up", sched.DefaultConfig().CatchUp, "on start, run at most this many of each job's runs missed while the server was down, besides the latest (older ones are recorded as missed)")
	grace := fs.Duration("grace", 30*time.Second, "on SIGINT/SIGTERM, how long running requests may take to finish before they are cancelled")
	logFormat := fs.String("log-format", "json", "log format on standard error: json or text")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	cwlAuth := fs.String("cwl-auth", "verify", "CloudWatch Logs API (POST /) authentication: verify (SigV4 with keys of 'flowlens keys create') or any (accept every request; development only)")
	mfFlags := addMetricFilterFlags(fs, env)
	cwlMaxAge := fs.Duration("cwl-max-event-age", 14*24*time.Hour, "PutLogEvents reports events older than this as too old, as AWS (14 days); 0 accepts any age, to load history")
	var ff followFlags
	fs.Var(&ff.urls, "follow", "ingest what VPC delivers to `s3://bucket/prefix/` (or DATASET=s3://…), listing it every --follow-interval (repeatable)")
	fs.DurationVar(&ff.interval, "follow-interval", time.Minute, "how often each --follow prefix is listed")
	fs.DurationVar(&ff.lookback, "follow-lookback", time.Hour, "a listing starts this long before the newest key time ingested, for objects delivered late")
	fs.StringVar(&ff.dataset, "follow-dataset", "default", "dataset of the --follow prefixes that do not name one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("serve takes no arguments (got %q)", fs.Arg(0))
	}
	cfg, err := loadServeConfig(fs, *configPath)
	if err != nil {
		return err
	}
	*sc = cfg
	follows, err := parseFollow(&ff)
	if err != nil {
		return err
	}
	fileFollows, err := cfg.follows(&ff)
	if err != nil {
		return err
	}
	follows = append(follows, fileFollows...)
	storeName := *storeURL
	if *storeURL, err = cfg.resolveStore(*storeURL); err != nil {
		return err
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError("give both --tls-cert and --tls-key, or neither")
	}
	logger, err := serveLogger(env, *logFormat, *logLevel)
	if err != nil {
		return usageError("%v", err)
	}
	dir, err := filepath.Abs(*data)
	if err != nil {
		return err
	}
	lock, err := lockServe(dir)
	if err != nil {
		return err
	}
	defer lock.Close()

	st, err := openStore(ctx, env, dir, *storeURL, false)
	if err != nil {
		return cfg.openError(err)
	}
	stOpen := true
	closeStore := func() {
		if stOpen {
			stOpen = false
			if err := st.Close(); err != nil {
				logger.Error("close store", "err", err)
			}
		}
	}
	defer closeStore()
	if err := cfg.checkCluster(ctx, st); err != nil {
		return err
	}
	tokens := auth.Open(dir)
	cat, err := catalog.Open(ctx, dir, 1000)
	if err != nil {
		return err
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return err
	}
	tokens.AddEphemeral(secret, auth.Identity{ID: "cli", Name: "flowlens CLI (forwarded)"})

	console, err := web.New()
	if err != nil {
		return err
	}
	// health is the server's registry on /metrics; the engines time their queries.
	health := telemetry.New()
	engine := query.New(query.Config{LookupDir: filepath.Join(dir, "lookups"), Dialect: st.Dialect()}, timedQuerier{st, health, telemetry.KindInsights}, st)
	cwlEngine := query.New(query.Config{LookupDir: filepath.Join(dir, "lookups"), Dialect: st.Dialect()}, timedQuerier{st, health, telemetry.KindCWLogs}, st)
	shared := &sharedStore{st: st, dir: dir, url: *storeURL, alias: cfg.storeAlias(storeName), health: health}
	// writeMu serialises every writer of the store inside the server: the
	// forwarded write verbs and each component that ingests or deletes.
	writeMu := &sync.Mutex{}
	if _, err := sched.ParseSchedule(*retSched); err != nil {
		return usageError("--retention-schedule: %v", err)
	}
	scfg := sched.DefaultConfig()
	scfg.Dir, scfg.CatchUp = dir, *catchUp
	jobs, err := sched.New(scfg, sched.Deps{Logger: logger.With("component", "scheduler"), Jobs: serverJobs(dir, st, writeMu, *retSched, logger)})
	if err != nil {
		return err
	}
	shared.jobs = jobs
	extra := map[string]http.Handler{
		"POST " + cliRunPath: &cliHandler{shared: shared, writeMu: writeMu, logger: logger.With("component", "cli")},
	}
	maps.Copy(extra, jobs.Handlers())
	filters, err := startMetricFilters(ctx, dir, st, writeMu, health, mfFlags, logger, extra)
	if err != nil {
		return err
	}
	shared.filters = filters.ev
	cwl, err := newCWLogs(env, dir, *cwlAuth, *cwlMaxAge, *maxConc, *timeout, st, cwlEngine, tokens, writeMu, logger)
	if err != nil {
		return err
	}
	if err := cwl.Start(ctx); err != nil {
		return err
	}
	public := cwl.Handlers()
	fh, err := newFirehose(dir, st, tokens, writeMu, logger, public, extra)
	if err != nil {
		return err
	}
	if err := fh.Start(ctx); err != nil {
		return err
	}
	health.RejectSource("firehose", func() float64 { return float64(fh.Stats().Rejected) })
	follower, err := newFollower(ctx, env, dir, follows, &ff, st, writeMu, health, logger, extra)
	if err != nil {
		return err
	}
	health.RejectSource("cwlogs", func() float64 {
		s := cwl.Stats()
		return float64(s.NotFlowLog + s.TooNew + s.TooOld + s.Expired)
	})
	srv, err := api.New(api.Config{
		Listen: *listen, TLSCert: *tlsCert, TLSKey: *tlsKey, MaxConcurrent: *maxConc, QueryTimeout: *timeout,
		MaxRows: *maxRows, MaxBodyBytes: *maxBody, DefaultRows: query.DefaultLimit,
	}, api.Deps{
		Logger: logger, Engine: engine, SQL: apiSQL{st: st, health: health}, Datasets: st, Tokens: tokens, Catalog: cat,
		Ready: func(ctx context.Context) error {
			_, err := st.Query(ctx, "SELECT 1")
			return err
		},
		Console: console,
		Extra:   extra,
		Public:  public,
	})
	if err != nil {
		return err
	}
	if embedded(st) != nil {
		if _, err := st.Query(ctx, "SET GLOBAL memory_limit = "+quoteSQL(*memLimit)); err != nil {
			return usageError("--memory-limit %q: %v", *memLimit, err)
		}
	}
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	url := scheme + "://" + srv.Addr()
	if host, _, err := net.SplitHostPort(srv.Addr()); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			if *tlsCert == "" {
				logger.Warn("listening beyond this machine without TLS: tokens and results cross the network in clear text; give --tls-cert and --tls-key", "listen", srv.Addr())
			}
			if ip != nil && ip.IsUnspecified() {
				url = scheme + "://127.0.0.1:" + portOf(srv.Addr())
			}
		}
	}
	if err := writeServeFiles(dir, url, secret); err != nil {
		_ = srv.Stop(context.Background())
		return err
	}
	defer removeServeFiles(dir)
	if err := jobs.Start(ctx); err != nil {
		return err
	}
	if err := follower.Start(ctx); err != nil {
		return err
	}

	logger.Info("serving", "url", url, "data", dir, "version", Version)
	fmt.Fprintf(env.Stderr, "flowlens serve: %s (data %s); stop with Ctrl-C\n", url, dir)

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("stopping", "grace", grace.String())
	case serveErr = <-srv.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *grace)
	defer cancel()
	if err := srv.Stop(stopCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("stop", "err", err)
	}
	if err := follower.Stop(stopCtx); err != nil {
		logger.Warn("stop following S3", "err", err)
	}
	if err := fh.Stop(stopCtx); err != nil {
		logger.Warn("stop the Firehose endpoint", "err", err)
	}
	if err := cwl.Stop(stopCtx); err != nil {
		logger.Warn("stop the CloudWatch Logs API", "err", err)
	}
	if err := jobs.Stop(stopCtx); err != nil {
		logger.Warn("stop the scheduler", "err", err)
	}
	if err := filters.Stop(stopCtx); err != nil {
		logger.Warn("stop the metric filters", "err", err)
	}
	closeStore()
	logger.Info("stopped")
	return serveErr
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func serveLogger(env *Env, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: json or text", format)
}

// writeServeFiles publishes where the server listens and its CLI secret.
func writeServeFiles(dir, url, secret string) error {
	if err := atomicfile.Write(filepath.Join(dir, serveTokenName), []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(serveInfo{URL: url, PID: os.Getpid(), StartedAt: time.Now().UTC(), Version: Version}, "", "  ")
	return atomicfile.Write(filepath.Join(dir, serveInfoName), append(b, '\n'), 0o644)
}

func removeServeFiles(dir string) {
	_ = os.Remove(filepath.Join(dir, serveInfoName))
	_ = os.Remove(filepath.Join(dir, serveTokenName))
}
