package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/rules/exprrule"
	"github.com/mailwarden/mailwarden/rules/ruleset"
	"github.com/mailwarden/mailwarden/rules/sieve"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// Runtime is a config compiled into the form the daemon runs: every rule
// set compiled, every schedule turned into its job with its `when` filter
// compiled. It is built once, by Compile, and never changed: a reload
// compiles a new Runtime and keeps the running one when that fails.
type Runtime struct {
	// Config is the config it was compiled from.
	Config *config.Config
	// Rulesets are the compiled rule sets by name.
	Rulesets map[string]*ruleset.Set
	// Schedules are the scheduled jobs, in file order.
	Schedules []Schedule
	// Warnings are problems that do not stop the daemon: an account's
	// stored ManageSieve script that no longer compiles (its
	// `managesieve: active` step then does nothing, so its mail stays
	// where it is). `check` prints them; run and reload log them.
	Warnings []error

	// accountSets are the variants of rule sets with a `managesieve:
	// active` step, by account and then rule set name, for accounts that
	// have an active stored script.
	accountSets map[string]map[string]*ruleset.Set
}

// Ruleset returns the rule set name as account runs it: its own variant
// when the set has a `managesieve: active` step and the account an
// active script, else the shared set (nil when there is no such set).
func (rt *Runtime) Ruleset(account, name string) *ruleset.Set {
	if s := rt.accountSets[account][name]; s != nil {
		return s
	}
	return rt.Rulesets[name]
}

// Schedule is one compiled `schedules:` entry.
type Schedule struct {
	// Cron is the schedule's time spec (robfig/cron/v3 standard syntax,
	// already checked by the config loader).
	Cron string
	// Job is the job the schedule runs.
	Job jobs.Job
	// Config is the entry it was compiled from (for located errors).
	Config *config.Schedule
}

// Name is the schedule's name.
func (s *Schedule) Name() string { return s.Job.JobSpec().Name }

// Schedule returns the compiled schedule called name, or nil.
func (rt *Runtime) Schedule(name string) *Schedule {
	for i := range rt.Schedules {
		if rt.Schedules[i].Name() == name {
			return &rt.Schedules[i]
		}
	}
	return nil
}

// CompileOptions tune compilation. Nil means defaults.
type CompileOptions struct {
	// Now is the clock expr rules and schedule filters see (`age`); nil
	// means time.Now.
	Now func() time.Time
	// Sieve configures Sieve scripts (limits, include directories, the
	// duplicate store); nil means the sieve package's defaults.
	Sieve *sieve.Options
}

// Compile compiles every rule set and every schedule of cfg. It returns
// every problem of all of them at once, each located in the config file or
// the Sieve script, so `check` shows everything in one run; the Runtime is
// nil when there is any. A Config that itself had errors can still be
// compiled, to report more of them.
func Compile(cfg *config.Config, opts *CompileOptions) (*Runtime, []error) {
	if opts == nil {
		opts = &CompileOptions{}
	}
	rt := &Runtime{Config: cfg}
	var errs []error
	rt.Rulesets, errs = compileRulesets(cfg, opts)
	if len(errs) == 0 {
		rt.accountSets, rt.Warnings = compileManaged(cfg, opts)
	}
	var serrs []error
	rt.Schedules, serrs = compileSchedules(cfg, rt, opts)
	errs = append(errs, serrs...)
	if len(errs) > 0 {
		return nil, errs
	}
	return rt, nil
}

func exprOptions(cfg *config.Config, opts *CompileOptions) *exprrule.Options {
	return &exprrule.Options{MaxNodes: uint(cfg.Limits.ExprMaxNodes), Now: opts.Now}
}

// compileRulesets compiles every rule set of cfg; a rule set with errors is
// left out of the map and its errors returned.
func compileRulesets(cfg *config.Config, opts *CompileOptions) (map[string]*ruleset.Set, []error) {
	defs := make([]ruleset.Def, 0, len(cfg.Rulesets))
	for i := range cfg.Rulesets {
		defs = append(defs, rulesetDef(&cfg.Rulesets[i]))
	}
	return ruleset.CompileAll(defs, rulesetOptions(cfg, opts))
}

// rulesetDef turns a config rule set into its definition. A `managesieve:
// active` step is an empty script (it does nothing) until compileManaged
// puts an account's stored script in its place.
func rulesetDef(rs *config.Ruleset) ruleset.Def {
	def := ruleset.Def{Name: rs.Name, Pos: exprrule.Pos(rs.Pos)}
	for _, st := range rs.Steps {
		if st.ManageSieve {
			def.Steps = append(def.Steps, ruleset.Step{Sieve: "managesieve:active", Source: []byte{}, Pos: exprrule.Pos(st.SievePos), SkipUnsupported: st.SkipUnsupported()})
			continue
		}
		if st.IsSieve() {
			def.Steps = append(def.Steps, ruleset.Step{Sieve: st.Sieve, Pos: exprrule.Pos(st.SievePos), SkipUnsupported: st.SkipUnsupported()})
			continue
		}
		spec := &exprrule.Spec{
			Name: st.Name, When: st.When, Stop: st.Stop,
			Pos: exprrule.Pos(st.Pos), WhenPos: exprrule.Pos(st.WhenPos),
			WhenInline: st.WhenInline, WhenCols: st.WhenCols,
		}
		for _, a := range st.Actions {
			spec.Actions = append(spec.Actions, exprrule.Action{Kind: a.Kind, Arg: a.Arg, Pos: exprrule.Pos(a.Pos)})
		}
		def.Steps = append(def.Steps, ruleset.Step{Expr: spec})
	}
	return def
}

