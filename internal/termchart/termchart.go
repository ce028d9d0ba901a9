// Package termchart draws small charts for terminals: a column chart of a
// time series (bytes over time) and horizontal bars for ranked tables. It is
// pure: it formats text and does no I/O of its own.
package termchart

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Point is one value of a time series.
type Point struct {
	T time.Time
	V float64
}

// blocks are the eighth-step column glyphs, lowest first.
var blocks = []rune{' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'}

// Columns draws series as a column chart height rows tall and at most width
// columns wide, with a y-axis in units of unit (formatted by HumanBytes when
// unit is "B") and an x-axis labelled with UTC times. Points are bucketed into
// columns by summing, so a long series still fits.
func Columns(w io.Writer, series []Point, width, height int, unit string) error {
	if len(series) == 0 {
		_, err := fmt.Fprintln(w, "  (no data)")
		return err
	}
	if width < 10 {
		width = 10
	}
	if height < 2 {
		height = 2
	}
	cols := bucket(series, width)
	maxV := 0.0
	for _, c := range cols {
		maxV = math.Max(maxV, c.V)
	}
	if maxV <= 0 {
		maxV = 1
	}
	label := func(v float64) string {
		if unit == "B" {
			return HumanBytes(v)
		}
		return HumanCount(v)
	}
	lw := max(len(label(maxV)), len(label(0)))
	var b strings.Builder
	for row := height - 1; row >= 0; row-- {
		switch row {
		case height - 1:
			fmt.Fprintf(&b, "%*s ┤", lw, label(maxV))
		case 0:
			fmt.Fprintf(&b, "%*s ┤", lw, label(0))
		default:
			fmt.Fprintf(&b, "%*s │", lw, "")
		}
		for _, c := range cols {
			eighths := c.V / maxV * float64(height*8)
			level := eighths - float64(row*8)
			switch {
			case level >= 8:
				b.WriteRune(blocks[8])
			case level <= 0:
				b.WriteRune(' ')
			default:
				b.WriteRune(blocks[int(math.Ceil(level))])
			}
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%*s └%s\n", lw, "", strings.Repeat("─", len(cols)))
	first, last := cols[0].T.UTC(), cols[len(cols)-1].T.UTC()
	left, right := first.Format("01-02 15:04"), last.Format("15:04")
	pad := len(cols) - len(left) - len(right)
	if pad < 1 {
		pad = 1
	}
	fmt.Fprintf(&b, "%*s  %s%s%s UTC\n", lw, "", left, strings.Repeat(" ", pad), right)
	_, err := io.WriteString(w, b.String())
	return err
}

// bucket sums consecutive points so that at most n remain.
func bucket(series []Point, n int) []Point {
	if len(series) <= n {
		return series
	}
	per := (len(series) + n - 1) / n
	out := make([]Point, 0, n)
	for i := 0; i < len(series); i += per {
		p := Point{T: series[i].T}
		for j := i; j < min(i+per, len(series)); j++ {
			p.V += series[j].V
		}
		out = append(out, p)
	}
	return out
}

// Bar returns a horizontal bar of at most width cells for v out of maxV.
func Bar(v, maxV float64, width int) string {
	if maxV <= 0 || v <= 0 || width <= 0 {
		return ""
	}
	cells := v / maxV * float64(width)
	full := int(cells)
	var b strings.Builder
	b.WriteString(strings.Repeat("█", full))
	if frac := cells - float64(full); frac > 0 && full < width {
		partial := []rune{' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'}
		if i := int(frac * 8); i > 0 {
			b.WriteRune(partial[i])
		}
	}
	return b.String()
}

// HumanBytes formats a byte count with binary-free SI units ("1.2 GB").
func HumanBytes(v float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	i := 0
	for math.Abs(v) >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// HumanCount formats a count with k/M/G suffixes ("12.3k").
func HumanCount(v float64) string {
	units := []string{"", "k", "M", "G", "T"}
	i := 0
	for math.Abs(v) >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}
