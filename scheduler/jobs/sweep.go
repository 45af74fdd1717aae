package jobs

import (
	"context"
	"fmt"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/rules"
)

// Processor evaluates a rule set over messages of the mailbox mb has
// selected and applies the plans: engine.Pipeline, the same per-message path
// the watchers use (evaluation with recovered panics, loop protection,
// actions.Executor). It returns one Outcome per message.
type Processor interface {
	Process(ctx context.Context, mb actions.Mailbox, msgs []*rules.Message) ([]Outcome, error)
}

// Outcome is what happened to one message.
type Outcome struct {
	UID  uint32
	Plan rules.Plan
	// Skipped says why the message was not evaluated ("" when it was).
	Skipped string
	// Err is the evaluation error (the message was kept) or the apply
	// error (the plan did not fully apply).
	Err error
}

// Sweep runs a rule set (Sieve scripts and expr rules) over every message of
// one mailbox: the watchers' rules applied to mail that is already there.
// `mailwarden apply` is a Sweep run once.
//
// Messages flagged \Deleted are left out. UIDs are searched once, then
// fetched and processed in batches (whole messages only when the rule set
// reads bodies); the cap counts messages whose plan changed something.
type Sweep struct {
	Spec
	Mailbox string
	// Ruleset names the rule set, for logs.
	Ruleset string
	// NeedsBody fetches whole messages instead of headers.
	NeedsBody bool
	// Processor returns the processor for one account and mailbox.
	Processor func(account, mailbox string) Processor
}

func (s *Sweep) JobSpec() *Spec { return &s.Spec }
func (s *Sweep) Kind() string   { return "sweep" }

func (s *Sweep) runAccount(ctx context.Context, r *run) error {
	mb, err := r.conn.Select(ctx, s.Mailbox)
	if err != nil {
		return err
	}
	uids, err := mb.Search(ctx, &Search{NotFlags: []string{rules.FlagDeleted}})
	if err != nil {
		return err
	}
	proc := s.Processor(r.account, s.Mailbox)
	done := 0
	r.progress(s.Mailbox, 0, len(uids))
	// A batch never holds more messages than the cap still allows, so
	// however many of them the rules act on, the cap holds.
	for len(uids) > 0 {
		n := min(r.env.batch(), len(uids), r.remaining())
		if n <= 0 {
			r.capReached(s.Mailbox)
			return nil
		}
		part := uids[:n]
		uids = uids[n:]
		fs, err := mb.Fetch(ctx, part, s.NeedsBody)
		if err != nil {
			return err
		}
		msgs := r.parse(s.Mailbox, fs)
		r.sum.Scanned += len(msgs)
		outs, err := proc.Process(ctx, mb, msgs)
		if err != nil {
			return fmt.Errorf("sweep with rule set %q: %w", s.Ruleset, err)
		}
		for _, o := range outs {
			if o.Skipped != "" || o.Plan.IsZero() {
				continue
			}
			r.sum.Matched++
			if o.Err != nil {
				r.sum.Failed++
				continue
			}
			r.sum.Acted++
			r.sum.Actions[o.Plan.Summary()]++
		}
		done += len(part)
		r.progress(s.Mailbox, done, done+len(uids))
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
