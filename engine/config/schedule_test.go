package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scheduleSnippet is the schedules section of issue 4, with two accounts.
const scheduleSnippet = `accounts:
  - name: personal
    host: imap.example.com
    username: me
    password_env: MW_PASS
  - name: work
    host: imap.example.org
    username: me
    password_env: MW_PASS
rulesets:
  retention:
    - name: old-newsletters
      when: 'has_header("List-Unsubscribe") && age > duration("720h")'
      actions: [{delete: true}]
schedules:
  - name: archive-inbox
    cron: "0 3 * * *"          # robfig/cron/v3: 5 fields, @daily/@every, CRON_TZ= prefix
    accounts: [personal]       # or "all"
    job: archive
    mailbox: INBOX
    older_than: 90d            # units s m h d w; by internal date unless by: date
    to: "Archive/{year}"       # {year} {month} from the same date older_than uses
    skip_flagged: true         # default true
    skip_unread: true          # default false
    when: 'from.domain != "family.example"'   # optional expr filter
    max_messages: 5000         # per-run cap, default 10000
  - name: empty-trash
    cron: "@daily"
    accounts: all
    job: expire
    mailbox: "\\Trash"         # a special-use attribute or a name
    older_than: 30d
  - name: quota
    cron: "*/30 * * * *"
    accounts: all
    job: quota
    high: 90%                  # act when usage ≥ high
    low: 80%                   # free until usage ≤ low
    prune:                     # in this order, oldest first within each
      - {mailbox: "\\Trash"}
      - {mailbox: "\\Junk"}
      - {mailbox: Archive, older_than: 365d}
    warn_only: false
  - name: retention
    cron: "@weekly"
    accounts: all
    job: sweep                 # run a ruleset over a whole mailbox
    mailbox: INBOX
    ruleset: retention
`

func TestScheduleSnippet(t *testing.T) {
	c, errs := Parse("m.yaml", "/cfg", []byte(scheduleSnippet))
	if errs != nil {
		t.Fatal(errs)
	}
	if len(c.Schedules) != 4 {
		t.Fatalf("schedules = %+v", c.Schedules)
	}
	day := 24 * time.Hour
	a := c.Schedule("archive-inbox")
	if a == nil || a.Cron != "0 3 * * *" || strings.Join(a.Accounts, ",") != "personal" || a.AllAccounts || a.Job != JobArchive ||
		a.Mailbox != "INBOX" || a.OlderThan != 90*day || a.By != ByInternal || a.To != "Archive/{year}" || !a.SkipFlagged || !a.SkipUnread ||
		a.When != `from.domain != "family.example"` || a.WhenPos != (Pos{File: "m.yaml", Line: 25, Col: 12}) || !a.WhenInline || a.MaxMessages != 5000 ||
		a.Pos != (Pos{File: "m.yaml", Line: 16, Col: 5}) {
		t.Errorf("archive = %+v", a)
	}
	e := c.Schedule("empty-trash")
	if e == nil || !e.AllAccounts || strings.Join(e.Accounts, ",") != "personal,work" || e.Mailbox != `\Trash` || e.OlderThan != 30*day ||
		!e.SkipFlagged || e.SkipUnread || e.MaxMessages != DefaultMaxMessages || e.By != ByInternal {
		t.Errorf("expire = %+v", e)
	}
	q := c.Schedule("quota")
	if q == nil || q.High != 90 || q.Low != 80 || q.WarnOnly || len(q.Prune) != 3 || q.Prune[0].Mailbox != `\Trash` ||
		q.Prune[1].Mailbox != `\Junk` || q.Prune[2].Mailbox != "Archive" || q.Prune[2].OlderThan != 365*day || q.Prune[0].OlderThan != 0 {
		t.Errorf("quota = %+v", q)
	}
	s := c.Schedule("retention")
	if s == nil || s.Job != JobSweep || s.Ruleset != "retention" || s.Mailbox != "INBOX" {
		t.Errorf("sweep = %+v", s)
	}
	if c.Schedule("nope") != nil {
		t.Error("unknown schedule found")
	}
	if errs := c.Validate(); errs != nil {
		t.Errorf("second Validate: %v", errs)
	}
}

