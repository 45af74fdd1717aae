package watch

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A server that is down for an hour costs one error line, not sixty; a
// new cause is logged again, and recovery once.
func TestFailureLogOncePerCause(t *testing.T) {
	var buf bytes.Buffer
	f := &failureLog{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	now := time.Now()
	refused := errors.New("connect: connection refused")
	for range 60 {
		f.failed(refused, time.Second, now)
	}
	f.failed(errors.New("connect: auth temporarily unavailable"), time.Second, now)
	f.recovered(now.Add(time.Hour))
	f.recovered(now.Add(time.Hour))
	out := buf.String()
	// Sixty refusals, one line (the recovery names only the last cause).
	if n := strings.Count(out, "connection refused"); n != 1 {
		t.Errorf("connection refused logged %d times, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "level=ERROR"); n != 2 {
		t.Errorf("%d error lines, want 2 (one per cause):\n%s", n, out)
	}
	if n := strings.Count(out, "watcher recovered"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, out)
	}
}
