package bulkbench

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/internal/corpus"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

// Env is a private Dovecot with one template user holding the corpus in
// INBOX (indexed, destination mailboxes created) and any number of
// identical copies of it: every timed run gets its own copy, so every run
// starts from the same mailbox.
type Env struct {
	Srv      *dovecottest.Server
	uid, gid int
	template string
	next     int
	// Messages is the number of messages in the template's INBOX.
	Messages int
}

// templateUser is the user holding the master copy; never used for a run.
const templateUser = "template"

// NewEnv starts Dovecot for bulk runs: mail_fsync never (the data is
// throwaway, and every tool pays the same), a quota far above the corpus.
func NewEnv(extraConf string) (*Env, error) {
	srv, err := dovecottest.StartServer(&dovecottest.Options{Quota: "100G", ExtraConf: extraConf})
	if err != nil {
		return nil, err
	}
	uid, gid, err := srv.MailOwnerIDs()
	if err != nil {
		srv.Stop()
		return nil, err
	}
	return &Env{Srv: srv, uid: uid, gid: gid, template: templateUser}, nil
}

// Close stops Dovecot and removes everything.
func (e *Env) Close() { e.Srv.Stop() }

// LoadTemplate writes msgs into the template user's INBOX as Maildir files,
// has Dovecot index them (doveadm force-resync), creates the mailboxes
// the rules move to, and checks that INBOX holds exactly len(msgs)
// messages.
func (e *Env) LoadTemplate(msgs []*corpus.Message, mailboxes []string) error {
	// The first doveadm call creates the home and Maildir (as the mail
	// owner); then the files go straight into INBOX's cur/.
	if _, err := e.Counts(e.template, []string{"INBOX"}); err != nil {
		return err
	}
	var create []string
	for _, mb := range mailboxes {
		if mb != "INBOX" {
			create = append(create, mb)
		}
	}
	if len(create) > 0 {
		if _, err := e.Srv.RunDoveadm(append([]string{"mailbox", "create", "-u", e.template}, create...)...); err != nil {
			return fmt.Errorf("create mailboxes: %w", err)
		}
	}
	inbox := filepath.Join(e.Srv.Home(e.template), "Maildir")
	if err := corpus.WriteMaildir(inbox, msgs, e.uid, e.gid); err != nil {
		return fmt.Errorf("write maildir: %w", err)
	}
	if _, err := e.Srv.RunDoveadm("force-resync", "-u", e.template, "*"); err != nil {
		return fmt.Errorf("force-resync: %w", err)
	}
	counts, err := e.Counts(e.template, mailboxes)
	if err != nil {
		return err
	}
	for _, mb := range mailboxes {
		want := 0
		if mb == "INBOX" {
			want = len(msgs)
		}
		if n, ok := counts[mb]; !ok || n != want {
			return fmt.Errorf("template %s holds %d messages (exists: %v) after loading, want %d", mb, n, ok, want)
		}
	}
	e.Messages = len(msgs)
	return nil
}

// Counts returns the number of messages in each of the user's mailboxes
// (doveadm mailbox status); mailboxes that do not exist are absent.
func (e *Env) Counts(user string, mailboxes []string) (map[string]int, error) {
	out, err := e.Srv.RunDoveadm(append([]string{"-f", "tab", "mailbox", "status", "-u", user, "messages"}, mailboxes...)...)
	if err != nil {
		return nil, fmt.Errorf("mailbox status: %w", err)
	}
	counts := map[string]int{}
	for i, l := range strings.Split(strings.TrimSpace(out), "\n") {
		name, num, ok := strings.Cut(l, "\t")
		if i == 0 || !ok { // the header line: "mailbox\tmessages"
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if err != nil {
			return nil, fmt.Errorf("mailbox status: unexpected line %q", l)
		}
		counts[name] = n
	}
	return counts, nil
}

// NewUser returns a fresh user whose home is a copy of the template's:
// message files are hard links (Dovecot never rewrites a Maildir file; it
// renames to change flags and unlinks to expunge, so the template is not
// touched), everything else (indexes, uidlists) is copied. Modification
// times are kept, so Dovecot sees an up-to-date index and does not rescan.
func (e *Env) NewUser() (string, error) {
	e.next++
	user := fmt.Sprintf("run%d", e.next)
	src, dst := e.Srv.Home(e.template), e.Srv.Home(user)
	type dirTime struct {
		path string
		t    time.Time
	}
	var dirs []dirTime
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
			dirs = append(dirs, dirTime{target, info.ModTime()})
		case isMailFile(rel):
			return os.Link(p, target)
		default:
			if err := copyFile(p, target, info); err != nil {
				return err
			}
		}
		return os.Lchown(target, e.uid, e.gid)
	})
	if err != nil {
		return "", fmt.Errorf("copy the template to %s: %w", user, err)
	}
	// Directory times last, deepest first: creating entries changed them.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chtimes(dirs[i].path, dirs[i].t, dirs[i].t); err != nil {
			return "", err
		}
	}
	return user, nil
}

// isMailFile: a message file lives in a cur/ or new/ directory.
func isMailFile(rel string) bool {
	dir := filepath.Base(filepath.Dir(rel))
	return dir == "cur" || dir == "new"
}

func copyFile(src, dst string, info fs.FileInfo) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(dst, info.ModTime(), info.ModTime())
}

// RemoveUser deletes a user's home (after its run was verified).
func (e *Env) RemoveUser(user string) error {
	if user == e.template {
		return fmt.Errorf("refusing to remove the template")
	}
	return os.RemoveAll(e.Srv.Home(user))
}
