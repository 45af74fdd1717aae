package config

import (
	"context"
	"net"
	"net/mail"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SMTP is the optional `smtp:` section: the submission account (RFC 6409)
// through which Sieve's redirect and vacation send mail. Without it those
// commands are compile errors, or skipped where a rule set step says
// `unsupported: skip`.
type SMTP struct {
	Host string
	// Port defaults to 465 with tls: implicit (RFC 8314), 587 with
	// starttls (RFC 6409), 25 with none.
	Port              int
	TLS               string // implicit (default) | starttls | none
	InsecurePlaintext bool   // required when TLS is none
	TLSCAFile         string // extra CA certificate (PEM), absolute after Validate
	TLSServerName     string // name to verify in the certificate; default Host
	// Username is the login (AUTH PLAIN); empty: no AUTH, and then no
	// credential source may be set.
	Username string
	// At most one credential source, as for accounts: a password file
	// (mode 0600 or stricter), an environment variable or a command.
	PasswordFile    string
	PasswordEnv     string
	PasswordCommand string
	// From is the mailbox owner's address: the envelope sender of
	// redirects (RFC 6785 §3.4) and the From of vacation replies (RFC 5230
	// §5.4). Required.
	From string

	Pos Pos // the section
	pos map[string]Pos
}

// Addr is the submission server's host:port.
func (s *SMTP) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// Secret reads the password from its source now (see Account.Secret);
// the error names the smtp section, never the secret.
func (s *SMTP) Secret(ctx context.Context) (string, error) {
	a := Account{Name: "smtp", PasswordFile: s.PasswordFile, PasswordEnv: s.PasswordEnv, PasswordCommand: s.PasswordCommand}
	v, err := a.Secret(ctx)
	if err != nil {
		return "", err
	}
	return v, nil
}

var smtpKeys = []string{"host", "port", "tls", "insecure_plaintext", "tls_ca_file", "tls_server_name",
	"username", "password_file", "password_env", "password_command", "from"}

func (d *decoder) smtp(k, n *yaml.Node, c *Config) {
	s := &SMTP{Pos: d.pos(k)}
	s.pos = d.mapping(n, "smtp", smtpKeys, func(key string, k, v *yaml.Node) {
		p := "smtp." + key
		switch key {
		case "host":
			s.Host = d.str(k, v, p)
		case "port":
			s.Port = d.integer(k, v, p)
		case "tls":
			s.TLS = d.str(k, v, p)
		case "insecure_plaintext":
			s.InsecurePlaintext = d.boolean(k, v, p)
		case "tls_ca_file":
			s.TLSCAFile = d.str(k, v, p)
		case "tls_server_name":
			s.TLSServerName = d.str(k, v, p)
		case "username":
			s.Username = d.str(k, v, p)
		case "password_file":
			s.PasswordFile = d.str(k, v, p)
		case "password_env":
			s.PasswordEnv = d.str(k, v, p)
		case "password_command":
			s.PasswordCommand = d.str(k, v, p)
		case "from":
			s.From = d.str(k, v, p)
		}
	})
	c.SMTP = s
}

// smtpDefaults fills in the port and TLS mode and resolves paths.
func (c *Config) smtpDefaults() {
	s := c.SMTP
	if s == nil {
		return
	}
	if s.TLS == "" {
		s.TLS = TLSImplicit
	}
	if s.Port == 0 && s.pos["port"] == (Pos{}) {
		switch s.TLS {
		case TLSImplicit:
			s.Port = 465
		case TLSStartTLS:
			s.Port = 587
		case TLSNone:
			s.Port = 25
		}
	}
	s.TLSCAFile = c.abs(s.TLSCAFile)
	s.PasswordFile = c.abs(s.PasswordFile)
}

func (v *validator) smtp() {
	s := v.c.SMTP
	if s == nil {
		return
	}
	const path = "smtp"
	if strings.TrimSpace(s.Host) == "" {
		v.addAt(s.Pos, path+".host", "the submission server's name or address", "missing")
	}
	v.server(s.pos, path, s.Port, s.TLS, s.InsecurePlaintext, s.TLSCAFile,
		"use tls: implicit (port 465) or starttls (port 587), or add insecure_plaintext: true for a server on a trusted network",
		"none sends the password and the mail in clear text")
	switch a, err := mail.ParseAddress(s.From); {
	case strings.TrimSpace(s.From) == "":
		v.addAt(s.Pos, path+".from", "your address: the sender of redirects and of vacation replies", "missing")
	case err != nil || !strings.Contains(a.Address, "@"):
		v.add(s.pos, path, "from", `e.g. "me@example.com" or "Me <me@example.com>"`, "invalid address %q", s.From)
	}
	var sources []string
	for _, src := range []struct {
		key string
		set bool
	}{{"password_file", s.PasswordFile != ""}, {"password_env", s.PasswordEnv != ""}, {"password_command", s.PasswordCommand != ""}} {
		if src.set {
			sources = append(sources, src.key)
		}
	}
	switch {
	case s.Username == "" && len(sources) > 0:
		v.add(s.pos, path, sources[0], "add username, or remove the password for a server that needs no login", "a password without username")
	case s.Username != "" && len(sources) == 0:
		v.addAt(s.Pos, path, "set one of password_file, password_env, password_command", "username without credentials")
	case len(sources) > 1:
		v.add(s.pos, path, sources[1], "keep one", "more than one credential source (%s)", strings.Join(sources, ", "))
	}
	if s.PasswordFile != "" {
		v.passwordFile(s.pos, path, "password_file", s.PasswordFile)
	}
	if s.PasswordEnv != "" {
		v.passwordEnv(s.pos, path, "password_env", s.PasswordEnv)
	}
}

// UserAddresses are the mailbox owner's addresses the config knows: the
// smtp from address and the accounts' user names that are addresses (for
// Sieve's vacation, RFC 5230 §4.5).
func (c *Config) UserAddresses() []string {
	var out []string
	add := func(s string) {
		if a, err := mail.ParseAddress(s); err == nil && strings.Contains(a.Address, "@") {
			for _, o := range out {
				if strings.EqualFold(o, a.Address) {
					return
				}
			}
			out = append(out, a.Address)
		}
	}
	if c.SMTP != nil {
		add(c.SMTP.From)
	}
	for _, a := range c.Accounts {
		add(a.Username)
	}
	return out
}
