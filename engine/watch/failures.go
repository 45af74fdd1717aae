package watch

import (
	"log/slog"
	"time"
)

// failureLog logs a failure once per distinct cause: the first occurrence
// at error level, repeats at debug with a count, and recovery once at info.
// A server that is down for an hour therefore costs one error line, not 60.
type failureLog struct {
	log     *slog.Logger
	last    string
	repeats int
	since   time.Time
}

func (f *failureLog) failed(err error, retryIn time.Duration, now time.Time) {
	msg := err.Error()
	if msg == f.last {
		f.repeats++
		f.log.Debug("still failing", "err", err, "repeats", f.repeats, "retry_in", retryIn.Round(time.Millisecond))
		return
	}
	if f.last == "" {
		f.since = now
	}
	f.last, f.repeats = msg, 0
	f.log.Error("watcher failed; will reconnect", "err", err, "retry_in", retryIn.Round(time.Millisecond))
}

func (f *failureLog) recovered(now time.Time) {
	if f.last == "" {
		return
	}
	f.log.Info("watcher recovered", "down_for", now.Sub(f.since).Round(time.Second), "after_error", f.last)
	f.last, f.repeats = "", 0
}
