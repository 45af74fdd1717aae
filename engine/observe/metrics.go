package observe

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mailwarden/mailwarden/engine/watch"
)

// states are the watcher states, in the order the state metric lists them.
var states = []watch.State{watch.StateConnecting, watch.StateCatchingUp, watch.StateIdle,
	watch.StatePolling, watch.StatePollingOverBudget, watch.StateRetrying, watch.StateStopped}

// metrics are the Prometheus collectors of one Registry, on a registry of
// their own.
type metrics struct {
	reg *prometheus.Registry

	state          *prometheus.GaugeVec
	reconnects     *prometheus.CounterVec
	evaluated      *prometheus.CounterVec
	evalSeconds    prometheus.Histogram
	actions        *prometheus.CounterVec
	applySeconds   *prometheus.HistogramVec
	jobRuns        *prometheus.CounterVec
	jobSeconds     *prometheus.HistogramVec
	jobMessages    *prometheus.CounterVec
	jobBytes       *prometheus.CounterVec
	jobLastSuccess *prometheus.GaugeVec
	quotaUsed      *prometheus.GaugeVec
	quotaLimit     *prometheus.GaugeVec
}

func newMetrics(version string) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mailwarden_build_info",
		Help: "Always 1; the labels say which mailwarden runs."}, []string{"version", "goversion"})
	info.WithLabelValues(version, runtime.Version()).Set(1)
	f(info)

	m.state = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mailwarden_watcher_state",
		Help: "1, labelled with the state each watcher (account × mailbox) is in: connecting, catching_up, idle, polling, retrying, stopped."},
		[]string{"account", "mailbox", "state"})
	m.reconnects = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailwarden_watcher_reconnects_total",
		Help: "Connections of a watcher that failed, by cause (config, auth, tls, refused, timeout, closed, server, other)."},
		[]string{"account", "mailbox", "cause"})
	m.evaluated = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailwarden_messages_evaluated_total",
		Help: "Messages the pipeline looked at, by outcome: matched (a plan that changes something), no_match, skipped (placed by the daemon itself), error (kept)."},
		[]string{"account", "mailbox", "outcome"})
	m.evalSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mailwarden_evaluation_duration_seconds",
		Help:    "Time the rules took to decide one message.",
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 10)})
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailwarden_actions_total",
		Help: "Changes made to messages, by the rule that asked and the action (flag, unflag, copy, move, delete, expunge)."},
		[]string{"account", "rule", "action"})
	m.applySeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mailwarden_apply_duration_seconds",
		Help:    "Time to apply one batch of plans on the server (all its UID STORE/COPY/MOVE commands).",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"account"})
	m.jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailwarden_job_runs_total",
		Help: "Runs of scheduled jobs, by result (success, failure)."}, []string{"job", "kind", "result"})
	m.jobSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mailwarden_job_duration_seconds",
		Help:    "Duration of job runs.",
		Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"job"})
	m.jobMessages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailwarden_job_messages_total",
		Help: "Messages jobs acted on (moved, removed, changed, exported by a backup), failed to, or held back (not removed: not in the backup_first backup)."}, []string{"job", "result"})
	m.jobBytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mailwarden_job_bytes_total",
		Help: "Size of the messages jobs acted on: moved by archive, freed by expire and quota, written by backup."}, []string{"job", "kind"})
	m.jobLastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mailwarden_job_last_success_timestamp_seconds",
		Help: "When each job last finished without error (Unix time)."}, []string{"job"})
	m.quotaUsed = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mailwarden_quota_used_bytes",
		Help: "Storage used in the account's quota root, as the quota job last read it."}, []string{"account"})
	m.quotaLimit = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mailwarden_quota_limit_bytes",
		Help: "Storage limit of the account's quota root, as the quota job last read it."}, []string{"account"})
	for _, c := range []prometheus.Collector{m.state, m.reconnects, m.evaluated, m.evalSeconds, m.actions, m.applySeconds,
		m.jobRuns, m.jobSeconds, m.jobMessages, m.jobBytes, m.jobLastSuccess, m.quotaUsed, m.quotaLimit} {
		f(c)
	}
	return m
}

// watcherState sets the state series of one watcher: one series, labelled
// with the current state, at 1 (`mailwarden_watcher_state{state="idle"}`
// selects the idle ones; a state a watcher is not in has no series). Not
// the full enum pattern (a series per state at 0 or 1): with a thousand
// watched mailboxes that is 6,000 series and ~3 KiB per watcher for
// nothing a query needs.
func (m *metrics) watcherState(account, mailbox string, s watch.State) {
	for _, st := range states {
		if st != s {
			m.state.DeleteLabelValues(account, mailbox, string(st))
		}
	}
	m.state.WithLabelValues(account, mailbox, string(s)).Set(1)
}

func (m *metrics) forgetWatcher(account, mailbox string) {
	m.state.DeletePartialMatch(prometheus.Labels{"account": account, "mailbox": mailbox})
}
