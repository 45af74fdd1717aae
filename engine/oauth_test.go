package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/oauth"
	"github.com/mailwarden/mailwarden/internal/memimap"
	"github.com/mailwarden/mailwarden/internal/oauthtest"
)

// oauthSetup starts a fake OAuth2 provider and an in-memory IMAP server
// that accepts only the provider's live tokens for "user", and loads a
// config whose account uses the provider (built in, generic), signed in
// with the device flow as `auth login` does.
func oauthSetup(t *testing.T, mech string) (*oauthtest.Server, *memimap.Server, *config.Config) {
	t.Helper()
	idp := oauthtest.Start()
	t.Cleanup(idp.Close)
	srv, err := memimap.Start(&memimap.Options{OAuth: idp.Check})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	src := fmt.Sprintf(`state_dir: state
accounts:
  - name: work
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: user
    oauth2:
      provider: generic
      mechanism: %s
      client_id: %s
      device_auth_url: %s
      token_url: %s
      scopes: [imap, offline_access]
`, srv.Port(), mech, idp.ClientID, idp.DeviceAuthURL(), idp.TokenURL())
	path := filepath.Join(dir, "mailwarden.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, s, err := engine.OAuthProvider(cfg.Account("work"))
	if err != nil {
		t.Fatal(err)
	}
	l := &oauth.Login{Account: "work", Provider: p, Settings: s, Store: oauth.NewStore(cfg.StateDir),
		Prompt: func(pr oauth.Prompt) {
			if !idp.Approve(pr.UserCode, "user") {
				t.Errorf("no pending device code %q", pr.UserCode)
			}
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := l.Run(ctx); err != nil {
		t.Fatalf("device flow: %v", err)
	}
	fi, err := os.Stat(filepath.Join(cfg.StateDir, "oauth", "work.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want mode 0600", err, fi.Mode())
	}
	return idp, srv, cfg
}

func dialSelect(t *testing.T, dial imapconn.Dialer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dial(ctx, "work")
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Select(ctx, "INBOX")
	return err
}

// The daemon's dialer uses the stored token, refreshes it once when the
// server rejects it, and stops with a permanent error that says to run
// `auth login` when the provider has revoked the grant.
func TestOAuth2BuiltinLifecycle(t *testing.T) {
	for _, mech := range []string{"xoauth2", "oauthbearer"} {
		t.Run(mech, func(t *testing.T) {
			idp, _, cfg := oauthSetup(t, mech)
			dial := engine.NewDialer(cfg, nil)
			if err := dialSelect(t, dial); err != nil {
				t.Fatalf("first login with the stored token: %v", err)
			}
			if n := idp.Refreshes(); n != 0 {
				t.Errorf("%d refreshes for a fresh token, want 0", n)
			}

			// The server no longer accepts the access token (revoked early):
			// one refresh, the AUTHENTICATE repeated, and in.
			idp.ExpireAccess()
			if err := dialSelect(t, dial); err != nil {
				t.Fatalf("after the access token was voided: %v", err)
			}
			if n := idp.Refreshes(); n != 1 {
				t.Errorf("%d refreshes after a rejected token, want 1", n)
			}
			// The refreshed token was stored: a new dialer (a restart) uses it
			// without refreshing.
			if err := dialSelect(t, engine.NewDialer(cfg, nil)); err != nil || idp.Refreshes() != 1 {
				t.Fatalf("after a restart: %v (refreshes %d, want still 1)", err, idp.Refreshes())
			}

			// Revoked: permanent, with the hint.
			idp.Revoke("user")
			err := dialSelect(t, dial)
			if !imapconn.IsPermanent(err) || !errors.Is(err, oauth.ErrLoginRequired) ||
				!strings.Contains(err.Error(), "run `mailwarden auth login work`") {
				t.Fatalf("after revocation: err = %v, want a permanent error with the auth login hint", err)
			}
			if strings.Contains(err.Error(), "auth=Bearer") {
				t.Errorf("error shows token material: %v", err)
			}
		})
	}
}

// A token about to expire is refreshed before it is used: the server never
// sees it.
func TestOAuth2RefreshBeforeExpiry(t *testing.T) {
	idp, _, cfg := oauthSetup(t, "xoauth2")
	// Tokens now live one minute, under oauth.DefaultMargin: each one is
	// refreshed before use. The token from login is still an hour's.
	idp.SetLifetime(time.Minute)
	idp.SetRotate(true) // and the provider rotates refresh tokens, as Microsoft does
	dial := engine.NewDialer(cfg, nil)
	if err := dialSelect(t, dial); err != nil || idp.Refreshes() != 0 {
		t.Fatalf("first dial: %v, refreshes %d", err, idp.Refreshes())
	}
	idp.ExpireAccess() // the hour-long token is gone; one refresh gives a 1-minute token
	if err := dialSelect(t, dial); err != nil || idp.Refreshes() != 1 {
		t.Fatalf("second dial: %v, refreshes %d, want 1", err, idp.Refreshes())
	}
	// The 1-minute token is inside the margin: refreshed before use, with
	// the rotated refresh token that was stored.
	if err := dialSelect(t, dial); err != nil || idp.Refreshes() != 2 {
		t.Fatalf("third dial: %v, refreshes %d, want 2", err, idp.Refreshes())
	}
	if err := dialSelect(t, engine.NewDialer(cfg, nil)); err != nil || idp.Refreshes() != 3 {
		t.Fatalf("after a restart: %v, refreshes %d, want 3 (the rotated refresh token was stored)", err, idp.Refreshes())
	}
}
