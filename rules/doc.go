// Package rules is mailwarden's vocabulary for deciding what happens to a
// message. It holds no IMAP code and imports only the standard library.
//
// The model:
//
//   - A [Message] is a read-only view of one message: decoded headers,
//     addresses, size, flags, internal date, the mailbox and account it sits
//     in, and (only when a rule asked for it) the raw message for body tests.
//   - An [Evaluator] (a compiled rule set: ordered Sieve scripts and expr
//     rules) looks at a Message and returns a [Plan]: pure data saying which
//     flags change in place, which mailboxes get a copy, and whether the
//     original is removed. Evaluating never talks to a server.
//   - Package actions applies Plans. It is the only code that changes a
//     mailbox, for watchers and scheduled jobs alike.
//
// Invariants every Evaluator keeps:
//
//   - The zero Plan means "leave the message where it is, unchanged"
//     (RFC 5228 §2.10.2 implicit keep). A runtime error therefore never
//     loses mail: the caller falls back to the zero Plan.
//   - Plan.Remove is only ever true together with at least one Delivery, so
//     a message is never removed without having been copied somewhere first
//     (RFC 6785 §3.4: "fileinto" without "keep" moves the message).
//   - Deletion is a Delivery to the special-use mailbox `\Trash`
//     (RFC 6154); nothing in this package can ask for an expunge.
package rules
