package engine_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/undo"
	"github.com/mailwarden/mailwarden/internal/memimap"
	"github.com/mailwarden/mailwarden/rules"
)

// undoRules move and flag (the invoice rule both), and remove a flag.
const undoRules = `
  inbox:
    - name: invoices
      when: 'subject contains "invoice"'
      actions: [{flag: paid}, {move: Finance}]
      stop: true
    - name: boss
      when: 'from.address == "boss@example.com"'
      actions: [{flag: "\\Flagged"}, {flag: vip}]
    - name: later
      when: 'subject contains "later"'
      actions: [{unflag: "\\Seen"}]
`

// runDaemon starts the daemon on INBOX, delivers msgs, waits until each was
// processed and stops it, leaving the journal behind.
func runDaemon(t *testing.T, s *setup, cfg *config.Config, msgs func()) {
	t.Helper()
	d := s.startWith(t, cfg, nil)
	d.waitReady(1)
	msgs()
	evs := d.waitEvents(countAppends)
	for _, ev := range evs {
		if ev.Err != nil {
			t.Fatalf("daemon: uid %d: %v", ev.Message.UID, ev.Err)
		}
	}
	d.stop()
}

// countAppends is how many messages deliverAll appends.
const countAppends = 4

func deliverAll(t *testing.T, b *backend) func() {
	return func() {
		b.append(t, "INBOX", mail("inv@x", "billing@shop.example", "Your invoice 42"), rules.FlagSeen)
		b.append(t, "INBOX", mail("boss@x", "Boss <boss@example.com>", "Status?"))
		b.append(t, "INBOX", mail("later@x", "friend@example.net", "read this later"), rules.FlagSeen)
		b.append(t, "INBOX", mail("plain@x", "friend@example.net", "Lunch"))
	}
}

// afterRules is the mail as the rules left it.
var afterRules = map[string][]string{
	"INBOX":   {`boss@x[\Flagged vip]`, "later@x[]", "plain@x[]"},
	"Finance": {`inv@x[\Seen paid]`},
}

// original is the mail as delivered.
var original = map[string][]string{
	"INBOX":   {"boss@x[]", `inv@x[\Seen]`, `later@x[\Seen]`, "plain@x[]"},
	"Finance": nil,
}

func checkMail(t *testing.T, b *backend, when string, want map[string][]string) {
	t.Helper()
	for _, box := range []string{"INBOX", "Finance"} {
		equal(t, when+": "+box, b.contents(t, box), want[box])
	}
}

func runUndo(t *testing.T, cfg *config.Config, opts undo.Options) *undo.Report {
	t.Helper()
	st, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if opts.Since.IsZero() {
		opts.Since = time.Now().Add(-time.Hour)
	}
	if testing.Verbose() {
		opts.Logger = testLogger(t)
	}
	opts.Dial = engine.NewDialer(cfg, opts.Logger)
	opts.Accounts = engine.UndoAccounts(cfg)
	rep, err := undo.Run(context.Background(), st, &opts)
	if err != nil {
		t.Fatalf("undo: %v", err)
	}
	for _, r := range rep.Results {
		t.Logf("%s %s uid %d <%s> %s %s (%s): %s: %s", r.Entry.Mailbox, r.Entry.Account, r.Entry.UID, r.Entry.MessageID,
			r.Entry.Op, r.Entry.Target, r.Entry.Rule, r.Outcome, r.Detail)
	}
	return rep
}

// outcomes maps "message-id op target" to the outcome of each result.
func outcomes(rep *undo.Report) map[string]undo.Outcome {
	out := map[string]undo.Outcome{}
	for _, r := range rep.Results {
		out[r.Entry.MessageID+" "+string(r.Entry.Op)+" "+r.Entry.Target] = r.Outcome
	}
	return out
}

