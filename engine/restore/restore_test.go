package restore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/maildir"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/engine/restore"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dovecottest.StopShared()
	os.Exit(code)
}

type user struct {
	srv  *dovecottest.Server
	name string
}

func newUser(t *testing.T) user {
	srv := dovecottest.Shared(t)
	name, _ := srv.NewUser(t)
	return user{srv, name}
}

func (u user) dial(ctx context.Context, _ string) (*imapconn.Client, error) {
	return imapconn.Dial(ctx, &imapconn.Options{Host: u.srv.Host, Port: u.srv.Port, Username: u.name,
		TLS: imapconn.TLSNone, InsecurePlaintext: true,
		Auth: imapconn.Password{Password: func(context.Context) (string, error) { return dovecottest.Password, nil }}})
}

func (u user) client(t *testing.T) *imapconn.Client {
	t.Helper()
	c, err := u.dial(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type msg struct {
	id    string // "" for no Message-ID
	date  time.Time
	flags []string
}

func (m msg) raw() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: a@example.net\r\nSubject: %s\r\nDate: %s\r\n", m.id, m.date.Format(time.RFC1123Z))
	if m.id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", m.id)
	}
	fmt.Fprintf(&b, "\r\nbody of %s %d\r\n", m.id, m.date.Unix())
	return b.Bytes()
}

