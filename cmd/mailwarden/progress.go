package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progressBar draws a one-line progress bar on a terminal:
//
//	[=========>          ] 4500/10000  45%  2345 msg/s
//
// It is twenty lines instead of github.com/schollz/progressbar/v3, which
// would bring three more modules (and their updates) for one line of
// output; all `apply` needs is a count, a rate and a redraw at most ten
// times a second.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	last  time.Time
	drawn bool
}

// newProgressBar returns a bar drawing on w, or nil when w is not a
// terminal (a log file or a pipe gets no bar).
func newProgressBar(w io.Writer) *progressBar {
	if !isTerminal(w) {
		return nil
	}
	return &progressBar{w: w, start: time.Now()}
}

// isTerminal reports whether w is a character device (a tty).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// set redraws the bar for done of total, at most every 100 ms.
func (p *progressBar) set(done, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = now
	const width = 30
	filled := 0
	pct := 100
	if total > 0 {
		filled = done * width / total
		pct = done * 100 / total
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.w, "\r[%s] %d/%d %3d%% %6.0f msg/s", bar, done, total, pct, rate)
	p.drawn = true
}

// finish ends the bar's line.
func (p *progressBar) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
