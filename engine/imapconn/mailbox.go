package imapconn

import (
	"context"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
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

// Append appends raw to mailbox (RFC 9051 §6.3.12) with flags and internal
// date (zero: the server's now) and returns its UID from APPENDUID
// (RFC 4315 §3), or 0 without UIDPLUS. A missing mailbox yields an error
// wrapping actions.ErrTryCreate.
func (c *Client) Append(ctx context.Context, mailbox string, flags []string, date time.Time, raw []byte) (uint32, error) {
	opts := &imap.AppendOptions{Flags: toFlags(flags), Time: date}
	var data *imap.AppendData
	err := c.call(ctx, func() error {
		cmd := c.c.Append(mailbox, int64(len(raw)), opts)
		if _, err := cmd.Write(raw); err != nil {
			cmd.Close()
			cmd.Wait() //nolint:errcheck // the write error is the one to report
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		var err error
		data, err = cmd.Wait()
		return err
	})
	if err != nil {
		return 0, wrapTryCreate(fmt.Sprintf("append to %q", mailbox), err)
	}
	return uint32(data.UID), nil
}

// QuotaRoot returns the STORAGE usage and limit of mailbox's quota root in
// bytes (GETQUOTAROOT, RFC 9208 §4.3; STORAGE counts units of 1024
// octets). Without the QUOTA capability, or without a STORAGE resource, it
// returns an error wrapping ErrNoQuota.
func (c *Client) QuotaRoot(ctx context.Context, mailbox string) (used, limit int64, err error) {
	if !c.caps.Has(imap.CapQuota) {
		return 0, 0, fmt.Errorf("getquotaroot %q: %w", mailbox, ErrNoQuota)
	}
	var roots []imapclient.QuotaData
	err = c.call(ctx, func() (err error) {
		roots, err = c.c.GetQuotaRoot(mailbox).Wait()
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("getquotaroot %q: %w", mailbox, err)
	}
	for _, r := range roots {
		if res, ok := r.Resources[imap.QuotaResourceStorage]; ok {
			return res.Usage * 1024, res.Limit * 1024, nil
		}
	}
	return 0, 0, fmt.Errorf("getquotaroot %q: %w", mailbox, ErrNoQuota)
}
