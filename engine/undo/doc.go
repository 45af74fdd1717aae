// Package undo reverses what the daemon did, from its journal.
//
// # Model
//
// The journal (engine/state) holds one entry per change the Executor made
// to one message: flag/unflag in place, copy, move (with the destination
// UID when the server sent COPYUID, RFC 4315 §3), delete (\Deleted after a
// copy, no UIDPLUS) and expunge. Undo works in two halves:
//
//   - The replay (replay.go) is pure: it reads the entries of a time
//     window, oldest first, and follows each message through them (a move's
//     destination is where the next entry finds it). Per message it yields
//     a history: where the message was before the first selected change
//     (origin), where the entries lead (cur, with its UID when known), and
//     the flag changes to reverse. It needs no server and is tested on
//     journal slices.
//   - The reversal (reverse.go) connects to each account, verifies that
//     each message is still the one the journal names, and builds per
//     message one rules.Plan in the mailbox the message is in now: the
//     reverse of its flag changes and a move back to its origin. Plans are
//     grouped per account and mailbox and applied with one
//     actions.Executor.Apply per mailbox, so batching, dry run, logs and the
//     journal are those of every other change.
//
// # Invariants
//
//   - Nothing is touched on trust. Before a message is changed, its header
//     is fetched at the UID the journal leads to and its Message-ID must be
//     the entry's (a UID may be stale: the mailbox was recreated, or the
//     user moved the message); where the journal has no UID (no COPYUID) the
//     message is found by UID SEARCH HEADER Message-ID (RFC 9051 §6.4.4) and
//     must be the only match. Anything else is skipped with its reason and
//     left alone.
//   - No mail is removed: copies are kept and reported (deleting them is the
//     user's call); expunged mail cannot be brought back and is reported.
//   - Exactly once: entries that were reversed are marked in the state
//     (state.Store.MarkUndone, after the server confirmed), so a second undo
//     skips them. Undo's own changes are journaled under Rule and are never
//     reversed themselves; they, and entries already undone, only serve to
//     follow a message to where it is now.
//   - A message moved back into a watched mailbox is recorded as placed
//     there by that mailbox's rule set (state placements), so the watcher
//     does not run the rules over it again and undo the undo.
//   - Dry run (EXAMINE, nothing sent that changes mail, nothing written to
//     the state) reports exactly what a real run would do.
//
// Limits: a Sieve `fileinto :flags` replaces the flags of the message before
// the copy without a journal entry per flag, so those flags cannot be put
// back; a change made by a rule that the filter does not select, and that
// moved the message on, stops the undo of that message (it is skipped with
// the reason).
package undo
