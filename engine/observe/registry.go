package observe

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/watch"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// Options configure a Registry. Nil means defaults.
type Options struct {
	// Version is reported in mailwarden_build_info and Status. Default
	// "unknown".
	Version string
	// Now is the clock of the status times. Default time.Now.
	Now func() time.Time
}

// Registry is the daemon's live view: watcher states, counts, job runs.
// It is safe for concurrent use; a nil *Registry accepts every report and
// does nothing, so code that reports needs no checks.
type Registry struct {
	now     func() time.Time
	version string
	started time.Time
	m       *metrics

	mu       sync.Mutex
	cluster  func() *ClusterStatus
	watchers map[string]*WatcherStatus // account\x00mailbox → status
	jobs     map[string]*JobStatus
	counts   Counts
}

// Counts are the daemon's totals since it started.
type Counts struct {
	Evaluated int64 `json:"evaluated"` // messages the rules ran over
	Matched   int64 `json:"matched"`   // of those, with a plan that changes something
	Skipped   int64 `json:"skipped"`   // not evaluated: the daemon placed them there (no loops)
	Errors    int64 `json:"errors"`    // rule errors (message kept)
	Actions   int64 `json:"actions"`   // changes made (per message and operation)
	Failed    int64 `json:"failed"`    // messages whose plan did not fully apply
}

// New returns an empty Registry.
func New(opts *Options) *Registry {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Version == "" {
		o.Version = "unknown"
	}
	r := &Registry{now: o.Now, version: o.Version, watchers: map[string]*WatcherStatus{}, jobs: map[string]*JobStatus{}}
	r.started = r.now()
	r.m = newMetrics(o.Version)
	return r
}

// Prometheus returns the registry the metrics are on (for tests and for
// serving /metrics).
func (r *Registry) Prometheus() *prometheus.Registry { return r.m.reg }

// WatcherStatus is what one watcher is doing.
type WatcherStatus struct {
	Account string      `json:"account"`
	Mailbox string      `json:"mailbox"`
	State   watch.State `json:"state"`
	// Since is when the watcher entered State.
	Since time.Time `json:"since"`
	// LastEvent is the last state change or checkpoint.
	LastEvent time.Time `json:"last_event"`
	// LastError is the last failure (kept after recovery), with its time.
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
	// NextAttempt is when a retrying watcher reconnects.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	Reconnects  int       `json:"reconnects"`
	// Checkpoint is how far the mailbox is processed.
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
}

// JobStatus is the last run of one scheduled job.
type JobStatus struct {
	Name        string        `json:"name"`
	Kind        string        `json:"kind"`
	LastRun     time.Time     `json:"last_run,omitzero"`
	LastSuccess time.Time     `json:"last_success,omitzero"`
	Duration    time.Duration `json:"duration"`
	Acted       int           `json:"acted"`
	Failed      int           `json:"failed"`
	Error       string        `json:"error,omitempty"`
	Next        time.Time     `json:"next,omitzero"`
}

// Status is a snapshot of the daemon, as `mailwarden status` shows it.
type Status struct {
	Version  string          `json:"version"`
	Started  time.Time       `json:"started"`
	Now      time.Time       `json:"now"`
	DryRun   bool            `json:"dry_run"`
	Ready    bool            `json:"ready"`
	NotReady []string        `json:"not_ready,omitempty"`
	Watchers []WatcherStatus `json:"watchers"`
	Jobs     []JobStatus     `json:"jobs"`
	Counts   Counts          `json:"counts"`
	// Cluster is this replica's view of the cluster (nil without
	// `cluster:`).
	Cluster *ClusterStatus `json:"cluster,omitempty"`
}

// ClusterStatus is a replica's view of its cluster (engine/cluster).
type ClusterStatus struct {
	Name string `json:"name"`
	// Healthy: the replica holds a live etcd session (its lease is kept
	// alive); without one it runs no account.
	Healthy   bool            `json:"healthy"`
	Since     time.Time       `json:"since,omitzero"`
	Lease     string          `json:"lease,omitempty"`
	TTL       time.Duration   `json:"ttl"`
	Remaining time.Duration   `json:"remaining"`
	Members   []ClusterMember `json:"members"`
	// Owners maps each configured account to the replica that owns it
	// ("" for none at the moment).
	Owners        map[string]string `json:"owners"`
	Owned         []string          `json:"owned"`
	LastError     string            `json:"last_error,omitempty"`
	LastErrorTime time.Time         `json:"last_error_time,omitzero"`
}

// ClusterMember is one live replica.
type ClusterMember struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	Since   time.Time `json:"since"`
}

// SetCluster makes Status and Ready include the cluster as fn reports
// it (a cluster replica's daemon sets it once).
func (r *Registry) SetCluster(fn func() *ClusterStatus) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cluster = fn
}

func (r *Registry) clusterStatus() *ClusterStatus {
	r.mu.Lock()
	fn := r.cluster
	r.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn()
}

