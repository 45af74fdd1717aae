// Package watch runs one mailbox's watch loop: connect, select, catch up
// from the checkpoint, IDLE, fetch what arrived, hand it off, advance the
// checkpoint, and reconnect with capped, jittered backoff when anything
// breaks. One Watcher owns one IMAP connection (go-imap's IDLE holds the
// connection's encoder, so a connection cannot IDLE on two mailboxes).
//
// Invariants:
//
//   - Once and only once: the checkpoint (UIDVALIDITY, last UID) advances
//     only after the Handler returned nil for a batch, so a crash or a
//     dropped connection re-fetches from the last applied UID; the actions
//     journal makes re-applying a partly applied batch skip what was done.
//   - First start processes only mail that arrives after it, unless
//     StartAll. A UIDVALIDITY change (RFC 9051 §2.3.1.1: every old UID is
//     void) is logged and handled like a first start.
//   - Never silent: every failure is logged (once per distinct cause),
//     every recovery too; a permanent failure (bad password, bad
//     certificate) stops this watcher with an error rather than hammering
//     the server, and the engine reports it.
//   - The IDLE notification handler never blocks and never calls the
//     client (it only signals a 1-slot channel, engine/imapconn); this loop
//     does DONE → UID FETCH → IDLE. IDLE is re-issued every IdleRefresh with
//     a NOOP in between as a health check, because servers and NATs drop
//     idle connections long before RFC 2177's 29 minutes.
//   - Servers without IDLE are polled with NOOP every PollInterval.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
)

// Handler processes a batch of new messages of the selected mailbox, given
// by their UIDs (ascending): it fetches them, decides and acts. It returns
// nil once every message's plan was applied (or definitively failed and
// was logged); an error makes the watcher drop the connection and retry
// the same UIDs after reconnecting. A UID that is gone by the time the
// Handler fetches is simply not there.
type Handler func(ctx context.Context, sess *imapconn.Session, uids []uint32) error

// State is what a watcher is doing.
type State string

const (
	// StateConnecting: dialing, logging in, selecting the mailbox.
	StateConnecting State = "connecting"
	// StateCatchingUp: processing the mail found above the checkpoint.
	StateCatchingUp State = "catching_up"
	// StateIdle: in IDLE, waiting for the server to push new mail.
	StateIdle State = "idle"
	// StatePolling: the server has no IDLE; waiting to poll with NOOP.
	StatePolling State = "polling"
	// StatePollingOverBudget: more mailboxes are watched on this server
	// than its connection budget (max_connections) lets IDLE; this one
	// connects every PollInterval, catches up, and disconnects.
	StatePollingOverBudget State = "polling_over_budget"
	// StateRetrying: the connection failed; waiting out the backoff.
	StateRetrying State = "retrying"
	// StateStopped: a permanent error (bad password, bad certificate):
	// this watcher gave up until the config is fixed.
	StateStopped State = "stopped"
)

// Reporter is told what a watcher does; engine/observe keeps it for
// `mailwarden status`, /readyz and the metrics. Calls come from the
// watcher's goroutine and must return at once.
type Reporter interface {
	// State reports a change of state. err is the failure behind
	// StateRetrying and StateStopped (nil otherwise); next is when the
	// watcher retries (StateRetrying only).
	State(s State, err error, next time.Time)
	// Checkpoint reports that the mailbox is processed up to cp.
	Checkpoint(cp state.Checkpoint)
}

// Checkpoints stores how far each mailbox was processed; *state.Store
// implements it, and DryRunCheckpoints keeps dry-run progress in memory.
type Checkpoints interface {
	Checkpoint(account, mailbox string) (state.Checkpoint, bool, error)
	SetCheckpoint(account, mailbox string, cp state.Checkpoint) error
}

// DefaultBatchSize is Options.BatchSize: a catch-up after a long downtime
// (or a first start with start: all) acts on up to this many messages at
// once, so it sends one command per destination, not one per few hundred
// messages. A live wake-up brings a handful.
const DefaultBatchSize = 5000

