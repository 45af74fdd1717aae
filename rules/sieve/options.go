package sieve

import (
	"context"
	"sync"
	"time"
)

// Default limits used when an Options field is zero.
const (
	DefaultMaxScriptSize    = 1 << 20          // 1 MiB of source per script file
	DefaultMaxNesting       = 32               // nested blocks / tests
	DefaultMaxActions       = 64               // actions per message
	DefaultMaxVariableSize  = 4096             // bytes per variable value (RFC 5229 §6 minimum is 1000)
	DefaultMaxVariables     = 512              // distinct variables per execution
	DefaultMaxIncludeDepth  = 8                // nested include levels (RFC 6609 §3.2)
	DefaultMaxRegexSize     = 4096             // bytes of one regular expression after expansion
	DefaultMaxMatchValues   = 10000            // values compared by one test
	DefaultMaxMIMEParts     = 1000             // MIME parts examined per message
	DefaultMaxLoopIters     = 1000             // foreverypart iterations in total
	DefaultMaxRunTime       = 30 * time.Second // one execution, wall clock (Pigeonhole's sieve_max_cpu_time is 30s)
	DefaultDuplicateTTL     = 7 * 24 * time.Hour
	DefaultSpamtestHeader   = "X-Spam-Score"
	DefaultSpamtestMax      = 10
	DefaultVirustestHeader  = "X-Virus-Score"
	DefaultMaxExtractLength = 1 << 20
	DefaultMaxRedirects     = 4                  // redirects per execution (Pigeonhole's sieve_max_redirects)
	DefaultVacationMaxAge   = 7 * 24 * time.Hour // vacation answers mail younger than this
	// MinVacationPeriod is the shortest :days/:seconds honoured (as
	// Pigeonhole's default sieve_vacation_min_period); shorter ones are
	// raised to it (RFC 5230 §4.1, RFC 6131 §2 let sites set a minimum).
	MinVacationPeriod = 24 * time.Hour
)

// DuplicateStore remembers the keys the duplicate test (RFC 7352) has
// seen. Implementations must be safe for concurrent use.
//
// The interpreter calls Seen while evaluating and Record only after the
// whole script executed without error (RFC 7352 §3: a failed execution
// must not mark the message as seen).
type DuplicateStore interface {
	// Seen reports whether key was recorded and has not expired.
	Seen(ctx context.Context, key string) (bool, error)
	// Record stores key until ttl from now, replacing an earlier expiry.
	Record(ctx context.Context, key string, ttl time.Duration) error
}

// Options configure compilation and execution. A nil *Options, and every
// zero field, means the documented default.
type Options struct {
	// MaxScriptSize is the largest script source accepted, in bytes.
	// Default DefaultMaxScriptSize.
	MaxScriptSize int
	// MaxNesting bounds the nesting depth of blocks and tests.
	// Default DefaultMaxNesting.
	MaxNesting int
	// MaxActions bounds the number of actions (keep, fileinto, discard,
	// flag changes do not count) one execution may take; exceeding it is a
	// runtime error. Default DefaultMaxActions.
	MaxActions int
	// MaxVariableSize bounds the length of one variable value; longer
	// values are truncated at a UTF-8 boundary (RFC 5229 §6).
	// Default DefaultMaxVariableSize.
	MaxVariableSize int
	// MaxVariables bounds the number of distinct variables per execution;
	// exceeding it is a runtime error. Default DefaultMaxVariables.
	MaxVariables int
	// MaxIncludeDepth bounds nested includes (RFC 6609). Default
	// DefaultMaxIncludeDepth.
	MaxIncludeDepth int
	// MaxRegexSize bounds the length of a regular expression (after
	// variable expansion). Default DefaultMaxRegexSize.
	MaxRegexSize int
	// MaxMIMEParts bounds how many MIME parts body, mime and foreverypart
	// look at; a message with more is a runtime error for those tests.
	// Default DefaultMaxMIMEParts.
	MaxMIMEParts int
	// MaxRunTime bounds the wall-clock time of one execution; a script
	// that runs longer (costly regular expressions in a loop over many
	// MIME parts, say) ends with a runtime error and the message is
	// kept. Default DefaultMaxRunTime.
	MaxRunTime time.Duration

	// IncludePersonal and IncludeGlobal are the directories that
	// include :personal (the default location) and include :global resolve
	// script names in (RFC 6609 §3.1); the config's sieve.personal_dir and
	// sieve.global_dir. A script name gets ".sieve" appended when it has no
	// extension. Empty: include of that location is a compile error
	// (skipped with :optional), except that a script compiled from a file
	// includes its personal scripts from its own directory (WithScriptDir).
	IncludePersonal string
	IncludeGlobal   string

	// SpamtestHeader is the header holding the spam score read by
	// spamtest (RFC 5235); its value starts with a number, optionally
	// followed by "/max". Default DefaultSpamtestHeader.
	SpamtestHeader string
	// SpamtestMax is the score that maps to spamtest 10 (and 100 %
	// with :percent) when the header does not carry its own maximum.
	// Default DefaultSpamtestMax.
	SpamtestMax float64
	// VirustestHeader is the header holding the virus test result, a
	// number 0..5 (RFC 5235 §3.3). Default DefaultVirustestHeader.
	VirustestHeader string

	// Duplicates backs the duplicate test (RFC 7352). Nil means a
	// process-wide in-memory store shared by every script compiled with
	// nil Duplicates (lost on restart).
	Duplicates DuplicateStore
	// DuplicateTTL is the default :seconds of the duplicate test.
	// Default DefaultDuplicateTTL.
	DuplicateTTL time.Duration

	// Environment holds the items of the environment test (RFC 5183),
	// e.g. "domain", "host", "name" ("mailwarden"), "version", "phase"
	// ("post"), "location" ("MS"). Unset standard items take those
	// defaults; others are absent.
	Environment map[string]string

	// Location is the time zone the date tests convert to when neither
	// :zone nor :originalzone is given (RFC 5260 §4.1). Nil means
	// time.Local.
	Location *time.Location

	// Now returns the current time for currentdate (RFC 5260 §5). Nil
	// means time.Now.
	Now func() time.Time

	// Submission says that mail can be submitted (the config has an
	// smtp: section): redirect and vacation record what to send. Without
	// it they are compile errors, or skipped with SkipUnsupported.
	Submission bool
	// UserAddresses are the mailbox owner's addresses (the smtp: from
	// address, the accounts' addresses): vacation answers only messages
	// sent to one of them, or to one of its :addresses (RFC 5230 §4.5),
	// and never a message from one of them.
	UserAddresses []string
	// EnvelopeFromHeaders lets the envelope test (RFC 5228 §5.4) read
	// what the delivering server wrote into the header: "from" is the
	// Return-Path, "to" the first Delivered-To, X-Original-To or
	// Envelope-To (the config's sieve.envelope_from_headers). Without it
	// envelope is a compile error, or skipped with SkipUnsupported
	// (RFC 6785 §4.6: there is no envelope after delivery).
	EnvelopeFromHeaders bool
	// SkipUnsupported (a rule set step's `unsupported: skip`) lets a
	// script use what mailwarden cannot carry out under these options:
	// redirect and vacation without Submission, reject and ereject
	// always, envelope without EnvelopeFromHeaders. They compile, are
	// listed by Script.Skips, and at run time are skipped with the
	// implicit keep left as it was (an envelope test the message reaches
	// is a runtime error marked Unsupported: the message is kept).
	SkipUnsupported bool
	// MaxRedirects bounds the redirects of one execution; more is a
	// runtime error. Default DefaultMaxRedirects.
	MaxRedirects int
	// VacationMaxAge: vacation does not answer a message whose
	// INTERNALDATE is older than this (mail already there when a rule
	// set is run over a mailbox). Default DefaultVacationMaxAge.
	VacationMaxAge time.Duration

	// Dialect adds the commands and tests of one more extension (see
	// Dialect); for test tools only. Nil in the product.
	Dialect *Dialect
}

