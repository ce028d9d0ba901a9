package layout

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/flowlens/flowlens/internal/generate/flowrec"
)

// CloudWatch writes one log stream per interface, named <eni>-all as AWS
// names the streams of an ALL flow log, each as a JSON file shaped like the
// output of `aws logs get-log-events`:
//
//	{"events": [{"timestamp": START×1000, "message": "<record>", "ingestionTime": …}, …],
//	 "nextForwardToken": "f/…", "nextBackwardToken": "b/…"}
//
// under Dir (the log group's directory). Records must be added in the order
// they should appear; the writer is not safe for concurrent use.
type CloudWatch struct {
	Dir     string
	enc     *flowrec.Encoder
	streams map[string]*stream
	line    []byte
	written int64
}

type stream struct {
	path    string
	buf     []byte
	started bool
	events  int64
}

// NewCloudWatch returns a writer into dir.
func NewCloudWatch(dir string, enc *flowrec.Encoder) *CloudWatch {
	return &CloudWatch{Dir: dir, enc: enc, streams: map[string]*stream{}}
}

// StreamName returns the log stream of an interface.
func StreamName(eni string) string { return eni + "-all" }

// Add appends the records' events to their streams. Within one call the
// events of each stream are ordered by timestamp.
func (c *CloudWatch) Add(recs []flowrec.Record) error {
	idx := make([]int, len(recs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ra, rb := &recs[idx[a]], &recs[idx[b]]
		if ra.ENI.Index != rb.ENI.Index {
			return ra.ENI.Index < rb.ENI.Index
		}
		return ra.Start < rb.Start
	})
	for _, i := range idx {
		r := &recs[i]
		s := c.streams[r.ENI.ID]
		if s == nil {
			s = &stream{path: filepath.Join(c.Dir, StreamName(r.ENI.ID)+".json")}
			c.streams[r.ENI.ID] = s
		}
		if s.events > 0 {
			s.buf = append(s.buf, ",\n"...)
		}
		s.buf = append(s.buf, `{"timestamp":`...)
		s.buf = strconv.AppendInt(s.buf, r.Start*1000, 10)
		s.buf = append(s.buf, `,"message":"`...)
		s.buf = c.enc.AppendLine(s.buf, r) // flow log text needs no JSON escaping
		s.buf = append(s.buf, `","ingestionTime":`...)
		s.buf = strconv.AppendInt(s.buf, r.End*1000+300_000+int64(r.ENI.Index%997)*61, 10)
		s.buf = append(s.buf, '}')
		s.events++
		if len(s.buf) > 64<<10 { // bounds memory at about 64 KiB per interface
			if err := c.flush(s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *CloudWatch) flush(s *stream) error {
	tmp := s.path + ".partial"
	flag := os.O_WRONLY | os.O_APPEND | os.O_CREATE
	if !s.started {
		if err := os.MkdirAll(c.Dir, 0o755); err != nil {
			return err
		}
		flag |= os.O_TRUNC
	}
	f, err := os.OpenFile(tmp, flag, 0o644)
	if err != nil {
		return fmt.Errorf("write stream: %w", err)
	}
	if !s.started {
		if _, err := f.WriteString("{\"events\": [\n"); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		s.started = true
	}
	n, err := f.Write(s.buf)
	c.written += int64(n)
	if err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	s.buf = s.buf[:0]
	return nil
}

// Close finishes every stream file and publishes it; it returns the number
// of streams.
func (c *CloudWatch) Close() (int, error) {
	names := make([]string, 0, len(c.streams))
	for n := range c.streams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := c.streams[n]
		s.buf = append(s.buf, "\n],\n"...)
		s.buf = append(s.buf, `"nextForwardToken": "f/`+strconv.FormatInt(s.events, 10)+`", "nextBackwardToken": "b/0"}`+"\n"...)
		if err := c.flush(s); err != nil {
			return 0, err
		}
		if err := os.Rename(s.path+".partial", s.path); err != nil {
			return 0, fmt.Errorf("publish %s: %w", s.path, err)
		}
	}
	return len(names), nil
}

// Written returns the number of bytes written so far.
func (c *CloudWatch) Written() int64 { return c.written }
