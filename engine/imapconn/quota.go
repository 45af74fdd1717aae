package imapconn

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

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
