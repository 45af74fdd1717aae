package cluster

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/mailwarden/mailwarden/engine/watch"
)

// Options configure a Node. Fields without a default are required.
type Options struct {
	// Name is this replica's name, unique among the replicas.
	Name string
	// Endpoints are the etcd members' client URLs.
	Endpoints []string
	// TTL is the lease's time to live (whole seconds). Default 10s.
	TTL time.Duration
	// Prefix is the key prefix, ending in "/". Default "/mailwarden/".
	Prefix string
	// DialTimeout bounds each connection attempt and each etcd request
	// the node makes itself. Default 5s.
	DialTimeout time.Duration
	// TLS, when set, is used to reach etcd.
	TLS *tls.Config
	// Version is shown in the member key (status). Default "unknown".
	Version string
	// Logger receives the node's lines; nil discards.
	Logger *slog.Logger
}

// Owner is told which accounts this replica owns; the daemon starts and
// stops their watchers and jobs. Calls come from the node's goroutine,
// one at a time.
type Owner interface {
	// Acquire: this replica now owns account; every write for it goes
	// through f. It must return promptly (start the work, don't do it).
	Acquire(account string, f *Fence)
	// Release: stop every watcher and job of account and return once they
	// have stopped (bounded by the owner's own stop timeout).
	Release(account string)
}

// Member is what a replica publishes about itself under P/members/.
type Member struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	Since   time.Time `json:"since"`
}

// Node is this replica's membership in the cluster.
type Node struct {
	o      Options
	k      keys
	client *clientv3.Client
	log    *slog.Logger
	kick   chan struct{}

	mu       sync.Mutex
	accounts []string
	owned    map[string]*Fence
	session  *concurrency.Session
	since    time.Time // session start
	members  []Member
	owners   map[string]string // account → holder, as last seen
	lastErr  string
	lastErrT time.Time
}

// ErrFenced is returned by a write whose owner key changed: this replica
// no longer owns the account.
var ErrFenced = errors.New("no longer the owner of this account (lease expired or account released)")

