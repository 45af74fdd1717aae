package imapconn

import (
	"context"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Append appends raw to mailbox (RFC 9051 §6.3.12) with flags and internal
// date (zero: the server's now) and returns its UID from APPENDUID
// (RFC 4315 §3), or 0 without UIDPLUS. A missing mailbox yields an error
// wrapping actions.ErrTryCreate.
//
// go-imap beta.8 sends messages over 4 KiB as a synchronizing literal; when
// the server refuses the APPEND before the literal (Dovecot checks quota
// and the mailbox first), go-imap closes the connection after returning
// the server's NO: dial again.
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
