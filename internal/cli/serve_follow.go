package cli

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/api"
	"github.com/flowlens/flowlens/internal/bucket"
	"github.com/flowlens/flowlens/internal/s3"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
	"github.com/flowlens/flowlens/internal/telemetry"
)

// followFlags are serve's flags for following S3 prefixes.
type followFlags struct {
	urls     stringList
	interval time.Duration
	lookback time.Duration
	dataset  string
}

// parseFollow reads --follow values: s3://bucket/prefix/ or
// DATASET=s3://bucket/prefix/.
func parseFollow(ff *followFlags) ([]bucket.Prefix, error) {
	var out []bucket.Prefix
	for _, v := range ff.urls {
		ds, u := ff.dataset, v
		if i := strings.Index(v, "=s3://"); i > 0 {
			ds, u = v[:i], v[i+1:]
		}
		if err := duckdb.ValidDatasetName(ds); err != nil {
			return nil, usageError("--follow %s: %v", v, err)
		}
		url, err := s3.ParseURL(u)
		if err != nil {
			return nil, usageError("--follow: %v", err)
		}
		out = append(out, bucket.Prefix{URL: url, Dataset: ds})
	}
	if ff.interval < time.Second {
		return nil, usageError("--follow-interval %s: at least 1s", ff.interval)
	}
	return out, nil
}

// newFollower builds the follower of the --follow prefixes (nil when
// there is none): its stats join the API at GET /api/v1/ingest/s3, its
// collector /metrics.
func newFollower(ctx context.Context, env *Env, dir string, prefixes []bucket.Prefix, ff *followFlags, st store.Backend,
	writeMu sync.Locker, health *telemetry.Health, logger *slog.Logger, extra map[string]http.Handler) (*bucket.Follower, error) {
	cfg := bucket.DefaultConfig()
	cfg.Prefixes, cfg.Interval, cfg.Lookback = prefixes, ff.interval, ff.lookback
	cfg.Dir, cfg.SpoolDir = filepath.Join(dir, "s3follow"), filepath.Join(dir, "tmp")
	deps := bucket.Deps{Logger: logger.With("component", "s3-follow"), Store: st, WriteMu: writeMu}
	if len(prefixes) > 0 {
		c, err := s3Client(ctx, env)
		if err != nil {
			return nil, err
		}
		deps.Client = c
	}
	f, err := bucket.New(cfg, deps)
	if err != nil {
		return nil, err
	}
	extra["GET /api/v1/ingest/s3"] = api.DataHandler(func() any { return f.Stats() })
	health.Registry().MustRegister(f.Collector())
	health.RejectSource("s3", func() float64 {
		var n int64
		for _, p := range f.Stats().Prefixes {
			n += p.Rejected
		}
		return float64(n)
	})
	return f, nil
}
