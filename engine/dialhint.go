package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/mailwarden/mailwarden/engine/config"
)

// hintError is a connection error with a hint in its text, naming the
// config key that most likely fixes it. errors.Is and errors.As see the
// error it wraps, so its class (imapconn.IsPermanent) is unchanged.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() + " (hint: " + e.hint + ")" }
func (e *hintError) Unwrap() error { return e.err }

// withHint adds a hint to the TLS and port mistakes a user makes when
// setting an account up, which Go reports in its own terms (x509: certificate
// signed by unknown authority, first record does not look like a TLS
// handshake, connection refused). Other errors are returned as they are.
func withHint(err error, a *config.Account) error {
	if h := dialHint(err, a); h != "" {
		return &hintError{err: err, hint: h}
	}
	return err
}

func dialHint(err error, a *config.Account) string {
	port := strconv.Itoa(a.Port)
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		record    tls.RecordHeaderError
		dnsErr    *net.DNSError
	)
	switch {
	case errors.As(err, &unknownCA):
		if a.TLSCAFile != "" {
			return fmt.Sprintf("the server's certificate is signed neither by tls_ca_file (%s) nor by a CA this system trusts; is it the right certificate?", a.TLSCAFile)
		}
		return "the server's certificate is not signed by a CA this system trusts; for a self-signed certificate or a private CA, set tls_ca_file to that certificate (PEM)"
	case errors.As(err, &hostname):
		name := a.Host
		if a.TLSServerName != "" {
			name = a.TLSServerName
		}
		var names []string
		if c := hostname.Certificate; c != nil {
			names = append(names, c.DNSNames...)
			for _, ip := range c.IPAddresses {
				names = append(names, ip.String())
			}
		}
		if len(names) == 0 {
			return fmt.Sprintf("the server's certificate is not for %s; set tls_server_name to the name it is for", name)
		}
		return fmt.Sprintf("the server's certificate is for %s, not %s; set tls_server_name: %s, or use that name as host",
			strings.Join(names, ", "), name, names[0])
	case errors.As(err, &record):
		if a.TLS == config.TLSStartTLS {
			return "the server did not answer STARTTLS with a TLS handshake; check host and port"
		}
		return "port " + port + " answered without TLS (tls: implicit expects TLS from the first byte): for a plaintext port such as 143 set tls: starttls, or use port 993"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing accepts connections on " + net.JoinHostPort(a.Host, port) + "; check host and port (993 for tls: implicit, 143 for starttls)"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no such host " + dnsErr.Name + "; check host"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		// Only a timeout before the server said anything hints at the TLS
		// mode (a secret command that timed out is no port mistake).
		var op *net.OpError
		msg := err.Error()
		switch {
		case errors.As(err, &op) && op.Op == "dial":
			return "no answer from " + net.JoinHostPort(a.Host, port) + "; check host, port and firewalls"
		case a.TLS == config.TLSImplicit && strings.Contains(msg, "tls handshake"):
			return "no TLS handshake in time; if port " + port + " is a plaintext port such as 143, set tls: starttls, or use port 993"
		case a.TLS != config.TLSImplicit && strings.Contains(msg, "greeting"):
			return "no IMAP greeting in time; if port " + port + " expects TLS from the first byte, such as 993, set tls: implicit"
		}
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
