package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultMargin is Source.Margin: an access token with less than this
// left is refreshed before use, so it cannot expire between the check and
// the AUTHENTICATE (Google's and Microsoft's last an hour).
const DefaultMargin = 2 * time.Minute

// Source hands out an account's access tokens from the Store, refreshing
// them (and storing the result) when they are about to expire. It is safe
// for concurrent use: every connection of the account shares one Source.
type Source struct {
	Account  string
	Provider Provider
	Settings Settings
	Store    *Store
	// HTTPClient makes the token requests. Default http.DefaultClient.
	HTTPClient *http.Client
	// Margin: see DefaultMargin. Zero means DefaultMargin.
	Margin time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu  sync.Mutex
	tok *oauth2.Token // cached; nil until first loaded
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Source) ctx(ctx context.Context) context.Context {
	if s.HTTPClient != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, s.HTTPClient)
	}
	return ctx
}

// Token returns an access token with at least Margin left, refreshing it
// first when needed.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return "", err
	}
	margin := s.Margin
	if margin <= 0 {
		margin = DefaultMargin
	}
	if s.tok.AccessToken != "" && (s.tok.Expiry.IsZero() || s.tok.Expiry.After(s.now().Add(margin))) {
		return s.tok.AccessToken, nil
	}
	return s.refreshLocked(ctx)
}

// Refresh gets a new access token now, whatever the stored one's expiry:
// the server rejected it.
func (s *Source) Refresh(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return "", err
	}
	return s.refreshLocked(ctx)
}

// loadLocked reads the stored token the first time it is needed.
func (s *Source) loadLocked() error {
	if s.tok != nil {
		return nil
	}
	tok, err := s.Store.Load(s.Account)
	if err != nil {
		return err
	}
	s.tok = tok
	return nil
}

// refreshLocked exchanges the refresh token (RFC 6749 §6) and stores the
// answer, keeping the old refresh token when the provider sent none.
func (s *Source) refreshLocked(ctx context.Context) (string, error) {
	if s.tok.RefreshToken == "" {
		return "", &LoginError{Account: s.Account, Reason: "the stored OAuth2 token has expired and there is no refresh token"}
	}
	cfg := s.Provider.config(s.Settings, "")
	// An empty access token makes x/oauth2 refresh at once.
	tok, err := cfg.TokenSource(s.ctx(ctx), &oauth2.Token{RefreshToken: s.tok.RefreshToken}).Token()
	if err != nil {
		return "", s.classify(err)
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = s.tok.RefreshToken
	}
	s.tok = tok
	if err := s.Store.Save(s.Account, s.Provider.Name, tok); err != nil {
		// A provider that rotates refresh tokens has voided the old one:
		// going on unstored would need a new sign-in at the next start.
		return "", fmt.Errorf("account %s: the refreshed OAuth2 token could not be stored: %w", s.Account, err)
	}
	return tok.AccessToken, nil
}

// classify turns a refusal for good into a *LoginError and leaves the
// rest (network, 5xx) as they are: retrying them may help.
func (s *Source) classify(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		// RFC 6749 §5.2.
		case "invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope", "unsupported_grant_type":
			reason := "the OAuth2 provider refused the refresh token: " + re.ErrorCode
			if re.ErrorDescription != "" {
				reason += " (" + re.ErrorDescription + ")"
			}
			return &LoginError{Account: s.Account, Reason: reason}
		}
		if re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 && re.Response.StatusCode != http.StatusTooManyRequests {
			return &LoginError{Account: s.Account, Reason: fmt.Sprintf("the OAuth2 provider refused the refresh token: HTTP %d", re.Response.StatusCode)}
		}
	}
	return fmt.Errorf("account %s: refresh the OAuth2 token: %w", s.Account, err)
}
