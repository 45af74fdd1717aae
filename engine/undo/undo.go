package undo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
)

// Rule is the rule name that undo's own changes carry in the journal and
// the logs. Undo never reverses entries with this rule.
const Rule = "(undo)"

// Options select the journal entries Run reverses, and say how.
type Options struct {
	// Since selects entries recorded at or after it. Required: Run
	// refuses a zero Since, so nothing is undone wholesale by accident.
	Since time.Time
	// Account, when set, selects only entries of that account.
	Account string
	// Mailbox, when set, selects only changes made in that mailbox (where
	// the message was when the rule acted: a move from INBOX is selected
	// by "INBOX", not by its destination).
	Mailbox string
	// Rule, when set, selects only changes made by that rule: its exact
	// name, or a Sieve script's name for its entries "script.sieve:LINE".
	Rule string
	// DryRun examines the mailboxes read-only, reports what would be done
	// and changes nothing, on the server or in the state.
	DryRun bool
	// Logger receives the Executor's lines; nil discards.
	Logger *slog.Logger
	// Dial connects to an account by name (engine.NewDialer). Required
	// when there is anything to reverse.
	Dial imapconn.Dialer
	// Accounts are the configured accounts. Entries of an account not
	// listed are skipped ("not in the config").
	Accounts []Account
}

// Account is one configured account, as undo needs it.
type Account struct {
	Name string
	// Watches maps each watched mailbox to the rule set that watches it. A
	// message moved back into one is recorded as placed there by that
	// rule set, so its watcher does not run the rules over it again.
	Watches map[string]string
}

func (o *Options) account(name string) *Account {
	for i := range o.Accounts {
		if o.Accounts[i].Name == name {
			return &o.Accounts[i]
		}
	}
	return nil
}

// Outcome says what became of one journal entry.
type Outcome string

const (
	// Done: reversed (or, in dry run, would be).
	Done Outcome = "undone"
	// Skipped: the message is not where, or not what, the journal says; it
	// was left alone. Result.Detail says why.
	Skipped Outcome = "skipped"
	// Failed: the server refused the reversal; running undo again retries
	// it.
	Failed Outcome = "failed"
	// Kept: a copy, kept on purpose (undo never removes mail).
	Kept Outcome = "kept"
	// Impossible: the message was expunged for good.
	Impossible Outcome = "impossible"
)

// Result is one selected journal entry and what became of it.
type Result struct {
	Seq     uint64
	Entry   actions.Entry
	Outcome Outcome
	Detail  string
}

// Report says what Run did (or, in dry run, would do).
type Report struct {
	DryRun bool
	// Results has one line per selected entry, newest first.
	Results []Result
}

// Count returns how many entries had outcome o.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, res := range r.Results {
		if res.Outcome == o {
			n++
		}
	}
	return n
}

// ErrNoSince is returned by Run without Options.Since.
var ErrNoSince = errors.New("undo needs a start time (--since or --after): refusing to reverse the whole journal")

// Run reverses the journal entries opts selects and says per entry what it
// did, newest first. Each message gets one plan, the net reverse of all its
// selected entries (the reverse of each, newest first, composed), in the
// mailbox it is in now. Run returns an error only when it could not go on at
// all (state unreadable, ctx done); a message that cannot be undone, or an
// account it cannot reach, is a result.
func Run(ctx context.Context, store *state.Store, opts *Options) (*Report, error) {
	if opts == nil || opts.Since.IsZero() {
		return nil, ErrNoSince
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rep := &Report{DryRun: opts.DryRun}
	rp := newReplay(opts)
	if err := store.Entries(opts.Since, func(r state.Recorded) bool { rp.add(r); return true }); err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	hs, loose := rp.histories, rp.loose

	byAccount := map[string][]*history{}
	var accounts []string
	for _, h := range hs {
		if h.blocked != "" {
			h.outcome, h.detail = Skipped, h.blocked
			continue
		}
		if h.netZero() {
			h.outcome, h.detail, h.noop = Done, "nothing left to reverse (later changes cancelled it out)", true
			continue
		}
		if _, ok := byAccount[h.account]; !ok {
			accounts = append(accounts, h.account)
		}
		byAccount[h.account] = append(byAccount[h.account], h)
	}
	var runErr error
	for _, name := range accounts {
		if err := ctx.Err(); err != nil {
			runErr = err
			break
		}
		u := &reverser{store: store, opts: opts, log: log}
		if err := u.account(ctx, name, byAccount[name]); err != nil {
			runErr = err
			break
		}
	}
	if !opts.DryRun {
		var seqs []uint64
		for _, h := range hs {
			if h.noop {
				for _, r := range h.entries {
					seqs = append(seqs, r.Seq)
				}
			}
		}
		if err := store.MarkUndone(seqs); err != nil && runErr == nil {
			runErr = fmt.Errorf("mark undone: %w", err)
		}
	}

	for _, h := range hs {
		outcome, detail := h.outcome, h.detail
		if outcome == "" {
			outcome, detail = Failed, "not attempted: "+errText(runErr)
		}
		for _, r := range h.entries {
			rep.Results = append(rep.Results, Result{Seq: r.Seq, Entry: r.Entry, Outcome: outcome, Detail: detail})
		}
	}
	rep.Results = append(rep.Results, loose...)
	sort.Slice(rep.Results, func(i, j int) bool { return rep.Results[i].Seq > rep.Results[j].Seq })
	return rep, runErr
}

func errText(err error) string {
	if err == nil {
		return "stopped"
	}
	return err.Error()
}
