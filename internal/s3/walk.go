package s3

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Walk calls fn with every object below u, in key order within each
// folder. With a zero from it lists the prefix flat (one request per 1000
// keys). Otherwise it walks folder by folder and leaves out the date
// folders of flow log deliveries that can only hold keys older than from:
// below a vpcflowlogs/{region}/ (or aws-service=vpcflowlogs/aws-region=…/)
// level, the {yyyy}/{mm}/{dd}/[{HH}/] or year=/month=/day=/[hour=/]
// folders whose period ends at or before from are not listed, so that the
// cost of a listing is bounded by the days that can hold new keys.
func (c *Client) Walk(ctx context.Context, u URL, from time.Time, fn func(Object) error) error {
	if from.IsZero() {
		return c.List(ctx, u.Bucket, u.Prefix, ListOptions{}, func(p Page) error {
			for _, o := range p.Objects {
				if err := fn(o); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// The components of the prefix itself count for the date state
	// (s3://b/AWSLogs/123/vpcflowlogs/eu-west-1/2024/ is one day's year).
	var st dateState
	parts := strings.Split(u.Prefix, "/")
	for _, p := range parts[:len(parts)-1] {
		st = st.next(p)
	}
	return c.walk(ctx, u.Bucket, u.Prefix, st, from.UTC(), fn)
}

func (c *Client) walk(ctx context.Context, bucket, prefix string, st dateState, from time.Time, fn func(Object) error) error {
	var dirs []string
	err := c.List(ctx, bucket, prefix, ListOptions{Delimiter: "/"}, func(p Page) error {
		for _, o := range p.Objects {
			if err := fn(o); err != nil {
				return err
			}
		}
		dirs = append(dirs, p.Prefixes...)
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(d, prefix), "/")
		next := st.next(name)
		if end, ok := next.end(); ok && !end.After(from) {
			continue
		}
		if err := c.walk(ctx, bucket, d, next, from, fn); err != nil {
			return err
		}
	}
	return nil
}

// dateState follows a key's folders: after the service folder
// (vpcflowlogs) and the region come year, month, day and hour.
type dateState struct {
	level int // 0 before the service, 1 region next, 2 year next, 3 month, 4 day, 5 hour, 6 done
	ymdh  [4]int
}

func (s dateState) next(name string) dateState {
	switch {
	case name == "vpcflowlogs" || name == "aws-service=vpcflowlogs":
		return dateState{level: 1}
	case s.level == 0:
		// A hive year= folder is a date wherever it is.
		if v, ok := dateValue(name, "year=", 4, 1970, 9999); ok && strings.HasPrefix(name, "year=") {
			return dateState{level: 3, ymdh: [4]int{v}}
		}
		return s
	case s.level == 1:
		s.level = 2
		return s
	case s.level >= 2 && s.level <= 5:
		labels := [...]string{"year=", "month=", "day=", "hour="}
		widths := [...]int{4, 2, 2, 2}
		los := [...]int{1970, 1, 1, 0}
		his := [...]int{9999, 12, 31, 23}
		i := s.level - 2
		if v, ok := dateValue(name, labels[i], widths[i], los[i], his[i]); ok {
			s.ymdh[i] = v
			s.level++
			return s
		}
		return dateState{level: 6}
	}
	return s
}

// dateValue parses "2024" or "year=2024" (width digits within [lo, hi]).
func dateValue(name, label string, width, lo, hi int) (int, bool) {
	name = strings.TrimPrefix(name, label)
	if len(name) != width {
		return 0, false
	}
	v, err := strconv.Atoi(name)
	if err != nil || v < lo || v > hi || name[0] == '+' || name[0] == '-' {
		return 0, false
	}
	return v, true
}

// end returns when the period of a date folder ends (false when the folder
// is not a date folder).
func (s dateState) end() (time.Time, bool) {
	y, m, d, h := s.ymdh[0], s.ymdh[1], s.ymdh[2], s.ymdh[3]
	switch s.level {
	case 3:
		return time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC), true
	case 4:
		return time.Date(y, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC), true
	case 5:
		return time.Date(y, time.Month(m), d+1, 0, 0, 0, 0, time.UTC), true
	case 6:
		if h >= 0 && s.ymdh != [4]int{} && d > 0 {
			return time.Date(y, time.Month(m), d, h+1, 0, 0, 0, time.UTC), true
		}
	}
	return time.Time{}, false
}
