// Package restore appends the messages of a Maildir tree back to an IMAP
// account: `mailwarden restore`.
//
// The model: the tree is what a backup job wrote (a Maildir++ root per
// account, engine/maildir), or any Maildir (a Maildir++ root, a plain tree
// such as Dovecot's LAYOUT=fs, or one folder). Each folder stands for a
// mailbox: its hierarchy levels joined with the server's delimiter, INBOX
// for the root, or the one mailbox Options.To names. Each message file is
// appended (RFC 9051 §6.3.12; one APPEND per message, go-imap has no
// MULTIAPPEND) with the flags its name carries (keywords through the
// folder's dovecot-keywords) and its modification time as the internal
// date; the bytes are sent as they are in the file. Missing mailboxes are
// created.
//
// Invariants:
//
//   - A message whose Message-ID the target mailbox already holds is not
//     appended; nor one without a Message-ID when a message without one of
//     the same size and internal date is there. The target's Message-IDs
//     are read once per mailbox (one UID FETCH of the Message-ID field of
//     every message, compared exactly, not SEARCH's substring match), and
//     every append adds to them, so two copies in the tree (an old
//     UIDVALIDITY's and the new one's) are appended once. A restore
//     killed half-way and run again appends only what is missing.
//   - Nothing is removed or changed on the server or in the tree. A dry
//     run selects nothing read-write and appends nothing: it reports what
//     would be appended.
//   - An APPEND that fails stops the run (go-imap closes the connection
//     when the server refuses a literal): what was appended stays, and a
//     second run goes on from there.
package restore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/maildir"
	"github.com/mailwarden/mailwarden/engine/message"
)

// Options configure Run. From, Account and Dial are required.
type Options struct {
	// From is the Maildir tree: a Maildir (or Maildir++ root), or the
	// directory of a backup job (its Account's root under it is used).
	From string
	// Account names the account to append to, for Dial.
	Account string
	Dial    imapconn.Dialer
	// Mailbox, when set, restores only the folder of this mailbox (as
	// the server names it).
	Mailbox string
	// To, when set, appends into this mailbox instead of each folder's
	// own: the tree (or the Mailbox selection) must have one folder.
	To string
	// Since, when set, restores only messages whose internal date is at
	// or after it.
	Since time.Time
	// DryRun appends nothing and reports what would be appended.
	DryRun bool
	// Logger receives progress lines; nil discards.
	Logger *slog.Logger
	// Progress, when set, is called after each message of a folder.
	Progress func(mailbox string, done, total int)
	// Planned, when set, is called with each message that is (or, in a
	// dry run, would be) appended.
	Planned func(Item)
}

// Item is one message to append.
type Item struct {
	Mailbox      string
	Path         string
	MessageID    string
	Flags        []string
	InternalDate time.Time
	Size         int64
}

// Report is what a run did.
type Report struct {
	// Root is the Maildir tree read.
	Root    string
	Folders int
	// Found counts message files considered (after Since); Appended
	// those appended (would be, in a dry run); Present those skipped
	// because the target holds them.
	Found, Appended, Present int
	Bytes                    int64
	Created                  []string // mailboxes created
	DryRun                   bool
	Duration                 time.Duration
}

// Run restores opts.From into the account. The Report is never nil.
func Run(ctx context.Context, opts *Options) (*Report, error) {
	start := time.Now()
	rep := &Report{DryRun: opts.DryRun}
	defer func() { rep.Duration = time.Since(start) }()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	root, folders, err := findRoot(opts.From, opts.Account)
	if err != nil {
		return rep, err
	}
	rep.Root = root
	c, err := opts.Dial(ctx, opts.Account)
	if err != nil {
		return rep, fmt.Errorf("connect: %w", err)
	}
	defer c.Logout(context.Background()) //nolint:errcheck // the work is done
	delim, err := delimiter(ctx, c)
	if err != nil {
		return rep, err
	}
	type job struct {
		f      maildir.Folder
		target string
	}
	var todo []job
	for _, f := range folders {
		name := maildir.MailboxName(f.Levels, delim)
		if opts.Mailbox != "" && !sameMailbox(name, opts.Mailbox) {
			continue
		}
		target := name
		if opts.To != "" {
			target = opts.To
		}
		todo = append(todo, job{f, target})
	}
	switch {
	case len(todo) == 0 && opts.Mailbox != "":
		return rep, fmt.Errorf("%s has no folder for mailbox %q", root, opts.Mailbox)
	case len(todo) == 0:
		return rep, fmt.Errorf("%s holds no Maildir folder (no cur/ directory)", root)
	case len(todo) > 1 && opts.To != "":
		return rep, fmt.Errorf("%s has %d folders: name one with the mailbox option to restore it into %q", root, len(todo), opts.To)
	}
	for _, j := range todo {
		rep.Folders++
		if err := restoreFolder(ctx, c, j.f, j.target, opts, rep, log); err != nil {
			return rep, fmt.Errorf("%s → %q: %w", j.f.Dir, j.target, err)
		}
	}
	return rep, nil
}

// findRoot returns the tree to read: from itself when it is a Maildir
// (has cur/), else the account's root under it when there is one (a
// backup job's directory), else the folders under from (a plain tree
// without INBOX).
func findRoot(from, account string) (string, []maildir.Folder, error) {
	folders, err := maildir.Folders(from)
	if err != nil {
		return "", nil, err
	}
	if len(folders) > 0 && folders[0].Rel == "" {
		return from, folders, nil
	}
	sub := maildir.AccountRoot(from, account)
	if fi, err := os.Stat(sub); err == nil && fi.IsDir() {
		folders, err := maildir.Folders(sub)
		return sub, folders, err
	}
	return from, folders, nil
}

