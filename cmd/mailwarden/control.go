package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/undo"
	"github.com/mailwarden/mailwarden/scheduler"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// liveDaemon is the running daemon as the control socket sees it: the
// config in force (swapped on reload) and what it runs with. It carries out
// what `jobs run`, `apply` and `undo` ask of a running daemon, with the
// daemon's state file and connections, through the same code paths as the
// commands themselves.
type liveDaemon struct {
	store  *state.Store
	dryRun bool // the daemon runs in dry run: so does everything it is asked
	log    *slog.Logger
	reg    *observe.Registry
	// rep is the cluster replica (nil without cluster:): commands act
	// only on the accounts it owns.
	rep *replica

	mu    sync.Mutex
	cfg   *config.Config
	rt    *engine.Runtime
	sched *scheduler.Scheduler
	dial  imapconn.Dialer
}

var _ observe.Controller = (*liveDaemon)(nil)

func (d *liveDaemon) set(cfg *config.Config, rt *engine.Runtime, sched *scheduler.Scheduler) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cfg, d.rt, d.sched = cfg, rt, sched
}

func (d *liveDaemon) get() (*config.Config, *engine.Runtime, *scheduler.Scheduler) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg, d.rt, d.sched
}

// tee logs to the daemon's log and to the asking command.
func (d *liveDaemon) tee(client *slog.Logger, attrs ...any) *slog.Logger {
	return slog.New(slog.NewMultiHandler(d.log.Handler(), client.Handler())).With(attrs...)
}

func (d *liveDaemon) env(dryRun bool, log *slog.Logger, o *engine.JobOptions) *jobs.Env {
	d.mu.Lock()
	dial, cfg := d.dial, d.cfg
	d.mu.Unlock()
	if cfg != nil {
		o.Sender = engine.NewSender(cfg, log)
	}
	o.Dial, o.Store, o.DryRun, o.Logger, o.Registry, o.Config = dial, d.store, dryRun || d.dryRun, log, d.reg, cfg
	if d.rep != nil {
		o.Account, o.Gate, o.Ran = d.rep.account, d.rep.gate, d.rep.ran
	}
	return engine.JobEnv(o)
}

// RunJob runs a scheduled job now. It never overlaps a run of the same job
// by the scheduler: one waits for the other (ErrRunning is reported).
func (d *liveDaemon) RunJob(ctx context.Context, req observe.JobRequest, client *slog.Logger) (*jobs.Summary, error) {
	cfg, rt, sched := d.get()
	sc := rt.Schedule(req.Name)
	if sc == nil {
		var names []string
		for _, s := range cfg.Schedules {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("no schedule called %q (schedules: %s)", req.Name, strings.Join(names, ", "))
	}
	log := d.tee(client, "requested_by", "jobs run")
	env := d.env(req.DryRun, log, &engine.JobOptions{})
	var sum *jobs.Summary
	err := sched.RunWith(ctx, req.Name, func(ctx context.Context) error {
		var err error
		sum, err = jobs.Run(ctx, env, sc.Job)
		d.reg.JobRun(sum, err)
		return err
	})
	if sum == nil && errors.Is(err, scheduler.ErrRunning) {
		return nil, fmt.Errorf("job %q is running right now; try again when it is done", req.Name)
	}
	return sum, err
}

// Apply runs a rule set over a mailbox, as `mailwarden apply` does.
func (d *liveDaemon) Apply(ctx context.Context, req observe.ApplyRequest, client *slog.Logger, progress func(jobs.Progress)) (*jobs.Summary, error) {
	cfg, rt, _ := d.get()
	name, err := applyRuleset(cfg, rt, req.Account, req.Mailbox, req.Ruleset)
	if err != nil {
		return nil, err
	}
	if d.rep != nil && d.rep.fence(req.Account) == nil {
		return nil, fmt.Errorf("account %q is not run by this replica (%s): ask the replica that owns it (mailwarden status shows which)", req.Account, d.rep.node.Name())
	}
	max := req.Max
	if max <= 0 {
		max = int(^uint(0) >> 1)
	}
	log := d.tee(client, "requested_by", "apply")
	env := d.env(req.DryRun, log, &engine.JobOptions{BatchSize: req.Batch, Progress: progress})
	job := &jobs.Sweep{Spec: jobs.Spec{Name: "apply", Accounts: []string{req.Account}, Max: max}, Mailbox: req.Mailbox, Rules: rt.Ruleset(req.Account, name)}
	return jobs.Run(ctx, env, job)
}

// Undo reverses journal entries, as `mailwarden undo` does.
func (d *liveDaemon) Undo(ctx context.Context, req observe.UndoRequest, client *slog.Logger) (*undo.Report, error) {
	cfg, _, _ := d.get()
	d.mu.Lock()
	dial := d.dial
	d.mu.Unlock()
	return undo.Run(ctx, d.store, &undo.Options{
		Since: req.Since, Account: req.Account, Mailbox: req.Mailbox, Rule: req.Rule,
		DryRun: req.DryRun || d.dryRun, Logger: d.tee(client, "requested_by", "undo"),
		Dial: dial, Accounts: engine.UndoAccounts(cfg),
	})
}

// usageError is a request that names what the config does not have.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// applyRuleset picks the rule set `apply` runs: the named one, or the one
// the account's watch entry for the mailbox uses.
func applyRuleset(cfg *config.Config, rt *engine.Runtime, account, mailbox, ruleset string) (string, error) {
	a := cfg.Account(account)
	if a == nil {
		return "", &usageError{fmt.Sprintf("no account %q in %s (accounts: %s)", account, cfg.File, strings.Join(accountNames(cfg), ", "))}
	}
	name := ruleset
	if name == "" {
		for _, w := range a.Watch {
			if w.Mailbox == mailbox {
				name = w.Ruleset
			}
		}
		if name == "" {
			return "", &usageError{fmt.Sprintf("account %q does not watch %q: say which rule set with --ruleset", account, mailbox)}
		}
	}
	if rt.Rulesets[name] == nil {
		return "", &usageError{fmt.Sprintf("no rule set %q in %s", name, cfg.File)}
	}
	return name, nil
}
