package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/managesieve"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/internal/memimap"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// managedConfig is alice (her own password in the config) and a template
// team (an administrator's login acting for bob and carol) on srv, with a
// rule set that runs each account's active ManageSieve script, watched
// and swept.
func managedConfig(t *testing.T, srv *memimap.Server) *config.Config {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "admin.pw"), []byte("admin-pw\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "alice.pw"), []byte("pw-alice\n"), 0o600)
	src := fmt.Sprintf(`state_dir: state
managesieve:
  listen: "127.0.0.1:0"
  tls: none
  insecure_plaintext: true
accounts:
  - name: alice
    host: 127.0.0.1
    port: %[1]d
    tls: none
    insecure_plaintext: true
    username: alice
    password_file: alice.pw
    watch: [{mailbox: INBOX, ruleset: inbox}]
  - template: team
    name: "team-{user}"
    users: [bob, carol]
    host: 127.0.0.1
    port: %[1]d
    tls: none
    insecure_plaintext: true
    username: admin
    authorize_as: "{user}"
    password_file: admin.pw
    watch: [{mailbox: INBOX, ruleset: inbox}]
rulesets:
  inbox:
    - managesieve: active
schedules:
  - {name: sweep, cron: "0 3 * * *", accounts: all, job: sweep, mailbox: INBOX, ruleset: inbox}
`, srv.Port())
	path := filepath.Join(dir, "mailwarden.yaml")
	os.WriteFile(path, []byte(src), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestManagedRulesetVariants(t *testing.T) {
	srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"alice": "pw-alice", "bob": "pw-bob", "carol": "pw-carol"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := managedConfig(t, srv)
	store := SieveStore(cfg)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(store.Put("alice", "main", []byte("require \"fileinto\";\nfileinto \"Alice\";\n")))
	must(store.SetActive("alice", "main"))
	// Stored when it compiled; now it does not (written behind the
	// server's back, as after a config change would).
	must(store.Put("team-bob", "old", []byte("fileinto \"Bob\";\n")))
	must(store.SetActive("team-bob", "old"))

	rt, errs := Compile(cfg, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(rt.Warnings) != 1 || !strings.Contains(rt.Warnings[0].Error(), "account team-bob") ||
		!strings.Contains(rt.Warnings[0].Error(), "old.sieve:1:1") {
		t.Fatalf("warnings: %v", rt.Warnings)
	}
	m := message.Parse([]byte("Subject: x\r\n\r\nbody\r\n"), message.Meta{UID: 1})
	plan := func(account string) string {
		p, err := rt.Ruleset(account, "inbox").Evaluate(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		return p.Summary()
	}
	if got := plan("alice"); !strings.Contains(got, "Alice") {
		t.Fatalf("alice's plan: %q", got)
	}
	for _, acct := range []string{"team-bob", "team-carol"} {
		if rt.Ruleset(acct, "inbox") != rt.Rulesets["inbox"] || plan(acct) != "keep" {
			t.Fatalf("%s runs %q, want the shared set that does nothing", acct, plan(acct))
		}
	}
	if !rt.SweepsManaged() {
		t.Fatal("SweepsManaged = false with a sweep of a managed rule set")
	}
	sweep := rt.Schedules[0].Job.(*jobs.Sweep)
	if len(sweep.PerAccount) != 1 || sweep.PerAccount["alice"] == nil {
		t.Fatalf("sweep variants: %v", sweep.PerAccount)
	}

	// A running engine's watchers take a recompiled runtime.
	e := New(rt, nil, &Options{Dial: NewDialer(cfg, nil)})
	live := e.liveSet("team-carol", "inbox")
	must(store.Put("team-carol", "c", []byte("require \"fileinto\";\nfileinto \"Carol\";\n")))
	must(store.SetActive("team-carol", "c"))
	rt2, errs := Compile(cfg, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e.UseRuntime(rt2)
	if p, _ := live.Evaluate(context.Background(), m); !strings.Contains(p.Summary(), "Carol") {
		t.Fatalf("after UseRuntime carol's watcher plans %q", p.Summary())
	}
}

func TestManageSieveLogins(t *testing.T) {
	srv, err := memimap.Start(&memimap.Options{Users: map[string]string{"alice": "pw-alice", "bob": "pw-bob", "carol": "pw-carol"},
		MasterUsers: map[string]string{"admin": "admin-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := managedConfig(t, srv)
	var changed []string
	ms, err := NewManageSieve(cfg, &ManageSieveOptions{Changed: func(a string) { changed = append(changed, a) }, MaxFailDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ms.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	login := func(authz, user, pass string) (*managesieve.Client, error) {
		c, err := managesieve.DialClient(context.Background(), ln.Addr().String(), &managesieve.ClientOptions{Plaintext: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, c.LoginAs(authz, user, pass)
	}
	for _, tc := range []struct {
		authz, user, pass string
		account           string // "" when the login must fail
	}{
		{"", "alice", "pw-alice", "alice"},           // the configured credential
		{"", "bob", "pw-bob", "team-bob"},            // bob's own IMAP login, checked on the server
		{"carol", "admin", "admin-pw", "team-carol"}, // the administrator acting for carol
		{"", "alice", "wrong", ""},
		{"", "bob", "pw-carol", ""},
		{"", "admin", "admin-pw", ""}, // the administrator's login alone names no account
		{"dave", "admin", "admin-pw", ""},
		{"", "nobody", "x", ""},
	} {
		c, err := login(tc.authz, tc.user, tc.pass)
		if tc.account == "" {
			if err == nil {
				t.Errorf("%s/%s/%s logged in", tc.authz, tc.user, tc.pass)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s/%s: %v", tc.authz, tc.user, err)
			continue
		}
		// The session works on that account's scripts, compiled as the
		// daemon runs them.
		if err := c.Put("s", "require \"fileinto\";\nfileinto \"X\";\n"); err != nil {
			t.Fatal(err)
		}
		if err := c.Activate("s"); err != nil {
			t.Fatal(err)
		}
		if name, _, _ := SieveStore(cfg).Active(tc.account); name != "s" {
			t.Errorf("%s: active script of %s is %q", tc.user, tc.account, name)
		}
		var r *managesieve.Response
		if err := c.Check("fileinto \"X\";"); !errors.As(err, &r) || !strings.Contains(r.Msg, "require") {
			t.Errorf("CHECKSCRIPT without require: %v", err)
		}
	}
	if strings.Join(changed, ",") != "alice,team-bob,team-carol" {
		t.Errorf("Changed: %v", changed)
	}
}

// tls: implicit: the listener speaks TLS from the first byte.
func TestManageSieveImplicitTLS(t *testing.T) {
	dir := t.TempDir()
	cert := testCertFiles(t, dir)
	src := fmt.Sprintf(`state_dir: state
managesieve:
  listen: "127.0.0.1:0"
  tls: implicit
  cert_file: %s
  key_file: %s
accounts:
  - name: a
    host: 127.0.0.1
    username: a
    password_env: MW_IMPLICIT_PW
`, cert.certFile, cert.keyFile)
	t.Setenv("MW_IMPLICIT_PW", "pw")
	path := filepath.Join(dir, "m.yaml")
	os.WriteFile(path, []byte(src), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := ListenManageSieve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := NewManageSieve(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ms.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	// A plaintext client gets no greeting it can read.
	if _, err := managesieve.DialClient(ctx, ln.Addr().String(), &managesieve.ClientOptions{Plaintext: true, Timeout: 2 * time.Second}); err == nil {
		t.Fatal("a plaintext client was greeted on an implicit-TLS listener")
	}
	c, err := managesieve.DialClient(ctx, ln.Addr().String(), &managesieve.ClientOptions{Implicit: true, TLSConfig: cert.client})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Caps()["SASL"] != "PLAIN" {
		t.Fatalf("capabilities: %v", c.Caps())
	}
	if err := c.Login("a", "pw"); err != nil { // the configured credential
		t.Fatal(err)
	}
	if err := c.Put("x", "keep;"); err != nil {
		t.Fatal(err)
	}
}

type certFiles struct {
	certFile, keyFile string
	client            *tls.Config // trusts exactly the certificate
}

func testCertFiles(t *testing.T, dir string) certFiles {
	t.Helper()
	c, err := memimap.SelfSignedCert()
	if err != nil {
		t.Fatal(err)
	}
	f := certFiles{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"),
		client: &tls.Config{RootCAs: c.Pool, ServerName: "127.0.0.1"}}
	if err := os.WriteFile(f.certFile, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.keyFile, c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
