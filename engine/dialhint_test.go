package engine_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

// TLS and port mistakes, made against real listeners, fail with Go's
// error and a hint naming the config key that fixes them; the error's
// class is unchanged.
func TestDialErrorsCarryHints(t *testing.T) {
	t.Setenv("MW_HINT_PASS", "p")
	users := map[string]string{"u": "p"}

	plain, err := memimap.Start(&memimap.Options{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	// STARTTLS with a self-signed certificate for a name that is not the
	// address we connect to.
	cert, err := memimap.SelfSignedCert("imap.example.org")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, cert.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	starttls, err := memimap.Start(&memimap.Options{Users: users, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert.TLS}}})
	if err != nil {
		t.Fatal(err)
	}
	defer starttls.Close()

	// A port that speaks TLS from the first byte and waits for the client.
	tlsLn, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	defer tlsLn.Close()
	go func() {
		for {
			c, err := tlsLn.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	for _, tc := range []struct {
		name      string
		acct      config.Account
		permanent bool
		is        func(error) bool
		hint      string
	}{
		{"no CA for a self-signed certificate",
			config.Account{TLS: config.TLSStartTLS, Port: starttls.Port(), TLSServerName: "imap.example.org"}, true,
			func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) },
			"the server's certificate is not signed by a CA this system trusts; for a self-signed certificate or a private CA, set tls_ca_file to that certificate (PEM)"},
		{"certificate for another name",
			config.Account{TLS: config.TLSStartTLS, Port: starttls.Port(), TLSCAFile: caFile}, true,
			func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) },
			"the server's certificate is for imap.example.org, not 127.0.0.1; set tls_server_name: imap.example.org, or use that name as host"},
		{"implicit TLS to a plaintext port",
			config.Account{TLS: config.TLSImplicit, Port: plain.Port()}, true,
			func(err error) bool { var e tls.RecordHeaderError; return errors.As(err, &e) },
			fmt.Sprintf("port %d answered without TLS (tls: implicit expects TLS from the first byte): for a plaintext port such as 143 set tls: starttls, or use port 993", plain.Port())},
		{"plaintext to a TLS port",
			config.Account{TLS: config.TLSNone, InsecurePlaintext: true, Port: tlsLn.Addr().(*net.TCPAddr).Port}, false,
			func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
			fmt.Sprintf("no IMAP greeting in time; if port %d expects TLS from the first byte, such as 993, set tls: implicit", tlsLn.Addr().(*net.TCPAddr).Port)},
		{"STARTTLS to a TLS port",
			config.Account{TLS: config.TLSStartTLS, Port: tlsLn.Addr().(*net.TCPAddr).Port}, false,
			func(err error) bool { return true },
			fmt.Sprintf("no IMAP greeting in time; if port %d expects TLS from the first byte, such as 993, set tls: implicit", tlsLn.Addr().(*net.TCPAddr).Port)},
		{"nothing listening",
			config.Account{TLS: config.TLSImplicit, Port: closedPort}, false,
			func(err error) bool { return true },
			fmt.Sprintf("nothing accepts connections on 127.0.0.1:%d; check host and port (993 for tls: implicit, 143 for starttls)", closedPort)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.acct
			a.Name, a.Host, a.Username, a.PasswordEnv = "a", "127.0.0.1", "u", "MW_HINT_PASS"
			dial := engine.NewDialer(&config.Config{Accounts: []config.Account{a}}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			c, err := dial(ctx, "a")
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			t.Log(err)
			if !strings.HasSuffix(err.Error(), " (hint: "+tc.hint+")") {
				t.Errorf("error:\n %v\nwant the hint:\n %s", err, tc.hint)
			}
			if !tc.is(err) || imapconn.IsPermanent(err) != tc.permanent {
				t.Errorf("class changed: permanent %v, want %v (%v)", imapconn.IsPermanent(err), tc.permanent, err)
			}
		})
	}

	// A timeout after the greeting is no TLS or port mistake: no hint.
	slow := config.Account{Name: "a", Host: "127.0.0.1", Port: plain.Port(), TLS: config.TLSNone, InsecurePlaintext: true,
		Username: "u", PasswordCommand: "sleep 5; echo p"}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := engine.NewDialer(&config.Config{Accounts: []config.Account{slow}}, nil)(ctx, "a"); err == nil || strings.Contains(err.Error(), "hint") {
		t.Errorf("slow password command: %v", err)
	}

	// The hint is for mistakes: with the right CA and server name, the
	// same server connects.
	a := config.Account{Name: "a", Host: "127.0.0.1", Port: starttls.Port(), TLS: config.TLSStartTLS, TLSCAFile: caFile,
		TLSServerName: "imap.example.org", Username: "u", PasswordEnv: "MW_HINT_PASS"}
	c, err := engine.NewDialer(&config.Config{Accounts: []config.Account{a}}, nil)(context.Background(), "a")
	if err != nil {
		t.Fatalf("with tls_ca_file and tls_server_name: %v", err)
	}
	c.Close()
}
