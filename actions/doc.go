// Package actions applies rules.Plans to a mailbox. It is the only code in
// mailwarden that changes mail, for the IDLE watchers, for backfill and for
// the scheduled jobs alike, so there is one code path, one dry run, one
// journal and one log format for every change the daemon makes.
//
// The Executor takes a batch of (message, plan) pairs from one selected
// mailbox and turns them into as few IMAP commands as possible:
//
//  1. in-place flag changes: one UID STORE per distinct flag set
//     (RFC 9051 §6.4.6), adds before removes;
//  2. copies (deliveries that keep the original, and all but the last
//     delivery of a message that is moved to several mailboxes): one
//     UID COPY per destination (RFC 9051 §6.4.7);
//  3. moves: one UID MOVE per destination (RFC 6851) when the server has
//     MOVE; otherwise UID COPY, UID STORE +FLAGS (\Deleted) and UID EXPUNGE
//     of exactly those UIDs (RFC 4315 §2.1). Without UIDPLUS the originals
//     are copied and flagged \Deleted but not expunged, and a warning says
//     so: a plain EXPUNGE would also remove other clients' \Deleted mail, so
//     this package has no way to send one.
//
// Permanent removal (the scheduled jobs expire and quota) is a separate,
// explicit and capped operation, Executor.Expunge: UID STORE +FLAGS
// (\Deleted) and UID EXPUNGE of exactly the given UIDs (RFC 4315 §2.1),
// refused outright without UIDPLUS. No Plan can ask for it.
//
// Invariants:
//
//   - A message is removed from its mailbox only after every one of its
//     deliveries succeeded. A failed COPY leaves the original in place.
//   - A destination that does not exist is created (after NO [TRYCREATE])
//     only when the Delivery allows it.
//   - Special-use destinations (`\Trash`) are resolved on the server
//     (RFC 6154); a server without special-use falls back to the
//     conventional name ("Trash").
//   - With a Journal, every completed command is recorded per message before
//     the next one runs, and operations the journal already holds are
//     skipped: a crash between applying a plan and advancing the watcher's
//     checkpoint never applies a copy twice.
//   - Dry run logs every planned command and changes nothing.
package actions
