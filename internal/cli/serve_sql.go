package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/api"
	"github.com/flowlens/flowlens/internal/athena"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/telemetry"
)

// apiSQL runs the API's SQL: the read-only statements of flowlens sql, with
// its Athena rewrites, over the server's store.
type apiSQL struct {
	st     store.Backend
	health *telemetry.Health // times the statements (nil: not timed)
}

var _ api.SQLRunner = apiSQL{}

func (a apiSQL) prepare(ctx context.Context, text string) ([]athena.Statement, error) {
	stmts, err := prepareSQL(ctx, a.st, text, nil)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return nil, &athena.Error{Msg: "no SQL statement, only comments or ';'", Class: athena.ErrSyntax, Pos: athena.PositionOf(text, 0)}
	}
	for _, s := range stmts {
		if s.Kind == athena.KindWrite {
			return nil, &athena.Error{Pos: s.Pos, Class: athena.ErrUnsupported,
				Msg: s.Verb + " changes the database: the API runs read-only SQL (use 'flowlens sql --write')"}
		}
	}
	return stmts, nil
}

// RunSQL runs every statement and returns the last one's result (a no-op's
// notice as a one-row result).
func (a apiSQL) RunSQL(ctx context.Context, text string) (*store.Result, error) {
	stmts, err := a.prepare(ctx, text)
	if err != nil {
		return nil, err
	}
	var last *store.Result
	for _, s := range stmts {
		if s.Kind.NoOp() {
			last = &store.Result{Columns: []string{"notice"}, Types: []string{"VARCHAR"}, Rows: [][]any{{s.Notice}}}
			continue
		}
		began := time.Now()
		res, err := a.st.Query(ctx, s.SQL)
		if a.health != nil {
			a.health.ObserveQuery(telemetry.KindSQL, time.Since(began), err)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &athena.Error{Pos: s.Pos, Class: athena.ErrUnsupported, Msg: strings.TrimSpace(err.Error())}
		}
		last = res
	}
	return last, nil
}

// ExplainSQL returns the SQL each statement runs as.
func (a apiSQL) ExplainSQL(ctx context.Context, text string) (string, error) {
	stmts, err := a.prepare(ctx, text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, s := range stmts {
		if s.Kind.NoOp() {
			fmt.Fprintf(&b, "-- %s\n", s.Notice)
			continue
		}
		b.WriteString(s.SQL + ";\n")
	}
	return b.String(), nil
}
