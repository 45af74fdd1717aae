package jobs

import (
	"context"
	"fmt"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/rules"
)

// Processor evaluates a rule set over the messages of one mailbox and
// applies the plans: engine.Pipeline, the same per-message path the
// watchers use (evaluation with recovered panics, loop protection,
// actions.Executor), split in two so that a sweep decides each message as
// it streams in and acts on a whole batch at once.
type Processor interface {
	// Decide evaluates the rule set over m (unless loop protection skips
	// it) and returns what should happen. The Outcome keeps a slim copy
	// of m (rules.Message.Slim).
	Decide(ctx context.Context, m *rules.Message) Outcome
	// Act applies the plans of outs, all messages of the mailbox mb has
	// selected, with one actions.Executor.Apply, and sets each Outcome's
	// Err. An error means the batch should be retried (the connection
	// broke, the journal failed).
	Act(ctx context.Context, mb actions.Mailbox, outs []Outcome) error
}

// Outcome is what happened to one message.
type Outcome struct {
	// Message is the message, slim (rules.Message.Slim).
	Message *rules.Message
	Plan    rules.Plan
	// Skipped says why the message was not evaluated ("" when it was).
	Skipped string
	// Err is the evaluation error (the message was kept) or the apply
	// error (the plan did not fully apply).
	Err error
}

// Ruleset is a compiled rule set (*ruleset.Set): its name, for logs and
// loop protection, and the evaluator.
type Ruleset interface {
	rules.Evaluator
	Name() string
	// NeedsMailboxes reports whether the rules may ask the server about
	// mailboxes (Sieve's mailboxexists) while they evaluate.
	NeedsMailboxes() bool
}

// Sweep runs a rule set (Sieve scripts and expr rules) over every message of
// one mailbox: the watchers' rules applied to mail that is already there.
// `mailwarden apply` is a Sweep run once.
//
// Messages flagged \Deleted are left out. UIDs are searched once, then
// fetched and processed in batches (whole messages only when the rule set
// reads bodies) by Env.Processor; the cap counts messages whose plan
// changed something.
type Sweep struct {
	Spec
	Mailbox string
	// Rules is the rule set to run.
	Rules Ruleset
	// PerAccount holds the rule set's variants for accounts that have
	// their own (a `managesieve: active` step with the account's stored
	// script); the other accounts run Rules.
	PerAccount map[string]Ruleset
}

// rules returns the rule set account runs.
func (s *Sweep) rules(account string) Ruleset {
	if rs, ok := s.PerAccount[account]; ok {
		return rs
	}
	return s.Rules
}

func (s *Sweep) JobSpec() *Spec { return &s.Spec }
func (s *Sweep) Kind() string   { return "sweep" }

func (s *Sweep) runAccount(ctx context.Context, r *run) error {
	rs := s.rules(r.account)
	mb, err := r.conn.Select(ctx, s.Mailbox)
	if err != nil {
		return err
	}
	uids, err := mb.Search(ctx, &Search{NotFlags: []string{rules.FlagDeleted}})
	if err != nil {
		return err
	}
	if r.env.Processor == nil {
		return fmt.Errorf("sweep with rule set %q: the job environment has no Processor", rs.Name())
	}
	proc := r.env.Processor(r.account, s.Mailbox, rs)
	r.progress(s.Mailbox, 0, len(uids))
	// A batch never holds more messages than the cap still allows, so
	// however many of them the rules act on, the cap holds.
	var outs []Outcome
	return r.scan(ctx, mb, s.Mailbox, uids, Want{Body: rs.NeedsBody(), Fields: rules.FetchFields(rs), Mailboxes: rs.NeedsMailboxes()}, true, func(m *rules.Message) error {
		outs = append(outs, proc.Decide(ctx, m))
		return nil
	}, func() (bool, error) {
		actErr := proc.Act(ctx, mb, outs)
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
		outs = nil
		if actErr != nil {
			// Counted first: what was applied is in the summary even
			// when the batch must be run again.
			return false, fmt.Errorf("sweep with rule set %q: %w", rs.Name(), actErr)
		}
		return false, nil
	})
}