func (u user) seed(t *testing.T, mailbox string, msgs ...msg) {
	t.Helper()
	c := u.client(t)
	for _, m := range msgs {
		_, err := c.Append(context.Background(), mailbox, m.flags, m.date, m.raw())
		if errors.Is(err, actions.ErrTryCreate) {
			if err = c.Create(context.Background(), mailbox); err == nil {
				_, err = c.Append(context.Background(), mailbox, m.flags, m.date, m.raw())
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// got is one message as the server has it.
type got struct {
	raw   []byte
	flags []string
	date  time.Time
	uid   uint32
}

// contents fetches mailbox whole, by Message-ID (Subject when none); nil
// when the mailbox does not exist.
func (u user) contents(t *testing.T, mailbox string) (uint32, map[string]got) {
	t.Helper()
	c := u.client(t)
	sess, err := c.Examine(context.Background(), mailbox)
	if err != nil {
		return 0, nil
	}
	_, uv := sess.Selected()
	fs, err := sess.FetchNew(context.Background(), 0, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]got{}
	for _, f := range fs {
		m := message.Parse(f.Raw, message.Meta{})
		k := m.MessageID()
		if k == "" {
			k = "subject:" + m.Subject()
		}
		if _, dup := out[k]; dup {
			t.Errorf("%s: %s twice", mailbox, k)
		}
		fl := slices.DeleteFunc(slices.Clone(f.Flags), func(s string) bool { return s == `\Recent` })
		slices.Sort(fl)
		out[k] = got{raw: f.Raw, flags: fl, date: f.InternalDate, uid: f.UID}
	}
	return uv, out
}

// backup writes mailbox of u into root as a backup job would.
func (u user) backup(t *testing.T, root, mailbox string) {
	t.Helper()
	uv, msgs := u.contents(t, mailbox)
	w, err := maildir.Open(context.Background(), root, mailbox, '/', uv, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, m := range msgs {
		if _, _, err := w.Put(&maildir.Message{UIDValidity: uv, UID: m.uid, Flags: m.flags, InternalDate: m.date, Raw: m.raw}); err != nil {
			t.Fatal(err)
		}
	}
}

// same asserts that two mailboxes hold the same messages, one by one:
// Message-ID, bytes, flags, internal date.
func same(t *testing.T, what string, got, want map[string]got) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d messages, want %d", what, len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s: %s missing", what, id)
		case !bytes.Equal(g.raw, w.raw):
			t.Errorf("%s: %s bytes differ", what, id)
		case !slices.Equal(g.flags, w.flags):
			t.Errorf("%s: %s flags %q, want %q", what, id, g.flags, w.flags)
		case !g.date.Equal(w.date):
			t.Errorf("%s: %s internal date %v, want %v", what, id, g.date, w.date)
		}
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 30, 0, 0, time.UTC) }

// A backup restored into an empty account is the original, message by
// message; a second restore appends nothing; a dry run appends nothing.
func TestRestoreRoundTrip(t *testing.T) {
	src := newUser(t)
	src.seed(t, "INBOX",
		msg{id: "i1", date: day(2026, 1, 1), flags: []string{`\Seen`, "$Label1"}},
		msg{id: "i2", date: day(2026, 1, 2), flags: []string{`\Flagged`, `\Answered`, `\Draft`}},
		msg{id: "", date: day(2026, 1, 3)}, // no Message-ID
		msg{id: "i4", date: day(2026, 1, 4), flags: []string{`\Deleted`, "$Forwarded", "Work"}})
	src.seed(t, "Archive/2024", msg{id: "a1", date: day(2024, 3, 1), flags: []string{`\Seen`}})
	root := filepath.Join(t.TempDir(), "acct")
	src.backup(t, root, "INBOX")
	src.backup(t, root, "Archive/2024")

	dst := newUser(t)
	var planned []restore.Item
	rep, err := restore.Run(context.Background(), &restore.Options{From: root, Account: "x", Dial: dst.dial, DryRun: true,
		Planned: func(it restore.Item) { planned = append(planned, it) }})
	if err != nil || rep.Appended != 5 || len(planned) != 5 || rep.Found != 5 {
		t.Fatalf("dry run: %+v %v", rep, err)
	}
	if _, m := dst.contents(t, "Archive/2024"); m != nil {
		t.Error("dry run created a mailbox")
	}

	rep, err = restore.Run(context.Background(), &restore.Options{From: root, Account: "x", Dial: dst.dial})
	if err != nil || rep.Appended != 5 || rep.Present != 0 || rep.Folders != 2 || !slices.Equal(rep.Created, []string{"Archive/2024"}) {
		t.Fatalf("restore: %+v %v", rep, err)
	}
	for _, mb := range []string{"INBOX", "Archive/2024"} {
		_, want := src.contents(t, mb)
		_, got := dst.contents(t, mb)
		same(t, mb, got, want)
	}

	rep, err = restore.Run(context.Background(), &restore.Options{From: root, Account: "x", Dial: dst.dial})
	if err != nil || rep.Appended != 0 || rep.Present != 5 {
		t.Fatalf("second restore: %+v %v", rep, err)
	}
	_, got := dst.contents(t, "INBOX")
	if len(got) != 4 {
		t.Errorf("INBOX has %d messages after a second restore", len(got))
	}
}

// --mailbox picks one folder, --to renames it, --since leaves older mail
// out; a backup job's directory (with the account under it) works as
// --from.
func TestRestoreSelection(t *testing.T) {
	src := newUser(t)
	src.seed(t, "Archive/2024", msg{id: "old", date: day(2024, 1, 1)}, msg{id: "new", date: day(2024, 9, 1)})
	src.seed(t, "INBOX", msg{id: "inbox", date: day(2026, 1, 1)})
	dir := t.TempDir()
	root := maildir.AccountRoot(dir, "acct")
	src.backup(t, root, "Archive/2024")
	src.backup(t, root, "INBOX")

	dst := newUser(t)
	_, err := restore.Run(context.Background(), &restore.Options{From: dir, Account: "acct", Dial: dst.dial, To: "Restored"})
	if err == nil || !strings.Contains(err.Error(), "has 2 folders") {
		t.Errorf("--to without --mailbox: %v", err)
	}
	rep, err := restore.Run(context.Background(), &restore.Options{From: dir, Account: "acct", Dial: dst.dial,
		Mailbox: "Archive/2024", To: "Restored", Since: day(2024, 6, 1)})
	if err != nil || rep.Appended != 1 || rep.Found != 1 || rep.Root != root {
		t.Fatalf("restore: %+v %v", rep, err)
	}
	_, got := dst.contents(t, "Restored")
	if _, ok := got["new"]; !ok || len(got) != 1 {
		t.Errorf("Restored = %v", got)
	}
	if _, m := dst.contents(t, "Archive/2024"); m != nil {
		t.Error("Archive/2024 restored too")
	}
	if _, err := restore.Run(context.Background(), &restore.Options{From: dir, Account: "acct", Dial: dst.dial, Mailbox: "Nope"}); err == nil {
		t.Error("a mailbox with no folder is not an error")
	}
}

// Any standard Maildir restores: here Dovecot's own (LAYOUT=fs, its file
// names, its dovecot-keywords), message by message.
func TestRestoreDovecotMaildir(t *testing.T) {
	src := newUser(t)
	src.seed(t, "INBOX", msg{id: "d1", date: day(2025, 5, 5), flags: []string{`\Seen`, "$Important"}},
		msg{id: "d2", date: day(2025, 5, 6), flags: []string{`\Flagged`}})
	src.seed(t, "Lists/go", msg{id: "d3", date: day(2025, 5, 7), flags: []string{`\Answered`, `\Seen`}})
	// Make Dovecot write the flags into the file names.
	c := src.client(t)
	c.Logout(context.Background())
	home := filepath.Join(src.srv.Home(src.name), "Maildir")

	dst := newUser(t)
	rep, err := restore.Run(context.Background(), &restore.Options{From: home, Account: "x", Dial: dst.dial})
	if err != nil || rep.Appended != 3 {
		t.Fatalf("restore: %+v %v", rep, err)
	}
	for _, mb := range []string{"INBOX", "Lists/go"} {
		_, want := src.contents(t, mb)
		_, got := dst.contents(t, mb)
		same(t, mb, got, want)
	}
}
