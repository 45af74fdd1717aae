package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/memimap"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

const expireSchedule = `  - name: empty-trash
    cron: "@daily"
    accounts: all
    job: expire
    mailbox: "\\Trash"
    older_than: 30d
    skip_flagged: false
`

// Expire removes only the old mail of the special-use Trash, for good, and
// leaves every other \Deleted message alone (it never sends a plain
// EXPUNGE); a dry run and a capped run behave.
func TestExpire(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "Trash",
		msg{id: "old1", date: day(2026, 9, 1), flags: []string{`\Seen`}},
		msg{id: "old2", date: day(2025, 1, 1)},
		msg{id: "old-flagged", date: day(2025, 2, 1), flags: []string{`\Flagged`}},
		msg{id: "young", date: now.AddDate(0, 0, -29)},
		msg{id: "young-deleted-by-other", date: now.AddDate(0, 0, -3), flags: []string{`\Deleted`}},
	)
	a.seed(t, "INBOX", msg{id: "inbox-old-deleted-by-other", date: day(2024, 1, 1), flags: []string{`\Deleted`}},
		msg{id: "inbox-old", date: day(2024, 1, 1)})
	trash := a.contents(t, "Trash")

	dry := setup(t, a, expireSchedule, "", &engine.JobOptions{DryRun: true})
	checkSum(t, dry.run(t, "empty-trash"), 3, 3, false)
	equal(t, "Trash after dry run", a.contents(t, "Trash"), trash)

	capped := setup(t, a, expireSchedule+"    max_messages: 1\n", "", nil)
	checkSum(t, capped.run(t, "empty-trash"), 2, 1, true)
	equal(t, "Trash after a capped run", a.contents(t, "Trash"), []string{
		`old-flagged[\Flagged]`, `old2[]`, `young-deleted-by-other[\Deleted]`, `young[]`})

	d := setup(t, a, expireSchedule, "", nil)
	sum := d.run(t, "empty-trash")
	checkSum(t, sum, 2, 2, false)
	if sum.Actions["expunge"] != 2 || sum.Bytes == 0 {
		t.Errorf("summary = %+v", sum)
	}
	equal(t, "Trash", a.contents(t, "Trash"), []string{`young-deleted-by-other[\Deleted]`, `young[]`})
	equal(t, "INBOX", a.contents(t, "INBOX"), []string{`inbox-old-deleted-by-other[\Deleted]`, `inbox-old[]`})
	n := 0
	d.store.Journal(time.Time{}, func(e actions.Entry) bool {
		if e.Op == actions.OpExpunge && e.Mailbox == "Trash" && e.Rule == "empty-trash" {
			n++
		}
		return true
	})
	if n != 2 {
		t.Errorf("%d expunges journaled, want 2", n)
	}

	// skip_flagged defaults to true.
	def := setup(t, a, `  - name: e
    cron: "@daily"
    accounts: all
    job: expire
    mailbox: Trash
    older_than: 30d
`, "", nil)
	checkSum(t, def.run(t, "e"), 0, 0, false)
}

// A run killed between its STORE \Deleted and its UID EXPUNGE leaves the
// messages flagged; the next run removes them, and only them.
func TestExpireFinishesAKilledRun(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "Trash", msg{id: "old", date: day(2025, 1, 1)}, msg{id: "young", date: now.AddDate(0, 0, -1)})
	c := a.client(t)
	sess, err := c.Select(context.Background(), "Trash")
	if err != nil {
		t.Fatal(err)
	}
	uids, _ := sess.SearchUIDs(context.Background(), &imapconn.Criteria{Before: day(2025, 6, 1)})
	if err := sess.Store(context.Background(), uids, actions.StoreAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	d := setup(t, a, expireSchedule, "", nil)
	checkSum(t, d.run(t, "empty-trash"), 1, 1, false)
	equal(t, "Trash", a.contents(t, "Trash"), []string{"young[]"})
}

// memAccount is a user on go-imap's in-memory server, which lacks QUOTA and
// can be told to lack UIDPLUS.
func memAccount(t *testing.T, opts *memimap.Options) (*account, *memimap.Server) {
	if opts == nil {
		opts = &memimap.Options{}
	}
	opts.Users = map[string]string{"alice": "pw"}
	srv, err := memimap.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &account{host: "127.0.0.1", port: srv.Port(), user: "alice", pass: "pw"}, srv
}

// Without UIDPLUS, expire refuses with a clear error and changes nothing
// (a plain EXPUNGE would remove other clients' \Deleted mail).
func TestExpireRefusesWithoutUIDPLUS(t *testing.T) {
	a, srv := memAccount(t, &memimap.Options{DisableUIDPlus: true})
	srv.Append("alice", "Trash", msg{id: "old", date: day(2025, 1, 1)}.raw(), nil, day(2025, 1, 1))
	srv.Append("alice", "Trash", msg{id: "other", date: day(2026, 11, 1)}.raw(), []string{`\Deleted`}, day(2026, 11, 1))
	d := setup(t, a, expireSchedule, "", nil)
	_, err := jobs.Run(context.Background(), d.env, d.jobs["empty-trash"])
	if !errors.Is(err, actions.ErrNoUIDPlus) {
		t.Fatalf("err = %v, want ErrNoUIDPlus", err)
	}
	want := `account "acct": empty-trash: expunge from "Trash": server lacks UIDPLUS (RFC 4315): refusing to expunge, since a plain EXPUNGE would also remove other clients' \Deleted mail`
	if err.Error() != want {
		t.Errorf("error text:\n got  %s\n want %s", err, want)
	}
	equal(t, "Trash", a.contents(t, "Trash"), []string{`old[]`, `other[\Deleted]`})
}

// The quota job needs QUOTA: without it, a clear error.
func TestQuotaWithoutQUOTA(t *testing.T) {
	a, _ := memAccount(t, nil)
	d := setup(t, a, `  - name: q
    cron: "@hourly"
    accounts: all
    job: quota
    high: 90%
    low: 80%
    prune: [{mailbox: Trash}]
`, "", nil)
	_, err := jobs.Run(context.Background(), d.env, d.jobs["q"])
	if !errors.Is(err, jobs.ErrNoQuota) {
		t.Fatalf("err = %v, want ErrNoQuota", err)
	}
	if got := err.Error(); got != `account "acct": quota: server reports no storage quota (QUOTA capability, RFC 9208): getquotaroot "INBOX": server reports no storage quota` {
		t.Errorf("error text: %s", got)
	}
}
