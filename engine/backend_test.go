package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/watch"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dovecottest.StopShared()
	os.Exit(code)
}

// backend is one IMAP server account the tests run the daemon against.
type backend struct {
	name       string
	host       string
	port       int
	tls        string // config value: none | implicit
	caFile     string
	user, pass string
	drop       func(t testing.TB) // close the daemon's connections server-side
}

// eachBackend runs fn against go-imap's in-memory server and a real Dovecot.
func eachBackend(t *testing.T, fn func(t *testing.T, b *backend)) {
	t.Run("memimap", func(t *testing.T) { fn(t, memBackend(t, nil)) })
	t.Run("dovecot", func(t *testing.T) { fn(t, dovecotBackend(t)) })
}

func memBackend(t testing.TB, opts *memimap.Options) *backend {
	t.Helper()
	if opts == nil {
		opts = &memimap.Options{}
	}
	opts.Users = map[string]string{"alice": "pw-alice", "bob": "pw-bob"}
	srv, err := memimap.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &backend{name: "memimap", host: "127.0.0.1", port: srv.Port(), tls: "none", user: "alice", pass: "pw-alice",
		drop: func(t testing.TB) {
			if n := srv.DropConnections(); n == 0 {
				t.Fatal("no connection to drop")
			}
		}}
}

func dovecotBackend(t testing.TB) *backend {
	t.Helper()
	srv := dovecottest.Shared(t)
	user, pass := srv.NewUser(t)
	return &backend{name: "dovecot", host: srv.Host, port: srv.TLSPort, tls: "implicit",
		caFile: filepath.Join(srv.Dir, "etc", "cert.pem"), user: user, pass: pass,
		drop: func(t testing.TB) { srv.KillConnections(t, user) }}
}

// other returns a second account on the same server (memimap only has bob;
// Dovecot hands out a fresh user).
func (b *backend) other(t testing.TB) *backend {
	o := *b
	if b.name == "memimap" {
		o.user, o.pass = "bob", "pw-bob"
	} else {
		o.user, o.pass = dovecottest.Shared(t).NewUser(t)
	}
	return &o
}

