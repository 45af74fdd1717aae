package imapconn

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
)

// UIDExpunge expunges exactly uids with UID EXPUNGE (RFC 4315 §2.1). Without
// UIDPLUS it returns ErrNoUIDPlus: there is no plain EXPUNGE fallback.
func (s *Session) UIDExpunge(ctx context.Context, uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	if err := s.checkWrite("uid expunge"); err != nil {
		return err
	}
	if !s.c.caps.Has(imap.CapUIDPlus) {
		return fmt.Errorf("uid expunge: %w", ErrNoUIDPlus)
	}
	set := uidSet(uids)
	if err := s.c.call(ctx, func() error { return s.c.c.UIDExpunge(set).Close() }); err != nil {
		return fmt.Errorf("uid expunge %s: %w", set, err)
	}
	return nil
}
