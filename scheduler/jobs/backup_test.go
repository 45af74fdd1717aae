package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/maildir"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// backupSchedule is a backup job of mailboxes into dir, with extra keys.
func backupSchedule(name, dir, mailboxes, extra string) string {
	return fmt.Sprintf(`  - name: %s
    cron: "@daily"
    accounts: all
    job: backup
    mailboxes: %s
    dir: %s
%s`, name, mailboxes, dir, extra)
}

// serverMsg is one message as the server has it.
type serverMsg struct {
	uid   uint32
	raw   []byte
	flags []string
	date  time.Time
}

// fetchAll fetches every message of mailbox whole, and its UIDVALIDITY.
func (a *account) fetchAll(t *testing.T, mailbox string) (uint32, []serverMsg) {
	t.Helper()
	c := a.client(t)
	defer c.Close()
	sess, err := c.Examine(context.Background(), mailbox)
	if err != nil {
		t.Fatal(err)
	}
	_, uv := sess.Selected()
	fs, err := sess.FetchNew(context.Background(), 0, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	var out []serverMsg
	for _, f := range fs {
		out = append(out, serverMsg{uid: f.UID, raw: f.Raw, flags: sortedFlags(f.Flags), date: f.InternalDate})
	}
	return uv, out
}

func sortedFlags(fl []string) []string {
	fl = slices.DeleteFunc(slices.Clone(fl), func(s string) bool { return s == `\Recent` })
	slices.Sort(fl)
	return fl
}

// backedUp reads the folder of mailbox in the backup of the test account
// under dir: its entries by UID (of uidValidity), failing on two files for
// one UID.
func backedUp(t *testing.T, dir, mailbox string, uidValidity uint32) map[uint32]maildir.Entry {
	t.Helper()
	f := maildir.Folder{Dir: maildir.Dir(maildir.AccountRoot(dir, "acct"), mailbox, '/')}
	if _, err := os.Stat(f.Dir); err != nil {
		return nil
	}
	ents, err := f.Messages()
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint32]maildir.Entry{}
	for _, e := range ents {
		if e.Name.UIDValidity != uidValidity {
			continue
		}
		if prev, dup := out[e.Name.UID]; dup {
			t.Fatalf("uid %d backed up twice: %s and %s", e.Name.UID, prev.Path, e.Path)
		}
		out[e.Name.UID] = e
	}
	return out
}

// checkBackup asserts that the backup holds exactly the server's messages
// of mailbox: the bytes as the server sends them, the flags, and the
// internal date as the file's time.
func checkBackup(t *testing.T, a *account, dir, mailbox string) {
	t.Helper()
	uv, msgs := a.fetchAll(t, mailbox)
	files := backedUp(t, dir, mailbox, uv)
	if len(files) != len(msgs) {
		t.Errorf("%s: %d files for %d messages", mailbox, len(files), len(msgs))
	}
	for _, m := range msgs {
		e, ok := files[m.uid]
		if !ok {
			t.Errorf("%s: uid %d not backed up", mailbox, m.uid)
			continue
		}
		b, err := os.ReadFile(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, m.raw) {
			t.Errorf("%s uid %d: file bytes differ from the server's", mailbox, m.uid)
		}
		if got := sortedFlags(e.Flags); !slices.Equal(got, m.flags) {
			t.Errorf("%s uid %d: flags %q, server %q", mailbox, m.uid, got, m.flags)
		}
		if !e.InternalDate.Equal(m.date) {
			t.Errorf("%s uid %d: file time %v, internal date %v", mailbox, m.uid, e.InternalDate, m.date)
		}
	}
}

