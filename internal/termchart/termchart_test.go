package termchart

import (
	"strings"
	"testing"
	"time"
)

func TestColumns(t *testing.T) {
	t0 := time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC)
	var s []Point
	for i := range 48 {
		s = append(s, Point{T: t0.Add(time.Duration(i) * 30 * time.Minute), V: float64(i % 24)})
	}
	var b strings.Builder
	if err := Columns(&b, s, 24, 4, "B"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
	// 48 points into at most 24 columns: pairs are summed, the largest is 22+23=45.
	if !strings.HasPrefix(strings.TrimSpace(lines[0]), "45 B ┤") {
		t.Errorf("top label: %q", lines[0])
	}
	if got := len([]rune(strings.SplitN(lines[4], "└", 2)[1])); got != 24 {
		t.Errorf("axis width %d, want 24", got)
	}
	if !strings.Contains(lines[5], "05-31 00:00") || !strings.HasSuffix(lines[5], "23:00 UTC") {
		t.Errorf("time axis: %q", lines[5])
	}
	// The tallest column reaches the top row with a full block.
	if !strings.Contains(lines[0], "█") {
		t.Errorf("no full block on the top row:\n%s", b.String())
	}
}

func TestColumnsEmpty(t *testing.T) {
	var b strings.Builder
	_ = Columns(&b, nil, 20, 4, "B")
	if !strings.Contains(b.String(), "no data") {
		t.Fatal(b.String())
	}
}

func TestBarAndUnits(t *testing.T) {
	if got := Bar(10, 10, 5); got != "█████" {
		t.Errorf("full bar %q", got)
	}
	if got := Bar(5, 10, 5); got != "██▌" {
		t.Errorf("half bar %q", got)
	}
	if Bar(0, 10, 5) != "" || Bar(1, 0, 5) != "" {
		t.Error("empty bars")
	}
	cases := map[float64]string{0: "0 B", 999: "999 B", 1500: "1.5 kB", 2.5e9: "2.5 GB"}
	for v, want := range cases {
		if got := HumanBytes(v); got != want {
			t.Errorf("HumanBytes(%v) = %q, want %q", v, got, want)
		}
	}
	if got := HumanCount(12345); got != "12.3k" {
		t.Errorf("HumanCount = %q", got)
	}
}
