package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate/flowrec"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

func TestKeyPath(t *testing.T) {
	k := Key{Account: "111122223333", Region: "eu-west-1", FlowLogID: "fl-0f1e2d3c4b5a69788",
		Time: time.Date(2024, 5, 31, 14, 5, 0, 0, time.UTC), Hash: "5d41ab12"}
	const name = "111122223333_vpcflowlogs_eu-west-1_fl-0f1e2d3c4b5a69788_20240531T1405Z_5d41ab12"
	cases := []struct {
		hive, hour, pq bool
		want           string
	}{
		{false, false, false, "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/31/" + name + ".log.gz"},
		{false, true, false, "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/31/14/" + name + ".log.gz"},
		{true, false, false, "AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/day=31/" + name + ".log.gz"},
		{true, true, true, "AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/day=31/hour=14/" + name + ".log.parquet"},
	}
	for _, tc := range cases {
		k.Hive, k.PerHour, k.Parquet = tc.hive, tc.hour, tc.pq
		if got := k.Path(); got != tc.want {
			t.Errorf("hive=%v hour=%v parquet=%v:\n got %s\nwant %s", tc.hive, tc.hour, tc.pq, got, tc.want)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a", "b", "f.log.gz")
	n, err := WriteFileAtomic(p, func(w io.Writer) error { _, err := io.WriteString(w, "hello"); return err })
	if err != nil || n != 5 {
		t.Fatalf("WriteFileAtomic: %d, %v", n, err)
	}
	if data, _ := os.ReadFile(p); string(data) != "hello" {
		t.Fatalf("content %q", data)
	}
	boom := errors.New("boom")
	q := filepath.Join(dir, "a", "b", "g.log.gz")
	if _, err := WriteFileAtomic(q, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("error not passed on: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("a failed write left files behind: %v", entries)
	}
}

func records(t testing.TB) []flowrec.Record {
	t.Helper()
	n, err := netmodel.Build(netmodel.DefaultSpec(), 5)
	if err != nil {
		t.Fatal(err)
	}
	var recs []flowrec.Record
	for i := 0; i < 50; i++ {
		e := n.ENIs[i%7]
		recs = append(recs, flowrec.Record{ENI: e, Src: e.IP, Dst: n.External[i], PktSrc: e.IP, PktDst: n.External[i],
			SrcPort: uint16(40000 + i), DstPort: 443, Proto: 6, Action: flowrec.ActionAccept, Dir: flowrec.DirEgress,
			Packets: int64(i + 1), Bytes: int64(100 * (i + 1)), Start: int64(1_700_000_100 + i), End: int64(1_700_000_120 + i), TCPFlags: 3, Encryption: -1})
	}
	recs = append(recs, flowrec.Record{ENI: n.ENIs[0], Status: flowrec.StatusNoData, Start: 1_700_000_000, End: 1_700_000_059, TCPFlags: -1, Encryption: -1})
	return recs
}

func TestCloudWatch(t *testing.T) {
	recs := records(t)
	enc := flowrec.NewEncoder(flowlog.DefaultFormat())
	dir := filepath.Join(t.TempDir(), "vpc-flow-logs")
	cw := NewCloudWatch(dir, enc)
	first := append([]flowrec.Record(nil), recs[:20]...)
	for i, j := 0, len(first)-1; i < j; i, j = i+1, j-1 {
		first[i], first[j] = first[j], first[i] // Add orders each stream by time
	}
	if err := cw.Add(first); err != nil {
		t.Fatal(err)
	}
	if err := cw.Add(recs[20:]); err != nil {
		t.Fatal(err)
	}
	n, err := cw.Close()
	if err != nil || n != 7 {
		t.Fatalf("Close: %d streams, %v", n, err)
	}
	total := 0
	for i := 0; i < 7; i++ {
		eni := recs[i].ENI.ID
		data, err := os.ReadFile(filepath.Join(dir, eni+"-all.json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Events []struct {
				Timestamp     int64  `json:"timestamp"`
				Message       string `json:"message"`
				IngestionTime int64  `json:"ingestionTime"`
			} `json:"events"`
			Next string `json:"nextForwardToken"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s is not get-log-events JSON: %v", eni, err)
		}
		for j, ev := range doc.Events {
			if !strings.Contains(ev.Message, " "+eni+" ") || strings.Contains(ev.Message, "\n") {
				t.Fatalf("event of another stream or with a newline: %q", ev.Message)
			}
			fields := strings.Fields(ev.Message)
			if ev.Timestamp != mustInt(t, fields[10])*1000 || ev.IngestionTime <= mustInt(t, fields[11])*1000 {
				t.Errorf("timestamps %d/%d for %q", ev.Timestamp, ev.IngestionTime, ev.Message)
			}
			if j > 0 && ev.Timestamp < doc.Events[j-1].Timestamp && !strings.HasSuffix(ev.Message, "NODATA") {
				t.Errorf("%s: events out of order at %d", eni, j)
			}
		}
		total += len(doc.Events)
	}
	if total != len(recs) {
		t.Errorf("%d events, want %d", total, len(recs))
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.partial")); len(matches) != 0 {
		t.Errorf("partial files left: %v", matches)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var v int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		v = v*10 + int64(c-'0')
	}
	return v
}

func TestParquet(t *testing.T) {
	f := flowlog.AllVPCFormat(5)
	schema := ParquetSchema(f)
	for i, col := range schema.Fields() {
		fl := f.Fields[i]
		if col.Name() != fl.Column || !col.Optional() {
			t.Fatalf("column %d is %s (optional %v), want optional %s", i, col.Name(), col.Optional(), fl.Column)
		}
		kind := col.Type().Kind().String()
		want := map[string]string{"INT32": "INT32", "INT64": "INT64", "STRING": "BYTE_ARRAY"}[fl.ParquetType]
		if kind != want {
			t.Errorf("%s is %s, want %s", fl.Column, kind, want)
		}
	}
	recs := records(t)
	var buf bytes.Buffer
	enc := flowrec.NewEncoder(f)
	if err := NewParquetWriter(enc, f).Write(&buf, recs); err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRows() != int64(len(recs)) {
		t.Fatalf("%d rows, want %d", pf.NumRows(), len(recs))
	}
	rows := make([]parquet.Row, len(recs))
	rr := parquet.NewReader(pf)
	n, _ := rr.ReadRows(rows)
	if n != len(recs) {
		t.Fatalf("read %d rows", n)
	}
	last := rows[len(recs)-1] // the NODATA record: bytes NULL, interface set
	if !last[f.Index(flowlog.Bytes)].IsNull() || last[f.Index(flowlog.InterfaceID)].IsNull() {
		t.Errorf("NODATA row %v", last)
	}
	if got := rows[3][f.Index(flowlog.Bytes)].Int64(); got != recs[3].Bytes {
		t.Errorf("bytes %d, want %d", got, recs[3].Bytes)
	}
	if got := rows[3][f.Index(flowlog.DstPort)].Int32(); got != 443 {
		t.Errorf("dstport %d", got)
	}
	if !bytes.Contains(buf.Bytes()[:4], []byte("PAR1")) {
		t.Error("no Parquet magic")
	}
}
