package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/cluster"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/scheduler"
)

// replica is the daemon's side of a cluster member (`cluster:`): the
// cluster.Owner that starts the watchers of each account the node hands
// it (engine.RunAccount, checkpoints and copy intents through the fence)
// and stops them when the node takes it back. The engine is swapped on a
// reload; the accounts owned stay owned across it.
type replica struct {
	node  *cluster.Node
	store *state.Store
	log   *slog.Logger

	mu       sync.Mutex
	fences   map[string]*cluster.Fence
	journals map[string]*cluster.Journal
	running  map[string]*accountRun
	eng      *engine.Engine
	cfg      *config.Config // the config eng runs
	ctx      context.Context
}

type accountRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

var _ cluster.Owner = (*replica)(nil)

// openReplica connects to etcd as cfg's cluster: section says.
func openReplica(cfg *config.Config, store *state.Store, log *slog.Logger) (*replica, error) {
	cl := cfg.Cluster
	var tc *tls.Config
	if cl.TLS() {
		tc = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cl.TLSServerName}
		if cl.TLSCAFile != "" {
			pem, err := os.ReadFile(cl.TLSCAFile)
			if err != nil {
				return nil, err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate", cl.TLSCAFile)
			}
			tc.RootCAs = pool
		}
		if cl.TLSCertFile != "" {
			cert, err := tls.LoadX509KeyPair(cl.TLSCertFile, cl.TLSKeyFile)
			if err != nil {
				return nil, err
			}
			tc.Certificates = []tls.Certificate{cert}
		}
	}
	node, err := cluster.Open(&cluster.Options{Name: cl.Name, Endpoints: cl.Endpoints, TTL: cl.LeaseTTL, Prefix: cl.Prefix,
		DialTimeout: cl.DialTimeout, TLS: tc, Version: daemonVersion(), Logger: log}, accountNames(cfg))
	if err != nil {
		return nil, err
	}
	return &replica{node: node, store: store, log: log, fences: map[string]*cluster.Fence{},
		journals: map[string]*cluster.Journal{}, running: map[string]*accountRun{}}, nil
}

// Acquire implements cluster.Owner: the account's watchers start (now,
// or when the engine runs again after a reload).
func (r *replica) Acquire(account string, f *cluster.Fence) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fences[account] = f
	if r.eng != nil {
		r.start(account)
	}
}

// Release implements cluster.Owner: the account's watchers stop, and it
// returns once they have.
func (r *replica) Release(account string) {
	r.mu.Lock()
	delete(r.fences, account)
	delete(r.journals, account)
	run := r.running[account]
	delete(r.running, account)
	r.mu.Unlock()
	if run != nil {
		run.cancel()
		<-run.done
	}
}

// start runs account's watchers under r.ctx; r.mu is held. Its journal
// is made anew from the config in force (which mailboxes are watched);
// Adopt reads every intent still in etcd, this replica's own included.
func (r *replica) start(account string) {
	f, eng := r.fences[account], r.eng
	var watched []string
	if a := r.cfg.Account(account); a != nil {
		for _, w := range a.Watch {
			watched = append(watched, w.Mailbox)
		}
	}
	j := cluster.NewJournal(f, r.store, r.log, watched)
	r.journals[account] = j
	ctx, cancel := context.WithCancel(r.ctx)
	run := &accountRun{cancel: cancel, done: make(chan struct{})}
	r.running[account] = run
	go func() {
		defer close(run.done)
		// What a previous owner may have copied is known before anything
		// acts on the account (cluster.Journal.Adopt).
		for delay := 200 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
			n, err := j.Adopt(ctx)
			if err == nil {
				if n > 0 {
					r.log.Info("adopted the copy intents a previous owner left; each is looked for in its destination before acting", "account", account, "intents", n)
				}
				break
			}
			r.log.Warn("cannot read the account's copy intents from etcd yet; its watchers wait", "account", account, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
		}
		err := eng.RunAccount(ctx, account, &engine.AccountOptions{
			Checkpoints: &cluster.Checkpoints{Fence: f, Seed: r.store, Journal: j}, Journal: j, Intents: j})
		if err != nil && ctx.Err() == nil {
			r.log.Error("every watcher of the account has stopped; it stays owned here (fix the config and reload)", "account", account, "err", err)
		}
	}()
}

