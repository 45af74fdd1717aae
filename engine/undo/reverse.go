package undo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/rules"
)

// The reversal is the half of undo that talks to the server: per account
// one connection, per mailbox the messages are in now one verification
// and one Executor.Apply.

// reverser reverses the histories of one account.
type reverser struct {
	store *state.Store
	opts  *Options
	log   *slog.Logger
}

func (u *reverser) account(ctx context.Context, name string, hs []*history) error {
	all := func(o Outcome, why string) {
		for _, h := range hs {
			h.outcome, h.detail = o, why
		}
	}
	acct := u.opts.account(name)
	if acct == nil {
		all(Skipped, fmt.Sprintf("account %q is not in the config", name))
		return nil
	}
	if u.opts.Dial == nil {
		all(Failed, "not undone: no dialer to connect with")
		return nil
	}
	c, err := u.opts.Dial(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		all(Failed, fmt.Sprintf("not undone: cannot connect: %v (run undo again)", err))
		return nil
	}
	defer c.Close()

	byMailbox := map[string][]*history{}
	var boxes []string
	for _, h := range hs {
		if _, ok := byMailbox[h.cur]; !ok {
			boxes = append(boxes, h.cur)
		}
		byMailbox[h.cur] = append(byMailbox[h.cur], h)
	}
	slices.Sort(boxes)
	exec := actions.New(&actions.Options{Account: name, DryRun: u.opts.DryRun, Logger: u.opts.Logger, Journal: recordOnly{u.store}})
	for _, box := range boxes {
		err := u.mailbox(ctx, c, exec, acct, box, byMailbox[box])
		var se stateError
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &se):
			return se.err
		}
		// The connection broke (or the server failed us): what is left
		// of this account is not attempted; the other accounts go on.
		for _, h := range hs {
			if h.outcome == "" {
				h.outcome, h.detail = Failed, fmt.Sprintf("not undone: %v (run undo again)", err)
			}
		}
		return nil
	}
	if err := c.Logout(ctx); err != nil {
		u.log.Debug("logout", "account", name, "err", err)
	}
	return nil
}

// mailbox verifies and reverses the histories whose message is now in box,
// with one Apply.
func (u *reverser) mailbox(ctx context.Context, c *imapconn.Client, exec *actions.Executor, acct *Account, box string, hs []*history) error {
	open := c.Select
	if u.opts.DryRun {
		open = c.Examine // RFC 9051 §6.3.3: read-only, not even \Seen changes
	}
	sess, err := open(ctx, box)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if imapconn.IsTemporary(err) {
			return fmt.Errorf("account %q: %w", acct.Name, err)
		}
		for _, h := range hs {
			h.outcome, h.detail = Skipped, fmt.Sprintf("cannot open %q: %v", box, err)
		}
		return nil
	}
	_, uidValidity := sess.Selected()
	found, err := u.locate(ctx, sess, hs)
	if err != nil {
		return fmt.Errorf("account %q mailbox %q: %w", acct.Name, box, err)
	}

	var items []actions.Item
	byUID := map[uint32]*history{}
	for _, h := range hs {
		f := found[h]
		if h.outcome != "" {
			continue
		}
		m := message.Parse(f.Raw, message.Meta{Account: acct.Name, Mailbox: box, UID: f.UID, Flags: f.Flags,
			Size: f.Size, InternalDate: f.InternalDate, HeaderOnly: f.HeaderOnly})
		if why := verify(h, m, box, uidValidity); why != "" {
			h.outcome, h.detail = Skipped, why
			continue
		}
		var p rules.Plan
		for _, fl := range h.added {
			p.RemoveFlag(fl, Rule)
		}
		for _, fl := range h.removed {
			p.AddFlag(fl, Rule)
		}
		if h.cur != h.origin {
			// The destination is where the message was: recreate it if
			// it is gone.
			p.Move(rules.Delivery{Mailbox: h.origin, Create: true, Rule: Rule})
		}
		items = append(items, actions.Item{Message: m, Plan: p})
		byUID[m.UID] = h
	}
	if len(items) == 0 {
		return nil
	}
	u.markPlaced(acct, box, items, nil)
	rep, err := exec.Apply(ctx, sess, items)
	if err != nil {
		return fmt.Errorf("account %q mailbox %q: %w", acct.Name, box, err)
	}
	u.markPlaced(acct, box, items, rep)
	dest := map[uint32]uint32{}
	for _, pl := range rep.Placed {
		dest[pl.UID] = pl.DestUID
	}
	var done []uint64
	for _, it := range items {
		h := byUID[it.Message.UID]
		if err := rep.Failed[it.Message.UID]; err != nil {
			h.outcome, h.detail = Failed, err.Error()
			continue
		}
		h.outcome, h.detail = Done, describe(h, box, it.Message.UID, dest[it.Message.UID], u.opts.DryRun)
		for _, r := range h.entries {
			done = append(done, r.Seq)
		}
	}
	if u.opts.DryRun {
		return nil
	}
	if err := u.store.MarkUndone(done); err != nil {
		return stateError{fmt.Errorf("mark undone (the changes are made; a second undo finds them done and skips them): %w", err)}
	}
	return nil
}

