package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/store"
)

// sourceOf returns the query's SOURCE command, if any.
func sourceOf(q *syntax.Query) (*syntax.Source, bool) {
	if len(q.Commands) == 0 {
		return nil, false
	}
	s, ok := q.Commands[0].(*syntax.Source)
	return s, ok
}

// selectSource resolves SOURCE names and prefixes against the datasets.
func selectSource(src *syntax.Source, ds []store.Dataset) ([]string, error) {
	var out []string
	if src.LogGroups {
		for _, d := range ds {
			for _, p := range src.Prefixes {
				if strings.HasPrefix(d.Name, p.Value) {
					out = append(out, d.Name)
					break
				}
			}
		}
		if len(out) == 0 && len(src.Prefixes) == 0 {
			for _, d := range ds {
				out = append(out, d.Name)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no dataset matches the name prefixes")
		}
		return out, nil
	}
	for _, s := range src.Names {
		out = append(out, strings.TrimSpace(s.Value))
	}
	return out, nil
}

// sourceRange reads SOURCE's START= and END=: relative periods (-1h, 0s),
// now, epoch seconds or RFC 3339 times.
func sourceRange(src *syntax.Source, now time.Time) (start, end time.Time, err error) {
	if src.Start != nil {
		if start, err = timeArg(src.Start, now); err != nil {
			return start, end, fmt.Errorf("START: %v", err)
		}
	}
	if src.End != nil {
		if end, err = timeArg(src.End, now); err != nil {
			return start, end, fmt.Errorf("END: %v", err)
		}
	}
	return start, end, nil
}

func timeArg(e syntax.Expr, now time.Time) (time.Time, error) {
	switch x := e.(type) {
	case *syntax.Unary:
		if d, ok := x.X.(*syntax.Duration); ok && x.Op == "-" {
			return now.Add(-duration(d)), nil
		}
	case *syntax.Duration:
		return now.Add(-duration(x)), nil
	case *syntax.Number:
		if x.IsInt {
			return time.Unix(x.Int, 0).UTC(), nil
		}
	case *syntax.Field:
		if strings.EqualFold(x.Name, "now") {
			return now, nil
		}
	case *syntax.String:
		return ParseTime(x.Value, now)
	}
	return time.Time{}, fmt.Errorf("expected -1h, now, epoch seconds or an RFC 3339 time, got %s", e)
}

func duration(d *syntax.Duration) time.Duration {
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "mo": 30 * 24 * time.Hour, "q": 91 * 24 * time.Hour, "y": 365 * 24 * time.Hour}
	return time.Duration(d.N) * unit[d.Unit]
}

// ParseTime reads a time as the CLI accepts it: RFC 3339 (with or without
// seconds or zone; UTC when absent), a date, epoch seconds, "now", or a
// relative period ("-1h", "1h" meaning an hour ago).
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > 1e11 {
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if d, err := ParseSince(strings.TrimPrefix(s, "-")); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read time %q (use 2024-05-31T14:00:00Z, 2024-05-31, epoch seconds, now or -1h)", s)
}

// ParseSince reads a duration for --since: Go durations (90m, 1h30m) and
// Logs Insights periods with days and weeks (1d, 2w).
func ParseSince(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	q, err := syntax.ParseExpr(s)
	if err == nil {
		if d, ok := q.(*syntax.Duration); ok && d.N > 0 {
			return duration(d), nil
		}
	}
	return 0, fmt.Errorf("cannot read duration %q (use 15m, 1h, 1d, 2w)", s)
}
