package engine_test

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/state"
)

// smtpServer is go-smtp's server on 127.0.0.1, recording what it gets.
type smtpServer struct {
	port int
	mu   sync.Mutex
	got  []smtpMail
	// drop, when set, makes the server close the connection after
	// reading a message, before answering: the client cannot know.
	drop bool
	// user and pass, when set, are required (AUTH PLAIN).
	user, pass string
}

type smtpMail struct {
	from string
	to   []string
	data string
}

func startSMTP(t testing.TB) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &smtpSession{s: s, c: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) mails() []smtpMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.got...)
}

type smtpSession struct {
	s      *smtpServer
	c      *gosmtp.Conn
	authed bool
	m      smtpMail
}

func (x *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.user || pass != x.s.pass {
			return gosmtp.ErrAuthFailed
		}
		x.authed = true
		return nil
	}), nil
}
func (x *smtpSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if x.s.user != "" && !x.authed {
		return gosmtp.ErrAuthRequired
	}
	x.m = smtpMail{from: from}
	return nil
}
func (x *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	x.m.to = append(x.m.to, to)
	return nil
}
func (x *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.m.data = string(b)
	x.s.mu.Lock()
	drop := x.s.drop
	x.s.got = append(x.s.got, x.m)
	x.s.mu.Unlock()
	if drop {
		x.c.Conn().Close()
	}
	return nil
}
func (x *smtpSession) Reset()        {}
func (x *smtpSession) Logout() error { return nil }

const sendScript = `require ["vacation", "copy"];
if header :contains "subject" "forward" { redirect "carol@example.net"; }
if header :contains "subject" "copy" { redirect :copy "dave@example.net"; }
vacation :days 3 :subject "Away" "I am away until Monday.";
`

// withSMTP is a setup whose config has an smtp: section for srv and a
// Sieve step running script.
func withSMTP(t *testing.T, b *backend, srv *smtpServer, script, stateDir string) (*setup, *config.Config) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "send.sieve")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox"}}, rulesets: "  inbox:\n    - sieve: " + path + "\n", stateDir: stateDir}
	cfg := s.config(t)
	cfg.SMTP = &config.SMTP{Host: "127.0.0.1", Port: srv.port, TLS: config.TLSNone, InsecurePlaintext: true, From: "Alice <alice@example.org>"}
	if srv.user != "" {
		t.Setenv("MW_TEST_SMTP_PASS", srv.pass)
		cfg.SMTP.Username, cfg.SMTP.PasswordEnv = srv.user, "MW_TEST_SMTP_PASS"
	}
	return s, cfg
}

// Sieve's redirect and vacation go out through the smtp: account, each at
// most once: a restart, or the same message arriving again, sends
// nothing twice; vacation's :days holds per sender.
func TestRedirectAndVacationAreSentOnce(t *testing.T) {
	b := memBackend(t, nil)
	srv := startSMTP(t)
	srv.user, srv.pass = "alice", "smtp-secret"
	stateDir := filepath.Join(t.TempDir(), "state")
	s, cfg := withSMTP(t, b, srv, sendScript, stateDir)
	d := s.startWith(t, cfg, &engine.Options{Sender: engine.NewSender(cfg, nil)})
	d.waitReady(1)

	fwd := mail("fwd@x", "Xavier <x@example.net>", "please forward", "Return-Path: <x@example.net>")
	b.append(t, "INBOX", fwd)
	if ev := d.waitEvents(1)[0]; ev.Err != nil {
		t.Fatal(ev.Err)
	}
	got := srv.mails()
	if len(got) != 2 {
		t.Fatalf("sent %d messages, want a redirect and a vacation reply: %+v", len(got), got)
	}
	redirect, reply := got[0], got[1]
	if redirect.from != "alice@example.org" || strings.Join(redirect.to, ",") != "carol@example.net" ||
		!strings.HasPrefix(redirect.data, "X-Mailwarden-Redirected: <carol@example.net>\r\n") ||
		!strings.Contains(redirect.data, "Message-ID: <fwd@x>") || !strings.Contains(redirect.data, "Hello.") {
		t.Errorf("redirect: from %q to %v:\n%s", redirect.from, redirect.to, redirect.data)
	}
	for _, h := range []string{"Auto-Submitted: auto-replied", "In-Reply-To: <fwd@x>", "References: <fwd@x>",
		"Subject: Away", "To: Xavier <x@example.net>", "From: Alice <alice@example.org>", "I am away until Monday."} {
		if !strings.Contains(reply.data, h) {
			t.Errorf("vacation reply lacks %q:\n%s", h, reply.data)
		}
	}
	if reply.from != "" || strings.Join(reply.to, ",") != "x@example.net" {
		t.Errorf("vacation envelope: from %q to %v (RFC 5230 §5.1: null sender)", reply.from, reply.to)
	}
	// Redirected without :copy: the original is in the Trash (RFC 6785
	// §3.4), not expunged.
	equal(t, "INBOX", b.contents(t, "INBOX"), nil)
	equal(t, "Trash", b.contents(t, "Trash"), []string{"fwd@x[]"})

	// Same sender again within :days: a redirect :copy, no second reply;
	// the message stays.
	b.append(t, "INBOX", mail("copy@x", "x@example.net", "copy this", "Return-Path: <x@example.net>"))
	d.waitEvents(1)
	got = srv.mails()
	if len(got) != 3 || strings.Join(got[2].to, ",") != "dave@example.net" {
		t.Fatalf("after the second message: %+v", got[2:])
	}
	equal(t, "INBOX", b.contents(t, "INBOX"), []string{"copy@x[]"})

	// Restart with the same state; the first message arrives again (a
	// second copy, same Message-ID): nothing is sent twice, and since its
	// redirect was made, it goes to the Trash.
	d.stop()
	d = s.startWith(t, cfg, &engine.Options{Sender: engine.NewSender(cfg, nil)})
	d.waitReady(1)
	b.append(t, "INBOX", fwd)
	if ev := d.waitEvents(1)[0]; ev.Err != nil {
		t.Fatal(ev.Err)
	}
	if n := len(srv.mails()); n != 3 {
		t.Errorf("sent %d messages after the restart, want still 3: %+v", n, srv.mails()[3:])
	}
	equal(t, "INBOX", b.contents(t, "INBOX"), []string{"copy@x[]"})
}

