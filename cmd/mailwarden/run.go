package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/observe"
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
	// Every error of the config, its rules and its schedules at once,
	// exactly as `check` prints them (the daemon compiles again below,
	// with Sieve's duplicate test backed by the state file).
	l, errs := loadAll(*path, nil)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	cfg := l.cfg
	if cfg.Cluster != nil && *dryRun {
		fmt.Fprintln(stderr, "mailwarden run: --dry-run does not join the cluster (it would take accounts from the replicas that act); use apply --dry-run, or a config without cluster:")
		return exitUsage
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

	// A dry run opens the state read-only: it reads checkpoints, the journal
	// and placements like a real run, and writes nothing. With no state
	// yet, it starts from an empty one of its own, as a first real run
	// would, and leaves state_dir alone.
	stateDir := cfg.StateDir
	if *dryRun {
		if _, err := os.Stat(filepath.Join(stateDir, state.FileName)); errors.Is(err, os.ErrNotExist) {
			tmp, err := os.MkdirTemp("", "mailwarden-dry-run-")
			if err != nil {
				log.Error("cannot make an empty state for the dry run", "err", err)
				return exitFail
			}
			defer os.RemoveAll(tmp)
			if s, err := state.Open(tmp, nil); err == nil {
				s.Close()
			}
			stateDir = tmp
		}
	}
	store, err := state.Open(stateDir, &state.Options{ReadOnly: *dryRun})
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
// with dial and report to reg.
func compileForRun(cfg *config.Config, store *state.Store, dial imapconn.Dialer, dryRun bool, log *slog.Logger, reg *observe.Registry, rep *replica) (*engine.Runtime, *scheduler.Scheduler, []error) {
	rt, errs := engine.Compile(cfg, compileWithState(store))
	if len(errs) > 0 {
		return nil, nil, errs
	}
	sched, errs := newScheduler(rt, store, dial, dryRun, log, reg, rep)
	return rt, sched, errs
}

// newScheduler builds the scheduler of rt, whose jobs connect with dial
// and report to reg. A cluster replica (rep) runs a job only on the
// accounts it owns, each tick once cluster-wide, with "@every" aligned so
// that every replica names the same ticks.
func newScheduler(rt *engine.Runtime, store *state.Store, dial imapconn.Dialer, dryRun bool, log *slog.Logger, reg *observe.Registry, rep *replica) (*scheduler.Scheduler, []error) {
	o := &engine.JobOptions{Dial: dial, Store: store, DryRun: dryRun, Logger: log, Registry: reg, Config: rt.Config,
		Sender: engine.NewSender(rt.Config, log)}
	if rep != nil {
		o.Account, o.Gate, o.Ran = rep.account, rep.gate, rep.ran
	}
	return engine.NewScheduler(rt, engine.JobEnv(o), &scheduler.Options{Logger: log, Align: rep != nil}, reg)
}

// daemon runs the watchers and scheduled jobs of cfg until ctx is done. On
// a signal on reload (SIGHUP) it re-reads the config file: when the new
// one loads and compiles without any error, the watchers and jobs restart
// with it; otherwise every error is logged and the running config stays.
//
// Beside them it serves the control socket in state_dir (status, jobs run,
// apply and undo from the commands, /metrics, /healthz, /readyz), the
// `http:` listener when configured, and a heartbeat log line. When every
// watcher has stopped on a permanent error (a wrong password, say), the
// process stays up: the jobs, the socket and /readyz (which says why) go
// on until the config is fixed and reloaded, or the daemon is stopped.
func daemon(ctx context.Context, path string, cfg *config.Config, store *state.Store, dryRun bool, log *slog.Logger, reload <-chan struct{}, stderr io.Writer) int {
	d := &liveDaemon{store: store, dryRun: dryRun, log: log, reg: observe.New(&observe.Options{Version: daemonVersion()})}
	// One set of connection budgets for the life of the process: a
	// connection opened under the previous config counts until it closes.
	budgets := engine.NewBudgets(cfg)
	d.dial = engine.NewDialerWith(cfg, &engine.DialerOptions{Logger: log, Budgets: budgets})
	// A cluster replica (cluster:) runs only the accounts it owns; the
	// node claims and releases them for the life of the process.
	if cfg.Cluster != nil {
		rep, err := openReplica(cfg, store, log)
		if err != nil {
			log.Error("cannot set up the cluster", "err", err)
			return exitFail
		}
		nodeCtx, stopNode := context.WithCancel(ctx)
		nodeDone := make(chan struct{})
		go func() { defer close(nodeDone); rep.node.Run(nodeCtx, rep) }()
		defer func() { stopNode(); <-nodeDone; rep.node.Close() }()
		d.rep = rep
		d.reg.SetCluster(rep.status)
		log.Info("cluster replica", "name", cfg.Cluster.Name, "endpoints", cfg.Cluster.Endpoints, "lease_ttl", cfg.Cluster.LeaseTTL)
	}
	rt, sched, errs := compileForRun(cfg, store, d.dial, dryRun, log, d.reg, d.rep)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	d.set(cfg, rt, sched)

	// The control socket and the http listener live as long as the
	// process, across reloads.
	srvCtx, stopServers := context.WithCancel(context.Background())
	var servers sync.WaitGroup
	defer func() { stopServers(); servers.Wait() }()
	h := d.reg.Handler(d, dryRun)
	if ln, err := observe.ListenSocket(cfg.StateDir); err != nil {
		log.Error("no control socket: status, jobs run, apply and undo cannot reach this daemon", "err", err)
	} else {
		servers.Add(1)
		go func() { defer servers.Done(); observe.Serve(srvCtx, ln, h) }()
		defer os.Remove(observe.SocketPath(cfg.StateDir))
	}
	if cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", cfg.HTTP.Listen)
		if err != nil {
			log.Error("cannot listen for http (metrics, health)", "addr", cfg.HTTP.Listen, "err", err)
			return exitFail
		}
		log.Info("serving /metrics, /healthz, /readyz and /status", "addr", ln.Addr().String())
		servers.Add(1)
		go func() { defer servers.Done(); observe.Serve(srvCtx, ln, h) }()
	}
	listening := cfg.HTTP.Listen
	// The ManageSieve server (managesieve:) writes scripts into state_dir,
	// so a dry run does not serve it.
	sieveSrv := newSieveServer(log, compileWithState(store))
	defer sieveSrv.close()
	if cfg.ManageSieve != nil && dryRun {
		log.Warn("dry run: the ManageSieve server is not started (it would store scripts)")
	} else if err := sieveSrv.start(cfg); err != nil {
		log.Error("cannot start the ManageSieve server", "err", err)
		return exitFail
	}
	logWarnings(log, rt)

	for {
		cfg, rt, sched := d.get()
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		// Scheduled jobs (schedules:) run beside the watchers; Stop
		// cancels a running job and waits for it, bounded.
		sched.Start(runCtx)
		d.reg.Schedule(nextRuns(sched, rt))
		var helpers sync.WaitGroup
		helpers.Add(2)
		// The journal and placements are pruned to journal_retention at
		// start and daily (not in dry run, which writes no state).
		go func() {
			defer helpers.Done()
			if !dryRun {
				engine.Maintain(runCtx, store, cfg.JournalRetention, log)
			}
		}()
		go func() { defer helpers.Done(); d.reg.Heartbeat(runCtx, cfg.Log.Heartbeat, log) }()
		eng := engine.New(rt, store, &engine.Options{DryRun: dryRun, Logger: log, Dial: d.dial, Registry: d.reg,
			Sender: engine.NewSender(rt.Config, log)})
		go func() {
			if d.rep != nil {
				d.rep.runEngine(runCtx, eng, cfg) // the accounts this replica owns
				done <- nil
				return
			}
			if !watchesAny(cfg) {
				<-runCtx.Done() // only schedules: nothing for the engine to watch
				done <- nil
				return
			}
			done <- eng.Run(runCtx)
		}()
		stopRun := func() {
			cancel()
			helpers.Wait()
			sched.Stop(context.Background())
		}
	wait:
		for {
			select {
			case err := <-done:
				if ctx.Err() != nil {
					stopRun()
					log.Info("mailwarden stopped")
					return exitOK
				}
				// Every watcher stopped for good: keep the jobs, the
				// socket and the health endpoints; a reload starts them
				// again.
				log.Error("every watcher has stopped; scheduled jobs and the control socket go on (fix the config, then reload with SIGHUP)", "err", err)
				done = nil
			case <-ctx.Done():
				if done != nil {
					<-done
				}
				stopRun()
				log.Info("mailwarden stopped")
				return exitOK
			case <-sieveSrv.changed:
				// An account's active script changed: the same config,
				// compiled again with the stored scripts. The watchers
				// run the new rules from their next batch on, without a
				// reconnect. Scheduled jobs restart only when a sweep
				// runs a rule set with such a step (a running job is
				// then stopped, as on a reload).
				nrt, nsched, errs := compileForRun(cfg, store, d.dial, dryRun, log, d.reg, d.rep)
				if len(errs) > 0 {
					log.Error("rules not recompiled after a ManageSieve change; still running the previous rules", "errors", len(errs))
					for _, e := range errs {
						log.Error("rules error", "err", e)
					}
					continue
				}
				logWarnings(log, nrt)
				eng.UseRuntime(nrt)
				if nrt.SweepsManaged() {
					// A sweep runs an account's script: its jobs restart.
					sched.Stop(context.Background())
					sched = nsched
					sched.Start(runCtx)
					d.reg.Schedule(nextRuns(sched, nrt))
				}
				rt = nrt
				d.set(cfg, rt, sched)
				log.Info("rules recompiled; the watchers run them from their next message on")
			case <-reload:
				ncfg, ndial, nrt, nsched, errs := reloadConfig(path, cfg, store, dryRun, log, d.reg, budgets, d.rep)
				if len(errs) > 0 {
					log.Error("config reload failed; still running the previous config", "file", path, "errors", len(errs))
					for _, e := range errs {
						log.Error("config error", "err", e)
					}
					continue
				}
				log.Info("config reloaded; restarting watchers and scheduled jobs", "file", path)
				logWarnings(log, nrt)
				if ncfg.HTTP.Listen != listening {
					log.Warn("http.listen changed: the listener keeps its address until mailwarden restarts", "listening", listening, "configured", ncfg.HTTP.Listen)
				}
				if !dryRun {
					if err := sieveSrv.start(ncfg); err != nil {
						log.Error("the ManageSieve server is not running", "err", err)
					}
				}
				cancel()
				if done != nil {
					<-done
				}
				stopRun()
				d.dial = ndial
				d.set(ncfg, nrt, nsched)
				if d.rep != nil {
					d.rep.node.SetAccounts(accountNames(ncfg))
				}
				break wait
			}
		}
	}
}

