package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/watch"
)

// Options configure an Engine. Nil means defaults.
type Options struct {
	// DryRun logs every planned action and changes nothing: no IMAP
	// command that modifies mail, no checkpoint, journal or placement
	// written.
	DryRun bool
	// Logger receives everything; nil discards.
	Logger *slog.Logger
	// Observe is called for each processed message (the demo prints it).
	Observe func(Event)
	// Ready is called whenever a watcher has caught up and waits for mail.
	Ready func(account, mailbox string)
	// Backoff bounds reconnect delays; zero fields take watch's defaults.
	Backoff watch.Backoff
	// StopTimeout bounds how long Run waits for watchers after its
	// context is done. Default 10s.
	StopTimeout time.Duration
	// Dial connects to an account by name (NewDialer). Required.
	Dial imapconn.Dialer
	// Registry, when set, is told every watcher's state, every evaluated
	// message and every change (metrics, status, readiness).
	Registry *observe.Registry
	// Sender submits Sieve's redirects and vacation replies (NewSender);
	// nil when the config has no smtp: section.
	Sender actions.Sender
}

// Engine runs the watchers of one config.
type Engine struct {
	cfg   *config.Config
	rt    *Runtime
	store *state.Store
	o     Options
	log   *slog.Logger

	mu    sync.Mutex
	live  map[[2]string]*liveRules // (account, rule set) → what its watchers run
	slots map[string]int           // server → IDLE slots taken by RunAccount
}

// New returns an Engine for the compiled config rt (from Compile) and the
// open state store.
func New(rt *Runtime, store *state.Store, opts *Options) *Engine {
	e := &Engine{cfg: rt.Config, rt: rt, store: store}
	if opts != nil {
		e.o = *opts
	}
	if e.o.StopTimeout <= 0 {
		e.o.StopTimeout = 10 * time.Second
	}
	e.log = e.o.Logger
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return e
}

// unit is one supervised watcher.
type unit struct {
	account *config.Account
	watch   config.Watch
	w       *watch.Watcher
	log     *slog.Logger
	// detached: over the server's connection budget, polled.
	detached bool
}

// Run starts every watcher and blocks until ctx is done or every watcher
// has stopped on a permanent error. It returns the permanent errors.
func (e *Engine) Run(ctx context.Context) error {
	if e.o.DryRun {
		e.log.Warn("dry run: planned actions are logged, nothing is changed on the server or in the state file")
	}
	if e.o.Dial == nil {
		return errors.New("engine: Options.Dial is required")
	}
	var units []*unit
	keep := map[[2]string]bool{}
	startup := &startupTracker{log: e.log, start: time.Now()}
	idleSlots := e.idleSlots()
	detach := func(a *config.Account) bool {
		if n, ok := idleSlots[a.Server()]; ok {
			if n > 0 {
				idleSlots[a.Server()] = n - 1
			} else {
				return true
			}
		}
		return false
	}
	for i := range e.cfg.Accounts {
		a := &e.cfg.Accounts[i]
		us, err := e.accountUnits(a, nil, detach, startup.caughtUp)
		if err != nil {
			return err
		}
		for _, u := range us {
			keep[[2]string{a.Name, u.watch.Mailbox}] = true
		}
		units = append(units, us...)
	}
	if len(units) == 0 {
		return errors.New("nothing to watch: no account has a watch entry")
	}
	e.reportBudgets(units)
	e.o.Registry.Forget(keep)
	startup.total.Store(int64(len(units)))
	e.log.Info("mailwarden running", "watchers", len(units), "state", e.store.Path(), "dry_run", e.o.DryRun)
	return e.runUnits(ctx, units)
}

// AccountOptions say where one account's progress is kept when not in
// the state file: a clustered account's checkpoints and copy intents go
// through etcd (engine/cluster). Nil means the state file, for each.
type AccountOptions struct {
	Checkpoints watch.Checkpoints
	Journal     actions.Journal
	Intents     CopyIntents
}

