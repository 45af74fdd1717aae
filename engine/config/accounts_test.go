package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseT(t *testing.T, src string, files map[string]string) (*Config, []string) {
	t.Helper()
	dir := writeDir(t, src)
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("MW_PASS", "secret")
	c, errs := Parse("mailwarden.yaml", dir, []byte(src))
	var got []string
	for _, e := range errs {
		got = append(got, strings.ReplaceAll(e.Error(), dir, "DIR"))
	}
	return c, got
}

const templateSrc = `accounts:
  - template: staff
    users_file: users.txt
    name: "staff-{user}"
    host: mail.example.org
    username: admin
    authorize_as: "{user}"
    password_file: pass
    max_connections: 20
    watch:
      - mailbox: INBOX
        ruleset: inbox
  - name: me
    host: mail.example.org
    username: me
    password_env: MW_PASS
    max_connections: 10
rulesets:
  inbox:
    - name: r
      when: 'true'
      actions: [{flag: x}]
schedules:
  - name: archive
    cron: "@daily"
    accounts: [staff]
    job: archive
    mailbox: INBOX
    older_than: 30d
    to: "Archive/{year}"
`

func TestTemplateExpands(t *testing.T) {
	c, errs := parseT(t, templateSrc, map[string]string{"users.txt": "# staff\nalice\n\nbob@example.org\n  carol  \n"})
	if len(errs) > 0 {
		t.Fatalf("errors: %s", strings.Join(errs, "\n"))
	}
	var got []string
	for _, a := range c.Accounts {
		got = append(got, a.Name+"="+a.Username+">"+a.AuthorizeAs+"@"+a.Template)
	}
	want := "staff-alice=admin>alice@staff staff-bob@example.org=admin>bob@example.org@staff staff-carol=admin>carol@staff me=me>@"
	if strings.Join(got, " ") != want {
		t.Errorf("accounts:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	// Each account has its own copy of the watches.
	c.Accounts[0].Watch[0].Mailbox = "changed"
	if c.Accounts[1].Watch[0].Mailbox != "INBOX" {
		t.Error("template accounts share their watch list")
	}
	if s := c.Schedule("archive"); strings.Join(s.Accounts, ",") != "staff-alice,staff-bob@example.org,staff-carol" {
		t.Errorf("schedule accounts = %v, want the template's users", s.Accounts)
	}
	// One budget per server: the smallest max_connections.
	if b := c.Budgets(); len(b) != 1 || b["mail.example.org:993"] != 10 {
		t.Errorf("Budgets() = %v", b)
	}
}

func TestTemplateUsersSources(t *testing.T) {
	inline := strings.Replace(templateSrc, "    users_file: users.txt\n", "    users: [alice, bob]\n", 1)
	c, errs := parseT(t, inline, nil)
	if len(errs) > 0 || len(c.Accounts) != 3 {
		t.Fatalf("users: %d accounts, errors %v", len(c.Accounts), errs)
	}
	cmd := strings.Replace(templateSrc, "    users_file: users.txt\n", "    users_command: \"printf 'u1\\\\nu2\\\\nu3\\\\n'\"\n", 1)
	c, errs = parseT(t, cmd, nil)
	if len(errs) > 0 || len(c.Accounts) != 4 || c.Accounts[2].Name != "staff-u3" {
		t.Fatalf("users_command: %d accounts, errors %v", len(c.Accounts), errs)
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(string) string
		files map[string]string
		want  []string
	}{
		{"no users source", func(s string) string { return strings.Replace(s, "    users_file: users.txt\n", "", 1) }, nil, []string{
			`mailwarden.yaml:2:5: accounts[0].template: no users (hint: set users: [a, b], users_file: FILE or users_command: COMMAND (e.g. doveadm user '*'))`,
		}},
		{"two sources", func(s string) string {
			return strings.Replace(s, "    users_file: users.txt\n", "    users_file: users.txt\n    users: [a]\n", 1)
		},
			map[string]string{"users.txt": "a\n"}, []string{
				`mailwarden.yaml:4:5: accounts[0].users: more than one source of users (users_file, users) (hint: keep one)`,
			}},
		{"missing file", func(s string) string { return s }, nil, []string{
			`mailwarden.yaml:3:5: accounts[0].users_file: DIR/users.txt: no such file or directory (hint: one user name per line)`,
		}},
		{"failing command", func(s string) string {
			return strings.Replace(s, "    users_file: users.txt\n", "    users_command: \"echo no doveadm >&2; exit 3\"\n", 1)
		}, nil, []string{
			`mailwarden.yaml:3:5: accounts[0].users_command: command failed: exit status 3: stderr: no doveadm (hint: it must print one user name per line and exit 0)`,
		}},
		{"same login for all", func(s string) string { return strings.Replace(s, "    authorize_as: \"{user}\"\n", "", 1) },
			map[string]string{"users.txt": "a\n"}, []string{
				`mailwarden.yaml:6:5: accounts[0].username: every account of the template would log in as "admin": put {user} in username or authorize_as (hint: e.g. authorize_as: "{user}" with an admin's username, or a Dovecot master user: username: "{user}*admin")`,
			}},
		{"bad and duplicate users", func(s string) string { return s }, map[string]string{"users.txt": "a\na b\na\n"}, []string{
			`mailwarden.yaml:3:5: accounts[0].users_file: user 2 of DIR/users.txt: "a b" is not a user name (hint: one user name per line, without spaces)`,
			`mailwarden.yaml:3:5: accounts[0].users_file: user "a" is listed twice in DIR/users.txt`,
		}},
		// One mistake in a template is reported once, not once per user.
		{"error in every account reported once", func(s string) string { return strings.Replace(s, "    host: mail.example.org\n", "", 1) },
			map[string]string{"users.txt": "a\nb\nc\n"}, []string{
				`mailwarden.yaml:2:5: accounts[0].host: missing (hint: the IMAP server's name or address)`,
			}},
		{"unknown account in a schedule", func(s string) string { return strings.Replace(s, "accounts: [staff]", "accounts: [staf]", 1) },
			map[string]string{"users.txt": "a\n"}, []string{
				`mailwarden.yaml:26:5: schedules[0].accounts: accounts[0]: unknown account "staf" (hint: defined accounts: staff-a, me)`,
			}},
		{"max_connections", func(s string) string { return strings.Replace(s, "max_connections: 10", "max_connections: 0", 1) },
			map[string]string{"users.txt": "a\n"}, []string{
				`mailwarden.yaml:17:5: accounts[1].max_connections: must be between 1 and 100000, got 0 (hint: the most connections mailwarden may open to this server, e.g. 15 for Gmail; remove it for no cap)`,
			}},
		{"authorize_as with oauth2", func(s string) string {
			return strings.Replace(s, "    password_file: pass\n", "    oauth2: {provider: google, client_id: x}\n", 1)
		}, map[string]string{"users.txt": "a\n"}, []string{
			`mailwarden.yaml:7:5: accounts[0].authorize_as: not possible with oauth2 (hint: acting as another user needs an admin's password (SASL PLAIN); remove it, or use a password source)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parseT(t, tt.edit(templateSrc), tt.files)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestOAuth2Provider(t *testing.T) {
	acct := func(oauth string) string {
		return strings.Replace(base, "    password_env: MW_PASS\n", oauth, 1)
	}
	c, errs := parseT(t, acct("    oauth2:\n      provider: microsoft\n      client_id: abc\n"), nil)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if o := c.Accounts[0].OAuth2; !o.Builtin() || o.Mechanism != MechXOAuth2 {
		t.Errorf("oauth2 = %+v, want built in with xoauth2", o)
	}
	c, errs = parseT(t, acct("    oauth2:\n      provider: generic\n      client_id: abc\n      mechanism: oauthbearer\n      token_url: https://idp.example/token\n      device_auth_url: https://idp.example/device\n      scopes: imap offline\n"), nil)
	if len(errs) > 0 || strings.Join(c.Accounts[0].OAuth2.Scopes, ",") != "imap,offline" {
		t.Fatalf("generic: errors %v", errs)
	}
	tests := []struct {
		name, oauth string
		want        []string
	}{
		{"unknown provider", "    oauth2: {provider: gmail, client_id: x}\n", []string{
			`mailwarden.yaml:5:14: accounts[0].oauth2.provider: unknown value "gmail" (hint: one of google, microsoft, generic)`,
		}},
		{"no client_id", "    oauth2: {provider: google}\n", []string{
			`mailwarden.yaml:5:14: accounts[0].oauth2.provider: client_id is missing (hint: register an app with the provider (see the README's OAuth2 section) and set client_id)`,
		}},
		{"provider and command", "    oauth2: {provider: google, client_id: x, token_command: y}\n", []string{
			`mailwarden.yaml:5:46: accounts[0].oauth2.token_command: more than one token source (provider, token_command) (hint: keep one)`,
		}},
		{"generic incomplete", "    oauth2: {provider: generic, client_id: x, token_url: \"http://idp.example/t\"}\n", []string{
			`mailwarden.yaml:5:47: accounts[0].oauth2.token_url: invalid endpoint "http://idp.example/t" (hint: an https:// URL (http:// only for 127.0.0.1 or localhost))`,
			`mailwarden.yaml:5:14: accounts[0].oauth2.provider: no authorization endpoint (hint: device_auth_url for the device flow, auth_url for the loopback flow)`,
			`mailwarden.yaml:5:14: accounts[0].oauth2.provider: scopes is missing (hint: the scopes the provider requires for IMAP)`,
		}},
		{"client keys without provider", "    oauth2: {mechanism: xoauth2, token_command: y, client_id: x}\n", []string{
			`mailwarden.yaml:5:52: accounts[0].oauth2.client_id: has no effect without provider (hint: it configures the built-in OAuth2 client: add provider, or remove it)`,
		}},
		{"bad flow and tenant", "    oauth2: {provider: google, client_id: x, flow: browser, tenant: t}\n", []string{
			`mailwarden.yaml:5:46: accounts[0].oauth2.flow: unknown value "browser" (hint: one of device, loopback)`,
			`mailwarden.yaml:5:61: accounts[0].oauth2.tenant: only used by provider microsoft (hint: remove it)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parseT(t, acct(tt.oauth), nil)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

// The users are read at every load: a reload (SIGHUP loads the file
// again) picks up users added since, and a users_command runs again.
func TestTemplateReloadRereadsUsers(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MW_PASS", "secret")
	users := filepath.Join(dir, "users.txt")
	src := strings.Replace(templateSrc, "    users_file: users.txt\n", "    users_command: \"cat "+users+"; echo run >> "+filepath.Join(dir, "runs")+"\"\n", 1)
	path := filepath.Join(dir, "mailwarden.yaml")
	os.WriteFile(filepath.Join(dir, "pass"), []byte("pw\n"), 0o600)
	os.WriteFile(path, []byte(src), 0o644)
	os.WriteFile(users, []byte("alice\n"), 0o600)
	c, err := Load(path)
	if err != nil || c.Account("staff-alice") == nil || len(c.Accounts) != 2 {
		t.Fatalf("first load: %v", err)
	}
	os.WriteFile(users, []byte("alice\nbob\n"), 0o600)
	c, err = Load(path)
	if err != nil || c.Account("staff-bob") == nil || len(c.Schedule("archive").Accounts) != 2 {
		t.Fatalf("reload: %v; accounts %d", err, len(c.Accounts))
	}
	if runs, _ := os.ReadFile(filepath.Join(dir, "runs")); strings.Count(string(runs), "run") != 2 {
		t.Errorf("users_command ran %d times for 2 loads", strings.Count(string(runs), "run"))
	}
}
