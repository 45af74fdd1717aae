package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

// A template's users are read again on reload (SIGHUP): a user added to
// the users command's output is watched after the reload, with the one
// admin credential.
func TestReloadPicksUpTemplateUsers(t *testing.T) {
	srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"alice": "x", "bob": "y", "u": "p"},
		MasterUsers: map[string]string{"admin": "admin-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	os.WriteFile(users, []byte("alice\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "admin.pw"), []byte("admin-pw\n"), 0o600)
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`accounts:
  - template: team
    users_command: "cat %s"
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: admin
    authorize_as: "{user}"
    password_file: admin.pw
    watch:
      - mailbox: INBOX
        ruleset: inbox
        start: all
rulesets:
  inbox:
    - name: all
      when: 'true'
      actions: [{move: Archive}]
`, users, srv.Port())), 0o600)
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
	reload := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	exit := make(chan int, 1)
	go func() {
		exit <- daemon(ctx, path, cfg, store, false, slog.New(slog.NewTextHandler(&logs, nil)), reload, &logs)
	}()
	for _, u := range []string{"alice", "bob"} {
		if _, err := srv.Append(u, "INBOX", []byte("Subject: hi "+u+"\r\n\r\nhi\r\n"), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	waitLog := func(text string) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !strings.Contains(logs.String(), text); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("log never said %q:\n%s", text, logs.String())
			}
		}
	}
	waitLog(`subject="hi alice"`)
	if strings.Contains(logs.String(), `subject="hi bob"`) {
		t.Fatal("bob was watched before he was a user of the template")
	}
	os.WriteFile(users, []byte("alice\nbob\n"), 0o600)
	reload <- struct{}{}
	waitLog("config reloaded")
	waitLog(`subject="hi bob"`)
	cancel()
	if code := <-exit; code != exitOK {
		t.Fatalf("exit %d\n%s", code, logs.String())
	}
}
