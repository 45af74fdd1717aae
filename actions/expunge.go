package actions

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailwarden/mailwarden/rules"
)

// DefaultMaxExpunge is the default cap on the messages one Expunge call
// removes (Options.MaxExpunge).
const DefaultMaxExpunge = 1000

var (
	// ErrNoUIDPlus is returned by Expunge when the server lacks UIDPLUS
	// (RFC 4315): permanent removal needs UID EXPUNGE of exactly the given
	// UIDs, and a plain EXPUNGE would also remove every other message that
	// any client flagged \Deleted.
	ErrNoUIDPlus = errors.New("server lacks UIDPLUS (RFC 4315): refusing to expunge, since a plain EXPUNGE would also remove other clients' \\Deleted mail")
	// ErrExpungeCap is returned by Expunge when asked to remove more
	// messages than Options.MaxExpunge in one call.
	ErrExpungeCap = errors.New("too many messages for one expunge")
)

// Expunge removes msgs (all from the mailbox mb has selected) permanently:
// one UID STORE +FLAGS.SILENT (\Deleted) of exactly their UIDs (RFC 9051
// §6.4.6), then one UID EXPUNGE of exactly those UIDs (RFC 4315 §2.1), which
// leaves every other \Deleted message of the mailbox alone. rule names the
// rule or job that asked, for the journal and the log.
//
// It is the only way this package deletes mail for good, and it is explicit
// and capped:
//
//   - without UIDPLUS it sends nothing and returns ErrNoUIDPlus (there is no
//     plain EXPUNGE fallback), in dry run too, so a preview fails the same way;
//   - more than Options.MaxExpunge messages (default DefaultMaxExpunge) is
//     refused whole with ErrExpungeCap: callers work in batches;
//   - each removed message is journaled (OpExpunge) and logged like every
//     other change; dry run logs the two commands and changes nothing.
//
// A message that is already gone (expunged by another client) is simply not
// there to remove. When the STORE succeeds and the EXPUNGE fails, the
// messages keep \Deleted and the error is returned; running Expunge again
// finishes the job.
func (e *Executor) Expunge(ctx context.Context, mb Mailbox, msgs []*rules.Message, rule string) (*Report, error) {
	rep := &Report{Ops: map[Op]int{}, Failed: map[uint32]error{}}
	if len(msgs) == 0 {
		return rep, ctx.Err()
	}
	limit := e.opts.MaxExpunge
	if limit <= 0 {
		limit = DefaultMaxExpunge
	}
	if len(msgs) > limit {
		return rep, fmt.Errorf("expunge %d messages: %w (at most %d per call)", len(msgs), ErrExpungeCap, limit)
	}
	mailbox, uidValidity := mb.Selected()
	if !mb.Caps().UIDPlus {
		return rep, fmt.Errorf("expunge from %q: %w", mailbox, ErrNoUIDPlus)
	}
	log := e.log.With("account", e.opts.Account, "mailbox", mailbox)
	ws := make([]*work, len(msgs))
	for i, m := range msgs {
		var p rules.Plan
		p.Note(rule, "expunge")
		ws[i] = &work{item: &Item{Message: m, Plan: p}}
	}
	rep.Messages = len(ws)
	b := &batch{e: e, ctx: ctx, mb: mb, rep: rep, log: log, mailbox: mailbox, uidValidity: uidValidity}
	uids := uidsOf(ws)
	err := b.run(fmt.Sprintf(`UID STORE %s +FLAGS (\Deleted)`, FormatUIDs(uids)), func() error {
		return b.mb.Store(ctx, uids, StoreAdd, []string{rules.FlagDeleted})
	})
	if err == nil {
		// RFC 4315 §2.1: only messages that are both in the set and
		// \Deleted are removed.
		err = b.run(fmt.Sprintf("UID EXPUNGE %s", FormatUIDs(uids)), func() error {
			return b.mb.UIDExpunge(ctx, uids)
		})
	}
	if err != nil {
		for _, w := range ws {
			rep.Failed[w.item.Message.UID] = err
		}
		log.Error("expunge failed; messages left in place", "uids", FormatUIDs(uids), "rule", rule, "err", err)
		return rep, nil
	}
	b.record(ws, OpExpunge, "", Copied{})
	msg := "applied"
	if e.opts.DryRun {
		msg = "dry run: would apply"
	}
	for _, w := range ws {
		m := w.item.Message
		log.Info(msg, "uid", m.UID, "message_id", m.MessageID(), "subject", m.Subject(), "plan", "expunge", "rules", rule)
	}
	return rep, ctx.Err()
}
