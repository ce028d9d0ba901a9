package duckdb

import (
	"testing"

	"github.com/flowlens/flowlens/internal/store/storetest"
)

// TestQueryCorpus runs the scripted Logs Insights corpus against the DuckDB store.
func TestQueryCorpus(t *testing.T) {
	s, err := Open(t.Context(), Config{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunCorpus(t, s)
}
