package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// followStats reads GET /api/v1/ingest/s3.
func followStats(t *testing.T, url, token string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/api/v1/ingest/s3", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var st struct {
		Status string
		Data   struct {
			Prefixes []map[string]any `json:"prefixes"`
		}
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&st) != nil || st.Status != "ok" {
		return nil
	}
	return st.Data.Prefixes
}

// waitUntil polls cond until it holds or a minute has passed.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeFollowS3: flowlens serve --follow ingests a bucket's day (plain
// text keys and hive-compatible Parquet keys, two prefixes into two
// datasets), then the objects VPC delivers while it runs, each once; lag
// and counters are in the API and on /metrics; a restart resumes from the
// checkpoint and stores nothing twice; a forwarded 'flowlens ingest
// s3://' runs on the server with the client's AWS configuration.
func TestServeFollowS3(t *testing.T) {
	s3srv := startS3(t)
	s3srv.bucket(t, "vpc")
	day1 := []generated{generateDay(t, 3000, "2026-01-15", "s3", 11), generateDay(t, 3000, "2026-01-15", "parquet", 12, "--hive", "--per-hour")}
	day2 := []generated{generateDay(t, 2000, "2026-01-16", "s3", 13), generateDay(t, 2000, "2026-01-16", "parquet", 14, "--hive", "--per-hour")}
	prefixes := []string{"plain/", "hive/"}
	for i, g := range day1 {
		s3srv.upload(t, "vpc", prefixes[i], g)
	}
	data := t.TempDir()
	args := []string{"--follow", "s3://vpc/plain/", "--follow", "pq=s3://vpc/hive/", "--follow-interval", "1s"}
	srv := startServe(t, data, args...)
	count := func(ds string) int64 {
		return sqlCount(t, srv, "SELECT count(*) FROM flows WHERE dataset = '"+ds+"'")
	}
	waitUntil(t, "the first day", func() bool { return count("default") == 3000 && count("pq") == 3000 })

	// VPC delivers the next day while the server runs: the first round
	// that starts after the delivery makes it queryable. One object cannot
	// be read for a while: it is reported with its key and the reason,
	// then ingested by a later round.
	denied := "plain/" + day2[0].keys[len(day2[0].keys)-1]
	s3srv.mu.Lock()
	s3srv.deny[denied] = -1
	s3srv.mu.Unlock()
	for i, g := range day2 {
		s3srv.upload(t, "vpc", prefixes[i], g)
	}
	waitUntil(t, "the unreadable object reported", func() bool {
		st := followStats(t, srv.url, srv.token)
		if len(st) != 2 {
			return false
		}
		failed, _ := st[0]["failed"].([]any)
		if len(failed) != 1 {
			return false
		}
		f := failed[0].(map[string]any)
		return f["key"] == "s3://vpc/"+denied && strings.Contains(f["reason"].(string), "access denied") && f["rounds"].(float64) >= 1
	})
	s3srv.mu.Lock()
	delete(s3srv.deny, denied)
	s3srv.mu.Unlock()
	delivered := time.Now().UTC()
	waitUntil(t, "a round after the delivery", func() bool {
		st := followStats(t, srv.url, srv.token)
		for _, p := range st {
			if r, _ := time.Parse(time.RFC3339Nano, p["lastCompleteRound"].(string)); !r.After(delivered) {
				return false
			}
		}
		return len(st) == 2
	})
	if b := count("pq"); b != 5000 {
		t.Fatalf("one round after the delivery: %d records, want 5000", b)
	}
	waitUntil(t, "the object read again", func() bool {
		st := followStats(t, srv.url, srv.token)
		return count("default") == 5000 && len(st) == 2 && st[0]["records"] == float64(5000) && st[1]["records"] == float64(5000)
	})
	st := followStats(t, srv.url, srv.token)
	if len(st) != 2 {
		t.Fatalf("stats: %v", st)
	}
	for _, p := range st {
		newest, _ := time.Parse(time.RFC3339, p["newestObjectTime"].(string))
		if p["records"] != float64(5000) || p["pending"] != float64(0) || newest.Format("2006-01-02") != "2026-01-16" ||
			p["lagSeconds"].(float64) < time.Since(newest).Seconds()-60 {
			t.Errorf("stats: %s", jsonText(p))
		}
	}
	req, _ := http.NewRequest("GET", srv.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+srv.token)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`flowlens_s3_follow_lag_seconds{dataset="pq",url="s3://vpc/hive/"}`,
		`flowlens_s3_follow_records_total{dataset="default",url="s3://vpc/plain/"} 5000`,
		`flowlens_s3_follow_errors_total{dataset="default",kind="list",url="s3://vpc/plain/"} 0`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}

	// A forwarded ingest of the same objects stores nothing.
	out := mustStore(t, nil, "ingest", "--data", data, "--dataset", "pq", "s3://vpc/hive/")
	if !strings.Contains(out, "ingested 0 files") || !strings.Contains(out, "already ingested") {
		t.Errorf("forwarded ingest:\n%s", out)
	}

	// A restart resumes: nothing twice, the counters kept.
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	srv = startServe(t, data, args...)
	waitUntil(t, "a listing after the restart", func() bool {
		st := followStats(t, srv.url, srv.token)
		return len(st) == 2 && st[0]["lastList"] != "0001-01-01T00:00:00Z" && st[1]["lastList"] != "0001-01-01T00:00:00Z"
	})
	if a, b := count("default"), count("pq"); a != 5000 || b != 5000 {
		t.Errorf("after the restart: %d and %d records", a, b)
	}
	if st := followStats(t, srv.url, srv.token); st[0]["objects"] != float64(len(day1[0].keys)+len(day2[0].keys)) {
		t.Errorf("after the restart: %s", jsonText(st[0]))
	}
}