// RunAccount runs the watchers of one account until ctx is done or each
// has stopped on a permanent error, and returns those errors; Run runs
// every account at once. The daemon of a cluster replica calls it for
// each account it owns, and cancels ctx when it no longer does: the
// account's watchers stop (bounded by StopTimeout) and leave the status.
// Over a server's connection budget, an account's watchers take the IDLE
// slots that are free when it starts (the budget less one, across the
// accounts this process runs); the rest poll.
func (e *Engine) RunAccount(ctx context.Context, account string, o *AccountOptions) error {
	if e.o.Dial == nil {
		return errors.New("engine: Options.Dial is required")
	}
	a := e.cfg.Account(account)
	if a == nil {
		return fmt.Errorf("account %q is not in the config", account)
	}
	var taken []string
	detach := func(a *config.Account) bool {
		idle, took := e.takeSlot(a.Server())
		if took {
			taken = append(taken, a.Server())
		}
		return !idle
	}
	units, err := e.accountUnits(a, o, detach, nil)
	defer func() {
		for _, server := range taken {
			e.giveSlot(server)
		}
		e.o.Registry.ForgetAccount(account)
	}()
	if err != nil || len(units) == 0 {
		return err
	}
	e.log.Info("account started", "account", account, "watchers", len(units))
	defer e.log.Info("account stopped", "account", account)
	return e.runUnits(ctx, units)
}

