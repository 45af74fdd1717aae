package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// Expire removes old messages of one mailbox for good (typically the
// Trash).
//
// Selection is as for Archive, except that messages already flagged
// \Deleted are included (a run killed between its STORE and its EXPUNGE
// leaves them so, and the next run finishes them). Removal is
// actions.Executor.Expunge: UID STORE +FLAGS (\Deleted) and UID EXPUNGE of
// exactly the selected UIDs (RFC 4315 §2.1), so other messages flagged
// \Deleted stay; without UIDPLUS the job fails with actions.ErrNoUIDPlus and
// removes nothing.
//
// With BackupFirst, each batch about to be removed is first saved in that
// backup (see backupFirst), and only the messages the backup holds are
// removed; the others are held back (Summary.HeldBack).
type Expire struct {
	Spec
	Mailbox     string
	OlderThan   time.Duration
	ByDate      bool
	SkipFlagged bool
	SkipUnread  bool
	When        Filter // optional
	// BackupFirst, when set, is the backup every removed message must be
	// in first.
	BackupFirst *Backup
}

func (e *Expire) JobSpec() *Spec { return &e.Spec }
func (e *Expire) Kind() string   { return "expire" }

func (e *Expire) runAccount(ctx context.Context, r *run) error {
	mb, err := r.conn.Select(ctx, e.Mailbox)
	if err != nil {
		return err
	}
	ag := age{olderThan: e.OlderThan, byDate: e.ByDate}
	cutoff := ag.cutoff(r.env.now())
	s := &Search{Flags: flagsIf(e.SkipUnread, rules.FlagSeen), NotFlags: flagsIf(e.SkipFlagged, rules.FlagFlagged)}
	ag.search(cutoff, s)
	uids, err := mb.Search(ctx, s)
	if err != nil {
		return err
	}
	var old []*rules.Message
	return r.scan(ctx, mb, e.Mailbox, uids, Want{Fields: rules.FetchFields(e.When)}, false, func(m *rules.Message) error {
		if r.sum.Capped || !ag.old(m, cutoff) || !r.matchFilter(e.When, m) {
			return nil
		}
		r.sum.Matched++
		if len(old) >= r.remaining() {
			r.capReached(e.Mailbox)
			return nil
		}
		old = append(old, m.Slim())
		return nil
	}, func() (bool, error) {
		keep, berr := r.backupFirst(ctx, e.BackupFirst, mb, e.Mailbox, old)
		err := r.expunge(ctx, mb, keep)
		old = nil
		return r.sum.Capped, errors.Join(berr, err)
	})
}

// expunge removes msgs for good and counts them.
func (r *run) expunge(ctx context.Context, mb Mailbox, msgs []*rules.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	rep, err := r.exec.Expunge(ctx, mb, msgs, r.spec.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", r.spec.Name, err)
	}
	for _, m := range msgs {
		if rep.Failed[m.UID] != nil {
			r.sum.Failed++
			continue
		}
		r.sum.Acted++
		r.sum.Bytes += m.Size
		r.sum.Actions["expunge"]++
	}
	return rep.Err()
}
