//go:build !duckdb_arrow

package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"
)

// canStream reports whether streamGroup is available (Arrow builds only:
// without it, no commit writes the sealed tier directly).
const canStream = false

func (w *writeTx) streamGroup(ctx context.Context, tb table, g *group, stmt func(cols []physCol) string) error {
	return fmt.Errorf("BUG: streamGroup needs the duckdb_arrow build")
}

// appendGroup appends the group's rows with DuckDB's row appender. This is
// the slow path of builds without the duckdb_arrow tag (the Makefile always
// sets it).
func (w *writeTx) appendGroup(ctx context.Context, tb table, g *group) error {
	cols := tb.cols
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return w.rawConn(func(dc driver.Conn) error {
		app, err := duckdbdrv.NewAppenderWithColumns(dc, "fl", "main", tb.name, names)
		if err != nil {
			return fmt.Errorf("append rows: %w", err)
		}
		row := make([]driver.Value, len(cols))
		idx := make([][]int, len(cols))
		for i, c := range cols {
			if c.kind >= ckInt32 {
				idx[i], _ = g.colIndex(c.field)
			}
		}
		for k, rf := range g.rows {
			if k%4096 == 0 && ctx.Err() != nil {
				_ = app.Close()
				return ctx.Err()
			}
			p := &g.parts[rf.p]
			for i, c := range cols {
				row[i] = nil
				switch c.kind {
				case ckDataset:
					row[i] = p.dataset
				case ckHour:
					row[i] = g.hours[k]
				case ckFile:
					row[i] = p.file
				case ckFormat:
					row[i] = p.format
				case ckIngestTime:
					row[i] = g.now
				case ckEndDelta:
					if d, ok, _, _ := endForms(p, rf.r); ok {
						row[i] = d
					}
				case ckEndRaw:
					if _, _, raw, ok := endForms(p, rf.r); ok {
						row[i] = raw
					}
				default:
					j := idx[i][rf.p]
					if j < 0 {
						continue
					}
					col := &p.b.Cols[j]
					if !col.Valid[rf.r] {
						continue
					}
					switch c.kind {
					case ckInt32:
						row[i] = int32(col.Ints[rf.r])
					case ckInt64:
						row[i] = col.Ints[rf.r]
					case ckIPv4:
						if col.Fam[rf.r] == 4 {
							row[i] = col.V4[rf.r]
						}
					default:
						row[i] = string(col.Bytes(int(rf.r)))
					}
				}
			}
			if err := app.AppendRow(row...); err != nil {
				_ = app.Close()
				return fmt.Errorf("append rows: %w", err)
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("append rows: %w", err)
		}
		return nil
	})
}
