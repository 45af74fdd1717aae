package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/scheduler"
)

// stepClock is a scheduler.Clock that fires a timer as soon as the test
// moves time past it.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*stepTimer
	armed  chan struct{}
}

type stepTimer struct {
	at   time.Time
	c    chan time.Time
	done bool
}

func (t *stepTimer) C() <-chan time.Time { return t.c }
func (t *stepTimer) Stop() bool          { return true }

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) NewTimer(d time.Duration) scheduler.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &stepTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.armed <- struct{}{}
	return t
}

func (c *stepClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	for _, t := range c.timers {
		if !t.done && !t.at.After(now) {
			t.done = true
			t.c <- now
		}
	}
}

// The daemon's scheduler (engine.NewScheduler, what `mailwarden run`
// starts) runs the archive job when its cron time comes, on an injected
// clock, and Stop returns promptly.
func TestSchedulerRunsArchiveOnTime(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "INBOX", msg{id: "old", date: day(2024, 3, 10), flags: []string{`\Seen`}})
	clk := &stepClock{now: time.Date(2026, 11, 26, 2, 59, 0, 0, time.UTC), armed: make(chan struct{}, 10)}
	d := setup(t, a, archiveSchedule, "", nil)
	env := engine.JobEnv(&engine.JobOptions{Dial: engine.NewDialer(d.cfg, nil), Store: d.store, Now: func() time.Time { return now }})
	sched, errs := engine.NewScheduler(d.rt, env, &scheduler.Options{Clock: clk}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if e := sched.Entries(); len(e) != 1 || !e[0].Next.Equal(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)) {
		t.Fatalf("entries = %+v", e)
	}
	sched.Start(context.Background())
	<-clk.armed
	equal(t, "INBOX before 03:00", a.contents(t, "INBOX"), []string{`old[\Seen]`})
	clk.set(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
	<-clk.armed // the loop went back to sleep; the run is on its way
	deadline := time.Now().Add(10 * time.Second)
	// Wait for the run to finish, not just for the message to arrive: the
	// job still journals and logs its summary after the MOVE, and Stop
	// would cancel that.
	for time.Now().Before(deadline) {
		if e := sched.Entries()[0]; !e.LastStart.IsZero() && !e.Running {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := sched.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Stop took %v", time.Since(start))
	}
	equal(t, "Archive/2024/03", a.contents(t, "Archive/2024/03"), []string{`old[\Seen]`})
	if e := sched.Entries()[0]; e.LastStart.IsZero() || e.LastErr != nil {
		t.Errorf("last run: %+v", e)
	}
}
