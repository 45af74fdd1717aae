package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

// check --connect logs in to every account and reports every problem at
// once: a wrong password, a watched mailbox that does not exist, a Sieve
// fileinto without :create to a missing mailbox, a job's missing mailbox,
// a state_dir that cannot be written; and notes mailboxes that will be
// created.
func TestCheckConnectReportsEveryProblem(t *testing.T) {
	srv := dovecottest.Shared(t)
	user, pass := srv.NewUser(t)
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	os.WriteFile(blocker, []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "f.sieve"), []byte("require [\"fileinto\", \"mailbox\"];\nfileinto \"Nope\";\nfileinto :create \"Later\";\n"), 0o600)
	t.Setenv("MW_CONNECT_PASS", pass)
	t.Setenv("MW_CONNECT_BAD", "wrong")
	cfg := fmt.Sprintf(`state_dir: %s
accounts:
  - name: good
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: %s
    password_env: MW_CONNECT_PASS
    watch:
      - mailbox: INBOX
        ruleset: inbox
      - mailbox: Missing
        ruleset: inbox
  - name: bad
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: %s
    password_env: MW_CONNECT_BAD
rulesets:
  inbox:
    - name: invoices
      when: 'subject contains "invoice"'
      actions: [{move: Finance}]
    - sieve: f.sieve
schedules:
  - name: arch
    cron: "@daily"
    accounts: [good]
    job: archive
    mailbox: Old
    older_than: 30d
    to: Archive/{year}
`, filepath.Join(blocker, "state"), srv.Port, user, srv.Port, user)
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)

	// Without --connect the file is fine.
	if code, out, errw := runCmd(t, "check", "-c", path); code != exitOK {
		t.Fatalf("check: exit %d\n%s%s", code, out, errw)
	}
	code, out, errw := runCmd(t, "check", "--connect", "-c", path)
	if code != exitFail {
		t.Fatalf("check --connect: exit %d, want 1\n%s%s", code, out, errw)
	}
	for _, want := range []string{
		"state_dir: " + blocker + " is not writable",
		`c.yaml:15:5: accounts[1]: account "bad": cannot connect and log in: `,
		`c.yaml:13:9: accounts[0].watch[1].mailbox: account "good": mailbox "Missing" does not exist (hint: create it, or correct the name; the server has `,
		`f.sieve:2: fileinto: account "good": mailbox "Nope" does not exist`,
		`c.yaml:33:5: schedules[0].mailbox: account "good": mailbox "Old" does not exist`,
		"5 errors",
	} {
		if !strings.Contains(errw, want) {
			t.Errorf("missing %q in:\n%s", want, errw)
		}
	}
	for _, want := range []string{
		`rule "invoices": account "good": "Finance" does not exist yet; it is created when first used`,
		`f.sieve:3: fileinto: account "good": "Later" does not exist yet; it is created when first used`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing note %q in:\n%s", want, out)
		}
	}
	if strings.Contains(errw+out, "wrong") {
		t.Error("the password appears in the output")
	}
}

// check --connect checks a backup's named mailboxes and notes a pattern
// that matches none.
func TestCheckConnectBackupMailboxes(t *testing.T) {
	srv := dovecottest.Shared(t)
	user, pass := srv.NewUser(t)
	dir := t.TempDir()
	t.Setenv("MW_CONNECT_PASS", pass)
	cfg := fmt.Sprintf(`state_dir: %s
accounts:
  - name: good
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: %s
    password_env: MW_CONNECT_PASS
schedules:
  - name: bk
    cron: "@daily"
    accounts: all
    job: backup
    mailboxes: [INBOX, "\\Sent", Gone, "Lists/*", "%%"]
    dir: backups
`, filepath.Join(dir, "state"), srv.Port, user)
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	code, out, errw := runCmd(t, "check", "--connect", "-c", path)
	if code != exitFail {
		t.Fatalf("check --connect: exit %d, want 1\n%s%s", code, out, errw)
	}
	if want := `c.yaml:15:5: schedules[0].mailboxes[2]: account "good": mailbox "Gone" does not exist`; !strings.Contains(errw, want) || strings.Count(errw, "does not exist") != 1 {
		t.Errorf("want exactly %q in:\n%s\n%s", want, errw, out)
	}
	if want := `schedules[0].mailboxes[3]: account "good": pattern "Lists/*" matches no mailbox yet`; !strings.Contains(out, want) || strings.Contains(out, `"%"`) {
		t.Errorf("want only the note %q in:\n%s", want, out)
	}
}
