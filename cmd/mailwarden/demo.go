package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/examples"
	"github.com/mailwarden/mailwarden/internal/memimap"
	"github.com/mailwarden/mailwarden/rules"
)

// demoUser is the account examples/mailwarden.yaml logs in as.
const demoUser, demoPass = "user1", "pass"

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("demo", flag.ContinueOnError)
	fset.SetOutput(stderr)
	live := fset.Int("live", 4, "how many of the example messages arrive while the daemon runs (the rest are there before it starts)")
	verbose := fset.Bool("v", false, "show the daemon's log (info level) on stderr")
	timeout := fset.Duration("timeout", time.Minute, "give up if the demo has not finished by then")
	fset.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mailwarden demo [-live N] [-v]

Starts an in-memory IMAP server on 127.0.0.1, seeds it with the example
messages, runs the daemon with examples/mailwarden.yaml against it, delivers
a few more messages while it runs, prints what the rules did to each, and
exits. Nothing leaves this machine; nothing is kept.`)
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return exitUsage
	}
	if err := demo(*live, *verbose, *timeout, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "mailwarden demo:", err)
		return exitFail
	}
	return exitOK
}

func demo(live int, verbose bool, timeout time.Duration, out, errw io.Writer) error {
	dir, err := os.MkdirTemp("", "mailwarden-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, examples.FS); err != nil {
		return fmt.Errorf("unpack examples: %w", err)
	}
	msgs, err := demoMessages()
	if err != nil {
		return err
	}
	live = min(max(live, 0), len(msgs))

	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(errw, &slog.HandlerOptions{Level: level}))
	srv, err := memimap.Start(&memimap.Options{Users: map[string]string{demoUser: demoPass}, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()

	l, errs := loadAll(filepath.Join(dir, "mailwarden.yaml"), nil)
	if len(errs) > 0 {
		printErrors(errw, errs)
		return fmt.Errorf("the example config does not load")
	}
	// The example config describes this demo's server; only its port is
	// not known in advance.
	l.cfg.StateDir = filepath.Join(dir, "state")
	for i := range l.cfg.Accounts {
		l.cfg.Accounts[i].Port = srv.Port()
	}

	seed := msgs[:len(msgs)-live]
	for _, m := range seed {
		if _, err := srv.Append(demoUser, "INBOX", m.raw, nil, time.Time{}); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "mailwarden demo\n  IMAP server : in-memory, %s (user %s, password %s)\n  rules       : examples/mailwarden.yaml (rule set %q)\n  mail        : %d example messages in INBOX now, %d more arriving while the daemon runs\n\n",
		srv.Addr(), demoUser, demoPass, l.cfg.Accounts[0].Watch[0].Ruleset, len(seed), live)

	store, err := state.Open(l.cfg.StateDir, nil)
	if err != nil {
		return err
	}
	defer store.Close()

	var (
		mu        sync.Mutex
		processed int
		boxes     = map[string]bool{"INBOX": true}
	)
	done := make(chan struct{})
	ready := make(chan struct{}, 1)
	observe := func(ev engine.Event) {
		mu.Lock()
		defer mu.Unlock()
		printDecision(out, ev)
		for _, d := range ev.Plan.Deliveries {
			boxes[d.Mailbox] = true
		}
		processed++
		if processed == len(msgs) {
			close(done)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := engine.New(l.rt, store, &engine.Options{
		Logger: log, Observe: observe, Dial: engine.NewDialer(l.cfg, log),
		Ready: func(string, string) {
			select {
			case ready <- struct{}{}:
			default:
			}
		},
	})
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(ctx) }()

	sigCtx, stopSignals := signalContext(log)
	defer stopSignals()
	deadline := time.After(timeout)
	wait := func(ch <-chan struct{}) error {
		select {
		case <-ch:
			return nil
		case err := <-runErr:
			return fmt.Errorf("daemon stopped: %v", err)
		case <-sigCtx.Done():
			return fmt.Errorf("interrupted")
		case <-deadline:
			return fmt.Errorf("timed out after %v", timeout)
		}
	}
	if err := wait(ready); err != nil {
		return err
	}
	if live > 0 {
		fmt.Fprintf(out, "\n-- the daemon is now idling (IMAP IDLE); new mail arrives --\n\n")
	}
	for _, m := range msgs[len(msgs)-live:] {
		time.Sleep(400 * time.Millisecond)
		if _, err := srv.Append(demoUser, "INBOX", m.raw, nil, time.Time{}); err != nil {
			return err
		}
		mu.Lock()
		fmt.Fprintf(out, "  >> new mail delivered: %q\n", m.subject)
		mu.Unlock()
	}
	if err := wait(done); err != nil {
		return err
	}
	cancel()
	if err := <-runErr; err != nil {
		return err
	}
	return printMailboxes(out, srv.Addr(), boxes)
}

type demoMessage struct {
	name, subject string
	raw           []byte
}

func demoMessages() ([]demoMessage, error) {
	var out []demoMessage
	err := fs.WalkDir(examples.FS, "messages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".eml") {
			return err
		}
		if strings.Contains(p, "malformed") {
			// go-imap's in-memory server cannot serve a message whose
			// header it fails to parse (it returns an empty BODY[]);
			// the daemon's handling of such mail is shown against
			// Dovecot in engine's tests.
			return nil
		}
		raw, err := examples.FS.ReadFile(p)
		if err != nil {
			return err
		}
		m := message.Parse(raw, message.Meta{})
		out = append(out, demoMessage{name: p, subject: m.Subject(), raw: raw})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, err
}

// printDecision prints what happened to one message: its subject and
// sender, then each rule's decision, or why nothing happened.
func printDecision(w io.Writer, ev engine.Event) {
	m := ev.Message
	from := "-"
	if a := m.Addresses("From"); len(a) > 0 {
		from = a[0].Address
	}
	fmt.Fprintf(w, "  %s #%d  %q  <%s>\n", ev.Mailbox, m.UID, trim(m.Subject(), 60), from)
	switch {
	case ev.Skipped != "":
		fmt.Fprintf(w, "      skipped: %s\n", ev.Skipped)
	case ev.Err != nil && ev.Plan.IsZero():
		fmt.Fprintf(w, "      kept (rule error: %v)\n", ev.Err)
	case len(ev.Plan.Trace) == 0:
		fmt.Fprintf(w, "      no rule matched: stays in %s\n", ev.Mailbox)
	default:
		for _, s := range ev.Plan.Trace {
			fmt.Fprintf(w, "      %-28s -> %s\n", s.Rule, s.Action)
		}
		if ev.Err != nil {
			fmt.Fprintf(w, "      NOT APPLIED: %v\n", ev.Err)
		}
	}
}

// printMailboxes shows what each mailbox holds after the run, read back
// from the server over IMAP.
func printMailboxes(w io.Writer, addr string, boxes map[string]bool) error {
	host, port, _ := strings.Cut(addr, ":")
	var p int
	fmt.Sscan(port, &p)
	ctx := context.Background()
	c, err := imapconn.Dial(ctx, &imapconn.Options{Host: host, Port: p, TLS: imapconn.TLSNone, InsecurePlaintext: true,
		Username: demoUser, Auth: imapconn.Password{Password: func(context.Context) (string, error) { return demoPass, nil }}})
	if err != nil {
		return err
	}
	defer c.Close()
	names := make([]string, 0, len(boxes))
	for b := range boxes {
		if rules.IsSpecialUse(b) {
			// The in-memory server has no special-use attributes: the
			// executor used the conventional name.
			b = strings.TrimPrefix(b, `\`)
		}
		if !slices.Contains(names, b) {
			names = append(names, b)
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i] == "INBOX" || names[j] != "INBOX" && names[i] < names[j] })
	fmt.Fprintf(w, "\nMailboxes on the server afterwards:\n")
	for _, name := range names {
		sess, err := c.Examine(ctx, name)
		if err != nil {
			continue
		}
		msgs, err := sess.FetchNew(ctx, 0, 0, false)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s (%d)\n", name, len(msgs))
		for _, f := range msgs {
			m := message.Parse(f.Raw, message.Meta{HeaderOnly: true})
			// Sorted: servers return flags in no particular order.
			sorted := slices.Clone(f.Flags)
			slices.Sort(sorted)
			flags := strings.Join(sorted, " ")
			if flags == "" {
				flags = "-"
			}
			fmt.Fprintf(w, "      %-28s %s\n", trim(flags, 28), trim(m.Subject(), 60))
		}
	}
	fmt.Fprintln(w, "\nTry your own rules: edit examples/mailwarden.yaml, then\n  mailwarden test -c examples/mailwarden.yaml --ruleset inbox examples/messages/*.eml")
	return nil
}

func trim(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
