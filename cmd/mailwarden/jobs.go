package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/scheduler"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// now is the clock of the jobs commands (tests set it).
var now = time.Now

func cmdJobs(args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "Usage:\n  mailwarden jobs list -c FILE                  each scheduled job with its next run time\n  mailwarden jobs run  -c FILE NAME [--dry-run]  run one job now")
	}
	if len(args) == 0 {
		usage()
		return exitUsage
	}
	switch args[0] {
	case "list":
		return jobsList(args[1:], stdout, stderr)
	case "run":
		return jobsRun(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		usage()
		return exitOK
	}
	fmt.Fprintf(stderr, "mailwarden jobs: unknown subcommand %q\n", args[0])
	usage()
	return exitUsage
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (`jobs run NAME --dry-run`) and returns the
// positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func jobsList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jobs list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	l, errs := loadAll(*path, nil)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	sched, errs := engine.NewScheduler(l.rt, nil, &scheduler.Options{Clock: nowClock{}}, nil)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	if len(l.cfg.Schedules) == 0 {
		fmt.Fprintf(stdout, "%s: no schedules\n", *path)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tJOB\tACCOUNTS\tSCHEDULE\tNEXT RUN")
	t := now()
	for i, e := range sched.Entries() {
		s := &l.cfg.Schedules[i]
		accounts := strings.Join(s.Accounts, ",")
		if s.AllAccounts {
			accounts = "all"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s (in %s)\n", e.Name, s.Job, accounts, e.Spec,
			e.Next.Local().Format("2006-01-02 15:04 MST"), e.Next.Sub(t).Round(time.Minute))
	}
	tw.Flush()
	return exitOK
}

// nowClock is the scheduler clock of `jobs list`: only Now is used.
type nowClock struct{}

func (nowClock) Now() time.Time { return now() }
func (nowClock) NewTimer(time.Duration) scheduler.Timer {
	panic("jobs list never starts the scheduler")
}

func jobsRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jobs run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	dryRun := fs.Bool("dry-run", false, "log every change the job would make; change nothing")
	var lf logFlags
	lf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: mailwarden jobs run -c FILE NAME [--dry-run] [--log-level L] [--log-format text|json]\n\nRuns the scheduled job NAME once, now, and prints its summary.")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitUsage
	}
	name := pos[0]
	log, err := lf.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden jobs run:", err)
		return exitUsage
	}
	l, errs := loadAll(*path, nil)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	if l.cfg.Schedule(name) == nil {
		var names []string
		for _, s := range l.cfg.Schedules {
			names = append(names, s.Name)
		}
		fmt.Fprintf(stderr, "mailwarden jobs run: no schedule called %q (schedules: %s)\n", name, strings.Join(names, ", "))
		return exitUsage
	}
	ctx, stop := signalContext(log)
	defer stop()
	if c := daemonClient(l.cfg.StateDir); c != nil {
		// The running daemon holds the state file: it runs the job.
		sum, err := c.RunJob(ctx, observe.JobRequest{Name: name, DryRun: *dryRun}, observe.Handlers{Log: linesTo(stderr)})
		if sum != nil {
			printSummary(stdout, fmt.Sprintf("%s (%s)", sum.Job, sum.Kind), sum)
		}
		if err != nil {
			fmt.Fprintln(stderr, "mailwarden jobs run:", err)
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
		// Re-compile with the duplicate store, as `run` does.
		rt, errs := engine.Compile(l.cfg, compileWithState(store))
		if len(errs) > 0 {
			printErrors(stderr, errs)
			return exitFail
		}
		l.rt = rt
	}
	env := engine.JobEnv(&engine.JobOptions{Dial: engine.NewDialer(l.cfg, log), Store: store, DryRun: *dryRun, Logger: log, Now: now, Config: l.cfg,
		Sender: engine.NewSender(l.cfg, log)})
	sum, err := jobs.Run(ctx, env, l.rt.Schedule(name).Job)
	printSummary(stdout, fmt.Sprintf("%s (%s)", sum.Job, sum.Kind), sum)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden jobs run:", err)
		return exitFail
	}
	return exitOK
}

// linesTo returns a function that prints each line the daemon sends to w.
func linesTo(w io.Writer) func(string) {
	return func(line string) { fmt.Fprintln(w, line) }
}

// openState opens the state file (journal, placements) for a run that
// changes mail. A dry run opens it read-only, so that it skips what a real
// run would skip and reports what a real run would do; with no state file
// yet there is nothing to skip.
func openState(cfg *config.Config, dryRun bool, log *slog.Logger) (*state.Store, int) {
	store, err := state.Open(cfg.StateDir, &state.Options{ReadOnly: dryRun})
	if dryRun && errors.Is(err, os.ErrNotExist) {
		return nil, exitOK
	}
	if err != nil {
		log.Error("cannot open state", "err", err)
		return nil, exitFail
	}
	return store, exitOK
}

// printSummary prints what a job run did, with a count per action.
func printSummary(w io.Writer, title string, s *jobs.Summary) {
	dry := ""
	if s.DryRun {
		dry = " (dry run: nothing changed)"
	}
	fmt.Fprintf(w, "%s: %d account(s), %d scanned, %d matched, %d acted on, %d failed, %s, %s%s\n",
		title, s.Accounts, s.Scanned, s.Matched, s.Acted, s.Failed, bytesText(s.Bytes), s.Duration.Round(time.Millisecond), dry)
	if s.QuotaLimit > 0 {
		fmt.Fprintf(w, "  quota: %s of %s used before, %s after\n", bytesText(s.QuotaUsed), bytesText(s.QuotaLimit), bytesText(s.QuotaAfter))
	}
	if s.Kind == "backup" && s.Acted > 0 {
		secs := max(s.Duration.Seconds(), 0.001)
		fmt.Fprintf(w, "  export rate: %.0f messages/s, %.1f MiB/s\n", float64(s.Acted)/secs, float64(s.Bytes)/(1<<20)/secs)
	}
	if s.Skipped > 0 {
		fmt.Fprintf(w, "  %d message(s) already in the backup past its checkpoint (an interrupted run wrote them): not written again\n", s.Skipped)
	}
	if s.HeldBack > 0 {
		fmt.Fprintf(w, "  %d message(s) held back: not in the backup_first backup, so not removed\n", s.HeldBack)
	}
	if s.Capped {
		fmt.Fprintln(w, "  stopped at its cap (max_messages); the next run goes on")
	}
	keys := make([]string, 0, len(s.Actions))
	for k := range s.Actions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-40s %d\n", k, s.Actions[k])
	}
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
