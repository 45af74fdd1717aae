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
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/rules/sieve"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	dryRun := fs.Bool("dry-run", false, "log every planned action; change nothing on the server or in the state")
	var lf logFlags
	lf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: mailwarden run -c FILE [--dry-run] [--log-level L] [--log-format text|json]\n\nRuns the daemon until SIGINT or SIGTERM.")
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
	// Sieve's duplicate test (RFC 7352) remembers messages in the state
	// file, so "seen before" survives restarts.
	sets, errs := engine.CompileRulesets(cfg, &engine.CompileOptions{Sieve: &sieve.Options{Duplicates: store.Duplicates()}})
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}

	ctx, stop := signalContext(log)
	defer stop()
	// Scheduled jobs (schedules:) run beside the watchers; Stop cancels a
	// running job and waits for it, bounded.
	sched, errs := engine.NewScheduler(cfg, sets, store, &engine.JobOptions{DryRun: *dryRun, Logger: log})
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	sched.Start(ctx)
	defer sched.Stop(context.Background())
	if len(cfg.Schedules) > 0 && !watchesAny(cfg) {
		<-ctx.Done() // only schedules: nothing for the engine to watch
		log.Info("mailwarden stopped")
		return exitOK
	}
	e := engine.New(cfg, sets, store, &engine.Options{DryRun: *dryRun, Logger: log})
	if err := e.Run(ctx); err != nil {
		log.Error("mailwarden stopped", "err", err)
		return exitFail
	}
	log.Info("mailwarden stopped")
	return exitOK
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
