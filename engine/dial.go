package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
)

// NewDialer returns the one dialer of a daemon or command: it connects to
// the accounts of cfg by name. The command builds it and hands it to the
// watchers, the jobs and undo. Each dial builds the account's connection
// options afresh (DialOptions), so a replaced tls_ca_file is read again and
// the secret is read from its source (a rotated password, a refreshed
// token). An account not in cfg, or one whose options cannot be built, is
// a permanent error (imapconn.ErrConfig): retrying cannot fix it. A TLS or
// port mistake carries a hint naming the config key that fixes it.
func NewDialer(cfg *config.Config, log *slog.Logger) imapconn.Dialer {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
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
		c, err := imapconn.Dial(ctx, o)
		if err != nil {
			return nil, withHint(err, a) // TLS and port mistakes, in the config's terms
		}
		return c, nil
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
	if a.OAuth2 != nil {
		o.Auth = imapconn.OAuth2{Mechanism: oauthMech(a.OAuth2.Mechanism), Token: secret(a)}
	} else {
		o.Auth = imapconn.Password{Password: secret(a)}
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
