package imapconn

import (
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/mailwarden/mailwarden/actions"
)

// SpecialUse returns the mailbox carrying the special-use attribute attr
// (`\Trash`, RFC 6154 §2), listing all mailboxes once per Session with
// LIST "" "*" RETURN (SPECIAL-USE) (RFC 6154 §5.1) when the server has
// LIST-EXTENDED, else plain LIST, whose attributes include special-use ones.
// None found: an error wrapping actions.ErrNoSpecialUse.
func (s *Session) SpecialUse(ctx context.Context, attr string) (string, error) {
	if s.specialUse == nil {
		m, err := s.c.specialUse(ctx)
		if err != nil {
			return "", err
		}
		s.specialUse = m
	}
	if name, ok := s.specialUse[strings.ToLower(attr)]; ok {
		return name, nil
	}
	return "", fmt.Errorf("special-use %s: %w", attr, actions.ErrNoSpecialUse)
}

func (c *Client) specialUse(ctx context.Context) (map[string]string, error) {
	var opts *imap.ListOptions
	if c.caps.Has(imap.CapSpecialUse) && c.caps.Has(imap.CapListExtended) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	var l []*imap.ListData
	err := c.call(ctx, func() (err error) {
		l, err = c.c.List("", "*", opts).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list special-use: %w", err)
	}
	m := make(map[string]string)
	for _, d := range l {
		for _, a := range d.Attrs {
			k := strings.ToLower(string(a))
			if _, seen := m[k]; !seen && isSpecialUse(a) {
				m[k] = d.Mailbox
			}
		}
	}
	return m, nil
}

func isSpecialUse(a imap.MailboxAttr) bool {
	switch strings.ToLower(string(a)) {
	case `\all`, `\archive`, `\drafts`, `\flagged`, `\junk`, `\sent`, `\trash`, `\important`:
		return true
	}
	return false
}
