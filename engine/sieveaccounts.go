package engine

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/managesieve"
	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/rules/ruleset"
	"github.com/mailwarden/mailwarden/rules/sieve"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// Scripts edited through ManageSieve (engine/managesieve) run where a rule
// set says `- managesieve: active`: for each account, that step is the
// account's active stored script. The shared rule set (Runtime.Rulesets)
// has an empty script there; compileManaged compiles a variant of the set
// for every account with an active script, and Runtime.Ruleset hands the
// watchers, sweeps and `apply` the variant of their account.

// SieveStore is the store of the scripts edited through ManageSieve:
// state_dir/sieve/<account>/.
func SieveStore(cfg *config.Config) *managesieve.Store {
	return managesieve.NewStore(filepath.Join(cfg.StateDir, "sieve"))
}

// compileManaged compiles, for every account with an active stored script,
// the variant of each rule set that has a `managesieve: active` step. A
// stored script that does not compile (it did when it was stored; the
// config's limits or smtp: section may have changed since) is a warning:
// that account runs the shared set, whose step does nothing.
func compileManaged(cfg *config.Config, opts *CompileOptions) (map[string]map[string]*ruleset.Set, []error) {
	var managed []*config.Ruleset
	for i := range cfg.Rulesets {
		for _, st := range cfg.Rulesets[i].Steps {
			if st.ManageSieve {
				managed = append(managed, &cfg.Rulesets[i])
				break
			}
		}
	}
	if len(managed) == 0 {
		return nil, nil
	}
	store := SieveStore(cfg)
	ro := rulesetOptions(cfg, opts)
	out := map[string]map[string]*ruleset.Set{}
	var warns []error
	for _, a := range cfg.Accounts {
		name, path, err := store.Active(a.Name)
		if err != nil {
			warns = append(warns, fmt.Errorf("account %s: managesieve: %w", a.Name, err))
			continue
		}
		if name == "" {
			continue
		}
		src, err := store.Get(a.Name, name)
		if err != nil {
			warns = append(warns, fmt.Errorf("account %s: managesieve: active script %q: %w", a.Name, name, err))
			continue
		}
		for _, rs := range managed {
			def := rulesetDef(rs)
			for i := range def.Steps {
				if def.Steps[i].Source != nil {
					def.Steps[i].Sieve, def.Steps[i].Source, def.Steps[i].IncludeDir = path, src, store.AccountDir(a.Name)
				}
			}
			set, errs := ruleset.Compile(def.Name, def.Steps, ro)
			if len(errs) > 0 {
				warns = append(warns, fmt.Errorf("account %s: the active ManageSieve script no longer compiles, so rule set %s runs without it (mail stays where it is): %w",
					a.Name, rs.Name, errors.Join(errs...)))
				continue
			}
			if out[a.Name] == nil {
				out[a.Name] = map[string]*ruleset.Set{}
			}
			out[a.Name][rs.Name] = set
		}
	}
	return out, warns
}

// perAccount returns the variants of rule set name by account, for a
// sweep (jobs.Sweep.PerAccount); nil when there are none.
func (rt *Runtime) perAccount(name string) map[string]jobs.Ruleset {
	var out map[string]jobs.Ruleset
	for account, sets := range rt.accountSets {
		if s := sets[name]; s != nil {
			if out == nil {
				out = map[string]jobs.Ruleset{}
			}
			out[account] = s
		}
	}
	return out
}

// SweepsManaged reports whether a scheduled sweep runs a rule set with a
// `managesieve: active` step, so that a changed script changes a job.
func (rt *Runtime) SweepsManaged() bool {
	for _, s := range rt.Schedules {
		if sw, ok := s.Job.(*jobs.Sweep); ok {
			if rs := rt.Config.Ruleset(sw.Rules.Name()); rs != nil {
				for _, st := range rs.Steps {
					if st.ManageSieve {
						return true
					}
				}
			}
		}
	}
	return false
}

// ManageSieveOptions configure NewManageSieve.
type ManageSieveOptions struct {
	// Changed is called after an account's active script changed; the
	// daemon recompiles (Compile) and restarts its watchers and jobs.
	Changed func(account string)
	// Compile tunes how scripts are checked (the duplicate store); nil
	// means defaults.
	Compile *CompileOptions
	// Logger receives the server's events. Nil discards.
	Logger *slog.Logger
	// MaxFailDelay caps the delay of failed logins (managesieve.Options);
	// zero means its default.
	MaxFailDelay time.Duration
	// Login checks a login against an account's IMAP server; nil means
	// LoginChecker.
	Login func(ctx context.Context, a *config.Account, user, password string) error
}

// NewManageSieve returns the server of cfg's managesieve: section (which
// must be present). A login is checked against the IMAP server of the
// account whose username (or, in admin mode, whose authorize_as) it
// names: ManageSieve users log in with their mail password, which the
// daemon never stores. PUTSCRIPT and CHECKSCRIPT compile as the daemon
// runs the script for that account.
func NewManageSieve(cfg *config.Config, o *ManageSieveOptions) (*managesieve.Server, error) {
	m := cfg.ManageSieve
	if m == nil {
		return nil, errors.New("managesieve: the config has no managesieve: section")
	}
	if o == nil {
		o = &ManageSieveOptions{}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	login := o.Login
	if login == nil {
		login = LoginChecker(log)
	}
	store := SieveStore(cfg)
	ro := rulesetOptions(cfg, o.Compile)
	skip := false
	for _, rs := range cfg.Rulesets {
		for _, st := range rs.Steps {
			skip = skip || (st.ManageSieve && st.SkipUnsupported())
		}
	}
	opts := &managesieve.Options{
		Store: store,
		Authenticate: func(ctx context.Context, authz, user, password string) (string, error) {
			return authenticate(ctx, cfg, login, authz, user, password)
		},
		Compile: func(account, name string, src []byte) error {
			_, errs := ruleset.Compile("managesieve", []ruleset.Step{{Sieve: name, Source: src,
				IncludeDir: store.AccountDir(account), SkipUnsupported: skip}}, ro)
			if len(errs) == 0 {
				return nil
			}
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Error()
			}
			return errors.New(strings.Join(msgs, "\n"))
		},
		Changed:        o.Changed,
		Extensions:     sieve.Extensions(),
		AllowPlaintext: m.TLS == config.TLSNone && m.InsecurePlaintext,
		MaxScriptSize:  m.MaxScriptSize,
		MaxScripts:     m.MaxScripts,
		MaxFailDelay:   o.MaxFailDelay,
		Logger:         log,
	}
	if m.TLS == config.TLSStartTLS {
		tc, err := manageSieveTLS(m)
		if err != nil {
			return nil, err
		}
		opts.TLSConfig = tc
	}
	return managesieve.New(opts), nil
}