// client opens a second connection, as another mail client would.
func (b *backend) client(t testing.TB) *imapconn.Client {
	t.Helper()
	o := &imapconn.Options{Host: b.host, Port: b.port, Username: b.user,
		Auth: imapconn.Password{Password: func(context.Context) (string, error) { return b.pass, nil }}}
	if b.tls == "none" {
		o.TLS, o.InsecurePlaintext = imapconn.TLSNone, true
	} else {
		a := &config.Account{Name: "t", TLSCAFile: b.caFile}
		do, err := engine.DialOptions(a, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.RootCAs = do.RootCAs
	}
	c, err := imapconn.Dial(context.Background(), o)
	if err != nil {
		t.Fatalf("%s: dial: %v", b.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (b *backend) append(t testing.TB, mailbox string, raw []byte, flags ...string) {
	t.Helper()
	c := b.client(t)
	if _, err := c.Append(context.Background(), mailbox, flags, time.Time{}, raw); err != nil {
		t.Fatalf("append to %s: %v", mailbox, err)
	}
	c.Close()
}

// contents lists "message-id[flags]" of mailbox, sorted; nil when the
// mailbox does not exist or is empty.
func (b *backend) contents(t testing.TB, mailbox string) []string {
	t.Helper()
	c := b.client(t)
	defer c.Close()
	sess, err := c.Examine(context.Background(), mailbox)
	if err != nil {
		if strings.Contains(err.Error(), "exist") || strings.Contains(err.Error(), "NONEXISTENT") || strings.Contains(err.Error(), "No such") {
			return nil
		}
		t.Fatalf("examine %s: %v", mailbox, err)
	}
	msgs, err := sess.FetchNew(context.Background(), 0, 0, false)
	if err != nil {
		t.Fatalf("fetch %s: %v", mailbox, err)
	}
	var out []string
	for _, f := range msgs {
		m := message.Parse(f.Raw, message.Meta{HeaderOnly: true})
		flags := slices.DeleteFunc(slices.Clone(f.Flags), func(s string) bool { return s == `\Recent` })
		slices.Sort(flags)
		out = append(out, fmt.Sprintf("%s[%s]", m.MessageID(), strings.Join(flags, " ")))
	}
	slices.Sort(out)
	return out
}

// mail builds a small RFC 5322 message.
func mail(id, from, subject string, extra ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: alice@example.org\r\nSubject: %s\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s>\r\n", from, subject, id)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n")
	return b.Bytes()
}

// setup describes a daemon under test.
type setup struct {
	accounts []*backend
	watches  [][]string // per account: "mailbox:ruleset[:all]"
	rulesets string     // YAML of the rulesets: section
	stateDir string     // default: a fresh temp dir
}

const testRules = `
  inbox:
    - name: invoices
      when: 'subject contains "invoice"'
      actions: [{move: Finance}]
      stop: true
    - name: boss
      when: 'from.address == "boss@example.com"'
      actions: [{flag: "\\Flagged"}, {flag: vip}]
`

func (s *setup) config(t testing.TB) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if s.stateDir == "" {
		s.stateDir = filepath.Join(dir, "state")
	}
	var y strings.Builder
	fmt.Fprintf(&y, "state_dir: %s\naccounts:\n", s.stateDir)
	for i, b := range s.accounts {
		fmt.Fprintf(&y, "  - name: %s\n    host: %s\n    port: %d\n    tls: %s\n    username: %s\n    password_env: MW_TEST_PASS_%d\n",
			fmt.Sprintf("acct%d", i), b.host, b.port, b.tls, b.user, i)
		t.Setenv(fmt.Sprintf("MW_TEST_PASS_%d", i), b.pass)
		if b.tls == "none" {
			y.WriteString("    insecure_plaintext: true\n")
		}
		if b.caFile != "" {
			fmt.Fprintf(&y, "    tls_ca_file: %s\n", b.caFile)
		}
		y.WriteString("    watch:\n")
		for _, w := range s.watches[i] {
			parts := strings.Split(w, ":")
			fmt.Fprintf(&y, "      - mailbox: %s\n        ruleset: %s\n        poll_interval: 1h\n", parts[0], parts[1])
			if len(parts) > 2 {
				fmt.Fprintf(&y, "        start: %s\n", parts[2])
			}
		}
	}
	y.WriteString("rulesets:\n" + s.rulesets)
	path := filepath.Join(dir, "mailwarden.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", y.String(), err)
	}
	return cfg
}

// daemon is a running engine and what it reported.
type daemon struct {
	t      testing.TB
	cancel context.CancelFunc
	done   chan error
	events chan engine.Event
	ready  chan string
	store  *state.Store
}

func (s *setup) start(t testing.TB, opts *engine.Options) *daemon {
	t.Helper()
	return s.startWith(t, s.config(t), opts)
}

func (s *setup) startWith(t testing.TB, cfg *config.Config, opts *engine.Options) *daemon {
	t.Helper()
	rt, errs := engine.Compile(cfg, nil)
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	store, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, done: make(chan error, 1), events: make(chan engine.Event, 1000), ready: make(chan string, 1000), store: store}
	if opts == nil {
		opts = &engine.Options{}
	}
	opts.Observe = func(ev engine.Event) { d.events <- ev }
	opts.Ready = func(a, m string) { d.ready <- a + "/" + m }
	if opts.Backoff.Min == 0 {
		opts.Backoff = watch.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond}
	}
	// -v shows the daemon's log in the test output, unless the test reads
	// the log itself (TestCredentialsNeverLogged): its logger stays.
	if testing.Verbose() && opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	if opts.Dial == nil {
		opts.Dial = engine.NewDialer(cfg, opts.Logger)
	}
	e := engine.New(rt, store, opts)
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() { d.done <- e.Run(ctx) }()
	t.Cleanup(d.stop)
	return d
}

// waitReady waits until each of the n watchers caught up once.
func (d *daemon) waitReady(n int) {
	d.t.Helper()
	seen := map[string]bool{}
	deadline := time.After(20 * time.Second)
	for len(seen) < n {
		select {
		case w := <-d.ready:
			seen[w] = true
		case err := <-d.done:
			d.t.Fatalf("engine stopped before ready: %v", err)
		case <-deadline:
			d.t.Fatalf("only %d of %d watchers ready", len(seen), n)
		}
	}
}

// waitEvents waits for n processed messages.
func (d *daemon) waitEvents(n int) []engine.Event {
	d.t.Helper()
	var evs []engine.Event
	deadline := time.After(20 * time.Second)
	for len(evs) < n {
		select {
		case ev := <-d.events:
			evs = append(evs, ev)
		case err := <-d.done:
			d.t.Fatalf("engine stopped after %d of %d events: %v", len(evs), n, err)
		case <-deadline:
			d.t.Fatalf("got %d of %d events", len(evs), n)
		}
	}
	return evs
}

// quiet asserts that no further message is processed for a while.
func (d *daemon) quiet(dur time.Duration) {
	d.t.Helper()
	select {
	case ev := <-d.events:
		d.t.Fatalf("unexpected event: uid %d in %s: %s (%s)", ev.Message.UID, ev.Mailbox, ev.Plan.Summary(), ev.Skipped)
	case <-time.After(dur):
	}
}

var stopOnce sync.Map

func (d *daemon) stop() {
	if _, done := stopOnce.LoadOrStore(d, true); done {
		return
	}
	d.cancel()
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		d.t.Error("engine did not stop within 15s")
	}
	d.store.Close()
}
