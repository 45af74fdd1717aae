package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/memimap"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files in dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	c, err := memimap.SelfSignedCert()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestManageSieveFilesNewMail is issue 13 end to end on a real Dovecot: a
// script put with `mailwarden sieve` (the account's configured
// credential) and activated files new mail; a second one uploaded with
// sieve-connect (the user's own IMAP password, checked against Dovecot)
// replaces it in the running watcher without a reconnect; mail that
// arrived before a script was active stays where it is.
func TestManageSieveFilesNewMail(t *testing.T) {
	certDir := t.TempDir()
	certFile, keyFile := writeCert(t, certDir)
	msAddr := freeAddr(t)
	o := startOpsWith(t, func(o *opsSetup, stateDir string) string {
		return fmt.Sprintf(`state_dir: %s
http:
  listen: %s
managesieve:
  listen: %s
  cert_file: %s
  key_file: %s
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
    - name: tag-all
      when: 'true'
      actions: [{flag: seen-by-mailwarden}]
    - managesieve: active
`, stateDir, o.httpAddr, msAddr, certFile, keyFile, o.srv.Port, o.user)
	})
	o.waitReady(t, 200)
	sieve := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(append([]string{"sieve"}, append(args, "-c", o.path)...), &out, &errb); code != 0 {
			t.Fatalf("mailwarden sieve %v: exit %d\n%s%s\nlogs:\n%s", args, code, out.String(), errb.String(), o.logs.String())
		}
		return out.String()
	}
	waitLog := func(s string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(o.logs.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("the log never said %q\nlogs:\n%s", s, o.logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// No script yet: the step does nothing.
	o.srv.Save(t, o.user, "INBOX", opsMail("before@x", "a@example.com", "invoice 0"))
	waitLog("before@x")

	dir := t.TempDir()
	bills := filepath.Join(dir, "bills.sieve")
	os.WriteFile(bills, []byte("require [\"fileinto\", \"imap4flags\", \"mailbox\"];\r\nif header :contains \"subject\" \"invoice\" {\r\n  addflag \"\\\\Flagged\";\r\n  fileinto :create \"Bills\";\r\n}\r\n"), 0o600)
	broken := filepath.Join(dir, "broken.sieve")
	os.WriteFile(broken, []byte("require \"fileinto\";\r\nfileinto \"X\"\r\n"), 0o600)

	// A broken script is refused with the located compile error.
	var out, errb bytes.Buffer
	if code := run([]string{"sieve", "put", "-c", o.path, "bad", broken}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "bad:3:1:") {
		t.Fatalf("put of a broken script: exit %d\n%s", code, errb.String())
	}
	if got := sieve("put", "--activate", "bills", bills); !strings.Contains(got, "bills is the active script") {
		t.Fatalf("put --activate: %q", got)
	}
	if got := sieve("list"); got != "bills\tactive\n" {
		t.Fatalf("list: %q", got)
	}
	waitLog("rules recompiled")
	o.srv.Save(t, o.user, "INBOX", opsMail("inv1@x", "a@example.com", "invoice 1"))
	o.waitMessages(t, "Bills", 1)
	// imap4flags: the filed copy gets the script's flags (RFC 5232 §3).
	if flags := o.flags(t, "Bills"); !strings.Contains(flags, `\Flagged`) {
		t.Fatalf("flags in Bills: %s", flags)
	}
	if n := o.messages(t, "INBOX"); n != 1 {
		t.Fatalf("INBOX holds %d messages, want 1 (the one from before the script)", n)
	}

	// sieve-connect, with the user's own password (checked against
	// Dovecot's IMAP login), replaces the active script.
	bin, err := exec.LookPath("sieve-connect")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sieve-connect is not installed")
		}
		t.Skip("sieve-connect is not installed")
	}
	host, port, _ := strings.Cut(msAddr, ":")
	sc := func(password string, args ...string) (string, error) {
		pr, pw, _ := os.Pipe()
		pw.WriteString(password + "\n")
		pw.Close()
		defer pr.Close()
		cmd := exec.Command(bin, append([]string{"--server", host, "--port", port, "--user", o.user,
			"--passwordfd", "3", "--notlsverify", "--authmech", "PLAIN"}, args...)...)
		cmd.ExtraFiles = []*os.File{pr}
		cmd.Env = append(os.Environ(), "HOME="+dir)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := sc("wrong", "--list"); err == nil {
		t.Fatalf("a wrong password listed scripts:\n%s", out)
	}
	news := filepath.Join(dir, "news.sieve")
	os.WriteFile(news, []byte("require [\"fileinto\", \"mailbox\"];\r\nif header :contains \"subject\" \"newsletter\" { fileinto :create \"News\"; }\r\n"), 0o600)
	if out, err := sc(o.pass, "--upload", "--localsieve", news, "--remotesieve", "news"); err != nil {
		t.Fatalf("sieve-connect --upload: %v\n%s", err, out)
	}
	before := strings.Count(o.logs.String(), "rules recompiled")
	if out, err := sc(o.pass, "--activate", "--remotesieve", "news"); err != nil {
		t.Fatalf("sieve-connect --activate: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(o.logs.String(), "rules recompiled") == before {
		if time.Now().After(deadline) {
			t.Fatalf("no recompile after SETACTIVE\nlogs:\n%s", o.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	o.srv.Save(t, o.user, "INBOX", opsMail("news1@x", "n@example.com", "weekly newsletter"))
	o.srv.Save(t, o.user, "INBOX", opsMail("inv2@x", "a@example.com", "invoice 2"))
	o.waitMessages(t, "News", 1)
	waitLog("inv2@x")
	if n := o.messages(t, "Bills"); n != 1 {
		t.Fatalf("Bills holds %d, want 1: the old script still ran", n)
	}
	if n := o.messages(t, "INBOX"); n != 2 {
		t.Fatalf("INBOX holds %d, want 2", n)
	}
	// The watcher ran the new script on its open connection.
	if strings.Contains(o.logs.String(), "restarting watchers") {
		t.Fatalf("the watchers restarted:\n%s", o.logs.String())
	}
	if logs := o.logs.String(); strings.Contains(logs, o.pass) {
		t.Fatal("the password reached the log")
	}
}

// flags lists the flags of every message in mailbox.
func (o *opsSetup) flags(t *testing.T, mailbox string) string {
	t.Helper()
	c := o.client(t)
	s, err := c.Select(context.Background(), mailbox)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.FetchNew(context.Background(), 0, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, strings.Join(m.Flags, " "))
	}
	return strings.Join(out, "; ")
}
