package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/maildir"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// proofN is how many messages TestBackupProof backs up:
// $MAILWARDEN_BACKUP_PROOF_N, default 300 so that `make test` runs it in
// seconds; `make backup-proof` runs issue 15's 2,000 (about a minute here,
// most of it Dovecot taking APPENDs: seeding and the restore).
func proofN(t *testing.T) int {
	n := 300
	if s := os.Getenv("MAILWARDEN_BACKUP_PROOF_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 50 {
			t.Fatalf("MAILWARDEN_BACKUP_PROOF_N=%q: want a number ≥ 50", s)
		}
		n = v
	}
	return n
}

// proofMsg is message i of the proof: sizes from 2 KiB to 64 KiB, flags
// and keywords in several mixes, internal dates over five years (the
// first years old enough to expire), one bare LF to show bytes are kept.
func proofMsg(i int) ([]byte, []string, time.Time) {
	date := time.Date(2021, 1, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 22 * time.Hour)
	var flags []string
	if i%3 != 0 {
		flags = append(flags, `\Seen`)
	}
	if i%7 == 0 {
		flags = append(flags, `\Flagged`)
	}
	if i%11 == 0 {
		flags = append(flags, `\Answered`)
	}
	if i%5 == 0 {
		flags = append(flags, "$Label1")
	}
	if i%13 == 0 {
		flags = append(flags, "$Forwarded", "Project-X")
	}
	pad := 2 << 10
	switch {
	case i%10 == 0:
		pad = 64 << 10
	case i%3 == 0:
		pad = 12 << 10
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: sender%d@example.net\r\nTo: me@example.org\r\nSubject: proof %d\r\nDate: %s\r\nMessage-ID: <proof-%d@mailwarden.test>\r\n\r\n",
		i%17, i, date.Format(time.RFC1123Z), i)
	b.WriteString("a line with a bare LF\nand then CRLF\r\n")
	for b.Len() < pad {
		fmt.Fprintf(&b, "%05d %s\r\n", i, strings.Repeat("z", 70))
	}
	return b.Bytes(), flags, date
}

// proofSnapshot is a mailbox as the server has it, by Message-ID.
type proofSnapshot map[string]proofMessage

type proofMessage struct {
	uid   uint32
	raw   []byte
	flags []string
	date  time.Time
}

