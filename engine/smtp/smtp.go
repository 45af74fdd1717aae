package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/rules"
)

// DefaultTimeout bounds one submission (connect, TLS, login, transfer).
const DefaultTimeout = 2 * time.Minute

// Options configure a Sender. Nil means defaults.
type Options struct {
	// Logger receives one debug line per submission; nil discards.
	Logger *slog.Logger
	// Now dates vacation replies; nil means time.Now.
	Now func() time.Time
	// Hostname is the EHLO name; default the machine's host name.
	Hostname string
	// Timeout bounds one submission; default DefaultTimeout.
	Timeout time.Duration
}

// Sender submits through one smtp: account. It is safe for concurrent use.
type Sender struct {
	cfg  *config.SMTP
	o    Options
	from string // the addr-spec of cfg.From
}

var _ actions.Sender = (*Sender)(nil)

// New returns a Sender for cfg (a validated smtp: section). It does not
// connect.
func New(cfg *config.SMTP, opts *Options) *Sender {
	s := &Sender{cfg: cfg}
	if opts != nil {
		s.o = *opts
	}
	if s.o.Logger == nil {
		s.o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.o.Now == nil {
		s.o.Now = time.Now
	}
	if s.o.Hostname == "" {
		s.o.Hostname, _ = os.Hostname()
		if s.o.Hostname == "" {
			s.o.Hostname = "localhost"
		}
	}
	if s.o.Timeout <= 0 {
		s.o.Timeout = DefaultTimeout
	}
	s.from = cfg.From
	if a, err := mail.ParseAddress(cfg.From); err == nil {
		s.from = a.Address
	}
	return s
}

// Send submits sd (see the package documentation).
func (s *Sender) Send(ctx context.Context, m *rules.Message, sd rules.Send) error {
	var (
		from string
		body []byte
		err  error
	)
	switch sd.Kind {
	case rules.SendRedirect:
		if len(sd.Raw) == 0 {
			return errors.New("redirect: the message body was not fetched")
		}
		if !sd.NullSender {
			from = s.from
		}
		body = redirectMessage(sd)
	case rules.SendVacation:
		if sd.Reply == nil {
			return errors.New("vacation: no reply")
		}
		// RFC 5230 §5.1: the null reverse-path.
		body, err = s.vacationMessage(sd)
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown send kind %q", sd.Kind)
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	start := time.Now()
	err = s.submit(ctx, from, sd.To, body)
	s.o.Logger.Debug("smtp submission", "kind", sd.Kind, "to", sd.To, "server", s.cfg.Addr(), "bytes", len(body),
		"took", time.Since(start).Round(time.Millisecond), "err", err)
	return err
}

// submit runs one SMTP transaction.
func (s *Sender) submit(ctx context.Context, from, to string, body []byte) (err error) {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	// go-smtp has no context: a done ctx closes the connection.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	var c *gosmtp.Client
	switch s.cfg.TLS {
	case config.TLSNone:
		c = gosmtp.NewClient(conn)
	case config.TLSStartTLS:
		tc, err := s.tlsConfig()
		if err != nil {
			conn.Close()
			return err
		}
		// RFC 3207; go-smtp says EHLO localhost before it, and our name
		// after it.
		if c, err = gosmtp.NewClientStartTLS(conn, tc); err != nil {
			conn.Close()
			return fmt.Errorf("smtp %s: STARTTLS: %w", addr, err)
		}
	default:
		tc, err := s.tlsConfig()
		if err != nil {
			conn.Close()
			return err
		}
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("smtp %s: TLS: %w", addr, err)
		}
		c = gosmtp.NewClient(tconn)
	}
	defer c.Close()
	if err := c.Hello(s.o.Hostname); err != nil {
		return fmt.Errorf("smtp %s: EHLO: %w", addr, err)
	}
	if s.cfg.Username != "" {
		pw, err := s.cfg.Secret(ctx)
		if err != nil {
			return err
		}
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, pw)); err != nil {
			return fmt.Errorf("smtp %s: login as %s: %w", addr, s.cfg.Username, err)
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM:<%s>: %w", addr, from, err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return fmt.Errorf("smtp %s: RCPT TO:<%s>: %w", addr, to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", addr, err)
	}
	if _, err := w.Write(body); err != nil {
		// Without the final "." the server cannot have taken it.
		return fmt.Errorf("smtp %s: sending the message: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		var se *gosmtp.SMTPError
		if errors.As(err, &se) {
			return fmt.Errorf("smtp %s: message refused: %w", addr, err)
		}
		// The end of the message may have reached the server.
		return fmt.Errorf("smtp %s: %w: %v", addr, actions.ErrMaybeSent, err)
	}
	_ = c.Quit() // accepted; the rest is courtesy
	return nil
}

func (s *Sender) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{ServerName: s.cfg.TLSServerName, MinVersion: tls.VersionTLS12}
	if tc.ServerName == "" {
		tc.ServerName = s.cfg.Host
	}
	if s.cfg.TLSCAFile != "" {
		pem, err := os.ReadFile(s.cfg.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp tls_ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp tls_ca_file %s: no PEM certificate in it", s.cfg.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