// Open connects to etcd (lazily: an unreachable etcd is not an error
// here; Run retries) and returns the node for accounts.
func Open(opts *Options, accounts []string) (*Node, error) {
	o := *opts
	if o.Name == "" || len(o.Endpoints) == 0 {
		return nil, errors.New("cluster: Name and Endpoints are required")
	}
	if o.TTL <= 0 {
		o.TTL = 10 * time.Second
	}
	if o.Prefix == "" {
		o.Prefix = "/mailwarden/"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.Version == "" {
		o.Version = "unknown"
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:            o.Endpoints,
		DialTimeout:          o.DialTimeout,
		DialKeepAliveTime:    o.TTL / 2,
		DialKeepAliveTimeout: o.DialTimeout,
		TLS:                  o.TLS,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: etcd client: %w", err)
	}
	n := &Node{o: o, k: keys{prefix: o.Prefix}, client: c, log: log.With("replica", o.Name),
		kick: make(chan struct{}, 1), owned: map[string]*Fence{}, owners: map[string]string{}}
	n.accounts = sortedUnique(accounts)
	return n, nil
}

// Close closes the etcd client. Call it after Run returned.
func (n *Node) Close() error { return n.client.Close() }

// Name is this replica's name.
func (n *Node) Name() string { return n.o.Name }

// SetAccounts replaces the accounts to share (a reload); the node
// releases those that are gone and claims the new ones it ranks first for.
func (n *Node) SetAccounts(accounts []string) {
	n.mu.Lock()
	n.accounts = sortedUnique(accounts)
	n.mu.Unlock()
	n.poke()
}

func (n *Node) poke() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// Run keeps this replica in the cluster until ctx is done: it holds a
// session, publishes the member key, claims and releases accounts as the
// members change, and tells owner. When the session is lost it releases
// every account at once (their work stops; etcd has already or will soon
// let them go) and starts a new session. When ctx is done it drains and
// releases every account, then revokes its lease, so the others take
// over at once rather than after the TTL.
func (n *Node) Run(ctx context.Context, owner Owner) error {
	// A session that lasted two TTLs starts the delays again from Min.
	b := watch.Backoff{Min: 200 * time.Millisecond, Max: n.o.TTL, HealthyAfter: 2 * n.o.TTL}
	var stale clientv3.LeaseID
	for {
		start := time.Now()
		lease, err := n.runSession(ctx, owner, stale)
		n.dropAll(owner)
		if ctx.Err() != nil {
			return nil
		}
		stale = lease
		b.Healthy(time.Since(start))
		delay := b.Next()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w; %s", err, n.diagnose(ctx))
		}
		n.failed(err)
		n.log.Warn("cluster session ended; this replica's accounts are stopped until it has a new one", "err", err, "retry_in", delay.Round(time.Millisecond))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (n *Node) failed(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		n.lastErr, n.lastErrT = err.Error(), time.Now()
	}
}

// errSessionLost: the lease was not renewed in time (etcd unreachable or
// without quorum, or this process was paused).
var errSessionLost = errors.New("etcd session lost: the lease was not renewed in time")

// runSession is one lease's life. It returns the lease (so the next session
// can revoke it) and why it ended.
func (n *Node) runSession(ctx context.Context, owner Owner, stale clientv3.LeaseID) (clientv3.LeaseID, error) {
	if stale != 0 {
		// The previous lease: every account under it was stopped. Revoke
		// it so its owner keys go now, not when etcd lets the lease expire
		// (a new leader renews every lease after an election).
		rctx, cancel := context.WithTimeout(ctx, n.o.DialTimeout)
		if _, err := n.client.Revoke(rctx, stale); err == nil {
			n.log.Info("revoked the previous lease", "lease", fmt.Sprintf("%x", int64(stale)))
		}
		cancel()
	}
	gctx, cancel := context.WithTimeout(ctx, n.o.DialTimeout)
	grant, err := n.client.Grant(gctx, int64(n.o.TTL/time.Second))
	cancel()
	if err != nil {
		return 0, fmt.Errorf("grant a lease: %w", err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	s, err := concurrency.NewSession(n.client, concurrency.WithLease(grant.ID), concurrency.WithTTL(int(n.o.TTL/time.Second)),
		concurrency.WithContext(sctx))
	if err != nil {
		return grant.ID, fmt.Errorf("keep the lease alive: %w", err)
	}
	since := time.Now()
	me, _ := json.Marshal(Member{Name: n.o.Name, Version: n.o.Version, Since: since})
	pctx, cancel := context.WithTimeout(ctx, n.o.DialTimeout)
	_, err = n.client.Put(pctx, n.k.member(n.o.Name), string(me), clientv3.WithLease(s.Lease()))
	cancel()
	if err != nil {
		return s.Lease(), fmt.Errorf("publish the member key: %w", err)
	}
	n.mu.Lock()
	n.session, n.since = s, since
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.session = nil
		n.mu.Unlock()
	}()
	n.log.Info("joined the cluster", "lease", fmt.Sprintf("%x", int64(s.Lease())), "ttl", n.o.TTL)

	// Watches end when the session's context does; WithRequireLeader
	// ends them too when the member we talk to loses its leader.
	wctx := clientv3.WithRequireLeader(sctx)
	wm := n.client.Watch(wctx, n.k.members(), clientv3.WithPrefix())
	wo := n.client.Watch(wctx, n.k.owners(), clientv3.WithPrefix())
	tick := time.NewTicker(n.o.TTL / 2)
	defer tick.Stop()
	for {
		if err := n.reconcile(ctx, s, owner); err != nil && ctx.Err() == nil {
			n.log.Debug("reconcile cut short; retrying", "err", err)
			n.failed(err)
		}
		select {
		case <-ctx.Done():
			n.leave(owner, s)
			return s.Lease(), nil
		case <-s.Done():
			return s.Lease(), errSessionLost
		case r, ok := <-wm:
			if !ok || r.Err() != nil {
				wm = nil // watched again on the next tick
			}
		case r, ok := <-wo:
			if !ok || r.Err() != nil {
				wo = nil
			}
		case <-tick.C:
			// A broken watch (no leader, say) is set up again here, not
			// in a tight loop; the tick also reconciles, in case an
			// event was missed.
			if wm == nil {
				wm = n.client.Watch(wctx, n.k.members(), clientv3.WithPrefix())
			}
			if wo == nil {
				wo = n.client.Watch(wctx, n.k.owners(), clientv3.WithPrefix())
			}
		case <-n.kick:
		}
	}
}

// holder is an owner key as read.
type holder struct {
	name  string
	rev   int64
	lease clientv3.LeaseID
}

// reconcile reads the members and owners and moves this replica toward
// owning exactly the accounts it ranks first for.
func (n *Node) reconcile(ctx context.Context, s *concurrency.Session, owner Owner) error {
	rctx, cancel := context.WithTimeout(ctx, n.o.DialTimeout)
	defer cancel()
	mresp, err := n.client.Get(rctx, n.k.members(), clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("read members: %w", err)
	}
	oresp, err := n.client.Get(rctx, n.k.owners(), clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("read owners: %w", err)
	}
	var members []Member
	var names []string
	for _, kv := range mresp.Kvs {
		var m Member
		if json.Unmarshal(kv.Value, &m) != nil || m.Name == "" {
			m.Name = name(string(kv.Key), n.k.members())
		}
		members = append(members, m)
		names = append(names, m.Name)
	}
	holders := map[string]holder{}
	seen := map[string]string{}
	for _, kv := range oresp.Kvs {
		a := name(string(kv.Key), n.k.owners())
		holders[a] = holder{name: string(kv.Value), rev: kv.ModRevision, lease: clientv3.LeaseID(kv.Lease)}
		seen[a] = string(kv.Value)
	}
	n.mu.Lock()
	n.members, n.owners = members, seen
	accounts := slices.Clone(n.accounts)
	owned := map[string]*Fence{}
	for a, f := range n.owned {
		owned[a] = f
	}
	n.mu.Unlock()

	// Lost: the key is gone or is another claim's (only our lease's end,
	// which Run notices too, can do that). Stop at once.
	for a, f := range owned {
		if h, ok := holders[a]; !ok || h.rev != f.rev {
			n.log.Warn("account lost: its owner key is gone; stopping its work", "account", a)
			n.drop(owner, a)
			delete(owned, a)
		}
	}
	// Drain and release what should be elsewhere (or is no longer
	// configured), all at once.
	var release []string
	for a := range owned {
		if !slices.Contains(accounts, a) || Preferred(a, names) != n.o.Name {
			release = append(release, a)
		}
	}
	if len(release) > 0 {
		n.release(ctx, owner, release)
	}
	// Claim what is ours and free.
	for _, a := range accounts {
		if _, mine := owned[a]; mine || Preferred(a, names) != n.o.Name {
			continue
		}
		if _, held := holders[a]; held {
			continue // its holder drains it, or its lease runs out
		}
		if err := n.claim(ctx, s, owner, a); err != nil {
			return err
		}
	}
	return nil
}

// claim creates the owner key of account bound to the session's lease
// and, when that succeeded, tells owner.
func (n *Node) claim(ctx context.Context, s *concurrency.Session, owner Owner, account string) error {
	key := n.k.owner(account)
	cctx, cancel := context.WithTimeout(ctx, n.o.DialTimeout)
	defer cancel()
	resp, err := n.client.Txn(cctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, n.o.Name, clientv3.WithLease(s.Lease()))).
		Commit()
	if err != nil {
		return fmt.Errorf("claim %q: %w", account, err)
	}
	if !resp.Succeeded {
		return nil // someone was faster; the next round sees who
	}
	f := &Fence{n: n, account: account, key: key, rev: resp.Header.Revision, since: time.Now()}
	n.mu.Lock()
	n.owned[account] = f
	n.owners[account] = n.o.Name
	n.mu.Unlock()
	n.log.Info("account claimed", "account", account, "claim_revision", f.rev)
	owner.Acquire(account, f)
	return nil
}

// release drains accounts (their work stops, in parallel) and then
// deletes their owner keys, each only if it is still our claim.
func (n *Node) release(ctx context.Context, owner Owner, accounts []string) {
	var wg sync.WaitGroup
	for _, a := range accounts {
		wg.Add(1)
		go func() { defer wg.Done(); owner.Release(a) }()
	}
	wg.Wait()
	for _, a := range accounts {
		n.mu.Lock()
		f := n.owned[a]
		delete(n.owned, a)
		n.mu.Unlock()
		if f == nil {
			continue
		}
		f.invalidate()
		dctx, cancel := context.WithTimeout(ctx, n.o.DialTimeout)
		_, err := n.client.Txn(dctx).
			If(clientv3.Compare(clientv3.ModRevision(f.key), "=", f.rev)).
			Then(clientv3.OpDelete(f.key)).Commit()
		cancel()
		if err != nil {
			n.log.Warn("account drained, but its owner key could not be deleted; it goes with the lease", "account", a, "err", err)
			continue
		}
		n.log.Info("account released to its new owner", "account", a)
	}
}

// drop stops account's work without touching etcd.
func (n *Node) drop(owner Owner, account string) {
	n.mu.Lock()
	f := n.owned[account]
	delete(n.owned, account)
	n.mu.Unlock()
	if f != nil {
		f.invalidate()
		owner.Release(account)
	}
}

// dropAll stops the work of every account: the session is gone.
func (n *Node) dropAll(owner Owner) {
	n.mu.Lock()
	var all []string
	for a, f := range n.owned {
		f.invalidate()
		all = append(all, a)
	}
	n.mu.Unlock()
	var wg sync.WaitGroup
	for _, a := range all {
		wg.Add(1)
		go func() { defer wg.Done(); n.drop(owner, a) }()
	}
	wg.Wait()
}

// leave drains and releases every account and revokes the lease
// (shutdown): the other replicas take over at once.
func (n *Node) leave(owner Owner, s *concurrency.Session) {
	n.mu.Lock()
	var all []string
	for a := range n.owned {
		all = append(all, a)
	}
	n.mu.Unlock()
	n.release(context.Background(), owner, all)
	if err := s.Close(); err != nil {
		n.log.Warn("could not revoke the lease on leaving; the others take over when it expires", "err", err)
		return
	}
	n.log.Info("left the cluster")
}
