package imapconn

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailwarden/mailwarden/actions"
)

// Copy copies uids to dest with UID COPY (RFC 9051 §6.4.7) and returns the
// destination UIDs in the order of uids from COPYUID (RFC 4315 §3), 0 for a
// UID the server did not copy (already expunged); nil without COPYUID. A
// missing dest yields an error wrapping actions.ErrTryCreate.
func (s *Session) Copy(ctx context.Context, uids []uint32, dest string) (actions.Copied, error) {
	if len(uids) == 0 {
		return actions.Copied{}, nil
	}
	if err := s.check(); err != nil {
		return actions.Copied{}, err
	}
	set := uidSet(uids)
	var data *imap.CopyData
	err := s.c.call(ctx, func() (err error) {
		data, err = s.c.c.Copy(set, dest).Wait()
		return err
	})
	if err != nil {
		return actions.Copied{}, wrapTryCreate(fmt.Sprintf("uid copy %s to %q", set, dest), err)
	}
	return copied(uids, data), nil
}

// Move moves uids to dest with UID MOVE (RFC 6851 §3.1) and returns the
// destination UIDs like Copy (COPYUID arrives in an untagged OK, RFC 6851
// §4.3). Without the MOVE capability it returns ErrNoMove and sends
// nothing: go-imap's fallback is unsafe (see the package doc).
func (s *Session) Move(ctx context.Context, uids []uint32, dest string) (actions.Copied, error) {
	if len(uids) == 0 {
		return actions.Copied{}, nil
	}
	if err := s.checkWrite("uid move"); err != nil {
		return actions.Copied{}, err
	}
	// A closed connection is a temporary failure, not a missing MOVE:
	// go-imap reports no capabilities once closed (found by the soak: the
	// batch's next MOVE after a reset read as ErrNoMove, which is
	// permanent, and stopped the watcher).
	select {
	case <-s.c.c.Closed():
		return actions.Copied{}, fmt.Errorf("uid move to %q: %w", dest, ErrClosed)
	default:
	}
	// Check both our view and go-imap's: its Move silently falls back to
	// COPY+STORE+EXPUNGE when it thinks MOVE is missing.
	if !s.c.caps.Has(imap.CapMove) || !s.c.c.Caps().Has(imap.CapMove) {
		return actions.Copied{}, fmt.Errorf("uid move to %q: %w", dest, ErrNoMove)
	}
	set := uidSet(uids)
	var data *imapclient.MoveData
	err := s.c.call(ctx, func() (err error) {
		data, err = s.c.c.Move(set, dest).Wait()
		return err
	})
	if err != nil {
		return actions.Copied{}, wrapTryCreate(fmt.Sprintf("uid move %s to %q", set, dest), err)
	}
	src, _ := data.SourceUIDs.(imap.UIDSet)
	dst, _ := data.DestUIDs.(imap.UIDSet)
	return copied(uids, &imap.CopyData{UIDValidity: data.UIDValidity, SourceUIDs: src, DestUIDs: dst}), nil
}

// copied turns a COPYUID answer into actions.Copied for uids; the zero
// value without COPYUID.
func copied(uids []uint32, data *imap.CopyData) actions.Copied {
	if data == nil {
		return actions.Copied{}
	}
	dest := mapCopyUIDs(uids, data.SourceUIDs, data.DestUIDs)
	if dest == nil {
		return actions.Copied{}
	}
	return actions.Copied{UIDValidity: data.UIDValidity, UIDs: dest}
}

// wrapTryCreate marks NO [TRYCREATE] (RFC 9051 §7.1) with
// actions.ErrTryCreate.
func wrapTryCreate(op string, err error) error {
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeTryCreate {
		return fmt.Errorf("%s: %w: %w", op, actions.ErrTryCreate, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// mapCopyUIDs turns COPYUID's source and destination sets (RFC 4315 §3:
// the n-th source UID became the n-th destination UID, in ascending source
// order) into destination UIDs in the order of uids. nil without COPYUID.
func mapCopyUIDs(uids []uint32, src, dst imap.UIDSet) []uint32 {
	if len(src) == 0 || len(dst) == 0 {
		return nil
	}
	s, ok1 := src.Nums()
	d, ok2 := dst.Nums()
	if !ok1 || !ok2 || len(s) != len(d) {
		return nil
	}
	m := make(map[uint32]uint32, len(s))
	for i := range s {
		m[uint32(s[i])] = uint32(d[i])
	}
	out := make([]uint32, len(uids))
	for i, u := range uids {
		out[i] = m[u]
	}
	return out
}
