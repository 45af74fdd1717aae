package engine

import (
	"context"
	"strings"
	"sync"

	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/rules"
)

// Messages fetched for the rules are parsed here, for the watchers and the
// jobs alike, and each carries its per-message inputs: where it is, and a
// rules.Mailboxes bound to the connection that fetched it, through which
// Sieve's mailboxexists and specialuse_exists (RFC 5490 §3.1, RFC 8579 §3)
// ask the server. Rules never talk IMAP themselves.

// parseOne parses a fetched message of account's mailbox (with
// uidValidity) into the message the rules see, leniently (a malformed
// header never drops a message), answering mailbox questions through
// boxes.
func parseOne(account, mailbox string, uidValidity uint32, f imapconn.Fetched, boxes rules.Mailboxes) *rules.Message {
	m := message.Parse(f.Raw, message.Meta{
		Account: account, Mailbox: mailbox, UID: f.UID, Flags: f.Flags,
		Size: f.Size, InternalDate: f.InternalDate, HeaderOnly: f.HeaderOnly,
	})
	m.UIDValidity = uidValidity
	m.Mailboxes = boxes
	return m
}

// serverMailboxes answers rules.Mailboxes from one LIST of the
// connection's mailboxes, sent only when a rule asks and at most once per
// batch (the watcher is out of IDLE while it evaluates). A batch is
// evaluated by one goroutine, but the lock keeps it safe regardless.
type serverMailboxes struct {
	c     *imapconn.Client
	once  sync.Once
	boxes []imapconn.MailboxInfo
	err   error
}

var _ rules.Mailboxes = (*serverMailboxes)(nil)

// newServerMailboxes returns the lookup for one batch fetched over c.
func newServerMailboxes(c *imapconn.Client) *serverMailboxes { return &serverMailboxes{c: c} }

func (s *serverMailboxes) list(ctx context.Context) ([]imapconn.MailboxInfo, error) {
	s.once.Do(func() { s.boxes, s.err = s.c.List(ctx, "*") })
	return s.boxes, s.err
}

// MailboxExists reports whether name exists and is selectable.
func (s *serverMailboxes) MailboxExists(ctx context.Context, name string) (bool, error) {
	boxes, err := s.list(ctx)
	if err != nil {
		return false, err
	}
	for _, b := range boxes {
		// INBOX is case-insensitive (RFC 9051 §5.1); other names are not.
		if b.Name == name || strings.EqualFold(name, "INBOX") && strings.EqualFold(b.Name, "INBOX") {
			return b.Selectable(), nil
		}
	}
	return false, nil
}

// SpecialUseExists reports whether some mailbox (or the named one) carries
// the special-use attribute use.
func (s *serverMailboxes) SpecialUseExists(ctx context.Context, mailbox, use string) (bool, error) {
	boxes, err := s.list(ctx)
	if err != nil {
		return false, err
	}
	for _, b := range boxes {
		if mailbox != "" && b.Name != mailbox {
			continue
		}
		for _, a := range b.Attrs {
			if strings.EqualFold(a, use) {
				return true, nil
			}
		}
	}
	return false, nil
}
