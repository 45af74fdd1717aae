package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

func cmdApply(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	account := fs.String("account", "", "account name from the config (required)")
	mailbox := fs.String("mailbox", "", `mailbox to run the rules over, a name or a special-use attribute such as "\Junk" (required)`)
	rs := fs.String("ruleset", "", "rule set to apply (default: the one the account's watch entry for the mailbox uses)")
	dryRun := fs.Bool("dry-run", false, "log and count every change the rules would make; change nothing")
	maxMsgs := fs.Int("max", 0, "act on at most this many messages (0: no cap)")
	batch := fs.Int("batch", jobs.DefaultBatchSize, "messages fetched with one UID FETCH and acted on at once (one command per destination)")
	var lf logFlags
	lf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: mailwarden apply -c FILE --account A --mailbox M [--ruleset R] [--dry-run] [--max N]\n\n"+
			"Runs a rule set over the mail already in a mailbox, through the same pipeline as the daemon\n"+
			"(journal, loop protection, dry run), and prints a count per action. A progress bar is drawn\n"+
			"when standard error is a terminal.")
		fs.PrintDefaults()
	}
	if _, err := parseInterspersed(fs, args); err != nil {
		return exitUsage
	}
	if *account == "" || *mailbox == "" {
		fmt.Fprintln(stderr, "mailwarden apply: --account and --mailbox are required")
		fs.Usage()
		return exitUsage
	}
	bar := newProgressBar(stderr)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if bar != nil && !set["log-level"] {
		lf.level = "warn" // one line per message would tear the bar apart
	}
	log, err := lf.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden apply:", err)
		return exitUsage
	}
	l, errs := loadAll(*path, nil)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	name, err := applyRuleset(l.cfg, l.rt, *account, *mailbox, *rs)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden apply:", err)
		return exitUsage
	}
	ctx, stop := signalContext(log)
	defer stop()
	progress := func(p jobs.Progress) { bar.set(p.Done, p.Total) }
	title := fmt.Sprintf("apply %q to %s %s", name, *account, *mailbox)
	if c := daemonClient(l.cfg.StateDir); c != nil {
		// The running daemon holds the state file: it applies.
		var logLine func(string)
		if bar == nil || set["log-level"] {
			logLine = linesTo(stderr)
		}
		sum, err := c.Apply(ctx, observe.ApplyRequest{Account: *account, Mailbox: *mailbox, Ruleset: name, DryRun: *dryRun,
			Max: *maxMsgs, Batch: *batch}, observe.Handlers{Log: logLine, Progress: progress})
		bar.finish()
		if sum != nil {
			printSummary(stdout, title, sum)
		}
		if err != nil {
			fmt.Fprintln(stderr, "mailwarden apply:", err)
			return exitFail
		}
		return exitOK
	}
	store, code := openState(l.cfg, *dryRun, log)
	if code != exitOK {
		return code
	}
	if store != nil {
		defer store.Close()
		rt, errs := engine.Compile(l.cfg, compileWithState(store))
		if len(errs) > 0 {
			printErrors(stderr, errs)
			return exitFail
		}
		l.rt = rt
	}
	max := *maxMsgs
	if max <= 0 {
		max = int(^uint(0) >> 1)
	}
	env := engine.JobEnv(&engine.JobOptions{Dial: engine.NewDialer(l.cfg, log), Store: store, DryRun: *dryRun, Logger: log, Config: l.cfg,
		Now: now, BatchSize: *batch, Progress: progress, Sender: engine.NewSender(l.cfg, log)})
	job := &jobs.Sweep{Spec: jobs.Spec{Name: "apply", Accounts: []string{*account}, Max: max}, Mailbox: *mailbox, Rules: l.rt.Ruleset(*account, name)}
	sum, err := jobs.Run(ctx, env, job)
	bar.finish()
	printSummary(stdout, title, sum)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden apply:", err)
		return exitFail
	}
	return exitOK
}

func accountNames(c *config.Config) []string {
	var names []string
	for _, a := range c.Accounts {
		names = append(names, a.Name)
	}
	return names
}