// A connection lost after the message was sent, before the server's
// answer: it may have gone out. The redirect is not retried, ever, and
// the message stays where it is.
func TestRedirectInDoubtIsNotRetried(t *testing.T) {
	b := memBackend(t, nil)
	srv := startSMTP(t)
	srv.drop = true
	s, cfg := withSMTP(t, b, srv, `redirect "carol@example.net";`, "")
	d := s.startWith(t, cfg, &engine.Options{Sender: engine.NewSender(cfg, nil)})
	d.waitReady(1)
	msg := mail("doubt@x", "x@example.net", "hello", "Return-Path: <x@example.net>")
	b.append(t, "INBOX", msg)
	ev := d.waitEvents(1)[0]
	if ev.Err == nil || !strings.Contains(ev.Err.Error(), actions.ErrMaybeSent.Error()) {
		t.Errorf("event error = %v, want ErrMaybeSent", ev.Err)
	}
	equal(t, "INBOX", b.contents(t, "INBOX"), []string{"doubt@x[]"})
	// The same message again, the server healthy: still not sent again.
	srv.mu.Lock()
	srv.drop = false
	srv.mu.Unlock()
	b.append(t, "INBOX", msg)
	d.waitEvents(1)
	if n := len(srv.mails()); n != 1 {
		t.Errorf("server got %d messages, want the one in doubt only", n)
	}
	equal(t, "INBOX", b.contents(t, "INBOX"), []string{"doubt@x[]", "doubt@x[]"})
}

// A server that refuses the login: certainly not sent, so the claim is
// released, the message stays, and a later message is sent once the
// password is right.
func TestRedirectRefusedIsLeftAndRetriedLater(t *testing.T) {
	b := memBackend(t, nil)
	srv := startSMTP(t)
	srv.user, srv.pass = "alice", "right"
	s, cfg := withSMTP(t, b, srv, `redirect "carol@example.net";`, "")
	t.Setenv("MW_TEST_SMTP_PASS", "wrong")
	d := s.startWith(t, cfg, &engine.Options{Sender: engine.NewSender(cfg, nil)})
	d.waitReady(1)
	msg := mail("refused@x", "x@example.net", "hello", "Return-Path: <x@example.net>")
	b.append(t, "INBOX", msg)
	if ev := d.waitEvents(1)[0]; ev.Err == nil || strings.Contains(ev.Err.Error(), "wrong") {
		t.Errorf("event error = %v (must name the failure, never the password)", ev.Err)
	}
	equal(t, "INBOX", b.contents(t, "INBOX"), []string{"refused@x[]"})
	t.Setenv("MW_TEST_SMTP_PASS", "right")
	b.append(t, "INBOX", msg)
	if ev := d.waitEvents(1)[0]; ev.Err != nil {
		t.Fatal(ev.Err)
	}
	if n := len(srv.mails()); n != 1 {
		t.Errorf("server got %d messages, want 1", n)
	}
	equal(t, "INBOX", b.contents(t, "INBOX"), []string{"refused@x[]"})
	equal(t, "Trash", b.contents(t, "Trash"), []string{"refused@x[]"})
}

// vacation's period lives in the state file: with the clock moved past
// :days the sender is answered again.
func TestSendLogPeriod(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := state.Open(t.TempDir(), &state.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	claim := func(want actions.SendState) {
		t.Helper()
		if got, err := st.Claim(ctx, "vacation:k", 3*24*time.Hour); err != nil || got != want {
			t.Fatalf("at %v: Claim = %v, %v; want %v", now, got, err, want)
		}
	}
	claim(actions.SendNew)
	claim(actions.SendPending) // never settled: in doubt
	if err := st.Done(ctx, "vacation:k", 3*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * 24 * time.Hour)
	claim(actions.SendDone) // within :days 3
	now = now.Add(2 * 24 * time.Hour)
	claim(actions.SendNew) // 4 days after: answered again
	if err := st.Release(ctx, "vacation:k"); err != nil {
		t.Fatal(err)
	}
	claim(actions.SendNew) // released: may be tried again
}
