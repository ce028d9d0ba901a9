package decode

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// FuzzHeader checks header and format detection: a line taken for a header
// names exactly its tokens, prints back to a header that is detected as the
// same format, and is never also taken for a default-format record.
func FuzzHeader(f *testing.F) {
	f.Add(header)
	f.Add(flowlog.AllVPCFormat(11).Header())
	f.Add("version srcaddr shiny-new-field dstport")
	f.Add("version account_id interface_id")
	f.Add(goodLines[0])
	f.Add("vpc-0aa11bb22cc33dd44 subnet-0123abcd4567ef890 i-0fedcba9876543210")
	f.Add("version\tsrcaddr  dstaddr")
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4096 {
			return
		}
		hf := headerFormat([]byte(line))
		def := looksDefault([]byte(line))
		if hf == nil {
			return
		}
		if def {
			t.Fatalf("%q is both a header and a default-format record", line)
		}
		if n := len(strings.Fields(line)); hf.Len() != n {
			t.Fatalf("header of %d tokens gave %d fields", n, hf.Len())
		}
		again := headerFormat([]byte(hf.Header()))
		if again == nil || !again.Equal(hf) {
			t.Fatalf("header %q printed as %q, detected as %v", line, hf.Header(), again)
		}
		if _, err := flowlog.ParseFormat(hf.String()); err != nil && !hasExtra(hf) {
			t.Fatalf("format %q of header %q does not parse: %v", hf.String(), line, err)
		}
	})
}

func hasExtra(f *flowlog.Format) bool {
	for _, x := range f.Extra {
		if x {
			return true
		}
	}
	return false
}

// FuzzRead feeds any bytes to Read (every container: text, gzip, JSON,
// Parquet): it never panics, never emits a batch whose columns disagree with
// its format, counts no more records and rejects than lines, and every
// rejection carries a line number within the input and a reason.
func FuzzRead(f *testing.F) {
	f.Add(lines(append([]string{header}, goodLines...)...))
	f.Add(lines(goodLines...))
	f.Add(gz(f, lines(header, goodLines[0]), lines("version srcaddr", "3 10.0.0.1")))
	f.Add([]byte(`{"events":[{"timestamp":1,"message":"` + goodLines[0] + `"}]}`))
	f.Add([]byte(`[{"message":"` + goodLines[1] + `"},{"message":"x"}]`))
	f.Add(gz(f, []byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"`+goodLines[2]+`"}]}`)))
	f.Add(writeParquet(f, []awsRow{rowOf(goodLines[0])}))
	f.Add([]byte("version srcaddr\n2 10.0.0.1\n\r\n3 ::1 x\nversion srcaddr\n"))
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	for _, p := range golden {
		if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, ".golden") {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 64<<10 {
			return
		}
		var rejects, warns []*LineError
		var records int64
		st, err := Read(t.Context(), bytes.NewReader(in), Options{Name: "fuzz", BatchSize: 3,
			OnReject:  func(e *LineError) { rejects = append(rejects, e) },
			OnWarning: func(e *LineError) { warns = append(warns, e) }},
			func(b *flowlog.Batch) error {
				checkBatch(t, b)
				records += int64(b.N)
				return nil
			})
		if err == nil && records != st.Records {
			t.Fatalf("emitted %d records, stats say %d", records, st.Records)
		}
		if st.Records+st.Rejected > st.Lines {
			t.Fatalf("%d records + %d rejected > %d lines", st.Records, st.Rejected, st.Lines)
		}
		for _, e := range rejects {
			if e.Line < 1 || e.Line > st.Lines || e.Reason == "" || e.File != "fuzz" || e.Warning {
				t.Fatalf("bad rejection %+v (lines %d)", e, st.Lines)
			}
		}
		// A warning is about a kept record: never more than the records.
		if int64(len(warns)) != st.Warnings || (err == nil && st.Warnings > st.Records) {
			t.Fatalf("%d warnings, stats say %d, %d records", len(warns), st.Warnings, st.Records)
		}
		for _, e := range warns {
			if e.Line < 1 || e.Line > st.Lines || e.Reason == "" || e.File != "fuzz" || !e.Warning {
				t.Fatalf("bad warning %+v (lines %d)", e, st.Lines)
			}
		}
	})
}
