package cwlogs

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

var groupNameRE = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = map[int]bool{1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true, 90: true, 120: true,
	150: true, 180: true, 365: true, 400: true, 545: true, 731: true, 1096: true, 1827: true, 2192: true, 2557: true,
	2922: true, 3288: true, 3653: true}

func checkGroupName(name string) error {
	if !groupNameRE.MatchString(name) {
		return invalid("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+ (1 to 512 characters)", name)
	}
	return nil
}

func checkStreamName(name string) error {
	if name == "" || len(name) > 512 || strings.ContainsAny(name, ":*") {
		return invalid("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: 1 to 512 characters, without ':' or '*'", name)
	}
	return nil
}

// groupView is a log group as the API shows it: its metadata (possibly
// not saved yet, for a dataset ingested otherwise) and its dataset.
type groupView struct {
	meta *groupMeta
	ds   *store.Dataset
}

// groups lists every log group: those created through the API and the
// datasets with records.
func (s *Server) groups(ctx context.Context) ([]groupView, error) {
	ds, err := s.deps.Store.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	byDataset := map[string]*store.Dataset{}
	for i := range ds {
		byDataset[ds[i].Name] = &ds[i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []groupView
	mapped := map[string]bool{}
	for _, g := range s.state.Groups {
		mapped[g.Dataset] = true
		cp := *g // a snapshot: the caller reads it without the lock
		out = append(out, groupView{meta: &cp, ds: byDataset[g.Dataset]})
	}
	for i := range ds {
		d := &ds[i]
		if mapped[d.Name] || d.Records == 0 || s.state.Groups[d.Name] != nil {
			continue
		}
		created := d.LastIngest
		if !d.MinTime.IsZero() && (created.IsZero() || d.MinTime.Before(created)) {
			created = d.MinTime
		}
		out = append(out, groupView{meta: &groupMeta{Name: d.Name, Dataset: d.Name, Created: created.UnixMilli(),
			RetentionDays: int(d.Retention / (24 * time.Hour))}, ds: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].meta.Name < out[j].meta.Name })
	return out, nil
}

// group finds a log group by name or ARN; with persist, a dataset's group
// gets its metadata saved (the caller holds no lock).
func (s *Server) group(ctx context.Context, ident string, persist bool) (*groupMeta, *store.Dataset, error) {
	name := groupFromIdent(ident)
	if name == "" {
		return nil, nil, invalid("logGroupName or logGroupIdentifier is required")
	}
	gs, err := s.groups(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, g := range gs {
		if g.meta.Name == name {
			if persist {
				s.mu.Lock()
				defer s.mu.Unlock()
				if s.state.Groups[name] == nil {
					cp := *g.meta
					s.state.Groups[name] = &cp
					if err := s.state.save(); err != nil {
						delete(s.state.Groups, name)
						return nil, nil, err
					}
				}
				return s.state.Groups[name], g.ds, nil
			}
			return g.meta, g.ds, nil
		}
	}
	return nil, nil, errGroupNotFound
}

// groupFromIdent accepts a name or an ARN (arn:aws:logs:r:a:log-group:NAME[:*]).
func groupFromIdent(ident string) string {
	if rest, ok := strings.CutPrefix(ident, "arn:"); ok {
		if _, after, ok := strings.Cut(rest, ":log-group:"); ok {
			return strings.TrimSuffix(after, ":*")
		}
	}
	return ident
}

func (s *Server) groupARN(region, name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, s.cfg.Account, name)
}

type createLogGroupIn struct {
	LogGroupName  string            `json:"logGroupName"`
	KmsKeyID      string            `json:"kmsKeyId"`
	Tags          map[string]string `json:"tags"`
	LogGroupClass string            `json:"logGroupClass"`
}

func (s *Server) createLogGroup(c *call) (any, error) {
	var in createLogGroupIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkGroupName(in.LogGroupName); err != nil {
		return nil, err
	}
	if strings.HasPrefix(in.LogGroupName, "aws/") {
		return nil, invalid("log group names starting with 'aws/' are reserved")
	}
	if len(in.Tags) > 50 {
		return nil, invalid("at most 50 tags")
	}
	gs, err := s.groups(c.ctx)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, g := range gs {
		if g.meta.Name == in.LogGroupName {
			return nil, errf("ResourceAlreadyExistsException", "The specified log group already exists")
		}
		taken[g.meta.Dataset] = true
	}
	ds := datasetFor(in.LogGroupName, s.deps.ValidDataset, func(d string) bool { return taken[d] })
	s.deps.WriteMu.Lock()
	f, err := s.deps.Store.DeclaredFormat(c.ctx, ds)
	if err == nil && f == nil {
		// the dataset exists from now on, with the format AWS's flow logs
		// deliver by default to CloudWatch Logs
		err = s.deps.Store.DeclareFormat(c.ctx, ds, flowlog.DefaultFormat())
	}
	if err == nil {
		err = s.deps.Store.SetRetention(c.ctx, ds, 0)
	}
	s.deps.WriteMu.Unlock()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Groups[in.LogGroupName] != nil {
		return nil, errf("ResourceAlreadyExistsException", "The specified log group already exists")
	}
	s.state.Groups[in.LogGroupName] = &groupMeta{Name: in.LogGroupName, Dataset: ds, Created: s.deps.Now().UnixMilli()}
	if err := s.state.save(); err != nil {
		delete(s.state.Groups, in.LogGroupName)
		return nil, err
	}
	return empty{}, nil
}

type groupNameIn struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
}

func (in groupNameIn) ident() string {
	if in.LogGroupName != "" {
		return in.LogGroupName
	}
	return in.LogGroupIdentifier
}

func (s *Server) deleteLogGroup(c *call) (any, error) {
	var in groupNameIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, ds, err := s.group(c.ctx, in.ident(), false)
	if err != nil {
		return nil, err
	}
	s.deps.WriteMu.Lock()
	if ds != nil && ds.Records > 0 {
		_, err = s.deps.Store.DropBefore(c.ctx, g.Dataset, time.Unix(1<<40, 0))
	}
	if err == nil && ds != nil {
		err = s.deps.Store.SetRetention(c.ctx, g.Dataset, 0)
	}
	s.deps.WriteMu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := s.aside.remove(g); err != nil {
		return nil, err
	}
	if s.deps.Filters != nil {
		fs, err := s.deps.Filters.List(c.ctx, g.Dataset, "")
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if err := s.deps.Filters.Delete(c.ctx, f.Dataset, f.Name); err != nil {
				return nil, err
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.state.Groups[g.Name]; old != nil {
		delete(s.state.Groups, g.Name)
		if err := s.state.save(); err != nil {
			s.state.Groups[g.Name] = old
			return nil, err
		}
	}
	return empty{}, nil
}

type describeLogGroupsIn struct {
	LogGroupNamePrefix  string   `json:"logGroupNamePrefix"`
	LogGroupNamePattern string   `json:"logGroupNamePattern"`
	NextToken           string   `json:"nextToken"`
	Limit               *int     `json:"limit"`
	LogGroupClass       string   `json:"logGroupClass"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
}

type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   int    `json:"retentionInDays,omitempty"`
	MetricFilterCount int    `json:"metricFilterCount"`
	Arn               string `json:"arn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
	LogGroupArn       string `json:"logGroupArn"`
	// flowlens's own members (SDKs ignore unknown members).
	Dataset          string `json:"flowlensDataset"`
	Records          int64  `json:"flowlensRecords"`
	NotFlowLogEvents int64  `json:"flowlensNotFlowLogEvents"`
}

func pageLimit(l *int, def, max int, member string) (int, error) {
	if l == nil {
		return def, nil
	}
	if *l < 1 || *l > max {
		return 0, invalid("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value between 1 and %d", *l, member, max)
	}
	return *l, nil
}

// nameToken is the opaque token of a listing ordered by a text key.
func nameToken(key string) string {
	b := base64.RawURLEncoding.EncodeToString([]byte(key))
	return fmt.Sprintf("%s.%08x", b, crc32.ChecksumIEEE([]byte("flowlens:"+key)))
}

func parseNameToken(tok string) (string, error) {
	b, sum, ok := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(b)
	if !ok || err != nil || fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte("flowlens:"+string(raw)))) != sum {
		return "", invalid("The specified nextToken is invalid.")
	}
	return string(raw), nil
}

func (s *Server) describeLogGroups(c *call) (any, error) {
	var in describeLogGroupsIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return nil, invalid("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive; give only one")
	}
	limit, err := pageLimit(in.Limit, 50, 50, "limit")
	if err != nil {
		return nil, err
	}
	after := ""
	if in.NextToken != "" {
		if after, err = parseNameToken(in.NextToken); err != nil {
			return nil, err
		}
	}
	gs, err := s.groups(c.ctx)
	if err != nil {
		return nil, err
	}
	idents := map[string]bool{}
	for _, id := range in.LogGroupIdentifiers {
		idents[groupFromIdent(id)] = true
	}
	pattern := strings.ToLower(in.LogGroupNamePattern)
	out := struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken string        `json:"nextToken,omitempty"`
	}{LogGroups: []logGroupOut{}}
	for _, g := range gs {
		m := g.meta
		if (in.NextToken != "" && m.Name <= after) || !strings.HasPrefix(m.Name, in.LogGroupNamePrefix) ||
			(pattern != "" && !strings.Contains(strings.ToLower(m.Name), pattern)) ||
			(len(idents) > 0 && !idents[m.Name]) || (in.LogGroupClass != "" && in.LogGroupClass != "STANDARD") {
			continue
		}
		if len(out.LogGroups) == limit {
			out.NextToken = nameToken(out.LogGroups[limit-1].LogGroupName)
			break
		}
		lg := logGroupOut{LogGroupName: m.Name, CreationTime: m.Created, RetentionInDays: m.RetentionDays,
			MetricFilterCount: s.metricFilterCount(c, m.Dataset), Arn: s.groupARN(c.region, m.Name) + ":*", LogGroupArn: s.groupARN(c.region, m.Name),
			LogGroupClass: "STANDARD", Dataset: m.Dataset, NotFlowLogEvents: m.NotFlowLog}
		if g.ds != nil {
			lg.StoredBytes, lg.Records = g.ds.Bytes, g.ds.Records
		}
		if evs, err := s.aside.events(m); err == nil {
			for _, e := range evs {
				lg.StoredBytes += int64(len(e.Message)) + 26
			}
		}
		out.LogGroups = append(out.LogGroups, lg)
	}
	return out, nil
}

