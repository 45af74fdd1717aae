package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	code = run(args, &out, &errw)
	return code, out.String(), errw.String()
}

func TestCheckExampleConfig(t *testing.T) {
	code, out, errw := runCmd(t, "check", "-c", "../../examples/mailwarden.yaml")
	if code != exitOK || !strings.Contains(out, "ok: 1 account(s), 1 watched mailbox(es), 2 rule set(s)") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errw)
	}
}

// check reports config errors and rule errors of one file together, each
// located, and exits 1.
func TestCheckReportsEveryErrorAtOnce(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("X", "pw")
	cfg := `state_dir: ./state
accounts:
  - name: a
    host: 127.0.0.1
    tls: ssl
    username: u
    password_env: X
    watch:
      - mailbox: INBOX
        ruleset: inbox
rulesets:
  inbox:
    - name: typo
      when: 'subjet contains "x"'
      actions: [{move: X}]
    - sieve: bad.sieve
`
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(cfg), 0o600)
	os.WriteFile(filepath.Join(dir, "bad.sieve"), []byte("require \"fileinto\";\nfileint \"X\";\n"), 0o600)
	code, _, errw := runCmd(t, "check", "-c", filepath.Join(dir, "c.yaml"))
	if code != exitFail {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{
		`c.yaml:5:5: accounts[0].tls: unknown value "ssl" (hint: one of implicit, starttls, none)`,
		`c.yaml:14:14: rule "typo": when: unknown name subjet (hint: did you mean subject?)`,
		`bad.sieve:2:1: unknown command "fileint" (hint: did you mean "fileinto"?)`,
		"3 errors",
	} {
		if !strings.Contains(errw, want) {
			t.Errorf("missing %q in:\n%s", want, errw)
		}
	}
}

func TestTestCommandJSON(t *testing.T) {
	code, out, errw := runCmd(t, "test", "-c", "../../examples/mailwarden.yaml", "--ruleset", "inbox", "--json",
		"../../examples/messages/01-invoice.eml", "../../examples/messages/02-boss.eml")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errw)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got:\n%s", out)
	}
	var inv, boss testResult
	json.Unmarshal([]byte(lines[0]), &inv)
	json.Unmarshal([]byte(lines[1]), &boss)
	if len(inv.Plan) != 1 || inv.Plan[0].Op != "move" || inv.Plan[0].Mailbox != "Finance" || inv.Trace[0].Rule != "invoices" {
		t.Errorf("invoice: %s", lines[0])
	}
	if len(boss.Plan) != 2 || boss.Plan[0].Flag != `\Flagged` || boss.Plan[1].Flag != "vip" || boss.Summary != `flag \Flagged vip` {
		t.Errorf("boss: %s", lines[1])
	}
}

func TestTestCommandSieve(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sieve")
	os.WriteFile(script, []byte("require [\"fileinto\", \"imap4flags\"];\nif header :contains \"subject\" \"invoice\" { addflag \"\\\\Seen\"; fileinto \"Finance\"; }\n"), 0o600)
	code, out, errw := runCmd(t, "test", "--sieve", script, "--json", "../../examples/messages/01-invoice.eml")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errw)
	}
	var r testResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err, out)
	}
	if len(r.Actions) != 1 || r.Actions[0].Type != "fileinto" || r.Actions[0].Mailbox != "Finance" || r.Actions[0].Flags[0] != `\Seen` {
		t.Errorf("actions: %s", out)
	}
	// addflag changes the internal flags variable, which the copy made by
	// fileinto gets (RFC 5232 §3); the original is removed, so no STORE.
	if len(r.Plan) != 1 || r.Plan[0].Op != "move" || len(r.Plan[0].Flags) != 1 || r.Plan[0].Flags[0] != `\Seen` {
		t.Errorf("plan: %s", out)
	}
}

// The demo runs the real daemon against the in-memory server and exits by
// itself once every example message was handled.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("demo takes a few seconds")
	}
	code, out, errw := runCmd(t, "demo", "-live", "2")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errw)
	}
	for _, want := range []string{
		`invoices                     -> move "Finance"`,
		"new mail delivered",
		"Finance (3)",
		"Trash (1)",
		`\Flagged vip                 Q3 planning`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errw := runCmd(t, "frobnicate"); code != exitUsage || !strings.Contains(errw, `unknown command "frobnicate"`) {
		t.Errorf("exit %d: %s", code, errw)
	}
}