// stateError is a failure of the state file: it stops Run, where a
// connection failure only stops one account.
type stateError struct{ err error }

func (e stateError) Error() string { return e.err.Error() }

// locate fetches the header of each history's message in the selected
// mailbox: at its UID, or found by Message-ID when the journal has none.
// A history whose message cannot be pinned down gets its outcome here.
func (u *reverser) locate(ctx context.Context, sess *imapconn.Session, hs []*history) (map[*history]imapconn.Fetched, error) {
	box, _ := sess.Selected()
	want := map[uint32][]*history{}
	var uids []uint32
	claim := func(h *history) {
		if want[h.curUID] == nil {
			uids = append(uids, h.curUID)
		}
		want[h.curUID] = append(want[h.curUID], h)
	}
	for _, h := range hs {
		if h.curUID != 0 {
			claim(h)
		}
	}
	for _, h := range hs {
		if h.curUID != 0 {
			continue
		}
		if h.messageID == "" {
			h.outcome, h.detail = Skipped, fmt.Sprintf("moved to %q without a UID (no COPYUID) and has no Message-ID: cannot be found", box)
			continue
		}
		// RFC 9051 §6.4.4: HEADER is a substring match; the fetched
		// Message-ID is compared exactly below.
		got, err := sess.SearchUIDs(ctx, &imapconn.Criteria{Header: []imapconn.HeaderMatch{{Field: "Message-ID", Value: h.messageID}}})
		if err != nil {
			return nil, err
		}
		msgs, err := sess.FetchUIDs(ctx, got, false)
		if err != nil {
			return nil, err
		}
		var match []imapconn.Fetched
		for _, f := range msgs {
			if message.Parse(f.Raw, message.Meta{HeaderOnly: true}).MessageID() == h.messageID && want[f.UID] == nil {
				match = append(match, f)
			}
		}
		switch len(match) {
		case 0:
			h.outcome, h.detail = Skipped, fmt.Sprintf("not found in %q by Message-ID (moved or deleted since); left alone", box)
		case 1:
			h.curUID = match[0].UID
			claim(h)
		default:
			h.outcome, h.detail = Skipped, fmt.Sprintf("%d messages in %q have this Message-ID: cannot tell which one the rule moved; move it yourself", len(match), box)
		}
	}
	out := map[*history]imapconn.Fetched{}
	if len(uids) == 0 {
		return out, nil
	}
	slices.Sort(uids)
	msgs, err := sess.FetchUIDs(ctx, uids, false)
	if err != nil {
		return nil, err
	}
	for _, f := range msgs {
		for _, h := range want[f.UID] {
			out[h] = f
		}
	}
	for _, h := range hs {
		if _, ok := out[h]; !ok && h.outcome == "" {
			h.outcome, h.detail = Skipped, fmt.Sprintf("no longer in %q (UID %d is gone: moved or deleted since); left alone", box, h.curUID)
		}
	}
	return out, nil
}

