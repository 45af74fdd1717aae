package config

import (
	"slices"
	"strings"
	"testing"
)

const backupSnippet = `accounts:
  - name: personal
    host: imap.example.com
    username: me
    password_env: MW_PASS
  - name: work
    host: imap.example.org
    username: me
    password_env: MW_PASS
schedules:
  - name: nightly
    cron: "0 2 * * *"
    accounts: all
    job: backup
    mailboxes: [INBOX, "\\Sent", "Archive/*"]
    when: 'has_flag("\\Flagged") || from.domain == "bank.example"'
    dir: backups/mail
  - name: everything
    cron: "@weekly"
    accounts: [work]
    job: backup
    mailboxes: all
    dir: /srv/mail-backup
  - name: empty-trash
    cron: "@daily"
    accounts: all
    job: expire
    mailbox: "\\Trash"
    older_than: 30d
    backup_first: nightly
  - name: quota
    cron: "@hourly"
    accounts: [work]
    job: quota
    high: 90%
    low: 80%
    prune: [{mailbox: "\\Trash"}]
    backup_first: everything
`

func TestBackupSchedule(t *testing.T) {
	c, errs := Parse("m.yaml", "/cfg", []byte(backupSnippet))
	if errs != nil {
		t.Fatal(errs)
	}
	b := c.Schedule("nightly")
	if b == nil || b.Job != JobBackup || !slices.Equal(b.Mailboxes, []string{"INBOX", `\Sent`, "Archive/*"}) || b.AllMailboxes ||
		b.Dir != "/cfg/backups/mail" || b.When != `has_flag("\\Flagged") || from.domain == "bank.example"` || b.MaxMessages != DefaultMaxMessages ||
		strings.Join(b.Accounts, ",") != "personal,work" {
		t.Errorf("nightly = %+v", b)
	}
	if e := c.Schedule("everything"); e == nil || !e.AllMailboxes || e.Mailboxes != nil || e.Dir != "/srv/mail-backup" {
		t.Errorf("everything = %+v", e)
	}
	if e := c.Schedule("empty-trash"); e == nil || e.BackupFirst != "nightly" {
		t.Errorf("expire = %+v", e)
	}
	if q := c.Schedule("quota"); q == nil || q.BackupFirst != "everything" {
		t.Errorf("quota = %+v", q)
	}
	if errs := c.Validate(); errs != nil {
		t.Errorf("second Validate: %v", errs)
	}
}

func TestBackupScheduleErrors(t *testing.T) {
	const head = `accounts:
  - name: personal
    host: h
    username: u
    password_env: P
  - name: work
    host: h
    username: u
    password_env: P
schedules:
`
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"backup", `  - name: b
    cron: "@daily"
    accounts: all
    job: backup
    mailbox: INBOX
  - name: b2
    cron: "@daily"
    accounts: all
    job: backup
    mailboxes: []
    dir: x
  - name: b3
    cron: "@daily"
    accounts: all
    job: backup
    mailboxes: INBOX
    dir: x
  - name: b4
    cron: "@daily"
    accounts: all
    job: backup
    mailboxes: [INBOX, ""]
    dir: x
`, []string{
			`m.yaml:26:5: schedules[2].mailboxes: want a list of mailboxes or all, got "INBOX" (hint: ` + mailboxesHint + `)`,
			`m.yaml:15:5: schedules[0].mailbox: not used by a backup job (hint: a backup job takes mailboxes, when, dir)`,
			`m.yaml:11:5: schedules[0].mailboxes: missing (hint: ` + mailboxesHint + `)`,
			`m.yaml:11:5: schedules[0].dir: missing (hint: the local directory the Maildir tree is written to, e.g. dir: /var/backups/mail)`,
			`m.yaml:20:5: schedules[1].mailboxes: no mailboxes (hint: ` + mailboxesHint + `)`,
			`m.yaml:32:5: schedules[3].mailboxes: mailboxes[1]: empty name (hint: ` + mailboxesHint + `)`,
		}},
		{"backup_first", `  - name: nightly
    cron: "@daily"
    accounts: [personal]
    job: backup
    mailboxes: all
    dir: x
  - name: e
    cron: "@daily"
    accounts: all
    job: expire
    mailbox: Trash
    older_than: 30d
    backup_first: nighlty
  - name: e2
    cron: "@daily"
    accounts: all
    job: expire
    mailbox: Trash
    older_than: 30d
    backup_first: e
  - name: q
    cron: "@daily"
    accounts: all
    job: quota
    high: 90%
    low: 80%
    prune: [{mailbox: Trash}]
    backup_first: nightly
  - name: a
    cron: "@daily"
    accounts: all
    job: archive
    mailbox: INBOX
    older_than: 30d
    to: Archive
    backup_first: nightly
`, []string{
			`m.yaml:23:5: schedules[1].backup_first: unknown backup "nighlty" (hint: did you mean nightly?)`,
			`m.yaml:30:5: schedules[2].backup_first: schedule "e" is an expire job, not a backup (hint: name a schedule with job: backup)`,
			`m.yaml:38:5: schedules[3].backup_first: backup "nightly" does not cover account "work" (hint: add it to that backup's accounts, or give it accounts: all)`,
			`m.yaml:46:5: schedules[4].backup_first: not used by an archive job (hint: an archive job takes mailbox, older_than, by, to, skip_flagged, skip_unread, when)`,
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