// takeSlot takes one of server's IDLE slots for RunAccount: idle is
// false when none is free (a server without a budget always has one),
// took says a slot was taken (give it back with giveSlot).
func (e *Engine) takeSlot(server string) (idle, took bool) {
	limit, ok := e.cfg.Budgets()[server]
	if !ok {
		return true, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.slots == nil {
		e.slots = map[string]int{}
	}
	if e.slots[server] >= limit-1 {
		return false, false
	}
	e.slots[server]++
	return true, true
}

func (e *Engine) giveSlot(server string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.slots[server]--
}

// accountUnits builds the watchers of account a. detach says whether a
// watcher of a must poll (over the connection budget); caughtUp, when
// set, is called on each watcher's first catch-up.
func (e *Engine) accountUnits(a *config.Account, ao *AccountOptions, detach func(*config.Account) bool, caughtUp func()) ([]*unit, error) {
	var checkpoints watch.Checkpoints = e.store
	var placements Placements = e.store
	var journal actions.Journal = e.store
	var intents CopyIntents = e.store
	if ao != nil {
		if ao.Checkpoints != nil {
			checkpoints = ao.Checkpoints
		}
		if ao.Journal != nil {
			journal = ao.Journal
		}
		if ao.Intents != nil {
			intents = ao.Intents
		}
	}
	if e.o.DryRun {
		// The store is read-only; the journal is read, never written.
		checkpoints = &watch.DryRunCheckpoints{Store: checkpoints}
	}
	log := e.log.With("account", a.Name)
	exec := actions.New(&actions.Options{Account: a.Name, DryRun: e.o.DryRun, Logger: e.log, Journal: journal,
		OnApplied: e.o.Registry.Applied, Sender: e.o.Sender, SendLog: sendLog(e.store, e.o.DryRun),
		SendPeriod: e.cfg.JournalRetention})
	account := a.Name
	dial := func(ctx context.Context) (*imapconn.Client, error) { return e.o.Dial(ctx, account) }
	var units []*unit
	for _, wc := range a.Watch {
		set := e.liveSet(a.Name, wc.Ruleset)
		if set == nil {
			return nil, fmt.Errorf("account %q: watch %q: rule set %q was not compiled", a.Name, wc.Mailbox, wc.Ruleset)
		}
		p := &Pipeline{
			Account: a.Name, Mailbox: wc.Mailbox, RulesetName: wc.Ruleset,
			Rules: set, Exec: exec, Placements: placements, Guarded: Guarded(e.cfg, a.Name, wc.Ruleset), Logger: e.log, Observe: e.o.Observe,
			Registry: e.o.Registry,
		}
		acct, mbox := a.Name, wc.Mailbox
		detached := detach(a)
		var once sync.Once
		ready := func() {
			if caughtUp != nil {
				once.Do(caughtUp)
			}
			if e.o.Ready != nil {
				e.o.Ready(acct, mbox)
			}
		}
		w := watch.New(watch.Options{
			Account: a.Name, Mailbox: wc.Mailbox, Dial: dial, State: checkpoints,
			Handle: p.Handle, StartAll: wc.Start == config.StartAll,
			IdleRefresh: a.IdleRefresh, PollInterval: wc.PollInterval, Backoff: e.o.Backoff,
			Logger: e.log, Ready: ready, Report: e.o.Registry.Watcher(a.Name, wc.Mailbox),
			Recover: e.recoverer(intents, a.Name, wc.Mailbox), Detached: detached,
			Resolve: func(ctx context.Context, c *imapconn.Client, name string) (string, error) {
				return actions.Resolve(ctx, c, name) // `\Junk` as for actions and jobs
			},
		})
		units = append(units, &unit{account: a, watch: wc, w: w, log: log.With("mailbox", wc.Mailbox), detached: detached})
	}
	return units, nil
}

// runUnits supervises units until ctx is done (then waits for them at
// most StopTimeout) or every one has stopped on a permanent error.
func (e *Engine) runUnits(ctx context.Context, units []*unit) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	done := make(chan struct{})
	for _, u := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.supervise(ctx, u); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("account %q mailbox %q: %w", u.account.Name, u.watch.Mailbox, err))
				mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	select {
	case <-done:
	case <-ctx.Done():
		t := time.NewTimer(e.o.StopTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			e.log.Error("watchers did not stop in time; exiting anyway", "timeout", e.o.StopTimeout)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return errors.Join(errs...)
}

// idleSlots returns, per server with a connection budget, how many of its
// watchers may hold a connection in IDLE. When the watchers fit in the
// budget with a slot to spare, all of them; otherwise the budget less one,
// which is kept for the jobs, apply and the polling watchers, who take
// turns with it. The rest poll (watch.Options.Detached), in config order.
func (e *Engine) idleSlots() map[string]int {
	watchers := map[string]int{}
	for i := range e.cfg.Accounts {
		watchers[e.cfg.Accounts[i].Server()] += len(e.cfg.Accounts[i].Watch)
	}
	out := map[string]int{}
	for server, limit := range e.cfg.Budgets() {
		if watchers[server] < limit {
			out[server] = watchers[server]
		} else {
			out[server] = limit - 1
		}
	}
	return out
}

// reportBudgets says, once per server, when watchers poll because of the
// budget.
func (e *Engine) reportBudgets(units []*unit) {
	polled := map[string]int{}
	total := map[string]int{}
	for _, u := range units {
		total[u.account.Server()]++
		if u.detached {
			polled[u.account.Server()]++
		}
	}
	budgets := e.cfg.Budgets()
	for server, n := range polled {
		e.log.Warn("more mailboxes watched than the server's connection budget allows: the rest are polled",
			"server", server, "max_connections", budgets[server], "watchers", total[server],
			"idle", total[server]-n, "polled", n)
	}
}

// startupTracker notices when every watcher has caught up once.
type startupTracker struct {
	log   *slog.Logger
	start time.Time
	total atomic.Int64
	done  atomic.Int64
}

// caughtUp counts one watcher's first catch-up. When the last one is in,
// it says so at info, and returns to the OS the memory the catch-up burst
// (connecting, fetching, parsing) used: an idle daemon's RSS then shows what
// it holds (a few tens of KiB per watcher), not its startup peak.
func (s *startupTracker) caughtUp() {
	if n := s.done.Add(1); n == s.total.Load() {
		s.log.Info("every watcher has caught up and waits for mail", "watchers", n, "took", time.Since(s.start).Round(time.Millisecond))
		go debug.FreeOSMemory()
	}
}

// recoverer returns the watcher's hook that settles copies a crash left
// uncertain (recover.go); none in dry run, which changes nothing.
func (e *Engine) recoverer(intents CopyIntents, account, mailbox string) func(context.Context, *imapconn.Client) error {
	if e.o.DryRun {
		return nil
	}
	return func(ctx context.Context, c *imapconn.Client) error {
		return recoverCopies(ctx, c, intents, account, mailbox, e.log)
	}
}

// supervise runs a watcher until ctx is done or it fails permanently,
// restarting it after a panic.
func (e *Engine) supervise(ctx context.Context, u *unit) error {
	b := watch.Backoff{Min: time.Second, Max: time.Minute, HealthyAfter: time.Minute}
	for {
		start := time.Now()
		err, panicked := runRecovered(ctx, u.w)
		if !panicked {
			return err
		}
		b.Healthy(time.Since(start))
		delay := b.Next()
		u.log.Error("watcher panicked; restarting", "panic", err, "retry_in", delay.Round(time.Millisecond))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func runRecovered(ctx context.Context, w *watch.Watcher) (err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			err, panicked = fmt.Errorf("%v\n%s", r, debug.Stack()), true
		}
	}()
	return w.Run(ctx), false
}
