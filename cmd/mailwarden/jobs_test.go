package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/memimap"
)

// memConfig starts an in-memory server and writes a config for it with
// the given rulesets and schedules sections.
func memConfig(t *testing.T, rest string) (*memimap.Server, string) {
	t.Helper()
	srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"alice": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	t.Setenv("MW_CMD_TEST_PASS", "pw")
	cfg := fmt.Sprintf(`state_dir: ./state
accounts:
  - name: personal
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: alice
    password_env: MW_CMD_TEST_PASS
    watch:
      - {mailbox: INBOX, ruleset: inbox}
%s`, srv.Port(), rest)
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, path
}

const cmdRules = `rulesets:
  inbox:
    - name: invoices
      when: 'subject contains "invoice"'
      actions: [{move: Finance}]
    - name: boss
      when: 'from.address == "boss@example.com"'
      actions: [{flag: "\\Flagged"}]
schedules:
  - name: archive-inbox
    cron: "0 3 * * *"
    accounts: [personal]
    job: archive
    mailbox: INBOX
    older_than: 90d
    to: "Archive/{year}"
  - name: empty-trash
    cron: "CRON_TZ=UTC @daily"
    accounts: all
    job: expire
    mailbox: Trash
    older_than: 30d
`

func appendMail(t *testing.T, srv *memimap.Server, mailbox, id, from, subject string, date time.Time) {
	t.Helper()
	raw := fmt.Sprintf("From: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\n\r\nhi\r\n", from, subject, id, date.Format(time.RFC1123Z))
	if _, err := srv.Append("alice", mailbox, []byte(raw), nil, date); err != nil {
		t.Fatal(err)
	}
}

