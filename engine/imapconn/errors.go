package imapconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/emersion/go-imap/v2"
)

var (
	// ErrConfig marks a configuration error (missing host, plaintext not
	// allowed, server lacks a required mechanism). Permanent. A Password or
	// Token function may wrap it to mark its own failure as permanent.
	ErrConfig = errors.New("imap configuration error")
	// ErrNoIdle is returned by Session.Idle when the server has neither IDLE
	// (RFC 2177) nor IMAP4rev2: the caller polls with Noop instead.
	ErrNoIdle = errors.New("server does not support IDLE")
	// ErrNoMove is returned by Session.Move when the server lacks MOVE
	// (RFC 6851): the caller copies, flags and UID-expunges itself.
	ErrNoMove = errors.New("server does not support MOVE")
	// ErrNoUIDPlus is returned by Session.UIDExpunge when the server lacks
	// UIDPLUS (RFC 4315): there is deliberately no plain EXPUNGE fallback.
	ErrNoUIDPlus = errors.New("server does not support UIDPLUS")
	// ErrNoQuota is returned by Client.QuotaRoot when the server lacks
	// QUOTA (RFC 9208) or reports no STORAGE resource.
	ErrNoQuota = errors.New("server reports no storage quota")
	// ErrReadOnly is returned by the changing methods (Store, Move,
	// UIDExpunge) of a Session opened with Examine.
	ErrReadOnly = errors.New("mailbox is selected read-only")
	// ErrClosed is returned by calls on a Client whose connection is closed.
	ErrClosed = errors.New("imap connection closed")
)

// AuthError is an authentication failure. It is permanent unless the
// server said the failure is temporary ([UNAVAILABLE]) or the connection
// broke during the exchange.
type AuthError struct {
	Mechanism string // "LOGIN", "PLAIN", "XOAUTH2", "OAUTHBEARER"
	Err       error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("authenticate (%s): %v", e.Mechanism, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

func configErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// IsPermanent reports whether retrying err cannot help: a configuration
// error, an authentication failure, a certificate verification failure, or a
// NO/BAD answer that is not marked as transient. A nil error is not
// permanent.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrConfig) || errors.Is(err, ErrNoIdle) || errors.Is(err, ErrNoMove) ||
		errors.Is(err, ErrNoUIDPlus) || errors.Is(err, ErrNoQuota) || errors.Is(err, ErrReadOnly) {
		return true
	}
	if isCertError(err) {
		return true
	}
	if isTransport(err) {
		return false
	}
	var imapErr *imap.Error
	if errors.As(err, &imapErr) {
		// BYE (e.g. a greeting "* BYE too many connections") is the server
		// going away, not an answer about the request.
		return imapErr.Type != imap.StatusResponseTypeBye && !transientCode(imapErr.Code)
	}
	var authErr *AuthError
	if errors.As(err, &authErr) {
		return true // rejected without a status response: an OAuth2 error challenge
	}
	// TLS spoken to a plaintext port (or the reverse): the port or TLS mode
	// is misconfigured.
	var recErr tls.RecordHeaderError
	return errors.As(err, &recErr)
}

// IsTemporary reports whether err may go away by retrying (reconnecting
// with backoff): network errors, timeouts, a closed connection, BYE,
// [UNAVAILABLE] and the like. Every non-nil error is either permanent or
// temporary.
func IsTemporary(err error) bool {
	return err != nil && !IsPermanent(err)
}

// transientCode lists response codes (RFC 5530, RFC 9051 §7.1) that say
// "try again later".
func transientCode(code imap.ResponseCode) bool {
	switch code {
	case imap.ResponseCodeUnavailable, imap.ResponseCodeInUse, imap.ResponseCodeLimit,
		imap.ResponseCodeServerBug, imap.ResponseCodeOverQuota, "EXPUNGEISSUED":
		return true
	}
	return false
}

func isCertError(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		ierr x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &ierr)
}

// isTransport reports network-level failures: the connection broke, timed
// out, was closed, or ctx ended.
func isTransport(err error) bool {
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, ErrClosed), errors.Is(err, ErrStalled),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	}
	// go-imap reports decoder failures as plain strings.
	s := err.Error()
	return strings.Contains(s, "use of closed network connection") ||
		strings.Contains(s, "connection reset by peer") ||
		strings.Contains(s, "broken pipe")
}
