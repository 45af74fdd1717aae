package engine

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"

	"github.com/mailwarden/mailwarden/engine/maildir"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// maildirBackups is jobs.Backups: engine/maildir folders, with the
// checkpoints in the state file (none when store is nil: every run then
// searches the whole mailbox, and the files alone keep it from writing
// anything twice). A dry run writes nothing: it reads which messages the
// folders hold and pretends to write the others.
type maildirBackups struct {
	store  *state.Store
	dryRun bool
	log    *slog.Logger
}

var _ jobs.Backups = (*maildirBackups)(nil)

func (b *maildirBackups) Open(ctx context.Context, job, dir, account, mailbox string, delim rune, uidValidity uint32) (jobs.BackupFolder, error) {
	dir = filepath.Clean(dir)
	root := maildir.AccountRoot(dir, account)
	f := backupFolder{b: b, job: job, dir: dir, account: account, mailbox: mailbox, uidValidity: uidValidity}
	if b.dryRun {
		have, err := maildir.Index(root, mailbox, delim, uidValidity)
		if err != nil {
			return nil, err
		}
		return &dryBackupFolder{backupFolder: f, have: have}, nil
	}
	w, err := maildir.Open(ctx, root, mailbox, delim, uidValidity, nil)
	if err != nil {
		return nil, err
	}
	return &writeBackupFolder{backupFolder: f, w: w}, nil
}

// backupFolder is what both kinds of folder share: the checkpoint.
type backupFolder struct {
	b                          *maildirBackups
	job, dir, account, mailbox string
	uidValidity                uint32
}

func (f *backupFolder) Checkpoint() (last, prev uint32, err error) {
	if f.b.store == nil {
		return 0, 0, nil
	}
	cp, ok, err := f.b.store.BackupCheckpoint(f.job, f.dir, f.account, f.mailbox)
	if err != nil || !ok {
		return 0, 0, err
	}
	if cp.UIDValidity != f.uidValidity {
		return 0, cp.UIDValidity, nil
	}
	return cp.LastUID, 0, nil
}

// writeBackupFolder writes.
type writeBackupFolder struct {
	backupFolder
	w *maildir.Writer
}

func (f *writeBackupFolder) Has(uid uint32) bool { return f.w.Has(uid) }

func (f *writeBackupFolder) Put(m *rules.Message) error {
	raw, err := m.Raw()
	if err != nil {
		return err
	}
	name, dropped, err := f.w.Put(&maildir.Message{UIDValidity: f.uidValidity, UID: m.UID, Flags: m.Flags,
		InternalDate: m.InternalDate, Raw: raw})
	if err != nil {
		return err
	}
	if len(dropped) > 0 {
		f.b.log.Warn("backup: the folder's 26 keyword letters are taken; keywords not kept in the file name",
			"mailbox", f.mailbox, "uid", m.UID, "file", name, "keywords", dropped)
	}
	return nil
}

func (f *writeBackupFolder) Sync() error { return f.w.Sync() }

func (f *writeBackupFolder) Advance(uid uint32) error {
	if err := f.w.Sync(); err != nil {
		return err
	}
	if f.b.store == nil {
		return nil
	}
	return f.b.store.SetBackupCheckpoint(f.job, f.dir, f.account, f.mailbox,
		state.Checkpoint{UIDValidity: f.uidValidity, LastUID: uid})
}

func (f *writeBackupFolder) Close() error { return f.w.Close() }

// dryBackupFolder writes nothing.
type dryBackupFolder struct {
	backupFolder
	have map[uint32]bool
}

func (f *dryBackupFolder) Has(uid uint32) bool { return f.have[uid] }

func (f *dryBackupFolder) Put(m *rules.Message) error {
	if !m.HasBody() {
		return errors.New("backup: message not fetched whole")
	}
	f.have[m.UID] = true
	return nil
}

func (f *dryBackupFolder) Sync() error          { return nil }
func (f *dryBackupFolder) Advance(uint32) error { return nil }
func (f *dryBackupFolder) Close() error         { return nil }