// verify says why m is not the message h followed, or "" when it is.
func verify(h *history, m *rules.Message, box string, uidValidity uint32) string {
	// RFC 9051 §2.3.1.1: a UID names the same message only under the same
	// UIDVALIDITY; a recreated mailbox reuses UIDs.
	if h.curUV != 0 && h.curUV != uidValidity {
		return fmt.Sprintf("%q was recreated since (UIDVALIDITY %d, now %d): UID %d is not the same message; left alone", box, h.curUV, uidValidity, m.UID)
	}
	if h.messageID == "" {
		if h.curUV == 0 {
			return fmt.Sprintf("the message has no Message-ID, so UID %d in %q cannot be verified; left alone", m.UID, box)
		}
		return ""
	}
	if got := m.MessageID(); got != h.messageID {
		return fmt.Sprintf("UID %d in %q is another message now (Message-ID <%s>); left alone", m.UID, box, got)
	}
	return ""
}

// describe says what the reversal of h did.
func describe(h *history, box string, uid, destUID uint32, dry bool) string {
	var parts []string
	if len(h.added) > 0 {
		parts = append(parts, "removed "+strings.Join(h.added, " "))
	}
	if len(h.removed) > 0 {
		parts = append(parts, "added "+strings.Join(h.removed, " "))
	}
	if h.cur != h.origin {
		s := fmt.Sprintf("moved back from %q to %q", box, h.origin)
		if destUID != 0 {
			s += fmt.Sprintf(" (UID %d)", destUID)
		}
		parts = append(parts, s)
	} else if len(parts) > 0 {
		parts[len(parts)-1] += fmt.Sprintf(" (UID %d in %q)", uid, box)
	}
	s := strings.Join(parts, "; ")
	if dry {
		s = "would have " + s
	}
	return s
}

// markPlaced records the messages moved back as placed in their origin by
// the rule set watching it, so the watcher does not evaluate them again
// (no loops): pending under the Message-ID before the move (rep == nil),
// then under the exact destination UID once the server numbered it (a
// failed move drops its pending mark). See state.PlacedMark.
func (u *reverser) markPlaced(acct *Account, box string, items []actions.Item, rep *actions.Report) {
	if u.opts.DryRun {
		return
	}
	var marks []state.PlacedMark
	mark := func(m *rules.Message, dest string, destUIDValidity, destUID uint32, drop bool) {
		ruleset := acct.Watches[dest]
		if ruleset == "" || (destUID == 0 && m.MessageID() == "") {
			return
		}
		marks = append(marks, state.PlacedMark{Account: acct.Name, Mailbox: dest, DestUID: destUID, Drop: drop,
			Placement: state.Placement{Ruleset: ruleset, MessageID: m.MessageID(), From: box, UIDValidity: destUIDValidity}})
	}
	byUID := map[uint32]*rules.Message{}
	for _, it := range items {
		byUID[it.Message.UID] = it.Message
		if rep == nil || rep.Failed[it.Message.UID] != nil {
			for _, d := range it.Plan.Deliveries {
				mark(it.Message, d.Mailbox, 0, 0, rep != nil)
			}
		}
	}
	if rep != nil {
		for _, pl := range rep.Placed {
			if pl.DestUID != 0 && pl.Op == actions.OpMove {
				mark(byUID[pl.UID], pl.Mailbox, pl.DestUIDValidity, pl.DestUID, false)
			}
		}
	}
	if err := u.store.MarkPlacedAll(marks); err != nil {
		u.log.Warn("could not record placements; the watcher may run the rules over the restored messages again", "messages", len(marks), "err", err)
	}
}

// recordOnly journals undo's own changes (for the record and for following
// messages later) but never reports an operation as already applied: the
// exactly-once of undo is its marks, and an old entry with the same key
// must not make undo skip a reversal.
type recordOnly struct{ s *state.Store }

func (recordOnly) Applied(context.Context, []string) (map[string]string, error) { return nil, nil }

func (r recordOnly) Record(ctx context.Context, entries []actions.Entry) error {
	return r.s.Record(ctx, entries)
}

func (r recordOnly) Intend(ctx context.Context, entries []actions.Entry) error {
	return r.s.Intend(ctx, entries)
}
