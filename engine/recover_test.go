package engine_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/faultproxy"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

// copyRules copy every message to Copies and move it to Done.
const copyRules = `
  inbox:
    - name: all
      when: 'true'
      actions: [{copy: Copies}, {move: Done}]
`

// crashAfter leaves the state a daemon killed after sending a copy (or the
// copy of a move) and before recording its answer: a pending intent for
// message id in INBOX to target. made says whether the server did make the
// copy before the crash.
func crashAfter(t *testing.T, b *backend, stateDir, account, id, target string, made bool) {
	t.Helper()
	ctx := context.Background()
	date := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	raw := mail(id, "a@example.net", "hello")
	c := b.client(t)
	for _, box := range []string{"Copies", "Done"} {
		c.Create(ctx, box)
	}
	uid, err := c.Append(ctx, "INBOX", nil, date, raw)
	if err != nil {
		t.Fatal(err)
	}
	if made {
		if _, err := c.Append(ctx, target, nil, date, raw); err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.Status(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	store, err := state.Open(stateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	err = store.Intend(ctx, []actions.Entry{{Account: account, Mailbox: "INBOX", UIDValidity: st.UIDValidity, UID: uid,
		MessageID: id, InternalDate: date, Rule: "all", Op: actions.OpCopy, Target: target}})
	if err != nil {
		t.Fatal(err)
	}
}

// A copy the server made before the daemon was killed, but that the
// journal never recorded, is found in its destination when the daemon
// comes back, and not made again; one the server never made is made.
func TestCopyCutShortByACrashIsMadeOnce(t *testing.T) {
	for _, made := range []bool{true, false} {
		name := "copy-not-made"
		if made {
			name = "copy-made"
		}
		t.Run(name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, b *backend) {
				s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox:all"}}, rulesets: copyRules}
				cfg := s.config(t)
				crashAfter(t, b, cfg.StateDir, cfg.Accounts[0].Name, "m@x", "Copies", made)
				d := s.startWith(t, cfg, nil)
				d.waitEvents(1)
				d.stop()
				equal(t, "Copies", b.contents(t, "Copies"), []string{"m@x[]"})
				equal(t, "Done", b.contents(t, "Done"), []string{"m@x[]"})
				equal(t, "INBOX", b.contents(t, "INBOX"), nil)
				store, err := state.Open(cfg.StateDir, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer store.Close()
				if p, err := store.PendingCopies(cfg.Accounts[0].Name, "INBOX"); err != nil || len(p) != 0 {
					t.Errorf("intents left pending: %+v %v", p, err)
				}
			})
		})
	}
}

// Without MOVE a move is COPY, STORE \Deleted, UID EXPUNGE. Killed after
// the COPY, the daemon comes back, finds the copy, and only removes the
// original: one message in the destination, none in INBOX.
func TestMoveCutShortAfterItsCopyIsFinished(t *testing.T) {
	b := memBackend(t, &memimap.Options{DisableMove: true})
	s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox:all"}}, rulesets: `
  inbox:
    - name: all
      when: 'true'
      actions: [{move: Done}]
`}
	cfg := s.config(t)
	crashAfter(t, b, cfg.StateDir, cfg.Accounts[0].Name, "m@x", "Done", true)
	d := s.startWith(t, cfg, nil)
	d.waitEvents(1)
	d.stop()
	equal(t, "Done", b.contents(t, "Done"), []string{"m@x[]"})
	equal(t, "INBOX", b.contents(t, "INBOX"), nil)
}

// Sieve's imap4flags start from the message's flags, \Recent included on
// a server that still sends it (Dovecot): a fileinto after addflag gives
// the copy explicit flags, and \Recent must not be sent in the STORE
// (RFC 3501 §2.3.2: clients cannot set it; Dovecot answers BAD, and the
// message stayed where it was, unflagged).
func TestSieveFlagsOfACopyLeaveRecentAlone(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		script := t.TempDir() + "/flag.sieve"
		if err := writeFile(script, "require [\"imap4flags\", \"fileinto\"];\naddflag \"\\\\Flagged\";\nfileinto \"Lists\";\n"); err != nil {
			t.Fatal(err)
		}
		c := b.client(t)
		c.Create(context.Background(), "Lists")
		c.Close()
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: "  inbox:\n    - sieve: " + script + "\n"}
		d := s.start(t, nil)
		d.waitReady(1)
		b.append(t, "INBOX", mail("recent@x", "a@example.net", "hello"))
		if ev := d.waitEvents(1)[0]; ev.Err != nil {
			t.Fatalf("not applied: %v", ev.Err)
		}
		equal(t, "Lists", b.contents(t, "Lists"), []string{`recent@x[\Flagged]`})
		equal(t, "INBOX", b.contents(t, "INBOX"), nil)
	})
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// A connection that breaks in the middle of a batch's moves is a reason to
// reconnect and retry, never to stop the watcher: found by the soak, where
// the batch's next UID MOVE after a reset read the closed connection's
// missing capabilities as "server lacks MOVE", a permanent error.
func TestResetBetweenMovesIsRetried(t *testing.T) {
	b := memBackend(t, nil)
	p, err := faultproxy.Start(net.JoinHostPort(b.host, strconv.Itoa(b.port)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	viaProxy := *b
	viaProxy.port = p.Port()
	s := &setup{accounts: []*backend{&viaProxy}, watches: [][]string{{"INBOX:inbox:all"}}, rulesets: `
  inbox:
    - name: a
      when: 'subject contains "a"'
      actions: [{move: A}]
      stop: true
    - name: b
      when: 'subject contains "b"'
      actions: [{move: B}]
`}
	// Four messages already there: the first catch-up is one batch with
	// two destinations, two UID MOVEs.
	c := b.client(t)
	for _, box := range []string{"A", "B"} {
		c.Create(context.Background(), box)
	}
	for _, r := range [][]byte{mail("a1@x", "x@example.net", "a one"), mail("b1@x", "x@example.net", "b one"),
		mail("a2@x", "x@example.net", "a two"), mail("b2@x", "x@example.net", "b two")} {
		if _, err := c.Append(context.Background(), "INBOX", nil, time.Time{}, r); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	// The batch's first UID MOVE loses its connection while the server
	// answers it.
	if err := p.Next(faultproxy.Fault{Kind: faultproxy.Reset, On: "UID MOVE", When: faultproxy.InResponse}); err != nil {
		t.Fatal(err)
	}
	d := s.start(t, nil)
	deadline := time.Now().Add(20 * time.Second)
	for len(b.contents(t, "A")) != 2 || len(b.contents(t, "B")) != 2 {
		select {
		case err := <-d.done:
			t.Fatalf("the engine stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the reset: A %v, B %v, INBOX %v", b.contents(t, "A"), b.contents(t, "B"), b.contents(t, "INBOX"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := p.Stats().ByKind(faultproxy.Reset); n != 1 {
		t.Errorf("%d resets injected, want 1", n)
	}
	equal(t, "INBOX", b.contents(t, "INBOX"), nil)
}
