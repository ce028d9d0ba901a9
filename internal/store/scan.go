package store

import "context"

// scanKey is the context key of WithScan.
type scanKey struct{}

// WithScan marks ctx as that of a query whose SQL is one filtered scan (no
// join, aggregate or subquery: sqlgen.Statement.Scan), such as a lookup
// of one address. A backend may plan such SQL more cheaply (the DuckDB
// store leaves out optimizers that only matter for joins and
// aggregates); the answer is the same. Wrappers of a Querier pass it on
// with the context.
func WithScan(ctx context.Context) context.Context { return context.WithValue(ctx, scanKey{}, true) }

// IsScan reports whether ctx is marked by WithScan.
func IsScan(ctx context.Context) bool {
	v, _ := ctx.Value(scanKey{}).(bool)
	return v
}
