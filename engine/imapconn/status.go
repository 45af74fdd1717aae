package imapconn

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
)

// Status is a mailbox's STATUS (RFC 9051 §6.3.11).
type Status struct {
	Mailbox     string
	Messages    uint32
	UIDNext     uint32
	UIDValidity uint32
	Unseen      uint32
	// Size is the total size in octets (STATUS=SIZE / IMAP4rev2), -1 when
	// the server does not report it.
	Size int64
}

// Status asks for the status of mailbox. RFC 9051 §6.3.11 discourages it on
// the selected mailbox (the answer may be stale); use the Session there.
func (c *Client) Status(ctx context.Context, mailbox string) (*Status, error) {
	opts := &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, NumUnseen: true}
	hasSize := c.caps.Has(imap.CapStatusSize)
	opts.Size = hasSize
	var data *imap.StatusData
	err := c.call(ctx, func() (err error) {
		data, err = c.c.Status(mailbox, opts).Wait()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("status %q: %w", mailbox, err)
	}
	st := &Status{Mailbox: mailbox, UIDNext: uint32(data.UIDNext), UIDValidity: data.UIDValidity, Size: -1}
	if data.NumMessages != nil {
		st.Messages = *data.NumMessages
	}
	if data.NumUnseen != nil {
		st.Unseen = *data.NumUnseen
	}
	if data.Size != nil {
		st.Size = *data.Size
	}
	return st, nil
}