// DefaultBackoffMax caps the delay between reconnect attempts: mail that
// arrives while the server is down is processed at most about this long
// after it is back, and one connection attempt a minute per watcher is no
// load for a server.
const DefaultBackoffMax = time.Minute

// Options configure a Watcher. Fields without a default are required.
type Options struct {
	Account string
	Mailbox string
	// Dial opens an authenticated connection to the account's server.
	Dial func(ctx context.Context) (*imapconn.Client, error)
	// State holds the checkpoint (a *state.Store, or an overlay in dry run).
	State Checkpoints
	// Handle processes each batch.
	Handle Handler
	// StartAll makes a first start process the mail already in the
	// mailbox. Default false: only mail arriving from now on.
	StartAll bool
	// BatchSize caps the messages of one batch (the Handler fetches them
	// with one UID FETCH and acts on them at once; the checkpoint advances
	// per batch). Default DefaultBatchSize.
	BatchSize int
	// IdleRefresh is how long one IDLE lasts before DONE + NOOP + IDLE.
	// Default 10m.
	IdleRefresh time.Duration
	// PollInterval is the NOOP poll period when the server lacks IDLE.
	// Default 1m.
	PollInterval time.Duration
	// Backoff bounds reconnect delays. Default 1s…DefaultBackoffMax,
	// reset after 1m up.
	Backoff Backoff
	// Logger receives the watcher's lines. Nil discards.
	Logger *slog.Logger
	// Ready, if non-nil, is called after each catch-up, when the watcher
	// is about to wait for new mail (tests and the demo use it).
	Ready func()
	// Report, if non-nil, is told every change of state and checkpoint.
	Report Reporter
	// Recover, if non-nil, runs on each new connection before the mailbox
	// is selected: the engine settles what a crash left uncertain (copies
	// that may or may not have been made). An error drops the connection
	// and is retried like any other.
	Recover func(ctx context.Context, c *imapconn.Client) error
	// Resolve, if non-nil, turns Mailbox into the name to select on each
	// new connection: the engine resolves a special-use attribute
	// (`\Junk`, RFC 6154) as it does for actions and jobs. The checkpoint
	// stays keyed by Mailbox as configured. Default: Mailbox as it is.
	Resolve func(ctx context.Context, c *imapconn.Client, mailbox string) (string, error)
	// Detached makes the watcher hold no connection between polls: every
	// PollInterval it connects, catches up and logs out, so its connection
	// is free for others in between. The engine sets it for the watchers
	// beyond a server's connection budget. Default false: one connection,
	// kept, in IDLE.
	Detached bool
}

// Watcher watches one mailbox of one account.
type Watcher struct {
	o         Options
	log       *slog.Logger
	fail      failureLog
	announced bool // Detached: the polling line was logged
}

