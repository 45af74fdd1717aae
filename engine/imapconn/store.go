package imapconn

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/mailwarden/mailwarden/actions"
)

// Store changes flags with UID STORE uids ±FLAGS.SILENT (RFC 9051 §6.4.6).
// Adding or removing no flags sends nothing; replacing with none clears all.
func (s *Session) Store(ctx context.Context, uids []uint32, op actions.StoreOp, flags []string) error {
	if len(uids) == 0 || (len(flags) == 0 && op != actions.StoreReplace) {
		return nil
	}
	if err := s.checkWrite("uid store"); err != nil {
		return err
	}
	set := uidSet(uids)
	sf := &imap.StoreFlags{Silent: true, Flags: toFlags(flags)}
	switch op {
	case actions.StoreAdd:
		sf.Op = imap.StoreFlagsAdd
	case actions.StoreRemove:
		sf.Op = imap.StoreFlagsDel
	case actions.StoreReplace:
		sf.Op = imap.StoreFlagsSet
	default:
		return fmt.Errorf("uid store: unknown op %d", int(op))
	}
	err := s.c.call(ctx, func() error { return s.c.c.Store(set, sf, nil).Close() })
	if err != nil {
		return fmt.Errorf("uid store %s %s%s %v: %w", set, op, ".SILENT", flags, err)
	}
	return nil
}
