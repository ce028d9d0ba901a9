// Package config reads the configuration file of flowlens serve
// (--config FILE): YAML whose keys are serve's flags, with the same names
// and the same values as on the command line, plus two keys of their own:
// follow (the followed S3 prefixes, each with its dataset, interval and
// lookback) and clusters (named ClickHouse clusters and their shards, for
// a --store that names one).
//
// Reading is strict: an unknown key, a duplicate key, or a value of the
// wrong shape is an error that names the file and the line (*Error). The
// package knows no flag: the caller passes the names it accepts and
// applies the values (Settings) the way it applies command-line flags.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flowlens/flowlens/internal/textdist"
)

// Reserved keys: the file's own, besides the flag names.
const (
	KeyFollow   = "follow"
	KeyClusters = "clusters"
)

// File is a parsed configuration file.
type File struct {
	// Path names the file in errors.
	Path string
	// Settings are the keys named like a flag, in the file's order, with
	// their value as the text a flag takes.
	Settings []Setting
	// Follow are the followed prefixes of the follow key (nil when the
	// file has none).
	Follow []Follow
	// Clusters are the ClickHouse clusters of the clusters key, by name.
	Clusters map[string]*Cluster
}

// Setting is a key named like a flag.
type Setting struct {
	Key, Value string
	Line       int
}

// Follow is one entry of the follow list: an S3 prefix and the dataset
// it feeds, with its own listing interval and lookback (0: the server's).
type Follow struct {
	// URL is s3://bucket/prefix/.
	URL string
	// Dataset is the target dataset ("": the server's --follow-dataset).
	Dataset            string
	Interval, Lookback time.Duration
	Line               int
}

// Cluster is a ClickHouse cluster: the shards of its <remote_servers>
// entry in the ClickHouse servers' configuration, one address per shard.
type Cluster struct {
	Name string
	// Shards are host:port of the native protocol, one per shard; the
	// first is the coordinator a store naming the cluster connects to.
	Shards []string
	// Database is the database of the records ("" → "flowlens").
	Database string
	// Options are clickhouse-go DSN options added to the URL
	// ("username=flowlens&dial_timeout=10s").
	Options string
	Line    int
}

// DefaultDatabase is the database of a cluster without one.
const DefaultDatabase = "flowlens"

// DSN is the store URL of the cluster: the coordinator (the first shard),
// the database, ?cluster=NAME and the options.
func (c *Cluster) DSN() string {
	db := c.Database
	if db == "" {
		db = DefaultDatabase
	}
	dsn := "clickhouse://" + c.Shards[0] + "/" + db + "?cluster=" + url.QueryEscape(c.Name)
	if c.Options != "" {
		dsn += "&" + c.Options
	}
	return dsn
}

// RemoteServers is the <remote_servers> entry the ClickHouse servers need
// for the cluster, as XML.
func (c *Cluster) RemoteServers() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<remote_servers>\n  <%s>\n", c.Name)
	for _, s := range c.Shards {
		host, port, _ := net.SplitHostPort(s)
		fmt.Fprintf(&b, "    <shard><replica><host>%s</host><port>%s</port></replica></shard>\n", host, port)
	}
	fmt.Fprintf(&b, "  </%s>\n</remote_servers>", c.Name)
	return b.String()
}

