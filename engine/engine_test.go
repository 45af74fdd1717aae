package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/memimap"
	"github.com/mailwarden/mailwarden/rules"
)

type tWriter struct {
	mu sync.Mutex
	t  testing.TB
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(&tWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// New mail pushed by IDLE is acted on: moved, flagged, left alone. The
// poll interval is an hour, so only IDLE can wake the watcher in time.
func TestPushAppliesRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: testRules}
		d := s.start(t, nil)
		d.waitReady(1)
		b.append(t, "INBOX", mail("inv@x", "billing@shop.example", "Your invoice 42"))
		b.append(t, "INBOX", mail("boss@x", "Boss <boss@example.com>", "Status?"))
		b.append(t, "INBOX", mail("plain@x", "friend@example.net", "Lunch"))
		evs := d.waitEvents(3)
		equal(t, "Finance", b.contents(t, "Finance"), []string{"inv@x[]"})
		equal(t, "INBOX", b.contents(t, "INBOX"), []string{`boss@x[\Flagged vip]`, "plain@x[]"})
		for _, ev := range evs {
			if ev.Err != nil {
				t.Errorf("uid %d: %v", ev.Message.UID, ev.Err)
			}
			if ev.Message.MessageID() == "inv@x" && (len(ev.Plan.Trace) == 0 || ev.Plan.Trace[0].Rule != "invoices") {
				t.Errorf("invoice decided by %+v", ev.Plan.Trace)
			}
		}
	})
}

// Mail that arrives while the daemon is down is processed on restart:
// exactly that mail, none twice, and mail from before the first start not
// at all (start: new).
func TestRestartProcessesExactlyTheMissedMail(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		rs := `
  inbox:
    - name: tally
      when: 'true'
      actions: [{copy: Tally}]
`
		b.append(t, "INBOX", mail("before-first-start@x", "a@example.net", "old"))
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: rs}
		d := s.start(t, nil)
		d.waitReady(1)
		b.append(t, "INBOX", mail("m1@x", "a@example.net", "one"))
		d.waitEvents(1)
		d.stop()

		b.append(t, "INBOX", mail("m2@x", "a@example.net", "two"))
		b.append(t, "INBOX", mail("m3@x", "a@example.net", "three"))
		d = s.start(t, nil)
		evs := d.waitEvents(2)
		d.quiet(300 * time.Millisecond)
		var got []string
		for _, ev := range evs {
			got = append(got, ev.Message.MessageID())
		}
		slices.Sort(got)
		equal(t, "processed after restart", got, []string{"m2@x", "m3@x"})
		equal(t, "Tally (each message copied once)", b.contents(t, "Tally"), []string{"m1@x[]", "m2@x[]", "m3@x[]"})
	})
}

// start: all processes the mail already there on the first start.
func TestStartAllProcessesExistingMail(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		b.append(t, "INBOX", mail("old-inv@x", "billing@shop.example", "Old invoice"))
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox:all"}}, rulesets: testRules}
		d := s.start(t, nil)
		d.waitEvents(1)
		equal(t, "Finance", b.contents(t, "Finance"), []string{"old-inv@x[]"})
	})
}

// Several accounts and several watched mailboxes run in one process, and a
// message moved by a rule set into a mailbox watched with the same rule set
// is not run through it again.
func TestAccountsMailboxesAndNoLoops(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		b2 := b.other(t)
		rs := testRules + `
  loop:
    - name: to-work
      when: 'subject contains "loop"'
      actions: [{copy: Copies}, {move: Work}]
`
		c := b.client(t)
		if err := c.Create(context.Background(), "Work"); err != nil {
			t.Fatal(err)
		}
		c.Close()
		s := &setup{accounts: []*backend{b, b2}, watches: [][]string{{"INBOX:loop", "Work:loop"}, {"INBOX:inbox"}}, rulesets: rs}
		d := s.start(t, nil)
		d.waitReady(3)
		b.append(t, "INBOX", mail("loop@x", "a@example.net", "loop me"))
		b2.append(t, "INBOX", mail("inv2@x", "billing@shop.example", "invoice"))
		evs := d.waitEvents(3) // INBOX of each account, and Work skipping the moved message
		d.quiet(500 * time.Millisecond)
		skipped := 0
		for _, ev := range evs {
			if ev.Skipped != "" {
				skipped++
				if ev.Mailbox != "Work" {
					t.Errorf("skipped in %s: %s", ev.Mailbox, ev.Skipped)
				}
			}
		}
		if skipped != 1 {
			t.Errorf("want the moved message skipped once in Work, got %d skips: %+v", skipped, evs)
		}
		equal(t, "acct0 Copies (once: no loop)", b.contents(t, "Copies"), []string{"loop@x[]"})
		equal(t, "acct0 Work", b.contents(t, "Work"), []string{"loop@x[]"})
		equal(t, "acct0 INBOX", b.contents(t, "INBOX"), nil)
		equal(t, "acct1 Finance", b2.contents(t, "Finance"), []string{"inv2@x[]"})
	})
}