func (o *Options) submission() bool      { return o != nil && o.Submission }
func (o *Options) skipUnsupported() bool { return o != nil && o.SkipUnsupported }
func (o *Options) envelopeHeaders() bool { return o != nil && o.EnvelopeFromHeaders }

func (o *Options) now() time.Time {
	if o != nil && o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// WithScriptDir returns the options for a script read from a file in
// dir: o itself when it names a personal include directory, else a copy
// whose IncludePersonal is dir, so that a script and the scripts it
// includes can sit side by side, as in Pigeonhole's personal script
// storage.
func (o *Options) WithScriptDir(dir string) *Options {
	if o != nil && o.IncludePersonal != "" {
		return o
	}
	var c Options
	if o != nil {
		c = *o
	}
	c.IncludePersonal = dir
	return &c
}

// limits is Options with the defaults filled in.
type limits struct {
	maxScriptSize, maxNesting, maxActions, maxVarSize, maxVars int
	maxInclude, maxRegex, maxParts                             int
	maxRunTime                                                 time.Duration
}

func (o *Options) limits() limits {
	if o == nil {
		o = &Options{}
	}
	l := limits{
		maxScriptSize: o.MaxScriptSize, maxNesting: o.MaxNesting, maxActions: o.MaxActions,
		maxVarSize: o.MaxVariableSize, maxVars: o.MaxVariables, maxInclude: o.MaxIncludeDepth,
		maxRegex: o.MaxRegexSize, maxParts: o.MaxMIMEParts,
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.maxScriptSize, DefaultMaxScriptSize)
	def(&l.maxNesting, DefaultMaxNesting)
	def(&l.maxActions, DefaultMaxActions)
	def(&l.maxVarSize, DefaultMaxVariableSize)
	def(&l.maxVars, DefaultMaxVariables)
	def(&l.maxInclude, DefaultMaxIncludeDepth)
	def(&l.maxRegex, DefaultMaxRegexSize)
	def(&l.maxParts, DefaultMaxMIMEParts)
	l.maxRunTime = o.MaxRunTime
	if l.maxRunTime <= 0 {
		l.maxRunTime = DefaultMaxRunTime
	}
	return l
}

// memDuplicates is the default in-memory DuplicateStore.
type memDuplicates struct {
	mu   sync.Mutex
	seen map[string]time.Time // key → expiry
}

var defaultDuplicates = &memDuplicates{seen: map[string]time.Time{}}

func (d *memDuplicates) Seen(_ context.Context, key string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	exp, ok := d.seen[key]
	return ok && time.Now().Before(exp), nil
}

func (d *memDuplicates) Record(_ context.Context, key string, ttl time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if len(d.seen) > 100000 {
		for k, exp := range d.seen {
			if !now.Before(exp) {
				delete(d.seen, k)
			}
		}
	}
	d.seen[key] = now.Add(ttl)
	return nil
}

// NewMemoryDuplicateStore returns an in-memory DuplicateStore (for tests
// and single-process use).
func NewMemoryDuplicateStore() DuplicateStore {
	return &memDuplicates{seen: map[string]time.Time{}}
}
