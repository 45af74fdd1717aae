package watch

import (
	"math/rand/v2"
	"time"
)

// Backoff computes reconnect delays: exponential from Min, capped at Max,
// with full jitter in [d/2, d] so that many watchers dropped by one server
// restart do not reconnect in lockstep. After a connection stayed healthy
// for HealthyAfter, the next failure starts again from Min.
type Backoff struct {
	Min, Max     time.Duration
	HealthyAfter time.Duration

	attempt int
	rand    func() float64 // [0,1); nil means math/rand/v2
}

// Next returns the delay before the next attempt and counts the attempt.
func (b *Backoff) Next() time.Duration {
	d := b.Min
	for i := 0; i < b.attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	b.attempt++
	r := rand.Float64
	if b.rand != nil {
		r = b.rand
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// Healthy tells the Backoff that a connection lasted up; a long enough one
// resets the delay to Min.
func (b *Backoff) Healthy(up time.Duration) {
	if up >= b.HealthyAfter {
		b.attempt = 0
	}
}

// Attempts returns how many delays were handed out since the last reset.
func (b *Backoff) Attempts() int { return b.attempt }
