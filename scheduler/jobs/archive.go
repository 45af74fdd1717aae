package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/rules"
)

// Archive moves old messages of one mailbox into dated folders.
//
// Selection: UID SEARCH BEFORE (or SENTBEFORE with ByDate) the cut-off,
// UNFLAGGED unless SkipFlagged is off, SEEN when SkipUnread, never \Deleted
// (RFC 9051 §6.4.4); then, per batch of fetched headers, the exact age and
// the When filter. Each message is moved (one UID MOVE per destination and
// batch, RFC 6851) to To with {year} and {month} taken from the same date
// the age is measured by; missing folders are created.
type Archive struct {
	Spec
	Mailbox     string
	OlderThan   time.Duration
	ByDate      bool
	To          string
	SkipFlagged bool
	SkipUnread  bool
	When        Filter // optional
}

func (a *Archive) JobSpec() *Spec { return &a.Spec }
func (a *Archive) Kind() string   { return "archive" }

func (a *Archive) runAccount(ctx context.Context, r *run) error {
	mb, err := r.conn.Select(ctx, a.Mailbox)
	if err != nil {
		return err
	}
	ag := age{olderThan: a.OlderThan, byDate: a.ByDate}
	cutoff := ag.cutoff(r.env.now())
	s := &Search{
		Flags:    flagsIf(a.SkipUnread, rules.FlagSeen),
		NotFlags: appendUnique(flagsIf(a.SkipFlagged, rules.FlagFlagged), rules.FlagDeleted),
	}
	ag.search(cutoff, s)
	uids, err := mb.Search(ctx, s)
	if err != nil {
		return err
	}
	r.log.Debug("archive candidates", "mailbox", a.Mailbox, "found", len(uids), "cutoff", cutoff)
	done := 0
	return batches(uids, r.env.batch(), func(part []uint32) (bool, error) {
		if r.remaining() <= 0 {
			r.capReached(a.Mailbox)
			return true, nil
		}
		msgs, err := mb.Fetch(ctx, part, false)
		if err != nil {
			return false, err
		}
		r.sum.Scanned += len(msgs)
		var items []actions.Item
		for _, m := range msgs {
			if !ag.old(m, cutoff) || !r.matchFilter(a.When, m) {
				continue
			}
			r.sum.Matched++
			if len(items) >= r.remaining() {
				r.capReached(a.Mailbox)
				break
			}
			var p rules.Plan
			p.Move(rules.Delivery{Mailbox: expandTemplate(a.To, ag.date(m)), Create: true, Rule: a.Name})
			items = append(items, actions.Item{Message: m, Plan: p})
		}
		if len(items) > 0 {
			rep, err := r.exec.Apply(ctx, mb, items)
			if err != nil {
				return false, fmt.Errorf("archive: %w", err)
			}
			r.count(items, rep)
		}
		done += len(part)
		r.progress(a.Mailbox, done, len(uids))
		return r.sum.Capped, ctx.Err()
	})
}
