package imapconn

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/mailwarden/mailwarden/actions"
)

var _ actions.Mailbox = (*Session)(nil)

// Session is a Client with one mailbox selected (RFC 9051 §6.3.2). It
// implements actions.Mailbox. Selecting another mailbox on the same Client
// ends this Session: its methods then fail.
type Session struct {
	c           *Client
	name        string
	uidValidity uint32
	uidNext     uint32
	numMessages uint32
	readOnly    bool
}

// Select selects mailbox read-write (RFC 9051 §6.3.2) and returns its
// Session.
func (c *Client) Select(ctx context.Context, mailbox string) (*Session, error) {
	return c.selectMailbox(ctx, mailbox, false)
}

// Examine selects mailbox read-only (EXAMINE, RFC 9051 §6.3.3): for dry
// runs and previews. Store, Move and UIDExpunge fail with ErrReadOnly
// without sending anything (Dovecot answers OK to a STORE in a read-only
// mailbox and changes nothing); Copy works; FETCH never sets \Seen.
func (c *Client) Examine(ctx context.Context, mailbox string) (*Session, error) {
	return c.selectMailbox(ctx, mailbox, true)
}

func (c *Client) selectMailbox(ctx context.Context, mailbox string, readOnly bool) (*Session, error) {
	verb := "select"
	if readOnly {
		verb = "examine"
	}
	var data *imap.SelectData
	err := c.call(ctx, func() (err error) {
		data, err = c.c.Select(mailbox, &imap.SelectOptions{ReadOnly: readOnly}).Wait()
		return err
	})
	if err != nil {
		// A failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2).
		c.mu.Lock()
		c.sel = nil
		c.mu.Unlock()
		return nil, fmt.Errorf("%s %q: %w", verb, mailbox, err)
	}
	s := &Session{c: c, name: mailbox, uidValidity: data.UIDValidity, uidNext: uint32(data.UIDNext),
		numMessages: data.NumMessages, readOnly: readOnly}
	c.mu.Lock()
	c.sel = s
	c.mu.Unlock()
	return s, nil
}

// ReadOnly reports whether the Session came from Examine.
func (s *Session) ReadOnly() bool { return s.readOnly }

// Client returns the connection this Session runs on.
func (s *Session) Client() *Client { return s.c }

// Selected returns the mailbox name and its UIDVALIDITY (RFC 9051 §2.3.1.1).
func (s *Session) Selected() (name string, uidValidity uint32) { return s.name, s.uidValidity }

// UIDNext is the UIDNEXT the server announced at SELECT time (0 if it did
// not): a lower bound for the UID of the next message.
func (s *Session) UIDNext() uint32 { return s.uidNext }

// NumMessages is the message count (EXISTS) the server announced at SELECT
// time. It is not kept up to date: go-imap's own count is set after Select
// returns, racing with the caller, so it is not exposed.
func (s *Session) NumMessages() uint32 { return s.numMessages }

// Caps reports MOVE (RFC 6851) and UIDPLUS (RFC 4315).
func (s *Session) Caps() actions.Caps {
	return actions.Caps{Move: s.c.caps.Has(imap.CapMove), UIDPlus: s.c.caps.Has(imap.CapUIDPlus)}
}

// Noop sends NOOP; see Client.Noop.
func (s *Session) Noop(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.c.Noop(ctx)
}

// checkWrite is check plus: the Session is not read-only.
func (s *Session) checkWrite(op string) error {
	if err := s.check(); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("%s in %q: %w", op, s.name, ErrReadOnly)
	}
	return nil
}

// check fails when another Select replaced this Session.
func (s *Session) check() error {
	s.c.mu.Lock()
	cur := s.c.sel
	s.c.mu.Unlock()
	if cur != s {
		return fmt.Errorf("mailbox %q: session no longer selected", s.name)
	}
	return nil
}

func uidSet(uids []uint32) imap.UIDSet {
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	return set
}

func toFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}