// A backup exports the chosen mailboxes (a name, a special-use attribute,
// a pattern) as Maildir files holding the server's bytes, flags and dates;
// later runs write only what is new; a dry run writes nothing.
func TestBackupExportsIncrementally(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "INBOX",
		msg{id: "m1", date: day(2026, 1, 2), flags: []string{`\Seen`, "$Label1"}, pad: 3000},
		msg{id: "m2", date: day(2026, 2, 3), flags: []string{`\Flagged`, `\Answered`, "Work"}},
		msg{id: "m3", date: day(2026, 3, 4), pad: 70000})
	a.seed(t, "Archive/2024", msg{id: "a1", date: day(2024, 5, 1)}, msg{id: "a2", date: day(2024, 6, 1), flags: []string{`\Seen`}})
	a.seed(t, "Archive", msg{id: "archive-itself", date: day(2023, 1, 1)})
	a.seed(t, "Sent", msg{id: "s1", date: day(2026, 4, 1), flags: []string{`\Seen`}})
	a.seed(t, "Trash", msg{id: "t1", date: day(2026, 4, 2)})
	dir := t.TempDir()
	d := setup(t, a, backupSchedule("bk", dir, `[INBOX, "\\Sent", "Archive/*"]`, ""), "", nil)

	sum := d.run(t, "bk")
	checkSum(t, sum, 6, 6, false)
	if sum.Actions["export"] != 6 || sum.Bytes < 73000 || sum.Skipped != 0 {
		t.Errorf("summary = %+v", sum)
	}
	for _, mb := range []string{"INBOX", "Sent", "Archive/2024"} {
		checkBackup(t, a, dir, mb)
	}
	root := maildir.AccountRoot(dir, "acct")
	for _, absent := range []string{".Trash", ".Archive"} {
		if _, err := os.Stat(filepath.Join(root, absent)); err == nil {
			t.Errorf("%s backed up", absent)
		}
	}
	uv, _ := a.fetchAll(t, "INBOX")
	before := backedUp(t, dir, "INBOX", uv)

	a.seed(t, "INBOX", msg{id: "m4", date: day(2026, 5, 1)}, msg{id: "m5", date: day(2026, 5, 2), flags: []string{"$Label1"}})
	sum = d.run(t, "bk")
	checkSum(t, sum, 2, 2, false)
	if sum.Scanned != 2 {
		t.Errorf("second run fetched %d messages, want only the 2 new ones", sum.Scanned)
	}
	checkBackup(t, a, dir, "INBOX")
	after := backedUp(t, dir, "INBOX", uv)
	for uid, e := range before {
		if after[uid].Path != e.Path {
			t.Errorf("uid %d: file %s became %s", uid, e.Path, after[uid].Path)
		}
	}
	cp, ok, err := d.store.BackupCheckpoint("bk", dir, "acct", "INBOX")
	if err != nil || !ok || cp.UIDValidity != uv || cp.LastUID != 5 {
		t.Errorf("checkpoint = %+v %v %v", cp, ok, err)
	}

	checkSum(t, d.run(t, "bk"), 0, 0, false)

	a.seed(t, "INBOX", msg{id: "m6", date: day(2026, 5, 3)})
	dry := setup(t, a, backupSchedule("bk", dir, `[INBOX]`, ""), "", &engine.JobOptions{DryRun: true})
	sum = dry.run(t, "bk")
	checkSum(t, sum, 1, 1, false)
	if !sum.DryRun || len(backedUp(t, dir, "INBOX", uv)) != 5 {
		t.Errorf("dry run wrote: %+v", sum)
	}
}

// The when filter chooses what is exported; the checkpoint moves past
// what it rejects. `mailboxes: all` takes every selectable mailbox, and
// the cap counts messages written.
func TestBackupFilterAllAndCap(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "INBOX", msg{id: "bank", date: day(2026, 1, 1), from: "x@bank.example"},
		msg{id: "flagged", date: day(2026, 1, 2), flags: []string{`\Flagged`}},
		msg{id: "other", date: day(2026, 1, 3)})
	a.seed(t, "Projects/A", msg{id: "pa", date: day(2026, 1, 4), flags: []string{`\Flagged`}})
	dir := t.TempDir()
	d := setup(t, a, backupSchedule("bk", dir, "all", `    when: 'has_flag("\\Flagged") || from.domain == "bank.example"'
`), "", nil)
	sum := d.run(t, "bk")
	checkSum(t, sum, 3, 3, false)
	uv, _ := a.fetchAll(t, "INBOX")
	if got := backedUp(t, dir, "INBOX", uv); len(got) != 2 || got[3].Path != "" {
		t.Errorf("INBOX backup = %v", got)
	}
	uvp, _ := a.fetchAll(t, "Projects/A")
	if got := backedUp(t, dir, "Projects/A", uvp); len(got) != 1 {
		t.Errorf("Projects/A backup = %v", got)
	}
	if cp, _, _ := d.store.BackupCheckpoint("bk", dir, "acct", "INBOX"); cp.LastUID != 3 {
		t.Errorf("checkpoint %d, want 3 (past the rejected message)", cp.LastUID)
	}
	checkSum(t, d.run(t, "bk"), 0, 0, false)

	dir2 := t.TempDir()
	capped := setup(t, a, backupSchedule("bk2", dir2, "[INBOX]", "    max_messages: 2\n"), "", nil)
	checkSum(t, capped.run(t, "bk2"), 2, 2, true)
	checkSum(t, capped.run(t, "bk2"), 1, 1, false)
	checkBackup(t, a, dir2, "INBOX")
}

