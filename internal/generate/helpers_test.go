package generate

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/flowlog"
)

// row is one decoded record, with the fields tests look at.
type row struct {
	file                            string
	line                            string // the record re-rendered in its format
	iface, src, dst, pktSrc, pktDst string
	sport, dport, proto             int64
	packets, bytes, start, end      int64
	action, status, dir             string
	hasPkt                          bool
}

// testConfig is a small, fast configuration.
func testConfig(t testing.TB) Config {
	c := DefaultConfig()
	c.Out = t.TempDir()
	c.Records = 60_000
	c.Hours = 6
	c.ENIs, c.Peers = 80, 2000
	c.Scenarios = StandardScenarios()
	return c
}

func mustRun(t testing.TB, c Config) Summary {
	t.Helper()
	s, err := Run(context.Background(), c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return s
}

// outputFiles lists the data files a run wrote (not inventory, truth).
func outputFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if !d.IsDir() && (strings.HasSuffix(name, ".log.gz") || strings.HasSuffix(name, ".log.parquet") || strings.HasSuffix(name, "-all.json")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// decodeAll decodes every file with the project's decoder and fails on any reject.
func decodeAll(t testing.TB, files []string, format *flowlog.Format) []row {
	t.Helper()
	var rows []row
	for _, f := range files {
		st, err := decode.ReadFile(context.Background(), f, decode.Options{
			Format: format,
			OnReject: func(e *decode.LineError) {
				t.Errorf("rejected: %v", e)
			},
		}, func(b *flowlog.Batch) error {
			rows = appendRows(rows, b, f)
			return nil
		})
		if err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		if st.Rejected != 0 {
			t.Fatalf("decode %s: %d rejected lines", f, st.Rejected)
		}
	}
	return rows
}

func decodeBytes(t testing.TB, data []byte, format *flowlog.Format) []row {
	t.Helper()
	var rows []row
	st, err := decode.Read(context.Background(), bytes.NewReader(data), decode.Options{Format: format,
		OnReject: func(e *decode.LineError) { t.Errorf("rejected: %v", e) }},
		func(b *flowlog.Batch) error { rows = appendRows(rows, b, "<stdout>"); return nil })
	if err != nil || st.Rejected != 0 {
		t.Fatalf("decode: %v (%d rejected)", err, st.Rejected)
	}
	return rows
}

func appendRows(rows []row, b *flowlog.Batch, file string) []row {
	str := func(id flowlog.FieldID, i int) string {
		if c := b.Col(id); c != nil && c.Valid[i] {
			return string(c.Bytes(i))
		}
		return ""
	}
	num := func(id flowlog.FieldID, i int) int64 {
		if c := b.Col(id); c != nil && c.Valid[i] {
			return c.Ints[i]
		}
		return -1
	}
	for i := 0; i < b.N; i++ {
		rows = append(rows, row{
			file: file, line: string(b.AppendLine(nil, i)),
			iface: str(flowlog.InterfaceID, i), src: str(flowlog.SrcAddr, i), dst: str(flowlog.DstAddr, i),
			pktSrc: str(flowlog.PktSrcAddr, i), pktDst: str(flowlog.PktDstAddr, i), hasPkt: b.Col(flowlog.PktSrcAddr) != nil,
			sport: num(flowlog.SrcPort, i), dport: num(flowlog.DstPort, i), proto: num(flowlog.Protocol, i),
			packets: num(flowlog.Packets, i), bytes: num(flowlog.Bytes, i), start: num(flowlog.Start, i), end: num(flowlog.End, i),
			action: str(flowlog.Action, i), status: str(flowlog.LogStatus, i), dir: str(flowlog.FlowDirection, i),
		})
	}
	return rows
}

// readTree returns every file under dir with its content.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func unix(t time.Time) int64 { return t.Unix() }
