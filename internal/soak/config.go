package soak

import (
	"fmt"
	"os"
)

// Mailboxes of the soak.
const (
	Inbox    = "INBOX"    // watched by the daemon (phase A)
	Backlog  = "Backlog"  // `mailwarden apply` runs over it (phase B)
	Backlog2 = "Backlog2" // the scheduled sweep job runs over it (phase B)
	Scratch  = "Scratch"  // filler mail that the expire job removes (phase B)
	Copies   = "Copies"   // every counted message is copied here once
	Keyword  = "soaked"   // and flagged with this keyword
)

// groups are the move destinations: a counted message goes to exactly one,
// chosen by its subject or sender (see ruleset).
var groups = []string{"DoneA", "DoneB", "DoneC", "DoneD"}

// ruleset copies every message to Copies and flags it (one UID STORE, one
// UID COPY per batch), then moves it to one of four mailboxes by subject
// or sender (one UID MOVE per destination). The expire job removes the
// old filler mail of Scratch (UID STORE \Deleted + UID EXPUNGE).
const ruleset = `rulesets:
  sort:
    - name: mark
      when: 'size > 0'
      actions: [{flag: ` + Keyword + `}, {copy: ` + Copies + `}]
    - name: group-a
      when: 'subject startsWith "[A]"'
      actions: [{move: DoneA}]
      stop: true
    - name: group-b
      when: 'subject startsWith "[B]"'
      actions: [{move: DoneB}]
      stop: true
    - name: group-c
      when: 'from.domain == "c.soak.example"'
      actions: [{move: DoneC}]
      stop: true
    - name: rest
      when: 'size > 0'
      actions: [{move: DoneD}]
schedules:
  - name: backlog-sweep
    cron: "0 0 1 1 *"
    accounts: [soak]
    job: sweep
    mailbox: ` + Backlog2 + `
    ruleset: sort
  - name: scratch-expire
    cron: "0 0 1 1 *"
    accounts: [soak]
    job: expire
    mailbox: ` + Scratch + `
    older_than: 1d
    skip_flagged: false
`

// groupOf is the move destination of counted message n (its subject and
// sender are built from n the same way).
func groupOf(n int) string { return groups[n%len(groups)] }

func subjectFrom(n int) (subject, from string) {
	switch n % len(groups) {
	case 0:
		return fmt.Sprintf("[A] soak message %d", n), "alice@a.soak.example"
	case 1:
		return fmt.Sprintf("[B] soak message %d", n), "bob@b.soak.example"
	case 2:
		return fmt.Sprintf("soak message %d", n), "carol@c.soak.example"
	}
	return fmt.Sprintf("soak message %d", n), "dave@d.soak.example"
}

// passEnv is the variable the configs read the password from.
const passEnv = "MAILWARDEN_SOAK_PASS"

// writeConfig writes a config for account "soak" on 127.0.0.1:port
// (plaintext: the proxy must see the commands), state in stateDir, INBOX
// watched with the sort rule set.
func writeConfig(path, stateDir string, port int, user string) error {
	cfg := fmt.Sprintf(`state_dir: %s
log:
  level: debug
  format: text
  heartbeat: 0s
accounts:
  - name: soak
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: %s
    password_env: %s
    idle_refresh: 1m
    watch:
      - {mailbox: INBOX, ruleset: sort, start: all}
%s`, stateDir, port, user, passEnv, ruleset)
	return os.WriteFile(path, []byte(cfg), 0o600)
}