// TestServeFollowS3Kill9 kills flowlens serve with SIGKILL while it ingests
// a followed bucket: after a restart every record is stored exactly once.
func TestServeFollowS3Kill9(t *testing.T) {
	s3srv := startS3(t)
	s3srv.bucket(t, "vpc")
	var gens []generated
	for i, day := range []string{"2026-01-14", "2026-01-15", "2026-01-16"} {
		g := generateDay(t, 60000, day, "s3", 20+i)
		s3srv.upload(t, "vpc", "", g)
		gens = append(gens, g)
	}
	local := t.TempDir()
	for _, g := range gens {
		mustStore(t, nil, "ingest", "--data", local, g.dir)
	}
	data := t.TempDir()
	token := strings.TrimSpace(mustStore(t, nil, "tokens", "create", "--data", data, "--name", "follow"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestCWLServeHelper$")
	cmd.Env = append(os.Environ(), "FLOWLENS_CWL_HELPER="+data, "FLOWLENS_HELPER_ARGS=--follow s3://vpc/ --follow-interval 1s")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var url string
	waitUntil(t, "the helper serve", func() bool {
		info, err := readServeInfo(data)
		url = info.URL
		return err == nil && url != ""
	})
	var objects float64
	waitUntil(t, "the first objects", func() bool {
		st := followStats(t, url, token)
		if len(st) == 1 {
			objects = st[0]["objects"].(float64)
		}
		return objects > 0
	})
	_ = cmd.Process.Signal(os.Kill)
	_ = cmd.Wait()
	removeServeFiles(data)
	total := 0
	for _, g := range gens {
		total += len(g.keys)
	}
	t.Logf("killed after %v of %d objects", objects, total)

	srv := startServe(t, data, "--follow", "s3://vpc/", "--follow-interval", "1s")
	waitUntil(t, "the rest of the bucket", func() bool {
		st := followStats(t, srv.url, srv.token)
		return len(st) == 1 && st[0]["pending"] == float64(0) && st[0]["lastList"] != "0001-01-01T00:00:00Z" &&
			sqlCount(t, srv, "SELECT count(*) FROM flows") >= 180000
	})
	const q = "SELECT count(*), sum(bytes), sum(packets), count(DISTINCT (interface_id, srcaddr, dstaddr, srcport, dstport, start)) FROM flows"
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(sqlCSV(t, data, q))
	want := fmt.Sprint(sqlCSV(t, local, q))
	if got != want {
		t.Errorf("after kill -9 and restart: %s, want %s", got, want)
	}
}
