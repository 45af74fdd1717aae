package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// Login is one interactive sign-in: `mailwarden auth login`.
type Login struct {
	Account  string
	Provider Provider
	Settings Settings
	Store    *Store
	// HTTPClient makes the token requests. Default http.DefaultClient.
	HTTPClient *http.Client
	// Prompt shows the person what to do: the verification URL and code
	// (device flow) or the URL to open (loopback flow). Required.
	Prompt func(p Prompt)
}

// Prompt is what the person must do to sign in.
type Prompt struct {
	Flow string
	// URL to open in a browser: the verification URL (device flow; use
	// CompleteURL when the provider sent one) or the authorization URL.
	URL         string
	CompleteURL string // device flow: URL with the code filled in, if any
	UserCode    string // device flow: the code to enter
	Expires     time.Time
}

func (l *Login) ctx(ctx context.Context) context.Context {
	if l.HTTPClient != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, l.HTTPClient)
	}
	return ctx
}

// Run runs the provider's flow and stores the token. It returns when the
// token is stored, the person refused, the code expired or ctx ended.
func (l *Login) Run(ctx context.Context) (*oauth2.Token, error) {
	var (
		tok *oauth2.Token
		err error
	)
	switch l.Provider.Flow {
	case FlowDevice:
		tok, err = l.device(ctx)
	case FlowLoopback:
		tok, err = l.loopback(ctx)
	default:
		return nil, fmt.Errorf("unknown OAuth2 flow %q (device or loopback)", l.Provider.Flow)
	}
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		return nil, fmt.Errorf("the provider sent no refresh token: mailwarden could not renew the access token (for Microsoft, the scopes need offline_access)")
	}
	if err := l.Store.Save(l.Account, l.Provider.Name, tok); err != nil {
		return nil, fmt.Errorf("store the token: %w", err)
	}
	return tok, nil
}

// device runs the device authorization grant (RFC 8628 §3): ask for a
// code, show it, poll the token endpoint until the person approved.
func (l *Login) device(ctx context.Context) (*oauth2.Token, error) {
	if l.Provider.DeviceAuthURL == "" {
		return nil, fmt.Errorf("provider %s has no device authorization endpoint: use flow: loopback", l.Provider.Name)
	}
	cfg := l.Provider.config(l.Settings, "")
	da, err := cfg.DeviceAuth(l.ctx(ctx))
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	l.Prompt(Prompt{Flow: FlowDevice, URL: da.VerificationURI, CompleteURL: da.VerificationURIComplete,
		UserCode: da.UserCode, Expires: da.Expiry})
	tok, err := cfg.DeviceAccessToken(l.ctx(ctx), da)
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	return tok, nil
}

// loopback runs the authorization code grant with PKCE (RFC 7636) and a
// redirect to a one-shot listener on 127.0.0.1 (RFC 8252 §7.3): the
// browser brings the code back to us.
func (l *Login) loopback(ctx context.Context) (*oauth2.Token, error) {
	if l.Provider.AuthURL == "" {
		return nil, fmt.Errorf("provider %s has no authorization endpoint: use flow: device", l.Provider.Name)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	redirect := fmt.Sprintf("http://127.0.0.1:%d/", ln.Addr().(*net.TCPAddr).Port)
	cfg := l.Provider.config(l.Settings, redirect)
	verifier := oauth2.GenerateVerifier()
	state := randomString()

	type result struct {
		code string
		err  error
	}
	results := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state { // RFC 6749 §10.12: not our request
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		res := result{code: q.Get("code")}
		if e := q.Get("error"); e != "" {
			res.err = fmt.Errorf("authorization refused: %s %s", e, q.Get("error_description"))
			fmt.Fprintf(w, "<p>mailwarden: sign-in failed: %s. You may close this window.</p>", html.EscapeString(e))
		} else if res.code == "" {
			res.err = errors.New("authorization answer without a code")
			http.Error(w, "no code", http.StatusBadRequest)
		} else {
			fmt.Fprint(w, "<p>mailwarden: signed in. You may close this window.</p>")
		}
		select {
		case results <- res:
		default:
		}
	})}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown below
	defer srv.Close()

	u := cfg.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("prompt", "consent")) // Google sends a refresh token only with consent
	l.Prompt(Prompt{Flow: FlowLoopback, URL: u})
	var res result
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res = <-results:
	}
	if res.err != nil {
		return nil, res.err
	}
	tok, err := cfg.Exchange(l.ctx(ctx), res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange the authorization code: %w", err)
	}
	return tok, nil
}

func randomString() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
