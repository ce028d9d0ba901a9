package duckdb

import (
	"github.com/flowlens/flowlens/internal/insights/sqlgen"
	"github.com/flowlens/flowlens/internal/store"
)

var _ store.Backend = (*Store)(nil)

// Dialect returns the query compiler's DuckDB dialect.
func (s *Store) Dialect() sqlgen.Dialect { return sqlgen.DuckDB{} }
