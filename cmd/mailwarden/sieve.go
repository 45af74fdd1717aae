package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/managesieve"
)

const sieveUsage = `Usage: mailwarden sieve list       -c FILE [--account A]
       mailwarden sieve get        -c FILE [--account A] NAME
       mailwarden sieve put        -c FILE [--account A] [--activate] NAME SCRIPT.sieve
       mailwarden sieve check      -c FILE [--account A] SCRIPT.sieve
       mailwarden sieve activate   -c FILE [--account A] NAME
       mailwarden sieve deactivate -c FILE [--account A]
       mailwarden sieve delete     -c FILE [--account A] NAME
       mailwarden sieve rename     -c FILE [--account A] OLD NEW

Edits an account's Sieve scripts through the running daemon's ManageSieve
server (the config's managesieve: section), logging in with the account's
configured credential, as a mail client would with the user's password.
put and check answer with the daemon's located compile errors; the active
script runs where a rule set says "- managesieve: active", from the next
message on. --account may be left out when the config has one account.`

func cmdSieve(args []string, stdout, stderr io.Writer) int {
	subs := map[string]int{"list": 0, "get": 1, "put": 2, "check": 1, "activate": 1, "deactivate": 0, "delete": 1, "rename": 2}
	if len(args) == 0 {
		fmt.Fprintln(stderr, sieveUsage)
		return exitUsage
	}
	sub := args[0]
	nargs, ok := subs[sub]
	if !ok {
		fmt.Fprintf(stderr, "mailwarden sieve: unknown command %q\n\n%s\n", sub, sieveUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("sieve "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, sieveUsage) }
	path := fs.String("c", "", "config file")
	account := fs.String("account", "", "the account whose scripts to edit")
	activate := fs.Bool("activate", false, "put: make the script the active one")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return exitUsage
	}
	if len(pos) != nargs {
		fmt.Fprintf(stderr, "mailwarden sieve %s takes %d argument(s), got %d\n\n%s\n", sub, nargs, len(pos), sieveUsage)
		return exitUsage
	}
	cfg, errs := parseConfig(*path)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := sieveLogin(ctx, cfg, *account)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden sieve:", err)
		return exitFail
	}
	defer c.Logout()
	if err := sieveDo(c, sub, pos, *activate, stdout); err != nil {
		fmt.Fprintf(stderr, "mailwarden sieve %s: %s\n", sub, sieveError(err))
		return exitFail
	}
	return exitOK
}

func sieveDo(c *managesieve.Client, sub string, pos []string, activate bool, stdout io.Writer) error {
	switch sub {
	case "list":
		names, active, err := c.List()
		if err != nil {
			return err
		}
		for _, n := range names {
			if n == active {
				fmt.Fprintf(stdout, "%s\tactive\n", n)
			} else {
				fmt.Fprintln(stdout, n)
			}
		}
		if len(names) == 0 {
			fmt.Fprintln(stdout, "(no scripts)")
		}
		return nil
	case "get":
		src, err := c.Get(pos[0])
		if err == nil {
			io.WriteString(stdout, src)
		}
		return err
	case "put", "check":
		file := pos[len(pos)-1]
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if sub == "check" {
			if err := c.Check(string(src)); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: ok\n", file)
			return nil
		}
		if err := c.Put(pos[0], string(src)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "stored %s (%d bytes)\n", pos[0], len(src))
		if activate {
			if err := c.Activate(pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s is the active script\n", pos[0])
		}
		return nil
	case "activate":
		if err := c.Activate(pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is the active script\n", pos[0])
		return nil
	case "deactivate":
		if err := c.Activate(""); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "no script is active")
		return nil
	case "delete":
		return c.Delete(pos[0])
	case "rename":
		return c.Rename(pos[0], pos[1])
	}
	return fmt.Errorf("unknown command %q", sub)
}

// sieveError prints a server's refusal: its message (a compile error has
// one located line per problem), and its response code when there is one.
func sieveError(err error) string {
	var r *managesieve.Response
	if errors.As(err, &r) {
		if r.Code != "" {
			return fmt.Sprintf("%s [%s]", r.Msg, r.Code)
		}
		return r.Msg
	}
	return err.Error()
}

// sieveLogin connects to the daemon's ManageSieve server and logs in with
// the account's configured credential.
func sieveLogin(ctx context.Context, cfg *config.Config, name string) (*managesieve.Client, error) {
	m := cfg.ManageSieve
	if m == nil {
		return nil, fmt.Errorf("%s has no managesieve: section (hint: add managesieve: {listen: \":4190\", ...} and reload the daemon)", cfg.File)
	}
	a, err := sieveAccount(cfg, name)
	if err != nil {
		return nil, err
	}
	if a.OAuth2 != nil {
		return nil, fmt.Errorf("account %s signs in with OAuth2, which this command cannot pass on (hint: edit its scripts from a mail client, logging in with the user's password)", a.Name)
	}
	secret, err := a.Secret(ctx)
	if err != nil {
		return nil, err
	}
	addr := m.Listen
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	o := &managesieve.ClientOptions{Plaintext: m.TLS == config.TLSNone}
	if m.TLS != config.TLSNone {
		tc, err := pinnedTLS(m.CertFile)
		if err != nil {
			return nil, err
		}
		o.TLSConfig, o.Implicit = tc, m.TLS == config.TLSImplicit
	}
	c, err := managesieve.DialClient(ctx, addr, o)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the ManageSieve server at %s: %w (hint: is `mailwarden run` running with this config?)", addr, err)
	}
	if err := c.LoginAs(a.AuthorizeAs, a.Username, secret); err != nil {
		c.Close()
		return nil, fmt.Errorf("login as %s: %s", a.Username, sieveError(err))
	}
	return c, nil
}

func sieveAccount(cfg *config.Config, name string) (*config.Account, error) {
	if name == "" {
		if len(cfg.Accounts) == 1 {
			return &cfg.Accounts[0], nil
		}
		return nil, fmt.Errorf("the config has %d accounts: name one with --account", len(cfg.Accounts))
	}
	for i := range cfg.Accounts {
		if cfg.Accounts[i].Name == name {
			return &cfg.Accounts[i], nil
		}
	}
	return nil, fmt.Errorf("no account %q in %s", name, cfg.File)
}

// pinnedTLS trusts exactly the certificate the daemon serves (the
// section's cert_file): the command talks to its own daemon, often with a
// self-signed certificate.
func pinnedTLS(certFile string) (*tls.Config, error) {
	data, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("managesieve.cert_file: %w", err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("managesieve.cert_file %s: no PEM certificate first", certFile)
	}
	want := blk.Bytes
	return &tls.Config{
		InsecureSkipVerify: true, // replaced by the pin below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) > 0 && bytes.Equal(raw[0], want) {
				return nil
			}
			return errors.New("the server's certificate is not managesieve.cert_file's")
		},
	}, nil
}