// The daemon moves and flags; undo puts every message back in its
// mailbox with its flags, except one the user moved elsewhere meanwhile,
// which is skipped with a reason and left where the user put it. A second
// undo does nothing, and a restarted daemon does not run the rules over the
// restored mail again.
func TestUndoRestoresMovesAndFlags(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: undoRules}
		cfg := s.config(t)
		c := b.client(t)
		for _, box := range []string{"Finance", "Elsewhere"} {
			if err := c.Create(context.Background(), box); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
		d := s.startWith(t, cfg, nil)
		d.waitReady(1)
		deliverAll(t, b)()
		b.append(t, "INBOX", mail("user-moved@x", "billing@shop.example", "another invoice"))
		d.waitEvents(countAppends + 1)
		d.stop()
		// The user files one of the moved invoices elsewhere.
		userMove(t, b, "Finance", "user-moved@x", "Elsewhere")
		checkMail(t, b, "after the rules", afterRules)

		rep := runUndo(t, cfg, undo.Options{})
		checkMail(t, b, "after undo", original)
		equal(t, "Elsewhere (left where the user put it)", b.contents(t, "Elsewhere"), []string{"user-moved@x[paid]"})
		got := outcomes(rep)
		for k, want := range map[string]undo.Outcome{
			"inv@x flag paid":           undo.Done,
			"inv@x move Finance":        undo.Done,
			`boss@x flag \Flagged`:      undo.Done,
			"boss@x flag vip":           undo.Done,
			`later@x unflag \Seen`:      undo.Done,
			"user-moved@x move Finance": undo.Skipped,
		} {
			if got[k] != want {
				t.Errorf("%s: %q, want %q", k, got[k], want)
			}
		}
		for _, r := range rep.Results {
			if r.Entry.MessageID == "user-moved@x" && !strings.Contains(r.Detail, `no longer in "Finance"`) {
				t.Errorf("skip reason: %q", r.Detail)
			}
		}
		if n := len(rep.Results); n != 7 {
			t.Errorf("%d results, want 7 (one per journal entry)", n)
		}
		if rep.Results[0].Seq < rep.Results[len(rep.Results)-1].Seq {
			t.Error("results not newest first")
		}

		// Again: nothing left to do but the skipped message.
		rep = runUndo(t, cfg, undo.Options{})
		if n := rep.Count(undo.Done); n != 0 {
			t.Errorf("second undo reversed %d entries again", n)
		}
		if n := rep.Count(undo.Skipped); n != 2 {
			t.Errorf("second undo: %d skipped, want the 2 entries of the user-moved message", n)
		}
		checkMail(t, b, "after a second undo", original)

		// The restored invoice is not new mail for the daemon.
		d = s.startWith(t, cfg, nil)
		ev := d.waitEvents(1)[0]
		if ev.Message.MessageID() != "inv@x" || ev.Skipped == "" {
			t.Errorf("restarted daemon: %s evaluated (%s), want the restored invoice skipped", ev.Message.MessageID(), ev.Plan.Summary())
		}
		d.quiet(300 * time.Millisecond)
		d.stop()
		checkMail(t, b, "after a restart", original)
	})
}

// userMove moves the message with messageID from one mailbox to another,
// as another mail client would.
func userMove(t *testing.T, b *backend, from, messageID, to string) {
	t.Helper()
	c := b.client(t)
	defer c.Close()
	sess, err := c.Select(context.Background(), from)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sess.FetchNew(context.Background(), 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range msgs {
		if strings.Contains(string(f.Raw), "<"+messageID+">") {
			if _, err := sess.Move(context.Background(), []uint32{f.UID}, to); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("%s not in %s", messageID, from)
}

// A dry run reports what it would do and changes nothing: not the mail,
// not the undo marks (a real undo afterwards still does everything).
func TestUndoDryRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: undoRules}
		cfg := s.config(t)
		runDaemon(t, s, cfg, deliverAll(t, b))
		checkMail(t, b, "after the rules", afterRules)

		rep := runUndo(t, cfg, undo.Options{DryRun: true})
		if !rep.DryRun || rep.Count(undo.Done) != 5 {
			t.Errorf("dry run: %d would be undone, want 5", rep.Count(undo.Done))
		}
		for _, r := range rep.Results {
			if !strings.HasPrefix(r.Detail, "would have ") {
				t.Errorf("dry-run detail %q", r.Detail)
			}
		}
		checkMail(t, b, "after a dry run", afterRules)

		rep = runUndo(t, cfg, undo.Options{})
		if n := rep.Count(undo.Done); n != 5 {
			t.Errorf("real undo after a dry run: %d undone, want 5", n)
		}
		checkMail(t, b, "after undo", original)
	})
}

