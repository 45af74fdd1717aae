package memimap

import "crypto/x509"

func x509VerifyOptions(c *Cert) x509.VerifyOptions {
	return x509.VerifyOptions{Roots: c.Pool, DNSName: "127.0.0.1"}
}
