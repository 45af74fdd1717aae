package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/message"
)

// Copies are exactly-once across crashes (actions.Journal): the executor
// records an intent before each UID COPY or MOVE, and Record settles it.
// An intent still pending means the daemon stopped between sending the
// command and recording its answer, so the copy may or may not exist.
// Before a watcher (or a job) acts on a mailbox again, recoverCopies looks
// for each such message in its destination, on the same connection and
// before the mailbox is selected: a message there with the same
// Message-ID and INTERNALDATE (COPY keeps both, RFC 9051 §6.4.7) is the
// copy, recorded as made, so the retry only removes the original where a
// move was cut short; none there, and the intent is dropped, so the copy
// is made again. A message without a Message-ID cannot be told apart: its
// copy is made again (a possible duplicate rather than a lost copy).

// CopyIntents is what recovery needs of the state (*state.Store).
type CopyIntents interface {
	PendingCopies(account, mailbox string) ([]actions.Entry, error)
	SettleCopies(found, missing []actions.Entry) error
}

// recoverCopies settles the pending copy intents of account's mailbox
// using c, which must have no mailbox selected that the caller still
// needs (it EXAMINEs the destinations).
func recoverCopies(ctx context.Context, c *imapconn.Client, ci CopyIntents, account, mailbox string, log *slog.Logger) error {
	pending, err := ci.PendingCopies(account, mailbox)
	if err != nil || len(pending) == 0 {
		return err
	}
	byDest := map[string][]actions.Entry{}
	var dests []string
	for _, e := range pending {
		if _, ok := byDest[e.Target]; !ok {
			dests = append(dests, e.Target)
		}
		byDest[e.Target] = append(byDest[e.Target], e)
	}
	slices.Sort(dests)
	var found, missing []actions.Entry
	for _, dest := range dests {
		f, m, err := findCopies(ctx, c, dest, byDest[dest])
		if err != nil {
			return fmt.Errorf("recover copies to %q cut short: %w", dest, err)
		}
		found, missing = append(found, f...), append(missing, m...)
	}
	log.Info("recovered copies a stop left unsettled", "account", account, "mailbox", mailbox,
		"pending", len(pending), "already_made", len(found), "to_make_again", len(missing))
	return ci.SettleCopies(found, missing)
}

// findCopies looks in dest for the copies of entries.
func findCopies(ctx context.Context, c *imapconn.Client, dest string, entries []actions.Entry) (found, missing []actions.Entry, err error) {
	sess, err := c.Examine(ctx, dest) // read-only: not even \Seen changes
	if err != nil {
		if imapconn.IsPermanent(err) {
			// The destination does not exist (NO): no copy was made.
			return nil, entries, nil
		}
		return nil, nil, err
	}
	for _, e := range entries {
		if e.MessageID == "" {
			missing = append(missing, e)
			continue
		}
		// RFC 9051 §6.4.4: HEADER is a substring match; the fetched
		// Message-ID and INTERNALDATE are compared exactly.
		uids, err := sess.SearchUIDs(ctx, &imapconn.Criteria{Header: []imapconn.HeaderMatch{{Field: "Message-ID", Value: e.MessageID}}})
		if err != nil {
			return nil, nil, err
		}
		msgs, err := sess.FetchUIDs(ctx, uids, false)
		if err != nil {
			return nil, nil, err
		}
		var copyUID uint32
		for _, f := range msgs {
			m := message.Parse(f.Raw, message.Meta{HeaderOnly: true})
			if m.MessageID() == e.MessageID && (e.InternalDate.IsZero() || f.InternalDate.Equal(e.InternalDate)) {
				copyUID = f.UID
			}
		}
		if copyUID == 0 {
			missing = append(missing, e)
			continue
		}
		e.DestUID = copyUID
		found = append(found, e)
	}
	return found, missing, nil
}
