package cli

import (
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/flowlens/flowlens/internal/api"
	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/firehose"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

// newFirehose builds the Firehose HTTP endpoint (POST /firehose): its
// handler joins the public ones, its counters the API at
// GET /api/v1/ingest/firehose.
func newFirehose(dir string, st store.Backend, tokens *auth.Store, writeMu sync.Locker, logger *slog.Logger,
	public, extra map[string]http.Handler) (*firehose.Endpoint, error) {
	cfg := firehose.DefaultConfig()
	cfg.DefaultDataset = duckdb.DefaultDataset
	cfg.RejectsFile = filepath.Join(dir, "firehose", "rejects.jsonl")
	fh, err := firehose.New(cfg, firehose.Deps{Logger: logger, Store: st, Tokens: tokens, WriteMu: writeMu,
		ValidDataset: duckdb.ValidDatasetName})
	if err != nil {
		return nil, err
	}
	maps.Copy(public, fh.Handlers())
	extra["GET /api/v1/ingest/firehose"] = api.DataHandler(func() any { return fh.Stats() })
	return fh, nil
}
