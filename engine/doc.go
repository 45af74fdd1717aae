// Package engine wires mailwarden together: it compiles a loaded config
// into its runtime form (every rule set compiled at load), and runs one
// supervised watcher per account × watched mailbox, each feeding new mail
// through the per-message Pipeline (parse → evaluate → apply).
//
// Supervision: every watcher runs in its own goroutine, owned by Run. A
// panic is recovered, logged with its stack and the watcher restarted after
// a backoff; a permanent error (bad password, bad certificate) stops only
// that watcher and is reported, so one account's failures never touch the
// others. Run returns when its context is done (after at most StopTimeout
// for watchers to finish) or when every watcher has stopped for good.
//
// Undo reads the journal back and reverses moves and flag changes through
// the same Executor, after checking each message is still the one the
// journal names (see undo.go for its model and invariants).
package engine
