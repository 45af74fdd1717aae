package watch

import (
	"testing"
	"time"
)

func TestBackoffIsCappedJitteredAndResets(t *testing.T) {
	for _, r := range []float64{0, 0.999} {
		b := &Backoff{Min: time.Second, Max: 30 * time.Second, HealthyAfter: time.Minute, rand: func() float64 { return r }}
		var got []time.Duration
		for range 8 {
			got = append(got, b.Next().Round(100*time.Millisecond))
		}
		// Un-jittered: 1 2 4 8 16 30 30 30; jitter keeps each in [d/2, d].
		want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
		for i, d := range got {
			hi := want[i] * time.Second
			if d < hi/2 || d > hi {
				t.Errorf("rand=%v attempt %d: %v not in [%v, %v]", r, i, d, hi/2, hi)
			}
		}
		b.Healthy(10 * time.Second)
		if b.Attempts() != 8 {
			t.Errorf("short connection reset the backoff")
		}
		b.Healthy(2 * time.Minute)
		if d := b.Next(); d > time.Second {
			t.Errorf("after a healthy minute, next delay %v > Min", d)
		}
	}
}

// By default a watcher whose server is down tries again at least once a
// minute, so mail is processed soon after the server is back.
func TestDefaultBackoffCap(t *testing.T) {
	b := New(Options{}).o.Backoff
	var last time.Duration
	for range 30 {
		last = b.Next()
		if last > time.Minute {
			t.Fatalf("delay %v exceeds a minute", last)
		}
	}
	if last < 30*time.Second {
		t.Errorf("capped delay %v, want between 30s and 1m (jittered)", last)
	}
}