// --rule undoes only that rule's changes; the rest stay until their turn.
func TestUndoByRule(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: undoRules}
		cfg := s.config(t)
		runDaemon(t, s, cfg, deliverAll(t, b))

		rep := runUndo(t, cfg, undo.Options{Rule: "boss"})
		if n := len(rep.Results); n != 2 || rep.Count(undo.Done) != 2 {
			t.Errorf("--rule boss: %d results, %d undone; want the 2 boss flags", n, rep.Count(undo.Done))
		}
		checkMail(t, b, "after undoing boss", map[string][]string{
			"INBOX":   {"boss@x[]", "later@x[]", "plain@x[]"},
			"Finance": {`inv@x[\Seen paid]`},
		})

		rep = runUndo(t, cfg, undo.Options{Rule: "invoices", Mailbox: "INBOX", Account: "acct0"})
		if n := rep.Count(undo.Done); n != 2 || len(rep.Results) != 2 {
			t.Errorf("--rule invoices: %d undone of %d, want 2 of 2", n, len(rep.Results))
		}
		checkMail(t, b, "after undoing invoices", map[string][]string{
			"INBOX":   {"boss@x[]", `inv@x[\Seen]`, "later@x[]", "plain@x[]"},
			"Finance": nil,
		})

		// Other filters select nothing.
		for _, o := range []undo.Options{{Account: "nobody"}, {Mailbox: "Finance"}, {Rule: "invoice"}, {Since: time.Now().Add(time.Minute)}} {
			if rep := runUndo(t, cfg, o); len(rep.Results) != 0 {
				t.Errorf("%+v selected %d entries", o, len(rep.Results))
			}
		}
		if rep := runUndo(t, cfg, undo.Options{}); rep.Count(undo.Done) != 1 {
			t.Errorf("final undo: %d undone, want later's \\Seen", rep.Count(undo.Done))
		}
		checkMail(t, b, "after undoing the rest", original)
	})
}

// Without a destination UID (no COPYUID) the moved message is found by
// Message-ID: exactly, not as the substring HEADER search matches, and only
// when it is the only one. Expunges and copies are reported, not undone.
func TestUndoWithoutDestUID(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: undoRules}
		cfg := s.config(t)
		c := b.client(t)
		if err := c.Create(context.Background(), "Finance"); err != nil {
			t.Fatal(err)
		}
		c.Close()
		b.append(t, "Finance", mail("solo@x", "a@example.net", "one"), `\Flagged`)
		b.append(t, "Finance", mail("xsolo@x", "a@example.net", "lookalike"))
		b.append(t, "Finance", mail("twin@x", "a@example.net", "twin 1"))
		b.append(t, "Finance", mail("twin@x", "a@example.net", "twin 2"))

		st, err := state.Open(cfg.StateDir, nil)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		uids := map[string]uint32{}
		entry := func(id string, op actions.Op, target string) actions.Entry {
			if uids[id] == 0 {
				uids[id] = uint32(100 + len(uids))
			}
			return actions.Entry{Account: "acct0", Mailbox: "INBOX", UIDValidity: 1, UID: uids[id], MessageID: id,
				Rule: "old", Op: op, Target: target, Time: now}
		}
		// A UID that names another message now (UID 2 of Finance is
		// xsolo@x): a stale journal, a recreated mailbox.
		stale := entry("stale@x", actions.OpMove, "Finance")
		stale.DestUID = 2
		err = st.Record(context.Background(), []actions.Entry{
			entry("solo@x", actions.OpFlag, `\Flagged`),
			entry("solo@x", actions.OpMove, "Finance"),
			entry("twin@x", actions.OpMove, "Finance"),
			entry("kept@x", actions.OpCopy, "Finance"),
			entry("gone@x", actions.OpExpunge, ""),
			stale,
		})
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		rep := runUndo(t, cfg, undo.Options{})
		equal(t, "INBOX", b.contents(t, "INBOX"), []string{"solo@x[]"})
		equal(t, "Finance", b.contents(t, "Finance"), []string{"twin@x[]", "twin@x[]", "xsolo@x[]"})
		for _, r := range rep.Results {
			if r.Entry.MessageID == "stale@x" && !strings.Contains(r.Detail, `UID 2 in "Finance" is another message now (Message-ID <xsolo@x>)`) {
				t.Errorf("stale UID: %q", r.Detail)
			}
		}
		got := outcomes(rep)
		for k, want := range map[string]undo.Outcome{
			"solo@x move Finance":  undo.Done,
			"twin@x move Finance":  undo.Skipped,
			"kept@x copy Finance":  undo.Kept,
			"gone@x expunge ":      undo.Impossible,
			"stale@x move Finance": undo.Skipped,
		} {
			if got[k] != want {
				t.Errorf("%s: %q, want %q", k, got[k], want)
			}
		}
	})
}

