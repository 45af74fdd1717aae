package cluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// diagnose says why etcd did not answer in time, when the etcd client
// only says "context deadline exceeded" (its gRPC layer keeps the cause of
// a failed dial to itself: a refused connection, a certificate etcd does
// not trust, a CA that does not match). It asks each endpoint's /health
// over a plain connection with the client's TLS settings and returns the
// first endpoint's problem, or what the members said when all answered.
func (n *Node) diagnose(ctx context.Context) string {
	var said []string
	for _, ep := range n.o.Endpoints {
		ok, msg := n.probe(ctx, ep)
		if !ok {
			return fmt.Sprintf("%s: %s", ep, msg)
		}
		said = append(said, fmt.Sprintf("%s: %s", ep, msg))
	}
	return "every endpoint answers (" + strings.Join(said, "; ") + "): etcd may be without quorum, or slower than dial_timeout"
}

// probe reports whether endpoint ep answers /health, and what it said or
// why it did not.
func (n *Node) probe(ctx context.Context, ep string) (bool, string) {
	host, useTLS := ep, n.o.TLS != nil
	if u, err := url.Parse(ep); err == nil && u.Host != "" {
		host, useTLS = u.Host, u.Scheme == "https" || n.o.TLS != nil
	}
	ctx, cancel := context.WithTimeout(ctx, min(n.o.DialTimeout, 3*time.Second))
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false, fmt.Sprintf("cannot connect: %v", unwrapOp(err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if useTLS {
		cfg := &tls.Config{}
		if n.o.TLS != nil {
			cfg = n.o.TLS.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(host)
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return false, fmt.Sprintf("TLS handshake failed: %v (check tls_ca_file, tls_server_name and the client certificate)", unwrapOp(err))
		}
		conn = tc
	}
	// A client certificate etcd refuses shows (TLS 1.3) on the first
	// read: ask for /health.
	fmt.Fprintf(conn, "GET /health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		if useTLS {
			return false, fmt.Sprintf("refused after the TLS handshake: %v (etcd may require a client certificate it trusts: tls_cert_file, tls_key_file)", unwrapOp(err))
		}
		return false, fmt.Sprintf("no HTTP answer: %v (an https:// endpoint, or tls_ca_file, may be needed)", unwrapOp(err))
	}
	resp.Body.Close()
	return true, "answers " + resp.Status
}

// unwrapOp drops net.OpError's repetition of the addresses.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
