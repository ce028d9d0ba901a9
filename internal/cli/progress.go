package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/termchart"
)

// progressLine renders one line of progress: a bar on a terminal (redrawn
// in place), plain periodic lines otherwise.
type progressLine struct {
	w        io.Writer
	terminal bool
	width    int
	last     int // length of the last terminal line
}

// progressState is what a long operation reports.
type progressState struct {
	Done, Total       int   // items (files)
	Bytes, BytesTotal int64 // input bytes
	Records           int64
	Rejected          int64
	Elapsed           time.Duration
	Finished          bool
	Unit              string // "files"
}

func newProgress(w io.Writer, terminal bool) *progressLine {
	return &progressLine{w: w, terminal: terminal, width: 30}
}

// Update draws the state.
func (p *progressLine) Update(s progressState) {
	secs := s.Elapsed.Seconds()
	var rps, mbps float64
	if secs > 0 {
		rps = float64(s.Records) / secs
		mbps = float64(s.Bytes) / secs / 1e6
	}
	frac := 0.0
	if s.BytesTotal > 0 {
		frac = float64(s.Bytes) / float64(s.BytesTotal)
	} else if s.Total > 0 {
		frac = float64(s.Done) / float64(s.Total)
	}
	frac = min(max(frac, 0), 1)
	eta := "–"
	if frac > 0 && frac < 1 {
		eta = formatDuration(time.Duration(float64(s.Elapsed) * (1 - frac) / frac))
	} else if frac >= 1 {
		eta = "0s"
	}
	unit := s.Unit
	if unit == "" {
		unit = "files"
	}
	stats := fmt.Sprintf("%d/%d %s  %s records  %s rec/s  %.1f MB/s  rejected %d  elapsed %s  ETA %s",
		s.Done, s.Total, unit, humanCount(float64(s.Records)), humanCount(rps), mbps, s.Rejected, formatDuration(s.Elapsed), eta)
	if !p.terminal {
		fmt.Fprintf(p.w, "progress: %3.0f%%  %s\n", frac*100, stats)
		return
	}
	filled := int(frac * float64(p.width))
	bar := strings.Repeat("█", filled) + strings.Repeat("░", p.width-filled)
	line := fmt.Sprintf("\r%s %3.0f%%  %s", bar, frac*100, stats)
	pad := ""
	if n := len(line); n < p.last {
		pad = strings.Repeat(" ", p.last-n)
	}
	p.last = len(line)
	fmt.Fprint(p.w, line+pad)
	if s.Finished {
		fmt.Fprintln(p.w)
	}
}

// humanCount and humanBytes format counts and sizes the same way everywhere
// in the CLI (SI units: 1.5M records, 52.9 MB).
func humanCount(v float64) string { return termchart.HumanCount(v) }

func humanBytes(v int64) string { return termchart.HumanBytes(float64(v)) }

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
