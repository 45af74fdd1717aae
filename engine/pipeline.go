package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/rules"
)

// Placements remembers where the daemon put messages (no loops).
// *state.Store implements it. A batch's placements are written together:
// one fsync per batch, not one per moved message.
type Placements interface {
	MarkPlacedAll(marks []state.PlacedMark) error
	PlacedBy(account, mailbox string, uidValidity, uid uint32, messageID string) (state.Placement, bool, error)
}

// Event reports what happened to one message; the demo and tests observe it.
type Event struct {
	Account, Mailbox string
	Message          *rules.Message
	Plan             rules.Plan
	// Skipped is non-empty when the message was not evaluated, and says why.
	Skipped string
	// Err is the evaluation error (the message was kept) or the apply
	// error (the plan did not fully apply).
	Err    error
	DryRun bool
}

// Pipeline evaluates the messages of one watched mailbox with one rule set
// and applies the plans. It is the only place where fetched mail meets
// rules, for watchers and backfill alike.
type Pipeline struct {
	Account, Mailbox string
	RulesetName      string
	Rules            rules.Evaluator
	Exec             *actions.Executor
	// Placements may be nil (no loop protection, e.g. for `test`).
	Placements Placements
	// Guarded, when not nil, names the mailboxes of the account that a
	// watcher runs this rule set over: only a move or copy into one of
	// them can loop, so only those are recorded as placements (a bulk run
	// into unwatched folders writes none). Nil records every destination.
	Guarded map[string]bool
	Logger  *slog.Logger
	// Observe, if set, is called for every message after its batch is
	// applied.
	Observe func(Event)
	// Registry, when set, counts every evaluated message and applied
	// batch (metrics, status).
	Registry *observe.Registry
	// DecisionLevel is the level of the line logged for a message whose
	// rules changed nothing ("no rule matched"); changes are logged by
	// the executor at info. Default info: a watcher's log answers "why is
	// this still in my INBOX?". Bulk runs pass debug.
	DecisionLevel slog.Level
}

func (p *Pipeline) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return p.Logger
}

// Evaluate runs the rule set over m. A panic inside a rule is recovered and
// returned as an error; on any error the returned plan is the zero Plan
// (keep), RFC 5228 §2.10.6.
func Evaluate(ctx context.Context, ev rules.Evaluator, m *rules.Message) (plan rules.Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			plan, err = rules.Plan{}, &rules.PanicError{Rule: "(rule set)", Value: r, Stack: debug.Stack()}
		}
	}()
	plan, err = ev.Evaluate(ctx, m)
	if err != nil {
		return rules.Plan{Trace: plan.Trace}, err
	}
	return plan, nil
}

// Handle processes a batch of new messages: it is a watch.Handler. The
// messages are fetched with one streaming UID FETCH (the whole message only
// when a rule reads the body), each is decided as it arrives and kept slim,
// and the batch is acted on at once. When a rule may ask the server about
// mailboxes, they are listed first: no LIST can be sent mid-FETCH.
func (p *Pipeline) Handle(ctx context.Context, sess *imapconn.Session, uids []uint32) error {
	boxes := newServerMailboxes(sess.Client())
	if n, ok := p.Rules.(interface{ NeedsMailboxes() bool }); !ok || n.NeedsMailboxes() {
		if _, err := boxes.list(ctx); err != nil {
			return err
		}
	}
	_, uidValidity := sess.Selected()
	events := make([]Event, 0, len(uids))
	spec := imapconn.FetchSpec{Whole: p.Rules.NeedsBody(), Fields: rules.FetchFields(p.Rules)}
	err := sess.FetchEach(ctx, uids, spec, func(f imapconn.Fetched) error {
		m := parseOne(p.Account, p.Mailbox, uidValidity, f, boxes)
		ev := p.Decide(ctx, m)
		ev.Message = m.Slim()
		events = append(events, ev)
		return nil
	})
	if err != nil {
		return fmt.Errorf("fetch new mail: %w", err)
	}
	return p.Act(ctx, sess, events)
}

// Process evaluates msgs (all from the mailbox mb has selected) and applies
// their plans in one batch: Decide for each, then Act. It returns an error
// only when the batch should be retried on a new connection (the
// connection broke, the journal failed); a message whose rules failed is
// kept and logged, and one the server refused is left in place and logged.
func (p *Pipeline) Process(ctx context.Context, mb actions.Mailbox, msgs []*rules.Message) error {
	events := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		events = append(events, p.Decide(ctx, m))
	}
	return p.Act(ctx, mb, events)
}