// delimiter returns the server's hierarchy delimiter ('/' when it names
// none).
func delimiter(ctx context.Context, c *imapconn.Client) (rune, error) {
	l, err := c.List(ctx, "%")
	if err != nil {
		return 0, err
	}
	for _, m := range l {
		if m.Delim != 0 {
			return m.Delim, nil
		}
	}
	return '/', nil
}

func sameMailbox(a, b string) bool {
	return a == b || strings.EqualFold(a, "INBOX") && strings.EqualFold(b, "INBOX")
}

// restoreFolder appends the messages of f that target lacks.
func restoreFolder(ctx context.Context, c *imapconn.Client, f maildir.Folder, target string, opts *Options, rep *Report, log *slog.Logger) error {
	ents, err := f.Messages()
	if err != nil {
		return err
	}
	if !opts.Since.IsZero() {
		kept := ents[:0]
		for _, e := range ents {
			if !e.InternalDate.Before(opts.Since) {
				kept = append(kept, e)
			}
		}
		ents = kept
	}
	rep.Found += len(ents)
	if len(ents) == 0 {
		return nil
	}
	have, exists, err := present(ctx, c, target)
	if err != nil {
		return err
	}
	if !exists && !opts.DryRun {
		if err := c.Create(ctx, target); err != nil {
			return err
		}
		rep.Created = append(rep.Created, target)
		log.Info("restore: created mailbox", "mailbox", target)
	}
	appended := 0
	for i, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		mid, err := messageID(e.Path)
		if err != nil {
			return err
		}
		k := key(mid, e.Size, e.InternalDate)
		if have[k] {
			rep.Present++
		} else {
			it := Item{Mailbox: target, Path: e.Path, MessageID: mid, Flags: e.Flags, InternalDate: e.InternalDate, Size: e.Size}
			if !opts.DryRun {
				if err := appendFile(ctx, c, target, e); err != nil {
					return err
				}
			}
			have[k] = true
			appended++
			rep.Appended++
			rep.Bytes += e.Size
			if opts.Planned != nil {
				opts.Planned(it)
			}
		}
		if opts.Progress != nil {
			opts.Progress(target, i+1, len(ents))
		}
	}
	log.Info("restore: folder done", "folder", f.Rel, "mailbox", target, "messages", len(ents), "appended", appended,
		"present", len(ents)-appended, "dry_run", opts.DryRun)
	return nil
}

// appendFile appends one message file.
func appendFile(ctx context.Context, c *imapconn.Client, target string, e maildir.Entry) error {
	raw, err := os.ReadFile(e.Path)
	if err != nil {
		return err
	}
	_, err = c.Append(ctx, target, e.Flags, e.InternalDate, raw)
	if errors.Is(err, actions.ErrTryCreate) {
		// Deleted while we were at it: create it again, once.
		if err := c.Create(ctx, target); err != nil {
			return err
		}
		_, err = c.Append(ctx, target, e.Flags, e.InternalDate, raw)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", e.Path, err)
	}
	return nil
}

// key is how restore knows a message is there: its Message-ID, or, for a
// message without one, its size and internal date (to the second, as
// INTERNALDATE has it).
func key(messageID string, size int64, date time.Time) string {
	if messageID != "" {
		return "id:" + messageID
	}
	return fmt.Sprintf("size:%d date:%d", size, date.Unix())
}

// present returns the keys of the messages in mailbox (EXAMINE, UID
// SEARCH ALL, one UID FETCH of RFC822.SIZE, INTERNALDATE and the
// Message-ID field); exists is false when there is no such mailbox.
func present(ctx context.Context, c *imapconn.Client, mailbox string) (map[string]bool, bool, error) {
	have := map[string]bool{}
	sess, err := c.Examine(ctx, mailbox)
	if err != nil {
		// Tell a missing mailbox from a broken connection.
		l, lerr := c.List(ctx, mailbox)
		if lerr != nil {
			return nil, false, err
		}
		for _, m := range l {
			if sameMailbox(m.Name, mailbox) && m.Selectable() {
				return nil, false, err // there, yet not selectable
			}
		}
		return have, false, nil
	}
	uids, err := sess.SearchUIDs(ctx, nil)
	if err != nil {
		return nil, true, err
	}
	err = sess.FetchEach(ctx, uids, imapconn.FetchSpec{Fields: []string{"Message-ID"}}, func(f imapconn.Fetched) error {
		m := message.Parse(f.Raw, message.Meta{HeaderOnly: true})
		have[key(m.MessageID(), f.Size, f.InternalDate)] = true
		return nil
	})
	return have, true, err
}

// maxHeader bounds how much of a file is read to find its Message-ID.
const maxHeader = 1 << 20

// messageID reads the header of the message file at path and returns its
// Message-ID ("" when it has none), parsed as the daemon parses fetched
// headers.
func messageID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := bufio.NewReader(io.LimitReader(f, maxHeader))
	var hdr bytes.Buffer
	for {
		line, err := r.ReadBytes('\n')
		hdr.Write(line)
		if len(bytes.TrimRight(line, "\r\n")) == 0 || err != nil {
			break
		}
	}
	return message.Parse(hdr.Bytes(), message.Meta{HeaderOnly: true}).MessageID(), nil
}
