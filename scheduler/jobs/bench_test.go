package jobs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/memimap"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// benchRules moves a third of the mail, flags a third, leaves a third.
const benchRules = `  inbox:
    - name: invoices
      when: 'subject contains "invoice"'
      actions: [{move: Finance}]
      stop: true
    - name: boss
      when: 'from.address == "boss@example.com"'
      actions: [{flag: "\\Flagged"}]
`

func benchMessage(i int) msg {
	m := msg{id: fmt.Sprintf("bench-%d@x", i), date: day(2025, 1, 1).Add(time.Duration(i) * time.Minute), pad: 2048}
	switch i % 3 {
	case 0:
		m.subj = fmt.Sprintf("Your invoice %d", i)
	case 1:
		m.from = "Boss <boss@example.com>"
	}
	return m
}

// benchApply runs `apply` (a Sweep through the pipeline, journal on) over
// n messages, on a fresh account from seed each iteration, and reports
// messages/s.
func benchApply(b *testing.B, n int, seed func() *account) {
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		a := seed()
		dir := b.TempDir()
		b.Setenv("MW_BENCH_PASS", a.pass)
		y := fmt.Sprintf("state_dir: %s\naccounts:\n  - name: acct\n    host: %s\n    port: %d\n    tls: none\n    insecure_plaintext: true\n    username: %s\n    password_env: MW_BENCH_PASS\nrulesets:\n%s",
			filepath.Join(dir, "state"), a.host, a.port, a.user, benchRules)
		path := filepath.Join(dir, "c.yaml")
		os.WriteFile(path, []byte(y), 0o600)
		cfg, err := config.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		rt, errs := engine.Compile(cfg, nil)
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		store, err := state.Open(cfg.StateDir, nil)
		if err != nil {
			b.Fatal(err)
		}
		job := &jobs.Sweep{Spec: jobs.Spec{Name: "apply", Accounts: []string{"acct"}, Max: 1 << 30}, Mailbox: "INBOX", Rules: rt.Rulesets["inbox"]}
		env := engine.JobEnv(&engine.JobOptions{Dial: engine.NewDialer(cfg, nil), Store: store})
		b.StartTimer()
		start := time.Now()
		sum, err := jobs.Run(context.Background(), env, job)
		total += time.Since(start)
		b.StopTimer()
		store.Close()
		if err != nil || sum.Scanned != n || sum.Actions[`move "Finance"`] != (n+2)/3 {
			b.Fatalf("scanned %d of %d (%v): %v", sum.Scanned, n, sum.Actions, err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
}

// BenchmarkApply10kMem: apply over 10 000 messages on go-imap's in-memory
// server. Run with: go test -run '^$' -bench Apply10k -benchtime 1x ./scheduler/jobs/
func BenchmarkApply10kMem(b *testing.B) {
	const n = 10000
	benchApply(b, n, func() *account {
		srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"alice": "pw"}, Mailboxes: []string{"Finance"}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Close() })
		for i := range n {
			m := benchMessage(i)
			if _, err := srv.Append("alice", "INBOX", m.raw(), nil, m.date); err != nil {
				b.Fatal(err)
			}
		}
		return &account{host: "127.0.0.1", port: srv.Port(), user: "alice", pass: "pw"}
	})
}

// BenchmarkApply10kDovecot: the same against Dovecot (mail_fsync never),
// seeded over IMAP APPEND (slow; not timed).
func BenchmarkApply10kDovecot(b *testing.B) {
	const n = 10000
	srv := dovecottest.Shared(b)
	benchApply(b, n, func() *account {
		user, pass := srv.NewUser(b)
		a := &account{host: srv.Host, port: srv.Port, user: user, pass: pass}
		c := a.client(b)
		for i := range n {
			m := benchMessage(i)
			if _, err := c.Append(context.Background(), "INBOX", nil, m.date, m.raw()); err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
		return a
	})
}
