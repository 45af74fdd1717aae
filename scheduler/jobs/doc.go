// Package jobs holds mailwarden's scheduled jobs: archive, expire, quota,
// sweep and backup. Each one selects messages, builds what should happen to them, and
// has package actions do it, so dry run, the journal, the log format and the
// safety rules are those of the watchers.
//
// The model:
//
//   - A Job is one configured schedule (its Spec: name, accounts, per-run
//     cap). Run runs it once over its accounts, one connection (Conn) per
//     account, and logs one summary line: scanned, matched, acted, bytes,
//     capped, duration.
//   - Jobs talk to the server only through the small Conn and Mailbox
//     interfaces defined here (search by date and flags, fetch given UIDs,
//     quota root, plus actions.Mailbox); package engine adapts
//     engine/imapconn to them and hands fetched messages over already
//     parsed (rules.Message), so this package imports only rules and
//     actions: no IMAP library, no parser.
//   - archive and sweep build rules.Plans and apply them with
//     actions.Executor.Apply (UID MOVE, batched by destination); expire and
//     quota remove mail for good with actions.Executor.Expunge (UID STORE
//     \Deleted + UID EXPUNGE of exactly those UIDs, RFC 4315 §2.1, refused
//     without UIDPLUS). sweep runs its rule set through Env.Processor, the
//     watchers' per-message pipeline (engine.Pipeline).
//   - backup changes nothing on the server: it EXAMINEs each mailbox it
//     selects, fetches whole the messages above its checkpoint, and writes
//     them through Env.Backups (engine/maildir in package engine), whose
//     folders know which messages they hold. expire and quota with
//     BackupFirst save each batch into that backup before removing it,
//     and remove only what the backup holds (Summary.HeldBack counts the
//     rest).
//
// Invariants:
//
//   - Age selection happens on the server: UID SEARCH BEFORE (internal date)
//     or SENTBEFORE (Date: header), RFC 9051 §6.4.4, which compare whole days
//     in the server's time zone, so the search asks for two days more and
//     the exact cut-off is applied to the fetched INTERNALDATE or Date. Only
//     the UIDs found are fetched, headers only, in batches (Env.BatchSize),
//     so a 100k-message mailbox is never fetched whole.
//   - No run acts on more messages than its cap (Spec.Max, across all its
//     accounts); reaching it is logged and reported (Summary.Capped), and
//     the next run goes on from there.
//   - Every batch is applied before the next is fetched, and every action is
//     UID-based and idempotent: a run killed half-way loses nothing, and the
//     next run selects what is left and finishes the work.
//   - Messages flagged \Deleted (by another client) are never archived or
//     swept; expire and quota only ever expunge the UIDs they selected, so
//     other messages flagged \Deleted stay.
//   - A backup's checkpoint advances only after the batch it covers is on
//     disk and fsync'd; a rerun skips the files a killed run wrote past it,
//     so nothing is lost and nothing is written twice. No message is
//     removed under backup_first unless its file is in the backup.
//   - Time comes from Env.Now, so tests need not wait.
package jobs
