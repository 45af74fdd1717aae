package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/scheduler"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	dryRun := fs.Bool("dry-run", false, "log every planned action; change nothing on the server or in the state")
	var lf logFlags
	lf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: mailwarden run -c FILE [--dry-run] [--log-level L] [--log-format text|json]\n\nRuns the daemon until SIGINT or SIGTERM. SIGHUP reloads the config file\n(the running config stays when the new one has any error).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, errs := parseConfig(*path)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	// The config's log section applies unless a flag says otherwise.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["log-level"] && cfg.Log.Level != "" {
		lf.level = cfg.Log.Level
	}
	if !set["log-format"] && cfg.Log.Format != "" {
		lf.format = cfg.Log.Format
	}
	log, err := lf.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden run:", err)
		return exitUsage
	}

	store, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		log.Error("cannot open state", "err", err)
		return exitFail
	}
	defer store.Close()

	ctx, stop := signalContext(log)
	defer stop()
	reload := make(chan os.Signal, 1)
	signal.Notify(reload, syscall.SIGHUP)
	defer signal.Stop(reload)
	hup := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-reload:
				select {
				case hup <- struct{}{}:
				default:
				}
			}
		}
	}()
	return daemon(ctx, *path, cfg, store, *dryRun, log, hup, stderr)
}

// compileForRun compiles cfg as `run` needs it (Sieve's duplicate test
// backed by the state file) and builds its scheduler, whose jobs connect
// with dial.
func compileForRun(cfg *config.Config, store *state.Store, dial imapconn.Dialer, dryRun bool, log *slog.Logger) (*engine.Runtime, *scheduler.Scheduler, []error) {
	rt, errs := engine.Compile(cfg, compileWithState(cfg, store))
	if len(errs) > 0 {
		return nil, nil, errs
	}
	env := engine.JobEnv(&engine.JobOptions{Dial: dial, Store: store, DryRun: dryRun, Logger: log})
	sched, errs := engine.NewScheduler(rt, env, &scheduler.Options{Logger: log})
	return rt, sched, errs
}

// daemon runs the watchers and scheduled jobs of cfg until ctx is done. On
// a signal on reload (SIGHUP) it re-reads the config file: when the new
// one loads and compiles without any error, the watchers and jobs restart
// with it; otherwise every error is logged and the running config stays.
func daemon(ctx context.Context, path string, cfg *config.Config, store *state.Store, dryRun bool, log *slog.Logger, reload <-chan struct{}, stderr io.Writer) int {
	dial := engine.NewDialer(cfg, log)
	rt, sched, errs := compileForRun(cfg, store, dial, dryRun, log)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	for {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		// Scheduled jobs (schedules:) run beside the watchers; Stop
		// cancels a running job and waits for it, bounded.
		sched.Start(runCtx)
		// The journal and placements are pruned to journal_retention at
		// start and daily (not in dry run, which writes no state).
		maintained := make(chan struct{})
		go func() {
			defer close(maintained)
			if !dryRun {
				engine.Maintain(runCtx, store, cfg.JournalRetention, log)
			}
		}()
		go func() {
			if len(cfg.Schedules) > 0 && !watchesAny(cfg) {
				<-runCtx.Done() // only schedules: nothing for the engine to watch
				done <- nil
				return
			}
			done <- engine.New(rt, store, &engine.Options{DryRun: dryRun, Logger: log, Dial: dial}).Run(runCtx)
		}()
	wait:
		for {
			select {
			case err := <-done:
				cancel()
				<-maintained
				sched.Stop(context.Background())
				if err != nil && ctx.Err() == nil {
					log.Error("mailwarden stopped", "err", err)
					return exitFail
				}
				log.Info("mailwarden stopped")
				return exitOK
			case <-reload:
				ncfg, ndial, nrt, nsched, errs := reloadConfig(path, cfg, store, dryRun, log)
				if len(errs) > 0 {
					log.Error("config reload failed; still running the previous config", "file", path, "errors", len(errs))
					for _, e := range errs {
						log.Error("config error", "err", e)
					}
					continue
				}
				log.Info("config reloaded; restarting watchers and scheduled jobs", "file", path)
				cancel()
				<-done
				<-maintained
				sched.Stop(context.Background())
				cfg, dial, rt, sched = ncfg, ndial, nrt, nsched
				break wait
			}
		}
	}
}

// reloadConfig loads and compiles the config file again. The state
// directory cannot change while the state file is open.
func reloadConfig(path string, old *config.Config, store *state.Store, dryRun bool, log *slog.Logger) (*config.Config, imapconn.Dialer, *engine.Runtime, *scheduler.Scheduler, []error) {
	cfg, errs := parseConfig(path)
	if len(errs) > 0 {
		return nil, nil, nil, nil, errs
	}
	if cfg.StateDir != old.StateDir {
		return nil, nil, nil, nil, []error{fmt.Errorf("%s: state_dir changed from %s to %s: restart mailwarden to move the state", path, old.StateDir, cfg.StateDir)}
	}
	dial := engine.NewDialer(cfg, log)
	rt, sched, errs := compileForRun(cfg, store, dial, dryRun, log)
	return cfg, dial, rt, sched, errs
}

// signalContext is cancelled on the first SIGINT or SIGTERM; a second one
// exits at once.
func signalContext(log *slog.Logger) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			log.Info("shutting down (signal again to exit at once)", "signal", s.String())
			cancel()
		case <-ctx.Done():
			return
		}
		<-ch
		log.Warn("second signal: exiting now")
		os.Exit(exitFail)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// watchesAny reports whether any account watches a mailbox.
func watchesAny(cfg *config.Config) bool {
	for _, a := range cfg.Accounts {
		if len(a.Watch) > 0 {
			return true
		}
	}
	return false
}
