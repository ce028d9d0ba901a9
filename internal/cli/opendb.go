package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/clickhouse"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// dataFlag registers --data on a verb's flag set.
func dataFlag(fs *flag.FlagSet, env *Env) *string {
	return fs.String("data", defaultDataDir(env), "data `directory` of the database ($FLOWLENS_DATA sets the default)")
}

// storeFlag registers --store on a verb's flag set: where the records live.
func storeFlag(fs *flag.FlagSet, env *Env) *string {
	return fs.String("store", env.Getenv("FLOWLENS_STORE"),
		"where the records live: a ClickHouse `URL` (clickhouse://[user[:password]@]host:9000/db, "+
			"?cluster=NAME for a cluster; the database is created when missing); "+
			"default the embedded database in --data ($FLOWLENS_STORE sets the default)")
}

// isExternal reports whether a --store value names a store outside the
// data folder (ClickHouse) rather than the embedded database.
func isExternal(url string) bool { return url != "" }

// openStore opens the store --store names (url), by default the embedded
// database of dir. An embedded database held by another flowlens process
// gives an error that says so and names the directory.
func openStore(ctx context.Context, env *Env, dir, url string, readOnly bool) (store.Backend, error) {
	if env.shared != nil {
		return env.shared.use(env.abs(dir), url)
	}
	if isExternal(url) {
		if !clickhouse.IsDSN(url) {
			return nil, usageError("--store %q: give a ClickHouse URL (clickhouse://host:9000/db), or nothing for the embedded database in --data", redact(url))
		}
		s, err := clickhouse.Open(ctx, clickhouse.Config{DSN: url, ReadOnly: readOnly}, env.Logger)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := duckdb.Open(ctx, duckdb.Config{Dir: dir, ReadOnly: readOnly}, env.Logger)
	if err == nil {
		return s, nil
	}
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w\nAnother flowlens (an ingest, or 'flowlens serve') is writing the database in %s; run this command again when it has finished", err, dir)
	}
	return nil, err
}

// redact hides the password of a store URL.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return url
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return url
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// embedded returns the DuckDB store behind st, nil when the records live
// elsewhere: what only the embedded store does (sealing hours, sessions,
// the Parquet lake) goes through it.
func embedded(st store.Backend) *duckdb.Store {
	d, _ := st.(*duckdb.Store)
	return d
}

// newEngine returns a query engine over st in st's SQL dialect.
func newEngine(cfg query.Config, st store.Backend) *query.Engine {
	cfg.Dialect = st.Dialect()
	return query.New(cfg, st, st)
}