// New returns a Watcher; Run starts it.
func New(o Options) *Watcher {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.IdleRefresh <= 0 {
		o.IdleRefresh = 10 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Minute
	}
	if o.Backoff.Min <= 0 {
		o.Backoff.Min = time.Second
	}
	if o.Backoff.Max <= 0 {
		o.Backoff.Max = DefaultBackoffMax
	}
	if o.Backoff.HealthyAfter <= 0 {
		o.Backoff.HealthyAfter = time.Minute
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log = log.With("account", o.Account, "mailbox", o.Mailbox)
	return &Watcher{o: o, log: log, fail: failureLog{log: log}}
}

// Run watches until ctx is done (then it returns nil) or a permanent error
// occurs (then it returns that error).
func (w *Watcher) Run(ctx context.Context) error {
	for {
		start := time.Now()
		err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil && w.o.Detached {
			w.report(StatePollingOverBudget, nil, time.Now().Add(w.o.PollInterval))
			t := time.NewTimer(w.o.PollInterval)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		}
		w.o.Backoff.Healthy(time.Since(start))
		if imapconn.IsPermanent(err) {
			w.log.Error("watcher stopped: permanent error (fix the config and restart)", "err", err)
			w.report(StateStopped, err, time.Time{})
			return err
		}
		delay := w.o.Backoff.Next()
		w.report(StateRetrying, err, time.Now().Add(delay))
		w.fail.failed(err, delay, time.Now())
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// errServerClosed marks a connection the server closed under us.
var errServerClosed = fmt.Errorf("connection closed by server: %w", imapconn.ErrClosed)

// session is one connection's life: it returns when the connection fails
// or ctx is done.
func (w *Watcher) session(ctx context.Context) error {
	w.report(StateConnecting, nil, time.Time{})
	c, err := w.o.Dial(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	if w.o.Recover != nil {
		if err := w.o.Recover(ctx, c); err != nil {
			return err
		}
	}
	name := w.o.Mailbox
	if w.o.Resolve != nil {
		if name, err = w.o.Resolve(ctx, c, name); err != nil {
			return fmt.Errorf("find mailbox %s: %w", w.o.Mailbox, err)
		}
	}
	sess, err := c.Select(ctx, name)
	if err != nil {
		return fmt.Errorf("select %q: %w", name, err)
	}
	last, err := w.checkpoint(ctx, sess)
	if err != nil {
		return err
	}
	w.fail.recovered(time.Now())
	idle, announced := true, false
	for {
		w.report(StateCatchingUp, nil, time.Time{})
		if last, err = w.catchUp(ctx, sess, last); err != nil {
			return err
		}
		if w.o.Ready != nil {
			w.o.Ready()
		}
		if w.o.Detached {
			if !w.announced {
				w.log.Info("watching by polling: more mailboxes are watched on this server than max_connections lets IDLE",
					"interval", w.o.PollInterval, "last_uid", last)
				w.announced = true
			}
			// Give the connection back: LOGOUT, so the server has closed its
			// side before our slot of the budget is free again.
			return c.Logout(ctx)
		}
		if !announced {
			// One line per connection at info: the watcher is up.
			w.log.Info("watching: connected and waiting for new mail", "last_uid", last, "push", idle && c.Has("IDLE"))
			announced = true
		}
		if idle {
			w.report(StateIdle, nil, time.Time{})
			err = w.idle(ctx, c, sess)
			if errors.Is(err, imapconn.ErrNoIdle) {
				w.log.Warn("server has no IDLE; polling", "interval", w.o.PollInterval)
				idle = false
				err = nil
			}
		} else {
			w.report(StatePolling, nil, time.Time{})
			err = w.poll(ctx, c, sess)
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// checkpoint loads (or on first start creates) the checkpoint and returns
// the last processed UID.
func (w *Watcher) checkpoint(ctx context.Context, sess *imapconn.Session) (uint32, error) {
	_, uidValidity := sess.Selected()
	cp, ok, err := w.o.State.Checkpoint(w.o.Account, w.o.Mailbox)
	if err != nil {
		return 0, err
	}
	if ok && cp.UIDValidity == uidValidity {
		w.checkpointed(cp)
		return cp.LastUID, nil
	}
	start := uint32(0)
	if !w.o.StartAll {
		if start, err = highestUID(ctx, sess); err != nil {
			return 0, err
		}
	}
	if ok {
		w.log.Warn("UIDVALIDITY changed: old checkpoint void (RFC 9051 §2.3.1.1); starting over as on a first start",
			"old_uidvalidity", cp.UIDValidity, "uidvalidity", uidValidity, "from_uid", start)
	} else if w.o.StartAll {
		w.log.Info("first start: processing all mail in the mailbox (start: all)")
	} else {
		w.log.Info("first start: processing only new mail (set start: all to process existing mail)", "from_uid", start)
	}
	cp = state.Checkpoint{UIDValidity: uidValidity, LastUID: start}
	if err = w.o.State.SetCheckpoint(w.o.Account, w.o.Mailbox, cp); err == nil {
		w.checkpointed(cp)
	}
	return start, err
}

func (w *Watcher) report(s State, err error, next time.Time) {
	if w.o.Report != nil {
		w.o.Report.State(s, err, next)
	}
}

func (w *Watcher) checkpointed(cp state.Checkpoint) {
	if w.o.Report != nil {
		w.o.Report.Checkpoint(cp)
	}
}

// catchUp finds everything above last (UID SEARCH UID last+1:*, RFC 9051
// §6.4.4) and hands it off batch by batch, advancing the checkpoint after
// each.
func (w *Watcher) catchUp(ctx context.Context, sess *imapconn.Session, last uint32) (uint32, error) {
	_, uidValidity := sess.Selected()
	if last == ^uint32(0) {
		return last, nil
	}
	for {
		uids, err := sess.SearchUIDs(ctx, &imapconn.Criteria{UIDFrom: last + 1})
		if err != nil {
			return last, fmt.Errorf("find new mail: %w", err)
		}
		if len(uids) == 0 {
			return last, nil
		}
		more := len(uids) > w.o.BatchSize
		if more {
			uids = uids[:w.o.BatchSize]
		}
		if err := w.o.Handle(ctx, sess, uids); err != nil {
			return last, fmt.Errorf("process UIDs %d-%d: %w", uids[0], uids[len(uids)-1], err)
		}
		last = max(last, uids[len(uids)-1])
		cp := state.Checkpoint{UIDValidity: uidValidity, LastUID: last}
		if err := w.o.State.SetCheckpoint(w.o.Account, w.o.Mailbox, cp); err != nil {
			return last, err
		}
		w.checkpointed(cp)
		if !more {
			return last, nil
		}
	}
}

// idle waits in IDLE (RFC 2177) until the server reports new mail, the
// refresh period ends, the connection drops or ctx is done.
func (w *Watcher) idle(ctx context.Context, c *imapconn.Client, sess *imapconn.Session) error {
	// Drain a wake-up that arrived while we were fetching: that mail may be
	// in the batch we just processed, but an extra FETCH costs little and a
	// missed one would cost a message.
	select {
	case <-c.Updates():
		return nil
	default:
	}
	cmd, err := sess.Idle(ctx)
	if err != nil {
		return err
	}
	timer := time.NewTimer(w.o.IdleRefresh)
	defer timer.Stop()
	refresh := false
	var closed bool
	select {
	case <-ctx.Done():
	case <-c.Updates():
	case <-timer.C:
		refresh = true
	case <-c.Closed():
		closed = true
	}
	if closed {
		return errServerClosed
	}
	if err := cmd.Stop(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("idle: %w", err)
	}
	if refresh {
		// Health check: a dead peer is noticed here rather than never.
		if err := sess.Noop(ctx); err != nil {
			return fmt.Errorf("noop after idle: %w", err)
		}
	}
	return nil
}

// poll waits PollInterval and sends NOOP, which lets the server report
// new messages (RFC 9051 §6.1.2).
func (w *Watcher) poll(ctx context.Context, c *imapconn.Client, sess *imapconn.Session) error {
	t := time.NewTimer(w.o.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.Closed():
		return errServerClosed
	case <-t.C:
	}
	if err := sess.Noop(ctx); err != nil {
		return fmt.Errorf("noop: %w", err)
	}
	return nil
}

// highestUID returns the UID below which all current mail lies: UIDNEXT-1
// from SELECT (RFC 9051 §7.3.1), or, when the server sent no UIDNEXT, the
// highest UID a UID SEARCH ALL finds.
func highestUID(ctx context.Context, sess *imapconn.Session) (uint32, error) {
	if n := sess.UIDNext(); n > 0 {
		return n - 1, nil
	}
	uids, err := sess.SearchUIDs(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("find the newest UID: %w", err)
	}
	if len(uids) == 0 {
		return 0, nil
	}
	return uids[len(uids)-1], nil
}
