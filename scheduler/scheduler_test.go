package scheduler

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a Clock whose time moves only when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	newT   chan struct{} // signalled when the loop arms a timer
}

type fakeTimer struct {
	at      time.Time
	c       chan time.Time
	stopped bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool          { t.stopped = true; return true }

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, newT: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.newT <- struct{}{}
	return t
}

// advance moves the clock to at and fires the timers due by then.
func (c *fakeClock) advance(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = at
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(at) && len(t.c) == 0 {
			t.c <- at
			t.stopped = true
		}
	}
}

// waitArmed waits until the loop armed a new timer (it is asleep again).
func (c *fakeClock) waitArmed(t *testing.T) {
	t.Helper()
	select {
	case <-c.newT:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not arm a timer")
	}
}

var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

func TestFiresOnScheduleWithoutWaiting(t *testing.T) {
	clk := newFakeClock(t0)
	s := New(&Options{Clock: clk})
	runs := make(chan time.Time, 10)
	if err := s.Add("nightly", "0 3 * * *", func(context.Context) error { runs <- clk.Now(); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("half-hourly", "*/30 * * * *", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	es := s.Entries()
	if len(es) != 2 || !es[0].Next.Equal(t0.Add(time.Hour)) || !es[1].Next.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("entries = %+v", es)
	}
	s.Start(context.Background())
	defer s.Stop(context.Background())
	clk.waitArmed(t)
	clk.advance(t0.Add(30 * time.Minute))
	clk.waitArmed(t)
	clk.advance(t0.Add(time.Hour))
	select {
	case at := <-runs:
		if !at.Equal(t0.Add(time.Hour)) {
			t.Errorf("ran at %v", at)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nightly did not run")
	}
	clk.waitArmed(t)
	if next := s.Entries()[0].Next; !next.Equal(t0.Add(25 * time.Hour)) {
		t.Errorf("next = %v", next)
	}
}

func TestNoOverlapAndPanicRecovered(t *testing.T) {
	s := New(nil)
	release := make(chan struct{})
	started := make(chan struct{})
	var calls atomic.Int32
	s.Add("slow", "@every 1h", func(ctx context.Context) error {
		calls.Add(1)
		close(started)
		<-release
		return nil
	})
	s.Add("boom", "@daily", func(context.Context) error { panic("kaboom") })
	done := make(chan error)
	go func() { done <- s.Run(context.Background(), "slow") }()
	<-started
	if err := s.Run(context.Background(), "slow"); !errors.Is(err, ErrRunning) {
		t.Errorf("overlapping run: %v", err)
	}
	if !s.Entries()[0].Running {
		t.Error("entry not marked running")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls", calls.Load())
	}
	err := s.Run(context.Background(), "boom")
	if err == nil || err.Error() != `job "boom" panicked: kaboom` {
		t.Errorf("panic: %v", err)
	}
	if e := s.Entries()[1]; e.LastErr == nil || e.Running {
		t.Errorf("after panic: %+v", e)
	}
	if err := s.Run(context.Background(), "nope"); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("unknown: %v", err)
	}
}

func TestScheduledRunSkippedWhileRunning(t *testing.T) {
	clk := newFakeClock(t0)
	s := New(&Options{Clock: clk})
	var calls atomic.Int32
	release := make(chan struct{})
	s.Add("slow", "@every 1m", func(ctx context.Context) error {
		calls.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	s.Start(context.Background())
	clk.waitArmed(t)
	for i := 1; i <= 3; i++ {
		clk.advance(t0.Add(time.Duration(i) * time.Minute))
		clk.waitArmed(t)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d runs started; want 1 (the others overlap it)", n)
	}
}

func TestStopCancelsAndIsBounded(t *testing.T) {
	s := New(&Options{StopTimeout: 100 * time.Millisecond})
	started := make(chan struct{}, 2)
	s.Add("polite", "@daily", func(ctx context.Context) error { started <- struct{}{}; <-ctx.Done(); return ctx.Err() })
	s.Add("stubborn", "@daily", func(ctx context.Context) error { started <- struct{}{}; time.Sleep(2 * time.Second); return nil })
	s.Start(context.Background())
	go s.Run(context.Background(), "polite")
	<-started
	start := time.Now()
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("polite job: %v", err)
	}

	s2 := New(&Options{StopTimeout: 100 * time.Millisecond})
	s2.Add("stubborn", "@daily", func(ctx context.Context) error { started <- struct{}{}; time.Sleep(2 * time.Second); return nil })
	go s2.Run(context.Background(), "stubborn")
	<-started
	err := s2.Stop(context.Background())
	if !errors.Is(err, ErrStopTimeout) || err.Error() != "jobs did not stop in time: [stubborn]" {
		t.Errorf("stubborn job: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Stop took %v", took)
	}
	if err := s2.Run(context.Background(), "stubborn"); err == nil {
		t.Error("Run after Stop worked")
	}
}

func TestAddRejectsBadSpecs(t *testing.T) {
	s := New(nil)
	for _, spec := range []string{"0 3 * *", "@fortnightly", "CRON_TZ=Nowhere/Land 0 3 * * *", "61 * * * *"} {
		if err := s.Add("x", spec, func(context.Context) error { return nil }); err == nil {
			t.Errorf("Add(%q) accepted", spec)
		}
	}
	s.Add("x", "CRON_TZ=Europe/Berlin 0 3 * * *", func(context.Context) error { return nil })
	if err := s.Add("x", "@daily", func(context.Context) error { return nil }); err == nil {
		t.Error("duplicate name accepted")
	}
}

// With Align, "@every" fires at multiples of its interval whenever the
// scheduler started, and a scheduled run knows the tick it is for (Due);
// a manual run has none.
func TestAlignedEveryAndDue(t *testing.T) {
	start := t0.Add(7*time.Second + 300*time.Millisecond) // 02:00:07.3
	clk := newFakeClock(start)
	s := New(&Options{Clock: clk, Align: true})
	dues := make(chan time.Time, 10)
	if err := s.Add("tick", "@every 5s", func(ctx context.Context) error {
		due, ok := Due(ctx)
		if !ok {
			due = time.Time{}
		}
		dues <- due
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if next := s.Entries()[0].Next; !next.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("next = %v, want 02:00:10 (aligned), not 5s after the start", next)
	}
	s.Start(context.Background())
	defer s.Stop(context.Background())
	clk.waitArmed(t)
	clk.advance(t0.Add(10*time.Second + 40*time.Millisecond)) // the timer fires a little late
	select {
	case due := <-dues:
		if !due.Equal(t0.Add(10 * time.Second)) {
			t.Errorf("Due = %v, want the tick 02:00:10", due)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tick did not run")
	}
	clk.waitArmed(t)
	if err := s.Run(context.Background(), "tick"); err != nil {
		t.Fatal(err)
	}
	if due := <-dues; !due.IsZero() {
		t.Errorf("a manual run has Due %v", due)
	}
}
