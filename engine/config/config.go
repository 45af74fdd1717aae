package config

import (
	"time"
)

// Defaults applied by Validate to zero values.
const (
	DefaultPollInterval = time.Minute
	DefaultIdleRefresh  = 10 * time.Minute
	// MaxIdleRefresh: RFC 2177 §3 lets servers drop an IDLE after 30
	// minutes, so idle_refresh must stay below that.
	MaxIdleRefresh = 29 * time.Minute
	// MinIdleRefresh: each refresh is DONE + NOOP + IDLE; a shorter
	// period is polling with extra steps, and 0 would loop without pause.
	MinIdleRefresh           = time.Minute
	DefaultStateDir          = "state"
	DefaultLogLevel          = "info"
	DefaultLogFormat         = "text"
	DefaultExprMaxNodes      = 1000
	DefaultActionsPerMessage = 64
	DefaultHeartbeat         = 15 * time.Minute
	// DefaultJournalRetention is how long journal entries (and the
	// placements that prevent loops) are kept: long enough for `undo`.
	DefaultJournalRetention = 90 * 24 * time.Hour
	// MinJournalRetention: the journal also makes a batch repeated after a
	// crash skip what it did, so it may not be emptied too eagerly.
	MinJournalRetention = 24 * time.Hour
)

// TLS modes (accounts[].tls).
const (
	TLSImplicit = "implicit" // TLS from the first byte (port 993)
	TLSStartTLS = "starttls" // STARTTLS upgrade (port 143), RFC 9051 §6.2.1
	TLSNone     = "none"     // plaintext; needs insecure_plaintext: true
)

// Watch start modes (accounts[].watch[].start).
const (
	StartNew = "new" // first start processes only mail that arrives afterwards
	StartAll = "all" // first start processes every message already there
)

// OAuth2 SASL mechanisms.
const (
	MechXOAuth2     = "xoauth2"
	MechOAuthBearer = "oauthbearer" // RFC 7628
)

// OAuth2 providers and flows (accounts[].oauth2).
const (
	ProviderGoogle    = "google"
	ProviderMicrosoft = "microsoft"
	ProviderGeneric   = "generic"
	FlowDevice        = "device"
	FlowLoopback      = "loopback"
)

var (
	providers  = []string{ProviderGoogle, ProviderMicrosoft, ProviderGeneric}
	flows      = []string{FlowDevice, FlowLoopback}
	tlsModes   = []string{TLSImplicit, TLSStartTLS, TLSNone}
	startModes = []string{StartNew, StartAll}
	mechanisms = []string{MechXOAuth2, MechOAuthBearer}
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
	// ActionKinds are the keys of a rule action.
	ActionKinds = []string{"move", "copy", "flag", "unflag", "delete"}
)

// Config is a loaded config file.
type Config struct {
	// File is the config file's path as given to Load; Dir is the absolute
	// directory relative paths are resolved against.
	File string
	Dir  string

	StateDir string // absolute after Validate; default "state" next to the config file
	// JournalRetention is how long the action journal and loop-protection
	// placements are kept (`journal_retention`); 0 means the default,
	// 90d; otherwise at least 1d.
	JournalRetention time.Duration
	Log              Log
	Limits           Limits
	HTTP             HTTP
	// Sieve is the optional `sieve:` section: where include finds
	// scripts, the envelope, vacation.
	Sieve Sieve
	// SMTP is the optional `smtp:` section (nil when absent): the
	// submission account Sieve's redirect and vacation send through.
	SMTP *SMTP
	// ManageSieve is the optional `managesieve:` section (nil when
	// absent): the ManageSieve server.
	ManageSieve *ManageSieve
	// Cluster is the optional `cluster:` section (nil when absent): this
	// process is one replica of several that share the accounts through
	// etcd.
	Cluster  *Cluster
	Accounts []Account
	Rulesets []Ruleset // in file order
	// Schedules are the scheduled jobs (`schedules:`), in file order.
	Schedules []Schedule

	pos map[string]Pos // key → position, for top-level keys
	// templates maps each account template's name to the names of the
	// accounts it expanded into.
	templates map[string][]string
}

