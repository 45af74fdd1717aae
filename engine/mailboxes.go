package engine

import (
	"context"
	"strings"
	"sync"

	"github.com/mailwarden/mailwarden/engine/imapconn"
)

// Sieve's mailboxexists and specialuse_exists (RFC 5490 §3.1, RFC 8579 §3)
// ask the server about mailboxes while a script runs. Rules never talk
// IMAP themselves: the pipeline attaches a lister for the batch's
// connection to the context, and the callbacks below, which the engine
// compiles Sieve with, read it. The LIST is sent only when a script asks,
// at most once per batch (the watcher is out of IDLE while it evaluates).

type listerKey struct{}

// mailboxLister lists the account's mailboxes once, on first use.
type mailboxLister struct {
	once  sync.Once
	list  func(ctx context.Context) ([]imapconn.MailboxInfo, error)
	boxes []imapconn.MailboxInfo
	err   error
}

func (l *mailboxLister) get(ctx context.Context) ([]imapconn.MailboxInfo, error) {
	l.once.Do(func() { l.boxes, l.err = l.list(ctx) })
	return l.boxes, l.err
}

// withMailboxes attaches a memoized LIST of c's mailboxes to ctx.
func withMailboxes(ctx context.Context, c *imapconn.Client) context.Context {
	return context.WithValue(ctx, listerKey{}, &mailboxLister{list: func(ctx context.Context) ([]imapconn.MailboxInfo, error) {
		return c.List(ctx, "*")
	}})
}

// sieveMailboxExists answers mailboxexists from the batch's LIST. Without
// a connection (`mailwarden test`, offline) every mailbox exists, as the
// Sieve package's default says: the executor still creates nothing
// without :create.
func sieveMailboxExists(ctx context.Context, name string) (bool, error) {
	l, _ := ctx.Value(listerKey{}).(*mailboxLister)
	if l == nil {
		return true, nil
	}
	boxes, err := l.get(ctx)
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

// sieveSpecialUseExists answers specialuse_exists: whether some mailbox
// (or the named one) carries the special-use attribute use.
func sieveSpecialUseExists(ctx context.Context, mailbox, use string) (bool, error) {
	l, _ := ctx.Value(listerKey{}).(*mailboxLister)
	if l == nil {
		return true, nil
	}
	boxes, err := l.get(ctx)
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
