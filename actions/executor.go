package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// Options configure an Executor. The zero value (or nil) is valid.
type Options struct {
	// Account names the account in journal entries and logs. Default "".
	Account string
	// DryRun logs every command the plans need and sends none.
	DryRun bool
	// Logger receives one line per message acted on and one per command
	// (at debug level). Nil discards.
	Logger *slog.Logger
	// Journal records applied changes and lets the Executor skip changes
	// already made (exactly-once across crashes). Nil disables both. A
	// dry run reads it (to skip what a real run would skip) and records
	// nothing.
	Journal Journal
	// Now returns the time stamped on journal entries. Nil means time.Now.
	Now func() time.Time
	// MaxExpunge caps the messages one Expunge call may remove; a call
	// with more is refused whole. Default DefaultMaxExpunge.
	MaxExpunge int
	// Sender submits the plans' Sends (Sieve redirect and vacation);
	// nil: a plan with a Send fails for that message (a redirect leaves
	// it as it is).
	Sender Sender
	// SendLog makes every Send at most once (see SendLog); nil: no
	// memory, every Send is made (tests).
	SendLog SendLog
	// SendPeriod is how long a redirect is remembered; default
	// DefaultSendPeriod.
	SendPeriod time.Duration
	// OnApplied, when set, is told of every change made, one Entry per
	// message and operation, once the server confirmed it (the metrics
	// count actions by rule and type). Not called in dry run. It must
	// return at once.
	OnApplied func(entries []Entry)
}

// Executor applies Plans through a Mailbox. It holds no per-batch state and
// is safe for concurrent use with different Mailboxes.
type Executor struct {
	opts Options
	log  *slog.Logger
}

// New returns an Executor. opts may be nil.
func New(opts *Options) *Executor {
	e := &Executor{}
	if opts != nil {
		e.opts = *opts
	}
	e.log = e.opts.Logger
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.opts.Now == nil {
		e.opts.Now = time.Now
	}
	return e
}

// DryRun reports whether the Executor only logs.
func (e *Executor) DryRun() bool { return e.opts.DryRun }

// Item is one message and the plan decided for it.
type Item struct {
	Message *rules.Message
	Plan    rules.Plan
}

// Report says what one Apply did.
type Report struct {
	// Messages is the number of items whose plan changed something.
	Messages int
	// Ops counts messages per kind of change applied (or planned, in dry run).
	Ops map[Op]int
	// Commands is the number of IMAP commands sent (or that would be sent).
	Commands int
	// Skipped counts operations left out because the journal already held them.
	Skipped int
	// Placed lists every copy or move that reached another mailbox, with the
	// destination UID when the server reported it (COPYUID), so that the
	// engine can tell its own moves apart from new mail (no loops).
	Placed []Placed
	// Failed maps the UID of every message whose plan did not fully apply
	// to the first error. Such a message is never removed from its mailbox.
	Failed map[uint32]error
	// Warnings are non-fatal conditions worth a log line (e.g. no UIDPLUS).
	Warnings []string
}

// Placed is one message copied or moved into another mailbox.
type Placed struct {
	UID     uint32 // source UID
	Mailbox string // resolved destination name
	DestUID uint32 // 0 when unknown
	// DestUIDValidity is the destination's UIDVALIDITY from COPYUID (0
	// when unknown): with DestUID it names the exact message.
	DestUIDValidity uint32
	Op              Op // OpCopy or OpMove
}

