package decode

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/decode/record"
	"github.com/flowlens/flowlens/internal/flowlog"
)

const header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

var goodLines = []string{
	"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT OK",
	"2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.23 10.20.1.15 443 49812 6 27 18655 1717171205 1717171262 ACCEPT OK",
	"2 111122223333 eni-0c9d8e7f6a5b4c3d2 - - - - - - - 1717171200 1717171500 - NODATA",
	"2 111122223333 eni-0a1b2c3d4e5f60718 2001:db8:4a10:1200::1f 2001:db8:ff00:42::8329 50344 22 6 48 9120 1717171400 1717171458 ACCEPT OK",
	"2 111122223333 eni-0c9d8e7f6a5b4c3d2 - - - - - - - 1717171800 1717172400 - SKIPDATA",
}

// result is everything one Read produced.
type result struct {
	lines   []string // emitted records as text, in order
	batches []*flowlog.Batch
	rejects []*LineError
	warns   []*LineError
	stats   Stats
	err     error
}

func (r *result) rejectText() []string {
	var out []string
	for _, e := range r.rejects {
		out = append(out, e.Error())
	}
	return out
}

func (r *result) warnText() []string {
	var out []string
	for _, e := range r.warns {
		out = append(out, e.Error())
	}
	return out
}

func read(t testing.TB, in []byte, opts Options) *result {
	t.Helper()
	return collect(t, opts, func(opts Options, emit func(*flowlog.Batch) error) (Stats, error) {
		return Read(t.Context(), bytes.NewReader(in), opts, emit)
	})
}

func readFile(t testing.TB, path string, opts Options) *result {
	t.Helper()
	if opts.Name == "" {
		opts.Name = path
	}
	return collect(t, opts, func(opts Options, emit func(*flowlog.Batch) error) (Stats, error) {
		return ReadFile(t.Context(), path, opts, emit)
	})
}

func collect(t testing.TB, opts Options, run func(Options, func(*flowlog.Batch) error) (Stats, error)) *result {
	t.Helper()
	r := &result{}
	if opts.Name == "" {
		opts.Name = "in"
	}
	opts.OnReject = func(e *LineError) { r.rejects = append(r.rejects, e) }
	opts.OnWarning = func(e *LineError) { r.warns = append(r.warns, e) }
	r.stats, r.err = run(opts, func(b *flowlog.Batch) error {
		if b.N == 0 {
			t.Errorf("empty batch emitted")
		}
		checkBatch(t, b)
		r.batches = append(r.batches, b)
		for i := 0; i < b.N; i++ {
			r.lines = append(r.lines, string(b.AppendLine(nil, i)))
		}
		return nil
	})
	if got := int64(len(r.lines)); r.err == nil && got != r.stats.Records {
		t.Errorf("stats: %d records, %d emitted", r.stats.Records, got)
	}
	if int64(len(r.rejects)) != r.stats.Rejected {
		t.Errorf("stats: %d rejected, %d reported", r.stats.Rejected, len(r.rejects))
	}
	return r
}

func checkBatch(t testing.TB, b *flowlog.Batch) {
	t.Helper()
	if len(b.Cols) != len(b.Format.Fields) || (b.Format.IsPlaced() && b.Format.Len() != len(b.Cols)-1) {
		t.Fatalf("%d columns for %d fields", len(b.Cols), b.Format.Len())
	}
	for i := range b.Cols {
		c := &b.Cols[i]
		if len(c.Valid) != b.N || (c.Field.Kind.Numeric() && len(c.Ints) != b.N) || (!c.Field.Kind.Numeric() && len(c.Offsets) != b.N+1) {
			t.Fatalf("column %s does not hold %d values", c.Field.Column, b.N)
		}
	}
}

