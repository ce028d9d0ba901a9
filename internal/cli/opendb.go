package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// dataFlag registers --data on a verb's flag set.
func dataFlag(fs *flag.FlagSet, env *Env) *string {
	return fs.String("data", defaultDataDir(env), "data `directory` of the database ($FLOWLENS_DATA sets the default)")
}

// openStore opens the embedded store of dir. A database held by another
// flowlens process gives an error that says so and names the directory.
func openStore(ctx context.Context, env *Env, dir string, readOnly bool) (*duckdb.Store, error) {
	if env.shared != nil {
		return env.shared.use(env.abs(dir))
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
