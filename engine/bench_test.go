package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

// benchBackends are the servers benchmarks run against; Dovecot only when
// installed.
func benchBackends(b *testing.B) map[string]func(b *testing.B) *backend {
	out := map[string]func(b *testing.B) *backend{
		"memimap": func(b *testing.B) *backend {
			srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"alice": "pw-alice"}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { srv.Close() })
			return &backend{name: "memimap", host: "127.0.0.1", port: srv.Port(), tls: "none", user: "alice", pass: "pw-alice"}
		},
	}
	if dovecottest.Available() == nil {
		out["dovecot"] = func(b *testing.B) *backend {
			srv := dovecottest.Shared(b)
			user, pass := srv.NewUser(b)
			return &backend{name: "dovecot", host: srv.Host, port: srv.Port, tls: "none", user: user, pass: pass}
		}
	}
	return out
}

// BenchmarkBatchPipeline measures one watcher wake-up over 1000 new
// messages: one UID FETCH of headers, parse, evaluate the test rules, and
// apply (one UID STORE for the flagged third, one UID MOVE per
// destination). Reported as messages/s; seeding is not timed.
func BenchmarkBatchPipeline(b *testing.B) {
	const n = 1000
	for name, mk := range benchBackends(b) {
		b.Run(name, func(b *testing.B) {
			be := mk(b)
			cfg := benchConfig(b)
			rt, errs := engine.Compile(cfg, nil)
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			c := be.client(b)
			ctx := context.Background()
			for _, box := range []string{"Finance", "News"} {
				c.Create(ctx, box)
			}
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for j := range n {
					subj := []string{"invoice", "newsletter", "hello"}[j%3]
					if _, err := c.Append(ctx, "INBOX", nil, time.Time{}, mail(fmt.Sprintf("%d.%d@x", i, j), "boss@example.com", subj)); err != nil {
						b.Fatal(err)
					}
				}
				sess, err := c.Select(ctx, "INBOX")
				if err != nil {
					b.Fatal(err)
				}
				p := &engine.Pipeline{Account: "a", Mailbox: "INBOX", RulesetName: "inbox", Rules: rt.Rulesets["inbox"], Exec: actions.New(nil)}
				b.StartTimer()
				start := time.Now()
				batch, err := sess.SearchUIDs(ctx, &imapconn.Criteria{UIDFrom: 1})
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Handle(ctx, sess, batch); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				b.StopTimer()
				// Clear the flagged third for the next round.
				uids, _ := sess.SearchUIDs(ctx, nil)
				if len(uids) > 0 {
					sess.Store(ctx, uids, actions.StoreAdd, []string{`\Deleted`})
					sess.UIDExpunge(ctx, uids)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkPushLatency measures the time from another client's APPEND to
// the daemon having moved the message (IDLE wake-up, fetch, evaluate,
// UID MOVE). Dovecot delays IDLE notifications by about 0.5 s by itself.
func BenchmarkPushLatency(b *testing.B) {
	for name, mk := range benchBackends(b) {
		b.Run(name, func(b *testing.B) {
			be := mk(b)
			s := &setup{accounts: []*backend{be}, watches: [][]string{{"INBOX:inbox"}}, rulesets: testRules}
			cfg := s.config(b)
			d := s.startWith(b, cfg, nil)
			defer d.stop()
			d.waitReady(1)
			c := be.client(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Append(context.Background(), "INBOX", nil, time.Time{}, mail(fmt.Sprintf("lat%d@x", i), "billing@shop.example", "invoice")); err != nil {
					b.Fatal(err)
				}
				d.waitEvents(1)
			}
		})
	}
}

func benchConfig(b *testing.B) *config.Config {
	s := &setup{accounts: []*backend{{host: "127.0.0.1", port: 1, tls: "none", user: "u", pass: "p"}}, watches: [][]string{{"INBOX:inbox"}},
		rulesets: testRules + `
    - name: news
      when: 'subject == "newsletter"'
      actions: [{move: News}]
`}
	return s.config(b)
}
