package jobs_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

var (
	quotaOnce sync.Once
	quotaSrv  *dovecottest.Server
	quotaErr  error
)

// quotaServer is a Dovecot whose users have a 1 MiB quota, shared by the
// quota tests and stopped by TestMain.
func quotaServer(t *testing.T) *dovecottest.Server {
	t.Helper()
	if err := dovecottest.Available(); err != nil {
		dovecottest.Shared(t) // skips (or fails under CI) with the reason
	}
	quotaOnce.Do(func() { quotaSrv, quotaErr = dovecottest.StartServer(&dovecottest.Options{Users: 4, Quota: "1M"}) })
	if quotaErr != nil {
		t.Fatal(quotaErr)
	}
	return quotaSrv
}

func quotaSchedule(high, low string, extra string) string {
	return fmt.Sprintf(`  - name: quota
    cron: "*/30 * * * *"
    accounts: all
    job: quota
    high: %s
    low: %s
    prune:
      - {mailbox: "\\Trash"}
      - {mailbox: "\\Junk"}
      - {mailbox: Archive, older_than: 365d}
%s`, high, low, extra)
}

// The quota job removes the oldest mail (by internal date, not UID) in
// prune order until usage is under low, re-reading the quota as it goes;
// it stops at its cap; warn_only and dry run change nothing.
func TestQuota(t *testing.T) {
	srv := quotaServer(t)
	a := dovecotAccount(t, srv)
	const kb100 = 100 * 1024
	a.seed(t, "Trash", // UID order is not date order
		msg{id: "trash-mar", date: day(2025, 3, 1), pad: kb100},
		msg{id: "trash-jan", date: day(2025, 1, 1), pad: kb100},
		msg{id: "trash-feb", date: day(2025, 2, 1), pad: kb100})
	a.seed(t, "Junk",
		msg{id: "junk-jun", date: day(2025, 6, 1), pad: kb100},
		msg{id: "junk-may", date: day(2025, 5, 1), pad: kb100})
	a.seed(t, "Archive",
		msg{id: "archive-old", date: day(2024, 1, 1), pad: kb100},
		msg{id: "archive-young", date: day(2026, 10, 1), pad: kb100})
	a.seed(t, "INBOX", msg{id: "inbox", date: day(2020, 1, 1), pad: kb100})
	snapshot := func() map[string][]string {
		m := map[string][]string{}
		for _, box := range []string{"Trash", "Junk", "Archive", "INBOX"} {
			m[box] = a.contents(t, box)
		}
		return m
	}
	all := snapshot()
	unchanged := func(what string) {
		t.Helper()
		now := snapshot()
		for box, want := range all {
			equal(t, what+": "+box, now[box], want)
		}
	}

	// About 8 × 100 KiB of 1 MiB: 80 %.
	warn := setup(t, a, quotaSchedule("50%", "45%", "    warn_only: true\n"), "", nil)
	sum := warn.run(t, "quota")
	checkSum(t, sum, 0, 0, false)
	if sum.QuotaLimit != 1024*1024 || sum.QuotaUsed < 800*1024 || sum.QuotaAfter != sum.QuotaUsed {
		t.Errorf("warn_only summary: %+v", sum)
	}
	unchanged("after warn_only")

	dry := setup(t, a, quotaSchedule("50%", "45%", ""), "", &engine.JobOptions{DryRun: true})
	if sum := dry.run(t, "quota"); sum.Acted != 4 || !sum.DryRun {
		t.Errorf("dry run summary: %+v", sum)
	}
	unchanged("after dry run")

	capped := setup(t, a, quotaSchedule("50%", "45%", "    max_messages: 2\n"), "", nil)
	checkSum(t, capped.run(t, "quota"), 2, 2, true)
	equal(t, "Trash after a capped run: the two oldest went", a.contents(t, "Trash"), []string{"trash-mar[]"})
	equal(t, "Junk after a capped run", a.contents(t, "Junk"), []string{"junk-jun[]", "junk-may[]"})

	// 6 × 100 KiB: 60 % ≥ 50 %; down to 45 % takes the last of the Trash
	// and the older Junk message.
	d := setup(t, a, quotaSchedule("50%", "45%", ""), "", nil)
	sum = d.run(t, "quota")
	checkSum(t, sum, 2, 2, false)
	if sum.QuotaAfter > 45*1024*1024/100 || sum.Actions["expunge"] != 2 {
		t.Errorf("summary: %+v", sum)
	}
	equal(t, "Trash", a.contents(t, "Trash"), nil)
	equal(t, "Junk", a.contents(t, "Junk"), []string{"junk-jun[]"})
	equal(t, "Archive", a.contents(t, "Archive"), []string{"archive-old[]", "archive-young[]"})

	// Under high now: nothing to do.
	checkSum(t, d.run(t, "quota"), 0, 0, false)

	// 4 × 100 KiB: 40 % ≥ 35 %; down to 25 % takes the rest of the Junk
	// and then only Archive mail older than a year; INBOX is never pruned.
	d2 := setup(t, a, quotaSchedule("35%", "25%", ""), "", nil)
	checkSum(t, d2.run(t, "quota"), 2, 2, false)
	equal(t, "Junk at the end", a.contents(t, "Junk"), nil)
	equal(t, "Archive at the end", a.contents(t, "Archive"), []string{"archive-young[]"})
	equal(t, "INBOX at the end", a.contents(t, "INBOX"), []string{"inbox[]"})
}

// A prune mailbox that does not exist is skipped with a warning; the next
// one frees the space.
func TestQuotaSkipsMissingPruneMailbox(t *testing.T) {
	a := dovecotAccount(t, quotaServer(t))
	var seed []msg
	for i := range 6 {
		seed = append(seed, msg{id: fmt.Sprintf("t%d", i), date: day(2025, 1, 1+i), pad: 100 * 1024})
	}
	a.seed(t, "Trash", seed...)
	d := setup(t, a, `  - name: q
    cron: "@hourly"
    accounts: all
    job: quota
    high: 50%
    low: 45%
    prune: [{mailbox: Nope}, {mailbox: Trash}]
`, "", nil)
	checkSum(t, d.run(t, "q"), 2, 2, false)
	equal(t, "Trash", a.contents(t, "Trash"), []string{"t2[]", "t3[]", "t4[]", "t5[]"})
}
