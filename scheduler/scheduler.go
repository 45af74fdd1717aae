// Package scheduler runs mailwarden's scheduled jobs: cron mechanics only.
// What a job does lives in scheduler/jobs; this package knows a job as a
// name, a cron expression and a function.
//
// The model:
//
//   - Schedules are parsed with robfig/cron/v3's standard parser (five
//     fields, @daily/@weekly/@every 30m descriptors, a CRON_TZ=Zone prefix),
//     the same one engine/config uses to check them at load. The loop that
//     fires them is this package's own, driven by a Clock, so tests move time
//     forward instead of waiting; robfig's own runner reads the wall clock
//     and cannot cancel a running job.
//   - Each run gets a context that is cancelled by Stop.
//
// Invariants:
//
//   - A job never overlaps itself: a run that comes due while the previous
//     one is still going is skipped and logged (as is a manual Run), never
//     queued, so a slow run cannot pile up behind itself.
//   - A panic in a job is recovered, logged with its stack and reported as
//     that run's error; the scheduler and the other jobs go on.
//   - Stop cancels every running job and waits for them at most
//     Options.StopTimeout (or until its own context is done), then returns
//     ErrStopTimeout: shutdown is bounded even if a job ignores its context.
//   - Every run ends with one log line (job, duration, error); the job itself
//     logs its summary (scheduler/jobs does: scanned, matched, acted, bytes
//     freed).
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

var (
	// ErrRunning is returned by Run when the job is already running.
	ErrRunning = errors.New("job is already running")
	// ErrUnknownJob is returned by Run for a name that was never added.
	ErrUnknownJob = errors.New("no such job")
	// ErrStopTimeout is returned by Stop when jobs did not return in time.
	ErrStopTimeout = errors.New("jobs did not stop in time")
)

// DefaultStopTimeout bounds Stop by default.
const DefaultStopTimeout = 30 * time.Second

// Func is one job. It must return soon after ctx is done.
type Func func(ctx context.Context) error

// Clock is the time source of the loop. Tests use a fake one.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a stoppable one-shot timer.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// Options configure a Scheduler. Nil means defaults.
type Options struct {
	// Logger receives one line per run and every skip, panic and error.
	// Nil discards.
	Logger *slog.Logger
	// Clock drives the loop. Nil means the wall clock.
	Clock Clock
	// StopTimeout bounds how long Stop waits for running jobs. Default
	// DefaultStopTimeout.
	StopTimeout time.Duration
	// Align makes "@every D" fire at the multiples of D since the Unix
	// epoch rather than D after the scheduler started, so that several
	// processes (cluster replicas) agree on every due time: a tick is
	// then a name for one run, cluster-wide. Default false.
	Align bool
}

// Due returns the time a scheduled run was due (the tick it is for),
// from the context the scheduler hands the job; false for a manual run.
func Due(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(dueKey{}).(time.Time)
	return t, ok
}

type dueKey struct{}

// aligned is "@every D" aligned to the epoch (Options.Align).
type aligned struct{ every time.Duration }

func (a aligned) Next(t time.Time) time.Time { return t.Truncate(a.every).Add(a.every) }

// Entry describes one job for listings (`mailwarden jobs list`).
type Entry struct {
	Name string
	Spec string
	// Next is the next time the job is due after the clock's now.
	Next time.Time
	// Running reports whether a run is in progress.
	Running bool
	// LastStart and LastErr describe the last run that finished (zero
	// when none has).
	LastStart time.Time
	LastErr   error
}

type job struct {
	name  string
	spec  string
	sched cron.Schedule
	fn    Func

	running sync.Mutex // held for the whole of a run: no overlap
	next    time.Time  // loop only

	mu        sync.Mutex // guards the fields below
	busy      bool
	lastStart time.Time
	lastErr   error
}

// Scheduler runs jobs on their schedules. Add jobs before Start.
type Scheduler struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	jobs    []*job
	started bool
	stopped bool
	cancel  context.CancelFunc // cancels the loop and every run
	runCtx  context.Context
	loop    chan struct{} // closed when the loop returns
	wg      sync.WaitGroup
}