// Schedules' when filters are compiled by check too, and a rule set that
// failed to compile is not reported a second time by the sweep using it.
func TestCheckReportsScheduleFilters(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("X", "pw")
	cfg := `accounts:
  - name: a
    host: 127.0.0.1
    username: u
    password_env: X
    watch:
      - mailbox: INBOX
        ruleset: inbox
rulesets:
  inbox:
    - name: typo
      when: 'subjet contains "x"'
      actions: [{move: X}]
schedules:
  - name: old
    cron: "@daily"
    accounts: all
    job: archive
    mailbox: INBOX
    older_than: 90d
    to: "Archive/{year}"
    when: 'form.domain == "x"'
  - name: sw
    cron: "@daily"
    accounts: all
    job: sweep
    mailbox: INBOX
    ruleset: inbox
`
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(cfg), 0o600)
	code, _, errw := runCmd(t, "check", "-c", filepath.Join(dir, "c.yaml"))
	want := dir + `/c.yaml:12:14: rule "typo": when: unknown name subjet (hint: did you mean subject?)
` + dir + `/c.yaml:22:12: rule "old": when: unknown name form (hint: did you mean from?)
2 errors
`
	if code != exitFail || errw != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", code, errw, want)
	}
}

// The rule: durations in days pass check and work at run time
// (test evaluates them); a constant part that cannot work is a located
// check error instead of a failure on every message.
func TestCheckDurationsInRules(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MW_DURATION_PASS", "p")
	cfg := `accounts:
  - name: a
    host: 127.0.0.1
    username: u
    password_env: MW_DURATION_PASS
    watch:
      - mailbox: INBOX
        ruleset: inbox
rulesets:
  inbox:
    - name: old
      when: 'age > duration("30d")'
      actions: [{flag: old}]
`
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	if code, out, errw := runCmd(t, "check", "-c", path); code != exitOK {
		t.Fatalf("check: exit %d\n%s%s", code, out, errw)
	}
	eml := filepath.Join(dir, "old.eml")
	os.WriteFile(eml, []byte("From: a@example.org\r\nSubject: old\r\n\r\nhi\r\n"), 0o600)
	old := time.Now().Add(-40 * 24 * time.Hour)
	os.Chtimes(eml, old, old) // test takes internal_date from the file's mtime
	code, out, errw := runCmd(t, "test", "-c", path, "--ruleset", "inbox", "--json", eml)
	var r testResult
	if code != exitOK || json.Unmarshal([]byte(out), &r) != nil || len(r.Plan) != 1 || r.Plan[0].Flag != "old" {
		t.Errorf("test: exit %d\n%s%s", code, out, errw)
	}

	os.WriteFile(path, []byte(strings.Replace(cfg, "30d", "30x", 1)), 0o600)
	code, _, errw = runCmd(t, "check", "-c", path)
	want := path + `:12:20: rule "old": when: duration("30x") fails for every message: invalid duration "30x": unknown unit "x" (hint: durations are written like 90s, 10m, 1h30m, 7d, 2w)` + "\n"
	if code != exitFail || errw != want {
		t.Errorf("check: exit %d\n%s\nwant:\n%s", code, errw, want)
	}
}

// include finds scripts beside the including script, in the directories
// the config names (sieve.personal_dir, sieve.global_dir), and in those
// given to `test`, which win.
func TestTestCommandSieveIncludeDirs(t *testing.T) {
	dir, global, other := t.TempDir(), t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.sieve"), []byte("require \"include\";\ninclude \"lists\";\ninclude :global \"site\";\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "lists.sieve"), []byte("require \"imap4flags\";\naddflag \"lists\";\n"), 0o600)
	os.WriteFile(filepath.Join(global, "site.sieve"), []byte("require \"imap4flags\";\naddflag \"site\";\n"), 0o600)
	os.WriteFile(filepath.Join(other, "site.sieve"), []byte("require \"imap4flags\";\naddflag \"other\";\n"), 0o600)
	msg := "../../examples/messages/01-invoice.eml"

	code, _, errw := runCmd(t, "test", "--sieve", filepath.Join(dir, "main.sieve"), msg)
	if code != exitFail || !strings.Contains(errw, `main.sieve:3:17: include :global has no directory to read "site" from (hint: set sieve.global_dir in the config (mailwarden test: --sieve-global-dir), or add :optional)`) {
		t.Errorf("no global dir: exit %d: %s", code, errw)
	}
	code, out, errw := runCmd(t, "test", "--sieve", filepath.Join(dir, "main.sieve"), "--sieve-global-dir", global, msg)
	if code != exitOK || !strings.Contains(out, "flag lists site") {
		t.Errorf("--sieve-global-dir: exit %d\n%s%s", code, out, errw)
	}

	cfg := "sieve:\n  global_dir: " + global + "\naccounts: []\nrulesets:\n  inbox:\n    - sieve: main.sieve\n"
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(cfg), 0o600)
	code, out, errw = runCmd(t, "test", "-c", filepath.Join(dir, "c.yaml"), "--ruleset", "inbox", msg)
	if code != exitOK || !strings.Contains(out, "flag lists site") {
		t.Errorf("config sieve.global_dir: exit %d\n%s%s", code, out, errw)
	}
	code, out, errw = runCmd(t, "test", "-c", filepath.Join(dir, "c.yaml"), "--ruleset", "inbox", "--sieve-global-dir", other, msg)
	if code != exitOK || !strings.Contains(out, "flag lists other") {
		t.Errorf("--sieve-global-dir over the config: exit %d\n%s%s", code, out, errw)
	}
}