// Undo refuses to run without a start time.
func TestUndoNeedsSince(t *testing.T) {
	if _, err := undo.Run(context.Background(), nil, &undo.Options{}); err != undo.ErrNoSince {
		t.Fatalf("got %v, want ErrNoSince", err)
	}
}

// A message the rules of two watched mailboxes moved twice goes straight
// back to where it came from, with the flags of both undone; undoing one
// rule first and the rest later ends in the same place (undo follows its
// own moves).
func TestUndoFollowsAMessageThroughMailboxes(t *testing.T) {
	const rs = `
  inbox:
    - name: to-stage
      when: 'subject contains "chain"'
      actions: [{flag: staged}, {move: Stage}]
  stage:
    - name: to-final
      when: 'subject contains "chain"'
      actions: [{flag: done}, {move: Final}]
`
	for _, partial := range []bool{false, true} {
		t.Run(map[bool]string{false: "all", true: "one-rule-first"}[partial], func(t *testing.T) {
			eachBackend(t, func(t *testing.T, b *backend) {
				c := b.client(t)
				for _, box := range []string{"Stage", "Final"} {
					if err := c.Create(context.Background(), box); err != nil {
						t.Fatal(err)
					}
				}
				c.Close()
				s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox", "Stage:stage"}}, rulesets: rs}
				cfg := s.config(t)
				d := s.startWith(t, cfg, nil)
				d.waitReady(2)
				b.append(t, "INBOX", mail("chain@x", "a@example.net", "chain mail"), rules.FlagSeen)
				d.waitEvents(2)
				d.stop()
				equal(t, "Final", b.contents(t, "Final"), []string{`chain@x[\Seen done staged]`})

				if partial {
					rep := runUndo(t, cfg, undo.Options{Rule: "to-final"})
					if rep.Count(undo.Done) != 2 {
						t.Errorf("--rule to-final: %d undone, want 2", rep.Count(undo.Done))
					}
					equal(t, "Stage after undoing to-final", b.contents(t, "Stage"), []string{`chain@x[\Seen staged]`})
				}
				rep := runUndo(t, cfg, undo.Options{})
				if rep.Count(undo.Skipped)+rep.Count(undo.Failed) != 0 {
					t.Errorf("undo: %d skipped, %d failed", rep.Count(undo.Skipped), rep.Count(undo.Failed))
				}
				equal(t, "INBOX", b.contents(t, "INBOX"), []string{`chain@x[\Seen]`})
				equal(t, "Stage", b.contents(t, "Stage"), nil)
				equal(t, "Final", b.contents(t, "Final"), nil)
			})
		})
	}
}

// Without UIDPLUS: a moved message comes back; without MOVE either, the
// original was only flagged \Deleted after the copy, and undo clears that
// flag (and the rule's) on the original and keeps the copy.
func TestUndoWithoutUIDPLUS(t *testing.T) {
	for _, tc := range []struct {
		name             string
		opts             memimap.Options
		inbox, finance   []string
		done, kept, skip int
	}{
		{"move", memimap.Options{DisableUIDPlus: true}, []string{`inv@x[\Seen]`}, nil, 2, 0, 0},
		{"copy-and-delete", memimap.Options{DisableUIDPlus: true, DisableMove: true}, []string{`inv@x[\Seen]`}, []string{`inv@x[\Seen paid]`}, 2, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := memBackend(t, &tc.opts)
			s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: undoRules}
			cfg := s.config(t)
			d := s.startWith(t, cfg, nil)
			d.waitReady(1)
			b.append(t, "INBOX", mail("inv@x", "billing@shop.example", "Your invoice 42"), rules.FlagSeen)
			d.waitEvents(1)
			d.stop()
			rep := runUndo(t, cfg, undo.Options{})
			equal(t, "INBOX", b.contents(t, "INBOX"), tc.inbox)
			equal(t, "Finance", b.contents(t, "Finance"), tc.finance)
			if rep.Count(undo.Done) != tc.done || rep.Count(undo.Kept) != tc.kept || rep.Count(undo.Skipped) != tc.skip {
				t.Errorf("undone %d kept %d skipped %d; want %d %d %d", rep.Count(undo.Done), rep.Count(undo.Kept),
					rep.Count(undo.Skipped), tc.done, tc.kept, tc.skip)
			}
		})
	}
}

