// Package observe is how a running mailwarden is seen and asked: its
// metrics, its health and readiness, its status, and the control
// interface through which commands reach the running daemon.
//
// # Model
//
// A Registry is the daemon's live view. The parts that do the work report
// to it and never wait on it:
//
//   - each watcher reports its state (connecting, catching up, idle,
//     polling, retrying, stopped) and its checkpoint through the
//     watch.Reporter that Registry.Watcher returns;
//   - the pipeline reports every evaluated message and every applied
//     batch; the executor reports every change it made (by rule and type);
//   - the jobs report every run (and the quota job the usage it read).
//
// From that one view come the Prometheus metrics (client_golang, on a
// registry of its own: no process-global state), Status (what `mailwarden
// status` prints), readiness (/readyz: every watcher connected and
// waiting for mail, or why not), and the periodic heartbeat log line.
//
// The control interface (Handler) serves, over HTTP on the daemon's unix
// socket in state_dir (always) and on the optional `http:` listener:
// /metrics, /healthz, /readyz, /status, and POST /jobs/run, /apply and
// /undo, which a Controller (the running daemon) carries out with its own
// state file and connections. Client is the commands' side: `status`,
// `jobs run`, `apply` and `undo` talk to a running daemon instead of being
// refused because it holds the state file.
//
// # Invariants
//
//   - Reporting never blocks the reporter: a mutex held only to copy a few
//     fields, and metric updates.
//   - Metric names and labels follow Prometheus conventions: a
//     mailwarden_ prefix, base units (seconds, bytes), _total counters,
//     bounded label values (accounts, mailboxes, rules and jobs from the
//     config; states and causes from fixed sets).
//   - Nothing here changes mail: the Controller does, through the same
//     code paths (and dry run) as the commands.
package observe
