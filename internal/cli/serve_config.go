package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/flowlens/flowlens/internal/bucket"
	"github.com/flowlens/flowlens/internal/config"
	"github.com/flowlens/flowlens/internal/s3"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

const serveConfigHelp = `
The configuration file (--config FILE, YAML) takes serve's flags as keys, with
the same names (no dashes before them) and values; a flag given on the command
line wins over the file, and the file over $FLOWLENS_DATA / $FLOWLENS_STORE.
Two keys are the file's own: follow, a list of S3 prefixes (each a --follow
value, or url with dataset, interval and lookback of its own; a --follow on the
command line replaces the list), and clusters, ClickHouse clusters by name
(their shards, one host:port each, the first the coordinator; database;
clickhouse-go options): store: NAME keeps the records on that cluster, and a
store URL with ?cluster=NAME is checked against the shards the ClickHouse
servers list. An unknown key, a key given twice or a bad value is an error
naming the file and line (docs/server-config.md).

  # flowlens serve --config /etc/flowlens/serve.yaml
  data: /var/lib/flowlens
  listen: 0.0.0.0:8443
  tls-cert: /etc/flowlens/cert.pem
  tls-key: /etc/flowlens/key.pem
  store: flows                     # the cluster below; or clickhouse://host:9000/db
  query-timeout: 2m
  max-concurrent: 16
  alarm-grace: 5m
  smtp-server: smtp.example.com:587
  smtp-from: flowlens@example.com
  follow-interval: 1m
  follow:
    - s3://vpc-flow-logs/AWSLogs/               # into follow-dataset (default)
    - url: s3://other-bucket/nat/
      dataset: nat-gw
      interval: 5m
      lookback: 3h
  clusters:
    flows:
      shards: [ch1:9000, ch2:9000, ch3:9000]
      database: flowlens
      options: dial_timeout=10s
`

// serveConfig is what --config gave serve: the file and which settings
// came from it (for errors that name their line).
type serveConfig struct {
	file *config.File
	// fromFile are the settings the file set (not overridden by a flag).
	fromFile []config.Setting
	// cluster is the file's cluster the store is on (nil: none).
	cluster *config.Cluster
}

// loadServeConfig reads the --config file and sets every flag of fs the
// command line did not set to the file's value. It returns nil when path
// is empty.
func loadServeConfig(fs *flag.FlagSet, path string) (*serveConfig, error) {
	if path == "" {
		return nil, nil
	}
	onCmdLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCmdLine[f.Name] = true })
	var keys []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "config" && f.Name != config.KeyFollow {
			keys = append(keys, f.Name)
		}
	})
	file, err := config.Load(path, keys)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return nil, usageError("%v", err)
		}
		return nil, err
	}
	sc := &serveConfig{file: file}
	for _, s := range file.Settings {
		if onCmdLine[s.Key] {
			continue
		}
		if err := fs.Set(s.Key, s.Value); err != nil {
			return nil, usageError("%v", file.Errorf(s.Line, "%s %q: %v", s.Key, s.Value, err))
		}
		sc.fromFile = append(sc.fromFile, s)
	}
	return sc, nil
}

// at adds to a usage error about a flag the file set where the file set
// it.
func (sc *serveConfig) at(err error) error {
	if sc == nil || err == nil || !errors.Is(err, errUsage) {
		return err
	}
	for _, s := range sc.fromFile {
		if strings.Contains(err.Error(), "--"+s.Key) {
			return fmt.Errorf("%w (%s:%d)", err, sc.file.Path, s.Line)
		}
	}
	return err
}

// follows are the file's followed prefixes, unless the command line gave
// --follow (then none: the command line replaces the list).
func (sc *serveConfig) follows(ff *followFlags) ([]bucket.Prefix, error) {
	if sc == nil || len(ff.urls) > 0 {
		return nil, nil
	}
	var out []bucket.Prefix
	for _, f := range sc.file.Follow {
		ds := f.Dataset
		if ds == "" {
			ds = ff.dataset
		}
		if err := duckdb.ValidDatasetName(ds); err != nil {
			return nil, usageError("%v", sc.file.Errorf(f.Line, "follow: %v", err))
		}
		u, err := s3.ParseURL(f.URL)
		if err != nil {
			return nil, usageError("%v", sc.file.Errorf(f.Line, "follow: %v", err))
		}
		out = append(out, bucket.Prefix{URL: u, Dataset: ds, Interval: f.Interval, Lookback: f.Lookback})
	}
	return out, nil
}

