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
	var items []actions.Item
	return r.scan(ctx, mb, a.Mailbox, uids, Want{Fields: rules.FetchFields(a.When)}, false, func(m *rules.Message) error {
		if r.sum.Capped || !ag.old(m, cutoff) || !r.matchFilter(a.When, m) {
			return nil
		}
		r.sum.Matched++
		if len(items) >= r.remaining() {
			r.capReached(a.Mailbox)
			return nil
		}
		var p rules.Plan
		p.Move(rules.Delivery{Mailbox: expandTemplate(a.To, ag.date(m)), Create: true, Rule: a.Name})
		items = append(items, actions.Item{Message: m.Slim(), Plan: p})
		return nil
	}, func() (bool, error) {
		if len(items) > 0 {
			rep, err := r.exec.Apply(ctx, mb, items)
			if err != nil {
				return false, fmt.Errorf("archive: %w", err)
			}
			r.count(items, rep)
			items = nil
		}
		return r.sum.Capped, nil
	})
}
