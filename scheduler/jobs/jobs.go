package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/rules"
)

// Defaults.
const (
	DefaultMax = 10000 // Spec.Max
	// DefaultBatchSize is Env.BatchSize: how many messages one UID FETCH
	// streams and one round of commands acts on. A run over up to this
	// many messages sends one command per destination, as a hand-written
	// client would; what it keeps meanwhile is slim (rules.Message.Slim
	// and the plan), a few hundred bytes a message.
	DefaultBatchSize = 10000
)

// ErrNoQuota marks a server without QUOTA (RFC 9208) or without a STORAGE
// resource; Conn.Quota wraps it.
var ErrNoQuota = errors.New("server reports no storage quota (QUOTA capability, RFC 9208)")

// Conn is one authenticated connection to an account, used by one job run at
// a time.
type Conn interface {
	// Select selects mailbox read-write (RFC 9051 §6.3.2). mailbox may be a
	// special-use attribute (`\Trash`, RFC 6154), resolved on the server.
	// Selecting ends the previous Mailbox of this Conn.
	Select(ctx context.Context, mailbox string) (Mailbox, error)
	// Examine selects mailbox read-only (EXAMINE, RFC 9051 §6.3.3), for
	// jobs that only read (backup): fetching never sets \Seen and no
	// change can be made. It ends the previous Mailbox of this Conn.
	Examine(ctx context.Context, mailbox string) (Mailbox, error)
	// List lists every mailbox of the account with its attributes and
	// hierarchy delimiter (LIST "" "*", RFC 9051 §6.3.9; special-use
	// attributes per RFC 6154 §5.1). It needs no selected mailbox and
	// leaves the selected one alone.
	List(ctx context.Context) ([]MailboxInfo, error)
	// Quota returns the STORAGE usage and limit, in bytes, of the quota
	// root of INBOX (GETQUOTAROOT, RFC 9208 §4.3). An error wraps
	// ErrNoQuota when the server has no quota to report.
	Quota(ctx context.Context) (used, limit int64, err error)
	// Close ends the connection.
	Close() error
}

// Mailbox is a selected mailbox: what the executor needs, plus reading.
type Mailbox interface {
	actions.Mailbox
	// Search returns the UIDs matching c, ascending (UID SEARCH, RFC 9051
	// §6.4.4).
	Search(ctx context.Context, c *Search) ([]uint32, error)
	// Fetch fetches exactly the messages of uids that still exist with
	// one UID FETCH, without setting \Seen (BODY.PEEK), and calls fn with
	// each as its data arrives, parsed (leniently) for the rules: flags,
	// size, internal date and what want asks of its content. Parsing and
	// deciding thus overlap the server's sending. The engine's adapter
	// parses; this package never sees raw IMAP bytes. fn must not use the
	// Mailbox; an error from fn ends the calls and is returned.
	Fetch(ctx context.Context, uids []uint32, want Want, fn func(*rules.Message) error) error
	// UIDValidity is the mailbox's UIDVALIDITY as the server announced it
	// on selecting (RFC 9051 §2.3.1.1).
	UIDValidity() uint32
}

// MailboxInfo is one mailbox as Conn.List lists it.
type MailboxInfo struct {
	Name string
	// Delim is the hierarchy delimiter, 0 for a flat name space.
	Delim rune
	// Attrs are the mailbox attributes as sent (`\Noselect`, `\Trash`...).
	Attrs []string
}

// Selectable reports whether the mailbox can be selected (no \Noselect or
// \NonExistent, RFC 9051 §7.3.1).
func (m MailboxInfo) Selectable() bool {
	return !m.hasAttr(`\Noselect`) && !m.hasAttr(`\NonExistent`)
}

func (m MailboxInfo) hasAttr(attr string) bool {
	return slices.ContainsFunc(m.Attrs, func(a string) bool { return strings.EqualFold(a, attr) })
}

// Want says what of each message a job fetches.
type Want struct {
	// Body fetches whole messages (a rule reads the body); otherwise
	// only the header.
	Body bool
	// Fields, when not nil, are the header fields to fetch
	// (rules.FetchFields): what the rules read and acting needs. Nil
	// fetches the whole header.
	Fields []string
	// Mailboxes lists the account's mailboxes before the fetch, so that
	// rules deciding on the streamed messages can ask about them (Sieve's
	// mailboxexists) while the connection is busy fetching.
	Mailboxes bool
}

// Search selects messages on the server; every set field must match.
// Dates compare by day in the server's time zone (RFC 9051 §6.4.4).
type Search struct {
	UIDFrom    uint32    // UID at least this (UID n:*), 0 for any
	Before     time.Time // internal date earlier than this day (BEFORE)
	SentBefore time.Time // Date: header earlier than this day (SENTBEFORE)
	Flags      []string  // all set
	NotFlags   []string  // none set
}

// Filter is an optional extra condition (a schedule's `when`);
// *exprrule.Rule implements it.
type Filter interface {
	Match(m *rules.Message) (bool, error)
}

// Progress reports how far a run is in one mailbox.
type Progress struct {
	Account, Mailbox string
	Done, Total      int
}

// Env is what jobs need from the daemon.
type Env struct {
	// Dial connects to the named account. Required.
	Dial func(ctx context.Context, account string) (Conn, error)
	// Executor returns the executor that acts for account (journal, dry
	// run, logger). Required.
	Executor func(account string) *actions.Executor
	// Now is the clock ages are measured against. Nil means time.Now.
	Now func() time.Time
	// Logger receives the summaries. Nil discards.
	Logger *slog.Logger
	// Processor returns what evaluates rule set rs over messages of
	// account's mailbox and applies their plans (engine.Pipeline, the
	// watchers' path). Required by sweeps.
	Processor func(account, mailbox string, rs Ruleset) Processor
	// BatchSize is how many messages one UID FETCH streams and one round
	// of commands acts on (at most as many as the run's cap still allows).
	// Default DefaultBatchSize.
	BatchSize int
	// Quota, when set, is told the usage and limit of each account's
	// quota root as the quota job reads them first (the metrics).
	Quota func(account string, used, limit int64)
	// Progress, when set, is called while a batch streams in (every few
	// hundred messages) and after each batch was acted on.
	Progress func(Progress)
	// Backups is where backup jobs (and backup_first) write. Required by
	// them.
	Backups Backups
	// Gate, when set, is asked before a run acts on each of its accounts:
	// false skips the account in this run, an error is the account's
	// error. A cluster replica runs a job only on the accounts it owns,
	// and a scheduled run only once per tick cluster-wide. Nil runs all.
	Gate func(ctx context.Context, job, account string) (bool, error)
	// Ran, when set, is told when a run Gate admitted is done with an
	// account, with the account's error (nil: it finished). A replica
	// marks the tick done, so that only a cut-short run is run again by
	// the account's next owner.
	Ran func(ctx context.Context, job, account string, err error)
}

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *Env) batch() int {
	if e.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return e.BatchSize
}

func (e *Env) log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return e.Logger
}

// Spec is what every job has.
type Spec struct {
	// Name is the schedule's name; journal entries and log lines name it
	// as the rule that decided.
	Name string
	// Accounts are the accounts the job runs on, in order.
	Accounts []string
	// Max caps the messages one run acts on, across its accounts.
	// Default DefaultMax.
	Max int
}

func (s *Spec) max() int {
	if s.Max <= 0 {
		return DefaultMax
	}
	return s.Max
}

// Job is one configured job: *Archive, *Backup, *Expire, *Quota or *Sweep.
type Job interface {
	// Spec returns the job's common settings.
	JobSpec() *Spec
	// Kind is "archive", "backup", "expire", "quota" or "sweep".
	Kind() string
	runAccount(ctx context.Context, r *run) error
}

// Summary is what one run did.
type Summary struct {
	Job, Kind string
	Accounts  int
	// Scanned counts messages fetched and looked at; Matched those
	// selected for a change; Acted those changed (or, in dry run, that
	// would be); Failed those whose change failed (left in place).
	Scanned, Matched, Acted, Failed int
	// Bytes is the size of the messages acted on: freed by expire and
	// quota, moved by archive.
	Bytes int64
	// Actions counts acted-on messages per action, e.g.
	// `move "Archive/2024"`: 12, `expunge`: 3.
	Actions map[string]int
	// Skipped counts messages a backup found already exported, beyond its
	// checkpoint: written by a run that was killed before it could
	// record them.
	Skipped int
	// HeldBack counts messages expire or quota selected but did not
	// remove, because their backup_first backup does not hold them.
	HeldBack int
	// Capped reports that the run stopped at its cap.
	Capped bool
	DryRun bool
	// Quota usage before and after, in bytes (quota job only).
	QuotaUsed, QuotaLimit, QuotaAfter int64
	Duration                          time.Duration
	// Err joins the errors of the accounts that failed.
	Err error
}

// run is the state of one job run on one account.
type run struct {
	env     *Env
	spec    *Spec
	account string
	conn    Conn
	exec    *actions.Executor
	sum     *Summary
	log     *slog.Logger
	// boxes caches Conn.List for the run (backup selection, backup_first).
	boxes []MailboxInfo
}

// remaining is how many more messages this run may act on.
func (r *run) remaining() int { return r.spec.max() - r.sum.Acted - r.sum.Failed }

// capReached records that the cap stopped the run.
func (r *run) capReached(mailbox string) {
	if !r.sum.Capped {
		r.sum.Capped = true
		r.log.Warn("job reached its cap; the next run goes on from here", "mailbox", mailbox, "max_messages", r.spec.max())
	}
}

// Run runs j once over its accounts and logs one summary. An account that
// fails does not stop the others; the returned error joins their errors.
func Run(ctx context.Context, env *Env, j Job) (*Summary, error) {
	spec := j.JobSpec()
	log := env.log().With("job", spec.Name, "kind", j.Kind())
	start := time.Now()
	sum := &Summary{Job: spec.Name, Kind: j.Kind(), Actions: map[string]int{}}
	var errs []error
	for _, account := range spec.Accounts {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if sum.Capped {
			break
		}
		if env.Gate != nil {
			ok, err := env.Gate(ctx, spec.Name, account)
			if err != nil {
				log.Error("job not run on this account", "account", account, "err", err)
				errs = append(errs, fmt.Errorf("account %q: %w", account, err))
				continue
			}
			if !ok {
				continue
			}
		}
		sum.Accounts++
		err := runAccount(ctx, env, j, account, sum, log.With("account", account))
		if env.Ran != nil {
			env.Ran(ctx, spec.Name, account, err)
		}
		if err != nil {
			log.Error("job failed on this account", "account", account, "err", err)
			errs = append(errs, fmt.Errorf("account %q: %w", account, err))
		}
	}
	sum.Duration = time.Since(start)
	sum.Err = errors.Join(errs...)
	attrs := []any{"accounts", sum.Accounts, "scanned", sum.Scanned, "matched", sum.Matched, "acted", sum.Acted,
		"failed", sum.Failed, "bytes", sum.Bytes, "capped", sum.Capped, "dry_run", sum.DryRun, "took", sum.Duration.Round(time.Millisecond)}
	if sum.Skipped > 0 {
		attrs = append(attrs, "already_exported", sum.Skipped)
	}
	if sum.HeldBack > 0 {
		attrs = append(attrs, "held_back", sum.HeldBack)
	}
	if sum.QuotaLimit > 0 {
		attrs = append(attrs, "quota_used", sum.QuotaUsed, "quota_limit", sum.QuotaLimit, "quota_after", sum.QuotaAfter)
	}
	if sum.Err != nil {
		log.Error("job run finished with errors", append(attrs, "err", sum.Err)...)
	} else {
		log.Info("job run finished", attrs...)
	}
	return sum, sum.Err
}

func runAccount(ctx context.Context, env *Env, j Job, account string, sum *Summary, log *slog.Logger) error {
	conn, err := env.Dial(ctx, account)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	exec := env.Executor(account)
	sum.DryRun = exec.DryRun()
	return j.runAccount(ctx, &run{env: env, spec: j.JobSpec(), account: account, conn: conn, exec: exec, sum: sum, log: log})
}

// age is how old messages are selected on the server and checked exactly.
type age struct {
	olderThan time.Duration
	byDate    bool // Date: header instead of INTERNALDATE
}

// cutoff returns the instant before which a message is old enough.
func (a age) cutoff(now time.Time) time.Time { return now.Add(-a.olderThan) }

// search returns the criteria that find every message older than cutoff:
// SEARCH compares whole days in the server's zone (RFC 9051 §6.4.4), so it
// asks for two days more, and old() then applies the exact cut-off.
func (a age) search(cutoff time.Time, s *Search) {
	day := cutoff.UTC().Truncate(24*time.Hour).AddDate(0, 0, 2)
	if a.byDate {
		s.SentBefore = day
	} else {
		s.Before = day
	}
}

// date is the date the age (and archive folders) are measured by; zero when
// the message has none (a missing or unparseable Date:).
func (a age) date(m *rules.Message) time.Time {
	if a.byDate {
		return m.Date
	}
	return m.InternalDate
}

func (a age) old(m *rules.Message, cutoff time.Time) bool {
	d := a.date(m)
	return !d.IsZero() && d.Before(cutoff)
}

// matchFilter applies the optional `when` filter; an error counts as no
// match (the message is left alone) and is logged.
func (r *run) matchFilter(f Filter, m *rules.Message) bool {
	if f == nil {
		return true
	}
	ok, err := f.Match(m)
	if err != nil {
		r.log.Warn("when filter failed; message left alone", "uid", m.UID, "err", err)
		return false
	}
	return ok
}

// scan is how every job reads a mailbox: the uids found are taken in
// batches of at most Env.BatchSize (and, when limit, at most what the
// run's cap still allows: for a sweep, where any message may be acted on); each batch is fetched with one UID FETCH, decide
// sees each message as it arrives, and act then runs once for the batch,
// so the commands it sends are one per destination per batch, never one
// per message or per fetch. Progress is reported as messages arrive. scan
// stops when act says so, when the cap is reached, or on an error.
func (r *run) scan(ctx context.Context, mb Mailbox, mailbox string, uids []uint32, want Want, limit bool,
	decide func(m *rules.Message) error, act func() (stop bool, err error)) error {
	total, done := len(uids), 0
	for len(uids) > 0 {
		n := min(r.env.batch(), len(uids))
		if limit {
			n = min(n, r.remaining())
		}
		if n <= 0 {
			r.capReached(mailbox)
			return nil
		}
		part := uids[:n]
		uids = uids[n:]
		err := mb.Fetch(ctx, part, want, func(m *rules.Message) error {
			r.sum.Scanned++
			done++
			if done%progressEvery == 0 {
				r.progress(mailbox, done, total)
			}
			return decide(m)
		})
		if err != nil {
			return err
		}
		done = total - len(uids)
		stop, err := act()
		r.progress(mailbox, done, total)
		if err != nil || stop {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// progressEvery is how often, in messages, scan reports progress while a
// batch streams in.
const progressEvery = 250

// count records an executor report in the summary.
func (r *run) count(items []actions.Item, rep *actions.Report) {
	for _, it := range items {
		if it.Plan.IsZero() {
			continue
		}
		uid := it.Message.UID
		if rep.Failed[uid] != nil {
			r.sum.Failed++
			continue
		}
		r.sum.Acted++
		r.sum.Bytes += it.Message.Size
		r.sum.Actions[it.Plan.Summary()]++
	}
	for _, w := range rep.Warnings {
		r.log.Warn(w)
	}
}

func (r *run) progress(mailbox string, done, total int) {
	if r.env.Progress != nil {
		r.env.Progress(Progress{Account: r.account, Mailbox: mailbox, Done: done, Total: total})
	}
}

// expandTemplate fills {year} and {month} of an archive destination.
func expandTemplate(tmpl string, d time.Time) string {
	return strings.NewReplacer("{year}", d.Format("2006"), "{month}", d.Format("01")).Replace(tmpl)
}

func flagsIf(cond bool, flags ...string) []string {
	if cond {
		return flags
	}
	return nil
}

func appendUnique(list []string, more ...string) []string {
	for _, f := range more {
		if !slices.Contains(list, f) {
			list = append(list, f)
		}
	}
	return list
}
