package imapconn

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"syscall"

	"github.com/emersion/go-imap/v2"
)

// Causes of a failed connection, as Cause names them: a small fixed set,
// fit for a metric label.
const (
	CauseConfig   = "config"   // ErrConfig: the account's settings, a credential source
	CauseAuth     = "auth"     // the server rejected the credentials
	CauseTLS      = "tls"      // certificate verification, or TLS spoken to a plaintext port
	CauseRefused  = "refused"  // nothing listens there (ECONNREFUSED), or no route
	CauseTimeout  = "timeout"  // a dial, read or write timed out
	CauseClosed   = "closed"   // the connection broke or was closed (EOF, reset, BYE)
	CauseServer   = "server"   // the server answered NO or BAD
	CauseCanceled = "canceled" // our own context ended
	CauseOther    = "other"
)

// Cause classifies why a connection or command failed, for metrics and
// status: one of the Cause* constants ("" for a nil error).
func Cause(err error) string {
	var (
		authErr *AuthError
		imapErr *imap.Error
		recErr  tls.RecordHeaderError
		netErr  net.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return CauseCanceled
	case errors.Is(err, ErrConfig):
		return CauseConfig
	case errors.As(err, &authErr):
		return CauseAuth
	case isCertError(err), errors.As(err, &recErr):
		return CauseTLS
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return CauseRefused
	case errors.Is(err, ErrStalled), errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return CauseTimeout
	case errors.As(err, &imapErr) && imapErr.Type == imap.StatusResponseTypeBye:
		return CauseClosed
	case errors.As(err, &imapErr):
		return CauseServer
	case isTransport(err):
		return CauseClosed
	}
	return CauseOther
}
