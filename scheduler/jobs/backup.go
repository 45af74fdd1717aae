package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/rules"
)

// Backups is where backup jobs write: a local Maildir tree per directory
// and account, plus the checkpoints of the jobs that fill it. Package
// engine implements it with engine/maildir and the state file.
type Backups interface {
	// Open opens the folder of account's mailbox (hierarchy delimiter
	// delim) in the backup directory dir, for the messages of
	// uidValidity, on behalf of the backup job called job. It waits
	// while another writer holds the folder, until ctx ends.
	Open(ctx context.Context, job, dir, account, mailbox string, delim rune, uidValidity uint32) (BackupFolder, error)
}

// BackupFolder is one mailbox's folder in a backup, open for writing.
type BackupFolder interface {
	// Has reports whether the folder holds the message uid of the
	// folder's UIDVALIDITY: its file is there, whoever wrote it and
	// whether or not a checkpoint covers it.
	Has(uid uint32) bool
	// Put writes m, which was fetched whole, with its bytes as fetched,
	// flags and internal date. The file is durable only after Sync or
	// Advance.
	Put(m *rules.Message) error
	// Sync makes every message Put so far durable (the directory is
	// fsync'd).
	Sync() error
	// Checkpoint returns the job's checkpoint for the mailbox: the
	// highest UID it exported, 0 when it never did or when the
	// mailbox's UIDVALIDITY changed since (prev is then the old one, for
	// the log; 0 otherwise).
	Checkpoint() (last, prev uint32, err error)
	// Advance syncs, then records uid as the job's checkpoint.
	Advance(uid uint32) error
	// Close syncs and releases the folder.
	Close() error
}

// Backup exports messages to a local Maildir tree, incrementally.
//
// For each account it lists the mailboxes and selects those Mailboxes
// names (a name; a special-use attribute such as `\Sent`; a LIST pattern,
// RFC 9051 §6.3.9, where * matches anything and % anything but the
// hierarchy delimiter; nil selects every selectable mailbox). Each one is
// EXAMINEd (read-only: nothing changes on the server, \Seen included);
// the UIDs above the job's checkpoint are searched, those whose file the
// folder already has are skipped (a killed run wrote them), and the rest
// are fetched whole, in batches of one UID FETCH each, streamed to disk as
// they arrive. When passes, a message is written (engine/maildir: tmp/,
// fsync, rename into cur/); after each batch the folder is fsync'd and
// only then the checkpoint advances past the batch. So a run killed at any
// point loses nothing (the checkpoint never covers an unwritten message)
// and duplicates nothing (the next run skips what it finds written).
//
// A message When rejects is not exported, and the checkpoint moves past it
// like past the others: the filter decides when a message is first seen.
// Flags are those at export time. A UIDVALIDITY change makes the job
// export the mailbox again; the old files stay, named by their
// UIDVALIDITY. The cap (Spec.Max) counts messages written.
type Backup struct {
	Spec
	// Mailboxes select the mailboxes to export; nil means all.
	Mailboxes []string
	When      Filter // optional
	// Dir is the destination directory; each account is a Maildir++ root
	// under it, Dir/<account>.
	Dir string
}

func (b *Backup) JobSpec() *Spec { return &b.Spec }
func (b *Backup) Kind() string   { return "backup" }

func (b *Backup) runAccount(ctx context.Context, r *run) error {
	if r.env.Backups == nil {
		return errors.New("backup: the job environment has no backup store")
	}
	boxes, missing, err := r.selectMailboxes(ctx, b.Mailboxes)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range missing {
		r.log.Error("backup: no such mailbox", "mailbox", m)
		errs = append(errs, fmt.Errorf("mailbox %q: not found", m))
	}
	r.log.Debug("backup: mailboxes selected", "count", len(boxes))
	for _, box := range boxes {
		if r.sum.Capped {
			break
		}
		if err := b.export(ctx, r, box); err != nil {
			if ctx.Err() != nil {
				return errors.Join(append(errs, err)...)
			}
			r.log.Error("backup of this mailbox failed; going on with the others", "mailbox", box.Name, "err", err)
			errs = append(errs, fmt.Errorf("mailbox %q: %w", box.Name, err))
		}
	}
	return errors.Join(errs...)
}