func TestJobsList(t *testing.T) {
	t.Setenv("TZ", "UTC")
	_, path := memConfig(t, cmdRules)
	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { return time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC) }
	code, out, errw := runCmd(t, "jobs", "list", "-c", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errw)
	}
	want := `NAME           JOB      ACCOUNTS  SCHEDULE            NEXT RUN
archive-inbox  archive  personal  0 3 * * *           2026-11-26 03:00 UTC (in 30m0s)
empty-trash    expire   all       CRON_TZ=UTC @daily  2026-11-27 00:00 UTC (in 21h30m0s)
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestJobsRunAndUsage(t *testing.T) {
	srv, path := memConfig(t, cmdRules)
	old := time.Now().AddDate(-1, 0, 0)
	appendMail(t, srv, "INBOX", "old@x", "a@example.net", "old news", old)
	appendMail(t, srv, "INBOX", "new@x", "a@example.net", "fresh", time.Now())

	code, out, errw := runCmd(t, "jobs", "run", "-c", path, "archive-inbox", "--dry-run")
	if code != exitOK || !strings.Contains(out, "archive-inbox (archive): 1 account(s), 1 scanned, 1 matched, 1 acted on, 0 failed") ||
		!strings.Contains(out, "dry run: nothing changed") || !strings.Contains(out, fmt.Sprintf(`move "Archive/%d"`, old.Year())) {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errw)
	}
	code, out, errw = runCmd(t, "jobs", "run", "-c", path, "archive-inbox")
	if code != exitOK || !strings.Contains(out, "1 acted on") || strings.Contains(out, "dry run") {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errw)
	}
	code, out, _ = runCmd(t, "jobs", "run", "-c", path, "archive-inbox", "--log-level", "error")
	if code != exitOK || !strings.Contains(out, "0 matched, 0 acted on") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}

	if code, _, errw := runCmd(t, "jobs", "run", "-c", path, "nope"); code != exitUsage ||
		!strings.Contains(errw, `no schedule called "nope" (schedules: archive-inbox, empty-trash)`) {
		t.Errorf("unknown job: exit %d: %s", code, errw)
	}
	if code, _, _ := runCmd(t, "jobs", "run", "-c", path); code != exitUsage {
		t.Errorf("no name: exit %d", code)
	}
	if code, _, errw := runCmd(t, "jobs", "frob"); code != exitUsage || !strings.Contains(errw, `unknown subcommand "frob"`) {
		t.Errorf("bad subcommand: exit %d: %s", code, errw)
	}
}

func TestApply(t *testing.T) {
	srv, path := memConfig(t, cmdRules)
	for i := range 10 {
		subj, from := "hello", "a@example.net"
		switch i % 3 {
		case 0:
			subj = fmt.Sprintf("invoice %d", i)
		case 1:
			from = "boss@example.com"
		}
		appendMail(t, srv, "INBOX", fmt.Sprintf("m%d@x", i), from, subj, time.Now())
	}
	code, out, errw := runCmd(t, "apply", "-c", path, "--account", "personal", "--mailbox", "INBOX", "--dry-run")
	if code != exitOK || !strings.Contains(out, `apply "inbox" to personal INBOX: 1 account(s), 10 scanned, 7 matched, 7 acted on, 0 failed`) ||
		!strings.Contains(out, "(dry run: nothing changed)") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errw)
	}
	if strings.Contains(errw, "\r[") {
		t.Error("progress bar drawn on a non-terminal")
	}
	code, out, errw = runCmd(t, "apply", "-c", path, "--account", "personal", "--mailbox", "INBOX", "--max", "5", "--batch", "2")
	if code != exitOK || !strings.Contains(out, "5 acted on") || !strings.Contains(out, "stopped at its cap") {
		t.Fatalf("capped: exit %d\n%s\n%s", code, out, errw)
	}
	code, out, errw = runCmd(t, "apply", "-c", path, "--account", "personal", "--mailbox", "INBOX")
	if code != exitOK || !strings.Contains(out, `move "Finance"`) {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errw)
	}
	// Everything is done: the invoices moved, the boss's mail flagged (a
	// flag already set is planned again but changes nothing).
	code, out, _ = runCmd(t, "apply", "-c", path, "--account", "personal", "--mailbox", "Finance", "--ruleset", "inbox", "--log-level", "error")
	if code != exitOK || !strings.Contains(out, "4 scanned") {
		t.Errorf("Finance: exit %d\n%s", code, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--account", "personal"}, "--account and --mailbox are required"},
		{[]string{"--account", "bob", "--mailbox", "INBOX"}, `no account "bob"`},
		{[]string{"--account", "personal", "--mailbox", "Junk"}, `account "personal" does not watch "Junk": say which rule set with --ruleset`},
		{[]string{"--account", "personal", "--mailbox", "Junk", "--ruleset", "x"}, `no rule set "x"`},
	} {
		code, _, errw := runCmd(t, append([]string{"apply", "-c", path}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errw, tc.want) {
			t.Errorf("%v: exit %d: %s", tc.args, code, errw)
		}
	}
}

// A dry run of apply reports what the real run then does: it reads the
// journal and the loop-protection placements too (the state file opened
// read-only), and a message whose flags are already as planned is not
// acted on, in either.
func TestApplyDryRunSaysWhatTheRealRunDoes(t *testing.T) {
	srv, path := memConfig(t, cmdRules)
	appendMail(t, srv, "INBOX", "inv1@x", "billing@example.net", "invoice 1", time.Now())
	appendMail(t, srv, "INBOX", "boss1@x", "boss@example.com", "numbers", time.Now())
	// Already flagged: the boss rule changes nothing.
	if _, err := srv.Append("alice", "INBOX", []byte("From: boss@example.com\r\nSubject: old\r\nMessage-ID: <boss0@x>\r\n\r\nx\r\n"), []string{`\Flagged`}, time.Now()); err != nil {
		t.Fatal(err)
	}
	// A first real run files the invoice; undo brings it back. It now sits
	// in INBOX placed there by the daemon: loop protection skips it.
	if code, out, errw := runCmd(t, "apply", "-c", path, "--account", "personal", "--mailbox", "INBOX", "--log-level", "error"); code != exitOK ||
		!strings.Contains(out, "3 scanned, 2 matched, 2 acted on") {
		t.Fatalf("first apply: exit %d\n%s\n%s", code, out, errw)
	}
	if code, out, errw := runCmd(t, "undo", "-c", path, "--since", "1h", "--yes", "--rule", "invoices"); code != exitOK || !strings.Contains(out, "1 undone") {
		t.Fatalf("undo: exit %d\n%s\n%s", code, out, errw)
	}
	appendMail(t, srv, "INBOX", "inv2@x", "billing@example.net", "invoice 2", time.Now())

	summary := func(out string) string {
		line, _, _ := strings.Cut(out, "\n")
		_, rest, _ := strings.Cut(line, ": ")
		rest, _, _ = strings.Cut(rest, " scanned")
		counts, _, _ := strings.Cut(line[strings.Index(line, " scanned"):], ", 0 failed")
		return rest + counts + "|" + strings.Join(strings.Split(out, "\n")[1:], "|")
	}
	code, dry, errw := runCmd(t, "apply", "-c", path, "--account", "personal", "--mailbox", "INBOX", "--dry-run", "--log-level", "error")
	if code != exitOK {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, dry, errw)
	}
	code, real, errw := runCmd(t, "apply", "-c", path, "--account", "personal", "--mailbox", "INBOX", "--log-level", "error")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, real, errw)
	}
	if summary(dry) != summary(real) {
		t.Errorf("the dry run said\n%s\nthe real run did\n%s", dry, real)
	}
	// inv2 moves; inv1 (placed by the daemon) and boss0/boss1 (already
	// flagged) are not acted on.
	if !strings.Contains(real, "4 scanned, 1 matched, 1 acted on") || !strings.Contains(real, `move "Finance"                           1`) {
		t.Errorf("real run:\n%s", real)
	}
}
