package imapconn

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// MailboxInfo is one mailbox from List.
type MailboxInfo struct {
	Name string
	// Attrs are the mailbox attributes as sent (`\HasChildren`,
	// `\Noselect`, special-use ones like `\Trash`...).
	Attrs []string
	// Delim is the hierarchy delimiter, 0 if none.
	Delim rune
}

// Selectable reports whether the mailbox can be selected (no \Noselect or
// \NonExistent, RFC 9051 §7.3.1).
func (m MailboxInfo) Selectable() bool {
	return !slices.ContainsFunc(m.Attrs, func(a string) bool {
		return strings.EqualFold(a, string(imap.MailboxAttrNoSelect)) || strings.EqualFold(a, string(imap.MailboxAttrNonExistent))
	})
}

// List lists the mailboxes matching pattern (LIST "" pattern, RFC 9051
// §6.3.9: "*" for all, "%" for the top level), with special-use attributes
// when the server supports RETURN (SPECIAL-USE) (RFC 6154 §5.1).
func (c *Client) List(ctx context.Context, pattern string) ([]MailboxInfo, error) {
	var opts *imap.ListOptions
	if c.caps.Has(imap.CapSpecialUse) && c.caps.Has(imap.CapListExtended) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	var l []*imap.ListData
	err := c.call(ctx, func() (err error) {
		l, err = c.c.List("", pattern, opts).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", pattern, err)
	}
	out := make([]MailboxInfo, 0, len(l))
	for _, d := range l {
		m := MailboxInfo{Name: d.Mailbox, Delim: d.Delim, Attrs: make([]string, len(d.Attrs))}
		for i, a := range d.Attrs {
			m.Attrs[i] = string(a)
		}
		out = append(out, m)
	}
	return out, nil
}