func TestScheduleErrors(t *testing.T) {
	const head = `accounts:
  - name: personal
    host: h
    username: u
    password_env: P
rulesets:
  retention:
    - {name: r, when: 'true', actions: [{flag: x}]}
schedules:
`
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"bad cron", `  - name: a
    cron: "0 3 * *"
    accounts: all
    job: expire
    mailbox: Trash
    older_than: 30d
  - name: b
    cron: "CRON_TZ=Mars/Olympus 0 3 * * *"
    accounts: all
    job: expire
    mailbox: Trash
    older_than: 30d
  - name: c
    cron: "@fortnightly"
    accounts: all
    job: expire
    mailbox: Trash
    older_than: 30d
`, []string{
			`m.yaml:11:5: schedules[0].cron: invalid schedule "0 3 * *": expected exactly 5 fields, found 4: [0 3 * *] (hint: ` + cronHint + `)`,
			`m.yaml:17:5: schedules[1].cron: invalid schedule "CRON_TZ=Mars/Olympus 0 3 * * *": provided bad location Mars/Olympus: unknown time zone Mars/Olympus (hint: ` + cronHint + `)`,
			`m.yaml:23:5: schedules[2].cron: invalid schedule "@fortnightly": unrecognized descriptor: @fortnightly (hint: ` + cronHint + `)`,
		}},
		{"missing everything", `  - job: archive
    to: "Archive/{yaer}"
`, []string{
			`m.yaml:10:5: schedules[0].name: missing (hint: every schedule needs a name, used in logs and by ` + "`mailwarden jobs run NAME`" + `)`,
			`m.yaml:10:5: schedules[0].cron: missing (hint: ` + cronHint + `)`,
			`m.yaml:10:5: schedules[0].accounts: missing (hint: name the accounts, e.g. accounts: [personal], or accounts: all)`,
			`m.yaml:10:5: schedules[0].mailbox: missing (hint: a mailbox name or a special-use attribute, e.g. INBOX or "\\Trash")`,
			`m.yaml:10:5: schedules[0].older_than: missing (hint: e.g. older_than: 90d (units s m h d w))`,
			`m.yaml:11:5: schedules[0].to: unknown placeholder {yaer} (hint: the placeholders are {year} and {month})`,
		}},
		{"shape and values", `  - name: a
    cron: "@daily"
    accounts: [personel]
    job: archiv
    older_then: 3d
  - name: a
    cron: "@daily"
    accounts: personal
    job: expire
    mailbox: Trash
    older_than: 3 days
    by: sent
    max_messages: 0
    ruleset: retention
`, []string{
			`m.yaml:14:5: schedules[0].older_then: unknown key (hint: did you mean older_than?)`,
			`m.yaml:17:5: schedules[1].accounts: want a list of account names or all, got "personal" (hint: e.g. accounts: [personal, work], or accounts: all)`,
			`m.yaml:20:5: schedules[1].older_than: invalid duration "3 days": unknown unit " days" (hint: e.g. 90s, 10m, 1h30m, 7d, 2w)`,
			`m.yaml:12:5: schedules[0].accounts: accounts[0]: unknown account "personel" (hint: did you mean personal?)`,
			`m.yaml:13:5: schedules[0].job: unknown value "archiv" (hint: did you mean archive?)`,
			`m.yaml:15:5: schedules[1].name: duplicate schedule name "a" (also schedules[0])`,
			`m.yaml:17:5: schedules[1].accounts: no accounts (hint: name the accounts, or write accounts: all)`,
			`m.yaml:22:5: schedules[1].max_messages: must be at least 1, got 0 (hint: the cap on messages one run acts on; default 10000)`,
			`m.yaml:23:5: schedules[1].ruleset: not used by an expire job (hint: an expire job takes mailbox, older_than, by, skip_flagged, skip_unread, when, backup_first)`,
			`m.yaml:20:5: schedules[1].older_than: must be more than 0 (hint: e.g. older_than: 90d)`,
			`m.yaml:21:5: schedules[1].by: unknown value "sent" (hint: one of internal, date)`,
		}},
		{"quota", `  - name: q
    cron: "*/30 * * * *"
    accounts: all
    job: quota
    high: 80%
    low: 90 percent
  - name: q2
    cron: "@hourly"
    accounts: all
    job: quota
    high: 120%
    low: 50%
    prune: [{older_than: 1d}, {mailbox: Junk, older_than: 0}]
  - name: q3
    cron: "@hourly"
    accounts: all
    job: quota
    high: 90
    low: 95
    mailbox: INBOX
`, []string{
			`m.yaml:15:5: schedules[0].low: want a percentage, got "90 percent" (hint: e.g. 90%)`,
			`m.yaml:15:5: schedules[0].low: must be more than 0% and less than high (80%), got 0% (hint: low must be below high, so that a run frees enough to stop the next one)`,
			`m.yaml:10:5: schedules[0].prune: nothing to prune (hint: list the mailboxes to remove old mail from, in order, e.g. prune: [{mailbox: "\\Trash"}, {mailbox: "\\Junk"}], or set warn_only: true)`,
			`m.yaml:20:5: schedules[1].high: must be more than 0% and at most 100%, got 120%`,
			`m.yaml:22:13: schedules[1].prune[0].mailbox: missing (hint: e.g. {mailbox: "\\Trash"})`,
			`m.yaml:22:47: schedules[1].prune[1].older_than: must be more than 0 (hint: leave it out to allow any age)`,
			`m.yaml:29:5: schedules[2].mailbox: not used by a quota job (hint: a quota job takes high, low, prune, warn_only, backup_first)`,
			`m.yaml:28:5: schedules[2].low: must be more than 0% and less than high (90%), got 95% (hint: low must be below high, so that a run frees enough to stop the next one)`,
			`m.yaml:23:5: schedules[2].prune: nothing to prune (hint: list the mailboxes to remove old mail from, in order, e.g. prune: [{mailbox: "\\Trash"}, {mailbox: "\\Junk"}], or set warn_only: true)`,
		}},
		{"sweep", `  - name: s
    cron: "@weekly"
    accounts: all
    job: sweep
    mailbox: INBOX
    ruleset: retenton
  - name: s2
    cron: "@weekly"
    accounts: all
    job: sweep
`, []string{
			`m.yaml:15:5: schedules[0].ruleset: unknown ruleset "retenton" (hint: did you mean retention?)`,
			`m.yaml:16:5: schedules[1].mailbox: missing (hint: e.g. mailbox: INBOX)`,
			`m.yaml:16:5: schedules[1].ruleset: missing (hint: name one of the rulesets under rulesets:)`,
		}},
		{"not a list", "  name: x\n", []string{
			`m.yaml:9:1: schedules: want a list, got a mapping`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse("m.yaml", "/cfg", []byte(head+tt.src))
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestScheduleLoadsFromFile(t *testing.T) {
	dir := writeDir(t, scheduleSnippet)
	c, err := Load(filepath.Join(dir, "mailwarden.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Schedule("quota"); s == nil || s.KeyPos("high").Line != 37 || s.KeyPos("nope") != s.Pos {
		t.Errorf("positions: %+v", s)
	}
}
