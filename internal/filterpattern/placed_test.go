package filterpattern

import (
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// A batch of a format without start carries the start it is placed by
// (flowlog.Format.Placed); patterns see the record as written only.
func TestPlacedStartIsNotMatched(t *testing.T) {
	f := flowlog.MustFormat(flowlog.SrcAddr, flowlog.DstAddr, flowlog.Action).Placed()
	b := flowlog.NewBatch(f, 1)
	b.Cols[0].AppendString("10.0.0.1")
	b.Cols[1].AppendString("10.0.0.2")
	b.Cols[2].AppendString("ACCEPT")
	b.Cols[3].AppendInt(1717171200)
	b.EndRecord()
	for pattern, want := range map[string]bool{`ACCEPT`: true, `1717171200`: false, `[src, dst, action = ACCEPT]`: true, `[src, dst, action, start]`: false} {
		p, err := Parse(pattern)
		if err != nil {
			t.Fatal(err)
		}
		m := p.Compile(f)
		sel, _ := m.Select(b, []bool{true})
		if got := m.Match(b, 0); got != want || sel[0] != want || p.Match(string(b.AppendLine(nil, 0))) != want {
			t.Errorf("%s: batch %v, select %v, want %v", pattern, got, sel[0], want)
		}
	}
}
