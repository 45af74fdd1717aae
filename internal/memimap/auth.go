package memimap

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

var _ imapserver.SessionSASL = (*session)(nil)

// AuthenticateMechanisms lists PLAIN, and the OAuth2 mechanisms when
// Options.OAuth is set.
func (s *session) AuthenticateMechanisms() []string {
	mechs := []string{sasl.Plain}
	if s.srv.oauth != nil {
		mechs = append(mechs, "XOAUTH2", sasl.OAuthBearer)
	}
	return mechs
}

// Authenticate returns the SASL server of mech.
func (s *session) Authenticate(mech string) (sasl.Server, error) {
	switch strings.ToUpper(mech) {
	case sasl.Plain:
		return sasl.NewPlainServer(s.plain), nil
	case "XOAUTH2":
		if s.srv.oauth != nil {
			return &xoauth2Server{s: s}, nil
		}
	case sasl.OAuthBearer:
		if s.srv.oauth != nil {
			return authFailed{sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
				if err := s.bearer(o.Username, o.Token); err != nil {
					return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
				}
				return nil
			})}, nil
		}
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
}

// authFailed makes a SASL server's final error a plain NO
// [AUTHENTICATIONFAILED], as a real server answers (imapserver would
// answer any other error with NO [SERVERBUG]).
type authFailed struct{ sasl.Server }

func (a authFailed) Next(resp []byte) ([]byte, bool, error) {
	ch, done, err := a.Server.Next(resp)
	if err != nil {
		err = imapserver.ErrAuthFailed
	}
	return ch, done, err
}

// plain is PLAIN (RFC 4616): a user's own password, or an admin's
// (Options.MasterUsers) with the user as the authorization identity.
func (s *session) plain(identity, username, password string) error {
	if identity == "" || identity == username {
		return s.Login(username, password)
	}
	pw, ok := s.srv.masters[username]
	if !ok || pw != password {
		return imapserver.ErrAuthFailed
	}
	return s.loginAs(identity)
}

// loginAs starts identity's session without its password.
func (s *session) loginAs(identity string) error {
	u, err := s.srv.user(identity)
	if err != nil {
		return imapserver.ErrAuthFailed
	}
	s.UserSession = imapmemserver.NewUserSession(u)
	return nil
}

func (s *session) bearer(user, token string) error {
	if !s.srv.oauth(user, token) {
		return imapserver.ErrAuthFailed
	}
	return s.loginAs(user)
}

// xoauth2Server is Google's XOAUTH2: "user=" U ^A "auth=Bearer " T ^A ^A.
// A bad token gets a JSON challenge; the client answers it with an empty
// response and the command fails with NO
// (https://developers.google.com/gmail/imap/xoauth2-protocol).
type xoauth2Server struct {
	s      *session
	failed bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, imapserver.ErrAuthFailed
	}
	if resp == nil {
		return []byte{}, false, nil // ask for the initial response
	}
	var user, token string
	for _, f := range bytes.Split(resp, []byte{1}) {
		k, v, _ := strings.Cut(string(f), "=")
		switch k {
		case "user":
			user = v
		case "auth":
			token, _ = strings.CutPrefix(v, "Bearer ")
		}
	}
	if user == "" || token == "" {
		return nil, true, errors.New("malformed XOAUTH2 response")
	}
	if err := x.s.bearer(user, token); err != nil {
		x.failed = true
		b, _ := json.Marshal(map[string]string{"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"})
		return b, false, nil
	}
	return nil, true, nil
}