// ForgetAccount drops the watchers of account: a cluster replica no
// longer runs it.
func (r *Registry) ForgetAccount(account string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, ws := range r.watchers {
		if ws.Account == account {
			delete(r.watchers, k)
			r.m.forgetWatcher(ws.Account, ws.Mailbox)
		}
	}
}

func key(account, mailbox string) string { return account + "\x00" + mailbox }

// Watcher registers the watcher of account's mailbox (state connecting)
// and returns the watch.Reporter it reports through.
func (r *Registry) Watcher(account, mailbox string) watch.Reporter {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	ws := &WatcherStatus{Account: account, Mailbox: mailbox, State: watch.StateConnecting, Since: now, LastEvent: now}
	if old := r.watchers[key(account, mailbox)]; old != nil {
		// A reload keeps what is known of a watcher that stays.
		ws.LastError, ws.LastErrorTime, ws.Reconnects = old.LastError, old.LastErrorTime, old.Reconnects
		ws.UIDValidity, ws.LastUID = old.UIDValidity, old.LastUID
	}
	r.watchers[key(account, mailbox)] = ws
	r.m.watcherState(account, mailbox, watch.StateConnecting)
	return &reporter{r: r, account: account, mailbox: mailbox}
}

// Forget drops every watcher not in keep (account\x00mailbox keys, as
// the engine starts them), after a reload changed the config.
func (r *Registry) Forget(keep map[[2]string]bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, ws := range r.watchers {
		if !keep[[2]string{ws.Account, ws.Mailbox}] {
			delete(r.watchers, k)
			r.m.forgetWatcher(ws.Account, ws.Mailbox)
		}
	}
}

// reporter is one watcher's watch.Reporter.
type reporter struct {
	r                *Registry
	account, mailbox string
}

func (p *reporter) State(s watch.State, err error, next time.Time) {
	r := p.r
	r.mu.Lock()
	ws := r.watchers[key(p.account, p.mailbox)]
	if ws == nil {
		r.mu.Unlock()
		return
	}
	now := r.now()
	if ws.State != s {
		ws.State, ws.Since = s, now
	}
	ws.LastEvent = now
	ws.NextAttempt = next
	if err != nil {
		ws.LastError, ws.LastErrorTime = err.Error(), now
	}
	if s == watch.StateRetrying {
		ws.Reconnects++
	}
	r.mu.Unlock()
	r.m.watcherState(p.account, p.mailbox, s)
	if s == watch.StateRetrying || s == watch.StateStopped {
		r.m.reconnects.WithLabelValues(p.account, p.mailbox, imapconn.Cause(err)).Inc()
	}
}

func (p *reporter) Checkpoint(cp state.Checkpoint) {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if ws := r.watchers[key(p.account, p.mailbox)]; ws != nil {
		ws.UIDValidity, ws.LastUID, ws.LastEvent = cp.UIDValidity, cp.LastUID, r.now()
	}
}

// Outcomes of an evaluated message (Evaluated).
const (
	OutcomeMatched = "matched"  // the plan changes something
	OutcomeNoMatch = "no_match" // no rule changed anything: the message stays
	OutcomeSkipped = "skipped"  // not evaluated: placed there by the daemon
	OutcomeError   = "error"    // a rule failed: the message is kept
)

// Evaluated counts one message the pipeline looked at, with the outcome
// and how long the rules took.
func (r *Registry) Evaluated(account, mailbox, outcome string, took time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	switch outcome {
	case OutcomeMatched:
		r.counts.Evaluated++
		r.counts.Matched++
	case OutcomeNoMatch:
		r.counts.Evaluated++
	case OutcomeSkipped:
		r.counts.Skipped++
	case OutcomeError:
		r.counts.Evaluated++
		r.counts.Errors++
	}
	r.mu.Unlock()
	r.m.evaluated.WithLabelValues(account, mailbox, outcome).Inc()
	if outcome != OutcomeSkipped {
		r.m.evalSeconds.Observe(took.Seconds())
	}
}

// Applied counts the changes the executor made (actions.Options.OnApplied).
func (r *Registry) Applied(entries []actions.Entry) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.counts.Actions += int64(len(entries))
	r.mu.Unlock()
	for _, e := range entries {
		r.m.actions.WithLabelValues(e.Account, e.Rule, string(e.Op)).Inc()
	}
}

// Acted records one applied batch: how long it took and how many of its
// messages failed.
func (r *Registry) Acted(account, mailbox string, failed int, took time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.counts.Failed += int64(failed)
	r.mu.Unlock()
	r.m.applySeconds.WithLabelValues(account).Observe(took.Seconds())
}