// A run killed after writing files but before its checkpoint (simulated
// here by writing the files a killed run leaves; cmd/mailwarden's
// TestBackupProof kills a real one) finds them and writes only the rest:
// nothing lost, nothing twice.
func TestBackupAfterKilledRun(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	var msgs []msg
	for i := range 20 {
		msgs = append(msgs, msg{id: fmt.Sprintf("k%d", i), date: day(2026, 1, 1+i)})
	}
	a.seed(t, "INBOX", msgs...)
	uv, server := a.fetchAll(t, "INBOX")
	dir := t.TempDir()
	w, err := maildir.Open(context.Background(), maildir.AccountRoot(dir, "acct"), "INBOX", '/', uv, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range server[:7] {
		if _, _, err := w.Put(&maildir.Message{UIDValidity: uv, UID: m.uid, Flags: m.flags, InternalDate: m.date, Raw: m.raw}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	d := setup(t, a, backupSchedule("bk", dir, "[INBOX]", ""), "", nil)
	sum := d.run(t, "bk")
	checkSum(t, sum, 13, 13, false)
	if sum.Skipped != 7 {
		t.Errorf("skipped %d, want 7", sum.Skipped)
	}
	checkBackup(t, a, dir, "INBOX")
}

// A UIDVALIDITY change (the mailbox deleted and made again) exports the
// mailbox again and keeps the old files.
func TestBackupUIDValidityChange(t *testing.T) {
	srv := dovecottest.Shared(t)
	a := dovecotAccount(t, srv)
	a.seed(t, "Lists", msg{id: "old1", date: day(2026, 1, 1)}, msg{id: "old2", date: day(2026, 1, 2)})
	oldUV, _ := a.fetchAll(t, "Lists")
	dir := t.TempDir()
	d := setup(t, a, backupSchedule("bk", dir, "[Lists]", ""), "", nil)
	checkSum(t, d.run(t, "bk"), 2, 2, false)

	srv.Doveadm(t, "mailbox", "delete", "-u", a.user, "Lists")
	a.seed(t, "Lists", msg{id: "new1", date: day(2026, 2, 1)})
	newUV, _ := a.fetchAll(t, "Lists")
	if newUV == oldUV {
		t.Skip("the server kept the UIDVALIDITY")
	}
	checkSum(t, d.run(t, "bk"), 1, 1, false)
	checkBackup(t, a, dir, "Lists")
	if old := backedUp(t, dir, "Lists", oldUV); len(old) != 2 {
		t.Errorf("old generation: %d files, want 2", len(old))
	}
}

// backup_first: expire saves every message it is about to remove into the
// backup (or finds it there), removes only those, and holds back what it
// could not save.
func TestExpireBackupFirst(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "Trash",
		msg{id: "old1", date: day(2025, 1, 1), flags: []string{`\Seen`}},
		msg{id: "old2", date: day(2025, 2, 1), flags: []string{"$Junk"}, pad: 5000},
		msg{id: "old3", date: day(2025, 3, 1)},
		msg{id: "young", date: now.AddDate(0, 0, -2)})
	dir := t.TempDir()
	sched := backupSchedule("nightly", dir, `[INBOX]`, "") + expireSchedule + "    backup_first: nightly\n"
	uv, server := a.fetchAll(t, "Trash")
	// old1 is in the backup already (an earlier backup_first, say).
	w, err := maildir.Open(context.Background(), maildir.AccountRoot(dir, "acct"), "Trash", '/', uv, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Put(&maildir.Message{UIDValidity: uv, UID: server[0].uid, Flags: server[0].flags, InternalDate: server[0].date, Raw: server[0].raw})
	w.Close()

	dry := setup(t, a, sched, "", &engine.JobOptions{DryRun: true})
	checkSum(t, dry.run(t, "empty-trash"), 3, 3, false)
	if got := backedUp(t, dir, "Trash", uv); len(got) != 1 {
		t.Errorf("dry run wrote to the backup: %d files", len(got))
	}

	d := setup(t, a, sched, "", nil)
	sum := d.run(t, "empty-trash")
	checkSum(t, sum, 3, 3, false)
	if sum.HeldBack != 0 || sum.Actions[`backup "nightly"`] != 2 || sum.Actions["expunge"] != 3 {
		t.Errorf("summary = %+v", sum)
	}
	equal(t, "Trash", a.contents(t, "Trash"), []string{"young[]"})
	files := backedUp(t, dir, "Trash", uv)
	for _, m := range server[:3] {
		e, ok := files[m.uid]
		if !ok {
			t.Errorf("removed uid %d is not in the backup", m.uid)
			continue
		}
		b, _ := os.ReadFile(e.Path)
		if !bytes.Equal(b, m.raw) || !slices.Equal(sortedFlags(e.Flags), m.flags) || !e.InternalDate.Equal(m.date) {
			t.Errorf("uid %d: backup differs from what was removed", m.uid)
		}
	}
	if len(files) != 3 {
		t.Errorf("%d files in the Trash backup, want 3", len(files))
	}
	// The backup's own checkpoint did not move: its scheduled run of
	// Trash would find these files and skip them.
	if _, ok, _ := d.store.BackupCheckpoint("nightly", dir, "acct", "Trash"); ok {
		t.Error("backup_first moved the backup's checkpoint")
	}

	// A backup that cannot be written holds everything back.
	a.seed(t, "Trash", msg{id: "old4", date: day(2025, 4, 1)})
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o600)
	bad := setup(t, a, backupSchedule("nightly", blocked, `[INBOX]`, "")+expireSchedule+"    backup_first: nightly\n", "", nil)
	sum, err = jobs.Run(context.Background(), bad.env, bad.jobs["empty-trash"])
	if err == nil || sum.HeldBack != 1 || sum.Acted != 0 {
		t.Errorf("unwritable backup: err %v, summary %+v", err, sum)
	}
	equal(t, "Trash", a.contents(t, "Trash"), []string{"old4[]", "young[]"})
}

// backup_first on quota: what is pruned is in the backup first.
func TestQuotaBackupFirst(t *testing.T) {
	srv := quotaServer(t)
	a := dovecotAccount(t, srv)
	var msgs []msg
	for i := range 4 {
		msgs = append(msgs, msg{id: fmt.Sprintf("q%d", i), date: day(2025, 1, 1+i), pad: 200 << 10})
	}
	a.seed(t, "Trash", msgs...)
	uv, server := a.fetchAll(t, "Trash")
	dir := t.TempDir()
	d := setup(t, a, backupSchedule("nightly", dir, `[INBOX]`, "")+quotaSchedule("70%", "40%", "    backup_first: nightly\n"), "", nil)
	sum := d.run(t, "quota")
	if sum.Acted == 0 || sum.HeldBack != 0 || sum.Actions[`backup "nightly"`] != sum.Acted {
		t.Fatalf("summary = %+v", sum)
	}
	left := map[string]bool{}
	for _, s := range a.contents(t, "Trash") {
		left[strings.TrimSuffix(s, "[]")] = true
	}
	files := backedUp(t, dir, "Trash", uv)
	removed := 0
	for _, m := range server {
		id := message.Parse(m.raw, message.Meta{}).MessageID()
		if left[id] {
			continue
		}
		removed++
		if _, ok := files[m.uid]; !ok {
			t.Errorf("pruned %s (uid %d) is not in the backup", id, m.uid)
		}
	}
	if removed != sum.Acted {
		t.Errorf("%d removed, summary says %d", removed, sum.Acted)
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		delim         rune
		want          bool
	}{
		{"Archive/*", "Archive/2024", '/', true},
		{"Archive/*", "Archive/2024/01", '/', true},
		{"Archive/*", "Archive", '/', false},
		{"Archive/%", "Archive/2024", '/', true},
		{"Archive/%", "Archive/2024/01", '/', false},
		{"%", "INBOX", '/', true},
		{"%", "Lists/linux", '/', false},
		{"*", "Lists/linux", '/', true},
		{"inbox/*", "INBOX/sub", '/', true},
		{"INBOX.*", "inbox.Sent", '.', true},
		{"Lists/*-dev", "Lists/go-dev", '/', true},
		{"Lists/*-dev", "Lists/go-devel", '/', false},
		{"*a*a*a*a*a*a*a*b", strings.Repeat("a", 200), '/', false},
		{"%", "a/b", 0, true},
	} {
		if got := jobs.MatchPattern(tt.pattern, tt.name, tt.delim); got != tt.want {
			t.Errorf("MatchPattern(%q, %q, %q) = %v", tt.pattern, tt.name, tt.delim, got)
		}
	}
}

// Dovecot reads a backup as it is (Maildir++, mail_location
// maildir:DIR:UTF-8): every message in its mailbox, with its flags,
// keywords and internal date.
func TestDovecotReadsTheBackup(t *testing.T) {
	srv := dovecottest.Shared(t)
	a := dovecotAccount(t, srv)
	a.seed(t, "INBOX", msg{id: "m1", date: day(2026, 1, 2), flags: []string{`\Seen`, "$Label1"}},
		msg{id: "m2", date: day(2026, 1, 3), flags: []string{`\Answered`, `\Flagged`, "Work", "$Label1"}})
	a.seed(t, "Entwürfe/2024", msg{id: "e1", date: day(2024, 5, 1), flags: []string{`\Draft`}})
	dir := t.TempDir()
	d := setup(t, a, backupSchedule("bk", dir, `[INBOX, "Entwürfe/*"]`, ""), "", nil)
	checkSum(t, d.run(t, "bk"), 3, 3, false)

	// Dovecot's mail processes run as its own user: give it a copy.
	cp := filepath.Join(srv.Dir, "backup-of-"+a.user)
	if out, err := exec.Command("cp", "-a", maildir.AccountRoot(dir, "acct"), cp).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	uid, gid, err := srv.MailOwnerIDs()
	if err != nil {
		t.Fatal(err)
	}
	filepath.Walk(cp, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, uid, gid) })
	out := srv.Doveadm(t, "-o", "mail_location=maildir:"+cp+":UTF-8", "fetch", "-u", a.user,
		"mailbox flags date.received.unixtime hdr.message-id", "all")
	got := map[string]string{}
	// Records are separated by a form feed line.
	for _, block := range strings.Split(strings.TrimSpace(out), "\n\f\n") {
		f := map[string]string{}
		for _, line := range strings.Split(block, "\n") {
			k, v, _ := strings.Cut(line, ": ")
			f[k] = v
		}
		flags := strings.Fields(f["flags"])
		flags = sortedFlags(flags)
		got[f["hdr.message-id"]] = fmt.Sprintf("%s [%s] %s", f["mailbox"], strings.Join(flags, " "), f["date.received.unixtime"])
	}
	want := map[string]string{}
	for _, mb := range []string{"INBOX", "Entwürfe/2024"} {
		_, msgs := a.fetchAll(t, mb)
		for _, m := range msgs {
			id := "<" + message.Parse(m.raw, message.Meta{}).MessageID() + ">"
			want[id] = fmt.Sprintf("%s [%s] %d", mb, strings.Join(m.flags, " "), m.date.Unix())
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Dovecot reads\n %v\nwant\n %v", got, want)
	}
}
