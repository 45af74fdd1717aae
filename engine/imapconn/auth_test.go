package imapconn

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/memimap"
)

// The server checks the bearer token; a token it rejects is refreshed once
// and the AUTHENTICATE repeated on the same connection, for both
// mechanisms.
func TestOAuth2RefreshOnceOnRejection(t *testing.T) {
	good := "fresh-token"
	srv := startMem(t, &memimap.Options{OAuth: func(user, token string) bool { return user == "user" && token == good }})
	for _, mech := range []string{XOAUTH2, OAUTHBEARER} {
		t.Run(mech, func(t *testing.T) {
			var tokens, refreshes atomic.Int32
			o := memOptions(srv, "user", "")
			o.Auth = OAuth2{Mechanism: mech,
				Token:   func(context.Context) (string, error) { tokens.Add(1); return "stale-token", nil },
				Refresh: func(context.Context) (string, error) { refreshes.Add(1); return good, nil },
			}
			c := dialT(t, o)
			if _, err := c.Select(testCtx(t), "INBOX"); err != nil {
				t.Fatal(err)
			}
			if tokens.Load() != 1 || refreshes.Load() != 1 {
				t.Errorf("Token called %d times, Refresh %d; want 1 and 1", tokens.Load(), refreshes.Load())
			}
		})
	}
}

func TestOAuth2RefreshFails(t *testing.T) {
	srv := startMem(t, &memimap.Options{OAuth: func(user, token string) bool { return false }})
	var refreshes atomic.Int32
	// A refresh refused for good (revoked): permanent, and its message
	// reaches the caller.
	o := memOptions(srv, "user", "")
	o.Auth = OAuth2{
		Token: func(context.Context) (string, error) { return "stale", nil },
		Refresh: func(context.Context) (string, error) {
			refreshes.Add(1)
			return "", fmt.Errorf("%w: run `mailwarden auth login x`", ErrConfig)
		},
	}
	_, err := Dial(testCtx(t), o)
	if !IsPermanent(err) || !errors.Is(err, ErrConfig) || refreshes.Load() != 1 {
		t.Fatalf("err = %v (refreshes %d), want permanent ErrConfig after one refresh", err, refreshes.Load())
	}
	// A refreshed token that is rejected too: permanent, and no third try.
	refreshes.Store(0)
	o.Auth = OAuth2{
		Token:   func(context.Context) (string, error) { return "stale", nil },
		Refresh: func(context.Context) (string, error) { refreshes.Add(1); return "also-bad", nil },
	}
	_, err = Dial(testCtx(t), o)
	var ae *AuthError
	if !IsPermanent(err) || !errors.As(err, &ae) || refreshes.Load() != 1 {
		t.Fatalf("err = %v (refreshes %d), want a permanent AuthError after one refresh", err, refreshes.Load())
	}
}

// Admin mode: PLAIN with an authorization identity logs the admin in as
// the user (RFC 4616 §2); the admin's password with another user's name is
// refused.
func TestPlainAuthorizeAs(t *testing.T) {
	srv := startMem(t, &memimap.Options{Users: map[string]string{"alice": "alice-pw"}, MasterUsers: map[string]string{"admin": "admin-pw"}})
	if _, err := srv.Append("alice", "INBOX", []byte("Subject: hi\r\n\r\nhi\r\n"), nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	o := memOptions(srv, "admin", "admin-pw")
	o.Auth = Password{Password: func(context.Context) (string, error) { return "admin-pw", nil }, AuthorizeAs: "alice"}
	c := dialT(t, o)
	s := selectT(t, c, "INBOX")
	if s.NumMessages() != 1 {
		t.Fatalf("admin acting as alice sees %d messages in INBOX, want alice's 1", s.NumMessages())
	}
	o.Auth = Password{Password: func(context.Context) (string, error) { return "wrong", nil }, AuthorizeAs: "alice"}
	if _, err := Dial(testCtx(t), o); !IsPermanent(err) {
		t.Fatalf("wrong admin password: err = %v, want permanent", err)
	}
}
