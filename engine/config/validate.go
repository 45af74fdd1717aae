package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Validate fills in defaults, resolves relative paths against c.Dir and
// checks everything the YAML shape cannot. It returns every problem (each
// an *Error) and may be called again; Load calls it.
func (c *Config) Validate() []error {
	v := &validator{c: c}
	c.defaults()

	for _, lv := range []struct {
		key, val string
		allowed  []string
	}{
		{"level", c.Log.Level, logLevels}, {"format", c.Log.Format, logFormats},
	} {
		if !contains(lv.allowed, lv.val) {
			v.enum(c.Log.pos, "log", lv.key, lv.val, lv.allowed)
		}
	}
	if c.Limits.ExprMaxNodes < 1 || c.Limits.ExprMaxNodes > 100000 {
		v.add(c.Limits.pos, "limits", "expr_max_nodes", "", "must be between 1 and 100000, got %d", c.Limits.ExprMaxNodes)
	}
	if c.Limits.ActionsPerMessage < 1 || c.Limits.ActionsPerMessage > 10000 {
		v.add(c.Limits.pos, "limits", "actions_per_message", "", "must be between 1 and 10000, got %d", c.Limits.ActionsPerMessage)
	}

	for _, d := range []struct{ key, dir string }{{"personal_dir", c.Sieve.PersonalDir}, {"global_dir", c.Sieve.GlobalDir}} {
		if d.dir == "" {
			continue
		}
		if fi, err := os.Stat(d.dir); err != nil {
			v.add(c.Sieve.pos, "sieve", d.key, "the directory Sieve's include reads scripts from", "%v", unwrapPathError(err))
		} else if !fi.IsDir() {
			v.add(c.Sieve.pos, "sieve", d.key, "name the directory that holds the scripts", "%s is not a directory", d.dir)
		}
	}

	names := map[string]string{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		path := a.keyPath(i)
		if strings.TrimSpace(a.Name) == "" {
			v.addAt(a.Pos, path+".name", "every account needs a name, used in logs and on the command line", "missing")
		} else if other, dup := names[a.Name]; dup {
			v.add(a.pos, path, "name", "", "duplicate account name %q (also %s)", a.Name, other)
		} else {
			names[a.Name] = path
		}
		v.account(a, path)
	}
	v.budgets()

	rsNames := make([]string, 0, len(c.Rulesets))
	for _, rs := range c.Rulesets {
		rsNames = append(rsNames, rs.Name)
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		boxes := map[string]int{}
		for j := range a.Watch {
			w := &a.Watch[j]
			path := fmt.Sprintf("%s.watch[%d]", a.keyPath(i), j)
			if w.Mailbox == "" {
				v.addAt(w.Pos, path+".mailbox", "e.g. mailbox: INBOX", "missing")
			} else if k, dup := boxes[w.Mailbox]; dup {
				v.add(w.pos, path, "mailbox", "watch each mailbox once", "mailbox %q is already watched (%s.watch[%d])", w.Mailbox, a.keyPath(i), k)
			} else {
				boxes[w.Mailbox] = j
			}
			switch {
			case w.Ruleset == "":
				v.addAt(w.Pos, path+".ruleset", "name one of the rulesets under rulesets:", "missing")
			case c.Ruleset(w.Ruleset) == nil:
				hint := "define it under rulesets:"
				if len(rsNames) > 0 {
					hint = "defined rulesets: " + strings.Join(rsNames, ", ")
				}
				if s := didYouMean(w.Ruleset, rsNames); s != "" {
					hint = "did you mean " + s + "?"
				}
				v.add(w.pos, path, "ruleset", hint, "unknown ruleset %q", w.Ruleset)
			}
			if !contains(startModes, w.Start) {
				v.enum(w.pos, path, "start", w.Start, startModes)
			}
			if w.PollInterval < 0 {
				v.add(w.pos, path, "poll_interval", "", "must be positive")
			}
		}
	}

	for ri := range c.Rulesets {
		rs := &c.Rulesets[ri]
		rules := map[string]int{}
		for si := range rs.Steps {
			s := &rs.Steps[si]
			path := fmt.Sprintf("rulesets.%s[%d]", rs.Name, si)
			if s.Sieve != "" {
				s.Sieve = c.abs(s.Sieve)
				if s.Unsupported != "" && s.Unsupported != UnsupportedError && s.Unsupported != UnsupportedSkip {
					hint := "skip: run the script and skip what mailwarden cannot carry out (with a warning); error (the default): refuse the script"
					if d := didYouMean(s.Unsupported, []string{UnsupportedError, UnsupportedSkip}); d != "" {
						hint = "did you mean " + d + "?"
					}
					v.addAt(s.UnsupportedPos, path+".unsupported", hint, "unknown value %q", s.Unsupported)
				}
				continue
			}
			if s.Name == "" {
				continue // reported by the decoder
			}
			if line, dup := rules[s.Name]; dup {
				v.addAt(s.Pos, path+".name", "rule names identify rules in logs and the journal", "duplicate rule name %q in ruleset %s (first at line %d)", s.Name, rs.Name, line)
			} else {
				rules[s.Name] = s.Pos.Line
			}
		}
	}
	if c.Log.Heartbeat < 0 {
		v.add(c.Log.pos, "log", "heartbeat", `a duration such as 15m, or "0s" for none`, "must not be negative, got %v", c.Log.Heartbeat)
	}
	if c.HTTP.Listen != "" {
		host, port, err := net.SplitHostPort(c.HTTP.Listen)
		if err == nil {
			_, err = net.LookupPort("tcp", port)
		}
		if err != nil {
			v.add(c.HTTP.pos, "http", "listen", `host:port such as "127.0.0.1:9156", or ":9156" for 127.0.0.1`, "invalid address %q: %v", c.HTTP.Listen, err)
		} else if host == "" {
			c.HTTP.Listen = net.JoinHostPort("127.0.0.1", port)
		}
	}
	if c.JournalRetention != 0 && c.JournalRetention < MinJournalRetention {
		v.add(c.pos, "", "journal_retention", "undo and crash recovery read the journal; 90d is the default",
			"must be at least 1d, got %v", c.JournalRetention)
	}
	if c.Sieve.VacationMaxAge < 0 {
		v.add(c.Sieve.pos, "sieve", "vacation_max_age", "e.g. 7d", "must not be negative, got %v", c.Sieve.VacationMaxAge)
	}
	v.smtp()
	v.manageSieve()
	v.cluster()
	v.schedules()
	return dedupe(v.errs)
}

