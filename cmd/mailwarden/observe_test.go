package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

// opsSetup is a running daemon (as `mailwarden run` runs it) on a private
// Dovecot, with the http listener on.
type opsSetup struct {
	srv        *dovecottest.Server
	user, pass string
	path       string // config file
	httpAddr   string
	logs       *syncBuffer
	cancel     context.CancelFunc
	exit       chan int
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startOps(t *testing.T) *opsSetup { t.Helper(); return startOpsWith(t, nil) }

// startOpsWith is startOps with the config that cfg returns (given the
// state directory); nil: the operations config below.
func startOpsWith(t *testing.T, cfgText func(o *opsSetup, stateDir string) string) *opsSetup {
	t.Helper()
	srv := dovecottest.Start(t, nil) // private: the test stops and restarts it
	o := &opsSetup{srv: srv, logs: &syncBuffer{}, exit: make(chan int, 1), httpAddr: freeAddr(t)}
	o.user, o.pass = srv.User(1)
	// A short path: the control socket lives in state_dir.
	dir, err := os.MkdirTemp("", "mw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("MW_OPS_PASS", o.pass)
	cfg := fmt.Sprintf(`state_dir: %s
http:
  listen: %s
accounts:
  - name: acct
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: %s
    password_env: MW_OPS_PASS
    watch:
      - mailbox: INBOX
        ruleset: inbox
rulesets:
  inbox:
    - name: invoices
      when: 'subject contains "invoice"'
      actions: [{move: Finance}]
      stop: true
    - name: boss
      when: 'from.address == "boss@example.com"'
      actions: [{flag: "\\Flagged"}]
    - name: old-newsletters
      when: 'subject contains "newsletter" && age > duration("30d")'
      actions: [{flag: old}]
schedules:
  - name: archive-all
    cron: "0 3 * * *"
    accounts: all
    job: archive
    mailbox: Old
    older_than: 1d
    to: Archive/{year}
    skip_flagged: false
`, filepath.Join(dir, "s"), o.httpAddr, srv.Port, o.user)
	if cfgText != nil {
		cfg = cfgText(o, filepath.Join(dir, "s"))
	}
	o.path = filepath.Join(dir, "mailwarden.yaml")
	if err := os.WriteFile(o.path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, errs := parseConfig(o.path)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	store, err := state.Open(c.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel = cancel
	log := slog.New(slog.NewTextHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { o.exit <- daemon(ctx, o.path, c, store, false, log, nil, o.logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-o.exit:
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop")
		}
		store.Close()
	})
	return o
}

func (o *opsSetup) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + o.httpAddr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitReady polls /readyz until it answers want.
func (o *opsSetup) waitReady(t *testing.T, want int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := o.get(t, "/readyz")
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered %d (last %d %q)\nlogs:\n%s", want, code, body, o.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metric returns the value of the series name{labels} from /metrics text,
// labels given in the exposition's (sorted) order.
func metric(t *testing.T, text, series string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return v
		}
	}
	return "absent"
}

// waitMetrics polls /metrics until each of the series in wait has the
// value want gives it, and returns that scrape.
func (o *opsSetup) waitMetrics(t *testing.T, want map[string]string, wait ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, text := o.get(t, "/metrics")
		if !slices.ContainsFunc(wait, func(series string) bool { return metric(t, text, series) != want[series] }) {
			return text
		}
		if time.Now().After(deadline) {
			var diff []string
			for _, series := range wait {
				if got := metric(t, text, series); got != want[series] {
					diff = append(diff, fmt.Sprintf("%s = %s, want %s", series, got, want[series]))
				}
			}
			t.Fatalf("metrics never reached\n%s\n%s\nlogs:\n%s", strings.Join(diff, "\n"), text, o.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (o *opsSetup) client(t *testing.T) *imapconn.Client {
	t.Helper()
	c, err := imapconn.Dial(context.Background(), &imapconn.Options{Host: "127.0.0.1", Port: o.srv.Port, TLS: imapconn.TLSNone,
		InsecurePlaintext: true, Username: o.user, Auth: imapconn.Password{Password: func(context.Context) (string, error) { return o.pass, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (o *opsSetup) messages(t *testing.T, mailbox string) int {
	t.Helper()
	st, err := o.client(t).Status(context.Background(), mailbox)
	if err != nil {
		return 0
	}
	return int(st.Messages)
}

func (o *opsSetup) waitMessages(t *testing.T, mailbox string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for o.messages(t, mailbox) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %d messages\nlogs:\n%s", mailbox, n, o.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func opsMail(id, from, subject string) []byte {
	return []byte("From: " + from + "\r\nTo: me@example.org\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + ">\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody\r\n")
}

// The operable daemon, against a real Dovecot: exact metric values after
// known traffic, status and jobs run through the control socket of the
// running daemon, /readyz flipping when the server goes down and comes
// back, and expr's duration("30d") at run time.
func TestDaemonMetricsStatusJobsAndReadiness(t *testing.T) {
	o := startOps(t)
	o.waitReady(t, http.StatusOK)
	if code, body := o.get(t, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz = %d %q", code, body)
	}

	c := o.client(t)
	ctx := context.Background()
	old := time.Now().Add(-60 * 24 * time.Hour)
	for _, m := range []struct {
		raw  []byte
		date time.Time
	}{
		{opsMail("inv@x", "billing@shop.example", "Your invoice"), time.Time{}},
		{opsMail("boss@x", "boss@example.com", "Numbers"), time.Time{}},
		{opsMail("plain@x", "friend@example.net", "Hello"), time.Time{}},
		{opsMail("news@x", "news@example.net", "The newsletter"), old},
	} {
		if _, err := c.Append(ctx, "INBOX", nil, m.date, m.raw); err != nil {
			t.Fatal(err)
		}
	}
	o.waitMessages(t, "Finance", 1)
	// Wait until the daemon is done with all four messages, then assert
	// every value below exactly, on one scrape. Neither the Finance move
	// nor the evaluated counts say that the batch is done: both are seen
	// while the daemon is still applying it, its watcher catching_up.
	want := map[string]string{
		`mailwarden_messages_evaluated_total{account="acct",mailbox="INBOX",outcome="matched"}`:  "3",
		`mailwarden_messages_evaluated_total{account="acct",mailbox="INBOX",outcome="no_match"}`: "1",
		`mailwarden_messages_evaluated_total{account="acct",mailbox="INBOX",outcome="error"}`:    "absent",
		`mailwarden_evaluation_duration_seconds_count`:                                           "4",
		`mailwarden_actions_total{account="acct",action="move",rule="invoices"}`:                 "1",
		`mailwarden_actions_total{account="acct",action="flag",rule="boss"}`:                     "1",
		`mailwarden_actions_total{account="acct",action="flag",rule="old-newsletters"}`:          "1",
		`mailwarden_watcher_state{account="acct",mailbox="INBOX",state="idle"}`:                  "1",
		`mailwarden_watcher_state{account="acct",mailbox="INBOX",state="retrying"}`:              "absent",
		`mailwarden_watcher_reconnects_total{account="acct",cause="closed",mailbox="INBOX"}`:     "absent",
	}
	// The daemon counts in this order: each message's evaluation as it is
	// decided, the actions as the batch's commands succeed; the watcher
	// is back in IDLE only after the batch is checkpointed. A scrape is
	// no snapshot (each collector is read on its own), so the idle state
	// is waited for in a scrape after the one that showed the work done:
	// that idle is the one after the batch, not the one before it.
	o.waitMetrics(t, want,
		`mailwarden_messages_evaluated_total{account="acct",mailbox="INBOX",outcome="matched"}`,
		`mailwarden_messages_evaluated_total{account="acct",mailbox="INBOX",outcome="no_match"}`,
		`mailwarden_evaluation_duration_seconds_count`,
		`mailwarden_actions_total{account="acct",action="move",rule="invoices"}`,
		`mailwarden_actions_total{account="acct",action="flag",rule="boss"}`,
		`mailwarden_actions_total{account="acct",action="flag",rule="old-newsletters"}`)
	text := o.waitMetrics(t, want, `mailwarden_watcher_state{account="acct",mailbox="INBOX",state="idle"}`)
	for series, want := range want {
		if got := metric(t, text, series); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
	// "Why is this still in my INBOX?": the log says no rule matched.
	if !strings.Contains(o.logs.String(), `msg="no rule matched; message stays"`) || !strings.Contains(o.logs.String(), "message_id=plain@x") {
		t.Errorf("no decision line for the unmatched message:\n%s", o.logs.String())
	}

	// status, through the control socket of the running daemon.
	code, out, errw := runCmd(t, "status", "-c", o.path)
	if code != exitOK || !strings.Contains(out, ": ready") || !strings.Contains(out, "acct     INBOX") ||
		!strings.Contains(out, "4 evaluated, 3 matched") || !strings.Contains(out, "archive-all") {
		t.Errorf("status: exit %d\n%s\n%s", code, out, errw)
	}

	// jobs run, carried out by the daemon (it holds the state file).
	if err := c.Create(ctx, "Old"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, "Old", []string{`\Seen`}, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), opsMail("ancient@x", "a@example.net", "ancient")); err != nil {
		t.Fatal(err)
	}
	code, out, errw = runCmd(t, "jobs", "run", "-c", o.path, "archive-all")
	if code != exitOK || !strings.Contains(out, "1 acted on") {
		t.Fatalf("jobs run: exit %d\n%s\n%s", code, out, errw)
	}
	if n := o.messages(t, "Archive/2024"); n != 1 {
		t.Errorf("Archive/2024 holds %d messages after the job, want 1", n)
	}
	_, text = o.get(t, "/metrics")
	if got := metric(t, text, `mailwarden_job_runs_total{job="archive-all",kind="archive",result="success"}`); got != "1" {
		t.Errorf("job runs = %s, want 1", got)
	}

	// The server goes down: /readyz says why; it comes back: ready again.
	o.srv.Down(t)
	body := o.waitReady(t, http.StatusServiceUnavailable)
	if !strings.Contains(body, "acct/INBOX") {
		t.Errorf("/readyz does not say which watcher: %q", body)
	}
	o.srv.Up(t)
	o.waitReady(t, http.StatusOK)
	_, text = o.get(t, "/metrics")
	if got := metric(t, text, `mailwarden_watcher_reconnects_total{account="acct",cause="closed",mailbox="INBOX"}`); got == "absent" || got == "0" {
		t.Errorf("reconnects by cause closed = %s, want at least 1\n%s", got, text)
	}
}

// Without a running daemon, status says so and fails.
func TestStatusWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("state_dir: "+filepath.Join(dir, "s")+"\n"), 0o600)
	code, _, errw := runCmd(t, "status", "-c", path)
	if code != exitFail || !strings.Contains(errw, observe.ErrNoDaemon.Error()) {
		t.Errorf("exit %d, stderr %q", code, errw)
	}
}

// A permanent error of the only account (a wrong password) stops its
// watcher, not the daemon: the control socket answers, status and /readyz
// say which account stopped and why, until the daemon is stopped.
func TestDaemonOutlivesAStoppedAccount(t *testing.T) {
	srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"u": "right"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir, err := os.MkdirTemp("", "mw")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	t.Setenv("MW_STOP_PASS", "wrong")
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`state_dir: %s
accounts:
  - name: acct
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: u
    password_env: MW_STOP_PASS
    watch:
      - mailbox: INBOX
        ruleset: inbox
rulesets:
  inbox:
    - name: all
      when: 'true'
      actions: [{flag: seen-by-rule}]
`, filepath.Join(dir, "s"), srv.Port())), 0o600)
	cfg, errs := parseConfig(path)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	store, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	go func() {
		exit <- daemon(ctx, path, cfg, store, false, slog.New(slog.NewTextHandler(logs, nil)), nil, logs)
	}()
	deadline := time.Now().Add(20 * time.Second)
	var out string
	for {
		var code int
		code, out, _ = runCmd(t, "status", "-c", path)
		if code == exitNotReady && strings.Contains(out, "stopped") {
			break
		}
		select {
		case c := <-exit:
			t.Fatalf("the daemon exited (%d) when its only account stopped:\n%s", c, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed the stopped account (last:\n%s)\nlogs:\n%s", out, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out, "NOT READY") || !strings.Contains(out, "acct/INBOX: stopped") || !strings.Contains(out, "authenticate") {
		t.Errorf("status does not say why:\n%s", out)
	}
	if !strings.Contains(logs.String(), "every watcher has stopped; scheduled jobs and the control socket go on") {
		t.Errorf("no log line about the stopped watchers:\n%s", logs.String())
	}
	cancel()
	select {
	case c := <-exit:
		if c != exitOK {
			t.Errorf("exit %d after the signal, want 0", c)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("daemon did not stop")
	}
}
