package jobs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

const sweepSieve = `require ["fileinto", "imap4flags", "mailbox"];
if header :contains "subject" "invoice" {
  fileinto :create "Finance";
} elsif address :is "from" "boss@example.com" {
  addflag "\\Flagged";
}
`

// A sweep runs a Sieve ruleset (with an expr rule after it) over the mail
// already in a mailbox, through the watchers' pipeline; a dry run changes
// nothing and a second run finds nothing new to do.
func TestSweepAppliesSieveToExistingMail(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "INBOX",
		msg{id: "inv", date: day(2025, 1, 1), subj: "Your invoice 42"},
		msg{id: "boss", date: day(2025, 2, 1), from: "Boss <boss@example.com>"},
		msg{id: "news", date: day(2025, 3, 1), subj: "Weekly news"},
		msg{id: "plain", date: day(2025, 4, 1)},
		msg{id: "deleted", date: day(2025, 5, 1), subj: "invoice, deleted by another client", flags: []string{`\Deleted`}},
	)
	dir := t.TempDir()
	script := filepath.Join(dir, "sort.sieve")
	if err := os.WriteFile(script, []byte(sweepSieve), 0o644); err != nil {
		t.Fatal(err)
	}
	rulesets := `  retention:
    - sieve: ` + script + `
    - name: news
      when: 'subject contains "news"'
      actions: [{flag: newsletter}]
`
	sched := `  - name: retention
    cron: "@weekly"
    accounts: all
    job: sweep
    mailbox: INBOX
    ruleset: retention
`
	before := a.contents(t, "INBOX")
	dry := setup(t, a, sched, rulesets, &engine.JobOptions{DryRun: true})
	checkSum(t, dry.run(t, "retention"), 3, 3, false)
	equal(t, "INBOX after dry run", a.contents(t, "INBOX"), before)

	d := setup(t, a, sched, rulesets, nil)
	sum := d.run(t, "retention")
	checkSum(t, sum, 3, 3, false)
	if sum.Scanned != 4 || sum.Actions[`move "Finance" flags=()`] != 1 || sum.Actions[`flag \Flagged`] != 1 {
		t.Errorf("summary: %+v", sum)
	}
	equal(t, "Finance", a.contents(t, "Finance"), []string{"inv[]"})
	equal(t, "INBOX", a.contents(t, "INBOX"), []string{`boss[\Flagged]`, `deleted[\Deleted]`, "news[newsletter]", "plain[]"})
	sum = d.run(t, "retention")
	if sum.Scanned != 3 || strings.Contains(a.contents(t, "Finance")[0], "boss") {
		t.Errorf("second run: %+v", sum)
	}
	equal(t, "Finance after a second run", a.contents(t, "Finance"), []string{"inv[]"})
}

// A sweep (and so `mailwarden apply`) answers Sieve's mailboxexists from
// the server, as the watchers do.
func TestSweepSieveMailboxExistsAsksTheServer(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "INBOX", msg{id: "m", date: day(2025, 1, 1)})
	script := filepath.Join(t.TempDir(), "exists.sieve")
	if err := os.WriteFile(script, []byte(`require ["mailbox", "imap4flags"];
if mailboxexists "Archive" { addflag "has-archive"; }
if not mailboxexists "No/Such/Box" { addflag "no-such-box"; }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	d := setup(t, a, `  - name: s
    cron: "@weekly"
    accounts: all
    job: sweep
    mailbox: INBOX
    ruleset: r
`, "  r:\n    - sieve: "+script+"\n", nil)
	d.run(t, "s")
	equal(t, "INBOX", a.contents(t, "INBOX"), []string{"m[has-archive no-such-box]"})
}