// TemplateAccounts returns the names of the accounts template name
// expanded into, and whether there is such a template.
func (c *Config) TemplateAccounts(name string) ([]string, bool) {
	names, ok := c.templates[name]
	return names, ok
}

// Log is the optional `log:` section.
type Log struct {
	Level  string // debug | info (default) | warn | error
	Format string // text (default) | json
	// Heartbeat is how often `run` logs a summary line at info (watchers
	// waiting for mail, messages and actions since the last line).
	// Default 15m; "0s" turns it off.
	Heartbeat time.Duration

	pos map[string]Pos
}

// HTTP is the optional `http:` section: a listener for /metrics, /healthz,
// /readyz and /status (the control socket in state_dir serves them too).
type HTTP struct {
	// Listen is host:port. A port alone (":9156") listens on 127.0.0.1
	// only; another host must be named explicitly. Empty: no listener.
	Listen string

	pos map[string]Pos
}

// Limits is the optional `limits:` section: sandbox limits for rules.
type Limits struct {
	ExprMaxNodes      int // AST nodes per expr `when`; default 1000
	ActionsPerMessage int // actions one message's plan may hold; default 64

	pos map[string]Pos
}

// Sieve is the optional `sieve:` section: the directories Sieve's include
// (RFC 6609 §3.1) finds scripts in. Both are absolute after Validate.
type Sieve struct {
	// PersonalDir (`personal_dir`) holds the scripts of include :personal,
	// the default location. Empty: the directory of the script that
	// includes them.
	PersonalDir string
	// GlobalDir (`global_dir`) holds the scripts of include :global.
	// Empty: include :global is an error (unless :optional).
	GlobalDir string
	// EnvelopeFromHeaders (`envelope_from_headers`) lets Sieve's envelope
	// test read the Return-Path ("from") and Delivered-To, X-Original-To
	// or Envelope-To ("to") that the delivering server wrote; without it
	// envelope is unavailable (RFC 6785 §4.6).
	EnvelopeFromHeaders bool
	// VacationMaxAge (`vacation_max_age`): vacation does not answer mail
	// that arrived longer ago than this. Default 7d.
	VacationMaxAge time.Duration

	pos map[string]Pos
}

// Account is one IMAP account.
type Account struct {
	Name              string
	Host              string
	Port              int    // default 993 for implicit TLS, 143 otherwise
	TLS               string // implicit (default) | starttls | none
	InsecurePlaintext bool   // required when TLS is none; refused otherwise
	TLSCAFile         string // extra CA certificate (PEM) to trust, absolute after Validate
	TLSServerName     string // name to verify in the certificate; default Host
	Username          string
	// AuthorizeAs (`authorize_as`) is admin mode: Username and the password
	// are an administrator's, and the session is AuthorizeAs's (SASL PLAIN
	// authorization identity, RFC 4616 §2). Dovecot master users can
	// instead log in as "user*master" in Username. Default "": none.
	AuthorizeAs string
	// MaxConnections (`max_connections`) caps the connections mailwarden
	// opens to this account's server (host:port), shared by every account
	// on that server: watchers, jobs and apply. Watchers beyond the budget
	// are polled. 0: no cap.
	MaxConnections int

	// Template and User are set on the accounts a template expanded into:
	// the template's name and the user this account is for.
	Template string
	User     string

	// Exactly one credential source: a password from a file (mode 0600 or
	// stricter), an environment variable, a command's output, or OAuth2.
	PasswordFile    string
	PasswordEnv     string
	PasswordCommand string
	OAuth2          *OAuth2

	IdleRefresh time.Duration // re-IDLE period; default 10m, at least 1m, at most 29m
	Watch       []Watch

	Pos Pos            // the account's list item
	pos map[string]Pos // key → position
	// path is the key path of the account in errors: accounts[i], the
	// index in the file (a template's accounts share theirs).
	path string
	// idleRefreshSet: idle_refresh was written and decoded, so a 0 is the
	// user's value (refused), not the default.
	idleRefreshSet bool
}

