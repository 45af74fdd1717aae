package imapconn

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailwarden/mailwarden/actions"
)

// SpecialUse returns the mailbox carrying the special-use attribute attr
// (`\Trash`, RFC 6154 §2). It needs no selected mailbox: the connection's
// mailboxes are listed once, with LIST "" "*" RETURN (SPECIAL-USE) (RFC 6154
// §5.1) when the server has LIST-EXTENDED, else plain LIST, whose
// attributes include special-use ones, and the answer is kept for the life
// of the connection. None found: an error wrapping actions.ErrNoSpecialUse
// (actions.Resolve then falls back to the conventional name).
func (c *Client) SpecialUse(ctx context.Context, attr string) (string, error) {
	c.mu.Lock()
	m := c.specialUse
	c.mu.Unlock()
	if m == nil {
		l, err := c.List(ctx, "*")
		if err != nil {
			return "", fmt.Errorf("special-use: %w", err)
		}
		m = make(map[string]string)
		for _, mb := range l {
			for _, a := range mb.Attrs {
				k := strings.ToLower(a)
				if _, seen := m[k]; !seen && isSpecialUse(k) {
					m[k] = mb.Name
				}
			}
		}
		c.mu.Lock()
		c.specialUse = m
		c.mu.Unlock()
	}
	if name, ok := m[strings.ToLower(attr)]; ok {
		return name, nil
	}
	return "", fmt.Errorf("special-use %s: %w", attr, actions.ErrNoSpecialUse)
}

// SpecialUse is the Client's SpecialUse, for actions.Mailbox.
func (s *Session) SpecialUse(ctx context.Context, attr string) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	return s.c.SpecialUse(ctx, attr)
}

// isSpecialUse reports RFC 6154 §2 (and RFC 8457) attributes, given in
// lower case.
func isSpecialUse(a string) bool {
	switch a {
	case `\all`, `\archive`, `\drafts`, `\flagged`, `\junk`, `\sent`, `\trash`, `\important`:
		return true
	}
	return false
}