// logWarnings logs what compiled with a warning (a stored ManageSieve
// script that no longer compiles).
func logWarnings(log *slog.Logger, rt *engine.Runtime) {
	for _, w := range rt.Warnings {
		log.Warn("rules warning", "err", w)
	}
}

// nextRuns lists the next run of every scheduled job, and its kind.
func nextRuns(sched *scheduler.Scheduler, rt *engine.Runtime) (map[string]time.Time, map[string]string) {
	next, kinds := map[string]time.Time{}, map[string]string{}
	for _, e := range sched.Entries() {
		next[e.Name] = e.Next
	}
	for _, s := range rt.Schedules {
		kinds[s.Name()] = s.Job.Kind()
	}
	return next, kinds
}

// reloadConfig loads and compiles the config file again, reporting every
// error of the config, its rules and its schedules at once, as `check`
// does. The state directory cannot change while the state file is open.
func reloadConfig(path string, old *config.Config, store *state.Store, dryRun bool, log *slog.Logger, reg *observe.Registry, budgets *engine.Budgets, rep *replica) (*config.Config, imapconn.Dialer, *engine.Runtime, *scheduler.Scheduler, []error) {
	l, errs := loadAll(path, compileWithState(store))
	if len(errs) > 0 {
		return nil, nil, nil, nil, errs
	}
	cfg := l.cfg
	if cfg.StateDir != old.StateDir {
		return nil, nil, nil, nil, []error{fmt.Errorf("%s: state_dir changed from %s to %s: restart mailwarden to move the state", path, old.StateDir, cfg.StateDir)}
	}
	if (old.Cluster == nil) != (cfg.Cluster == nil) {
		return nil, nil, nil, nil, []error{fmt.Errorf("%s: cluster: added or removed: restart mailwarden to join or leave a cluster", path)}
	}
	if old.Cluster != nil && !reflect.DeepEqual(old.Cluster, cfg.Cluster) {
		log.Warn("cluster: changed: the replica keeps its name, etcd endpoints and lease until mailwarden restarts")
	}
	dial := engine.NewDialerWith(cfg, &engine.DialerOptions{Logger: log, Budgets: budgets})
	sched, errs := newScheduler(l.rt, store, dial, dryRun, log, reg, rep)
	if len(errs) == 0 {
		budgets.Set(cfg.Budgets())
	}
	return cfg, dial, l.rt, sched, errs
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
