package engine_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/state"
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
