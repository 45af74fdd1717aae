package jobs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

const archiveSchedule = `  - name: archive-inbox
    cron: "0 3 * * *"
    accounts: [acct]
    job: archive
    mailbox: INBOX
    older_than: 90d
    to: "Archive/{year}/{month}"
    skip_unread: true
    when: 'from.domain != "family.example"'
`

var archiveSeed = []msg{
	{id: "old-2024", date: day(2024, 3, 10), flags: []string{`\Seen`}},
	{id: "old-2025", date: day(2025, 1, 5), flags: []string{`\Seen`, "work"}},
	{id: "old-91d", date: now.AddDate(0, 0, -91), flags: []string{`\Seen`}},
	{id: "young-89d", date: now.AddDate(0, 0, -89), flags: []string{`\Seen`}},
	{id: "old-flagged", date: day(2024, 5, 1), flags: []string{`\Seen`, `\Flagged`}},
	{id: "old-unread", date: day(2024, 6, 1)},
	{id: "old-family", date: day(2024, 7, 1), flags: []string{`\Seen`}, from: "mum@family.example"},
	{id: "old-deleted-by-other", date: day(2024, 1, 1), flags: []string{`\Seen`, `\Deleted`}},
	{id: "recent", date: day(2026, 11, 20), flags: []string{`\Seen`}},
}

// Archive moves exactly the old, read, unflagged, unfiltered messages into
// year/month folders it creates, by internal date; a second run finds
// nothing; a dry run before changes nothing.
func TestArchive(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "INBOX", archiveSeed...)
	before := a.contents(t, "INBOX")

	dry := setup(t, a, archiveSchedule, "", &engine.JobOptions{DryRun: true})
	sum := dry.run(t, "archive-inbox")
	checkSum(t, sum, 3, 3, false)
	if !sum.DryRun {
		t.Error("summary does not say dry run")
	}
	equal(t, "INBOX after dry run", a.contents(t, "INBOX"), before)
	equal(t, "Archive/2024/03 after dry run", a.contents(t, "Archive/2024/03"), nil)

	d := setup(t, a, archiveSchedule, "", nil)
	sum = d.run(t, "archive-inbox")
	checkSum(t, sum, 3, 3, false)
	if sum.Actions[`move "Archive/2024/03"`] != 1 || sum.Bytes == 0 {
		t.Errorf("summary = %+v", sum)
	}
	equal(t, "Archive/2024/03", a.contents(t, "Archive/2024/03"), []string{`old-2024[\Seen]`})
	equal(t, "Archive/2025/01", a.contents(t, "Archive/2025/01"), []string{`old-2025[\Seen work]`})
	d91 := now.AddDate(0, 0, -91)
	equal(t, "Archive/"+d91.Format("2006/01"), a.contents(t, "Archive/"+d91.Format("2006/01")), []string{`old-91d[\Seen]`})
	equal(t, "INBOX", a.contents(t, "INBOX"), []string{
		`old-deleted-by-other[\Deleted \Seen]`, `old-family[\Seen]`, `old-flagged[\Flagged \Seen]`, `old-unread[]`,
		`recent[\Seen]`, `young-89d[\Seen]`,
	})
	sum = d.run(t, "archive-inbox")
	checkSum(t, sum, 0, 0, false)

	// The journal holds one entry per move, naming the schedule.
	n := 0
	d.store.Journal(now.AddDate(-1, 0, 0), func(e actionsEntry) bool {
		if e.Rule != "archive-inbox" || e.Op != "move" {
			t.Errorf("journal entry %+v", e)
		}
		n++
		return true
	})
	if n != 3 {
		t.Errorf("%d journal entries, want 3", n)
	}
}

// by: date measures the age (and names the folder) by the Date: header.
func TestArchiveByDateHeader(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	// Internal date recent, Date: header old: a message imported late.
	m := msg{id: "imported", date: day(2023, 2, 2), flags: []string{`\Seen`}}
	c := a.client(t)
	if _, err := c.Append(context.Background(), "INBOX", m.flags, now.AddDate(0, 0, -1), m.raw()); err != nil {
		t.Fatal(err)
	}
	// Old by both dates.
	a.seed(t, "INBOX", msg{id: "old-both", date: day(2023, 3, 3), flags: []string{`\Seen`}})
	// Old by internal date only: its Date: header is recent.
	young := msg{id: "young-header", date: now.AddDate(0, 0, -2), flags: []string{`\Seen`}}
	if _, err := c.Append(context.Background(), "INBOX", young.flags, day(2023, 4, 4), young.raw()); err != nil {
		t.Fatal(err)
	}
	d := setup(t, a, `  - name: a
    cron: "@daily"
    accounts: all
    job: archive
    mailbox: INBOX
    older_than: 90d
    by: date
    to: "Archive/{year}"
`, "", nil)
	checkSum(t, d.run(t, "a"), 2, 2, false)
	equal(t, "Archive/2023", a.contents(t, "Archive/2023"), []string{`imported[\Seen]`, `old-both[\Seen]`})
	equal(t, "INBOX", a.contents(t, "INBOX"), []string{`young-header[\Seen]`})
}

// The cap stops a run; the next run goes on; a run killed half-way loses
// nothing and the next one finishes the work.
func TestArchiveCapAndKilledRun(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	var seed []msg
	for i := range 7 {
		seed = append(seed, msg{id: string(rune('a'+i)) + "-old", date: day(2024, 1, 1+i), flags: []string{`\Seen`}})
	}
	a.seed(t, "INBOX", seed...)
	sched := `  - name: arch
    cron: "@daily"
    accounts: all
    job: archive
    mailbox: INBOX
    older_than: 30d
    to: Archive/{year}
    max_messages: 3
`
	d := setup(t, a, sched, "", &engine.JobOptions{BatchSize: 2})
	checkSum(t, d.run(t, "arch"), 4, 3, true)
	equal(t, "Archive/2024 after a capped run", a.contents(t, "Archive/2024"), []string{`a-old[\Seen]`, `b-old[\Seen]`, `c-old[\Seen]`})

	// Killed after the first batch of the next run.
	ctx, cancel := context.WithCancel(context.Background())
	d.env.Progress = func(p jobs.Progress) { cancel() }
	_, err := jobs.Run(ctx, d.env, d.jobs["arch"])
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: %v", err)
	}
	got := append(a.contents(t, "INBOX"), a.contents(t, "Archive/2024")...)
	if len(got) != 7 {
		t.Fatalf("after the killed run %d messages: %q", len(got), got)
	}
	if n := len(a.contents(t, "Archive/2024")); n != 5 {
		t.Errorf("killed after one batch of 2: %d archived, want 5", n)
	}
	d.env.Progress = nil
	checkSum(t, d.run(t, "arch"), 2, 2, false)
	equal(t, "INBOX", a.contents(t, "INBOX"), nil)
	if n := len(a.contents(t, "Archive/2024")); n != 7 {
		t.Errorf("%d archived, want 7", n)
	}
}
