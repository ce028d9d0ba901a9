package cli

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/flowlens/flowlens/internal/ingest"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store/clickhouse"
)

// benchStoreDB is the database of flowlens's ClickHouse store on the
// bench's server.
const benchStoreDB = "flowlens_bench"

// flowlensOnClickHouse is flowlens itself with its ClickHouse store on
// the server of the ClickHouse peer (database flowlens_bench): the
// dataset ingested as `flowlens ingest --store` does it, Q1–Q7 asked in
// Logs Insights through the query engine, which sends its ClickHouse SQL.
// It is measured like a peer but is no peer: the report shows it beside
// them, and the ratios to the best peer leave it out.
type flowlensOnClickHouse struct {
	srv     *clickhousePeer
	dataDir string
	logger  *slog.Logger
	st      *clickhouse.Store
	eng     *query.Engine
}

func newFlowlensOnClickHouse(srv *clickhousePeer, dataDir string, logger *slog.Logger) *flowlensOnClickHouse {
	return &flowlensOnClickHouse{srv: srv, dataDir: dataDir, logger: logger}
}

func (p *flowlensOnClickHouse) Name() string { return "flowlens on " + p.srv.Name() }

// Load ingests the dataset's folder into a new database (the files of the
// folder are those the peers load). The peak RSS is flowlens's process;
// the parts are merged afterwards as the peer's are (not counted).
func (p *flowlensOnClickHouse) Load(ctx context.Context, _ []string) (benchLoad, error) {
	var l benchLoad
	if _, err := p.srv.exec(ctx, "DROP DATABASE IF EXISTS "+benchStoreDB, nil); err != nil {
		return l, err
	}
	st, err := clickhouse.Open(ctx, clickhouse.Config{DSN: "clickhouse://" + p.srv.native + "/" + benchStoreDB}, p.logger)
	if err != nil {
		return l, err
	}
	p.st = st
	runtime.GC()
	resetPeakRSS()
	sum, err := ingest.Run(ctx, ingest.Config{Paths: []string{p.dataDir}, Logger: p.logger}, st)
	if err != nil {
		return l, fmt.Errorf("ingest: %w", err)
	}
	l.records, l.elapsed, l.peakRSS = sum.Records, sum.Elapsed, peakRSS()
	if _, err := p.srv.exec(ctx, "OPTIMIZE TABLE "+benchStoreDB+".records FINAL", nil); err != nil {
		return l, err
	}
	if l.bytes, err = st.RecordBytes(ctx); err != nil {
		return l, err
	}
	l.note = "flowlens's process; merged (OPTIMIZE FINAL, not counted in the load)"
	p.eng = query.New(query.Config{Dialect: st.Dialect()}, st, st)
	return l, nil
}

// Query runs the Logs Insights form of question id.
func (p *flowlensOnClickHouse) Query(ctx context.Context, id, needle string) (int, error) {
	if p.eng == nil {
		return 0, fmt.Errorf("%s: not loaded", p.Name())
	}
	for _, q := range benchQueries(needle) {
		if q.id == id {
			res, _, err := p.eng.Run(ctx, query.Request{Query: q.insights, Limit: 1 << 40})
			if err != nil {
				return 0, err
			}
			return len(res.Rows), nil
		}
	}
	return 0, fmt.Errorf("no query %s", id)
}

// PeakRSS is the server's (which does the work of a query).
func (p *flowlensOnClickHouse) PeakRSS() int64 { return p.srv.PeakRSS() }
func (p *flowlensOnClickHouse) ResetPeak()     { p.srv.ResetPeak() }

func (p *flowlensOnClickHouse) Close() error {
	if p.st == nil {
		return nil
	}
	err := p.st.Close()
	p.st = nil
	return err
}