// rulesetOptions are the compile options of cfg's rule sets.
func rulesetOptions(cfg *config.Config, opts *CompileOptions) *ruleset.Options {
	if opts == nil {
		opts = &CompileOptions{}
	}
	// Sieve's include reads the config's directories (sieve.personal_dir,
	// sieve.global_dir) unless the caller names others (`test` flags).
	var so sieve.Options
	if opts.Sieve != nil {
		so = *opts.Sieve
	}
	if so.IncludePersonal == "" {
		so.IncludePersonal = cfg.Sieve.PersonalDir
	}
	if so.IncludeGlobal == "" {
		so.IncludeGlobal = cfg.Sieve.GlobalDir
	}
	// redirect and vacation send through the smtp: section; the
	// envelope is read from the header only when the user opted in.
	so.Submission = so.Submission || cfg.SMTP != nil
	so.EnvelopeFromHeaders = so.EnvelopeFromHeaders || cfg.Sieve.EnvelopeFromHeaders
	if so.UserAddresses == nil {
		so.UserAddresses = cfg.UserAddresses()
	}
	if so.VacationMaxAge == 0 {
		so.VacationMaxAge = cfg.Sieve.VacationMaxAge
	}
	return &ruleset.Options{
		Expr:       *exprOptions(cfg, opts),
		Sieve:      &so,
		BaseDir:    cfg.Dir,
		MaxActions: cfg.Limits.ActionsPerMessage,
	}
}

// compileSchedules builds the job of every schedule, in file order, with
// its `when` filter compiled. sets are the compiled rule sets.
func compileSchedules(cfg *config.Config, rt *Runtime, opts *CompileOptions) ([]Schedule, []error) {
	sets := rt.Rulesets
	var out []Schedule
	var errs []error
	for i := range cfg.Schedules {
		s := &cfg.Schedules[i]
		spec := jobs.Spec{Name: s.Name, Accounts: s.Accounts, Max: s.MaxMessages}
		var filter jobs.Filter
		if s.When != "" {
			r, es := exprrule.Compile(exprrule.Spec{Name: s.Name, When: s.When, Stop: true,
				Pos: exprrule.Pos(s.Pos), WhenPos: exprrule.Pos(s.WhenPos), WhenInline: s.WhenInline, WhenCols: s.WhenCols},
				exprOptions(cfg, opts))
			if len(es) > 0 {
				errs = append(errs, es...) // located at the `when` value, named after the schedule
				continue
			}
			filter = r
		}
		var job jobs.Job
		switch s.Job {
		case config.JobArchive:
			job = &jobs.Archive{Spec: spec, Mailbox: s.Mailbox, OlderThan: s.OlderThan, ByDate: s.By == config.ByDate,
				To: s.To, SkipFlagged: s.SkipFlagged, SkipUnread: s.SkipUnread, When: filter}
		case config.JobExpire:
			job = &jobs.Expire{Spec: spec, Mailbox: s.Mailbox, OlderThan: s.OlderThan, ByDate: s.By == config.ByDate,
				SkipFlagged: s.SkipFlagged, SkipUnread: s.SkipUnread, When: filter}
		case config.JobQuota:
			q := &jobs.Quota{Spec: spec, High: s.High, Low: s.Low, WarnOnly: s.WarnOnly}
			for _, p := range s.Prune {
				q.Prune = append(q.Prune, jobs.PruneSpec{Mailbox: p.Mailbox, OlderThan: p.OlderThan})
			}
			job = q
		case config.JobBackup:
			var boxes []string
			if !s.AllMailboxes {
				boxes = s.Mailboxes
			}
			job = &jobs.Backup{Spec: spec, Mailboxes: boxes, When: filter, Dir: s.Dir}
		case config.JobSweep:
			set := sets[s.Ruleset]
			if set == nil {
				// A rule set the config has but that failed to compile was
				// reported already: say nothing twice.
				if cfg.Ruleset(s.Ruleset) == nil {
					errs = append(errs, fmt.Errorf("%s: schedules[%d].ruleset: rule set %q was not compiled", s.KeyPos("ruleset"), i, s.Ruleset))
				}
				continue
			}
			job = &jobs.Sweep{Spec: spec, Mailbox: s.Mailbox, Rules: set, PerAccount: rt.perAccount(s.Ruleset)}
		default:
			errs = append(errs, fmt.Errorf("%s: schedules[%d].job: unknown job %q", s.KeyPos("job"), i, s.Job))
			continue
		}
		out = append(out, Schedule{Cron: s.Cron, Job: job, Config: s})
	}
	// backup_first names a backup anywhere in the file: link the jobs
	// once all are built.
	for i := range out {
		s := out[i].Config
		if s.BackupFirst == "" {
			continue
		}
		var b *jobs.Backup
		for j := range out {
			if bj, ok := out[j].Job.(*jobs.Backup); ok && bj.Name == s.BackupFirst {
				b = bj
			}
		}
		if b == nil {
			// The config reported a name that is no backup; a backup
			// whose filter failed to compile is named here too, so that
			// the retention job is never left without it.
			if t := cfg.Schedule(s.BackupFirst); t != nil && t.Job == config.JobBackup {
				k := slices.IndexFunc(cfg.Schedules, func(c config.Schedule) bool { return c.Name == s.Name })
				errs = append(errs, fmt.Errorf("%s: schedules[%d].backup_first: backup %q was not compiled", s.KeyPos("backup_first"), k, s.BackupFirst))
			}
			continue
		}
		switch j := out[i].Job.(type) {
		case *jobs.Expire:
			j.BackupFirst = b
		case *jobs.Quota:
			j.BackupFirst = b
		}
	}
	return out, errs
}