// export exports what is new in one mailbox.
func (b *Backup) export(ctx context.Context, r *run, box MailboxInfo) error {
	mb, err := r.conn.Examine(ctx, box.Name)
	if err != nil {
		return err
	}
	uv := mb.UIDValidity()
	f, err := r.env.Backups.Open(ctx, b.Name, b.Dir, r.account, box.Name, box.Delim, uv)
	if err != nil {
		return err
	}
	defer f.Close()
	last, prev, err := f.Checkpoint()
	if err != nil {
		return err
	}
	if prev != 0 {
		r.log.Warn("backup: UIDVALIDITY changed; exporting the mailbox again (the old copies stay, named by their UIDVALIDITY)",
			"mailbox", box.Name, "old_uidvalidity", prev, "uidvalidity", uv)
	}
	uids, err := mb.Search(ctx, &Search{UIDFrom: last + 1})
	if err != nil {
		return err
	}
	var todo []uint32
	for _, u := range uids {
		if f.Has(u) {
			r.sum.Skipped++
			continue
		}
		todo = append(todo, u)
	}
	if n := len(uids) - len(todo); n > 0 {
		r.log.Info("backup: messages already in the backup past the checkpoint (a run was interrupted); not written again",
			"mailbox", box.Name, "messages", n)
	}
	r.log.Debug("backup: to export", "mailbox", box.Name, "new", len(todo), "checkpoint", last, "uidvalidity", uv)
	start, acted0, bytes0 := time.Now(), r.sum.Acted, r.sum.Bytes
	fetched := 0
	var seen uint32 // highest UID fetched so far
	err = r.scan(ctx, mb, box.Name, todo, Want{Body: true}, true, func(m *rules.Message) error {
		seen = max(seen, m.UID)
		fetched++
		if !r.matchFilter(b.When, m) {
			return nil
		}
		r.sum.Matched++
		if err := f.Put(m); err != nil {
			return err
		}
		r.sum.Acted++
		raw, _ := m.Raw() // Put has checked it was fetched whole
		r.sum.Bytes += int64(len(raw))
		r.sum.Actions["export"]++
		return nil
	}, func() (bool, error) {
		// The batch is on disk: make it durable, then record it.
		if seen > last {
			if err := f.Advance(seen); err != nil {
				return false, err
			}
			last = seen
		}
		if fetched < len(todo) {
			r.log.Info("backup: progress", "mailbox", box.Name, "fetched", fetched, "of", len(todo),
				"exported", r.sum.Acted-acted0, "checkpoint", last)
		}
		return r.sum.Capped, nil
	})
	if n := r.sum.Acted - acted0; n > 0 || err != nil {
		took := time.Since(start)
		r.log.Info("backup: mailbox exported", "mailbox", box.Name, "messages", n, "bytes", r.sum.Bytes-bytes0,
			"took", took.Round(time.Millisecond), "msgs_per_s", int(float64(n)/max(took.Seconds(), 0.001)), "complete", err == nil && !r.sum.Capped)
	}
	if err != nil {
		return err
	}
	// Every UID found was exported or was there already (or vanished):
	// the checkpoint may cover them all.
	if !r.sum.Capped && len(uids) > 0 && uids[len(uids)-1] > last {
		return f.Advance(uids[len(uids)-1])
	}
	return nil
}

// mailboxes lists the account's mailboxes once per run.
func (r *run) mailboxes(ctx context.Context) ([]MailboxInfo, error) {
	if r.boxes == nil {
		l, err := r.conn.List(ctx)
		if err != nil {
			return nil, err
		}
		r.boxes = l
	}
	return r.boxes, nil
}

// listSpecialUse answers actions.Resolve from a listing.
type listSpecialUse []MailboxInfo

