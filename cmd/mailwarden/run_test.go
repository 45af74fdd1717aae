package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SIGHUP reloads the config: new rules take effect; a broken file is
// reported and the running config stays.
func TestReloadKeepsRunningConfigOnError(t *testing.T) {
	srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"u": "p"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	t.Setenv("MW_RELOAD_PASS", "p")
	writeCfg := func(dest string) {
		cfg := fmt.Sprintf(`accounts:
  - name: a
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: u
    password_env: MW_RELOAD_PASS
    watch:
      - mailbox: INBOX
        ruleset: inbox
rulesets:
  inbox:
    - name: all
      when: 'true'
      actions: [{move: %s}]
`, srv.Port(), dest)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("First")
	cfg, errs := parseConfig(path)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	store, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	reload := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	go func() { exit <- daemon(ctx, path, cfg, store, false, log, reload, &logs) }()

	// waitIn waits until mailbox holds n messages.
	waitIn := func(mailbox string, n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if count(t, srv.Addr(), mailbox) == n {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s never held %d messages\nlogs:\n%s", mailbox, n, logs.String())
	}
	waitFor := func(text string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), text) {
			if time.Now().After(deadline) {
				t.Fatalf("log never said %q:\n%s", text, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	deliver := func(id string) {
		t.Helper()
		waitFor("first start")
		raw := []byte("From: a@example.org\r\nSubject: s\r\nMessage-ID: <" + id + ">\r\n\r\nhi\r\n")
		if _, err := srv.Append("u", "INBOX", raw, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}

	deliver("1@x")
	waitIn("First", 1)

	writeCfg("Second")
	reload <- struct{}{}
	waitFor("config reloaded")
	// Delivered maybe before the restarted watcher is back: its catch-up
	// from the checkpoint finds it either way.
	deliver("2@x")
	waitIn("Second", 1)

	os.WriteFile(path, []byte("accounts: [\n"), 0o600)
	reload <- struct{}{}
	waitFor("config reload failed; still running the previous config")
	deliver("3@x")
	waitIn("Second", 2)

	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("daemon did not stop")
	}
}

// count returns how many messages mailbox holds (0 when it does not exist).
func count(t *testing.T, addr, mailbox string) int {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	var p int
	fmt.Sscan(port, &p)
	c, err := imapconn.Dial(context.Background(), &imapconn.Options{Host: host, Port: p, TLS: imapconn.TLSNone, InsecurePlaintext: true, Username: "u",
		Auth: imapconn.Password{Password: func(context.Context) (string, error) { return "p", nil }}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Status(context.Background(), mailbox)
	if err != nil {
		return 0
	}
	return int(st.Messages)
}

// brokenConfig has errors of every kind check reports: config keys, an
// expr rule, a Sieve script and a schedule's filter.
const brokenConfig = `accounts:
  - name: a
    host: 127.0.0.1
    port: %d
    tls: ssl
    username: u
    password_env: MW_BROKEN_PASS
    idle_refresh: 0s
    watch:
      - mailbox: INBOX
        ruleset: inbox
        start: old
rulesets:
  inbox:
    - name: typo
      when: 'subjet contains "x"'
      actions: [{move: X}]
    - sieve: bad.sieve
schedules:
  - name: old
    cron: "@daily"
    accounts: all
    job: archive
    mailbox: INBOX
    older_than: 90d
    to: "Archive/{year}"
    when: 'form.domain == "x"'
`

func writeBroken(t *testing.T, dir string, port int) string {
	t.Helper()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(filepath.Join(dir, "bad.sieve"), []byte("require \"fileinto\";\nfileint \"X\";\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(fmt.Sprintf(brokenConfig, port)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkErrors returns the error lines `check` prints for path (without
// the count), failing when there are fewer than min.
func checkErrors(t *testing.T, path string, min int) []string {
	t.Helper()
	code, _, errw := runCmd(t, "check", "-c", path)
	lines := strings.Split(strings.TrimSpace(errw), "\n")
	if code != exitFail || len(lines) < min+1 || lines[len(lines)-1] != fmt.Sprintf("%d errors", len(lines)-1) {
		t.Fatalf("check: exit %d, want 1 and at least %d errors:\n%s", code, min, errw)
	}
	return lines[:len(lines)-1]
}

// `run` reports every error `check` reports, in one go, not the config's
// first and the rules' after those are fixed.
func TestRunReportsWhatCheckReports(t *testing.T) {
	t.Setenv("MW_BROKEN_PASS", "p")
	path := writeBroken(t, t.TempDir(), 10143)
	want := checkErrors(t, path, 6)
	_, _, checkOut := runCmd(t, "check", "-c", path)
	code, out, errw := runCmd(t, "run", "-c", path)
	if code != exitFail || out != "" {
		t.Errorf("run: exit %d, stdout %q; want 1 and nothing", code, out)
	}
	if errw != checkOut {
		t.Errorf("run printed:\n%s\ncheck printed:\n%s", errw, checkOut)
	}
	if len(want) < 6 {
		t.Errorf("check found only %d errors: %q", len(want), want)
	}
}

// A reload that fails logs every error `check` reports for the new file,
// one line each, and keeps the running config.
func TestReloadReportsWhatCheckReports(t *testing.T) {
	srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"u": "p"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("MW_BROKEN_PASS", "p")
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	good := fmt.Sprintf(`accounts:
  - name: a
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: u
    password_env: MW_BROKEN_PASS
    watch:
      - mailbox: INBOX
        ruleset: inbox
rulesets:
  inbox:
    - name: all
      when: 'true'
      actions: [{flag: seen-by-mailwarden}]
`, srv.Port())
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	l, errs := loadAll(path, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	store, err := state.Open(l.cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	reload := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	go func() { exit <- daemon(ctx, path, l.cfg, store, false, log, reload, &logs) }()
	defer func() {
		cancel()
		select {
		case <-exit:
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop")
		}
	}()

	writeBroken(t, dir, srv.Port())
	want := checkErrors(t, path, 6)
	reload <- struct{}{}
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = got[:0]
		count := -1 // the number of errors the reload reported
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec struct {
				Msg, Err string
				Errors   int
			}
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			switch rec.Msg {
			case "config reload failed; still running the previous config":
				count = rec.Errors
			case "config error":
				got = append(got, rec.Err)
			}
		}
		if count >= 0 && len(got) >= count {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed reload logged:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("reload logged:\n%s\ncheck printed:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
