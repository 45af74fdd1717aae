package watch

import (
	"bytes"
	"encoding/json"
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

// While a server stays down the watcher is not silent at info level: one
// line a minute at most, with the attempts since the previous line and
// when the next one is.
func TestFailureLogStillFailingOncePerMinute(t *testing.T) {
	var buf bytes.Buffer
	f := &failureLog{log: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	start := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	refused := errors.New("connect: connection refused")
	// An hour of attempts, one every 10 s (the default backoff's cap
	// would be a minute, jittered; this is what a shorter one logs).
	for i := range 360 {
		f.failed(refused, 10*time.Second, start.Add(time.Duration(i)*10*time.Second))
	}
	type line struct {
		Level, Msg, Err string
		Attempts        int
		DownFor         time.Duration `json:"down_for"`
		NextAttempt     time.Time     `json:"next_attempt"`
	}
	var lines []line
	for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatal(err, s)
		}
		lines = append(lines, l)
	}
	// One error line, then one info line a minute: at 1m, 2m, … 59m50s is
	// the last attempt, so 59 of them.
	if len(lines) != 60 || lines[0].Level != "ERROR" || !lines[0].NextAttempt.Equal(start.Add(10*time.Second)) {
		t.Fatalf("%d lines, want 60, the first an error:\n%s", len(lines), buf.String())
	}
	for i, l := range lines[1:] {
		at := start.Add(time.Duration(i+1) * time.Minute)
		if l.Level != "INFO" || l.Msg != "watcher still failing; will reconnect" || l.Err != refused.Error() ||
			l.Attempts != 6 || !l.NextAttempt.Equal(at.Add(10*time.Second)) || l.DownFor != time.Duration(i+1)*time.Minute {
			t.Errorf("line %d: %+v", i+1, l)
		}
	}
}
