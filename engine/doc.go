// Package engine wires mailwarden together.
//
// The model, top to bottom:
//
//   - Compile turns a loaded config into its runtime form, a Runtime:
//     every rule set compiled (Sieve and expr), every schedule turned into
//     its job with its `when` filter compiled. It is built once and never
//     changed; a reload compiles a new one and keeps the running one when
//     that fails. Every error of every part is returned at once, located.
//   - NewDialer is the one way to connect: account name → authenticated
//     imapconn.Client. The command builds it once and hands it down to the
//     watchers (Options.Dial), the jobs (JobOptions.Dial) and undo. It
//     counts every connection against its server's budget (Budgets,
//     max_connections): never more open at once than allowed; it keeps one
//     refreshing OAuth2 token source per account with a built-in provider
//     (engine/oauth).
//   - Watchers beyond a server's budget (all but max_connections-1 of them,
//     in config order, when they do not all fit) poll: connect, catch up,
//     log out, every poll_interval (watch.Options.Detached).
//   - Engine runs one supervised watcher (engine/watch) per account ×
//     watched mailbox, each feeding new mail through a Pipeline.
//   - Pipeline is the only place fetched mail meets rules, for watchers
//     and jobs alike: fetched bytes are parsed leniently (engine/message)
//     into rules.Messages, each carrying its per-message inputs (where it
//     is, and a rules.Mailboxes bound to the connection, for Sieve's
//     mailboxexists), evaluated with panics recovered, and the batch's
//     plans applied with one actions.Executor.Apply, with loop protection
//     from the state's placements.
//   - JobEnv and NewScheduler give scheduler/jobs what it needs: connections
//     adapted to jobs.Conn (messages handed over already parsed), per
//     account executors, the Pipeline for sweeps, and for backups the
//     Maildir folders of engine/maildir with their checkpoints in the
//     state file (backup.go; a dry run writes nothing).
//
// Supervision: every watcher runs in its own goroutine, owned by Run. A
// panic is recovered, logged with its stack and the watcher restarted after
// a backoff; a permanent error (bad password, bad certificate) stops only
// that watcher and is reported, so one account's failures never touch the
// others. Run returns when its context is done (after at most StopTimeout
// for watchers to finish) or when every watcher has stopped for good.
//
// Undo lives in engine/undo; UndoAccounts gives it the config's accounts.
package engine
