package imapconn

import (
	"context"
	"errors"
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
//
// With AuthorizeAs set (admin mode), Username and the password are an
// administrator's credentials, and the session is that of the user
// AuthorizeAs: SASL PLAIN's authorization identity (RFC 4616 §2), which
// Dovecot grants to master users and other servers to their admins. It
// needs AUTH=PLAIN: LOGIN has no authorization identity.
type Password struct {
	// Password returns the password. Required. Wrap ErrConfig in its error
	// to mark the failure as permanent.
	Password func(ctx context.Context) (string, error)
	// AuthorizeAs is the authorization identity (the user to act as).
	// Default "": the user named by Options.Username.
	AuthorizeAs string
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
		if err := c.Authenticate(sasl.NewPlainClient(p.AuthorizeAs, o.Username, pw)); err != nil {
			return &AuthError{Mechanism: sasl.Plain, Err: err}
		}
		return nil
	}
	if p.AuthorizeAs != "" {
		return configErrorf("server does not offer AUTH=PLAIN, which acting as another user (authorization identity) needs")
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
	// Refresh, when set, returns a new access token whatever the expiry of
	// the last one. It is called once when the server rejects the token
	// from Token (revoked early, clocks apart), and the AUTHENTICATE is
	// repeated with its token on the same connection; an error from it is
	// returned as it is (wrap ErrConfig for a refusal retrying cannot
	// fix, such as a revoked refresh token). Default: no second attempt.
	Refresh func(ctx context.Context) (string, error)
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
	err = a.try(c, mech, tok, o)
	if err == nil || a.Refresh == nil || !rejected(err) {
		return err
	}
	// The server refused a token we thought valid: refresh once and try
	// again. The failed exchange ended with a tagged NO (the clients below
	// answer the error challenge), so the connection is ready for it.
	o.logger().Debug("imap: OAuth2 token rejected; refreshing it and trying once more", "mechanism", mech)
	tok, rerr := a.Refresh(ctx)
	if rerr != nil {
		return fmt.Errorf("%w; refresh the OAuth2 token: %w", err, rerr)
	}
	return a.try(c, mech, tok, o)
}

// try runs one AUTHENTICATE with tok.
func (a OAuth2) try(c *imapclient.Client, mech, tok string, o *Options) error {
	var sc sasl.Client
	if mech == XOAUTH2 {
		sc = newXOAuth2Client(o.Username, tok)
	} else {
		sc = &oauthBearerClient{Client: sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{
			Username: o.Username, Token: tok, Host: o.Host, Port: o.port(),
		})}
	}
	err := c.Authenticate(sc)
	if err == nil {
		return nil
	}
	if d, ok := sc.(interface{ detail() string }); ok && d.detail() != "" {
		err = fmt.Errorf("%w (server said: %s)", err, d.detail())
	}
	return &AuthError{Mechanism: mech, Err: err}
}

// rejected reports an authentication the server answered with NO (and
// not a "try later" code): the credentials were refused.
func rejected(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr) && imapErr.Type == imap.StatusResponseTypeNo && !transientCode(imapErr.Code)
}

// xoauth2Client is the XOAUTH2 SASL mechanism, which go-sasl lacks
// (https://developers.google.com/gmail/imap/xoauth2-protocol):
// initial response "user=" user "\x01auth=Bearer " token "\x01\x01". On
// failure the server sends a base64 JSON challenge describing the error;
// the client answers it with an empty response and the server ends the
// command with NO, leaving the connection usable.
type xoauth2Client struct {
	username, token string
	challenge       string
}

func newXOAuth2Client(username, token string) sasl.Client {
	return &xoauth2Client{username: username, token: token}
}

func (a *xoauth2Client) Start() (mech string, ir []byte, err error) {
	return XOAUTH2, []byte("user=" + a.username + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

func (a *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	if a.challenge != "" {
		return nil, errors.New("XOAUTH2: unexpected second challenge")
	}
	a.challenge = string(challenge)
	return []byte{}, nil
}

func (a *xoauth2Client) detail() string { return a.challenge }

// oauthBearerClient is go-sasl's OAUTHBEARER client, except that an error
// challenge is answered with the dummy response %x01 (RFC 7628 §3.2.3)
// so that the server ends the command with NO, instead of the exchange
// being abandoned half-way.
type oauthBearerClient struct {
	sasl.Client
	challenge string
}

func (a *oauthBearerClient) Next(challenge []byte) ([]byte, error) {
	if a.challenge != "" {
		return nil, errors.New("OAUTHBEARER: unexpected second challenge")
	}
	a.challenge = string(challenge)
	return []byte{1}, nil
}

func (a *oauthBearerClient) detail() string { return a.challenge }
