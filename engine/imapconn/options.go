package imapconn

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"strconv"
	"time"
)

// TLSMode says how the connection is secured.
type TLSMode int

const (
	// TLSImplicit is IMAPS: TLS from the first byte (RFC 8314 §3.3). Default.
	TLSImplicit TLSMode = iota
	// TLSStartTLS upgrades a plain connection with STARTTLS (RFC 9051 §6.2.1).
	TLSStartTLS
	// TLSNone is plaintext. Refused unless Options.InsecurePlaintext is set.
	TLSNone
)

func (m TLSMode) String() string {
	switch m {
	case TLSImplicit:
		return "implicit"
	case TLSStartTLS:
		return "starttls"
	case TLSNone:
		return "none"
	default:
		return "TLSMode(" + strconv.Itoa(int(m)) + ")"
	}
}

// Options configure Dial. A nil *Options is a configuration error (Host and
// Username are required); every other field has a documented default.
type Options struct {
	// Host is the server's host name or IP address. Required. It is also the
	// name the server certificate is verified against (unless
	// TLSConfig.ServerName is set).
	Host string
	// Port is the TCP port. Default: 993 for TLSImplicit, 143 otherwise.
	Port int
	// TLS selects implicit TLS (default), STARTTLS or none.
	TLS TLSMode
	// InsecurePlaintext must be true for TLS == TLSNone; without it Dial
	// refuses with a permanent configuration error. Default false.
	InsecurePlaintext bool
	// TLSConfig is cloned and used for TLS. Default: a zero config
	// (certificate verification on, system roots). InsecureSkipVerify is
	// honoured but never set by this package.
	TLSConfig *tls.Config
	// RootCAs, when set, replaces the roots used to verify the server
	// certificate (e.g. a test's self-signed cert). Default: TLSConfig's, or
	// the system roots.
	RootCAs *x509.CertPool

	// Username is the login name. Required.
	Username string
	// Auth says how to authenticate: Password or OAuth2. Required.
	Auth Auth

	// Logger receives connection-level events (debug: connected,
	// authenticated; warn: unexpected conditions). Never credentials.
	// Default: discarded.
	Logger *slog.Logger
	// DialTimeout bounds the whole of Dial: TCP connect, TLS handshake,
	// greeting and authentication. Default 30 s.
	DialTimeout time.Duration
	// KeepAlive is the TCP keepalive idle time: go-imap has no read
	// deadline while idle, so this is how a peer that vanished is noticed
	// (probes every KeepAlive/2, four of them: ~2.5 × KeepAlive in all).
	// Default 30 s; negative disables keepalive.
	KeepAlive time.Duration
	// ResponseTimeout is how long a command in flight may go without any
	// data from the server before the connection is closed (ErrStalled);
	// it also bounds unacknowledged writes (TCP_USER_TIMEOUT). Default 90 s.
	// See liveness.go.
	ResponseTimeout time.Duration
	// DebugWriter, when set, receives the protocol trace, one line per
	// line, prefixed "C: " or "S: ". LOGIN arguments and AUTHENTICATE
	// exchanges are replaced by "<redacted>". Default: no trace.
	DebugWriter io.Writer
	// NoIdle makes the Client act as if the server lacked IDLE: Session.Idle
	// returns ErrNoIdle and callers poll with NOOP. For servers (or NATs)
	// whose IDLE is broken. Default false.
	NoIdle bool
}

const (
	defaultDialTimeout     = 30 * time.Second
	defaultKeepAlive       = 30 * time.Second
	defaultResponseTimeout = 90 * time.Second
)

func (o *Options) responseTimeout() time.Duration {
	if o.ResponseTimeout > 0 {
		return o.ResponseTimeout
	}
	return defaultResponseTimeout
}

func (o *Options) port() int {
	if o.Port != 0 {
		return o.Port
	}
	if o.TLS == TLSImplicit {
		return 993
	}
	return 143
}

func (o *Options) dialTimeout() time.Duration {
	if o.DialTimeout > 0 {
		return o.DialTimeout
	}
	return defaultDialTimeout
}

func (o *Options) keepAlive() time.Duration {
	switch {
	case o.KeepAlive < 0:
		return -1
	case o.KeepAlive == 0:
		return defaultKeepAlive
	default:
		return o.KeepAlive
	}
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (o *Options) tlsConfig() *tls.Config {
	var c *tls.Config
	if o.TLSConfig != nil {
		c = o.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if o.RootCAs != nil {
		c.RootCAs = o.RootCAs
	}
	if c.ServerName == "" {
		c.ServerName = o.Host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	if c.NextProtos == nil && o.TLS == TLSImplicit {
		c.NextProtos = []string{"imap"} // RFC 8314 §7
	}
	return c
}