func manageSieveTLS(m *config.ManageSieve) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(m.CertFile, m.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("managesieve: cert_file, key_file: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// ListenManageSieve listens on the managesieve: section's address; with
// tls: implicit every connection starts with a TLS handshake (as on port
// 4190 behind a TLS proxy; RFC 5804 itself only has STARTTLS).
func ListenManageSieve(cfg *config.Config) (net.Listener, error) {
	m := cfg.ManageSieve
	if m == nil {
		return nil, errors.New("managesieve: the config has no managesieve: section")
	}
	var tc *tls.Config
	if m.TLS == config.TLSImplicit {
		var err error
		if tc, err = manageSieveTLS(m); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", m.Listen)
	if err != nil {
		return nil, fmt.Errorf("managesieve: cannot listen on %s: %w", m.Listen, err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return ln, nil
}

// authenticate maps a ManageSieve login to an account: first the
// account's configured credential (its username, authorize_as and
// password, as the daemon logs in with them: what `mailwarden sieve` and
// an administrator use), then the user's own IMAP login on the account's
// server (what a mail client uses; the daemon never stores it).
func authenticate(ctx context.Context, cfg *config.Config, login func(context.Context, *config.Account, string, string) error, authz, user, password string) (string, error) {
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		if a.OAuth2 != nil || a.Username != user || a.AuthorizeAs != authz {
			continue
		}
		if secret, err := a.Secret(ctx); err == nil && secret != "" &&
			subtle.ConstantTimeCompare([]byte(secret), []byte(password)) == 1 {
			return a.Name, nil
		}
	}
	if authz != "" {
		return "", managesieve.ErrBadLogin
	}
	var tried bool
	var last error
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		if (a.AuthorizeAs == "" && a.Username != user) || (a.AuthorizeAs != "" && a.AuthorizeAs != user) {
			continue
		}
		tried = true
		err := login(ctx, a, user, password)
		if err == nil {
			return a.Name, nil
		}
		last = err
	}
	if !tried || imapconn.IsPermanent(last) {
		return "", managesieve.ErrBadLogin
	}
	return "", last
}

// LoginChecker checks a ManageSieve login by logging in to the account's
// IMAP server with it (the account's host, port and TLS settings, the
// user's own name and password), then logging out.
func LoginChecker(log *slog.Logger) func(ctx context.Context, a *config.Account, user, password string) error {
	return func(ctx context.Context, a *config.Account, user, password string) error {
		o, err := DialOptions(a, log)
		if err != nil {
			return err
		}
		o.Username = user
		o.Auth = imapconn.Password{Password: func(context.Context) (string, error) { return password, nil }}
		c, err := imapconn.Dial(ctx, o)
		if err != nil {
			return err
		}
		c.Logout(ctx)
		return nil
	}
}

// liveRules is the rule set one account's watchers run, replaceable while
// they run (Engine.UseRuntime): a watcher reads it per batch, so a new
// ManageSieve script applies from the next batch on, without a reconnect.
type liveRules struct {
	p atomic.Pointer[ruleset.Set]
}

func (l *liveRules) set() *ruleset.Set { return l.p.Load() }

func (l *liveRules) Name() string { return l.set().Name() }
func (l *liveRules) Evaluate(ctx context.Context, m *rules.Message) (rules.Plan, error) {
	return l.set().Evaluate(ctx, m)
}
func (l *liveRules) NeedsBody() bool                { return l.set().NeedsBody() }
func (l *liveRules) NeedsMailboxes() bool           { return l.set().NeedsMailboxes() }
func (l *liveRules) HeaderFields() ([]string, bool) { return l.set().HeaderFields() }

// liveSet returns the replaceable rule set name of account (nil when
// there is no such set).
func (e *Engine) liveSet(account, name string) *liveRules {
	e.mu.Lock()
	defer e.mu.Unlock()
	set := e.rt.Ruleset(account, name)
	if set == nil {
		return nil
	}
	key := [2]string{account, name}
	if l := e.live[key]; l != nil {
		return l
	}
	l := &liveRules{}
	l.p.Store(set)
	if e.live == nil {
		e.live = map[[2]string]*liveRules{}
	}
	e.live[key] = l
	return l
}

// UseRuntime makes the running watchers evaluate with the rule sets of
// rt, from their next batch on. rt must be compiled from the same config
// (the daemon recompiles it after a ManageSieve change); a rule set rt
// lacks keeps the running one.
func (e *Engine) UseRuntime(rt *Runtime) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for key, l := range e.live {
		if s := rt.Ruleset(key[0], key[1]); s != nil {
			l.p.Store(s)
		}
	}
	e.rt = rt
}
