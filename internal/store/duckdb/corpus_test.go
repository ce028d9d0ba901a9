package duckdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/storetest"
)

// TestQueryCorpus runs the scripted Logs Insights corpus against the DuckDB store.
func TestQueryCorpus(t *testing.T) {
	s, err := Open(t.Context(), Config{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunCorpus(t, s)
}

// benchQuestions are Q1–Q7 of the standard benchmark: the Logs Insights
// text and the same question in hand-written SQL. %s is Q7's address.
var benchQuestions = []struct{ name, insights, sql string }{
	{"Q1", `stats sum(bytes) as b by srcaddr, dstaddr | sort b desc | limit 10`,
		`SELECT srcaddr, dstaddr, sum(bytes) AS b FROM flows GROUP BY srcaddr, dstaddr ORDER BY b DESC LIMIT 10`},
	{"Q2", `filter action = "REJECT" | stats count(*) as n by srcaddr | sort n desc | limit 20`,
		`SELECT srcaddr, count(*) AS n FROM flows WHERE action = 'REJECT' GROUP BY srcaddr ORDER BY n DESC LIMIT 20`},
	{"Q3", `stats sum(bytes) as b by bin(5m)`,
		`SELECT start - start % 300 AS t, sum(bytes) AS b FROM flows GROUP BY t`},
	{"Q4", `filter action = "REJECT" and dstport = 22 | stats count(*) as n by srcaddr | sort n desc | limit 20`,
		`SELECT srcaddr, count(*) AS n FROM flows WHERE action = 'REJECT' AND dstport = 22 GROUP BY srcaddr ORDER BY n DESC LIMIT 20`},
	{"Q5", `stats count_distinct(dstport) as p by srcaddr | filter p > 100`,
		`SELECT srcaddr, count(DISTINCT dstport) AS p FROM flows GROUP BY srcaddr HAVING p > 100`},
	{"Q6", `filter isIpv4InSubnet(srcaddr, "10.1.0.0/16") | stats sum(bytes) as b by dstaddr | sort b desc | limit 10`,
		`SELECT dstaddr, sum(bytes) AS b FROM flows WHERE _srcaddr_v4 BETWEEN 167837696 AND 167903231 GROUP BY dstaddr ORDER BY b DESC LIMIT 10`},
	{"Q7", `filter srcaddr = "%s" | fields @timestamp, srcaddr, dstaddr, srcport, dstport, bytes`,
		`SELECT start, srcaddr, dstaddr, srcport, dstport, bytes FROM flows WHERE srcaddr = '%s'`},
}

// BenchmarkInsightsVsSQL runs Q1–Q7 through the query engine and as
// hand-written SQL on the same open store. It needs a database:
// FLOWLENS_BENCH_DATA=<data dir> FLOWLENS_BENCH_ADDR=<Q7 address>.
func BenchmarkInsightsVsSQL(b *testing.B) {
	dir := os.Getenv("FLOWLENS_BENCH_DATA")
	if dir == "" {
		b.Skip("set FLOWLENS_BENCH_DATA to a flowlens data directory")
	}
	s, err := Open(b.Context(), Config{Dir: dir, ReadOnly: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	addr := os.Getenv("FLOWLENS_BENCH_ADDR")
	eng := query.New(query.DefaultConfig(), s, s)
	for _, q := range benchQuestions {
		iq, sq := q.insights, q.sql
		if strings.Contains(iq, "%s") {
			iq, sq = fmt.Sprintf(iq, addr), fmt.Sprintf(sq, addr)
		}
		b.Run(q.name+"/insights", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := eng.Run(b.Context(), query.Request{Query: iq}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(q.name+"/sql", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Query(b.Context(), sq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzQueryBackend: whatever a user writes, the database never rejects
// the SQL the compiler generated (a user mistake is the checker's to catch).
func FuzzQueryBackend(f *testing.F) {
	for _, c := range storetest.Cases() {
		f.Add(c.Query)
	}
	for _, q := range storetest.EdgeQueries {
		f.Add(q)
	}
	s, err := Open(f.Context(), Config{Dir: f.TempDir(), MemoryLimit: "512MB", Threads: 1}, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	if err := storetest.Load(f.Context(), s); err != nil {
		f.Fatal(err)
	}
	cfg := query.DefaultConfig()
	cfg.Timeout = 5 * time.Second
	eng := query.New(cfg, s, s)
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 1000 {
			return
		}
		req := query.Request{Query: q, Limit: 50, Start: storetest.Base.Add(time.Hour), End: storetest.Base.Add(3 * time.Hour)}
		_, _, err := eng.Run(t.Context(), req)
		if err == nil || errors.Is(err, syntax.ErrQuery) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		t.Fatalf("%q: %v", q, err)
	})
}

func TestEdgeQueries(t *testing.T) {
	s, err := Open(t.Context(), Config{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := storetest.Load(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	eng := query.New(query.DefaultConfig(), s, s)
	for _, q := range storetest.EdgeQueries {
		if _, _, err := eng.Run(t.Context(), query.Request{Query: q}); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// sealingStore seals every hour of the store before its first query, so
// that the corpus runs on the sealed tier.
type sealingStore struct {
	*Store
	once sync.Once
	t    *testing.T
}

func (s *sealingStore) seal() {
	s.once.Do(func() {
		st, err := s.Store.Seal(s.t.Context(), nil)
		if err != nil {
			s.t.Fatalf("seal: %v", err)
		}
		if st.Hours == 0 {
			s.t.Fatal("the corpus sealed no hour")
		}
	})
}

func (s *sealingStore) Query(ctx context.Context, q string, args ...any) (*store.Result, error) {
	s.seal()
	return s.Store.Query(ctx, q, args...)
}

func (s *sealingStore) Datasets(ctx context.Context) ([]store.Dataset, error) {
	s.seal()
	return s.Store.Datasets(ctx)
}

// TestQueryCorpusSealed runs the corpus with every hour in the sealed tier
// (Parquet files, address text computed from the integer columns), the
// hours of each day merged into a day file.
func TestQueryCorpusSealed(t *testing.T) {
	far := func() time.Time { return time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) }
	s, err := Open(t.Context(), Config{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2, Now: far, SealQuiet: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.pairsMin = 0 // Q5's shape reads the distinct-pairs rollup of the day files
	storetest.RunCorpus(t, &sealingStore{Store: s, t: t})
	if len(s.sealedNow()["records"]) == 0 {
		t.Error("no sealed hour after the corpus")
	}
	// The corpus's days are over: their hours share day files.
	if f, h := len(s.sealedNow().files("records")), len(s.sealedNow()["records"]); f >= h {
		t.Errorf("%d sealed files for %d hours: no day file", f, h)
	}
	if got := fmtRows(queryRows(t, s, `SELECT count(*) > 0 FROM rollup_pairs_files`)); got != "[[true]]" {
		t.Error("no day file in the distinct-pairs rollup")
	}
}
