package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailwarden/mailwarden/rules"
)

// backupFirst makes sure the backup b holds msgs (messages of the mailbox
// mb has selected, which the job calls mailbox) before they are removed
// for good, and returns those it holds: already (their file is in the
// backup's folder for the mailbox's UIDVALIDITY, whoever wrote it) or now
// (fetched whole with one UID FETCH and written, then the folder fsync'd).
// The others are held back: counted, logged, and not to be removed. The
// backup's own mailbox selection and `when` filter choose what its
// scheduled runs export; here every message about to be removed is saved.
// Its checkpoint is not moved (these messages need not be the next ones
// in UID order); its next run finds their files and skips them.
//
// An error (the backup cannot be opened, a write failed) is returned with
// the messages that are safely in the backup all the same, so that the
// caller removes exactly those.
func (r *run) backupFirst(ctx context.Context, b *Backup, mb Mailbox, mailbox string, msgs []*rules.Message) ([]*rules.Message, error) {
	if b == nil || len(msgs) == 0 {
		return msgs, nil
	}
	hold := func(err error) ([]*rules.Message, error) {
		r.sum.HeldBack += len(msgs)
		r.log.Error("backup_first failed; nothing removed", "mailbox", mailbox, "backup", b.Name, "held_back", len(msgs), "err", err)
		return nil, fmt.Errorf("backup_first %q: %w", b.Name, err)
	}
	if r.env.Backups == nil {
		return hold(errors.New("the job environment has no backup store"))
	}
	info, ok, err := r.mailboxInfo(ctx, mailbox)
	if err != nil {
		return hold(err)
	}
	if !ok {
		return hold(fmt.Errorf("mailbox %q is not in the account's list", mailbox))
	}
	f, err := r.env.Backups.Open(ctx, b.Name, b.Dir, r.account, info.Name, info.Delim, mb.UIDValidity())
	if err != nil {
		return hold(err)
	}
	defer f.Close()
	var need []uint32
	for _, m := range msgs {
		if !f.Has(m.UID) {
			need = append(need, m.UID)
		}
	}
	written := 0
	putErr := mb.Fetch(ctx, need, Want{Body: true}, func(m *rules.Message) error {
		if err := f.Put(m); err != nil {
			return err
		}
		written++
		return nil
	})
	if err := f.Sync(); err != nil {
		return hold(err) // nothing written is known to be durable
	}
	var keep []*rules.Message
	for _, m := range msgs {
		if f.Has(m.UID) {
			keep = append(keep, m)
		}
	}
	if written > 0 {
		r.sum.Actions[fmt.Sprintf("backup %q", b.Name)] += written
	}
	if held := len(msgs) - len(keep); held > 0 {
		r.sum.HeldBack += held
		r.log.Warn("backup_first: messages not in the backup are not removed", "mailbox", mailbox, "backup", b.Name,
			"held_back", held, "err", putErr)
	}
	r.log.Debug("backup_first", "mailbox", mailbox, "backup", b.Name, "already", len(msgs)-len(need), "written", written)
	if putErr != nil {
		return keep, fmt.Errorf("backup_first %q: %w", b.Name, putErr)
	}
	return keep, nil
}
