package decode

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden decodes every input in testdata/golden and compares a full
// description of the result — formats, every typed value (with the integer
// form and family of addresses), every rejection — with its .golden file.
// Run with -update to rewrite them, then review the diff.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			var sb strings.Builder
			r := readFile(t, in, Options{Name: filepath.Base(in), BatchSize: 4})
			if r.err != nil {
				fmt.Fprintf(&sb, "error: %v\n", r.err)
			}
			fmt.Fprintf(&sb, "container: %s\nlines: %d records: %d rejected: %d", r.stats.Container, r.stats.Lines, r.stats.Records, r.stats.Rejected)
			if r.stats.Warnings > 0 {
				fmt.Fprintf(&sb, " warnings: %d", r.stats.Warnings)
			}
			sb.WriteByte('\n')
			var last *flowlog.Format
			for _, b := range r.batches {
				if b.Format != last {
					last = b.Format
					fmt.Fprintf(&sb, "format: %s\n", b.Format)
				}
				for i := 0; i < b.N; i++ {
					sb.WriteString("record:")
					for j := range b.Cols {
						c := &b.Cols[j]
						fmt.Fprintf(&sb, " %s=", c.Field.Column)
						switch {
						case !c.Valid[i]:
							sb.WriteString("NULL")
						case c.Field.Kind.Numeric():
							fmt.Fprintf(&sb, "%d", c.Ints[i])
						case c.Field.Kind == flowlog.KindIP:
							fmt.Fprintf(&sb, "%q/v%d/%#08x", c.Bytes(i), c.Fam[i], c.V4[i])
						default:
							fmt.Fprintf(&sb, "%q", c.Bytes(i))
						}
					}
					sb.WriteByte('\n')
				}
			}
			for _, e := range r.rejects {
				fmt.Fprintf(&sb, "reject %s: %s\n", e.Kind, e)
			}
			for _, e := range r.warns {
				fmt.Fprintf(&sb, "warning %s: %s\n", e.Kind, e)
			}
			golden := in + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(sb.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got := sb.String(); got != string(want) {
				t.Errorf("output differs from %s (rerun with -update and review the diff):\n%s", golden, got)
			}
		})
	}
	if n == 0 {
		t.Fatal("no golden inputs")
	}
}
