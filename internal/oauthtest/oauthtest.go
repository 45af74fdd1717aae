// Package oauthtest is a fake OAuth 2.0 provider for tests: an httptest
// server on 127.0.0.1 with a device authorization endpoint (RFC 8628), an
// authorization endpoint that redirects at once (as a browser would after
// the person approved; PKCE S256 checked, RFC 7636) and a token endpoint
// for the device code, authorization code and refresh token grants. It
// issues opaque tokens, remembers which user each belongs to and when it
// expires, and can expire or revoke them, so that the IMAP server of a
// test (internal/memimap) can check the bearer token it is shown.
package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// Server is a running fake provider.
type Server struct {
	*httptest.Server
	// ClientID is the only client it knows (public: no secret checked).
	ClientID string

	mu        sync.Mutex
	lifetime  time.Duration
	user      string                  // who approves the authorization endpoint's requests
	devices   map[string]*deviceGrant // device_code → grant
	codes     map[string]*codeGrant   // authorization code → grant
	access    map[string]*accessToken // access token → owner
	refresh   map[string]string       // refresh token → user
	refreshes int
	rotate    bool
}

type deviceGrant struct {
	userCode string
	user     string // set when approved
}

type codeGrant struct {
	user, challenge, redirect string
}

type accessToken struct {
	user   string
	expiry time.Time
}

// Start starts a fake provider; Close it when done.
func Start() *Server {
	s := &Server{ClientID: "mailwarden-test", lifetime: time.Hour, user: "user",
		devices: map[string]*deviceGrant{}, codes: map[string]*codeGrant{},
		access: map[string]*accessToken{}, refresh: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/device", s.handleDevice)
	mux.HandleFunc("/authorize", s.handleAuthorize)
	mux.HandleFunc("/token", s.handleToken)
	s.Server = httptest.NewServer(mux)
	return s
}

// Endpoints of the fake.
func (s *Server) DeviceAuthURL() string { return s.URL + "/device" }
func (s *Server) AuthURL() string       { return s.URL + "/authorize" }
func (s *Server) TokenURL() string      { return s.URL + "/token" }

// SetUser sets who the authorization endpoint signs in (default "user").
func (s *Server) SetUser(u string) { s.mu.Lock(); s.user = u; s.mu.Unlock() }

// SetLifetime sets the lifetime (expires_in) of tokens issued from now on.
func (s *Server) SetLifetime(d time.Duration) { s.mu.Lock(); s.lifetime = d; s.mu.Unlock() }

// SetRotate makes each refresh issue a new refresh token and void the old.
func (s *Server) SetRotate(on bool) { s.mu.Lock(); s.rotate = on; s.mu.Unlock() }

// Approve approves the pending device authorization with userCode as user.
func (s *Server) Approve(userCode, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.devices {
		if g.userCode == userCode {
			g.user = user
			return true
		}
	}
	return false
}

// Check reports whether token is a live access token of user.
func (s *Server) Check(user, token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.access[token]
	return a != nil && a.user == user && time.Now().Before(a.expiry)
}

// ExpireAccess voids every access token issued so far (as if they had
// expired or been revoked early); refresh tokens still work.
func (s *Server) ExpireAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
}

// Revoke voids every token of user, refresh tokens included.
func (s *Server) Revoke(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, a := range s.access {
		if a.user == user {
			delete(s.access, t)
		}
	}
	for t, u := range s.refresh {
		if u == user {
			delete(s.refresh, t)
		}
	}
}

// Refreshes counts the refresh_token grants answered with a token.
func (s *Server) Refreshes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.refreshes }

// AccessTokens counts the live access tokens.
func (s *Server) AccessTokens() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.access) }

func random() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// oauthError answers an RFC 6749 §5.2 error.
func oauthError(w http.ResponseWriter, code, desc string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) handleDevice(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if r.Form.Get("client_id") != s.ClientID {
		oauthError(w, "invalid_client", "unknown client")
		return
	}
	s.mu.Lock()
	dc, uc := random(), random()[:8]
	s.devices[dc] = &deviceGrant{userCode: uc}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"device_code": dc, "user_code": uc,
		"verification_uri": s.URL + "/verify", "expires_in": 600, "interval": 1})
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.ClientID {
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" {
		http.Error(w, "redirect_uri must be a loopback address", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	code := random()
	s.codes[code] = &codeGrant{user: s.user, challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	s.mu.Unlock()
	v := redirect.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// issueLocked answers a token for user.
func (s *Server) issueLocked(w http.ResponseWriter, user, refresh string) {
	at := random()
	s.access[at] = &accessToken{user: user, expiry: time.Now().Add(s.lifetime)}
	if refresh == "" {
		refresh = random()
		s.refresh[refresh] = user
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "token_type": "Bearer",
		"expires_in": int(s.lifetime / time.Second), "refresh_token": refresh})
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f := r.Form
	if f.Get("client_id") != s.ClientID {
		oauthError(w, "invalid_client", "unknown client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		g := s.devices[f.Get("device_code")]
		switch {
		case g == nil:
			oauthError(w, "invalid_grant", "unknown device code")
		case g.user == "":
			oauthError(w, "authorization_pending", "") // RFC 8628 §3.5
		default:
			delete(s.devices, f.Get("device_code"))
			s.issueLocked(w, g.user, "")
		}
	case "authorization_code":
		g := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code"))
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		switch {
		case g == nil:
			oauthError(w, "invalid_grant", "unknown code")
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge: // RFC 7636 §4.6
			oauthError(w, "invalid_grant", "PKCE verification failed")
		case f.Get("redirect_uri") != g.redirect:
			oauthError(w, "invalid_grant", "redirect_uri mismatch")
		default:
			s.issueLocked(w, g.user, "")
		}
	case "refresh_token":
		rt := f.Get("refresh_token")
		user, ok := s.refresh[rt]
		if !ok {
			oauthError(w, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		s.refreshes++
		if s.rotate {
			delete(s.refresh, rt)
			rt = ""
		}
		s.issueLocked(w, user, rt)
	default:
		oauthError(w, "unsupported_grant_type", f.Get("grant_type"))
	}
}