// resolveStore turns a --store that names a cluster of the file into its
// URL, and notes the file's cluster a ClickHouse URL's ?cluster= names.
func (sc *serveConfig) resolveStore(storeURL string) (string, error) {
	if sc == nil || storeURL == "" {
		return storeURL, nil
	}
	if c := sc.file.Cluster(storeURL); c != nil {
		sc.cluster = c
		return c.DSN(), nil
	}
	if !strings.Contains(storeURL, "://") {
		names := sc.file.ClusterNames()
		if len(names) == 0 {
			return "", sc.at(usageError("--store %q: not a clickhouse:// URL, and %s defines no clusters", storeURL, sc.file.Path))
		}
		return "", sc.at(usageError("--store %q: not a clickhouse:// URL nor a cluster of %s (%s)", storeURL, sc.file.Path, strings.Join(names, ", ")))
	}
	if u, err := url.Parse(storeURL); err == nil {
		sc.cluster = sc.file.Cluster(u.Query().Get("cluster"))
	}
	return storeURL, nil
}

// storeAlias is the name the --store value gave the store when it named a
// cluster of the file ("": none).
func (sc *serveConfig) storeAlias(original string) string {
	if sc == nil || sc.cluster == nil || original != sc.cluster.Name {
		return ""
	}
	return original
}

// openError explains, after an error opening a store on a cluster of the
// file, what the ClickHouse servers need.
func (sc *serveConfig) openError(err error) error {
	if sc == nil || sc.cluster == nil {
		return err
	}
	c := sc.cluster
	return fmt.Errorf("%w\nIf the ClickHouse servers do not know cluster %s (%s:%d) yet, each one's configuration needs:\n%s",
		err, c.Name, sc.file.Path, c.Line, c.RemoteServers())
}

// checkCluster compares the shards of the file's cluster with those the
// ClickHouse server the store is connected to lists for it (the first
// replica of each shard, by host name or address).
func (sc *serveConfig) checkCluster(ctx context.Context, st store.Querier) error {
	if sc == nil || sc.cluster == nil {
		return nil
	}
	c := sc.cluster
	res, err := st.Query(ctx, "SELECT toString(shard_num), host_name, host_address, toString(port) FROM system.clusters WHERE cluster = "+
		quoteSQL(c.Name)+" ORDER BY shard_num, replica_num")
	if err != nil {
		return fmt.Errorf("read the shards of cluster %s: %w", c.Name, err)
	}
	var listed []string
	matched := map[string]bool{}
	lastShard := ""
	for _, row := range res.Rows {
		shard, name, addr, port := fmt.Sprint(row[0]), fmt.Sprint(row[1]), fmt.Sprint(row[2]), fmt.Sprint(row[3])
		if shard == lastShard {
			continue // another replica of the shard
		}
		lastShard = shard
		byName, byAddr := net.JoinHostPort(name, port), net.JoinHostPort(addr, port)
		listed = append(listed, byName)
		switch {
		case slices.Contains(c.Shards, byName):
			matched[byName] = true
		case slices.Contains(c.Shards, byAddr):
			matched[byAddr] = true
		}
	}
	if len(listed) == len(c.Shards) && len(matched) == len(c.Shards) {
		return nil
	}
	return fmt.Errorf("cluster %s: %s:%d lists the shards %s, the ClickHouse server lists %s in its <remote_servers>: make them the same "+
		"(the servers' configuration for these shards:\n%s)", c.Name, sc.file.Path, c.Line, strings.Join(c.Shards, ", "),
		strings.Join(listed, ", "), c.RemoteServers())
}
