package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var flags = []string{"data", "store", "listen", "query-timeout", "follow-interval", "smtp-server", "alarm-grace"}

func TestParseGood(t *testing.T) {
	text := `# a server
data: /var/lib/flowlens
listen: 0.0.0.0:8443
query-timeout: 2m
alarm-grace: 3m
store: flows
follow:
  - s3://plain/AWSLogs/
  - nat=s3://other/nat/
  - url: s3://vpc/hive/
    dataset: pq
    interval: 30s
    lookback: 2h
clusters:
  flows:
    shards: [ch1:9000, "ch2:9001"]
    options: dial_timeout=10s
  one:
    shards:
      - 127.0.0.1:9000
    database: fl
`
	f, err := Parse("serve.yaml", []byte(text), flags)
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{
		{"data", "/var/lib/flowlens", 2}, {"listen", "0.0.0.0:8443", 3}, {"query-timeout", "2m", 4},
		{"alarm-grace", "3m", 5}, {"store", "flows", 6},
	}
	if !reflect.DeepEqual(f.Settings, want) {
		t.Errorf("settings %+v", f.Settings)
	}
	wantF := []Follow{
		{URL: "s3://plain/AWSLogs/", Line: 8},
		{URL: "s3://other/nat/", Dataset: "nat", Line: 9},
		{URL: "s3://vpc/hive/", Dataset: "pq", Interval: 30 * time.Second, Lookback: 2 * time.Hour, Line: 10},
	}
	if !reflect.DeepEqual(f.Follow, wantF) {
		t.Errorf("follow %+v", f.Follow)
	}
	if got := f.Cluster("flows").DSN(); got != "clickhouse://ch1:9000/flowlens?cluster=flows&dial_timeout=10s" {
		t.Errorf("DSN %s", got)
	}
	if got := f.Cluster("one").DSN(); got != "clickhouse://127.0.0.1:9000/fl?cluster=one" {
		t.Errorf("DSN %s", got)
	}
	if f.Cluster("none") != nil || !reflect.DeepEqual(f.ClusterNames(), []string{"flows", "one"}) {
		t.Errorf("clusters %v", f.ClusterNames())
	}
	wantXML := `<remote_servers>
  <flows>
    <shard><replica><host>ch1</host><port>9000</port></replica></shard>
    <shard><replica><host>ch2</host><port>9001</port></replica></shard>
  </flows>
</remote_servers>`
	if got := f.Cluster("flows").RemoteServers(); got != wantXML {
		t.Errorf("remote servers:\n%s", got)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, text := range []string{"", "# nothing\n", "---\n"} {
		f, err := Parse("e.yaml", []byte(text), flags)
		if err != nil || len(f.Settings) != 0 || f.Follow != nil || len(f.Clusters) != 0 {
			t.Errorf("%q: %+v, %v", text, f, err)
		}
	}
}

func TestParseBad(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"listen: a\nlistne: b\n", `s.yaml:2: unknown key "listne" (did you mean "listen"?)`},
		{"listen: a\nbogus: 1\n", `s.yaml:2: unknown key "bogus" (the keys are serve's flags, without the dashes before them, and follow, clusters)`},
		{"listen: a\n\nlisten: b\n", `s.yaml:3: key "listen" is given twice (first at line 1)`},
		{"listen: [a, b]\n", `s.yaml:1: listen: a single value, not a list`},
		{"listen:\n", `s.yaml:1: listen: no value (write listen: "" for an empty one)`},
		{"listen: a\n  data: b\n", `s.yaml:2: not valid YAML: mapping values are not allowed in this context`},
		{"- a\n- b\n", `s.yaml:1: the file must be a mapping of keys (listen: 127.0.0.1:8080, …), not a list`},
		{"follow: s3://a/\n", `s.yaml:1: follow: a list of prefixes (- s3://bucket/prefix/, or - url: s3://… with dataset, interval, lookback), not the value "s3://a/"`},
		{"follow:\n  - url: s3://a/\n    intervl: 1m\n", `s.yaml:3: unknown key "follow[0].intervl" (did you mean "interval"?)`},
		{"follow:\n  - url: s3://a/\n    interval: soon\n", `s.yaml:3: follow[0].interval "soon": a positive duration (30s, 5m, 2h)`},
		{"follow:\n  - url: s3://a/\n    interval: 10ms\n", `s.yaml:2: follow[0]: interval 10ms: at least 1s`},
		{"follow:\n  - /local/dir\n", `s.yaml:2: follow[0]: url "/local/dir": give s3://bucket/prefix/`},
		{"follow:\n  - dataset: x\n", `s.yaml:2: follow[0]: url "": give s3://bucket/prefix/`},
		{"clusters:\n  flows:\n    shards: [ch1]\n", `s.yaml:3: clusters.flows.shards: "ch1" is not host:port (ch1:9000)`},
		{"clusters:\n  flows:\n    shards: [a:1, a:1]\n", `s.yaml:3: clusters.flows.shards: a:1 is listed twice`},
		{"clusters:\n  flows:\n    database: x\n", `s.yaml:2: clusters.flows: no shards (shards: [ch1:9000, ch2:9000])`},
		{"clusters:\n  flows:\n    shard: [a:1]\n", `s.yaml:3: unknown key "clusters.flows.shard" (did you mean "shards"?)`},
		{"clusters:\n  \"a b\":\n    shards: [a:1]\n", `s.yaml:2: clusters.a b: a cluster name is letters, digits, _ . - (as in <remote_servers>)`},
		{"clusters: [a]\n", `s.yaml:1: clusters: a mapping of cluster names (flows: {shards: [ch1:9000, ch2:9000]}), not a list`},
	} {
		_, err := Parse("s.yaml", []byte(c.text), flags)
		var ce *Error
		if !errors.As(err, &ce) || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.text, err, c.want)
		}
	}
}

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(p, []byte("data: d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p, flags)
	if err != nil || f.Path != p || len(f.Settings) != 1 {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := Load(p+".missing", flags); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := f.Errorf(7, "bad %s", "thing"); err.Error() != p+":7: bad thing" {
		t.Errorf("Errorf: %v", err)
	}
}