// An account that cannot be reached fails (to be retried) without
// stopping the others; an account no longer in the config is skipped.
func TestUndoUnreachableAccount(t *testing.T) {
	b := memBackend(t, nil)
	s := &setup{accounts: []*backend{b, b.other(t)}, watches: [][]string{{"INBOX:inbox"}, {"INBOX:inbox"}}, rulesets: undoRules}
	cfg := s.config(t)
	b.append(t, "INBOX", mail("ok@x", "a@example.net", "hi"), "vip")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Accounts[1].Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	st, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	sess, err := c.Examine(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	_, uv := sess.Selected()
	c.Close()
	now := time.Now()
	err = st.Record(context.Background(), []actions.Entry{
		{Account: "acct0", Mailbox: "INBOX", UIDValidity: uv, UID: 1, MessageID: "ok@x", Rule: "r", Op: actions.OpFlag, Target: "vip", Time: now},
		{Account: "acct1", Mailbox: "INBOX", UIDValidity: 1, UID: 1, MessageID: "down@x", Rule: "r", Op: actions.OpFlag, Target: "vip", Time: now},
		{Account: "ghost", Mailbox: "INBOX", UIDValidity: 1, UID: 1, MessageID: "ghost@x", Rule: "r", Op: actions.OpFlag, Target: "vip", Time: now},
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	rep := runUndo(t, cfg, undo.Options{})
	got := outcomes(rep)
	for k, want := range map[string]undo.Outcome{
		"ok@x flag vip":    undo.Done,
		"down@x flag vip":  undo.Failed,
		"ghost@x flag vip": undo.Skipped,
	} {
		if got[k] != want {
			t.Errorf("%s: %q, want %q", k, got[k], want)
		}
	}
	equal(t, "INBOX", b.contents(t, "INBOX"), []string{"ok@x[]"})
}

// After undo moved a message back, a NEW message with the same Message-ID
// (a re-sent invoice, a list message delivered twice) is filed like any
// other: loop protection recognises the exact message the daemon placed
// (mailbox, UIDVALIDITY, UID), never a Message-ID alone. The restored one
// is still left alone.
func TestUndoneMessageIDDoesNotShieldANewMessage(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: undoRules}
		cfg := s.config(t)
		d := s.startWith(t, cfg, nil)
		d.waitReady(1)
		b.append(t, "INBOX", mail("inv@x", "billing@shop.example", "Your invoice 42"))
		d.waitEvents(1)
		d.stop()
		equal(t, "Finance after the rules", b.contents(t, "Finance"), []string{"inv@x[paid]"})

		runUndo(t, cfg, undo.Options{})
		equal(t, "INBOX after undo", b.contents(t, "INBOX"), []string{"inv@x[]"})

		d = s.startWith(t, cfg, nil)
		d.waitReady(1)
		// The restored invoice is not evaluated again.
		if ev := d.waitEvents(1)[0]; ev.Skipped == "" {
			t.Fatalf("restored invoice evaluated again: %s", ev.Plan.Summary())
		}
		// The invoice is sent again: same Message-ID, new message.
		b.append(t, "INBOX", mail("inv@x", "billing@shop.example", "Your invoice 42 (again)"))
		ev := d.waitEvents(1)[0]
		if ev.Skipped != "" {
			t.Fatalf("the re-sent invoice was skipped: %s", ev.Skipped)
		}
		d.stop()
		equal(t, "Finance", b.contents(t, "Finance"), []string{"inv@x[paid]"})
		equal(t, "INBOX", b.contents(t, "INBOX"), []string{"inv@x[]"})
	})
}