func (l listSpecialUse) SpecialUse(_ context.Context, attr string) (string, error) {
	for _, m := range l {
		if m.hasAttr(attr) {
			return m.Name, nil
		}
	}
	return "", fmt.Errorf("special-use %s: %w", attr, actions.ErrNoSpecialUse)
}

// mailboxInfo returns the listed mailbox a job means by name (a name or a
// special-use attribute, resolved as actions.Resolve does); ok is false
// when the account has no such mailbox.
func (r *run) mailboxInfo(ctx context.Context, name string) (MailboxInfo, bool, error) {
	l, err := r.mailboxes(ctx)
	if err != nil {
		return MailboxInfo{}, false, err
	}
	if rules.IsSpecialUse(name) {
		n, err := actions.Resolve(ctx, listSpecialUse(l), name)
		if err != nil {
			return MailboxInfo{}, false, nil
		}
		name = n
	}
	for _, m := range l {
		if sameMailbox(m.Name, name) {
			return m, m.Selectable(), nil
		}
	}
	return MailboxInfo{}, false, nil
}

// selectMailboxes returns the selectable mailboxes sels select, in the
// order first selected, each once; nil sels selects all. missing lists the
// names and special-use attributes that name no mailbox (a pattern that
// matches none is not missing).
func (r *run) selectMailboxes(ctx context.Context, sels []string) (out []MailboxInfo, missing []string, err error) {
	l, err := r.mailboxes(ctx)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	add := func(m MailboxInfo) {
		if m.Selectable() && !seen[m.Name] {
			seen[m.Name] = true
			out = append(out, m)
		}
	}
	if sels == nil {
		for _, m := range l {
			add(m)
		}
		return out, nil, nil
	}
	for _, sel := range sels {
		if !rules.IsSpecialUse(sel) && strings.ContainsAny(sel, "*%") {
			for _, m := range l {
				if MatchPattern(sel, m.Name, m.Delim) {
					add(m)
				}
			}
			continue
		}
		m, ok, err := r.mailboxInfo(ctx, sel)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			missing = append(missing, sel)
			continue
		}
		add(m)
	}
	return out, missing, nil
}

// sameMailbox compares mailbox names: INBOX case-insensitively (RFC 9051
// §5.1), others exactly.
func sameMailbox(a, b string) bool {
	return a == b || strings.EqualFold(a, "INBOX") && strings.EqualFold(b, "INBOX")
}

// MatchPattern reports whether mailbox matches a LIST pattern (RFC 9051
// §6.3.9): * matches any characters, % any but the hierarchy delimiter
// delim. A leading INBOX compares case-insensitively, as INBOX does.
func MatchPattern(pattern, mailbox string, delim rune) bool {
	pattern, mailbox = inboxUpper(pattern, delim), inboxUpper(mailbox, delim)
	return match(pattern, mailbox, delim)
}

// inboxUpper writes a leading INBOX level in upper case.
func inboxUpper(s string, delim rune) string {
	first, rest, found := s, "", false
	if delim != 0 {
		first, rest, found = strings.Cut(s, string(delim))
	}
	if !strings.EqualFold(first, "INBOX") {
		return s
	}
	if found {
		return "INBOX" + string(delim) + rest
	}
	return "INBOX"
}

// match is LIST pattern matching by dynamic programming over pattern and
// name positions (no backtracking blow-up on patterns like *a*a*a*b).
func match(p, s string, delim rune) bool {
	d := string(delim)
	// ok[j]: p[:i] matches s[:j], for the current i.
	ok := make([]bool, len(s)+1)
	ok[0] = true
	for i := 0; i < len(p); i++ {
		next := make([]bool, len(s)+1)
		switch c := p[i]; c {
		case '*', '%':
			for j := 0; j <= len(s); j++ {
				switch {
				case ok[j]:
					next[j] = true
				case j > 0 && next[j-1] && (c == '*' || delim == 0 || !strings.HasPrefix(s[j-1:], d)):
					next[j] = true
				}
			}
		default:
			for j := 1; j <= len(s); j++ {
				next[j] = ok[j-1] && s[j-1] == c
			}
		}
		ok = next
	}
	return ok[len(s)]
}
