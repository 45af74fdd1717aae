package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/scheduler"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// JobOptions configure the environment jobs run in: the scheduled jobs of
// `run`, `jobs run` and `apply`. Nil means defaults, except Dial.
type JobOptions struct {
	// Dial connects to an account by name (NewDialer). Required.
	Dial imapconn.Dialer
	// Store journals every change and holds the loop-protection
	// placements; nil means neither. A dry run reads it (opened
	// read-only), so it skips what a real run would skip.
	Store *state.Store
	// DryRun logs every change the jobs would make and makes none (the
	// journal is read, not written).
	DryRun bool
	// Logger receives the jobs' summaries and every change; nil discards.
	Logger *slog.Logger
	// Now is the clock ages are measured against; nil means time.Now.
	Now func() time.Time
	// BatchSize is how many messages a job fetches and acts on at a time;
	// default jobs.DefaultBatchSize.
	BatchSize int
	// Progress, when set, is called as a batch streams in and after it
	// was acted on (apply's progress bar).
	Progress func(jobs.Progress)
	// Registry, when set, counts the jobs' changes, runs and quota
	// readings (metrics, status).
	Registry *observe.Registry
	// Config, when set, says which mailboxes watchers run each rule set
	// over, so that a sweep records loop-protection placements only for
	// moves into those (Pipeline.Guarded). Nil records every destination.
	Config *config.Config
	// Sender submits the redirects and vacation replies of sweeps and
	// apply (NewSender); nil when the config has no smtp: section.
	Sender actions.Sender
	// Account, when set, says where an account's journal and copy
	// intents are kept when not in Store (a cluster replica's accounts:
	// through etcd); nil, or nil fields, mean Store.
	Account func(account string) *AccountOptions
	// Gate is jobs.Env.Gate: which accounts a run acts on (a cluster
	// replica: those it owns, once per tick). Nil: all.
	Gate func(ctx context.Context, job, account string) (bool, error)
	// Ran is jobs.Env.Ran: told when an admitted run is done with an
	// account.
	Ran func(ctx context.Context, job, account string, err error)
}

// journal returns account's journal and copy intents (nil, nil without
// Store).
func (o *JobOptions) journal(account string) (actions.Journal, CopyIntents) {
	var j actions.Journal
	var ci CopyIntents
	if o.Store != nil {
		j, ci = o.Store, o.Store
	}
	if o.Account != nil {
		if ao := o.Account(account); ao != nil {
			if ao.Journal != nil {
				j = ao.Journal
			}
			if ao.Intents != nil {
				ci = ao.Intents
			}
		}
	}
	return j, ci
}

func (o *JobOptions) log() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o.Logger
}

// JobEnv returns what jobs need to run: connections to the accounts (as
// jobs.Conn), one executor per account (journaled in Store unless dry
// run), the watchers' Pipeline for sweeps, and the backup store (Maildir
// folders, checkpoints in Store; nothing written in a dry run).
func JobEnv(opts *JobOptions) *jobs.Env {
	if opts == nil {
		opts = &JobOptions{}
	}
	log := opts.log()
	executor := func(account string) *actions.Executor {
		journal, _ := opts.journal(account) // read only in dry run
		// A job removes at most a batch at once (jobs.Env.BatchSize), and
		// every run is capped (max_messages).
		return actions.New(&actions.Options{Account: account, DryRun: opts.DryRun, Logger: log, Journal: journal,
			MaxExpunge: max(opts.BatchSize, jobs.DefaultBatchSize), OnApplied: opts.Registry.Applied,
			Sender: opts.Sender, SendLog: sendLog(opts.Store, opts.DryRun)})
	}
	var placements Placements
	if opts.Store != nil {
		placements = opts.Store
	}
	return &jobs.Env{
		Dial: func(ctx context.Context, account string) (jobs.Conn, error) {
			if opts.Dial == nil {
				return nil, fmt.Errorf("account %q: the job environment has no dialer", account)
			}
			c, err := opts.Dial(ctx, account)
			if err != nil {
				return nil, err
			}
			jc := &jobConn{c: c, account: account, log: log}
			if !opts.DryRun {
				_, jc.intents = opts.journal(account)
			}
			return jc, nil
		},
		Executor: executor,
		Processor: func(account, mailbox string, rs jobs.Ruleset) jobs.Processor {
			var guarded map[string]bool
			if opts.Config != nil {
				guarded = Guarded(opts.Config, account, rs.Name())
			}
			return &sweepProcessor{p: Pipeline{Account: account, Mailbox: mailbox, RulesetName: rs.Name(), Rules: rs,
				Exec: executor(account), Placements: placements, Guarded: guarded, Logger: log, Registry: opts.Registry,
				DecisionLevel: slog.LevelDebug}}
		},
		Backups:   &maildirBackups{store: opts.Store, dryRun: opts.DryRun, log: log},
		Quota:     opts.Registry.Quota,
		Now:       opts.Now,
		Logger:    log,
		BatchSize: opts.BatchSize,
		Progress:  opts.Progress,
		Gate:      opts.Gate,
		Ran:       opts.Ran,
	}
}

// sweepProcessor is a Pipeline seen as a jobs.Processor: it decides each
// message as it streams in and keeps a slim copy, and acts on the batch.
type sweepProcessor struct{ p Pipeline }

func (s *sweepProcessor) Decide(ctx context.Context, m *rules.Message) jobs.Outcome {
	ev := s.p.Decide(ctx, m)
	return jobs.Outcome{Message: m.Slim(), Plan: ev.Plan, Skipped: ev.Skipped, Err: ev.Err}
}

func (s *sweepProcessor) Act(ctx context.Context, mb actions.Mailbox, outs []jobs.Outcome) error {
	events := make([]Event, len(outs))
	for i, o := range outs {
		events[i] = Event{Account: s.p.Account, Mailbox: s.p.Mailbox, Message: o.Message, Plan: o.Plan,
			Skipped: o.Skipped, Err: o.Err, DryRun: s.p.Exec.DryRun()}
	}
	err := s.p.Act(ctx, mb, events)
	for i := range outs {
		outs[i].Err = events[i].Err
	}
	return err
}

// NewScheduler returns a scheduler holding every schedule of rt, each run
// with jobs.Run in env, ready to Start. In `mailwarden run`:
//
//	sched, errs := engine.NewScheduler(rt, engine.JobEnv(&engine.JobOptions{Dial: dial, Store: store}), nil, reg)
//	sched.Start(ctx)
//	defer sched.Stop(context.Background())
//
// env may be nil for a scheduler that is only listed (`jobs list`), never
// started.
//
// reg, when set, is told of every run.
func NewScheduler(rt *Runtime, env *jobs.Env, opts *scheduler.Options, reg *observe.Registry) (*scheduler.Scheduler, []error) {
	s := scheduler.New(opts)
	var errs []error
	for i := range rt.Schedules {
		sc := &rt.Schedules[i]
		job := sc.Job
		err := s.Add(sc.Name(), sc.Cron, func(ctx context.Context) error {
			if env == nil {
				return fmt.Errorf("job %q: no job environment", job.JobSpec().Name)
			}
			sum, err := jobs.Run(ctx, env, job)
			reg.JobRun(sum, err)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: schedules[%d].cron: %w", sc.Config.KeyPos("cron"), i, err))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}
