package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/watch"
)

// memCheckpoints keeps checkpoints in memory: where a cluster replica's
// fence would keep them (engine/cluster).
type memCheckpoints struct {
	mu  sync.Mutex
	cps map[[2]string]state.Checkpoint
}

func (m *memCheckpoints) Checkpoint(account, mailbox string) (state.Checkpoint, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.cps[[2]string{account, mailbox}]
	return cp, ok, nil
}

func (m *memCheckpoints) SetCheckpoint(account, mailbox string, cp state.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cps[[2]string{account, mailbox}] = cp
	return nil
}

// RunAccount runs one account's watchers, with checkpoints where the
// caller says, and stops exactly that account when its context ends: what
// a cluster replica does as it gains and loses accounts.
func TestRunAccountStartsAndStopsOneAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		b2 := b.other(t)
		s := &setup{accounts: []*backend{b, b2}, watches: [][]string{{"INBOX:inbox"}, {"INBOX:inbox"}}, rulesets: testRules}
		cfg := s.config(t)
		rt, errs := engine.Compile(cfg, nil)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		store, err := state.Open(cfg.StateDir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		reg := observe.New(nil)
		ready := make(chan string, 10)
		events := make(chan engine.Event, 10)
		e := engine.New(rt, store, &engine.Options{Dial: engine.NewDialer(cfg, nil), Registry: reg,
			Backoff: watch.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
			Ready:   func(a, m string) { ready <- a }, Observe: func(ev engine.Event) { events <- ev }})
		cps := &memCheckpoints{cps: map[[2]string]state.Checkpoint{}}
		run := func(account string) (context.CancelFunc, chan error) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- e.RunAccount(ctx, account, &engine.AccountOptions{Checkpoints: cps}) }()
			for {
				select {
				case a := <-ready: // after every catch-up, so earlier ones of others too
					if a == account {
						return cancel, done
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("%s not ready", account)
				}
			}
		}
		stop0, done0 := run("acct0")
		if st := reg.Status(); len(st.Watchers) != 1 || st.Watchers[0].Account != "acct0" {
			t.Fatalf("watchers = %+v, want acct0's only", st.Watchers)
		}
		b.append(t, "INBOX", mail("inv0@x", "billing@shop.example", "Your invoice 1"))
		b2.append(t, "INBOX", mail("inv1@x", "billing@shop.example", "Your invoice 2"))
		select {
		case ev := <-events:
			if ev.Account != "acct0" {
				t.Fatalf("event of %s", ev.Account)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("acct0's mail not processed")
		}
		equal(t, "acct0 Finance", b.contents(t, "Finance"), []string{"inv0@x[]"})
		if _, ok, _ := store.Checkpoint("acct0", "INBOX"); ok {
			t.Error("acct0's checkpoint went to the state file, not to AccountOptions.Checkpoints")
		}
		if cp, ok, _ := cps.Checkpoint("acct0", "INBOX"); !ok || cp.LastUID == 0 {
			t.Errorf("acct0's checkpoint = %+v %v", cp, ok)
		}

		stop0()
		if err := <-done0; err != nil {
			t.Fatal(err)
		}
		if st := reg.Status(); len(st.Watchers) != 0 {
			t.Fatalf("watchers after acct0 stopped = %+v", st.Watchers)
		}
		equal(t, "acct1 INBOX (nobody runs acct1)", b2.contents(t, "INBOX"), []string{"inv1@x[]"})

		// acct1 starts from a checkpoint the previous owner left: the
		// mail that waited is processed.
		c := b2.client(t)
		sess, err := c.Select(context.Background(), "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		_, uv := sess.Selected()
		c.Close()
		cps.SetCheckpoint("acct1", "INBOX", state.Checkpoint{UIDValidity: uv, LastUID: 0})
		stop1, done1 := run("acct1")
		select {
		case ev := <-events:
			if ev.Account != "acct1" || ev.Message.MessageID() != "inv1@x" {
				t.Fatalf("event %s %s", ev.Account, ev.Message.MessageID())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("acct1's waiting mail not processed")
		}
		stop1()
		<-done1
		equal(t, "acct1 Finance", b2.contents(t, "Finance"), []string{"inv1@x[]"})
	})
}
