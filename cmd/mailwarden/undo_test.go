package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

// fakeTerminal makes undo believe stdin is a terminal on which the user
// types answer (or, with answer == "", that stdin is not a terminal).
func fakeTerminal(t *testing.T, answer string) {
	t.Helper()
	oldIn, oldTerm := undoStdin, undoIsTerminal
	t.Cleanup(func() { undoStdin, undoIsTerminal = oldIn, oldTerm })
	undoStdin = strings.NewReader(answer)
	undoIsTerminal = func() bool { return answer != "" }
}

// Flags are checked before anything is opened: no undo of everything, one
// way to say how far back, and no change without a confirmation.
func TestUndoFlagRefusals(t *testing.T) {
	fakeTerminal(t, "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "say how far back: --since DURATION"},
		{[]string{"-c", "x.yaml", "--account", "a"}, exitUsage, "there is no undo of everything"},
		{[]string{"--since", "2h", "--after", "2026-11-26T09:00:00Z"}, exitUsage, "either --since or --after"},
		{[]string{"--since", "yesterday"}, exitUsage, `--since "yesterday"`},
		{[]string{"--since", "0"}, exitUsage, "must be more than 0"},
		{[]string{"--since", "-2h"}, exitUsage, "cannot be signed"},
		{[]string{"--after", "2026-11-26"}, exitUsage, "RFC 3339"},
		{[]string{"--since", "2h", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"--since", "2h"}, exitUsage, "stdin is not a terminal, so undo cannot ask for confirmation: pass --yes"},
		{[]string{"--since", "2h", "--yes"}, exitFail, "no config file: pass -c FILE"},
		{[]string{"--since", "2h", "--dry-run", "-c", "/nonexistent.yaml"}, exitFail, "no such file"},
	} {
		code, _, errw := runCmd(t, append([]string{"undo"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errw, tc.want) {
			t.Errorf("undo %q: exit %d, stderr:\n%s\nwant exit %d and %q", tc.args, code, errw, tc.code, tc.want)
		}
	}
}

// The command end to end on the in-memory server: a journaled flag is
// previewed and refused, previewed with --dry-run, confirmed and undone,
// and not undone twice.
func TestUndoCommand(t *testing.T) {
	srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"alice": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	raw := "From: boss@example.com\r\nSubject: hi\r\nMessage-ID: <boss@x>\r\n\r\nHello.\r\n"
	uid, err := srv.Append("alice", "INBOX", []byte(raw), []string{"vip"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := imapconn.Dial(context.Background(), &imapconn.Options{Host: "127.0.0.1", Port: srv.Port(), TLS: imapconn.TLSNone,
		InsecurePlaintext: true, Username: "alice", Auth: imapconn.Password{Password: func(context.Context) (string, error) { return "pw", nil }}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	flags := func() []string {
		t.Helper()
		sess, err := c.Examine(context.Background(), "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := sess.FetchUIDs(context.Background(), []uint32{uid}, false)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("fetch: %v %v", msgs, err)
		}
		return slices.DeleteFunc(msgs[0].Flags, func(f string) bool { return f == `\Recent` })
	}
	sess, err := c.Examine(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	_, uidValidity := sess.Selected()

	dir := t.TempDir()
	t.Setenv("MW_UNDO_PASS", "pw")
	cfg := fmt.Sprintf(`state_dir: %s
accounts:
  - name: acct0
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: alice
    password_env: MW_UNDO_PASS
    watch:
      - mailbox: INBOX
        ruleset: inbox
rulesets:
  inbox:
    - name: boss
      when: 'true'
      actions: [{flag: vip}]
`, filepath.Join(dir, "state"), srv.Port())
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(filepath.Join(dir, "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Record(context.Background(), []actions.Entry{{Account: "acct0", Mailbox: "INBOX", UIDValidity: uidValidity, UID: uid,
		MessageID: "boss@x", Rule: "boss", Op: actions.OpFlag, Target: "vip", Time: time.Now().Add(-time.Minute)}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	fakeTerminal(t, "n\n")
	code, out, errw := runCmd(t, "undo", "-c", path, "--since", "1h")
	if code != exitFail || !strings.Contains(out, "would undo") || !strings.Contains(out, "Reverse these 1 change(s)? [y/N] aborted: nothing changed") {
		t.Errorf("answer n: exit %d\n%s\n%s", code, out, errw)
	}
	if got := flags(); !slices.Equal(got, []string{"vip"}) {
		t.Errorf("after answering n: flags %q", got)
	}

	code, out, errw = runCmd(t, "undo", "-c", path, "--since", "1h", "--dry-run")
	if code != exitOK || !strings.Contains(out, "dry run, nothing changed: 1 would be undone, 0 skipped") || strings.Contains(out, "Reverse") {
		t.Errorf("dry run: exit %d\n%s\n%s", code, out, errw)
	}
	if got := flags(); !slices.Equal(got, []string{"vip"}) {
		t.Errorf("after a dry run: flags %q", got)
	}

	fakeTerminal(t, "y\n")
	code, out, errw = runCmd(t, "undo", "-c", path, "--since", "1h", "--rule", "boss")
	for _, want := range []string{"would undo", "Reverse these 1 change(s)? [y/N] ", "undone", "<boss@x>: flag vip by boss", `removed vip (UID 1 in "INBOX")`, "1 undone, 0 skipped, 0 failed"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("answer y: exit %d, want %q in\n%s\n%s", code, want, out, errw)
		}
	}
	t.Log(out)
	if got := flags(); len(got) != 0 {
		t.Errorf("after undo: flags %q", got)
	}

	code, out, _ = runCmd(t, "undo", "-c", path, "--after", time.Now().Add(-time.Hour).Format(time.RFC3339), "--yes")
	if code != exitOK || !strings.Contains(out, "no journal entries match") {
		t.Errorf("second undo: exit %d\n%s", code, out)
	}
}
