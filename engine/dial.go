package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/oauth"
)

// NewDialer returns the one dialer of a daemon or command: it connects to
// the accounts of cfg by name. The command builds it and hands it to the
// watchers, the jobs and undo. Each dial builds the account's connection
// options afresh (DialOptions), so a replaced tls_ca_file is read again and
// the secret is read from its source (a rotated password, a refreshed
// token). An account not in cfg, or one whose options cannot be built, is
// a permanent error (imapconn.ErrConfig): retrying cannot fix it. A TLS or
// port mistake carries a hint naming the config key that fixes it.
//
// Connections count against their server's budget (max_connections): a
// dial waits for a free slot (or ctx), and the slot is given back when the
// connection closes. NewDialer has budgets of its own; DialerOptions
// shares them (the daemon keeps one Budgets across reloads).
func NewDialer(cfg *config.Config, log *slog.Logger) imapconn.Dialer {
	return NewDialerWith(cfg, &DialerOptions{Logger: log})
}

// DialerOptions configure NewDialerWith. Nil means defaults.
type DialerOptions struct {
	// Logger receives connection-level events; nil discards.
	Logger *slog.Logger
	// Budgets are the connection budgets to count against; nil means
	// budgets of this dialer's own, from cfg.
	Budgets *Budgets
	// HTTPClient makes OAuth2 token requests; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
}

// NewDialerWith is NewDialer with options.
func NewDialerWith(cfg *config.Config, opts *DialerOptions) imapconn.Dialer {
	if opts == nil {
		opts = &DialerOptions{}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	budgets := opts.Budgets
	if budgets == nil {
		budgets = NewBudgets(cfg)
	}
	// One token source per account, shared by its connections: one
	// refresh serves them all.
	sources := map[string]*oauth.Source{}
	sourceErrs := map[string]error{}
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		if a.OAuth2.Builtin() {
			sources[a.Name], sourceErrs[a.Name] = OAuthSource(cfg, a, opts.HTTPClient)
		}
	}
	return func(ctx context.Context, account string) (*imapconn.Client, error) {
		a := cfg.Account(account)
		if a == nil {
			return nil, fmt.Errorf("%w: no account %q in the config", imapconn.ErrConfig, account)
		}
		o, err := DialOptions(a, log.With("account", a.Name))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", imapconn.ErrConfig, err)
		}
		if err := sourceErrs[a.Name]; err != nil {
			return nil, fmt.Errorf("%w: %w", imapconn.ErrConfig, err)
		}
		if src := sources[a.Name]; src != nil {
			o.Auth = imapconn.OAuth2{Mechanism: oauthMech(a.OAuth2.Mechanism), Token: tokenFunc(src.Token), Refresh: tokenFunc(src.Refresh)}
		}
		release, err := budgets.Acquire(ctx, a.Server())
		if err != nil {
			return nil, fmt.Errorf("wait for a connection to %s (max_connections %d): %w", a.Server(), budgets.Limit(a.Server()), err)
		}
		c, err := imapconn.Dial(ctx, o)
		if err != nil {
			release()
			return nil, withHint(err, a) // TLS and port mistakes, in the config's terms
		}
		go func() { // owned: ends when the connection closes, whoever closes it
			<-c.Closed()
			release()
		}()
		return c, nil
	}
}

// OAuthSource returns the token source of an account with a built-in
// OAuth2 provider: tokens stored in cfg's state_dir by `auth login`.
func OAuthSource(cfg *config.Config, a *config.Account, hc *http.Client) (*oauth.Source, error) {
	p, s, err := OAuthProvider(a)
	if err != nil {
		return nil, err
	}
	return &oauth.Source{Account: a.Name, Provider: p, Settings: s, Store: oauth.NewStore(cfg.StateDir), HTTPClient: hc}, nil
}

// OAuthProvider resolves an account's built-in OAuth2 settings (preset
// and overrides); the client secret file is read now.
func OAuthProvider(a *config.Account) (oauth.Provider, oauth.Settings, error) {
	o := a.OAuth2
	s := oauth.Settings{Provider: o.Provider, Tenant: o.Tenant, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		AuthURL: o.AuthURL, TokenURL: o.TokenURL, DeviceAuthURL: o.DeviceAuthURL, Scopes: o.Scopes, Flow: o.Flow}
	if o.ClientSecretFile != "" {
		b, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return oauth.Provider{}, s, fmt.Errorf("account %s: oauth2.client_secret_file: %w", a.Name, err)
		}
		s.ClientSecret = strings.TrimSpace(string(b))
	}
	p, err := oauth.Resolve(s)
	return p, s, err
}

// tokenFunc marks a token source's "sign in again" failures permanent
// (imapconn.ErrConfig): the watchers stop with the hint instead of
// retrying a revoked grant forever. Network trouble stays temporary.
func tokenFunc(f func(context.Context) (string, error)) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		tok, err := f(ctx)
		if errors.Is(err, oauth.ErrLoginRequired) {
			return "", fmt.Errorf("%w: %w", imapconn.ErrConfig, err)
		}
		return tok, err
	}
}

// DialOptions turns an account's config into connection options. The
// secret is not read here: Auth reads it from its source at each dial, so
// a rotated password or a refreshed OAuth2 token is picked up.
func DialOptions(a *config.Account, log *slog.Logger) (*imapconn.Options, error) {
	o := &imapconn.Options{
		Host:              a.Host,
		Port:              a.Port,
		InsecurePlaintext: a.InsecurePlaintext,
		Username:          a.Username,
		Logger:            log,
	}
	switch a.TLS {
	case config.TLSNone:
		o.TLS = imapconn.TLSNone
	case config.TLSStartTLS:
		o.TLS = imapconn.TLSStartTLS
	default:
		o.TLS = imapconn.TLSImplicit
	}
	if a.TLSServerName != "" {
		o.TLSConfig = &tls.Config{ServerName: a.TLSServerName}
	}
	if a.TLSCAFile != "" {
		pem, err := os.ReadFile(a.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("account %q: tls_ca_file: %w", a.Name, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("account %q: tls_ca_file %s: no PEM certificate found", a.Name, a.TLSCAFile)
		}
		o.RootCAs = pool
	}
	switch {
	case a.OAuth2.Builtin():
		// The token is in state_dir, which NewDialer knows: it replaces
		// this with the account's shared token source.
		o.Auth = imapconn.OAuth2{Mechanism: oauthMech(a.OAuth2.Mechanism), Token: func(context.Context) (string, error) {
			return "", fmt.Errorf("%w: account %s: built-in OAuth2 needs engine.NewDialer", imapconn.ErrConfig, a.Name)
		}}
	case a.OAuth2 != nil:
		o.Auth = imapconn.OAuth2{Mechanism: oauthMech(a.OAuth2.Mechanism), Token: secret(a)}
	default:
		o.Auth = imapconn.Password{Password: secret(a), AuthorizeAs: a.AuthorizeAs}
	}
	return o, nil
}

// secret reads the account's secret at each dial. A failure that
// retrying cannot fix (an unset variable, a missing or empty file, a
// command that failed; its message carries the command's stderr, never the
// secret) is permanent, imapconn.ErrConfig: the account's watchers stop
// with that error instead of retrying it silently forever. A command that
// timed out, or a dial that was cancelled, stays temporary.
func secret(a *config.Account) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		s, err := a.Secret(ctx)
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			return "", fmt.Errorf("%w: %w", imapconn.ErrConfig, err)
		}
		return s, err
	}
}

func oauthMech(m string) string {
	if m == config.MechOAuthBearer {
		return imapconn.OAUTHBEARER
	}
	return imapconn.XOAUTH2
}
