package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ErrLoginRequired means no usable refresh token: none was stored, or the
// provider refused it (revoked, expired, client changed). Only a person
// can fix it, with `mailwarden auth login ACCOUNT`; retrying cannot.
var ErrLoginRequired = errors.New("OAuth2 sign-in required")

// LoginError is ErrLoginRequired for one account, with the reason and
// the command that fixes it.
type LoginError struct {
	Account string
	Reason  string
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("account %s: %s (hint: run `mailwarden auth login %s`)", e.Account, e.Reason, e.Account)
}

func (e *LoginError) Unwrap() error { return ErrLoginRequired }

// Store keeps one token file per account under Dir (state_dir/oauth).
type Store struct {
	Dir string
}

// NewStore returns the store of a state directory.
func NewStore(stateDir string) *Store { return &Store{Dir: filepath.Join(stateDir, "oauth")} }

// stored is the file format: x/oauth2's token plus when it was stored and
// for which provider, so `auth status` can say so.
type stored struct {
	Provider     string    `json:"provider,omitempty"`
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Saved        time.Time `json:"saved"`
}

// Path is the token file of account. The name is escaped so that any
// account name maps to one file directly under Dir.
func (s *Store) Path(account string) string {
	var b strings.Builder
	for _, r := range account {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '@', r == '+':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "%%%02X", r)
		}
	}
	return filepath.Join(s.Dir, b.String()+".json")
}

// Load returns account's stored token; a missing file is a *LoginError.
func (s *Store) Load(account string) (*oauth2.Token, error) {
	p := s.Path(account)
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &LoginError{Account: account, Reason: "no OAuth2 token stored (" + p + ")"}
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("account %s: %s is accessible by group or others (mode %#o; chmod 600 %s)", account, p, fi.Mode().Perm(), p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var st stored
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("account %s: %s: %w", account, p, err)
	}
	if st.RefreshToken == "" && st.AccessToken == "" {
		return nil, &LoginError{Account: account, Reason: p + " holds no token"}
	}
	return &oauth2.Token{AccessToken: st.AccessToken, TokenType: st.TokenType, RefreshToken: st.RefreshToken, Expiry: st.Expiry}, nil
}

// Save stores tok for account: mode 0600, atomically (a temporary file in
// the same directory, synced, then renamed over the old one).
func (s *Store) Save(account, provider string, tok *oauth2.Token) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(stored{Provider: provider, AccessToken: tok.AccessToken, TokenType: tok.TokenType,
		RefreshToken: tok.RefreshToken, Expiry: tok.Expiry, Saved: time.Now().UTC()}, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.Dir, ".tmp-*.json") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.Path(account)); err != nil {
		return err
	}
	if d, err := os.Open(s.Dir); err == nil {
		d.Sync() // the rename itself survives a crash
		d.Close()
	}
	return nil
}
