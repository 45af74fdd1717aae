// Package soak is mailwarden's fault soak (issue 10): the real binary,
// a private Dovecot, a fault-injecting proxy between them, SIGKILLs at
// random moments, and at the end a count of every message on the server
// by Message-ID.
//
// # Model
//
// Run builds cmd/mailwarden once, starts a private Dovecot
// (internal/dovecottest) and two internal/faultproxy proxies in random
// mode in front of it: one for the daemon, one for `apply` and `jobs run`.
// Both configs use one account and one state_dir; the rule set "sort"
// flags every message with the keyword "soaked", copies it to Copies and
// moves it to one of DoneA..DoneD by subject or sender, so every batch
// sends UID STORE, UID COPY and UID MOVE.
//
//   - Phase A (watching): `mailwarden run` watches INBOX while a
//     deliverer appends messages (unique Message-IDs, directly to
//     Dovecot, alone or in bursts) at random moments, and a killer
//     SIGKILLs the daemon at random moments and starts it again. Then the
//     daemon drains: INBOX empty and the watcher idle, and SIGTERM.
//   - Phase B (apply and jobs, daemon stopped): rounds seed Backlog (then
//     `mailwarden apply` runs), Backlog2 (then `jobs run backlog-sweep`,
//     a sweep job with the same rules) or Scratch with filler mail 30 days
//     old (then `jobs run scratch-expire`: UID STORE \Deleted + UID
//     EXPUNGE); each command is rerun until it exits 0 and its mailbox is
//     empty, and some runs are SIGKILLed at a random moment within about
//     the length of a typical run.
//   - The census lists every mailbox over a direct connection and checks
//     each counted message: exactly once in its Done mailbox, exactly once
//     in Copies, both with the keyword, nowhere else; every filler gone;
//     nothing the soak did not deliver. Panics and race reports in any
//     process log fail the soak too, as does a daemon that exits without
//     being killed.
//
// Every child's output goes to logs/NAME.log in the soak's directory,
// every delivery, start, kill and fault to timeline.log; the directory is
// kept when the test fails (or MAILWARDEN_SOAK_KEEP is set). For each
// anomaly the report says where the message is, every log line about it
// (its Message-ID, or an executor command on its UID), what became of the
// first command that should have placed it (answered, failed, or SIGKILLed
// before an outcome was logged), and the faults and kills around it.
//
// # Limits
//
// The seed fixes the harness's choices (arrival pauses, bursts, kill
// delays, rounds) and the proxies' per-connection fault draws, not the
// timing of the processes: the same seed does not replay a run exactly.
// Stalls are finite (Params.StallFor): the daemon's response watchdog
// (engine/imapconn ResponseTimeout) is 90 s and has no config key, so a
// stall that only the watchdog ends would hold the soak up for 90 s
// each. The daemon's reconnect backoff (1 s doubling to 1 min, reset
// after a minute up) is not configurable either; SIGKILLs reset it.
package soak