// keyPath is the account's key path in errors: accounts[i] with i its
// index in the file (every account of a template shares the template's).
func (a *Account) keyPath(i int) string {
	if a.path != "" {
		return a.path
	}
	return fmt.Sprintf("accounts[%d]", i)
}

// Server is the account's server as host:port, the key of its connection
// budget.
func (a *Account) Server() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// dedupe drops repeated errors: a mistake in a template is the same
// mistake in each of its accounts, reported once.
func dedupe(errs []error) []error {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		if s := e.Error(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	return out
}

// budgets checks max_connections: at least 1 where set; accounts on one
// server share one budget, the smallest any of them sets.
func (v *validator) budgets() {
	for i := range v.c.Accounts {
		a := &v.c.Accounts[i]
		if _, set := a.pos["max_connections"]; set && (a.MaxConnections < 1 || a.MaxConnections > 100000) {
			v.add(a.pos, a.keyPath(i), "max_connections", "the most connections mailwarden may open to this server, e.g. 15 for Gmail; remove it for no cap",
				"must be between 1 and 100000, got %d", a.MaxConnections)
		}
	}
}

// Budgets returns the connection budget of each server (host:port) that
// has one: the smallest max_connections of the accounts on it.
func (c *Config) Budgets() map[string]int {
	out := map[string]int{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if a.MaxConnections <= 0 {
			continue
		}
		k := a.Server()
		if n, ok := out[k]; !ok || a.MaxConnections < n {
			out[k] = a.MaxConnections
		}
	}
	return out
}

// defaults fills in zero values and resolves relative paths.
func (c *Config) defaults() {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	c.StateDir = c.abs(c.StateDir)
	c.Sieve.PersonalDir = c.abs(c.Sieve.PersonalDir)
	c.Sieve.GlobalDir = c.abs(c.Sieve.GlobalDir)
	c.smtpDefaults()
	c.manageSieveDefaults()
	c.clusterDefaults()
	if c.JournalRetention == 0 {
		c.JournalRetention = DefaultJournalRetention
	}
	if c.Log.Level == "" {
		c.Log.Level = DefaultLogLevel
	}
	if c.Log.Format == "" {
		c.Log.Format = DefaultLogFormat
	}
	if c.Log.Heartbeat == 0 && c.Log.pos["heartbeat"] == (Pos{}) {
		c.Log.Heartbeat = DefaultHeartbeat
	}
	if c.Limits.ExprMaxNodes == 0 && c.Limits.pos["expr_max_nodes"] == (Pos{}) {
		c.Limits.ExprMaxNodes = DefaultExprMaxNodes
	}
	if c.Limits.ActionsPerMessage == 0 && c.Limits.pos["actions_per_message"] == (Pos{}) {
		c.Limits.ActionsPerMessage = DefaultActionsPerMessage
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if a.TLS == "" {
			a.TLS = TLSImplicit
		}
		if a.Port == 0 && a.pos["port"] == (Pos{}) {
			switch a.TLS {
			case TLSImplicit:
				a.Port = 993
			case TLSStartTLS, TLSNone:
				a.Port = 143
			}
		}
		if a.IdleRefresh == 0 && !a.idleRefreshSet {
			a.IdleRefresh = DefaultIdleRefresh
		}
		a.TLSCAFile = c.abs(a.TLSCAFile)
		a.PasswordFile = c.abs(a.PasswordFile)
		if a.OAuth2 != nil {
			a.OAuth2.TokenFile = c.abs(a.OAuth2.TokenFile)
			a.OAuth2.ClientSecretFile = c.abs(a.OAuth2.ClientSecretFile)
		}
		for j := range a.Watch {
			w := &a.Watch[j]
			if w.Start == "" {
				w.Start = StartNew
			}
			if w.PollInterval == 0 {
				w.PollInterval = DefaultPollInterval
			}
		}
	}
}

// abs resolves p against the config file's directory ("" stays "").
func (c *Config) abs(p string) string {
	if p == "" {
		return ""
	}
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	if filepath.IsAbs(p) || c.Dir == "" {
		return filepath.Clean(p)
	}
	return filepath.Join(c.Dir, p)
}

type validator struct {
	c    *Config
	errs []error
}

// add reports a problem with key of the object at path, located at the key
// when it was written, else at nothing.
func (v *validator) add(pos map[string]Pos, path, key, hint, format string, args ...any) {
	v.errs = append(v.errs, &Error{Pos: v.at(pos, key), Path: join(path, key), Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// addAt reports a problem at p.
func (v *validator) addAt(p Pos, path, hint, format string, args ...any) {
	if p == (Pos{}) {
		p = Pos{File: v.c.File}
	}
	v.errs = append(v.errs, &Error{Pos: p, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (v *validator) at(pos map[string]Pos, key string) Pos {
	if p, ok := pos[key]; ok {
		return p
	}
	return Pos{File: v.c.File}
}

func (v *validator) enum(pos map[string]Pos, path, key, val string, allowed []string) {
	hint := oneOf(allowed)
	if s := didYouMean(val, allowed); s != "" {
		hint = "did you mean " + s + "?"
	}
	v.add(pos, path, key, hint, "unknown value %q", val)
}

// server checks the connection keys an account and the smtp: section
// share: port, tls with insecure_plaintext, tls_ca_file, tls_server_name.
// noneHint and noneMsg say why tls: none needs insecure_plaintext.
func (v *validator) server(pos map[string]Pos, path string, port int, mode string, insecure bool, caFile, noneHint, noneMsg string) {
	if _, written := pos["port"]; (written || port != 0) && (port < 1 || port > 65535) {
		v.add(pos, path, "port", "", "must be between 1 and 65535, got %d", port)
	}
	switch mode {
	case TLSImplicit, TLSStartTLS:
		if insecure {
			v.add(pos, path, "insecure_plaintext", "remove it, or set tls: none", "only allowed with tls: none")
		}
	case TLSNone:
		if !insecure {
			v.add(pos, path, "tls", noneHint, "%s", noneMsg)
		}
		for _, k := range []string{"tls_ca_file", "tls_server_name"} {
			if _, ok := pos[k]; ok {
				v.add(pos, path, k, "remove it, or use tls: implicit or starttls", "has no effect with tls: none")
			}
		}
	default:
		v.enum(pos, path, "tls", mode, tlsModes)
	}
	if caFile != "" {
		if _, err := os.Stat(caFile); err != nil {
			v.add(pos, path, "tls_ca_file", "", "%v", unwrapPathError(err))
		}
	}
}

func (v *validator) account(a *Account, path string) {
	if strings.TrimSpace(a.Host) == "" {
		v.addAt(a.Pos, path+".host", "the IMAP server's name or address", "missing")
	}
	if a.Username == "" {
		v.addAt(a.Pos, path+".username", "", "missing")
	}
	v.server(a.pos, path, a.Port, a.TLS, a.InsecurePlaintext, a.TLSCAFile,
		"use tls: implicit or starttls, or add insecure_plaintext: true for a server on a trusted network",
		"none sends the password in clear text")
	if a.IdleRefresh < MinIdleRefresh || a.IdleRefresh > MaxIdleRefresh {
		v.add(a.pos, path, "idle_refresh", "each refresh is DONE, NOOP, IDLE; servers may drop an IDLE after 30 minutes (RFC 2177); the default is 10m",
			"must be between 1m and 29m, got %v", a.IdleRefresh)
	}

	// Exactly one credential source.
	var sources []string
	for _, s := range []struct {
		key string
		set bool
	}{
		{"password_file", a.PasswordFile != ""}, {"password_env", a.PasswordEnv != ""},
		{"password_command", a.PasswordCommand != ""}, {"oauth2", a.OAuth2 != nil},
	} {
		if s.set {
			sources = append(sources, s.key)
		}
	}
	switch {
	case len(sources) == 0:
		v.addAt(a.Pos, path, "set one of password_file, password_env, password_command, oauth2", "no credentials")
	case len(sources) > 1:
		v.add(a.pos, path, sources[1], "keep one", "more than one credential source (%s)", strings.Join(sources, ", "))
	}
	if a.PasswordFile != "" {
		v.passwordFile(a.pos, path, "password_file", a.PasswordFile)
	}
	if a.PasswordEnv != "" {
		v.passwordEnv(a.pos, path, "password_env", a.PasswordEnv)
	}
	if a.AuthorizeAs != "" && a.OAuth2 != nil {
		v.add(a.pos, path, "authorize_as", "acting as another user needs an admin's password (SASL PLAIN); remove it, or use a password source",
			"not possible with oauth2")
	}
	if o := a.OAuth2; o != nil {
		op := path + ".oauth2"
		if o.Mechanism == "" && o.Builtin() {
			o.Mechanism = MechXOAuth2 // what Google and Microsoft take
		}
		if o.Mechanism == "" {
			v.add(a.pos, path, "oauth2", oneOf(mechanisms), "mechanism is missing")
		} else if !contains(mechanisms, strings.ToLower(o.Mechanism)) {
			v.enum(o.pos, op, "mechanism", o.Mechanism, mechanisms)
		} else {
			o.Mechanism = strings.ToLower(o.Mechanism)
		}
		var srcs []string
		for _, k := range []string{"provider", "token_command", "token_file"} {
			if _, ok := o.pos[k]; ok {
				srcs = append(srcs, k)
			}
		}
		switch {
		case len(srcs) == 0:
			v.add(a.pos, path, "oauth2", "set provider (google, microsoft or generic; then run `mailwarden auth login "+a.Name+"`), token_command (re-run to refresh the token) or token_file", "no token source")
		case len(srcs) > 1:
			v.add(o.pos, op, srcs[1], "keep one", "more than one token source (%s)", strings.Join(srcs, ", "))
		case o.TokenFile != "":
			v.passwordFile(o.pos, op, "token_file", o.TokenFile)
		case o.Builtin():
			v.oauthProvider(o, op)
		}
		if !o.Builtin() {
			for _, k := range []string{"tenant", "client_id", "client_secret", "client_secret_file", "auth_url", "token_url", "device_auth_url", "scopes", "flow"} {
				if _, ok := o.pos[k]; ok && len(srcs) == 1 {
					v.add(o.pos, op, k, "it configures the built-in OAuth2 client: add provider, or remove it", "has no effect without provider")
				}
			}
		}
	}
}

// oauthProvider checks a built-in OAuth2 client's settings.
func (v *validator) oauthProvider(o *OAuth2, op string) {
	p := strings.ToLower(o.Provider)
	if !contains(providers, p) {
		v.enum(o.pos, op, "provider", o.Provider, providers)
		return
	}
	o.Provider = p
	if o.ClientID == "" {
		v.add(o.pos, op, "provider", "register an app with the provider (see the README's OAuth2 section) and set client_id", "client_id is missing")
	}
	if o.ClientSecret != "" && o.ClientSecretFile != "" {
		v.add(o.pos, op, "client_secret_file", "keep one", "more than one client secret (client_secret, client_secret_file)")
	}
	if o.ClientSecretFile != "" {
		v.passwordFile(o.pos, op, "client_secret_file", o.ClientSecretFile)
	}
	if o.Flow != "" && !contains(flows, strings.ToLower(o.Flow)) {
		v.enum(o.pos, op, "flow", o.Flow, flows)
	}
	o.Flow = strings.ToLower(o.Flow)
	if _, ok := o.pos["tenant"]; ok && p != ProviderMicrosoft {
		v.add(o.pos, op, "tenant", "remove it", "only used by provider microsoft")
	}
	for _, k := range []struct{ key, val string }{{"auth_url", o.AuthURL}, {"token_url", o.TokenURL}, {"device_auth_url", o.DeviceAuthURL}} {
		if k.val == "" {
			continue
		}
		if u, err := url.Parse(k.val); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
			v.add(o.pos, op, k.key, "an https:// URL (http:// only for 127.0.0.1 or localhost)", "invalid endpoint %q", k.val)
		}
	}
	if p == ProviderGeneric {
		if o.TokenURL == "" {
			v.add(o.pos, op, "provider", "a generic provider needs token_url, and device_auth_url (device flow) or auth_url (loopback flow)", "token_url is missing")
		}
		if o.DeviceAuthURL == "" && o.AuthURL == "" {
			v.add(o.pos, op, "provider", "device_auth_url for the device flow, auth_url for the loopback flow", "no authorization endpoint")
		}
		if len(o.Scopes) == 0 {
			v.add(o.pos, op, "provider", "the scopes the provider requires for IMAP", "scopes is missing")
		}
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// passwordFile checks that a secret file exists, is private, can be read
// and holds a secret, as Account.Secret will need at every connect. The
// secret read here is dropped at once and never part of a message.
// passwordEnv checks that name is a variable name (not the password
// itself) and that the variable is set and not blank.
func (v *validator) passwordEnv(pos map[string]Pos, path, key, name string) {
	if !validEnvName(name) {
		v.add(pos, path, key, "the name of an environment variable, not its value", "%q is not a variable name", name)
		return
	}
	if val, ok := os.LookupEnv(name); !ok || strings.TrimSpace(val) == "" {
		state := "not set"
		if ok {
			state = "empty"
		}
		v.add(pos, path, key, "export it where mailwarden runs (under systemd: Environment= or EnvironmentFile=)",
			"environment variable %s is %s", name, state)
	}
}

func (v *validator) passwordFile(pos map[string]Pos, path, key, file string) {
	fi, err := os.Stat(file)
	if err != nil {
		hint := ""
		switch {
		case errors.Is(err, fs.ErrNotExist):
			hint = "create it, mode 0600, with the secret on one line"
		case errors.Is(err, fs.ErrPermission):
			hint = "the user mailwarden runs as must be able to read it"
		}
		v.add(pos, path, key, hint, "%v", unwrapPathError(err))
		return
	}
	if fi.IsDir() {
		v.add(pos, path, key, "", "%s is a directory", file)
		return
	}
	if !fi.Mode().IsRegular() {
		v.add(pos, path, key, "", "%s is not a regular file", file)
		return
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		v.add(pos, path, key, "chmod 600 "+file, "%s is accessible by group or others (mode %#o)", file, mode)
		return
	}
	s, err := readSecretFile(file)
	switch {
	case errors.Is(err, fs.ErrPermission):
		v.add(pos, path, key, "the user mailwarden runs as must be able to read it", "%v", unwrapPathError(err))
	case err != nil:
		v.add(pos, path, key, "", "%v", unwrapPathError(err))
	case strings.TrimSpace(s) == "":
		v.add(pos, path, key, "put the secret in it, on one line", "%s is empty", file)
	}
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func validEnvName(s string) bool {
	for i, r := range s {
		if !(r == '_' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return s != ""
}
