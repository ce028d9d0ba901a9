package record

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// FuzzDecodeLine checks the line decoder's invariants on any input and any
// of a few formats: it never panics; a rejected line leaves the batch as it
// was and the error carries the line number; an accepted line adds exactly
// one value to each column (never more values than the format has fields);
// and an accepted record, written back as text, decodes to the same record.
func FuzzDecodeLine(f *testing.F) {
	for _, l := range defaultLines(20) {
		f.Add(l, uint8(0))
	}
	seeds := []string{
		good, good + "\r", good + " ", "", " ", "-", "2 - - - - - - - - - - - - -",
		"2 111122223333 eni-0c9d8e7f6a5b4c3d2 - - - - - - - 1717171200 1717171800 - NODATA",
		"2 111122223333 eni-0a1b2c3d4e5f60718 2001:db8:4a10:1200::1f 2001:db8:ff00:42::8329 50344 22 6 48 9120 1717171400 1717171458 ACCEPT OK",
		"2 111122223333 eni-1 ::ffff:1.2.3.4 fe80::1%eth0 1 2 3 4 5 1717171400123 1717171458 ACCEPT OK",
		"11 eni-0a1b2c3d4e5f60718 10.20.1.15 10.20.2.40 5432 ACCEPT - 1 - eni-0d4e5f60718293a4b payments%20api",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i))
	}
	formats := []*flowlog.Format{flowlog.DefaultFormat(), flowlog.AllVPCFormat(11), flowlog.MustFormat(
		flowlog.Version, flowlog.InterfaceID, flowlog.SrcAddr, flowlog.DstAddr, flowlog.DstPort, flowlog.Action,
		flowlog.RejectReason, flowlog.EncryptionStatus, flowlog.InterfaceType, flowlog.NextHopInterfaceID, flowlog.InstanceTag)}
	f.Fuzz(func(t *testing.T, line []byte, which uint8) {
		if len(line) > 4096 {
			return
		}
		format := formats[int(which)%len(formats)]
		d := NewDecoder(format)
		b := flowlog.NewBatch(format, 4)
		if le := d.DecodeLine(b, []byte(good), 1); le != nil && format == formats[0] {
			t.Fatal(le)
		}
		n := b.N
		le := d.DecodeLine(b, line, 42)
		checkShape(t, b)
		if ref := decodeSlow(d, line); (le == nil) != (ref != nil) {
			t.Fatalf("fast path accepted=%v, general path accepted=%v", le == nil, ref != nil)
		} else if ref != nil {
			for i := range ref.Cols {
				rc, fc := &ref.Cols[i], &b.Cols[i]
				if fmt.Sprint(rc.Value(0)) != fmt.Sprint(fc.Value(n)) || (rc.V4 != nil && (rc.V4[0] != fc.V4[n] || rc.Fam[0] != fc.Fam[n])) {
					t.Fatalf("field %s: fast path %v, general path %v", rc.Field.Column, fc.Value(n), rc.Value(0))
				}
			}
		}
		if le != nil {
			if le.Line != 42 || le.Reason == "" {
				t.Fatalf("error without its line or reason: %+v", le)
			}
			if b.N != n {
				t.Fatalf("rejected line changed N from %d to %d", n, b.N)
			}
			return
		}
		if b.N != n+1 {
			t.Fatalf("accepted line changed N from %d to %d", n, b.N)
		}
		if got := bytes.Count(SqueezeSpaces(bytes.TrimSuffix(line, []byte{'\r'})), []byte{' '}) + 1; got != format.Len() {
			t.Fatalf("accepted a line of %d fields for a format of %d", got, format.Len())
		}
		text := b.AppendLine(nil, n)
		b2 := flowlog.NewBatch(format, 1)
		if le := d.DecodeLine(b2, text, 1); le != nil {
			t.Fatalf("re-decoding %q: %v", text, le)
		}
		if again := b2.AppendLine(nil, 0); !bytes.Equal(again, text) {
			t.Fatalf("round trip: %q then %q", text, again)
		}
	})
}

// decodeSlow decodes line token by token through the general path only,
// as a reference for DecodeLine's fast paths; nil when it rejects. A line
// that does not decode as it is is read again with each run of spaces as
// one separator.
func decodeSlow(d *Decoder, line []byte) *flowlog.Batch {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if b := decodeTokens(d, line); b != nil || !spaced(line) {
		return b
	}
	return decodeTokens(d, SqueezeSpaces(line))
}

func decodeTokens(d *Decoder, line []byte) *flowlog.Batch {
	toks := bytes.Split(line, []byte{' '})
	if len(line) == 0 || len(toks) != len(d.slots) {
		return nil
	}
	b := flowlog.NewBatch(d.format, 1)
	for i, tok := range toks {
		if appendToken(&b.Cols[i], &d.slots[i], tok).Refused() {
			return nil
		}
	}
	b.EndRecord()
	return b
}