// A dropped connection is noticed, the watcher reconnects with backoff and
// catches up from its checkpoint.
func TestReconnectAfterConnectionLoss(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: testRules}
		d := s.start(t, nil)
		d.waitReady(1)
		b.drop(t)
		b.append(t, "INBOX", mail("after-drop@x", "billing@shop.example", "invoice after drop"))
		d.waitEvents(1)
		equal(t, "Finance", b.contents(t, "Finance"), []string{"after-drop@x[]"})
		// And the daemon keeps working on the new connection.
		b.append(t, "INBOX", mail("later@x", "billing@shop.example", "another invoice"))
		d.waitEvents(1)
		equal(t, "Finance", b.contents(t, "Finance"), []string{"after-drop@x[]", "later@x[]"})
	})
}

// --dry-run logs plans and changes nothing: not the server, not the
// checkpoint, not the journal.
func TestDryRunChangesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox:all"}}, rulesets: testRules}
		b.append(t, "INBOX", mail("inv@x", "billing@shop.example", "invoice"))
		b.append(t, "INBOX", mail("boss@x", "boss@example.com", "hi"))
		d := s.start(t, &engine.Options{DryRun: true})
		evs := d.waitEvents(2)
		for _, ev := range evs {
			if !ev.DryRun || ev.Plan.IsZero() {
				t.Errorf("event %+v: want a dry-run plan", ev)
			}
		}
		d.stop()
		equal(t, "INBOX", b.contents(t, "INBOX"), []string{"boss@x[]", "inv@x[]"})
		equal(t, "Finance", b.contents(t, "Finance"), nil)
		st, err := state.Open(s.stateDir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if cp, ok, _ := st.Checkpoint("acct0", "INBOX"); ok {
			t.Errorf("dry run wrote a checkpoint: %+v", cp)
		}
		n := 0
		st.Journal(time.Time{}, func(actions.Entry) bool { n++; return true })
		if n != 0 {
			t.Errorf("dry run wrote %d journal entries", n)
		}
	})
}

// A message with broken headers, a broken encoded word, a bad address and
// 8-bit junk is still evaluated on what parsed.
func TestMalformedMessageIsStillEvaluated(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		// imapmemserver parses stored mail with go-message and serves an
		// empty BODY[] for a message with a header line without a colon,
		// so only the real server gets that one.
		noColon := "this line has no colon\r\n"
		if b.name == "memimap" {
			noColon = ""
		}
		raw := []byte("From: Boss <boss@example.com>, <<broken@@\r\n" +
			noColon +
			"Subject: =?utf-8?q?broken=ZZ?= invoice \xff\xfe junk\r\n" +
			"Date: yesterday-ish\r\n" +
			"Message-ID: <bad@x>\r\n" +
			"Content-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n--wrong\r\n\xc3\x28\r\n")
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: testRules}
		d := s.start(t, nil)
		d.waitReady(1)
		b.append(t, "INBOX", raw)
		ev := d.waitEvents(1)[0]
		if ev.Err != nil {
			t.Fatalf("evaluation failed: %v", ev.Err)
		}
		equal(t, "Finance", b.contents(t, "Finance"), []string{"bad@x[]"})
	})
}

// A wrong password is a permanent error: the watcher stops and says so
// instead of hammering the server.
func TestBadPasswordStopsWithAClearError(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		bad := *b
		bad.pass = "wrong"
		s := &setup{accounts: []*backend{&bad}, watches: [][]string{{"INBOX:inbox"}}, rulesets: testRules}
		d := s.start(t, nil)
		select {
		case err := <-d.done:
			if err == nil || !imapconn.IsPermanent(err) || strings.Contains(err.Error(), "wrong") {
				t.Fatalf("want a permanent error without the password, got %v", err)
			}
			stopOnce.Store(d, true)
			d.store.Close()
		case <-time.After(20 * time.Second):
			t.Fatal("engine kept running with a bad password")
		}
	})
}

