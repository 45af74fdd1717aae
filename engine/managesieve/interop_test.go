package managesieve

import (
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSieveConnect drives the server with sieve-connect, a widely used
// ManageSieve client (Debian package sieve-connect), over STARTTLS: the
// same exchanges Thunderbird's and Roundcube's clients make.
func TestSieveConnect(t *testing.T) {
	bin, err := exec.LookPath("sieve-connect")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sieve-connect is not installed (.ci/install-test-deps.sh installs it)")
		}
		t.Skip("sieve-connect is not installed")
	}
	cert := selfSigned(t)
	ts := startServer(t, func(o *Options) {
		o.AllowPlaintext = false
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	})
	host, port, _ := strings.Cut(ts.addr, ":")
	dir := t.TempDir()
	run := func(password string, args ...string) (string, error) {
		t.Helper()
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		pw.WriteString(password + "\n")
		pw.Close()
		defer pr.Close()
		cmd := exec.Command(bin, append([]string{"--server", host, "--port", port, "--user", "alice",
			"--passwordfd", "3", "--notlsverify", "--authmech", "PLAIN"}, args...)...)
		cmd.ExtraFiles = []*os.File{pr}
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run("secret", args...)
		if err != nil {
			t.Fatalf("sieve-connect %v: %v\n%s", args, err, out)
		}
		return out
	}

	script := "require \"fileinto\";\r\nif header :contains \"subject\" \"invoice\" { fileinto \"Bills\"; }\r\n"
	local := filepath.Join(dir, "rules.sieve")
	os.WriteFile(local, []byte(script), 0o600)
	must("--upload", "--localsieve", local, "--remotesieve", "rules")
	must("--activate", "--remotesieve", "rules")
	if out := must("--list"); !strings.Contains(out, "rules") || !strings.Contains(out, "ACTIVE") {
		t.Fatalf("--list:\n%s", out)
	}
	back := filepath.Join(dir, "back.sieve")
	must("--download", "--remotesieve", "rules", "--localsieve", back)
	if b, _ := os.ReadFile(back); string(b) != script {
		t.Fatalf("downloaded %q, uploaded %q", b, script)
	}
	if name, _, _ := ts.store.Active("acct-alice"); name != "rules" {
		t.Fatalf("active script %q", name)
	}
	if n := len(ts.changes()); n != 1 {
		t.Fatalf("Changed called %d times, want 1 (the activation)", n)
	}

	// A broken script is refused with the daemon's located error.
	bad := filepath.Join(dir, "bad.sieve")
	os.WriteFile(bad, []byte("keep;\r\nsyntax error;\r\n"), 0o600)
	out, err := run("secret", "--upload", "--localsieve", bad, "--remotesieve", "bad")
	if err == nil || !strings.Contains(out, "bad:2:1: unknown command") {
		t.Fatalf("uploading a broken script: %v\n%s", err, out)
	}
	if _, err := ts.store.Get("acct-alice", "bad"); err == nil {
		t.Fatal("a refused script was stored")
	}

	// The active script cannot be deleted; deactivated, it can.
	if out, err := run("secret", "--delete", "--remotesieve", "rules"); err == nil {
		t.Fatalf("deleting the active script succeeded:\n%s", out)
	}
	must("--deactivate")
	must("--delete", "--remotesieve", "rules")
	if names, _ := ts.store.List("acct-alice"); len(names) != 0 {
		t.Fatalf("left: %v", names)
	}

	if out, err := run("wrong", "--list"); err == nil {
		t.Fatalf("a wrong password listed scripts:\n%s", out)
	}
}
