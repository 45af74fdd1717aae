package imapconn

import (
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// Auth is how Dial authenticates: Password or OAuth2. The secret is fetched
// through a function at every Dial, so it can come from a file, the
// environment, a command or a refreshing token source, and is never stored
// here.
type Auth interface {
	// authenticate runs the exchange on an unauthenticated client. It
	// blocks; the caller bridges ctx.
	authenticate(ctx context.Context, c *imapclient.Client, caps imap.CapSet, o *Options) error
}

// Password authenticates with a password: AUTHENTICATE PLAIN (RFC 4616)
// when the server advertises AUTH=PLAIN, else LOGIN (RFC 9051 §6.2.3)
// unless the server says LOGINDISABLED.
type Password struct {
	// Password returns the password. Required. Wrap ErrConfig in its error
	// to mark the failure as permanent.
	Password func(ctx context.Context) (string, error)
}

func (p Password) authenticate(ctx context.Context, c *imapclient.Client, caps imap.CapSet, o *Options) error {
	if p.Password == nil {
		return configErrorf("password auth without a Password function")
	}
	pw, err := p.Password(ctx)
	if err != nil {
		return fmt.Errorf("get password: %w", err)
	}
	if caps.Has(imap.AuthCap(sasl.Plain)) {
		if err := c.Authenticate(sasl.NewPlainClient("", o.Username, pw)); err != nil {
			return &AuthError{Mechanism: sasl.Plain, Err: err}
		}
		return nil
	}
	if caps.Has(imap.CapLoginDisabled) {
		return configErrorf("server offers neither AUTH=PLAIN nor LOGIN (LOGINDISABLED)")
	}
	if err := c.Login(o.Username, pw).Wait(); err != nil {
		return &AuthError{Mechanism: "LOGIN", Err: err}
	}
	return nil
}

// OAuth2 mechanisms.
const (
	XOAUTH2     = "XOAUTH2"     // Google's and Microsoft's; no RFC
	OAUTHBEARER = "OAUTHBEARER" // RFC 7628
)

// OAuth2 authenticates with an OAuth 2.0 bearer token.
type OAuth2 struct {
	// Mechanism is XOAUTH2 (default) or OAUTHBEARER. The server must
	// advertise AUTH=<Mechanism>.
	Mechanism string
	// Token returns a valid access token (refreshing it as needed).
	// Required.
	Token func(ctx context.Context) (string, error)
}

func (a OAuth2) authenticate(ctx context.Context, c *imapclient.Client, caps imap.CapSet, o *Options) error {
	mech := strings.ToUpper(a.Mechanism)
	if mech == "" {
		mech = XOAUTH2
	}
	if mech != XOAUTH2 && mech != OAUTHBEARER {
		return configErrorf("unknown OAuth2 mechanism %q (want XOAUTH2 or OAUTHBEARER)", a.Mechanism)
	}
	if a.Token == nil {
		return configErrorf("OAuth2 auth without a Token function")
	}
	if !caps.Has(imap.AuthCap(mech)) {
		return configErrorf("server does not advertise AUTH=%s", mech)
	}
	tok, err := a.Token(ctx)
	if err != nil {
		return fmt.Errorf("get OAuth2 token: %w", err)
	}
	var sc sasl.Client
	if mech == XOAUTH2 {
		sc = newXOAuth2Client(o.Username, tok)
	} else {
		sc = sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{
			Username: o.Username, Token: tok, Host: o.Host, Port: o.port(),
		})
	}
	if err := c.Authenticate(sc); err != nil {
		return &AuthError{Mechanism: mech, Err: err}
	}
	return nil
}

// xoauth2Client is the XOAUTH2 SASL mechanism, which go-sasl lacks
// (https://developers.google.com/gmail/imap/xoauth2-protocol):
// initial response "user=" user "\x01auth=Bearer " token "\x01\x01". On
// failure the server sends a base64 JSON challenge describing the error;
// we stop there, and the caller closes the connection.
type xoauth2Client struct {
	username, token string
}

func newXOAuth2Client(username, token string) sasl.Client {
	return &xoauth2Client{username: username, token: token}
}

func (a *xoauth2Client) Start() (mech string, ir []byte, err error) {
	return XOAUTH2, []byte("user=" + a.username + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

func (a *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	return nil, &xoauth2Error{detail: string(challenge)}
}

type xoauth2Error struct{ detail string }

func (e *xoauth2Error) Error() string {
	return "server rejected the OAuth2 token: " + e.detail
}
