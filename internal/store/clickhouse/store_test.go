package clickhouse

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/insights/sqlgen"
	"github.com/flowlens/flowlens/internal/store/clickhouse/chtest"
	"github.com/flowlens/flowlens/internal/store/storetest"
)

func openTest(t *testing.T, srv *chtest.Server, db string) *Store {
	t.Helper()
	sep := "?"
	if strings.Contains(db, "?") {
		sep = "&"
	}
	s, err := Open(t.Context(), Config{DSN: srv.DSN(db) + sep + "read_timeout=120s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestQueryCorpus runs the scripted Logs Insights corpus against a real
// ClickHouse server: the answers must be those computed in Go, which the
// DuckDB store gives too. The cases of testdata/corpus-known-failures.txt
// need what Debian's ClickHouse (18.16) lacks.
func TestQueryCorpus(t *testing.T) {
	srv := chtest.Start(t)
	s := openTest(t, srv, "corpus")
	storetest.RunCorpusDialect(t, s, sqlgen.ClickHouse{}, knownFailures(t, "testdata/corpus-known-failures.txt"))
}

// knownFailures reads a list of names, each followed by why ('#' starts
// a comment).
func knownFailures(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, why, _ := strings.Cut(line, " ")
		out[name] = strings.TrimSpace(why)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