// JobRun records one run of a job.
func (r *Registry) JobRun(sum *jobs.Summary, err error) {
	if r == nil || sum == nil {
		return
	}
	now := r.now()
	result := "success"
	if err != nil {
		result = "failure"
	}
	r.mu.Lock()
	js := r.jobs[sum.Job]
	if js == nil {
		js = &JobStatus{Name: sum.Job}
		r.jobs[sum.Job] = js
	}
	js.Kind, js.LastRun, js.Duration, js.Acted, js.Failed, js.Error = sum.Kind, now, sum.Duration, sum.Acted, sum.Failed, ""
	if err != nil {
		js.Error = err.Error()
	} else {
		js.LastSuccess = now
	}
	r.mu.Unlock()
	r.m.jobRuns.WithLabelValues(sum.Job, sum.Kind, result).Inc()
	r.m.jobSeconds.WithLabelValues(sum.Job).Observe(sum.Duration.Seconds())
	r.m.jobMessages.WithLabelValues(sum.Job, "acted").Add(float64(sum.Acted))
	r.m.jobMessages.WithLabelValues(sum.Job, "failed").Add(float64(sum.Failed))
	if sum.HeldBack > 0 {
		r.m.jobMessages.WithLabelValues(sum.Job, "held_back").Add(float64(sum.HeldBack))
	}
	r.m.jobBytes.WithLabelValues(sum.Job, sum.Kind).Add(float64(sum.Bytes))
	if err == nil {
		r.m.jobLastSuccess.WithLabelValues(sum.Job).Set(float64(now.Unix()))
	}
}

// Schedule records the jobs and their next run times (from the
// scheduler), so Status lists jobs that have not run yet.
func (r *Registry) Schedule(next map[string]time.Time, kinds map[string]string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for name := range r.jobs {
		if _, ok := next[name]; !ok {
			delete(r.jobs, name)
		}
	}
	for name, t := range next {
		js := r.jobs[name]
		if js == nil {
			js = &JobStatus{Name: name}
			r.jobs[name] = js
		}
		js.Next, js.Kind = t, kinds[name]
	}
}

// Quota records the storage usage an account's quota root reported.
func (r *Registry) Quota(account string, used, limit int64) {
	if r == nil {
		return
	}
	r.m.quotaUsed.WithLabelValues(account).Set(float64(used))
	r.m.quotaLimit.WithLabelValues(account).Set(float64(limit))
}

// Ready reports whether every watcher is connected and waiting for mail
// (idle or polling) and, when not, why not: one reason per watcher. With
// no watcher (only scheduled jobs) the daemon is ready. A cluster replica
// without a live etcd session is not.
func (r *Registry) Ready() (bool, []string) {
	if r == nil {
		return false, []string{"no registry"}
	}
	return r.ready(r.clusterStatus())
}

func (r *Registry) ready(cl *ClusterStatus) (bool, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var why []string
	if cl != nil && !cl.Healthy {
		reason := "cluster: no etcd session, so no account runs here"
		if cl.LastError != "" {
			reason += ": " + cl.LastError
		}
		why = append(why, reason)
	}
	for _, ws := range r.watchers {
		switch ws.State {
		case watch.StateIdle, watch.StatePolling, watch.StatePollingOverBudget:
			continue
		}
		reason := fmt.Sprintf("%s/%s: %s since %s", ws.Account, ws.Mailbox, ws.State, ws.Since.Format(time.RFC3339))
		if (ws.State == watch.StateRetrying || ws.State == watch.StateStopped) && ws.LastError != "" {
			reason += ": " + ws.LastError
		}
		why = append(why, reason)
	}
	slices.Sort(why)
	return len(why) == 0, why
}

// Status returns a snapshot, watchers and jobs sorted by name.
func (r *Registry) Status() Status {
	cl := r.clusterStatus()
	ready, why := r.ready(cl)
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Status{Version: r.version, Started: r.started, Now: r.now(), Ready: ready, NotReady: why, Counts: r.counts,
		Watchers: []WatcherStatus{}, Jobs: []JobStatus{}, Cluster: cl}
	for _, ws := range r.watchers {
		st.Watchers = append(st.Watchers, *ws)
	}
	slices.SortFunc(st.Watchers, func(a, b WatcherStatus) int {
		return strings.Compare(key(a.Account, a.Mailbox), key(b.Account, b.Mailbox))
	})
	for _, js := range r.jobs {
		st.Jobs = append(st.Jobs, *js)
	}
	slices.SortFunc(st.Jobs, func(a, b JobStatus) int { return strings.Compare(a.Name, b.Name) })
	return st
}

// Heartbeat logs one summary line every interval until ctx is done: how
// many watchers wait for mail, and what the daemon did since the last
// line. A quiet daemon thus still says, at info level, that it is alive.
func (r *Registry) Heartbeat(ctx context.Context, every time.Duration, log *slog.Logger) {
	if r == nil || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var last Counts
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := r.Status()
		waiting := 0
		for _, w := range st.Watchers {
			if w.State == watch.StateIdle || w.State == watch.StatePolling || w.State == watch.StatePollingOverBudget {
				waiting++
			}
		}
		c := st.Counts
		attrs := []any{"watchers", len(st.Watchers), "waiting_for_mail", waiting,
			"evaluated", c.Evaluated - last.Evaluated, "matched", c.Matched - last.Matched,
			"actions", c.Actions - last.Actions, "errors", c.Errors - last.Errors, "failed", c.Failed - last.Failed,
			"since", every}
		if len(st.NotReady) > 0 {
			attrs = append(attrs, "not_ready", strings.Join(st.NotReady, "; "))
		}
		log.Info("heartbeat", attrs...)
		last = c
	}
}
