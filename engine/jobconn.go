package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// jobConn adapts an imapconn.Client to jobs.Conn.
type jobConn struct {
	c       *imapconn.Client
	account string
	// intents, when set, are settled before a mailbox is selected
	// (recover.go); nil in dry run.
	intents CopyIntents
	log     *slog.Logger
}

var _ jobs.Conn = (*jobConn)(nil)

// Select resolves a special-use attribute on the connection (no mailbox
// needs to be selected for LIST, RFC 6154 §5.1) and selects the mailbox.
func (j *jobConn) Select(ctx context.Context, mailbox string) (jobs.Mailbox, error) {
	name, err := actions.Resolve(ctx, j.c, mailbox)
	if err != nil {
		return nil, err
	}
	if j.intents != nil {
		if err := recoverCopies(ctx, j.c, j.intents, j.account, name, j.log); err != nil {
			return nil, err
		}
	}
	sess, err := j.c.Select(ctx, name)
	if err != nil {
		return nil, err
	}
	return &jobMailbox{Session: sess, account: j.account, mailbox: mailbox}, nil
}

// Examine resolves a special-use attribute like Select and EXAMINEs the
// mailbox (read-only). Copy intents are not settled: nothing is changed.
func (j *jobConn) Examine(ctx context.Context, mailbox string) (jobs.Mailbox, error) {
	name, err := actions.Resolve(ctx, j.c, mailbox)
	if err != nil {
		return nil, err
	}
	sess, err := j.c.Examine(ctx, name)
	if err != nil {
		return nil, err
	}
	return &jobMailbox{Session: sess, account: j.account, mailbox: mailbox}, nil
}

// List lists every mailbox (LIST "" "*", with special-use attributes when
// the server can return them).
func (j *jobConn) List(ctx context.Context) ([]jobs.MailboxInfo, error) {
	l, err := j.c.List(ctx, "*")
	if err != nil {
		return nil, err
	}
	out := make([]jobs.MailboxInfo, len(l))
	for i, m := range l {
		out[i] = jobs.MailboxInfo{Name: m.Name, Delim: m.Delim, Attrs: m.Attrs}
	}
	return out, nil
}

func (j *jobConn) Quota(ctx context.Context) (int64, int64, error) {
	used, limit, err := j.c.QuotaRoot(ctx, "INBOX")
	if errors.Is(err, imapconn.ErrNoQuota) {
		return 0, 0, fmt.Errorf("%w: %w", jobs.ErrNoQuota, err)
	}
	return used, limit, err
}

func (j *jobConn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return j.c.Logout(ctx)
}

// jobMailbox adapts an imapconn.Session to jobs.Mailbox.
type jobMailbox struct {
	*imapconn.Session
	account string
	// mailbox is the name the job gave (maybe a special-use attribute):
	// the messages' Mailbox, as the jobs' summaries and filters see it.
	mailbox string
}

var _ jobs.Mailbox = (*jobMailbox)(nil)

// UIDValidity is the selected mailbox's UIDVALIDITY.
func (m *jobMailbox) UIDValidity() uint32 {
	_, uv := m.Selected()
	return uv
}

func (m *jobMailbox) Search(ctx context.Context, c *jobs.Search) ([]uint32, error) {
	return m.SearchUIDs(ctx, &imapconn.Criteria{UIDFrom: c.UIDFrom, Before: c.Before, SentBefore: c.SentBefore, Flags: c.Flags, NotFlags: c.NotFlags})
}

// Fetch streams uids with one UID FETCH and parses each message as it
// arrives, like a watcher's batch. With want.Mailboxes the account's
// mailboxes are listed first, for Sieve's mailboxexists: the connection
// cannot send a LIST while the FETCH is in flight.
func (m *jobMailbox) Fetch(ctx context.Context, uids []uint32, want jobs.Want, fn func(*rules.Message) error) error {
	var boxes rules.Mailboxes
	if want.Mailboxes {
		sm := newServerMailboxes(m.Client())
		if _, err := sm.list(ctx); err != nil {
			return err
		}
		boxes = sm
	}
	_, uidValidity := m.Selected()
	return m.FetchEach(ctx, uids, imapconn.FetchSpec{Whole: want.Body, Fields: want.Fields}, func(f imapconn.Fetched) error {
		return fn(parseOne(m.account, m.mailbox, uidValidity, f, boxes))
	})
}
