package cli

import (
	"bytes"
	"io/fs"
	"log/slog"
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

// BenchmarkIngestS3 measures flowlens ingest s3:// of day-20m's layout
// (288 five-minute .log.gz objects; FLOWLENS_BENCH_RECORDS records, default
// 2 M) from an S3-protocol server (gofakes3, in this process) through
// aws-sdk-go-v2, against the ingest of the same files from disk in the
// same run:
//
//	go test -tags duckdb_arrow,isal -run '^$' -bench IngestS3 -benchtime 1x ./internal/cli
func BenchmarkIngestS3(b *testing.B) {
	records := os.Getenv("FLOWLENS_BENCH_RECORDS")
	if records == "" {
		records = "2000000"
	}
	logs := b.TempDir()
	benchRun(b, "generate", "--preset", "day-20m", "--records", records, "--out", logs, "--inventory", "-", "--quiet")
	srv := startS3(b)
	srv.bucket(b, "vpc-flow-logs")
	var n int
	err := filepath.WalkDir(logs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
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