// New returns a Scheduler with no jobs.
func New(opts *Options) *Scheduler {
	s := &Scheduler{}
	if opts != nil {
		s.o = *opts
	}
	if s.o.Clock == nil {
		s.o.Clock = wallClock{}
	}
	if s.o.StopTimeout <= 0 {
		s.o.StopTimeout = DefaultStopTimeout
	}
	s.log = s.o.Logger
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.runCtx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Parse parses a cron expression as Add does.
func Parse(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil { // robfig's parser panics on some inputs
			sched, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

// Add registers fn under name, due on spec. Names must be unique.
func (s *Scheduler) Add(name, spec string, fn Func) error {
	sched, err := Parse(spec)
	if err != nil {
		return fmt.Errorf("job %q: schedule %q: %w", name, spec, err)
	}
	if d, ok := sched.(cron.ConstantDelaySchedule); ok && s.o.Align {
		sched = aligned{every: d.Delay}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return fmt.Errorf("job %q: add before Start", name)
	}
	if s.find(name) != nil {
		return fmt.Errorf("job %q: added twice", name)
	}
	s.jobs = append(s.jobs, &job{name: name, spec: spec, sched: sched, fn: fn})
	return nil
}

func (s *Scheduler) find(name string) *job {
	for _, j := range s.jobs {
		if j.name == name {
			return j
		}
	}
	return nil
}

// Entries lists the jobs in the order they were added, each with its next
// due time after the clock's now.
func (s *Scheduler) Entries() []Entry {
	s.mu.Lock()
	jobs := slices.Clone(s.jobs)
	s.mu.Unlock()
	now := s.o.Clock.Now()
	out := make([]Entry, 0, len(jobs))
	for _, j := range jobs {
		j.mu.Lock()
		out = append(out, Entry{Name: j.name, Spec: j.spec, Next: j.sched.Next(now), Running: j.busy, LastStart: j.lastStart, LastErr: j.lastErr})
		j.mu.Unlock()
	}
	return out
}

// Start starts the loop; it returns at once. The loop ends when ctx is done
// or Stop is called. Start may be called once.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.loop = make(chan struct{})
	jobs := slices.Clone(s.jobs)
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, s.cancel)
	go func() {
		defer close(s.loop)
		defer stop()
		s.run(jobs)
	}()
	s.log.Info("scheduler started", "jobs", len(jobs))
}

// run is the loop: sleep until the earliest due job, start every job that
// is due, compute their next times from the clock, repeat.
func (s *Scheduler) run(jobs []*job) {
	if len(jobs) == 0 {
		<-s.runCtx.Done()
		return
	}
	now := s.o.Clock.Now()
	for _, j := range jobs {
		j.next = j.sched.Next(now)
	}
	for {
		earliest := jobs[0].next
		for _, j := range jobs[1:] {
			if j.next.Before(earliest) {
				earliest = j.next
			}
		}
		var t Timer
		if earliest.IsZero() { // no future time (impossible schedule): wait for stop
			<-s.runCtx.Done()
			return
		}
		t = s.o.Clock.NewTimer(earliest.Sub(s.o.Clock.Now()))
		select {
		case <-s.runCtx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		now := s.o.Clock.Now()
		for _, j := range jobs {
			if j.next.IsZero() || j.next.After(now) {
				continue
			}
			due := j.next
			j.next = j.sched.Next(now)
			next := j.next
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				ctx := context.WithValue(s.runCtx, dueKey{}, due)
				if err := s.runJobCtx(ctx, j, "schedule", j.fn); errors.Is(err, ErrRunning) {
					s.log.Warn("job skipped: the previous run is still going", "job", j.name, "next", next)
				}
			}()
		}
	}
}

// Run runs the job called name now, outside its schedule, and returns its
// error. It refuses (ErrRunning) when that job is already running.
func (s *Scheduler) Run(ctx context.Context, name string) error {
	return s.RunWith(ctx, name, nil)
}

// RunWith is Run with fn in place of the job's own function (nil: the
// job's): a run the caller sets up itself (another logger, dry run), that
// still never overlaps a run of the same job and is recovered and logged
// like one.
func (s *Scheduler) RunWith(ctx context.Context, name string, fn Func) error {
	s.mu.Lock()
	j := s.find(name)
	if j == nil {
		s.mu.Unlock()
		return fmt.Errorf("%q: %w", name, ErrUnknownJob)
	}
	if s.stopped {
		s.mu.Unlock()
		return fmt.Errorf("job %q: the scheduler is stopped", name)
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.runCtx, cancel)
	defer stop()
	if fn == nil {
		fn = j.fn
	}
	return s.runJobCtx(ctx, j, "manual", fn)
}

// runJobCtx runs fn as j once unless j is running, recovering a panic.
func (s *Scheduler) runJobCtx(ctx context.Context, j *job, trigger string, fn Func) (err error) {
	if !j.running.TryLock() {
		return fmt.Errorf("%q: %w", j.name, ErrRunning)
	}
	defer j.running.Unlock()
	start := s.o.Clock.Now()
	j.mu.Lock()
	j.busy = true
	j.mu.Unlock()
	log := s.log.With("job", j.name, "trigger", trigger)
	log.Debug("job started")
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job %q panicked: %v", j.name, r)
			log.Error("job panicked; the scheduler goes on", "panic", r, "stack", string(debug.Stack()))
		}
		j.mu.Lock()
		j.busy, j.lastStart, j.lastErr = false, start, err
		j.mu.Unlock()
		took := s.o.Clock.Now().Sub(start).Round(time.Millisecond)
		if err != nil {
			log.Error("job failed", "took", took, "err", err)
		} else {
			log.Debug("job finished", "took", took)
		}
	}()
	return fn(ctx)
}

// Stop ends the loop, cancels every running job and waits for them, at most
// Options.StopTimeout or until ctx is done; then it returns ErrStopTimeout.
// It is idempotent.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.cancel()
	s.mu.Lock()
	s.stopped = true
	loop := s.loop
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		if loop != nil {
			<-loop
		}
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(s.o.StopTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	var running []string
	for _, e := range s.Entries() {
		if e.Running {
			running = append(running, e.Name)
		}
	}
	s.log.Error("jobs did not stop in time", "running", running, "timeout", s.o.StopTimeout)
	return fmt.Errorf("%w: %v", ErrStopTimeout, running)
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }
func (wallClock) NewTimer(d time.Duration) Timer {
	return realTimer{time.NewTimer(d)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }
