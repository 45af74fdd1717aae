package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/rules/exprrule"
	"github.com/mailwarden/mailwarden/rules/ruleset"
	"github.com/mailwarden/mailwarden/scheduler"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// JobOptions configure the scheduled jobs and `apply`. Nil means defaults.
type JobOptions struct {
	// DryRun logs every change the jobs would make and makes none (no
	// journal either).
	DryRun bool
	// Logger receives the jobs' summaries and every change; nil discards.
	Logger *slog.Logger
	// Now is the clock ages are measured against and `when` filters see;
	// nil means time.Now.
	Now func() time.Time
	// Dial overrides how connections are made (tests); nil uses
	// DialOptions and imapconn.Dial.
	Dial func(ctx context.Context, a *config.Account) (*imapconn.Client, error)
	// BatchSize is how many messages a job fetches and acts on at a time;
	// default jobs.DefaultBatchSize.
	BatchSize int
	// Progress, when set, is called after each batch (apply's progress bar).
	Progress func(jobs.Progress)
	// Clock drives the scheduler; nil means the wall clock.
	Clock scheduler.Clock
	// StopTimeout bounds Scheduler.Stop; default scheduler.DefaultStopTimeout.
	StopTimeout time.Duration
}

func (o *JobOptions) log() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o.Logger
}

// Jobs builds the jobs of cfg's schedules, in file order, with their `when`
// filters compiled. sets are the compiled rule sets (CompileRulesets); store
// may be nil (no journal, no loop protection). All problems are returned,
// each located in the config file.
func Jobs(cfg *config.Config, sets map[string]*ruleset.Set, store *state.Store, opts *JobOptions) ([]jobs.Job, []error) {
	if opts == nil {
		opts = &JobOptions{}
	}
	var out []jobs.Job
	var errs []error
	for i := range cfg.Schedules {
		s := &cfg.Schedules[i]
		spec := jobs.Spec{Name: s.Name, Accounts: s.Accounts, Max: s.MaxMessages}
		var filter jobs.Filter
		if s.When != "" {
			r, es := exprrule.Compile(exprrule.Spec{Name: s.Name, When: s.When, Stop: true,
				Pos: exprrule.Pos(s.Pos), WhenPos: exprrule.Pos(s.WhenPos), WhenInline: s.WhenInline, WhenCols: s.WhenCols},
				&exprrule.Options{MaxNodes: uint(cfg.Limits.ExprMaxNodes), Now: opts.Now})
			if len(es) > 0 {
				errs = append(errs, es...) // located at the `when` value, named after the schedule
				continue
			}
			filter = r
		}
		switch s.Job {
		case config.JobArchive:
			out = append(out, &jobs.Archive{Spec: spec, Mailbox: s.Mailbox, OlderThan: s.OlderThan, ByDate: s.By == config.ByDate,
				To: s.To, SkipFlagged: s.SkipFlagged, SkipUnread: s.SkipUnread, When: filter})
		case config.JobExpire:
			out = append(out, &jobs.Expire{Spec: spec, Mailbox: s.Mailbox, OlderThan: s.OlderThan, ByDate: s.By == config.ByDate,
				SkipFlagged: s.SkipFlagged, SkipUnread: s.SkipUnread, When: filter})
		case config.JobQuota:
			q := &jobs.Quota{Spec: spec, High: s.High, Low: s.Low, WarnOnly: s.WarnOnly}
			for _, p := range s.Prune {
				q.Prune = append(q.Prune, jobs.PruneSpec{Mailbox: p.Mailbox, OlderThan: p.OlderThan})
			}
			out = append(out, q)
		case config.JobSweep:
			set := sets[s.Ruleset]
			if set == nil {
				// A rule set the config has but that failed to compile was
				// reported by CompileRulesets already: say nothing twice.
				if cfg.Ruleset(s.Ruleset) == nil {
					errs = append(errs, fmt.Errorf("%s: schedules[%d].ruleset: rule set %q was not compiled", s.KeyPos("ruleset"), i, s.Ruleset))
				}
				continue
			}
			out = append(out, NewSweep(spec, s.Mailbox, set, store, opts))
		default:
			errs = append(errs, fmt.Errorf("%s: schedules[%d].job: unknown job %q", s.KeyPos("job"), i, s.Job))
		}
	}
	return out, errs
}

// NewSweep returns a job that runs set over mailbox through the watchers'
// Pipeline (`apply` and sweep schedules).
func NewSweep(spec jobs.Spec, mailbox string, set *ruleset.Set, store *state.Store, opts *JobOptions) *jobs.Sweep {
	if opts == nil {
		opts = &JobOptions{}
	}
	var placements Placements
	if store != nil {
		placements = store
	}
	log := opts.log()
	return &jobs.Sweep{Spec: spec, Mailbox: mailbox, Ruleset: set.Name(), NeedsBody: set.NeedsBody(),
		Processor: func(account, mailbox string) jobs.Processor {
			return &sweepProcessor{p: Pipeline{Account: account, Mailbox: mailbox, RulesetName: set.Name(), Rules: set,
				Exec: executor(account, store, opts), Placements: placements, Logger: log}}
		}}
}

// sweepProcessor runs a Pipeline and collects what happened to each message.
type sweepProcessor struct{ p Pipeline }

func (s *sweepProcessor) Process(ctx context.Context, mb actions.Mailbox, msgs []*rules.Message) ([]jobs.Outcome, error) {
	p := s.p
	var outs []jobs.Outcome
	p.Observe = func(ev Event) {
		outs = append(outs, jobs.Outcome{UID: ev.Message.UID, Plan: ev.Plan, Skipped: ev.Skipped, Err: ev.Err})
	}
	// Sieve's mailboxexists asks the server, as in the watchers (mailboxes.go).
	if s, ok := mb.(interface{ Client() *imapconn.Client }); ok {
		ctx = withMailboxes(ctx, s.Client())
	}
	if err := p.Process(ctx, mb, msgs); err != nil {
		return nil, err
	}
	return outs, nil
}

func executor(account string, store *state.Store, opts *JobOptions) *actions.Executor {
	var journal actions.Journal
	if store != nil && !opts.DryRun {
		journal = store
	}
	return actions.New(&actions.Options{Account: account, DryRun: opts.DryRun, Logger: opts.log(), Journal: journal})
}

// JobEnv returns what the jobs of cfg need to run: connections to its
// accounts and one executor per account (journaled in store unless dry run).
func JobEnv(cfg *config.Config, store *state.Store, opts *JobOptions) *jobs.Env {
	if opts == nil {
		opts = &JobOptions{}
	}
	log := opts.log()
	return &jobs.Env{
		Dial: func(ctx context.Context, account string) (jobs.Conn, error) {
			a := cfg.Account(account)
			if a == nil {
				return nil, fmt.Errorf("no account %q in the config", account)
			}
			var c *imapconn.Client
			var err error
			if opts.Dial != nil {
				c, err = opts.Dial(ctx, a)
			} else {
				var o *imapconn.Options
				if o, err = DialOptions(a, log.With("account", a.Name)); err == nil {
					c, err = imapconn.Dial(ctx, o)
				}
			}
			if err != nil {
				return nil, err
			}
			return &jobConn{c: c}, nil
		},
		Executor:  func(account string) *actions.Executor { return executor(account, store, opts) },
		Now:       opts.Now,
		Logger:    log,
		BatchSize: opts.BatchSize,
		Progress:  opts.Progress,
	}
}

// NewScheduler returns a scheduler holding every job of cfg's schedules,
// ready to Start. In `mailwarden run`:
//
//	sched, errs := engine.NewScheduler(cfg, sets, store, &engine.JobOptions{DryRun: dry, Logger: log})
//	sched.Start(ctx)
//	defer sched.Stop(context.Background())
func NewScheduler(cfg *config.Config, sets map[string]*ruleset.Set, store *state.Store, opts *JobOptions) (*scheduler.Scheduler, []error) {
	if opts == nil {
		opts = &JobOptions{}
	}
	js, errs := Jobs(cfg, sets, store, opts)
	if len(errs) > 0 {
		return nil, errs
	}
	env := JobEnv(cfg, store, opts)
	s := scheduler.New(&scheduler.Options{Logger: opts.log(), Clock: opts.Clock, StopTimeout: opts.StopTimeout})
	for i, j := range js {
		j := j
		if err := s.Add(j.JobSpec().Name, cfg.Schedules[i].Cron, func(ctx context.Context) error {
			_, err := jobs.Run(ctx, env, j)
			return err
		}); err != nil {
			errs = append(errs, fmt.Errorf("%s: schedules[%d].cron: %w", cfg.Schedules[i].KeyPos("cron"), i, err))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// jobConn adapts an imapconn.Client to jobs.Conn.
type jobConn struct {
	c *imapconn.Client
}

var _ jobs.Conn = (*jobConn)(nil)

func (j *jobConn) Select(ctx context.Context, mailbox string) (jobs.Mailbox, error) {
	name := mailbox
	if rules.IsSpecialUse(mailbox) {
		// RFC 6154: resolve the attribute with LIST, from a read-only
		// session on INBOX (listing needs no selected mailbox, but
		// imapconn offers it on a Session).
		sess, err := j.c.Examine(ctx, "INBOX")
		if err != nil {
			return nil, err
		}
		name, err = sess.SpecialUse(ctx, mailbox)
		if fallback, ok := actions.ConventionalName(mailbox); ok && errors.Is(err, actions.ErrNoSpecialUse) {
			name, err = fallback, nil
		}
		if err != nil {
			return nil, err
		}
	}
	sess, err := j.c.Select(ctx, name)
	if err != nil {
		return nil, err
	}
	return &jobMailbox{Session: sess}, nil
}

func (j *jobConn) Quota(ctx context.Context) (int64, int64, error) {
	used, limit, err := j.c.QuotaRoot(ctx, "INBOX")
	if errors.Is(err, imapconn.ErrNoQuota) {
		return 0, 0, fmt.Errorf("%w: %w", jobs.ErrNoQuota, err)
	}
	return used, limit, err
}

func (j *jobConn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return j.c.Logout(ctx)
}

// jobMailbox adapts an imapconn.Session to jobs.Mailbox.
type jobMailbox struct{ *imapconn.Session }

var _ jobs.Mailbox = (*jobMailbox)(nil)

func (m *jobMailbox) Search(ctx context.Context, c *jobs.Search) ([]uint32, error) {
	return m.SearchUIDs(ctx, &imapconn.Criteria{Before: c.Before, SentBefore: c.SentBefore, Flags: c.Flags, NotFlags: c.NotFlags})
}

func (m *jobMailbox) Fetch(ctx context.Context, uids []uint32, whole bool) ([]jobs.Fetched, error) {
	fs, err := m.FetchUIDs(ctx, uids, whole)
	if err != nil {
		return nil, err
	}
	out := make([]jobs.Fetched, len(fs))
	for i, f := range fs {
		out[i] = jobs.Fetched{UID: f.UID, Flags: f.Flags, Size: f.Size, InternalDate: f.InternalDate, Raw: f.Raw, HeaderOnly: f.HeaderOnly}
	}
	return out, nil
}
