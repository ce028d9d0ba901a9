package cwlogs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
)

// AWS's PutLogEvents limits.
const (
	maxBatchEvents = 10000
	maxBatchBytes  = 1 << 20
	eventOverhead  = 26
	maxBatchSpan   = 24 * time.Hour
	maxFuture      = 2 * time.Hour
	defaultMaxAge  = 14 * 24 * time.Hour
	maxPageBytes   = 1 << 20
)

type inputEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsIn struct {
	groupNameIn
	LogStreamName string       `json:"logStreamName"`
	LogEvents     []inputEvent `json:"logEvents"`
	SequenceToken string       `json:"sequenceToken"`
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

type putLogEventsOut struct {
	NextSequenceToken     string        `json:"nextSequenceToken,omitempty"`
	RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
	// flowlens's own members: what became flow log records and what was
	// kept aside (SDKs ignore unknown members).
	Records    int `json:"flowlensRecords"`
	NotFlowLog int `json:"flowlensNotFlowLogEvents"`
}

func (s *Server) putLogEvents(c *call) (any, error) {
	var in putLogEventsIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkStreamName(in.LogStreamName); err != nil {
		return nil, err
	}
	n := len(in.LogEvents)
	if n < 1 || n > maxBatchEvents {
		return nil, invalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length between 1 and %d (got %d)", maxBatchEvents, n)
	}
	size := 0
	for i, e := range in.LogEvents {
		if e.Timestamp == nil || e.Message == nil {
			return nil, invalid("log event %d: timestamp and message are required", i)
		}
		if len(*e.Message) == 0 {
			return nil, invalid("log event %d: the message is empty (at least 1 character)", i)
		}
		if len(*e.Message)+eventOverhead > maxBatchBytes {
			return nil, invalid("Log event too large: event %d is %d bytes; the maximum is %d bytes", i, len(*e.Message), maxBatchBytes-eventOverhead)
		}
		size += len(*e.Message) + eventOverhead
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalid("Log events in a single PutLogEvents request must be in chronological order (event %d is older than event %d).", i, i-1)
		}
	}
	if size > maxBatchBytes {
		return nil, invalid("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	if span := time.Duration(*in.LogEvents[n-1].Timestamp-*in.LogEvents[0].Timestamp) * time.Millisecond; span > maxBatchSpan {
		return nil, invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	s.mu.Lock()
	g := s.state.Groups[groupFromIdent(in.ident())] // the common case, without listing the datasets
	s.mu.Unlock()
	if g == nil {
		var err error
		if g, _, err = s.group(c.ctx, in.ident(), true); err != nil {
			return nil, err
		}
	}
	if ok, err := s.streamExists(c.ctx, g, in.LogStreamName); err != nil {
		return nil, err
	} else if !ok {
		return nil, errStreamNotFound
	}

	// Events too old, expired or too far in the future are dropped and reported.
	now := s.deps.Now()
	nowMs := now.UnixMilli()
	maxAge := s.cfg.MaxEventAge
	if maxAge == 0 {
		maxAge = defaultMaxAge
	}
	s.mu.Lock()
	retention := time.Duration(g.RetentionDays) * 24 * time.Hour
	s.mu.Unlock()
	var rej rejectedInfo
	lo, hi := 0, n
	nNew, nOld, nExpired := 0, 0, 0
	for i, e := range in.LogEvents {
		ts := *e.Timestamp
		switch {
		case ts > nowMs+maxFuture.Milliseconds():
			nNew++
			if rej.TooNewLogEventStartIndex == nil {
				v := i
				rej.TooNewLogEventStartIndex = &v
				hi = i
			}
		case retention > 0 && ts < nowMs-retention.Milliseconds():
			nExpired++
			v := i + 1
			rej.ExpiredLogEventEndIndex = &v
			lo = i + 1
		case maxAge > 0 && ts < nowMs-maxAge.Milliseconds():
			nOld++
			v := i + 1
			rej.TooOldLogEventEndIndex = &v
			lo = i + 1
		}
	}
	out := putLogEventsOut{NextSequenceToken: strconv.FormatInt(nowMs, 10)}
	if rej != (rejectedInfo{}) {
		out.RejectedLogEventsInfo = &rej
		s.tooNew.Add(int64(nNew))
		s.tooOld.Add(int64(nOld))
		s.expired.Add(int64(nExpired))
	}
	if lo >= hi {
		return out, nil
	}
	accepted := in.LogEvents[lo:hi]

	// The batch's identity: its group, stream and content.
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s\x00", g.Name, g.Created, in.LogStreamName)
	for _, e := range accepted {
		fmt.Fprintf(h, "%d\x00%d\x00%s", *e.Timestamp, len(*e.Message), *e.Message)
	}
	sum := hex.EncodeToString(h.Sum(nil))

	f, err := s.deps.Store.DeclaredFormat(c.ctx, g.Dataset)
	if err != nil {
		return nil, err
	}
	if f == nil {
		f = flowlog.DefaultFormat()
	}
	dec := decode.NewDecoder(f)
	// A format without start: each record is placed at its event's time.
	b := flowlog.NewBatch(f.Placed(), len(accepted))
	var aside []asideEvent
	first, last := *accepted[0].Timestamp, *accepted[len(accepted)-1].Timestamp
	for i, e := range accepted {
		msg := *e.Message
		if strings.ContainsAny(msg, "\n") || dec.DecodeLine(b, []byte(msg), int64(lo+i+1)) != nil {
			aside = append(aside, asideEvent{Stream: in.LogStreamName, Timestamp: *e.Timestamp, Ingestion: nowMs, Message: msg})
		} else if b.Format.IsPlaced() {
			b.Cols[len(b.Cols)-1].AppendInt(*e.Timestamp / 1000)
		}
	}
	out.Records, out.NotFlowLog = b.N, len(aside)
	// Durable before the answer: aside events first (synced), then the
	// records with their registry entry; a retry finds both already there.
	wroteAside := false
	if len(aside) > 0 {
		if wroteAside, err = s.aside.add(g, sum, aside); err != nil {
			return nil, fmt.Errorf("keep aside %d messages: %w", len(aside), err)
		}
	}
	if b.N > 0 {
		src := store.Source{Key: fmt.Sprintf("cwlogs:%s@%d/%s/%s", g.Name, g.Created, in.LogStreamName, sum[:32]),
			Size: int64(size), Checksum: sum, ModTime: now}
		if err := s.writeBatch(c.ctx, g.Dataset, src, b); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.Streams == nil {
		g.Streams = map[string]*streamMeta{}
	}
	st := g.Streams[in.LogStreamName]
	if st == nil {
		st = &streamMeta{Name: in.LogStreamName, Created: nowMs}
		g.Streams[in.LogStreamName] = st
	}
	if st.FirstEvent == 0 || first < st.FirstEvent {
		st.FirstEvent = first
	}
	st.LastEvent = max(st.LastEvent, last)
	st.LastIngestion = nowMs
	if wroteAside {
		g.NotFlowLog += int64(len(aside))
	}
	if err := s.state.save(); err != nil {
		// the events are stored; only the stream's summary may lag
		s.log.Warn("save the stream summary", "err", err)
	}
	return out, nil
}

func (s *Server) writeBatch(ctx context.Context, dataset string, src store.Source, b *flowlog.Batch) error {
	s.deps.WriteMu.Lock()
	defer s.deps.WriteMu.Unlock()
	tx, err := s.deps.Store.BeginFile(ctx, dataset, src, false)
	if errors.Is(err, store.ErrAlreadyIngested) {
		return nil // a retry of a batch already stored
	}
	if err != nil {
		return err
	}
	if err := tx.Append(ctx, b); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return nil
}

// streamExists reports whether a stream was created, written, or holds
// flow log records of its interface.
func (s *Server) streamExists(ctx context.Context, g *groupMeta, name string) (bool, error) {
	s.mu.Lock()
	ok := g.Streams[name] != nil
	s.mu.Unlock()
	if ok {
		return true, nil
	}
	iface := streamInterface(name)
	if iface == "" {
		return false, nil
	}
	res, err := s.deps.Store.Query(ctx, `SELECT 1 FROM flows WHERE dataset = ? AND interface_id = ? LIMIT 1`, g.Dataset, iface)
	if err != nil {
		return false, err
	}
	return len(res.Rows) > 0, nil
}

// event is one log event read back.
type event struct {
	ts, ingest int64
	msg        string
	stream     string
}

// pos is a position between events in (timestamp, message) order.
type pos struct {
	ts  int64
	msg string
}

func (e event) key() pos { return pos{e.ts, e.msg} }

func less(a, b pos) bool { return a.ts < b.ts || (a.ts == b.ts && a.msg < b.msg) }

var (
	headPos = pos{ts: math.MinInt64}
	tailPos = pos{ts: math.MaxInt64}
)

func posToken(dir string, p pos) string {
	return dir + "/" + nameToken(fmt.Sprintf("%d\x00%s", p.ts, p.msg))
}

func parsePosToken(tok string) (dir string, p pos, err error) {
	dir, rest, ok := strings.Cut(tok, "/")
	if !ok || (dir != "f" && dir != "b" && dir != "n") {
		return "", pos{}, invalid("The specified nextToken is invalid.")
	}
	raw, err := parseNameToken(rest)
	if err != nil {
		return "", pos{}, err
	}
	t, m, _ := strings.Cut(raw, "\x00")
	ts, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return "", pos{}, invalid("The specified nextToken is invalid.")
	}
	return dir, pos{ts, m}, nil
}

// selection is the events a read looks at.
type selection struct {
	g *groupMeta
	// streams restricts to these stream names (nil: every stream).
	streams []string
	// start (inclusive) and end (exclusive) bound the timestamps in ms (0: open).
	start, end int64
	// match keeps an event (nil: all).
	match func(msg string) bool
}

func (sel *selection) inRange(ts int64) bool {
	return (sel.start == 0 || ts >= sel.start) && (sel.end == 0 || ts < sel.end)
}

func (sel *selection) hasStream(name string) bool {
	if sel.streams == nil {
		return true
	}
	for _, s := range sel.streams {
		if s == name {
			return true
		}
	}
	return false
}

// quote writes a Logs Insights string literal.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// fetch returns up to n events after p (forward) or before p (backward),
// in that direction's order; eq instead returns the events at exactly p.
func (s *Server) fetch(ctx context.Context, sel *selection, p pos, forward, eq bool, n int) ([]event, error) {
	var out []event
	// flow log records of the selected interfaces
	var ifaces []string
	for _, name := range sel.streams {
		if iface := streamInterface(name); iface != "" {
			ifaces = append(ifaces, iface)
		}
	}
	if sel.streams == nil || len(ifaces) > 0 {
		var q strings.Builder
		q.WriteString("fields @timestamp, @message, @ingestionTime, @logStream")
		if sel.streams != nil {
			parts := make([]string, len(ifaces))
			for i, f := range ifaces {
				parts[i] = quote(f)
			}
			fmt.Fprintf(&q, " | filter interfaceId in [%s]", strings.Join(parts, ", "))
		}
		dir, op := "asc", ">"
		if !forward {
			dir, op = "desc", "<"
		}
		switch {
		case eq:
			fmt.Fprintf(&q, " | filter toMillis(@timestamp) = %d and @message = %s", p.ts, quote(p.msg))
		case p != headPos && p != tailPos:
			fmt.Fprintf(&q, " | filter toMillis(@timestamp) %s %d or (toMillis(@timestamp) = %d and @message %s %s)", op, p.ts, p.ts, op, quote(p.msg))
		}
		fmt.Fprintf(&q, " | sort @timestamp %s, @message %s | limit %d", dir, dir, n)
		req := query.Request{Query: q.String(), Datasets: []string{sel.g.Dataset}, Limit: int64(n)}
		lo, hi := sel.start, sel.end
		if eq {
			lo, hi = p.ts, p.ts+1
		} else if forward && p != headPos {
			lo = max(lo, p.ts)
		} else if !forward && p != tailPos && (hi == 0 || p.ts+1 < hi) {
			hi = p.ts + 1
		}
		if lo != 0 {
			req.Start = time.Unix(ceilDiv(lo, 1000), 0)
		}
		if hi != 0 {
			req.End = time.Unix(ceilDiv(hi, 1000)-1, 0)
			if req.End.Before(req.Start) || (lo != 0 && hi <= lo) {
				goto aside
			}
		}
		res, _, err := s.deps.Engine.Run(ctx, req)
		if err != nil && !errors.Is(err, query.ErrUnknownDataset) {
			return nil, err
		}
		if res != nil {
			for _, row := range res.Rows {
				e := event{ts: millis(row[0]), msg: str(row[1]), ingest: millis(row[2]), stream: str(row[3])}
				if sel.inRange(e.ts) {
					out = append(out, e)
				}
			}
		}
	}
aside:
	evs, err := s.aside.events(sel.g)
	if err != nil {
		return nil, err
	}
	for _, a := range evs {
		e := event{ts: a.Timestamp, msg: a.Message, ingest: a.Ingestion, stream: a.Stream}
		k := e.key()
		if !sel.inRange(e.ts) || !sel.hasStream(e.stream) {
			continue
		}
		if (eq && k != p) || (!eq && forward && !less(p, k)) || (!eq && !forward && !less(k, p)) {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if forward {
			return less(out[i].key(), out[j].key())
		}
		return less(out[j].key(), out[i].key())
	})
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}

func millis(v any) int64 {
	switch t := v.(type) {
	case time.Time:
		return t.UnixMilli()
	case int64:
		return t
	case float64:
		return int64(t)
	}
	return 0
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// page reads up to limit events from p in one direction (returned in
// ascending order). Events with the same timestamp and message are never
// split across pages, so that a position in the order is enough for a
// token; more says whether events remain in that direction.
func (s *Server) page(ctx context.Context, sel *selection, p pos, forward bool, limit int) (evs []event, more bool, err error) {
	got, err := s.fetch(ctx, sel, p, forward, false, limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(got) > limit {
		more = true
		lastKey := got[limit-1].key()
		if got[limit].key() == lastKey {
			i := limit - 1
			for i >= 0 && got[i].key() == lastKey {
				i--
			}
			if i >= 0 {
				got = got[:i+1]
			} else if got, err = s.fetch(ctx, sel, lastKey, forward, true, 1<<20); err != nil {
				return nil, false, err
			}
		} else {
			got = got[:limit]
		}
	}
	if !forward {
		for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
			got[i], got[j] = got[j], got[i]
		}
	}
	return got, more, nil
}

type getLogEventsIn struct {
	groupNameIn
	LogStreamName string `json:"logStreamName"`
	StartTime     *int64 `json:"startTime"`
	EndTime       *int64 `json:"endTime"`
	NextToken     string `json:"nextToken"`
	Limit         *int   `json:"limit"`
	StartFromHead bool   `json:"startFromHead"`
	Unmask        bool   `json:"unmask"`
}

type outputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

func (s *Server) getLogEvents(c *call) (any, error) {
	var in getLogEventsIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.LogGroupName != "" && in.LogGroupIdentifier != "" {
		return nil, invalid("give logGroupName or logGroupIdentifier, not both")
	}
	if err := checkStreamName(in.LogStreamName); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.Limit, maxBatchEvents, maxBatchEvents, "limit")
	if err != nil {
		return nil, err
	}
	g, _, err := s.group(c.ctx, in.ident(), false)
	if err != nil {
		return nil, err
	}
	if ok, err := s.streamExists(c.ctx, g, in.LogStreamName); err != nil {
		return nil, err
	} else if !ok {
		if evs, _ := s.aside.events(g); !hasStream(evs, in.LogStreamName) {
			return nil, errStreamNotFound
		}
	}
	sel := &selection{g: g, streams: []string{in.LogStreamName}}
	if in.StartTime != nil {
		sel.start = *in.StartTime
	}
	if in.EndTime != nil {
		sel.end = *in.EndTime
	}
	forward, p := in.StartFromHead, tailPos
	if forward {
		p = headPos
	}
	if in.NextToken != "" {
		dir, tp, err := parsePosToken(in.NextToken)
		if err != nil || dir == "n" {
			return nil, invalid("The specified nextToken is invalid.")
		}
		forward, p = dir == "f", tp
	}
	evs, _, err := s.page(c.ctx, sel, p, forward, limit)
	if err != nil {
		return nil, err
	}
	// at most 1 MB of events, as AWS
	size := 0
	for i, e := range evs {
		size += len(e.msg) + eventOverhead
		if size > maxPageBytes && i > 0 {
			if forward {
				evs = trimGroup(evs[:i], true)
			} else {
				evs = trimGroup(evs[len(evs)-i:], false)
			}
			break
		}
	}
	out := struct {
		Events            []outputEvent `json:"events"`
		NextForwardToken  string        `json:"nextForwardToken"`
		NextBackwardToken string        `json:"nextBackwardToken"`
	}{Events: make([]outputEvent, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, outputEvent{Timestamp: e.ts, Message: e.msg, IngestionTime: e.ingest})
	}
	if len(evs) == 0 {
		// at the end in the paging direction: the same token back, as AWS
		tok := in.NextToken
		if tok == "" {
			tok = posToken(map[bool]string{true: "f", false: "b"}[forward], p)
		}
		other := posToken(map[bool]string{true: "b", false: "f"}[forward], p)
		if forward {
			out.NextForwardToken, out.NextBackwardToken = tok, other
		} else {
			out.NextForwardToken, out.NextBackwardToken = other, tok
		}
		return out, nil
	}
	out.NextForwardToken = posToken("f", evs[len(evs)-1].key())
	out.NextBackwardToken = posToken("b", evs[0].key())
	return out, nil
}

// trimGroup drops the trailing (forward) or leading group of equal events
// so that a cut never splits one; it keeps at least one group.
func trimGroup(evs []event, forward bool) []event {
	if len(evs) < 2 {
		return evs
	}
	if forward {
		k := evs[len(evs)-1].key()
		i := len(evs) - 1
		for i >= 0 && evs[i].key() == k {
			i--
		}
		if i >= 0 {
			return evs[:i+1]
		}
		return evs
	}
	k := evs[0].key()
	i := 0
	for i < len(evs) && evs[i].key() == k {
		i++
	}
	if i < len(evs) {
		return evs[i:]
	}
	return evs
}

func hasStream(evs []asideEvent, name string) bool {
	for _, e := range evs {
		if e.Stream == name {
			return true
		}
	}
	return false
}

type filterLogEventsIn struct {
	groupNameIn
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       string   `json:"filterPattern"`
	NextToken           string   `json:"nextToken"`
	Limit               *int     `json:"limit"`
	Interleaved         bool     `json:"interleaved"`
	Unmask              bool     `json:"unmask"`
}

type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

// scanBudget bounds the events one FilterLogEvents call reads; a page
// may then hold fewer events than the limit, with a nextToken (as AWS).
const scanBudget = 50000

func (s *Server) filterLogEvents(c *call) (any, error) {
	var in filterLogEventsIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.LogGroupName != "" && in.LogGroupIdentifier != "" {
		return nil, invalid("give logGroupName or logGroupIdentifier, not both")
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, invalid("logStreamNames and logStreamNamePrefix are mutually exclusive")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, invalid("at most 100 logStreamNames")
	}
	if len(in.FilterPattern) > 1024 {
		return nil, invalid("filterPattern has at most 1024 characters")
	}
	limit, err := pageLimit(in.Limit, maxBatchEvents, maxBatchEvents, "limit")
	if err != nil {
		return nil, err
	}
	g, _, err := s.group(c.ctx, in.ident(), false)
	if err != nil {
		return nil, err
	}
	f, err := s.deps.Store.DeclaredFormat(c.ctx, g.Dataset)
	if err != nil {
		return nil, err
	}
	match, err := compileFilter(in.FilterPattern, f)
	if err != nil {
		return nil, err
	}
	sel := &selection{g: g, match: match}
	if len(in.LogStreamNames) > 0 {
		sel.streams = in.LogStreamNames
	} else if in.LogStreamNamePrefix != "" {
		streams, err := s.streams(c.ctx, g)
		if err != nil {
			return nil, err
		}
		evs, _ := s.aside.events(g)
		sel.streams = []string{}
		seen := map[string]bool{}
		for _, st := range streams {
			if strings.HasPrefix(st.Name, in.LogStreamNamePrefix) && !seen[st.Name] {
				sel.streams, seen[st.Name] = append(sel.streams, st.Name), true
			}
		}
		for _, e := range evs {
			if strings.HasPrefix(e.Stream, in.LogStreamNamePrefix) && !seen[e.Stream] {
				sel.streams, seen[e.Stream] = append(sel.streams, e.Stream), true
			}
		}
	}
	if in.StartTime != nil {
		sel.start = *in.StartTime
	}
	if in.EndTime != nil {
		sel.end = *in.EndTime
	}
	p := headPos
	if in.NextToken != "" {
		dir, tp, err := parsePosToken(in.NextToken)
		if err != nil || dir != "n" {
			return nil, invalid("The specified nextToken is invalid.")
		}
		p = tp
	}
	out := struct {
		Events             []filteredEvent `json:"events"`
		SearchedLogStreams []any           `json:"searchedLogStreams"`
		NextToken          string          `json:"nextToken,omitempty"`
	}{Events: []filteredEvent{}, SearchedLogStreams: []any{}}
	if sel.streams != nil && len(sel.streams) == 0 {
		return out, nil
	}
	scanned, size := 0, 0
	for {
		chunk := limit - len(out.Events)
		if sel.match != nil {
			chunk = max(chunk, 1000)
		}
		evs, more, err := s.page(c.ctx, sel, p, true, chunk)
		if err != nil {
			return nil, err
		}
		full := false
		for _, e := range evs {
			if sel.match == nil || sel.match(e.msg) {
				n := len(out.Events)
				if (n >= limit || size+len(e.msg)+eventOverhead > maxPageBytes) && n > 0 &&
					(out.Events[n-1].Timestamp != e.ts || out.Events[n-1].Message != e.msg) {
					// full; a group of equal events is never split (it may
					// overflow the limit), so the position is enough
					full = true
					break
				}
				out.Events = append(out.Events, filteredEvent{LogStreamName: e.stream, Timestamp: e.ts, Message: e.msg,
					IngestionTime: e.ingest, EventID: eventID(e)})
				size += len(e.msg) + eventOverhead
			}
			p = e.key()
		}
		scanned += len(evs)
		if full {
			out.NextToken = posToken("n", p)
			return out, nil
		}
		if !more {
			return out, nil
		}
		if len(out.Events) >= limit || scanned >= scanBudget {
			out.NextToken = posToken("n", p)
			return out, nil
		}
	}
}

var eventIDMod = new(big.Int).Exp(big.NewInt(10), big.NewInt(36), nil)

// eventID derives a 56-digit decimal id from an event's time, stream and
// message, as AWS's ids look.
func eventID(e event) string {
	sum := sha256.Sum256([]byte(e.stream + "\x00" + e.msg + "\x00" + strconv.FormatInt(e.ingest, 10)))
	n := new(big.Int).SetBytes(sum[:])
	n.Mod(n, eventIDMod)
	return fmt.Sprintf("%020d%036s", max(e.ts, 0), n.String())
}