type streamIn struct {
	groupNameIn
	LogStreamName string `json:"logStreamName"`
}

func (s *Server) createLogStream(c *call) (any, error) {
	var in streamIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := checkStreamName(in.LogStreamName); err != nil {
		return nil, err
	}
	g, _, err := s.group(c.ctx, in.ident(), true)
	if err != nil {
		return nil, err
	}
	streams, err := s.streams(c.ctx, g)
	if err != nil {
		return nil, err
	}
	for _, st := range streams {
		if st.Name == in.LogStreamName {
			return nil, errf("ResourceAlreadyExistsException", "The specified log stream already exists")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.Streams == nil {
		g.Streams = map[string]*streamMeta{}
	}
	if g.Streams[in.LogStreamName] != nil {
		return nil, errf("ResourceAlreadyExistsException", "The specified log stream already exists")
	}
	g.Streams[in.LogStreamName] = &streamMeta{Name: in.LogStreamName, Created: s.deps.Now().UnixMilli()}
	if err := s.state.save(); err != nil {
		delete(g.Streams, in.LogStreamName)
		return nil, err
	}
	return empty{}, nil
}

// streamInterface returns the interface id of a flow log stream name
// ("eni-0a1b…-all" → "eni-0a1b…"), "" for other names.
func streamInterface(name string) string {
	if iface, ok := strings.CutSuffix(name, "-all"); ok && iface != "" {
		return iface
	}
	return ""
}

func (s *Server) deleteLogStream(c *call) (any, error) {
	var in streamIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g, _, err := s.group(c.ctx, in.ident(), false)
	if err != nil {
		return nil, err
	}
	streams, err := s.streams(c.ctx, g)
	if err != nil {
		return nil, err
	}
	found := false
	for _, st := range streams {
		found = found || st.Name == in.LogStreamName
	}
	if !found {
		return nil, errStreamNotFound
	}
	if iface := streamInterface(in.LogStreamName); iface != "" {
		// The records of one interface are not removable one by one by the
		// store (retention removes whole hours): refuse rather than pretend.
		if n, err := s.countInterface(c.ctx, g, iface); err != nil {
			return nil, err
		} else if n > 0 {
			return nil, errf("InvalidOperationException", "log stream %s holds %d flow log records; flowlens removes records by whole hours (PutRetentionPolicy, DeleteLogGroup), not by stream", in.LogStreamName, n)
		}
	}
	if err := s.aside.removeStream(g, in.LogStreamName); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.Streams[in.LogStreamName] != nil {
		old := g.Streams[in.LogStreamName]
		delete(g.Streams, in.LogStreamName)
		if err := s.state.save(); err != nil {
			g.Streams[in.LogStreamName] = old
			return nil, err
		}
	}
	return empty{}, nil
}

func (s *Server) countInterface(ctx context.Context, g *groupMeta, iface string) (int64, error) {
	res, err := s.deps.Store.Query(ctx, `SELECT count(*) FROM flows WHERE dataset = ? AND interface_id = ?`, g.Dataset, iface)
	if err != nil {
		return 0, err
	}
	if len(res.Rows) == 1 {
		if n, ok := res.Rows[0][0].(int64); ok {
			return n, nil
		}
	}
	return 0, nil
}

// streams lists the streams of a group: those created or written through
// the API and one per interface of the group's flow log records.
func (s *Server) streams(ctx context.Context, g *groupMeta) ([]streamMeta, error) {
	res, err := s.deps.Store.Query(ctx, `SELECT interface_id, min(start), max(start), min(_ingest_time), max(_ingest_time)
FROM flows WHERE dataset = ? AND interface_id IS NOT NULL GROUP BY interface_id`, g.Dataset)
	if err != nil {
		return nil, err
	}
	by := map[string]*streamMeta{}
	for _, row := range res.Rows {
		name, _ := row[0].(string)
		first, _ := row[1].(int64)
		last, _ := row[2].(int64)
		created, _ := row[3].(int64)
		ingest, _ := row[4].(int64)
		by[name+"-all"] = &streamMeta{Name: name + "-all", Created: created, FirstEvent: first * 1000, LastEvent: last * 1000, LastIngestion: ingest}
	}
	s.mu.Lock()
	for name, m := range g.Streams {
		d := by[name]
		if d == nil {
			cp := *m
			by[name] = &cp
			continue
		}
		d.Created = m.Created
		if m.FirstEvent != 0 && (d.FirstEvent == 0 || m.FirstEvent < d.FirstEvent) {
			d.FirstEvent = m.FirstEvent
		}
		d.LastEvent = max(d.LastEvent, m.LastEvent)
		d.LastIngestion = max(d.LastIngestion, m.LastIngestion)
	}
	s.mu.Unlock()
	out := make([]streamMeta, 0, len(by))
	for _, m := range by {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

type describeLogStreamsIn struct {
	groupNameIn
	LogStreamNamePrefix string `json:"logStreamNamePrefix"`
	OrderBy             string `json:"orderBy"`
	Descending          bool   `json:"descending"`
	NextToken           string `json:"nextToken"`
	Limit               *int   `json:"limit"`
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp int64  `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  int64  `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   int64  `json:"lastIngestionTime,omitempty"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

func (s *Server) describeLogStreams(c *call) (any, error) {
	var in describeLogStreamsIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.LogGroupName != "" && in.LogGroupIdentifier != "" {
		return nil, invalid("give logGroupName or logGroupIdentifier, not both")
	}
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		if in.LogStreamNamePrefix != "" {
			return nil, invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
	default:
		return nil, invalid("orderBy %q: LogStreamName or LastEventTime", in.OrderBy)
	}
	limit, err := pageLimit(in.Limit, 50, 50, "limit")
	if err != nil {
		return nil, err
	}
	g, _, err := s.group(c.ctx, in.ident(), false)
	if err != nil {
		return nil, err
	}
	streams, err := s.streams(c.ctx, g)
	if err != nil {
		return nil, err
	}
	key := func(m streamMeta) string { return m.Name }
	if in.OrderBy == "LastEventTime" {
		// fixed-width time then the name: one text key orders both
		key = func(m streamMeta) string { return fmt.Sprintf("%020d/%s", m.LastEvent, m.Name) }
	}
	sort.SliceStable(streams, func(i, j int) bool {
		if in.Descending {
			return key(streams[i]) > key(streams[j])
		}
		return key(streams[i]) < key(streams[j])
	})
	after := ""
	if in.NextToken != "" {
		if after, err = parseNameToken(in.NextToken); err != nil {
			return nil, err
		}
	}
	out := struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{LogStreams: []logStreamOut{}}
	var lastKey string
	for _, m := range streams {
		k := key(m)
		if in.NextToken != "" && ((!in.Descending && k <= after) || (in.Descending && k >= after)) {
			continue
		}
		if !strings.HasPrefix(m.Name, in.LogStreamNamePrefix) {
			continue
		}
		if len(out.LogStreams) == limit {
			out.NextToken = nameToken(lastKey)
			break
		}
		lastKey = k
		out.LogStreams = append(out.LogStreams, logStreamOut{LogStreamName: m.Name, CreationTime: m.Created,
			FirstEventTimestamp: m.FirstEvent, LastEventTimestamp: m.LastEvent, LastIngestionTime: m.LastIngestion,
			Arn: s.groupARN(c.region, g.Name) + ":log-stream:" + m.Name})
	}
	return out, nil
}

type retentionIn struct {
	groupNameIn
	RetentionInDays int `json:"retentionInDays"`
}

func (s *Server) putRetentionPolicy(c *call) (any, error) {
	var in retentionIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !retentionDays[in.RetentionInDays] {
		return nil, invalid("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]", in.RetentionInDays)
	}
	return s.setRetention(c, in.ident(), in.RetentionInDays)
}

func (s *Server) deleteRetentionPolicy(c *call) (any, error) {
	var in groupNameIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return s.setRetention(c, in.ident(), 0)
}

// setRetention records the retention on the dataset, where the server's
// hourly retention job applies it.
func (s *Server) setRetention(c *call, ident string, days int) (any, error) {
	g, _, err := s.group(c.ctx, ident, true)
	if err != nil {
		return nil, err
	}
	s.deps.WriteMu.Lock()
	err = s.deps.Store.SetRetention(c.ctx, g.Dataset, time.Duration(days)*24*time.Hour)
	s.deps.WriteMu.Unlock()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g.RetentionDays = days
	return empty{}, s.state.save()
}