func proofClient(t *testing.T, srv *dovecottest.Server, user string) *imapconn.Client {
	t.Helper()
	c, err := imapconn.Dial(context.Background(), &imapconn.Options{Host: srv.Host, Port: srv.Port, Username: user,
		TLS: imapconn.TLSNone, InsecurePlaintext: true,
		Auth: imapconn.Password{Password: func(context.Context) (string, error) { return dovecottest.Password, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func snapshot(t *testing.T, c *imapconn.Client, mailbox string) (uint32, proofSnapshot) {
	t.Helper()
	sess, err := c.Examine(context.Background(), mailbox)
	if err != nil {
		t.Fatal(err)
	}
	_, uv := sess.Selected()
	out := proofSnapshot{}
	uids, err := sess.SearchUIDs(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = sess.FetchEach(context.Background(), uids, imapconn.FetchSpec{Whole: true}, func(f imapconn.Fetched) error {
		id := message.Parse(f.Raw, message.Meta{}).MessageID()
		if _, dup := out[id]; dup {
			return fmt.Errorf("%s: %s twice", mailbox, id)
		}
		fl := slices.DeleteFunc(slices.Clone(f.Flags), func(s string) bool { return s == `\Recent` })
		slices.Sort(fl)
		out[id] = proofMessage{uid: f.UID, raw: f.Raw, flags: fl, date: f.InternalDate}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return uv, out
}

// backupFiles reads the backup's folder of mailbox: by UID (of
// uidValidity), failing on a UID with two files.
func backupFiles(t *testing.T, dir, mailbox string, uidValidity uint32) map[uint32]maildir.Entry {
	t.Helper()
	f := maildir.Folder{Dir: maildir.Dir(maildir.AccountRoot(dir, "acct"), mailbox, '/')}
	ents, err := f.Messages()
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint32]maildir.Entry{}
	for _, e := range ents {
		if e.Name.UIDValidity != uidValidity {
			t.Errorf("%s: a file of UIDVALIDITY %d", e.Path, e.Name.UIDValidity)
			continue
		}
		if prev, dup := out[e.Name.UID]; dup {
			t.Fatalf("uid %d written twice: %s and %s", e.Name.UID, prev.Path, e.Path)
		}
		out[e.Name.UID] = e
	}
	return out
}

// sameAsServer asserts that the backup holds each message of want (by its
// UID) with the server's bytes, flags and internal date.
func sameAsServer(t *testing.T, what string, files map[uint32]maildir.Entry, want proofSnapshot) {
	t.Helper()
	bad := 0
	for id, m := range want {
		e, ok := files[m.uid]
		if !ok {
			t.Errorf("%s: %s (uid %d) not in the backup", what, id, m.uid)
			bad++
		} else if b, err := os.ReadFile(e.Path); err != nil || !bytes.Equal(b, m.raw) || !slices.Equal(sorted(e.Flags), m.flags) || !e.InternalDate.Equal(m.date) {
			t.Errorf("%s: %s (uid %d): backup differs (flags %q vs %q, date %v vs %v, err %v)", what, id, m.uid, sorted(e.Flags), m.flags, e.InternalDate, m.date, err)
			bad++
		}
		if bad > 10 {
			t.Fatal("giving up")
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

var reSummary = regexp.MustCompile(`(\d+) scanned, (\d+) matched, (\d+) acted on, (\d+) failed, ([^,]+), ([^, ]+)`)

// summaryOf reads `jobs run`'s summary line: scanned, matched, acted.
func summaryOf(t *testing.T, out string) (scanned, acted int) {
	t.Helper()
	m := reSummary.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in %q", out)
	}
	scanned, _ = strconv.Atoi(m[1])
	acted, _ = strconv.Atoi(m[3])
	return scanned, acted
}

// TestBackupKilledChild is the process TestBackupProof kills: it runs one
// backup job of $MW_BACKUP_CHILD (config path) with small batches, so
// checkpoints advance while it runs.
func TestBackupKilledChild(t *testing.T) {
	path := os.Getenv("MW_BACKUP_CHILD")
	if path == "" {
		return
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rt, errs := engine.Compile(cfg, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	store, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := engine.JobEnv(&engine.JobOptions{Dial: engine.NewDialer(cfg, nil), Store: store, BatchSize: 100, Now: now})
	if _, err := jobs.Run(context.Background(), env, rt.Schedule("bk2").Job); err != nil {
		t.Fatal(err)
	}
	store.Close()
}

// Issue 15's proof, end to end through the commands, against Dovecot:
// back up a mailbox of proofN messages (2,000 with make backup-proof); add mail and back up again (only the
// new mail is written); SIGKILL a backup mid-run and run it again (no
// loss, no duplicate file); expire with backup_first (every removed
// message is in the backup); restore into an empty mailbox and compare
// Message-IDs, bytes, flags and internal dates one by one. It logs the
// export and restore rates.
func TestBackupProof(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds, backs up and restores hundreds of messages")
	}
	n := proofN(t)
	srv := dovecottest.Start(t, &dovecottest.Options{Quota: "2G"})
	user, _ := srv.NewUser(t)
	c := proofClient(t, srv, user)
	ctx := context.Background()
	if err := c.Create(ctx, "Big"); err != nil {
		t.Fatal(err)
	}
	seed := func(from, to int) {
		for i := from; i < to; i++ {
			raw, flags, date := proofMsg(i)
			if _, err := c.Append(ctx, "Big", flags, date, raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	seed(0, n)
	t.Logf("seeded %d messages in %v", n, time.Since(start).Round(time.Millisecond))

	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	dir, dir2 := t.TempDir(), t.TempDir()
	cfgDir := t.TempDir()
	t.Setenv("MW_PROOF_PASS", dovecottest.Password)
	cfg := fmt.Sprintf(`state_dir: ./state
accounts:
  - name: acct
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: %s
    password_env: MW_PROOF_PASS
schedules:
  - name: bk
    cron: "@daily"
    accounts: all
    job: backup
    mailboxes: [Big]
    dir: %s
  - name: bk2
    cron: "@daily"
    accounts: all
    job: backup
    mailboxes: ["B*"]
    dir: %s
  - name: expire-old
    cron: "@daily"
    accounts: all
    job: expire
    mailbox: Big
    older_than: 365d
    skip_flagged: false
    backup_first: bk
`, srv.Port, user, dir, dir2)
	path := filepath.Join(cfgDir, "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// 1. The whole mailbox.
	code, out, errOut := runCmd(t, "jobs", "run", "-c", path, "bk", "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("jobs run bk: %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("first backup: %s", strings.TrimSpace(out))
	if _, acted := summaryOf(t, out); acted != n {
		t.Fatalf("first backup exported %d, want %d", acted, n)
	}
	uv, big := snapshot(t, c, "Big")
	files := backupFiles(t, dir, "Big", uv)
	if len(files) != n {
		t.Errorf("%d files for %d messages", len(files), n)
	}
	sameAsServer(t, "first backup", files, big)

	// 2. Only what is new.
	seed(n, n+100)
	code, out, errOut = runCmd(t, "jobs", "run", "-c", path, "bk", "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("jobs run bk: %d\n%s\n%s", code, out, errOut)
	}
	if scanned, acted := summaryOf(t, out); scanned != 100 || acted != 100 {
		t.Errorf("second backup scanned %d, exported %d; want 100, 100: %s", scanned, acted, out)
	}
	_, big = snapshot(t, c, "Big")
	files2 := backupFiles(t, dir, "Big", uv)
	if len(files2) != n+100 {
		t.Errorf("%d files after the second backup, want %d", len(files2), n+100)
	}
	for uid, e := range files {
		if files2[uid].Path != e.Path {
			t.Errorf("uid %d rewritten: %s → %s", uid, e.Path, files2[uid].Path)
		}
	}
	sameAsServer(t, "second backup", files2, big)

	// 3. SIGKILL mid-run, then run again.
	cur := filepath.Join(maildir.Dir(maildir.AccountRoot(dir2, "acct"), "Big", '/'), "cur")
	child := exec.Command(os.Args[0], "-test.run=^TestBackupKilledChild$", "-test.count=1")
	child.Env = append(os.Environ(), "MW_BACKUP_CHILD="+path)
	var childOut bytes.Buffer
	child.Stdout, child.Stderr = &childOut, &childOut
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	killAt := (n + 100) * 3 / 10
	written := 0
	for written < killAt {
		select {
		case err := <-exited:
			t.Fatalf("the backup finished before it could be killed (%d files; %v)\n%s", written, err, childOut.String())
		case <-time.After(2 * time.Millisecond):
		}
		ents, _ := os.ReadDir(cur)
		written = len(ents)
	}
	child.Process.Signal(syscall.SIGKILL)
	err := <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v\n%s", err, childOut.String())
	}
	ents, _ := os.ReadDir(cur)
	store, err := state.Open(filepath.Join(cfgDir, "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cp, _, err := store.BackupCheckpoint("bk2", dir2, "acct", "Big")
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	beyond := 0
	for _, e := range ents {
		if maildir.Parse(e.Name()).UID > cp.LastUID {
			beyond++
		}
	}
	t.Logf("killed with %d files written, checkpoint at uid %d, %d files beyond it", len(ents), cp.LastUID, beyond)
	code, out, errOut = runCmd(t, "jobs", "run", "-c", path, "bk2", "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("jobs run bk2: %d\n%s\n%s", code, out, errOut)
	}
	if _, acted := summaryOf(t, out); acted != n+100-len(ents) {
		t.Errorf("rerun exported %d, want %d (all but the %d written before the kill): %s", acted, n+100-len(ents), len(ents), out)
	}
	if beyond > 0 && !strings.Contains(out, fmt.Sprintf("%d message(s) already in the backup past its checkpoint", beyond)) {
		t.Errorf("rerun does not report the %d files beyond the checkpoint: %s", beyond, out)
	}
	files3 := backupFiles(t, dir2, "Big", uv) // fails on a duplicate
	if len(files3) != n+100 {
		t.Errorf("%d files after the killed run and its rerun, want %d", len(files3), n+100)
	}
	sameAsServer(t, "killed and rerun", files3, big)
	if tmp, _ := os.ReadDir(filepath.Join(filepath.Dir(cur), "tmp")); len(tmp) != 0 {
		t.Errorf("%d files left in tmp/", len(tmp))
	}

	// 4. expire with backup_first: 50 old messages the backup lacks.
	for i := n + 100; i < n+150; i++ {
		raw, flags, _ := proofMsg(i)
		if _, err := c.Append(ctx, "Big", flags, time.Date(2020, 1, 1, 0, i, 0, 0, time.UTC), raw); err != nil {
			t.Fatal(err)
		}
	}
	_, before := snapshot(t, c, "Big")
	code, out, errOut = runCmd(t, "jobs", "run", "-c", path, "expire-old", "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("jobs run expire-old: %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("expire: %s", strings.TrimSpace(out))
	_, after := snapshot(t, c, "Big")
	removed := proofSnapshot{}
	for id, m := range before {
		if _, ok := after[id]; !ok {
			removed[id] = m
		}
	}
	if _, acted := summaryOf(t, out); acted != len(removed) || len(removed) == 0 {
		t.Errorf("expire removed %d, says %d", len(removed), acted)
	}
	if strings.Contains(out, "held back") || !regexp.MustCompile(`backup "bk"\s+50\n`).MatchString(out) {
		t.Errorf("expire did not back up exactly the 50 new old messages, or held some back: %s", out)
	}
	sameAsServer(t, "expired messages", backupFiles(t, dir, "Big", uv), removed)

	// 5. Restore into an empty mailbox; compare one by one.
	code, out, errOut = runCmd(t, "restore", "-c", path, "--from", dir, "--mailbox", "Big", "--to", "Restored")
	if code != exitOK {
		t.Fatalf("restore: %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("restore: %s", strings.TrimSpace(out))
	_, restored := snapshot(t, c, "Restored")
	if len(restored) != len(before) {
		t.Errorf("restored %d messages, the backup holds %d", len(restored), len(before))
	}
	for id, m := range before {
		r, ok := restored[id]
		switch {
		case !ok:
			t.Errorf("%s not restored", id)
		case !bytes.Equal(r.raw, m.raw):
			t.Errorf("%s: restored bytes differ", id)
		case !slices.Equal(r.flags, m.flags):
			t.Errorf("%s: restored flags %q, were %q", id, r.flags, m.flags)
		case !r.date.Equal(m.date):
			t.Errorf("%s: restored internal date %v, was %v", id, r.date, m.date)
		}
	}
	code, out, _ = runCmd(t, "restore", "-c", path, "--from", dir, "--mailbox", "Big", "--to", "Restored")
	if code != exitOK || !strings.Contains(out, fmt.Sprintf(" 0 appended, %d already there", len(before))) {
		t.Errorf("second restore: %d %s", code, out)
	}
}

// The README's backup example loads and compiles as it is written.
func TestReadmeBackupExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Backups and restore\n")
	if !ok {
		t.Fatal("README has no section \"Backups and restore\"")
	}
	_, block, _ := strings.Cut(section, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	t.Setenv("MW_README_PASS", "x")
	cfg := "accounts:\n  - name: work\n    host: imap.example.com\n    username: me\n    password_env: MW_README_PASS\n" + block
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCmd(t, "check", "-c", path); code != exitOK {
		t.Fatalf("check: %d\n%s%s\n%s", code, out, errOut, cfg)
	}
}

// restore refuses what it cannot do before it connects anywhere.
func TestRestoreUsage(t *testing.T) {
	_, path := memConfig(t, cmdRules)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"restore", "-c", path}, "--from DIR is required"},
		{[]string{"restore", "-c", path, "--from", t.TempDir(), "--since", "yesterday"}, `--since "yesterday": want a date`},
		{[]string{"restore", "-c", path, "--from", t.TempDir(), "--account", "nope"}, `no account "nope" (accounts: personal)`},
	} {
		code, _, errOut := runCmd(t, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: %d %q, want usage error %q", tt.args, code, errOut, tt.want)
		}
	}
	code, out, errOut := runCmd(t, "restore", "-c", path, "--from", t.TempDir())
	if code != exitFail || !strings.Contains(errOut, "holds no Maildir folder") {
		t.Errorf("empty tree: %d %q %q", code, out, errOut)
	}
}

func TestParseSince(t *testing.T) {
	ref := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-01-31":           time.Date(2026, 1, 31, 0, 0, 0, 0, time.Local),
		"2026-01-31T10:00:00Z": time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC),
		"30d":                  ref.Add(-30 * 24 * time.Hour),
	} {
		got, err := parseSince(in, ref)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