// Decide runs the rule set over m, unless loop protection says the
// daemon itself placed m here (then Event.Skipped says so). A rule's error
// or panic is logged and the message kept (Event.Err, zero plan).
func (p *Pipeline) Decide(ctx context.Context, m *rules.Message) Event {
	ev := Event{Account: p.Account, Mailbox: p.Mailbox, Message: m, DryRun: p.Exec.DryRun()}
	if p.Placements != nil {
		if pl, ok, err := p.Placements.PlacedBy(p.Account, p.Mailbox, m.UIDValidity, m.UID, m.MessageID()); err != nil {
			p.log().Warn("placement lookup failed; evaluating anyway", "account", p.Account, "mailbox", p.Mailbox, "uid", m.UID, "err", err)
		} else if ok && pl.Ruleset == p.RulesetName {
			ev.Skipped = fmt.Sprintf("placed here from %s by rule set %q (no loops)", pl.From, pl.Ruleset)
			p.log().Debug("skipping message the daemon placed here itself", "account", p.Account, "mailbox", p.Mailbox,
				"uid", m.UID, "from", pl.From, "ruleset", pl.Ruleset)
			p.Registry.Evaluated(p.Account, p.Mailbox, observe.OutcomeSkipped, 0)
			return ev
		}
	}
	start := time.Now()
	plan, err := Evaluate(ctx, p.Rules, m)
	took := time.Since(start)
	outcome := observe.OutcomeMatched
	if err != nil {
		ev.Err = err
		outcome = observe.OutcomeError
		attrs := []any{"account", p.Account, "mailbox", p.Mailbox, "uid", m.UID, "message_id", m.MessageID(), "err", err}
		if pe, ok := err.(*rules.PanicError); ok {
			attrs = append(attrs, "stack", string(pe.Stack))
		}
		var sk interface{ Skipped() bool }
		if errors.As(err, &sk) && sk.Skipped() {
			// A test the script's step said to skip (unsupported: skip,
			// Sieve's envelope after delivery): expected.
			p.log().Warn("rule skipped what it cannot do here; message kept where it is", attrs...)
		} else {
			p.log().Error("rule evaluation failed; message kept where it is", attrs...)
		}
	} else {
		for _, sk := range plan.Skips {
			// unsupported: skip — the rules asked for what cannot be done
			// here (redirect without smtp:, reject, …).
			p.log().Warn("action skipped", "account", p.Account, "mailbox", p.Mailbox, "uid", m.UID,
				"message_id", m.MessageID(), "rule", sk.Rule, "skipped", sk.Action)
		}
		// Flags the message already has (or lacks) are no change.
		plan.Effective(m.Flags)
		if plan.IsZero() {
			outcome = observe.OutcomeNoMatch
		}
	}
	p.Registry.Evaluated(p.Account, p.Mailbox, outcome, took)
	ev.Plan = plan
	return ev
}

// Act applies the plans of decided events (all messages of the mailbox mb
// has selected) with one Executor.Apply, records where messages went (loop
// protection), sets each event's apply error, logs one line for the batch
// and reports every event to Observe. Its error means: retry the batch.
func (p *Pipeline) Act(ctx context.Context, mb actions.Mailbox, events []Event) error {
	log := p.log().With("account", p.Account, "mailbox", p.Mailbox)
	start := time.Now()
	items := make([]actions.Item, 0, len(events))
	for _, ev := range events {
		if ev.Skipped == "" {
			items = append(items, actions.Item{Message: ev.Message, Plan: ev.Plan})
		}
	}
	// Mark intended placements by Message-ID before moving, so the
	// destination's watcher, which may see the new message before Apply
	// returns, already knows it is ours.
	p.markPlacements(items, nil, log)
	rep, err := p.Exec.Apply(ctx, mb, items)
	if err != nil {
		return err
	}
	p.markPlacements(items, rep, log)
	for i := range events {
		if events[i].Message != nil && events[i].Err == nil {
			events[i].Err = rep.Failed[events[i].Message.UID]
		}
	}
	took := time.Since(start)
	p.Registry.Acted(p.Account, p.Mailbox, len(rep.Failed), took)
	if err := rep.Err(); err != nil && retryable(rep) {
		// Retry on a new connection. The error does not wrap the
		// messages' errors: one of them may be permanent in itself (a
		// capability a closed connection no longer shows), and the
		// watcher must not take the batch for a permanent failure.
		return fmt.Errorf("batch not fully applied; retrying on a new connection: %v", err)
	}
	p.logUnchanged(ctx, log, events)
	log.Info("batch processed", "messages", len(events), "acted_on", rep.Messages,
		"moved", rep.Ops[actions.OpMove], "copied", rep.Ops[actions.OpCopy], "flag_changes", rep.Ops[actions.OpFlag]+rep.Ops[actions.OpUnflag],
		"sent", rep.Ops[actions.OpRedirect]+rep.Ops[actions.OpVacation],
		"failed", len(rep.Failed), "commands", rep.Commands, "skipped_journaled", rep.Skipped, "took", took.Round(time.Millisecond))
	if p.Observe != nil {
		for _, ev := range events {
			p.Observe(ev)
		}
	}
	return nil
}