// runEngine runs the owned accounts with eng (compiled from cfg) until
// ctx is done, then stops them (they stay owned: a reload restarts them
// with the next engine).
func (r *replica) runEngine(ctx context.Context, eng *engine.Engine, cfg *config.Config) {
	r.mu.Lock()
	r.eng, r.ctx, r.cfg = eng, ctx, cfg
	for a := range r.fences {
		r.start(a)
	}
	r.mu.Unlock()
	<-ctx.Done()
	r.mu.Lock()
	runs := r.running
	r.running = map[string]*accountRun{}
	r.eng = nil
	r.mu.Unlock()
	for _, run := range runs {
		run.cancel()
	}
	for _, run := range runs {
		<-run.done
	}
}

// owner returns account's fence when this replica owns it.
func (r *replica) fence(account string) *cluster.Fence {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fences[account]
}

// account is engine.JobOptions.Account: the journal of an owned account.
func (r *replica) account(account string) *engine.AccountOptions {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j := r.journals[account]; j != nil {
		return &engine.AccountOptions{Journal: j, Intents: j}
	}
	return nil
}

// gate is jobs.Env.Gate: a job acts only on accounts this replica owns,
// and a scheduled run only when it claims its tick in etcd, so that each
// tick runs once cluster-wide.
func (r *replica) gate(ctx context.Context, job, account string) (bool, error) {
	f := r.fence(account)
	if f == nil {
		return false, nil
	}
	due, scheduled := scheduler.Due(ctx)
	if !scheduled {
		return true, nil // jobs run: on what this replica owns
	}
	c, err := f.ClaimTick(ctx, job, due)
	if err != nil {
		return false, err
	}
	attrs := []any{"job", job, "account", account, "tick", due.UTC().Format(time.RFC3339)}
	if !c.OK {
		r.log.Info("scheduled run skipped: its tick was already claimed", attrs...)
		return false, nil
	}
	if !c.Prev.IsZero() {
		attrs = append(attrs, "previous_tick", c.Prev.UTC().Format(time.RFC3339))
	}
	if !c.Unfinished.IsZero() {
		attrs = append(attrs, "unfinished_tick", c.Unfinished.UTC().Format(time.RFC3339))
	}
	if c.Resumed {
		r.log.Info("scheduled run claimed again: the replica that claimed it lost the account before its run finished", attrs...)
	} else {
		r.log.Info("scheduled run claimed", attrs...)
	}
	return true, nil
}

// ran is jobs.Env.Ran: a scheduled run that finished on an owned account
// marks its tick done in etcd, so that the account's next owner does not
// run it again. A run that failed or was cut short leaves it claimed and
// not done: the account's next owner runs it again for the same tick, or
// the next tick's run covers it.
func (r *replica) ran(ctx context.Context, job, account string, err error) {
	due, scheduled := scheduler.Due(ctx)
	f := r.fence(account)
	if !scheduled || err != nil || f == nil {
		return
	}
	attrs := []any{"job", job, "account", account, "tick", due.UTC().Format(time.RFC3339)}
	if err := f.FinishTick(ctx, job, due); errors.Is(err, cluster.ErrTickMoved) {
		r.log.Info("scheduled run finished, but the account changed hands during it; its tick stays open and the account's next run covers it", attrs...)
		return
	} else if err != nil {
		r.log.Warn("cannot mark the scheduled run done in etcd; the account's next run covers this tick again", append(attrs, "err", err)...)
		return
	}
	r.log.Debug("scheduled run done", attrs...)
}

// status is the registry's cluster view.
func (r *replica) status() *observe.ClusterStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st := r.node.Status(ctx)
	out := &observe.ClusterStatus{Name: st.Name, Healthy: st.Healthy, Since: st.Since, Lease: st.Lease, TTL: st.TTL,
		Remaining: st.Remaining, Owners: st.Owners, Owned: st.Owned, LastError: st.LastError, LastErrorTime: st.LastErrorTime,
		Members: []observe.ClusterMember{}}
	for _, m := range st.Members {
		out.Members = append(out.Members, observe.ClusterMember{Name: m.Name, Version: m.Version, Since: m.Since})
	}
	if out.Owned == nil {
		out.Owned = []string{}
	}
	slices.SortFunc(out.Members, func(a, b observe.ClusterMember) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}
