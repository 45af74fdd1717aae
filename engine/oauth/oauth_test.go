package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestStorePath(t *testing.T) {
	s := &Store{Dir: "/state/oauth"}
	for name, want := range map[string]string{
		"work":           "/state/oauth/work.json",
		"me@example.org": "/state/oauth/me@example.org.json",
		"../x":           "/state/oauth/%2E.%2Fx.json",
		"a/b":            "/state/oauth/a%2Fb.json",
		".hidden":        "/state/oauth/%2Ehidden.json",
	} {
		if got := s.Path(name); got != want {
			t.Errorf("Path(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestStoreSaveLoad(t *testing.T) {
	s := NewStore(t.TempDir())
	if _, err := s.Load("a"); !errors.Is(err, ErrLoginRequired) || !strings.Contains(err.Error(), "mailwarden auth login a") {
		t.Fatalf("Load before login: %v", err)
	}
	exp := time.Now().Add(time.Hour).Round(time.Second)
	if err := s.Save("a", "google", &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: exp}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.Path("a"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 1 {
		t.Errorf("leftover files in %s: %v", s.Dir, entries)
	}
	tok, err := s.Load("a")
	if err != nil || tok.RefreshToken != "rt" || !tok.Expiry.Equal(exp) {
		t.Fatalf("Load = %+v, %v", tok, err)
	}
	os.Chmod(s.Path("a"), 0o644)
	if _, err := s.Load("a"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable token file: %v", err)
	}
}

// A provider that is down is not a reason to sign in again: only a
// refusal (invalid_grant and the like) is.
func TestSourceClassifiesRefreshFailures(t *testing.T) {
	status, body := 0, ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	store := NewStore(t.TempDir())
	store.Save("a", "generic", &oauth2.Token{AccessToken: "old", RefreshToken: "rt", Expiry: time.Now().Add(-time.Minute)})
	for _, tc := range []struct {
		status int
		body   string
		login  bool
	}{
		{500, `{}`, false},
		{503, `upstream down`, false},
		{429, `{"error":"slow_down"}`, false},
		{400, `{"error":"invalid_grant","error_description":"revoked"}`, true},
		{401, `{"error":"invalid_client"}`, true},
	} {
		status, body = tc.status, tc.body
		src := &Source{Account: "a", Provider: Provider{Name: "generic", TokenURL: srv.URL}, Settings: Settings{ClientID: "c"}, Store: store}
		_, err := src.Token(context.Background())
		if err == nil || errors.Is(err, ErrLoginRequired) != tc.login {
			t.Errorf("HTTP %d %s: err = %v; login required: want %v", tc.status, tc.body, err, tc.login)
		}
		if err != nil && (strings.Contains(err.Error(), "rt") && strings.Contains(err.Error(), "refresh_token=")) {
			t.Errorf("error shows the refresh token: %v", err)
		}
	}
	if _, err := Resolve(Settings{Provider: "gmail"}); err == nil {
		t.Error("Resolve accepted an unknown provider")
	}
	p, _ := Resolve(Settings{Provider: "microsoft", Tenant: "contoso.example"})
	if !strings.Contains(p.TokenURL, "/contoso.example/") || p.Flow != FlowDevice || len(p.Scopes) != 2 {
		t.Errorf("microsoft preset: %+v", p)
	}
}
