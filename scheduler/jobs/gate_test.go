package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// Env.Gate decides per account whether a run acts on it (a cluster
// replica: only on the accounts it owns, once per tick): a closed gate
// leaves the account untouched, an error is that account's error, an
// open gate runs as without one.
func TestGate(t *testing.T) {
	a := dovecotAccount(t, dovecottest.Shared(t))
	a.seed(t, "Trash", msg{id: "old", date: day(2025, 1, 1)})
	var asked []string
	closed := setup(t, a, expireSchedule, "", &engine.JobOptions{Gate: func(ctx context.Context, job, account string) (bool, error) {
		asked = append(asked, job+"/"+account)
		return false, nil
	}, Ran: func(context.Context, string, string, error) { t.Error("Ran told of an account the gate skipped") }})
	sum := closed.run(t, "empty-trash")
	if sum.Accounts != 0 || sum.Matched != 0 || strings.Join(asked, ",") != "empty-trash/acct" {
		t.Errorf("closed gate: summary %+v, asked %v", sum, asked)
	}
	equal(t, "Trash after a closed gate", a.contents(t, "Trash"), []string{"old[]"})

	failing := setup(t, a, expireSchedule, "", &engine.JobOptions{Gate: func(context.Context, string, string) (bool, error) {
		return false, errors.New("etcd: no leader")
	}})
	if _, err := jobs.Run(context.Background(), failing.env, failing.jobs["empty-trash"]); err == nil || !strings.Contains(err.Error(), `account "acct": etcd: no leader`) {
		t.Errorf("failing gate: err = %v", err)
	}

	var ran []string
	open := setup(t, a, expireSchedule, "", &engine.JobOptions{Gate: func(context.Context, string, string) (bool, error) { return true, nil },
		Ran: func(_ context.Context, job, account string, err error) {
			ran = append(ran, job+"/"+account+"/"+fmt.Sprint(err))
		}})
	checkSum(t, open.run(t, "empty-trash"), 1, 1, false)
	equal(t, "Trash after an open gate", a.contents(t, "Trash"), nil)
	// Ran hears of each admitted account once its run is done (a replica
	// marks the tick done in etcd then); never of a skipped one.
	if strings.Join(ran, ",") != "empty-trash/acct/<nil>" {
		t.Errorf("Ran was told %v, want [empty-trash/acct/<nil>]", ran)
	}
}