// logUnchanged logs one line per evaluated message whose rules changed
// nothing, at DecisionLevel: which rule kept it, or that none matched.
// (A message that changed has the executor's "applied" line; a rule error
// has its own.) Together every evaluated message gets one line.
func (p *Pipeline) logUnchanged(ctx context.Context, log *slog.Logger, events []Event) {
	if !log.Enabled(ctx, p.DecisionLevel) {
		return
	}
	for _, ev := range events {
		if ev.Skipped != "" || ev.Err != nil || !ev.Plan.IsZero() {
			continue
		}
		m := ev.Message
		from := ""
		if a := m.Addresses("From"); len(a) > 0 {
			from = a[0].Address
		}
		attrs := []any{"uid", m.UID, "message_id", m.MessageID(), "from", from, "subject", m.Subject()}
		msg := "no rule matched; message stays"
		if names := ev.Plan.RuleNames(); names != "" {
			msg = "rules kept the message where it is"
			attrs = append(attrs, "rules", names)
		}
		log.Log(ctx, p.DecisionLevel, msg, attrs...)
	}
}

// retryable reports whether any failure is worth retrying on a new
// connection (network trouble), rather than a definitive NO from the server.
func retryable(rep *actions.Report) bool {
	for _, err := range rep.Failed {
		var se *actions.SendError
		if errors.As(err, &se) {
			continue // SMTP, not this connection: logged, message left as it is
		}
		if imapconn.IsTemporary(err) {
			return true
		}
	}
	return false
}

// guards reports whether a message placed in mailbox needs loop
// protection (see Guarded). INBOX is case-insensitive (RFC 9051 §5.1).
func (p *Pipeline) guards(mailbox string) bool {
	if p.Guarded == nil {
		return true
	}
	if strings.EqualFold(mailbox, "INBOX") {
		mailbox = "INBOX"
	}
	return p.Guarded[mailbox]
}

// Guarded returns, per account of cfg, the mailboxes watched with rule set
// ruleset (Pipeline.Guarded), INBOX spelled "INBOX".
func Guarded(cfg *config.Config, account, ruleset string) map[string]bool {
	out := map[string]bool{}
	if a := cfg.Account(account); a != nil {
		for _, w := range a.Watch {
			if w.Ruleset != ruleset {
				continue
			}
			name := w.Mailbox
			if strings.EqualFold(name, "INBOX") {
				name = "INBOX"
			}
			out[name] = true
		}
	}
	return out
}

// markPlacements records where messages go (loop protection). Before the
// moves (rep == nil) every planned destination gets a pending mark under
// the message's Message-ID, so the destination's watcher, which may see
// the message before Apply returns, already knows it is ours. After them,
// a move the server numbered (COPYUID) turns into a mark under the exact
// destination UIDVALIDITY and UID, and a failed one drops its pending
// mark; one without COPYUID stays pending until its message claims it.
func (p *Pipeline) markPlacements(items []actions.Item, rep *actions.Report, log *slog.Logger) {
	if p.Placements == nil || p.Exec.DryRun() {
		return
	}
	var marks []state.PlacedMark
	mark := func(mailbox string, m *rules.Message, destUIDValidity, destUID uint32, drop bool) {
		if !p.guards(mailbox) {
			return
		}
		if destUID != 0 || m.MessageID() != "" {
			marks = append(marks, state.PlacedMark{Account: p.Account, Mailbox: mailbox, DestUID: destUID, Drop: drop,
				Placement: state.Placement{Ruleset: p.RulesetName, MessageID: m.MessageID(), From: p.Mailbox, UIDValidity: destUIDValidity}})
		}
	}
	defer func() {
		if err := p.Placements.MarkPlacedAll(marks); err != nil {
			log.Warn("could not record placements; the destinations' watchers may run the rules again", "messages", len(marks), "err", err)
		}
	}()
	if rep == nil {
		for _, it := range items {
			for _, d := range it.Plan.Deliveries {
				if !rules.IsSpecialUse(d.Mailbox) {
					mark(d.Mailbox, it.Message, 0, 0, false)
				}
			}
		}
		return
	}
	byUID := make(map[uint32]*rules.Message, len(items))
	for _, it := range items {
		byUID[it.Message.UID] = it.Message
		if rep.Failed[it.Message.UID] != nil {
			for _, d := range it.Plan.Deliveries {
				if !rules.IsSpecialUse(d.Mailbox) {
					mark(d.Mailbox, it.Message, 0, 0, true)
				}
			}
		}
	}
	for _, pl := range rep.Placed {
		if pl.DestUID != 0 {
			mark(pl.Mailbox, byUID[pl.UID], pl.DestUIDValidity, pl.DestUID, false)
		}
	}
}