func lines(ls ...string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

func gz(t testing.TB, members ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, m := range members {
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func equalLines(t testing.TB, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTextWithHeader(t *testing.T) {
	r := read(t, lines(append([]string{header}, goodLines...)...), Options{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	equalLines(t, r.lines, goodLines)
	if r.stats.Container != ContainerText || r.stats.Lines != 6 || len(r.stats.Formats) != 1 || !r.stats.Formats[0].Equal(flowlog.DefaultFormat()) {
		t.Errorf("stats %+v", r.stats)
	}
}

func TestTextWithoutHeaderUsesDefault(t *testing.T) {
	r := read(t, lines(goodLines...), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, goodLines)
}

func TestHeaderWinsOverConfiguredFormat(t *testing.T) {
	custom, _ := flowlog.ParseFormat("${srcaddr} ${dstaddr}")
	r := read(t, lines(append([]string{header}, goodLines[:2]...)...), Options{Format: custom})
	equalLines(t, r.lines, goodLines[:2])
	r = read(t, lines("10.0.0.1 10.0.0.2", "10.0.0.3 -"), Options{Format: custom})
	equalLines(t, r.lines, []string{"10.0.0.1 10.0.0.2", "10.0.0.3 -"})
	if len(r.rejects) != 0 || r.batches[0].Format.Len() != custom.Len() || !r.batches[0].Format.Equal(custom.Placed()) {
		t.Errorf("rejects %v", r.rejectText())
	}
}

// Records of a format without start are placed at the time their delivery
// carries: the CloudWatch Logs event's timestamp, else the time of the S3
// object key, else Options.Now; Unplaced leaves them as written.
func TestPlacedWithoutStart(t *testing.T) {
	custom, _ := flowlog.ParseFormat("${srcaddr} ${dstaddr} ${action}")
	starts := func(r *result) []string {
		var out []string
		for _, b := range r.batches {
			if !b.Format.IsPlaced() || b.Format.String() != custom.String() {
				t.Fatalf("format %s (placed %v)", b.Format, b.Format.IsPlaced())
			}
			c := b.Col(flowlog.Start)
			for i := 0; i < b.N; i++ {
				out = append(out, fmt.Sprint(c.Value(i)))
			}
		}
		return out
	}
	cw := `{"events": [{"timestamp": 1717171260000, "message": "10.0.0.1 10.0.0.2 ACCEPT"}, {"timestamp": "x", "message": "10.0.0.3 10.0.0.2 REJECT"}]}`
	r := read(t, []byte(cw), Options{Format: custom, Now: 1800000000})
	equalLines(t, r.lines, []string{"10.0.0.1 10.0.0.2 ACCEPT", "10.0.0.3 10.0.0.2 REJECT"})
	equalLines(t, starts(r), []string{"1717171260", "1800000000"})
	key := "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/31/111122223333_vpcflowlogs_eu-west-1_fl-0f1e2d3c4b5a69788_20240531T1405Z_5d41ab12.log"
	r = read(t, lines("srcaddr dstaddr action", "10.0.0.1 10.0.0.2 ACCEPT"), Options{Name: key, Now: 1800000000})
	equalLines(t, starts(r), []string{"1717164300"})
	r = read(t, lines("10.0.0.1 10.0.0.2 ACCEPT"), Options{Format: custom})
	equalLines(t, starts(r), []string{"<nil>"})
	r = read(t, lines("10.0.0.1 10.0.0.2 ACCEPT"), Options{Format: custom, Unplaced: true, Now: 1800000000})
	if b := r.batches[0]; b.Format != custom || len(b.Cols) != 3 {
		t.Errorf("unplaced: %s, %d columns", b.Format, len(b.Cols))
	}
	// A format with start is never changed.
	r = read(t, lines(goodLines[0]), Options{Now: 1800000000})
	if b := r.batches[0]; b.Format.IsPlaced() || len(b.Cols) != 14 {
		t.Errorf("default format: %s", b.Format)
	}
}

func TestCustomHeaderEachVersion(t *testing.T) {
	// A v5 custom format from the spec, with its header line.
	format := "${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status} ${region} ${az-id} ${flow-direction} ${traffic-path} ${pkt-src-aws-service} ${pkt-dst-aws-service}"
	f, err := flowlog.ParseFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	recs := []string{
		"5 vpc-0aa11bb22cc33dd44 subnet-0123abcd4567ef890 i-0fedcba9876543210 eni-0a1b2c3d4e5f60718 111122223333 IPv4 10.20.1.15 52.216.10.20 40112 443 10.20.1.15 52.216.10.20 6 5230 19 1717171500 1717171559 ACCEPT 19 OK eu-west-1 euw1-az2 egress 8 - S3",
		"5 vpc-0aa11bb22cc33dd44 subnet-0fff1111eeee2222d - eni-0b2c3d4e5f6071829 111122223333 IPv4 10.20.3.8 10.20.0.44 38211 443 10.20.3.8 203.0.113.200 6 980 7 1717171500 1717171560 ACCEPT 2 OK eu-west-1 euw1-az1 ingress - - -",
		"5 vpc-0aa11bb22cc33dd44 subnet-0123abcd4567ef890 i-0fedcba9876543210 eni-0a1b2c3d4e5f60718 111122223333 IPv4 192.0.2.99 10.20.1.15 55000 3389 192.0.2.99 10.20.1.15 6 44 1 1717171520 1717171520 REJECT 2 OK eu-west-1 euw1-az2 ingress - - -",
	}
	r := read(t, gz(t, lines(append([]string{f.Header()}, recs...)...)), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, recs)
	if !r.batches[0].Format.Equal(f) || r.stats.Container != ContainerGzipText {
		t.Errorf("format %s, container %s", r.batches[0].Format, r.stats.Container)
	}
	b := r.batches[0]
	if b.Col(flowlog.TrafficPath).Valid[1] || b.Col(flowlog.TrafficPath).Ints[0] != 8 || b.Col(flowlog.PktDstAWSService).Value(0) != "S3" {
		t.Errorf("v5 values wrong: %v %v", b.Col(flowlog.TrafficPath).Value(1), b.Col(flowlog.PktDstAWSService).Value(0))
	}
	// Each version's own layout, with its header: every field of the version.
	for _, v := range []int{2, 3, 4, 5, 7, 8, 9, 10, 11} {
		all := flowlog.AllVPCFormat(v)
		var toks []string
		for range all.Fields {
			toks = append(toks, "-")
		}
		toks[0] = fmt.Sprint(v)
		r := read(t, lines(all.Header(), strings.Join(toks, " ")), Options{})
		if r.err != nil || len(r.rejects) != 0 || len(r.lines) != 1 || !r.batches[0].Format.Equal(all) {
			t.Errorf("v%d: %v %v %d", v, r.err, r.rejectText(), len(r.lines))
		}
	}
}

func TestUnknownHeaderFieldKept(t *testing.T) {
	r := read(t, lines("version srcaddr shiny-new-field dstport", "12 10.0.0.1 whatever 22"), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	b := r.batches[0]
	if !b.Format.Extra[2] || b.Cols[2].Field.Column != "shiny_new_field" || b.Cols[2].Value(0) != "whatever" {
		t.Errorf("extra column: %+v %v", b.Cols[2].Field, b.Cols[2].Value(0))
	}
}

func TestMalformedLinesAmongGoodOnes(t *testing.T) {
	bad := []string{
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 3000000000 443 6 31 7420 1717171205 1717171262 ACCEPT OK",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT OK extra",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.999 198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT OK",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 MAYBE OK",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 -31 7420 1717171205 1717171262 ACCEPT OK",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15  198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT OK extra",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 31 7420 1717171205 171717126x ACCEPT OK",
		"garbage",
	}
	// Kept with a warning: stored as written (a version, port or protocol
	// outside its documented range), runs of spaces read as one separator.
	kept := []string{
		"300 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT OK",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 70000 443 6 31 7420 1717171205 1717171262 ACCEPT OK",
		"2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15  198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT OK",
		"  2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 256 31 7420 1717171205 1717171262 ACCEPT OK ",
	}
	var in, want []string
	in = append(in, header)
	for i, b := range bad {
		in = append(in, goodLines[i%len(goodLines)], b)
		want = append(want, goodLines[i%len(goodLines)])
	}
	for _, k := range kept {
		in = append(in, k)
		want = append(want, string(record.SqueezeSpaces([]byte(k))))
	}
	in = append(in, goodLines[0])
	want = append(want, goodLines[0])
	r := read(t, lines(in...), Options{Name: "f.log"})
	if r.err != nil {
		t.Fatal(r.err)
	}
	equalLines(t, r.lines, want)
	wantErr := []string{
		`f.log:3: field srcport: "3000000000" is out of range 0-65535 (and too large to store)`,
		`f.log:5: 13 fields, the format has 14`,
		`f.log:7: 15 fields, the format has 14`,
		`f.log:9: field srcaddr: "10.20.1.999" is not an IPv4 or IPv6 address`,
		`f.log:11: field action: "MAYBE" is not one of [ACCEPT REJECT]`,
		`f.log:13: field packets: "-31" is negative`,
		`f.log:15: 15 fields, the format has 14`,
		`f.log:17: field end: "171717126x" is not a whole number`,
		`f.log:19: 1 fields, the format has 14`,
	}
	equalLines(t, r.rejectText(), wantErr)
	equalLines(t, r.warnText(), []string{
		`f.log:20: warning: field version: "300" is outside 2-255: stored as written`,
		`f.log:21: warning: field srcport: "70000" is outside 0-65535: stored as written`,
		`f.log:22: warning: fields are separated by runs of spaces or the line starts or ends with a space: each run was read as one separator`,
		`f.log:23: warning: fields are separated by runs of spaces or the line starts or ends with a space: each run was read as one separator; field protocol: "256" is outside 0-255: stored as written`,
	})
	if r.stats.Lines != int64(len(in)) || r.stats.Rejected != int64(len(bad)) || r.stats.Warnings != int64(len(kept)) || r.stats.Records != int64(len(want)) {
		t.Errorf("stats %+v", r.stats)
	}
	if r.warns[0].Kind != KindRange || r.warns[2].Kind != KindSpaces || r.warns[0].Text != kept[0] {
		t.Errorf("warnings %+v", r.warns)
	}
}

func TestGuessedFormatHint(t *testing.T) {
	r := read(t, lines("5 vpc-1 eni-2 ACCEPT"), Options{})
	if len(r.rejects) != 1 || !strings.Contains(r.rejects[0].Reason, "--format") {
		t.Errorf("rejects %v", r.rejectText())
	}
}

func TestBlankLinesCRLFRepeatedHeaderNoFinalNewline(t *testing.T) {
	in := header + "\r\n\r\n" + goodLines[0] + "\r\n   \n" + header + "\n" + goodLines[1] + "\r\n\n" + goodLines[2]
	r := read(t, []byte(in), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, goodLines[:3])
	if r.stats.Lines != 8 {
		t.Errorf("lines = %d", r.stats.Lines)
	}
}

func TestConcatenatedFilesSwitchFormat(t *testing.T) {
	other := "version interface-id srcaddr dstaddr dstport action reject-reason"
	rec := "8 eni-0a1b2c3d4e5f60718 198.51.100.5 10.20.1.15 80 REJECT BPA"
	in := gz(t, lines(header, goodLines[0]), lines(other, rec), lines(header, goodLines[1]))
	r := read(t, in, Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, []string{goodLines[0], rec, goodLines[1]})
	if len(r.stats.Formats) != 2 || len(r.batches) != 3 || r.batches[0].Format != r.batches[2].Format {
		t.Errorf("%d formats, %d batches", len(r.stats.Formats), len(r.batches))
	}
}

func TestGzipMultiMemberAndBatching(t *testing.T) {
	var members [][]byte
	var want []string
	members = append(members, lines(header))
	for i := 0; i < 50; i++ {
		members = append(members, lines(goodLines...))
		want = append(want, goodLines...)
	}
	var recycled int
	opts := Options{BatchSize: 7, NewBatch: func(f *flowlog.Format, n int) *flowlog.Batch {
		recycled++
		return flowlog.NewBatch(f, n)
	}}
	r := read(t, gz(t, members...), opts)
	if r.err != nil {
		t.Fatal(r.err)
	}
	equalLines(t, r.lines, want)
	for i, b := range r.batches {
		if b.N > 7 || (i < len(r.batches)-1 && b.N != 7) {
			t.Errorf("batch %d has %d records", i, b.N)
		}
	}
	if recycled < len(r.batches) {
		t.Errorf("NewBatch called %d times for %d batches", recycled, len(r.batches))
	}
	if r.stats.InputBytes == 0 || r.stats.InputBytes >= int64(len(strings.Join(want, "\n"))) {
		t.Errorf("input bytes %d", r.stats.InputBytes)
	}
}

func TestCorruptGzip(t *testing.T) {
	in := gz(t, lines(append([]string{header}, goodLines...)...))
	in = in[:len(in)-12]
	r := read(t, in, Options{Name: "cut.log.gz"})
	if r.err == nil || !strings.Contains(r.err.Error(), "cut.log.gz: after line ") {
		t.Errorf("err = %v", r.err)
	}
}

func TestLongLineIsRejected(t *testing.T) {
	long := bytes.Repeat([]byte("x"), maxLine+10)
	in := append(lines(header, goodLines[0]), long...)
	in = append(in, '\n')
	in = append(in, lines(goodLines[1])...)
	r := read(t, in, Options{})
	equalLines(t, r.lines, goodLines[:2])
	if len(r.rejects) != 1 || r.rejects[0].Line != 3 || r.rejects[0].Kind != KindTooLong || !strings.Contains(r.rejects[0].Reason, "longer") {
		t.Errorf("rejects %v", r.rejectText())
	}
	// At the end of the input too.
	r = read(t, append(lines(goodLines[0]), long...), Options{})
	equalLines(t, r.lines, goodLines[:1])
	if len(r.rejects) != 1 || r.rejects[0].Line != 2 {
		t.Errorf("rejects %v", r.rejectText())
	}
}

func TestEmitErrorAndCancel(t *testing.T) {
	boom := errors.New("boom")
	_, err := Read(t.Context(), bytes.NewReader(lines(goodLines...)), Options{BatchSize: 1}, func(*flowlog.Batch) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = Read(ctx, bytes.NewReader(gz(t, lines(goodLines...))), Options{}, func(*flowlog.Batch) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "111122223333_vpcflowlogs_eu-west-1_fl-0f1e2d3c4b5a69788_20240531T1405Z_5d41ab12.log.gz")
	if err := os.WriteFile(p, gz(t, lines(append([]string{header}, goodLines...)...)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := readFile(t, p, Options{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	equalLines(t, r.lines, goodLines)
	if _, err := ReadFile(t.Context(), filepath.Join(dir, "missing"), Options{}, nil); err == nil {
		t.Error("missing file: no error")
	}
}

func TestEmptyInput(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("\n\n"), gz(t, nil)} {
		r := read(t, in, Options{})
		if r.err != nil || len(r.lines) != 0 || len(r.rejects) != 0 {
			t.Errorf("%q: %v %v", in, r.err, r.rejectText())
		}
	}
}

var _ = io.EOF

func TestFirstBatchCapacityGrows(t *testing.T) {
	var in []string
	for len(in) < 20000 {
		in = append(in, goodLines...)
	}
	var caps []int
	opts := Options{BatchSize: 16000, NewBatch: func(f *flowlog.Format, n int) *flowlog.Batch {
		caps = append(caps, n)
		return flowlog.NewBatch(f, n)
	}}
	r := read(t, lines(in...), opts)
	if r.err != nil || len(r.lines) != len(in) || len(r.batches) != 2 || r.batches[0].N != 16000 {
		t.Fatalf("err %v, %d records in %d batches", r.err, len(r.lines), len(r.batches))
	}
	// Unknown size: a small first batch that grew, then full ones.
	if len(caps) != 2 || caps[0] != unknownCapacity || caps[1] != 16000 {
		t.Errorf("capacities %v", caps)
	}
	// A file's size sets the first capacity.
	p := filepath.Join(t.TempDir(), "small.log")
	if err := os.WriteFile(p, lines(goodLines...), 0o644); err != nil {
		t.Fatal(err)
	}
	caps = nil
	if r := readFile(t, p, opts); r.err != nil || len(caps) != 1 || caps[0] != minCapacity {
		t.Errorf("small file: %v, capacities %v", r.err, caps)
	}
}
