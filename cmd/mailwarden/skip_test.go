package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const skipScript = `require ["vacation", "reject", "envelope", "fileinto"];
if header :contains "subject" "lunch" { redirect "carol@example.net"; }
vacation :days 3 "I am away.";
if envelope :is "from" "x@example.com" { reject "no"; }
fileinto "After";
`

func writeSkipConfig(t *testing.T, step string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "old.sieve"), []byte(skipScript), 0o600)
	cfg := "accounts:\n  - name: a\n    host: 127.0.0.1\n    username: bob@example.org\n    password_env: HOME\n" +
		"    watch: [{mailbox: INBOX, ruleset: inbox}]\nrulesets:\n  inbox:\n    - sieve: old.sieve\n" + step
	path := filepath.Join(dir, "mailwarden.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	return path
}

// check lists exactly what a script with `unsupported: skip` skips, as
// information; without the setting the script is refused with hints.
func TestCheckListsSkippedCommands(t *testing.T) {
	code, out, errw := runCmd(t, "check", "-c", writeSkipConfig(t, "      unsupported: skip\n"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errw)
	}
	want := []string{
		"old.sieve:2: redirect skipped: no smtp: section to send with; the message is kept",
		"old.sieve:3: vacation skipped: no smtp: section to send with; no reply is sent",
		"old.sieve:4: envelope skipped: there is no envelope after delivery (RFC 6785 §4.6); a message that reaches this test is kept unchanged",
		"old.sieve:4: reject skipped: mail handled here is already delivered and cannot be refused (RFC 6785 §3.11); the message is kept",
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || strings.Join(lines[:4], "\n") != strings.Join(want, "\n") || !strings.Contains(lines[4], ": ok: ") {
		t.Errorf("check output:\n%s", out)
	}
	code, _, errw = runCmd(t, "check", "-c", writeSkipConfig(t, ""))
	if code != exitFail || !strings.Contains(errw, "old.sieve:2:41: redirect is not available: no smtp: section to send with (hint: configure the smtp: section") ||
		!strings.Contains(errw, "`unsupported: skip`") {
		t.Errorf("without unsupported: skip: exit %d\n%s", code, errw)
	}
}

// test shows what would be sent and what is skipped; it sends nothing.
func TestTestShowsSendsAndSkips(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sieve")
	os.WriteFile(script, []byte(strings.Replace(skipScript, `if envelope :is "from" "x@example.com" { reject "no"; }`, `reject "no";`, 1)), 0o600)
	msg := filepath.Join(dir, "m.eml")
	os.WriteFile(msg, []byte("Return-Path: <alice@example.com>\r\nFrom: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: lunch\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n"), 0o600)
	code, out, errw := runCmd(t, "test", "--sieve", script, "--unsupported", "skip", "--addresses", "bob@example.org", "--json", msg)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errw)
	}
	var res testResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, op := range res.Plan {
		ops = append(ops, op.Op+":"+op.Mailbox+op.To)
	}
	if got := strings.Join(ops, " "); got != "move:After redirect:carol@example.net vacation:alice@example.com" {
		t.Errorf("plan ops %s", got)
	}
	var skipped string
	for _, a := range res.Actions {
		if a.Skipped != "" {
			skipped += a.Type + ";"
		}
	}
	if skipped != "reject;" {
		t.Errorf("skipped actions %q in %+v", skipped, res.Actions)
	}
}