// Err returns nil when every plan applied, else an error naming how many
// messages failed and the first distinct errors.
func (r *Report) Err() error {
	if len(r.Failed) == 0 {
		return nil
	}
	uids := make([]uint32, 0, len(r.Failed))
	for uid := range r.Failed {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	var errs []error
	seen := map[string]bool{}
	for _, uid := range uids {
		msg := r.Failed[uid].Error()
		if !seen[msg] && len(errs) < 3 {
			seen[msg] = true
			errs = append(errs, r.Failed[uid])
		}
	}
	return fmt.Errorf("%d message(s) not fully applied (first UID %d): %w", len(uids), uids[0], errors.Join(errs...))
}

// work is the per-message state of one Apply.
type work struct {
	item     *Item
	flags    []string // flags after in-place changes
	add, rem []string // in-place changes still to apply
	copies   []target // deliveries that keep the original
	final    *target  // the delivery that removes the original, if any
	// finalCopied: the journal says final's copy was made already (a run
	// cut short after the copy of a move); only the original's removal is
	// left.
	finalCopied bool
	err         error
}

type target struct {
	mailbox string // resolved name
	flags   []string
	create  bool
	rule    string
}

func (t target) flagsKey() string {
	if t.flags == nil {
		return "\x00"
	}
	return strings.Join(t.flags, " ")
}

// Apply carries out the plans of items, which must all come from the
// mailbox mb has selected. It returns an error only when the batch could
// not be attempted at all (ctx cancelled, journal unreadable); per-message
// failures are in Report.Failed.
func (e *Executor) Apply(ctx context.Context, mb Mailbox, items []Item) (*Report, error) {
	rep := &Report{Ops: map[Op]int{}, Failed: map[uint32]error{}}
	mailbox, uidValidity := mb.Selected()
	log := e.log.With("account", e.opts.Account, "mailbox", mailbox)

	// Sends first: a message is removed only once its redirects went out.
	held := e.sendAll(ctx, items, rep, log)
	ws := make([]*work, 0, len(items))
	resolved := map[string]string{}
	for i := range items {
		it := &items[i]
		if it.Plan.IsZero() {
			continue
		}
		if err := held[it.Message.UID]; err != nil {
			rep.Failed[it.Message.UID] = err
			continue
		}
		w := &work{item: it, flags: it.Plan.FlagsAfter(it.Message.Flags)}
		// A flag change that changes nothing needs no command.
		eff := it.Plan
		eff.Effective(it.Message.Flags)
		w.add, w.rem = eff.AddFlags, eff.RemoveFlags
		if eff.IsZero() {
			continue
		}
		keepOriginal := !it.Plan.Remove
		var targets []target
		for _, d := range it.Plan.Deliveries {
			name, err := e.resolve(ctx, mb, d.Mailbox, resolved)
			if err != nil {
				w.err = err
				break
			}
			if name == mailbox {
				// fileinto the mailbox the message is already in is a keep
				// (RFC 5228 §4.1, RFC 6785 §3.4).
				keepOriginal = true
				continue
			}
			flags := d.Flags
			if flags != nil && sameFlags(flags, w.flags) {
				// The copy gets the flags the message has anyway (Sieve
				// imap4flags makes every copy's flags explicit): no extra
				// STOREs, and the message batches with the others.
				flags = nil
			}
			targets = append(targets, target{mailbox: name, flags: flags, create: d.Create || rules.IsSpecialUse(d.Mailbox), rule: d.Rule})
		}
		if !keepOriginal && len(targets) > 0 {
			// The last delivery moves the original; the others copy it.
			w.final = &targets[len(targets)-1]
			targets = targets[:len(targets)-1]
		}
		w.copies = targets
		if w.err != nil {
			rep.Failed[it.Message.UID] = w.err
			continue
		}
		ws = append(ws, w)
		rep.Messages++
	}
	if len(ws) == 0 {
		return rep, ctx.Err()
	}
	if err := e.skipJournaled(ctx, mailbox, uidValidity, ws, rep); err != nil {
		return rep, err
	}

	b := &batch{e: e, ctx: ctx, mb: mb, rep: rep, log: log, mailbox: mailbox, uidValidity: uidValidity}
	b.storeFlags(ws, StoreAdd)
	b.storeFlags(ws, StoreRemove)
	b.copy(ws)
	b.move(ws)

	for _, w := range ws {
		uid := w.item.Message.UID
		if w.err != nil {
			rep.Failed[uid] = w.err
			log.Error("plan not fully applied; message left in place", "uid", uid,
				"message_id", w.item.Message.MessageID(), "plan", w.item.Plan.Compact(), "err", w.err)
			continue
		}
		msg := "applied"
		if e.opts.DryRun {
			msg = "dry run: would apply"
		}
		log.Info(msg, "uid", uid, "message_id", w.item.Message.MessageID(),
			"subject", w.item.Message.Subject(), "plan", w.item.Plan.Compact(), "rules", w.item.Plan.RuleNames())
	}
	return rep, ctx.Err()
}

// resolve maps a special-use attribute to a mailbox name, once per Apply.
func (e *Executor) resolve(ctx context.Context, mb Mailbox, name string, cache map[string]string) (string, error) {
	if !rules.IsSpecialUse(name) {
		return name, nil
	}
	if n, ok := cache[name]; ok {
		return n, nil
	}
	n, err := Resolve(ctx, mb, name)
	if err != nil {
		return "", err
	}
	cache[name] = n
	return n, nil
}

// skipJournaled drops operations the journal already holds.
func (e *Executor) skipJournaled(ctx context.Context, mailbox string, uidValidity uint32, ws []*work, rep *Report) error {
	if e.opts.Journal == nil {
		return nil // a dry run reads the journal too: it reports what a real run would skip
	}
	entry := func(w *work, op Op, target string) string {
		en := Entry{Account: e.opts.Account, Mailbox: mailbox, UIDValidity: uidValidity, UID: w.item.Message.UID, Op: op, Target: target}
		return en.Key()
	}
	var keys []string
	for _, w := range ws {
		for _, f := range w.add {
			keys = append(keys, entry(w, OpFlag, f))
		}
		for _, f := range w.rem {
			keys = append(keys, entry(w, OpUnflag, f))
		}
		for _, t := range w.copies {
			keys = append(keys, entry(w, OpCopy, t.mailbox))
		}
		if w.final != nil {
			keys = append(keys, entry(w, OpCopy, w.final.mailbox))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	recorded, err := e.opts.Journal.Applied(ctx, keys)
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	if len(recorded) == 0 {
		return nil
	}
	for _, w := range ws {
		mid := w.item.Message.MessageID()
		// Done means: recorded for this UID, and for this message.
		done := func(key string) bool {
			was, ok := recorded[key]
			if ok && was != mid {
				e.log.Warn("journal names another message at this UID (mailbox restored from a backup?); applying anyway",
					"account", e.opts.Account, "mailbox", mailbox, "uid", w.item.Message.UID, "message_id", mid, "journaled_message_id", was)
			}
			return ok && was == mid && skip(rep)
		}
		w.add = slices.DeleteFunc(slices.Clone(w.add), func(f string) bool { return done(entry(w, OpFlag, f)) })
		w.rem = slices.DeleteFunc(slices.Clone(w.rem), func(f string) bool { return done(entry(w, OpUnflag, f)) })
		w.copies = slices.DeleteFunc(w.copies, func(t target) bool { return done(entry(w, OpCopy, t.mailbox)) })
		if w.final != nil && done(entry(w, OpCopy, w.final.mailbox)) {
			w.finalCopied = true
		}
	}
	return nil
}

func skip(rep *Report) bool { rep.Skipped++; return true }

// sameFlags reports whether a and b hold the same flags, ignoring order,
// case (IMAP flags are case-insensitive, RFC 9051 §2.3.2) and \Recent,
// which no client sets.
func sameFlags(a, b []string) bool {
	a, b = storable(a), storable(b)
	if len(a) != len(b) {
		return false
	}
	for _, f := range a {
		if !slices.ContainsFunc(b, func(g string) bool { return strings.EqualFold(f, g) }) {
			return false
		}
	}
	return true
}
