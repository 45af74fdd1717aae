package imapconn

import (
	"context"
	"fmt"
	"strings"

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
	l, err := c.List(ctx, "*")
	if err != nil {
		return nil, fmt.Errorf("special-use: %w", err)
	}
	m := make(map[string]string)
	for _, mb := range l {
		for _, a := range mb.Attrs {
			k := strings.ToLower(a)
			if _, seen := m[k]; !seen && isSpecialUse(k) {
				m[k] = mb.Name
			}
		}
	}
	return m, nil
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