// The messages of one wake-up are fetched with one UID FETCH of headers
// only, and their actions grouped: one UID MOVE per destination, one
// UID STORE per flag set.
func TestBatching(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		c := b.client(t)
		// Existing destinations: this test counts grouping, not TRYCREATE
		// (a first move into a missing mailbox is MOVE, CREATE, MOVE).
		for _, box := range []string{"Finance", "News"} {
			if err := c.Create(context.Background(), box); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 30 {
			subj := "hello"
			switch i % 3 {
			case 0:
				subj = "invoice"
			case 1:
				subj = "newsletter"
			}
			if _, err := c.Append(context.Background(), "INBOX", nil, time.Time{}, mail(strings.Repeat("x", i+1)+"@x", "boss@example.com", subj)); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
		var trace bytes.Buffer
		var mu sync.Mutex
		rs := testRules + `
    - name: news
      when: 'subject == "newsletter"'
      actions: [{move: News}]
`
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox:all"}}, rulesets: rs}
		cfg := s.config(t)
		d := s.startWith(t, cfg, &engine.Options{Dial: func(ctx context.Context, account string) (*imapconn.Client, error) {
			o, err := engine.DialOptions(cfg.Account(account), nil)
			if err != nil {
				return nil, err
			}
			o.DebugWriter = lockedWriter{&mu, &trace}
			return imapconn.Dial(ctx, o)
		}})
		d.waitEvents(30)
		d.stop()
		mu.Lock()
		cmds := commands(trace.String())
		mu.Unlock()
		count := func(prefix string) int {
			n := 0
			for _, c := range cmds {
				if strings.HasPrefix(c, prefix) {
					n++
				}
			}
			return n
		}
		if n := count("UID FETCH"); n != 1 {
			t.Errorf("%d UID FETCH commands for one batch of 30, want 1: %q", n, cmds)
		}
		for _, c := range cmds {
			if strings.Contains(c, "BODY.PEEK[]") {
				t.Errorf("fetched whole messages although no rule reads the body: %s", c)
			}
			if c == "EXPUNGE" {
				t.Errorf("plain EXPUNGE sent")
			}
		}
		if n := count("UID MOVE"); n != 2 {
			t.Errorf("%d UID MOVE commands for 2 destinations, want 2: %q", n, cmds)
		}
		// boss@example.com sent them all: the 10 "hello" ones stay and get flagged.
		if n := count("UID STORE"); n != 1 {
			t.Errorf("%d UID STORE commands for one flag set, want 1: %q", n, cmds)
		}
		if got := len(b.contents(t, "Finance")); got != 10 {
			t.Errorf("Finance has %d, want 10", got)
		}
		if got := len(b.contents(t, "News")); got != 10 {
			t.Errorf("News has %d, want 10", got)
		}
		for _, m := range b.contents(t, "INBOX") {
			if !strings.HasSuffix(m, `[\Flagged vip]`) {
				t.Errorf("INBOX message %s not flagged", m)
			}
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// commands extracts the client's commands (without tags) from a trace.
func commands(trace string) []string {
	var out []string
	for _, line := range strings.Split(trace, "\n") {
		rest, ok := strings.CutPrefix(line, "C: ")
		if !ok {
			continue
		}
		if _, cmd, ok := strings.Cut(rest, " "); ok {
			out = append(out, cmd)
		}
	}
	return out
}

// Without MOVE the daemon copies, flags \Deleted and UID-EXPUNGEs exactly
// the moved messages: another client's \Deleted message survives. Without
// UIDPLUS it never expunges.
func TestSafeMovesWithoutMOVE(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      memimap.Options
		wantInbox []string
	}{
		{"uidplus", memimap.Options{DisableMove: true}, []string{`others-deleted@x[\Deleted]`}},
		{"no-uidplus", memimap.Options{DisableMove: true, DisableUIDPlus: true}, []string{`inv@x[\Deleted]`, `others-deleted@x[\Deleted]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := memBackend(t, &tc.opts)
			b.append(t, "INBOX", mail("others-deleted@x", "a@example.net", "deleted by another client"), rules.FlagDeleted)
			s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: testRules}
			d := s.start(t, nil)
			d.waitReady(1)
			b.append(t, "INBOX", mail("inv@x", "billing@shop.example", "invoice"))
			d.waitEvents(1)
			equal(t, "INBOX", b.contents(t, "INBOX"), tc.wantInbox)
			equal(t, "Finance", b.contents(t, "Finance"), []string{"inv@x[]"})
		})
	}
}

// Without IDLE the watcher polls with NOOP at the watch's poll_interval.
func TestPollsWithoutIdle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: testRules}
		cfg := s.config(t)
		cfg.Accounts[0].Watch[0].PollInterval = 100 * time.Millisecond
		var trace bytes.Buffer
		var mu sync.Mutex
		d := s.startWith(t, cfg, &engine.Options{Dial: func(ctx context.Context, account string) (*imapconn.Client, error) {
			o, err := engine.DialOptions(cfg.Account(account), nil)
			if err != nil {
				return nil, err
			}
			o.NoIdle = true
			o.DebugWriter = lockedWriter{&mu, &trace}
			return imapconn.Dial(ctx, o)
		}})
		d.waitReady(1)
		b.append(t, "INBOX", mail("polled@x", "billing@shop.example", "invoice"))
		d.waitEvents(1)
		equal(t, "Finance", b.contents(t, "Finance"), []string{"polled@x[]"})
		// The catch-up after Ready may find the message before the first
		// poll does: wait for a poll (a few intervals) before stopping.
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			polled := slices.Contains(commands(trace.String()), "NOOP")
			mu.Unlock()
			if polled {
				break
			}
		}
		d.stop()
		mu.Lock()
		defer mu.Unlock()
		cmds := commands(trace.String())
		if slices.Contains(cmds, "IDLE") || !slices.Contains(cmds, "NOOP") {
			t.Errorf("want NOOP polls and no IDLE, got %q", cmds)
		}
	})
}

// No credential reaches a log line, at debug level, whether the login
// works or fails; JSON logs included.
func TestCredentialsNeverLogged(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		for _, pass := range []string{b.pass, "Wr0ng-S3cret-Pa55"} {
			acct := *b
			acct.pass = pass
			var logs bytes.Buffer
			var mu sync.Mutex
			log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := &setup{accounts: []*backend{&acct}, watches: [][]string{{"INBOX:inbox"}}, rulesets: testRules}
			d := s.start(t, &engine.Options{Logger: log})
			if pass == b.pass {
				d.waitReady(1)
				b.append(t, "INBOX", mail("c@x", "boss@example.com", "hi"))
				d.waitEvents(1)
			} else {
				select {
				case <-d.done:
					stopOnce.Store(d, true)
					d.store.Close()
				case <-time.After(20 * time.Second):
					t.Fatal("bad password did not stop the engine")
				}
			}
			d.stop()
			mu.Lock()
			out := logs.String()
			mu.Unlock()
			if strings.Contains(out, pass) {
				t.Errorf("password %q appears in the logs:\n%s", pass, out)
			}
			if !strings.Contains(out, `"level":"`) {
				t.Errorf("no JSON log lines captured: %q", out)
			}
		}
	})
}

// A checkpoint from another UIDVALIDITY is void (RFC 9051 §2.3.1.1): the
// watcher starts over as on a first start instead of trusting old UIDs.
func TestUIDValidityChangeStartsOver(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		b.append(t, "INBOX", mail("existing@x", "billing@shop.example", "invoice from before"))
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: testRules}
		cfg := s.config(t)
		st, err := state.Open(cfg.StateDir, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A checkpoint as if the mailbox had been processed up to UID 0
		// under a different UIDVALIDITY: trusting it would process the
		// existing invoice.
		st.SetCheckpoint("acct0", "INBOX", state.Checkpoint{UIDValidity: 4242424, LastUID: 0})
		st.Close()
		d := s.startWith(t, cfg, nil)
		d.waitReady(1)
		d.quiet(300 * time.Millisecond)
		b.append(t, "INBOX", mail("new@x", "billing@shop.example", "new invoice"))
		d.waitEvents(1)
		equal(t, "Finance", b.contents(t, "Finance"), []string{"new@x[]"})
		equal(t, "INBOX", b.contents(t, "INBOX"), []string{"existing@x[]"})
	})
}

// Sieve's mailboxexists asks the server (RFC 5490 §3.1), through the
// watcher's connection: an existing and a missing mailbox are told apart.
func TestSieveMailboxExistsAsksTheServer(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		c := b.client(t)
		if err := c.Create(context.Background(), "Existing"); err != nil {
			t.Fatal(err)
		}
		c.Close()
		script := filepath.Join(t.TempDir(), "exists.sieve")
		os.WriteFile(script, []byte(`require ["mailbox", "imap4flags"];
if mailboxexists "Existing" { addflag "has-existing"; }
if not mailboxexists "Missing" { addflag "no-missing"; }
`), 0o600)
		s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: "  inbox:\n    - sieve: " + script + "\n"}
		d := s.start(t, nil)
		d.waitReady(1)
		b.append(t, "INBOX", mail("mx@x", "a@example.net", "hello"))
		if ev := d.waitEvents(1)[0]; ev.Err != nil {
			t.Fatal(ev.Err)
		}
		equal(t, "INBOX", b.contents(t, "INBOX"), []string{"mx@x[has-existing no-missing]"})
	})
}