// Error is a problem of a configuration file, at a line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Errorf returns an error of the file at line (0: the whole file).
func (f *File) Errorf(line int, format string, args ...any) error {
	return &Error{File: f.Path, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Load reads the file at path; keys are the flag names it accepts.
func Load(path string, keys []string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the configuration: %w", err)
	}
	return Parse(path, b, keys)
}

// Parse parses the text of a configuration file; name names it in errors
// and keys are the flag names it accepts.
func Parse(name string, text []byte, keys []string) (*File, error) {
	f := &File{Path: name, Clusters: map[string]*Cluster{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, f.yamlError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil // an empty file
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, f.Errorf(root.Line, "the file must be a mapping of keys (listen: 127.0.0.1:8080, …), not %s", kindName(root))
	}
	known := append([]string{KeyFollow, KeyClusters}, keys...)
	err := eachKey(f, root, "", known, func(k string, kn, v *yaml.Node) error {
		switch k {
		case KeyFollow:
			return f.parseFollow(v)
		case KeyClusters:
			return f.parseClusters(v)
		}
		s, err := scalar(f, k, v)
		if err != nil {
			return err
		}
		f.Settings = append(f.Settings, Setting{Key: k, Value: s, Line: kn.Line})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Cluster returns the cluster name names (nil: none).
func (f *File) Cluster(name string) *Cluster {
	if f == nil {
		return nil
	}
	return f.Clusters[name]
}

// ClusterNames are the names of the clusters, sorted.
func (f *File) ClusterNames() []string {
	var out []string
	for n := range f.Clusters {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (f *File) parseFollow(v *yaml.Node) error {
	if v.Kind != yaml.SequenceNode {
		return f.Errorf(v.Line, "follow: a list of prefixes (- s3://bucket/prefix/, or - url: s3://… with dataset, interval, lookback), not %s", kindName(v))
	}
	f.Follow = []Follow{}
	for i, it := range v.Content {
		fl := Follow{Line: it.Line}
		where := fmt.Sprintf("follow[%d]", i)
		switch it.Kind {
		case yaml.ScalarNode:
			fl.URL = it.Value
			if ds, u, ok := strings.Cut(it.Value, "=s3://"); ok && ds != "" {
				fl.Dataset, fl.URL = ds, "s3://"+u
			}
		case yaml.MappingNode:
			err := eachKey(f, it, where, []string{"url", "dataset", "interval", "lookback"}, func(k string, kn, v *yaml.Node) error {
				s, err := scalar(f, where+"."+k, v)
				if err != nil {
					return err
				}
				switch k {
				case "url":
					fl.URL = s
				case "dataset":
					fl.Dataset = s
				case "interval", "lookback":
					d, err := time.ParseDuration(s)
					if err != nil || d <= 0 {
						return f.Errorf(v.Line, "%s.%s %q: a positive duration (30s, 5m, 2h)", where, k, s)
					}
					if k == "interval" {
						fl.Interval = d
					} else {
						fl.Lookback = d
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		default:
			return f.Errorf(it.Line, "%s: an s3:// URL or a mapping with url, dataset, interval, lookback; not %s", where, kindName(it))
		}
		if !strings.HasPrefix(fl.URL, "s3://") {
			return f.Errorf(it.Line, "%s: url %q: give s3://bucket/prefix/", where, fl.URL)
		}
		if fl.Interval != 0 && fl.Interval < time.Second {
			return f.Errorf(it.Line, "%s: interval %s: at least 1s", where, fl.Interval)
		}
		f.Follow = append(f.Follow, fl)
	}
	return nil
}

var clusterName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

func (f *File) parseClusters(v *yaml.Node) error {
	if v.Kind != yaml.MappingNode {
		return f.Errorf(v.Line, "clusters: a mapping of cluster names (flows: {shards: [ch1:9000, ch2:9000]}), not %s", kindName(v))
	}
	return eachKey(f, v, "clusters", nil, func(name string, kn, cv *yaml.Node) error {
		where := "clusters." + name
		if !clusterName.MatchString(name) {
			return f.Errorf(kn.Line, "%s: a cluster name is letters, digits, _ . - (as in <remote_servers>)", where)
		}
		if cv.Kind != yaml.MappingNode {
			return f.Errorf(cv.Line, "%s: a mapping with shards (and database, options), not %s", where, kindName(cv))
		}
		c := &Cluster{Name: name, Line: kn.Line}
		err := eachKey(f, cv, where, []string{"shards", "database", "options"}, func(k string, kn, v *yaml.Node) error {
			if k == "shards" {
				if v.Kind != yaml.SequenceNode {
					return f.Errorf(v.Line, "%s.shards: a list of host:port (the native protocol, one per shard), not %s", where, kindName(v))
				}
				for _, s := range v.Content {
					a, err := scalar(f, where+".shards", s)
					if err != nil {
						return err
					}
					host, port, err := net.SplitHostPort(a)
					if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p <= 0 || p > 65535 {
						return f.Errorf(s.Line, "%s.shards: %q is not host:port (ch1:9000)", where, a)
					}
					if slices.Contains(c.Shards, a) {
						return f.Errorf(s.Line, "%s.shards: %s is listed twice", where, a)
					}
					c.Shards = append(c.Shards, a)
				}
				return nil
			}
			s, err := scalar(f, where+"."+k, v)
			if err != nil {
				return err
			}
			if k == "database" {
				c.Database = s
			} else {
				if _, err := url.ParseQuery(s); err != nil {
					return f.Errorf(v.Line, "%s.options: %v (give name=value&name=value)", where, err)
				}
				c.Options = s
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(c.Shards) == 0 {
			return f.Errorf(kn.Line, "%s: no shards (shards: [ch1:9000, ch2:9000])", where)
		}
		f.Clusters[name] = c
		return nil
	})
}

// eachKey calls fn for each key of the mapping m, in order, refusing
// duplicate keys and, when known is not nil, keys not in it.
func eachKey(f *File, m *yaml.Node, where string, known []string, fn func(k string, kn, v *yaml.Node) error) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn, v := m.Content[i], m.Content[i+1]
		k := kn.Value
		path := k
		if where != "" {
			path = where + "." + k
		}
		if kn.Kind != yaml.ScalarNode {
			return f.Errorf(kn.Line, "a key must be a name, not %s", kindName(kn))
		}
		if line, ok := seen[k]; ok {
			return f.Errorf(kn.Line, "key %q is given twice (first at line %d)", path, line)
		}
		seen[k] = kn.Line
		if known != nil && !slices.Contains(known, k) {
			msg := fmt.Sprintf("unknown key %q", path)
			if s := closest(k, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else if where != "" {
				msg += " (known here: " + strings.Join(known, ", ") + ")"
			} else {
				msg += " (the keys are serve's flags, without the dashes before them, and follow, clusters)"
			}
			return f.Errorf(kn.Line, "%s", msg)
		}
		if err := fn(k, kn, v); err != nil {
			return err
		}
	}
	return nil
}

// scalar returns the text of a value that must be a single value.
func scalar(f *File, key string, v *yaml.Node) (string, error) {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind != yaml.ScalarNode {
		return "", f.Errorf(v.Line, "%s: a single value, not %s", key, kindName(v))
	}
	if v.Tag == "!!null" {
		return "", f.Errorf(v.Line, "%s: no value (write %s: \"\" for an empty one)", key, key)
	}
	return v.Value, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "an alias"
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a yaml.v3 error into *Error with its line.
func (f *File) yamlError(err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return f.Errorf(line, "not valid YAML: %s", m[2])
	}
	return f.Errorf(0, "not valid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// closest is the known key nearest to k (at most 2 edits away), or "".
func closest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := textdist.Distance(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}
