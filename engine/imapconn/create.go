package imapconn

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"
)

// Create creates mailbox name (RFC 9051 §6.3.4). A mailbox that already
// exists is not an error ([ALREADYEXISTS], RFC 5530, or found by LIST).
func (s *Session) Create(ctx context.Context, name string) error {
	return s.c.Create(ctx, name)
}

// Create creates mailbox name; see Session.Create.
func (c *Client) Create(ctx context.Context, name string) error {
	err := c.call(ctx, func() error { return c.c.Create(name, nil).Wait() })
	if err == nil {
		return nil
	}
	var imapErr *imap.Error
	if errors.As(err, &imapErr) {
		if imapErr.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		if imapErr.Type == imap.StatusResponseTypeNo {
			if ok, lerr := c.exists(ctx, name); lerr == nil && ok {
				return nil
			}
		}
	}
	return fmt.Errorf("create %q: %w", name, err)
}

// exists lists name exactly.
func (c *Client) exists(ctx context.Context, name string) (bool, error) {
	var l []*imap.ListData
	err := c.call(ctx, func() (err error) {
		l, err = c.c.List("", name, nil).Collect()
		return err
	})
	if err != nil {
		return false, err
	}
	for _, d := range l {
		if d.Mailbox == name && !slices.Contains(d.Attrs, imap.MailboxAttrNonExistent) {
			return true, nil
		}
	}
	return false, nil
}
