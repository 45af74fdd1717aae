package imapconn

import (
	"crypto/tls"

	"github.com/mailwarden/mailwarden/internal/memimap"
)

func tlsServerConfig(c *memimap.Cert) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.TLS}}
}
