package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mailwarden/mailwarden/internal/memimap"
	"github.com/mailwarden/mailwarden/internal/oauthtest"
)

// browser is the person at the terminal: it reads what `auth login`
// prints and does it (enters the device code, or opens the URL).
type browser struct {
	t   *testing.T
	idp *oauthtest.Server
	mu  sync.Mutex
	out bytes.Buffer
	did bool
}

var (
	reCode = regexp.MustCompile(`enter the code\s+(\S+)`)
	reURL  = regexp.MustCompile(`(http://127\.0\.0\.1:\d+/authorize\?\S+)`)
)

func (b *browser) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.out.Write(p)
	if b.did {
		return len(p), nil
	}
	if m := reCode.FindStringSubmatch(b.out.String()); m != nil {
		b.did = true
		b.idp.Approve(m[1], "user")
	} else if m := reURL.FindStringSubmatch(b.out.String()); m != nil {
		b.did = true
		go func() {
			resp, err := http.Get(m[1]) // follows the redirect to mailwarden's loopback listener
			if err != nil {
				b.t.Errorf("browser: %v", err)
				return
			}
			resp.Body.Close()
		}()
	}
	return len(p), nil
}

func (b *browser) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.out.String() }

func TestAuthLogin(t *testing.T) {
	for _, flow := range []string{"device", "loopback"} {
		t.Run(flow, func(t *testing.T) {
			idp := oauthtest.Start()
			defer idp.Close()
			srv, err := memimap.Start(&memimap.Options{OAuth: idp.Check})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			dir := t.TempDir()
			path := filepath.Join(dir, "mailwarden.yaml")
			src := fmt.Sprintf(`accounts:
  - name: work
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: user
    oauth2:
      provider: generic
      client_id: %s
      auth_url: %s
      device_auth_url: %s
      token_url: %s
      scopes: [imap]
      flow: %s
`, srv.Port(), idp.ClientID, idp.AuthURL(), idp.DeviceAuthURL(), idp.TokenURL(), flow)
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			if code := run([]string{"auth", "status", "-c", path}, &bytes.Buffer{}, &stderr); code != exitFail {
				t.Errorf("auth status before login: exit %d, want %d", code, exitFail)
			}
			out := &browser{t: t, idp: idp}
			if code := run([]string{"auth", "login", "work", "-c", path}, out, &stderr); code != exitOK {
				t.Fatalf("auth login: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
			}
			if !strings.Contains(out.String(), "Logged in to 127.0.0.1:") {
				t.Errorf("login did not check the token against the IMAP server:\n%s", out)
			}
			fi, err := os.Stat(filepath.Join(dir, "state", "oauth", "work.json"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("token file: %v (mode %v), want mode 0600", err, fi.Mode())
			}
			var st bytes.Buffer
			if code := run([]string{"auth", "status", "-c", path, "work"}, &st, &stderr); code != exitOK || !strings.Contains(st.String(), "signed in") {
				t.Errorf("auth status after login: exit %d: %s", code, st.String())
			}
		})
	}
}

func TestAuthLoginRefusesAccountWithoutProvider(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mailwarden.yaml")
	os.WriteFile(filepath.Join(dir, "pw"), []byte("x\n"), 0o600)
	os.WriteFile(path, []byte("accounts:\n  - name: a\n    host: h\n    username: u\n    password_file: pw\n"), 0o644)
	var stderr bytes.Buffer
	if code := run([]string{"auth", "login", "-c", path, "a"}, &bytes.Buffer{}, &stderr); code != exitFail ||
		!strings.Contains(stderr.String(), "account a has no oauth2 provider") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
