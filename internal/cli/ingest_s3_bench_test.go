package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchRun runs the CLI in-process and fails the benchmark on a non-zero
// exit.
func benchRun(b *testing.B, args ...string) string {
	b.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(&errb, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if code := Main(b.Context(), args, env); code != 0 {
		b.Fatalf("flowlens %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// benchLogs returns the folder of day-20m's layout scaled to records: the
// folder FLOWLENS_BENCH_LOGS names when set (the output of 'flowlens
// generate --preset day-20m --records N', read only; hidden files such as
// a completion marker are left out), else one generated for the benchmark.
func benchLogs(b *testing.B, records string) string {
	b.Helper()
	if dir := os.Getenv("FLOWLENS_BENCH_LOGS"); dir != "" {
		return dir
	}
	logs := b.TempDir()
	benchRun(b, "generate", "--preset", "day-20m", "--records", records, "--out", logs, "--inventory", "-", "--quiet")
	return logs
}

// BenchmarkIngestS3 measures flowlens ingest s3:// of day-20m's layout
// (288 five-minute .log.gz objects; FLOWLENS_BENCH_RECORDS records, default
// 2 M) from an S3-protocol server (gofakes3, in this process) through
// aws-sdk-go-v2, against the ingest of the same files from disk in the
// same run (FLOWLENS_BENCH_LOGS: an existing folder of those files):
//
//	go test -tags duckdb_arrow,isal -run '^$' -bench IngestS3 -benchtime 1x ./internal/cli
func BenchmarkIngestS3(b *testing.B) {
	records := os.Getenv("FLOWLENS_BENCH_RECORDS")
	if records == "" {
		records = "2000000"
	}
	logs := benchLogs(b, records)
	srv := startS3(b)
	srv.bucket(b, "vpc-flow-logs")
	var n int
	err := filepath.WalkDir(logs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(logs, p)
		srv.put(b, "vpc-flow-logs", filepath.ToSlash(rel), body)
		n++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d objects", n)
	for b.Loop() {
		b.StopTimer()
		files, s3data := b.TempDir(), b.TempDir()
		began := time.Now()
		benchRun(b, "ingest", "--data", files, logs)
		fileSecs := time.Since(began).Seconds()
		b.StartTimer()
		began = time.Now()
		out := benchRun(b, "ingest", "--data", s3data, "s3://vpc-flow-logs/")
		s3Secs := time.Since(began).Seconds()
		if !strings.Contains(out, " "+records+" records") {
			b.Fatalf("S3 ingest:\n%s", out)
		}
		var recs float64
		for _, c := range records {
			recs = recs*10 + float64(c-'0')
		}
		b.ReportMetric(recs/s3Secs, "s3-records/s")
		b.ReportMetric(recs/fileSecs, "file-records/s")
		b.ReportMetric(fileSecs/s3Secs, "s3/file-speed")
	}
}

// BenchmarkFollowS3 measures how fast flowlens serve --follow catches up
// on the same bucket as BenchmarkIngestS3 (first listing included), in
// records/s, beside flowlens ingest s3:// in the same run:
//
//	go test -tags duckdb_arrow,isal -run '^$' -bench FollowS3 -benchtime 1x ./internal/cli
func BenchmarkFollowS3(b *testing.B) {
	records := os.Getenv("FLOWLENS_BENCH_RECORDS")
	if records == "" {
		records = "2000000"
	}
	var want int64
	for _, c := range records {
		want = want*10 + int64(c-'0')
	}
	logs := benchLogs(b, records)
	srv := startS3(b)
	srv.bucket(b, "vpc-flow-logs")
	err := filepath.WalkDir(logs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(logs, p)
		srv.put(b, "vpc-flow-logs", filepath.ToSlash(rel), body)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		cliData := b.TempDir()
		began := time.Now()
		benchRun(b, "ingest", "--data", cliData, "s3://vpc-flow-logs/")
		cliSecs := time.Since(began).Seconds()
		data := b.TempDir()
		token := strings.TrimSpace(benchRun(b, "tokens", "create", "--data", data, "--name", "bench"))
		b.StartTimer()
		began = time.Now()
		ctx, cancel := context.WithCancel(b.Context())
		env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
		done := make(chan error, 1)
		go func() {
			done <- runServe(ctx, env, []string{"--data", data, "--listen", "127.0.0.1:0", "--follow", "s3://vpc-flow-logs/", "--follow-interval", "1s"})
		}()
		for {
			var recs float64
			if info, err := readServeInfo(data); err == nil && info.URL != "" {
				if st := followStatsB(info.URL, token); len(st) == 1 {
					recs, _ = st[0]["records"].(float64)
				}
			}
			if int64(recs) == want {
				break
			}
			select {
			case err := <-done:
				b.Fatalf("serve ended: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
		}
		followSecs := time.Since(began).Seconds()
		b.StopTimer()
		cancel()
		<-done
		b.ReportMetric(float64(want)/followSecs, "follow-records/s")
		b.ReportMetric(float64(want)/cliSecs, "ingest-records/s")
		b.StartTimer()
	}
}

func followStatsB(url, token string) []map[string]any {
	req, _ := http.NewRequest("GET", url+"/api/v1/ingest/s3", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var st struct {
		Data struct {
			Prefixes []map[string]any `json:"prefixes"`
		}
	}
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return nil
	}
	return st.Data.Prefixes
}
