package config

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain sets the variables the test configs name in password_env:
// Validate refuses a variable that is not set.
func TestMain(m *testing.M) {
	os.Setenv("MW_PASS", "pw")
	os.Setenv("P", "pw")
	os.Exit(m.Run())
}

// issueSnippet is the config from the issue; it must load exactly as written.
const issueSnippet = `state_dir: ./state                # bbolt file(s) live here; created if missing
accounts:
  - name: test
    host: 127.0.0.1
    port: 10143
    tls: none                     # implicit (default; port 993) | starttls | none
    insecure_plaintext: true      # required when tls is none; refused otherwise
    username: user1
    password_file: ./pass         # or password_env: VAR, or password_command: "pass show mail"
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
      actions: [{flag: "\\Flagged"}, {flag: vip}]
`

// writeDir makes a config directory holding a private password file.
func writeDir(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pass"), []byte("pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mailwarden.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestIssueSnippet(t *testing.T) {
	dir := writeDir(t, issueSnippet)
	c, err := Load(filepath.Join(dir, "mailwarden.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.StateDir != filepath.Join(dir, "state") {
		t.Errorf("StateDir = %q", c.StateDir)
	}
	a := c.Account("test")
	if a == nil || a.Host != "127.0.0.1" || a.Port != 10143 || a.TLS != TLSNone || !a.InsecurePlaintext ||
		a.Username != "user1" || a.PasswordFile != filepath.Join(dir, "pass") || a.IdleRefresh != 10*time.Minute {
		t.Fatalf("account = %+v", a)
	}
	if len(a.Watch) != 1 || a.Watch[0].Mailbox != "INBOX" || a.Watch[0].Ruleset != "inbox" ||
		a.Watch[0].Start != StartNew || a.Watch[0].PollInterval != time.Minute {
		t.Errorf("watch = %+v", a.Watch)
	}
	rs := c.Ruleset("inbox")
	if rs == nil || len(rs.Steps) != 2 {
		t.Fatalf("ruleset = %+v", rs)
	}
	s := rs.Steps[0]
	file := filepath.Join(dir, "mailwarden.yaml")
	if s.Name != "invoices" || s.When != `subject contains "invoice"` || !s.Stop ||
		s.Pos != (Pos{File: file, Line: 15, Col: 7}) || s.WhenPos != (Pos{File: file, Line: 16, Col: 14}) || !s.WhenInline {
		t.Errorf("step 0 = %+v", s)
	}
	if len(s.Actions) != 1 || s.Actions[0] != (Action{Kind: "move", Arg: "Finance", Pos: Pos{File: file, Line: 17, Col: 18}}) {
		t.Errorf("actions 0 = %+v", s.Actions)
	}
	b := rs.Steps[1]
	if len(b.Actions) != 2 || b.Actions[0].Arg != `\Flagged` || b.Actions[1] != (Action{Kind: "flag", Arg: "vip", Pos: Pos{File: file, Line: 21, Col: 39}}) {
		t.Errorf("actions 1 = %+v", b.Actions)
	}
	if c.Log.Level != "info" || c.Log.Format != "text" || c.Limits.ExprMaxNodes != 1000 || c.Limits.ActionsPerMessage != 64 {
		t.Errorf("defaults: %+v %+v", c.Log, c.Limits)
	}
	got, err := a.Secret(context.Background())
	if err != nil || got != "pass" {
		t.Errorf("Secret = %q, %v", got, err)
	}
}

// base is a valid config that the table below breaks one piece at a time.
const base = `accounts:
  - name: a
    host: imap.example.com
    username: me
    password_env: MW_PASS
    watch:
      - mailbox: INBOX
        ruleset: inbox
rulesets:
  inbox:
    - name: r
      when: 'true'
      actions: [{flag: x}]
`

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"valid base", base, nil},
		{"unknown tls value", strings.Replace(base, "    username: me\n", "    username: me\n    tls: ssl\n", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].tls: unknown value "ssl" (hint: one of implicit, starttls, none)`,
		}},
		{"tls typo", strings.Replace(base, "    username: me\n", "    username: me\n    tls: starttsl\n", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].tls: unknown value "starttsl" (hint: did you mean starttls?)`,
		}},
		{"unknown keys with hints", strings.Replace(strings.Replace(base, "host:", "hots:", 1), "ruleset: inbox", "rulset: inbox", 1), []string{
			`mailwarden.yaml:3:5: accounts[0].hots: unknown key (hint: did you mean host?)`,
			`mailwarden.yaml:8:9: accounts[0].watch[0].rulset: unknown key (hint: did you mean ruleset?)`,
			`mailwarden.yaml:2:5: accounts[0].host: missing (hint: the IMAP server's name or address)`,
			`mailwarden.yaml:7:9: accounts[0].watch[0].ruleset: missing (hint: name one of the rulesets under rulesets:)`,
		}},
		{"journal_retention too short", "journal_retention: 12h\n" + base, []string{
			`mailwarden.yaml:1:1: journal_retention: must be at least 1d, got 12h0m0s (hint: undo and crash recovery read the journal; 90d is the default)`,
		}},
		{"journal_retention not a duration", "journal_retention: forever\n" + base, []string{
			`mailwarden.yaml:1:1: journal_retention: invalid duration "forever": expected a number (hint: e.g. 90s, 10m, 1h30m, 7d, 2w)`,
		}},
		{"unknown top-level key", "jobs: []\nshedules: []\n" + base, []string{
			`mailwarden.yaml:1:1: jobs: unknown key (hint: known keys are state_dir, journal_retention, log, limits, http, sieve, smtp, managesieve, cluster, accounts, rulesets, schedules)`,
			`mailwarden.yaml:2:1: shedules: unknown key (hint: did you mean schedules?)`,
		}},
		{"tls none without insecure_plaintext", strings.Replace(base, "    username: me\n", "    username: me\n    tls: none\n", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].tls: none sends the password in clear text (hint: use tls: implicit or starttls, or add insecure_plaintext: true for a server on a trusted network)`,
		}},
		{"insecure_plaintext with tls", strings.Replace(base, "    username: me\n", "    username: me\n    insecure_plaintext: true\n", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].insecure_plaintext: only allowed with tls: none (hint: remove it, or set tls: none)`,
		}},
		{"bad types", strings.Replace(base, "    username: me\n", "    username: me\n    port: imap\n    insecure_plaintext: yes\n    idle_refresh: 5 minutes\n    watch: INBOX\n", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].port: want a whole number, got "imap"`,
			`mailwarden.yaml:6:5: accounts[0].insecure_plaintext: want true or false, got "yes"`,
			`mailwarden.yaml:7:5: accounts[0].idle_refresh: invalid duration "5 minutes": unknown unit " minutes" (hint: e.g. 90s, 10m, 1h30m, 7d, 2w)`,
			`mailwarden.yaml:8:5: accounts[0].watch: want a list, got "INBOX"`,
			`mailwarden.yaml:10:5: accounts[0].watch: duplicate key (first at line 8)`,
			`mailwarden.yaml:5:5: accounts[0].port: must be between 1 and 65535, got 0`,
		}},
		{"credentials", strings.Replace(base, "    password_env: MW_PASS\n", "    password_env: MW_PASS\n    password_command: pass show mail\n", 1), []string{
			`mailwarden.yaml:6:5: accounts[0].password_command: more than one credential source (password_env, password_command) (hint: keep one)`,
		}},
		{"no credentials", strings.Replace(base, "    password_env: MW_PASS\n", "", 1), []string{
			`mailwarden.yaml:2:5: accounts[0]: no credentials (hint: set one of password_file, password_env, password_command, oauth2)`,
		}},
		{"password file too open", strings.Replace(base, "password_env: MW_PASS", "password_file: open", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].password_file: DIR/open is accessible by group or others (mode 0644) (hint: chmod 600 DIR/open)`,
		}},
		{"password file missing", strings.Replace(base, "password_env: MW_PASS", "password_file: nope", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].password_file: DIR/nope: no such file or directory (hint: create it, mode 0600, with the secret on one line)`,
		}},
		// Secrets that cannot work are load errors, not a retry loop at
		// every connect.
		{"password file empty", strings.Replace(base, "password_env: MW_PASS", "password_file: empty", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].password_file: DIR/empty is empty (hint: put the secret in it, on one line)`,
		}},
		{"token file empty", strings.Replace(base, "    password_env: MW_PASS\n", "    oauth2: {mechanism: xoauth2, token_file: empty}\n", 1), []string{
			`mailwarden.yaml:5:34: accounts[0].oauth2.token_file: DIR/empty is empty (hint: put the secret in it, on one line)`,
		}},
		{"password file not a file", strings.Replace(base, "password_env: MW_PASS", "password_file: /dev/null", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].password_file: /dev/null is not a regular file`,
		}},
		{"password_env not set", strings.Replace(base, "password_env: MW_PASS", "password_env: MW_UNSET_FOR_TEST", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].password_env: environment variable MW_UNSET_FOR_TEST is not set (hint: export it where mailwarden runs (under systemd: Environment= or EnvironmentFile=))`,
		}},
		{"password_env empty", strings.Replace(base, "password_env: MW_PASS", "password_env: MW_EMPTY_FOR_TEST", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].password_env: environment variable MW_EMPTY_FOR_TEST is empty (hint: export it where mailwarden runs (under systemd: Environment= or EnvironmentFile=))`,
		}},
		{"oauth2", strings.Replace(base, "    password_env: MW_PASS\n", "    oauth2: {mechanism: xoauth, token_command: x, token_file: pass}\n", 1), []string{
			`mailwarden.yaml:5:14: accounts[0].oauth2.mechanism: unknown value "xoauth" (hint: did you mean xoauth2?)`,
			`mailwarden.yaml:5:51: accounts[0].oauth2.token_file: more than one token source (token_command, token_file) (hint: keep one)`,
		}},
		{"oauth2 incomplete", strings.Replace(base, "    password_env: MW_PASS\n", "    oauth2:\n      mechanism: oauthbearer\n", 1), []string{
			"mailwarden.yaml:5:5: accounts[0].oauth2: no token source (hint: set provider (google, microsoft or generic; then run `mailwarden auth login a`), token_command (re-run to refresh the token) or token_file)",
		}},
		{"watch problems", strings.Replace(base, "        ruleset: inbox\n", "        ruleset: inbx\n        start: old\n        poll_interval: 90d\n      - mailbox: INBOX\n        ruleset: inbox\n", 1), []string{
			`mailwarden.yaml:8:9: accounts[0].watch[0].ruleset: unknown ruleset "inbx" (hint: did you mean inbox?)`,
			`mailwarden.yaml:9:9: accounts[0].watch[0].start: unknown value "old" (hint: one of new, all)`,
			`mailwarden.yaml:11:9: accounts[0].watch[1].mailbox: mailbox "INBOX" is already watched (accounts[0].watch[0]) (hint: watch each mailbox once)`,
		}},
		{"duplicate account and idle_refresh", strings.Replace(base, "rulesets:\n", "  - name: a\n    host: h\n    username: u\n    password_env: P\n    idle_refresh: 45m\n    tls_ca_file: ca.pem\nrulesets:\n", 1), []string{
			`mailwarden.yaml:9:5: accounts[1].name: duplicate account name "a" (also accounts[0])`,
			`mailwarden.yaml:14:5: accounts[1].tls_ca_file: DIR/ca.pem: no such file or directory`,
			`mailwarden.yaml:13:5: accounts[1].idle_refresh: must be between 1m and 29m, got 45m0s (hint: each refresh is DONE, NOOP, IDLE; servers may drop an IDLE after 30 minutes (RFC 2177); the default is 10m)`,
		}},
		// 0s is not "the default": it would re-IDLE without pause.
		{"idle_refresh zero", strings.Replace(base, "    username: me\n", "    username: me\n    idle_refresh: 0s\n", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].idle_refresh: must be between 1m and 29m, got 0s (hint: each refresh is DONE, NOOP, IDLE; servers may drop an IDLE after 30 minutes (RFC 2177); the default is 10m)`,
		}},
		{"idle_refresh too short", strings.Replace(base, "    username: me\n", "    username: me\n    idle_refresh: 30s\n", 1), []string{
			`mailwarden.yaml:5:5: accounts[0].idle_refresh: must be between 1m and 29m, got 30s (hint: each refresh is DONE, NOOP, IDLE; servers may drop an IDLE after 30 minutes (RFC 2177); the default is 10m)`,
		}},
		{"rule shape", strings.Replace(base, "      actions: [{flag: x}]\n",
			"      actions: [{flag: x}, {mvoe: X}, {delete: false}, {move: Y, flag: z}, Inbox, {move: }]\n      stop: maybe\n    - sieve: a.sieve\n      name: s\n    - when: 'true'\n    - name: r\n      stop: true\n      when: |\n        true\n", 1), []string{
			`mailwarden.yaml:13:29: rulesets.inbox[0].actions[1]: unknown action "mvoe" (hint: did you mean move?)`,
			`mailwarden.yaml:13:40: rulesets.inbox[0].actions[2].delete: delete: false does nothing (hint: remove the action)`,
			`mailwarden.yaml:13:56: rulesets.inbox[0].actions[3]: want one of move, copy, flag, unflag, delete with its value, got a mapping with 2 keys (hint: write each action as {move: Mailbox}, {flag: vip}, …)`,
			`mailwarden.yaml:13:76: rulesets.inbox[0].actions[4]: want one of move, copy, flag, unflag, delete with its value, got "Inbox" (hint: write each action as {move: Mailbox}, {flag: vip}, …)`,
			`mailwarden.yaml:13:84: rulesets.inbox[0].actions[5].move: want a mailbox name, got nothing`,
			`mailwarden.yaml:14:7: rulesets.inbox[0].stop: want true or false, got "maybe"`,
			`mailwarden.yaml:16:7: rulesets.inbox[1].name: a sieve step takes no name (hint: put the rule in a step of its own)`,
			`mailwarden.yaml:17:7: rulesets.inbox[2].name: missing (hint: every rule needs a name, used in logs, the journal and ` + "`mailwarden test`" + `)`,
			`mailwarden.yaml:17:7: rulesets.inbox[2].actions: missing (hint: add actions, or ` + "`stop: true`" + ` to end the ruleset for matching messages)`,
			`mailwarden.yaml:18:7: rulesets.inbox[3].name: duplicate rule name "r" in ruleset inbox (first at line 11) (hint: rule names identify rules in logs and the journal)`,
		}},
		{"empty ruleset and limits", "limits: {expr_max_nodes: 0, actions_per_message: 5}\nlog: {level: verbose, format: json}\n" + strings.Replace(base, "  inbox:\n", "  empty: []\n  inbox:\n", 1), []string{
			`mailwarden.yaml:12:3: rulesets.empty: the ruleset is empty (hint: add rules, or remove the ruleset)`,
			`mailwarden.yaml:2:7: log.level: unknown value "verbose" (hint: one of debug, info, warn, error)`,
			`mailwarden.yaml:1:10: limits.expr_max_nodes: must be between 1 and 100000, got 0`,
		}},
		{"sieve include directories", "sieve:\n  personal_dir: nope\n  global_dir: open\n  global_dri: x\n" + base, []string{
			`mailwarden.yaml:4:3: sieve.global_dri: unknown key (hint: did you mean global_dir?)`,
			`mailwarden.yaml:2:3: sieve.personal_dir: DIR/nope: no such file or directory (hint: the directory Sieve's include reads scripts from)`,
			`mailwarden.yaml:3:3: sieve.global_dir: DIR/open is not a directory (hint: name the directory that holds the scripts)`,
		}},
		{"syntax error", "accounts:\n  - name: [\n", []string{
			`mailwarden.yaml:2: syntax error: did not find expected node content`,
		}},
		{"tabs", "accounts:\n\t- name: a\n", []string{
			`mailwarden.yaml:2: syntax error: found character that cannot start any token`,
		}},
		{"empty", "# nothing\n", []string{
			`mailwarden.yaml: the file is empty (hint: see examples/mailwarden.yaml)`,
		}},
		{"smtp valid", "smtp:\n  host: smtp.example.com\n  username: me\n  password_env: MW_PASS\n  from: Me <me@example.com>\n" + base, nil},
		{"smtp problems", "smtp:\n  tls: none\n  port: 0\n  from: not an address\n  password_file: pass\n  tls_server_name: x\n" + base, []string{
			`mailwarden.yaml:1:1: smtp.host: missing (hint: the submission server's name or address)`,
			`mailwarden.yaml:3:3: smtp.port: must be between 1 and 65535, got 0`,
			`mailwarden.yaml:2:3: smtp.tls: none sends the password and the mail in clear text (hint: use tls: implicit (port 465) or starttls (port 587), or add insecure_plaintext: true for a server on a trusted network)`,
			`mailwarden.yaml:6:3: smtp.tls_server_name: has no effect with tls: none (hint: remove it, or use tls: implicit or starttls)`,
			`mailwarden.yaml:4:3: smtp.from: invalid address "not an address" (hint: e.g. "me@example.com" or "Me <me@example.com>")`,
			`mailwarden.yaml:5:3: smtp.password_file: a password without username (hint: add username, or remove the password for a server that needs no login)`,
		}},
		{"smtp missing from, unknown key", "smtp:\n  host: h\n  user: me\n" + base, []string{
			`mailwarden.yaml:3:3: smtp.user: unknown key (hint: known keys are host, port, tls, insecure_plaintext, tls_ca_file, tls_server_name, username, password_file, password_env, password_command, from)`,
			`mailwarden.yaml:1:1: smtp.from: missing (hint: your address: the sender of redirects and of vacation replies)`,
		}},
		{"unsupported on a sieve step", strings.Replace(base, "    - name: r\n      when: 'true'\n      actions: [{flag: x}]\n", "    - sieve: a.sieve\n      unsupported: skipp\n    - name: r\n      when: 'true'\n      actions: [{flag: x}]\n      unsupported: skip\n", 1), []string{
			`mailwarden.yaml:16:7: rulesets.inbox[1].unsupported: only a sieve step takes unsupported (hint: it says what a Sieve script does with commands mailwarden cannot carry out)`,
			`mailwarden.yaml:12:7: rulesets.inbox[0].unsupported: unknown value "skipp" (hint: did you mean skip?)`,
		}},
		{"managesieve valid", "managesieve:\n  listen: \":4190\"\n  tls: none\n  insecure_plaintext: true\n" + base, nil},
		{"managesieve problems", "managesieve:\n  listen: 0.0.0.0:4190\n  tls: none\n  insecure_plaintext: true\n  max_scripts: 0\n" + base, []string{
			`mailwarden.yaml:2:3: managesieve.listen: tls: none is allowed on a loopback address only, got "0.0.0.0" (hint: listen on 127.0.0.1, or use tls: starttls)`,
			`mailwarden.yaml:5:3: managesieve.max_scripts: must be positive, got 0 (hint: scripts per account, such as 50)`,
		}},
		{"managesieve starttls without a certificate", "managesieve:\n  listen: \":4190\"\n  cert_file: nope.pem\n  tsl: none\n" + base, []string{
			`mailwarden.yaml:4:3: managesieve.tsl: unknown key (hint: did you mean tls?)`,
			`mailwarden.yaml:3:3: managesieve.cert_file: DIR/nope.pem: no such file or directory`,
			`mailwarden.yaml:1:1: managesieve.key_file: missing (hint: TLS needs the server's certificate and key (PEM); or tls: none with insecure_plaintext on a loopback address)`,
		}},
		{"managesieve step", strings.Replace(base, "    - name: r\n      when: 'true'\n      actions: [{flag: x}]\n", "    - managesieve: active\n      unsupported: skip\n    - managesieve: all\n    - managesieve: active\n      sieve: a.sieve\n", 1), []string{
			`mailwarden.yaml:13:20: rulesets.inbox[1].managesieve: want active, got "all" (hint: ` + "`managesieve: active`" + ` runs the account's active script, as stored through the ManageSieve server)`,
			`mailwarden.yaml:14:7: rulesets.inbox[2].managesieve: a step is a sieve script or the managesieve one, not both (hint: put each in a step of its own)`,
		}},
		{"not a mapping", "- a\n", []string{
			`mailwarden.yaml:1:1: want a mapping of state_dir, journal_retention, log, limits, http, sieve, smtp, managesieve, cluster, accounts, rulesets, schedules, got a list`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, tt.src)
			if err := os.WriteFile(filepath.Join(dir, "open"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "empty"), []byte(" \n"), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("MW_EMPTY_FOR_TEST", "")
			_, errs := Parse("mailwarden.yaml", dir, []byte(tt.src))
			var got []string
			for _, e := range errs {
				got = append(got, strings.ReplaceAll(e.Error(), dir, "DIR"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestLoadErrorList(t *testing.T) {
	dir := writeDir(t, "accounts:\n  - name: a\n    tls: ssl\n")
	c, err := Load(filepath.Join(dir, "mailwarden.yaml"))
	var list ErrorList
	if c != nil || !errors.As(err, &list) || len(list) != 4 {
		t.Fatalf("Load = %v, %v", c, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Path != "accounts[0].host" {
		t.Errorf("first error = %+v", e)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	src := strings.Replace(base, "    username: me\n", "    username: me\n    tls: starttls\n    idle_refresh: 5m\n", 1)
	c, errs := Parse("x.yaml", "/etc/mw", []byte(src))
	if errs != nil {
		t.Fatal(errs)
	}
	if a := c.Accounts[0]; a.Port != 143 || a.IdleRefresh != 5*time.Minute {
		t.Errorf("account = %+v", a)
	}
	if c.StateDir != "/etc/mw/state" {
		t.Errorf("StateDir = %q", c.StateDir)
	}
	c2, _ := Parse("x.yaml", "/etc/mw", []byte(base))
	if c2.Accounts[0].Port != 993 || c2.Accounts[0].TLS != TLSImplicit {
		t.Errorf("implicit default: %+v", c2.Accounts[0])
	}
	// Validate is idempotent.
	if errs := c.Validate(); errs != nil || c.StateDir != "/etc/mw/state" {
		t.Errorf("second Validate: %v %q", errs, c.StateDir)
	}
}

func TestSMTPDefaults(t *testing.T) {
	for _, tt := range []struct {
		tls  string
		port int
	}{{"", 465}, {"tls: starttls\n  ", 587}, {"tls: none\n  insecure_plaintext: true\n  ", 25}} {
		src := "smtp:\n  " + tt.tls + "host: smtp.example.com\n  from: me@example.com\nsieve:\n  envelope_from_headers: true\n  vacation_max_age: 2d\n" + base
		c, errs := Parse("x.yaml", "/etc/mw", []byte(src))
		if errs != nil {
			t.Fatal(errs)
		}
		if c.SMTP.Port != tt.port || c.SMTP.Addr() != "smtp.example.com:"+strconv.Itoa(tt.port) {
			t.Errorf("%q: port %d", tt.tls, c.SMTP.Port)
		}
		if !c.Sieve.EnvelopeFromHeaders || c.Sieve.VacationMaxAge != 48*time.Hour {
			t.Errorf("sieve = %+v", c.Sieve)
		}
		if got := c.UserAddresses(); len(got) != 1 || got[0] != "me@example.com" {
			t.Errorf("UserAddresses = %v", got)
		}
	}
	c, _ := Parse("x.yaml", "/etc/mw", []byte(base))
	if c.SMTP != nil {
		t.Errorf("SMTP without section: %+v", c.SMTP)
	}
}

func TestSieveIncludeDirs(t *testing.T) {
	dir := writeDir(t, "sieve:\n  personal_dir: scripts\n  global_dir: /\n"+base)
	if err := os.Mkdir(filepath.Join(dir, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Load(filepath.Join(dir, "mailwarden.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sieve.PersonalDir != filepath.Join(dir, "scripts") || c.Sieve.GlobalDir != "/" {
		t.Errorf("Sieve = %+v", c.Sieve)
	}
	c2, errs := Parse("x.yaml", "/etc/mw", []byte(base))
	if errs != nil || c2.Sieve.PersonalDir != "" || c2.Sieve.GlobalDir != "" {
		t.Errorf("without sieve: %+v %v", c2.Sieve, errs)
	}
}

func TestSieveStepAndWhenPositions(t *testing.T) {
	src := `rulesets:
  inbox:
    - sieve: rules/filter.sieve
    - sieve: /abs/x.sieve
    - name: dq
      when: "subject == \"a\""
      stop: true
    - name: plain
      when: size > 10
      stop: true
    - name: folded
      when: >
        size > 10
      stop: true
    - name: sq-escaped
      when: 'subject == ''a'''
      stop: true
    - name: dq-plain
      when: "size > 10 && subject == 'é'"
      stop: true
`
	c, errs := Parse("m.yaml", "/cfg", []byte(src))
	if errs != nil {
		t.Fatal(errs)
	}
	st := c.Ruleset("inbox").Steps
	if st[0].Sieve != "/cfg/rules/filter.sieve" || st[0].SievePos != (Pos{File: "m.yaml", Line: 3, Col: 14}) || !st[0].IsSieve() {
		t.Errorf("sieve 0: %+v", st[0])
	}
	if st[1].Sieve != "/abs/x.sieve" {
		t.Errorf("sieve 1: %+v", st[1])
	}
	for i, want := range []struct {
		pos    Pos
		inline bool
		cols   []int
	}{
		{Pos{File: "m.yaml", Line: 6, Col: 14}, false, []int{14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28}}, // subject == \"a\"
		{Pos{File: "m.yaml", Line: 9, Col: 13}, true, nil},
		{Pos{File: "m.yaml", Line: 12, Col: 13}, false, nil},
		{Pos{File: "m.yaml", Line: 16, Col: 14}, false, []int{14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28}}, // subject == ''a''
		{Pos{File: "m.yaml", Line: 19, Col: 14}, true, nil},
	} {
		s := st[i+2]
		if s.WhenPos != want.pos || s.WhenInline != want.inline || !slices.Equal(s.WhenCols, want.cols) {
			t.Errorf("%s: WhenPos %v inline %v cols %v, want %v %v %v", s.Name, s.WhenPos, s.WhenInline, s.WhenCols, want.pos, want.inline, want.cols)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90s": 90 * time.Second, "10m": 10 * time.Minute, "1h30m": 90 * time.Minute, "90d": 90 * 24 * time.Hour,
		"2w": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1.5d": 36 * time.Hour, "0": 0, "1w2d3h": (9*24 + 3) * time.Hour,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "5", "-1h", "d", "5 minutes", "1y", "99999999w"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	t.Setenv("MW_TEST_PASS", " s3cret\n")
	a := &Account{Name: "a", PasswordEnv: "MW_TEST_PASS"}
	if s, err := a.Secret(ctx); s != "s3cret" || err != nil {
		t.Errorf("env: %q %v", s, err)
	}
	a = &Account{Name: "a", PasswordEnv: "MW_TEST_UNSET_VAR"}
	if _, err := a.Secret(ctx); err == nil || err.Error() != "account a: password_env: environment variable MW_TEST_UNSET_VAR is not set" {
		t.Errorf("unset env: %v", err)
	}
	a = &Account{Name: "a", PasswordCommand: "printf 'from-cmd\\n'"}
	if s, err := a.Secret(ctx); s != "from-cmd" || err != nil {
		t.Errorf("command: %q %v", s, err)
	}
	a = &Account{Name: "a", PasswordCommand: "echo leaked; exit 3"}
	if _, err := a.Secret(ctx); err == nil || err.Error() != "account a: password_command: command failed: exit status 3" {
		t.Errorf("failing command: %v", err)
	}
	// A failing command's stderr says why; what it printed on stdout (the
	// secret, perhaps) never appears, not even echoed on stderr.
	a = &Account{Name: "a", PasswordCommand: "echo hunter2; echo 'gpg: decryption failed: No secret key' >&2; echo 'tried hunter2' >&2; exit 2"}
	if _, err := a.Secret(ctx); err == nil || err.Error() != "account a: password_command: command failed: exit status 2: stderr: gpg: decryption failed: No secret key / tried <redacted>" {
		t.Errorf("failing command with stderr: %v", err)
	}
	a = &Account{Name: "a", PasswordCommand: "head -c 100000 /dev/zero | tr '\\0' x >&2; exit 1"}
	if _, err := a.Secret(ctx); err == nil || err.Error() != "account a: password_command: command failed: exit status 1: stderr: "+strings.Repeat("x", 300)+"…" {
		t.Errorf("long stderr: %v", err)
	}
	a = &Account{Name: "a", PasswordCommand: "true"}
	if _, err := a.Secret(ctx); err == nil || err.Error() != "account a: password_command: the secret is empty" {
		t.Errorf("empty: %v", err)
	}
	p := filepath.Join(dir, "tok")
	os.WriteFile(p, []byte("tok\n"), 0o640)
	a = &Account{Name: "a", OAuth2: &OAuth2{Mechanism: "xoauth2", TokenFile: p}}
	if _, err := a.Secret(ctx); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("open token file: %v", err)
	}
	os.Chmod(p, 0o600)
	if s, err := a.Secret(ctx); s != "tok" || err != nil {
		t.Errorf("token file: %q %v", s, err)
	}
	a = &Account{Name: "a", OAuth2: &OAuth2{Mechanism: "xoauth2", TokenCommand: "echo t1"}}
	if s, err := a.Secret(ctx); s != "t1" || err != nil {
		t.Errorf("token command: %q %v", s, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	a = &Account{Name: "a", PasswordCommand: "sleep 5; echo x"}
	if _, err := a.Secret(cctx); err == nil {
		t.Error("cancelled: no error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(issueSnippet))
	f.Add([]byte(base))
	f.Add([]byte("rulesets: {a: [{sieve: x}, {name: n, when: 'x', actions: [{move: &a A}, *a]}]}"))
	f.Add([]byte("accounts: [{template: t, users: [a, b], name: 'x{user}', host: h, username: '{user}', password_env: X}]"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if bytes.Contains(src, []byte("users_command")) {
			t.Skip("Parse runs a template's users_command: never a fuzzed one")
		}
		c, errs := Parse("f.yaml", "/nonexistent", src)
		if c == nil {
			t.Fatal("nil config")
		}
		for _, e := range errs {
			_ = e.Error()
		}
	})
}

func TestJournalRetention(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want time.Duration
	}{
		{base, DefaultJournalRetention},
		{"journal_retention: 30d\n" + base, 30 * 24 * time.Hour},
	} {
		c, errs := Parse("mailwarden.yaml", "/cfg", []byte(tc.src))
		if len(errs) > 0 || c.JournalRetention != tc.want {
			t.Errorf("JournalRetention = %v, %v; want %v", c.JournalRetention, errs, tc.want)
		}
	}
}

// A password file mailwarden cannot read is a load error with a hint (not
// testable as root, who reads every file).
func TestUnreadablePasswordFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	src := strings.Replace(base, "password_env: MW_PASS", "password_file: locked", 1)
	dir := writeDir(t, src)
	if err := os.WriteFile(filepath.Join(dir, "locked"), []byte("pw\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	_, errs := Parse("mailwarden.yaml", dir, []byte(src))
	want := `mailwarden.yaml:5:5: accounts[0].password_file: ` + dir + `/locked: permission denied (hint: the user mailwarden runs as must be able to read it)`
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("errors = %v\nwant %s", errs, want)
	}
}