// OAuth2 is an account's `oauth2:` section: either built in (Provider
// set: `mailwarden auth login` stores a refresh token in state_dir and the
// daemon refreshes the access token itself), or an outside token source
// (token_command re-run at each connection, or token_file re-read).
type OAuth2 struct {
	Mechanism    string // xoauth2 | oauthbearer; default xoauth2 with a provider
	TokenCommand string
	TokenFile    string

	// Built in: provider google | microsoft | generic.
	Provider         string
	Tenant           string // microsoft: common (default), organizations, a tenant id
	ClientID         string
	ClientSecret     string // for clients that have one (Google's desktop apps)
	ClientSecretFile string // the same, from a file (mode 0600)
	AuthURL          string // endpoints: override a preset's, or a generic provider's
	TokenURL         string
	DeviceAuthURL    string
	Scopes           []string
	Flow             string // device | loopback; default the provider's

	pos map[string]Pos
}

// Builtin reports whether mailwarden gets the tokens itself (a provider
// is configured) rather than from token_command or token_file.
func (o *OAuth2) Builtin() bool { return o != nil && o.Provider != "" }

// Watch is one mailbox an account watches.
type Watch struct {
	Mailbox      string
	Ruleset      string
	Start        string        // new (default) | all
	PollInterval time.Duration // used when the server lacks IDLE; default 1m

	Pos Pos
	pos map[string]Pos
}

// Ruleset is a named, ordered list of steps.
type Ruleset struct {
	Name  string
	Steps []Step
	Pos   Pos // position of the ruleset's name
}

// Step is one step of a ruleset: either an expr rule (Name, When, Actions,
// Stop) or a Sieve script (Sieve). The fields map one to one onto
// exprrule.Spec and ruleset.Step.
type Step struct {
	// Expr rule.
	Name    string
	When    string
	Actions []Action
	Stop    bool
	// Pos is the position of the step's list item.
	Pos Pos
	// WhenPos is the position of the first character of the expression
	// (after an opening quote).
	WhenPos Pos
	// WhenInline reports that When appears verbatim on the single line at
	// WhenPos, so columns inside the expression are columns in the file.
	WhenInline bool
	// WhenCols, when not nil, holds the file column of each character of
	// When: set for single-line quoted values with escapes ('it''s',
	// "a \"b\""), whose characters are not where WhenInline would put them.
	WhenCols []int

	// Sieve script: an absolute path after Validate (relative paths are
	// resolved against the config file's directory).
	Sieve    string
	SievePos Pos
	// Unsupported (`unsupported`) says what the Sieve script does with
	// commands mailwarden cannot carry out (redirect and vacation without
	// an smtp: section, reject, envelope without
	// sieve.envelope_from_headers): UnsupportedError (the default) refuses
	// the script, UnsupportedSkip skips them at run time with a warning.
	Unsupported    string
	UnsupportedPos Pos
	// ManageSieve (`managesieve: active`) makes the step the active Sieve
	// script of the account the rule set runs for, as stored through the
	// ManageSieve server (none active: the step does nothing). SievePos is
	// where it is written.
	ManageSieve bool
}

// Values of a step's `unsupported`.
const (
	UnsupportedError = "error"
	UnsupportedSkip  = "skip"
)

// SkipUnsupported reports whether the step says `unsupported: skip`.
func (s *Step) SkipUnsupported() bool { return s.Unsupported == UnsupportedSkip }

// IsSieve reports whether the step is a Sieve script.
func (s *Step) IsSieve() bool { return s.Sieve != "" }

// Action is one action of an expr rule: Kind is one of ActionKinds, Arg its
// value as written ("Finance", `\Flagged`, "true" for delete).
type Action struct {
	Kind string
	Arg  string
	Pos  Pos
}

// Ruleset returns the ruleset called name, or nil.
func (c *Config) Ruleset(name string) *Ruleset {
	for i := range c.Rulesets {
		if c.Rulesets[i].Name == name {
			return &c.Rulesets[i]
		}
	}
	return nil
}

// Account returns the account called name, or nil.
func (c *Config) Account(name string) *Account {
	for i := range c.Accounts {
		if c.Accounts[i].Name == name {
			return &c.Accounts[i]
		}
	}
	return nil
}
