package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/watch"
	"github.com/mailwarden/mailwarden/internal/memimap"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// Six watched mailboxes and a job that keeps connecting, on a server whose
// budget is three connections: two watchers IDLE, four poll, the job takes
// turns, every message is processed, and the server never sees more than
// three connections from us at once.
func TestConnectionBudgetUnderLoad(t *testing.T) {
	const users, budget, perUser = 6, 3, 4
	pw := map[string]string{}
	var names []string
	for i := 1; i <= users; i++ {
		names = append(names, fmt.Sprintf("u%d", i))
		pw[names[i-1]] = "unused"
	}
	srv, err := memimap.Start(&memimap.Options{Users: pw, MasterUsers: map[string]string{"admin": "admin-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin.pw"), []byte("admin-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`state_dir: state
accounts:
  - template: team
    users: [%s]
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: admin
    authorize_as: "{user}"
    password_file: admin.pw
    max_connections: %d
    watch:
      - mailbox: INBOX
        ruleset: file
        poll_interval: 50ms
rulesets:
  file:
    - name: all
      when: 'true'
      actions: [{move: Archive}]
schedules:
  - name: tidy
    cron: "@daily"
    accounts: [team]
    job: expire
    mailbox: Trash
    older_than: 3650d
`, joinNames(names), srv.Port(), budget)
	path := filepath.Join(dir, "mailwarden.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rt, errs := engine.Compile(cfg, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	st, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := observe.New(nil)
	dial := engine.NewDialer(cfg, nil)
	var processed atomic.Int32
	e := engine.New(rt, st, &engine.Options{Dial: dial, Registry: reg, Observe: func(ev engine.Event) {
		if ev.Err == nil {
			processed.Add(1)
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// Said so: budget-1 watchers IDLE, the rest poll between connections.
	waitFor(t, "watchers settled", func() bool {
		idle, polled := countStates(reg)
		return idle == budget-1 && polled == users-(budget-1)
	})
	// Load: mail for everyone, and the job run again and again meanwhile.
	var wg sync.WaitGroup
	jobCtx, stopJobs := context.WithCancel(ctx)
	runs := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		env := engine.JobEnv(&engine.JobOptions{Dial: dial, Store: st})
		for jobCtx.Err() == nil {
			if _, err := jobs.Run(jobCtx, env, rt.Schedule("tidy").Job); err != nil && jobCtx.Err() == nil {
				t.Errorf("job: %v", err)
				return
			}
			runs++
		}
	}()
	for i := 0; i < perUser; i++ {
		for _, u := range names {
			raw := fmt.Sprintf("From: a@example.org\r\nMessage-ID: <%d.%s@x>\r\nSubject: m%d\r\n\r\nhi\r\n", i, u, i)
			if _, err := srv.Append(u, "INBOX", []byte(raw), nil, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "every message processed", func() bool { return processed.Load() == users*perUser })
	stopJobs()
	wg.Wait()
	_, peak := srv.Connections()
	t.Logf("%d watchers, budget %d: %d messages processed, %d job runs, at most %d connections at once", users, budget, processed.Load(), runs, peak)
	if peak > budget {
		t.Errorf("the server saw %d connections at once; the budget is %d", peak, budget)
	}
	if runs == 0 {
		t.Error("the job never ran")
	}
}

func joinNames(n []string) string {
	s := ""
	for i, x := range n {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s
}

func countStates(reg *observe.Registry) (idle, polled int) {
	for _, w := range reg.Status().Watchers {
		switch w.State {
		case watch.StateIdle:
			idle++
		case watch.StatePollingOverBudget:
			polled++
		}
	}
	return idle, polled
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
