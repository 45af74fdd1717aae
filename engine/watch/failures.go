package watch

import (
	"log/slog"
	"time"
)

// stillFailingEvery is how often, at most, a watcher that keeps failing
// with the same cause says so at info level.
const stillFailingEvery = time.Minute

// failureLog logs a watcher's failures without flooding and without going
// silent: the first occurrence of a cause at error level; while it
// persists, at most one info line a minute (stillFailingEvery) with the
// number of attempts since the previous line and the time of the next
// one, each attempt in between at debug; a new cause at error level
// again; and recovery once at info. A server that is down for an hour
// therefore costs one error line and one info line a minute, not one line
// per attempt, and `journalctl` shows at any time that the watcher is
// still trying and when it tries next.
type failureLog struct {
	log     *slog.Logger
	last    string
	repeats int
	since   time.Time

	lastLine time.Time // when the last error or info line was written
	attempts int       // failed attempts since then
}

func (f *failureLog) failed(err error, retryIn time.Duration, now time.Time) {
	msg := err.Error()
	next := now.Add(retryIn)
	if msg == f.last {
		f.repeats++
		f.attempts++
		if now.Sub(f.lastLine) < stillFailingEvery {
			f.log.Debug("still failing", "err", err, "repeats", f.repeats, "retry_in", retryIn.Round(time.Millisecond))
			return
		}
		f.log.Info("watcher still failing; will reconnect", "err", err, "attempts", f.attempts,
			"down_for", now.Sub(f.since).Round(time.Second), "next_attempt", next.Round(time.Second))
		f.lastLine, f.attempts = now, 0
		return
	}
	if f.last == "" {
		f.since = now
	}
	f.last, f.repeats = msg, 0
	f.lastLine, f.attempts = now, 0
	f.log.Error("watcher failed; will reconnect", "err", err, "retry_in", retryIn.Round(time.Millisecond),
		"next_attempt", next.Round(time.Second))
}

func (f *failureLog) recovered(now time.Time) {
	if f.last == "" {
		return
	}
	f.log.Info("watcher recovered", "down_for", now.Sub(f.since).Round(time.Second), "after_error", f.last)
	f.last, f.repeats, f.attempts = "", 0, 0
}
