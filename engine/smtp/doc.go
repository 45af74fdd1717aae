// Package smtp submits the mail Sieve's redirect and vacation ask for
// (rules.Send) through the config's smtp: account: message submission
// (RFC 6409) with implicit TLS (RFC 8314, port 465), STARTTLS (RFC 3207,
// port 587) or, when the config says insecure_plaintext, none. It
// implements actions.Sender; package actions decides when to send and
// makes every send at most once (actions.SendLog).
//
// What goes out:
//
//   - redirect (RFC 5228 §4.2, RFC 6785 §3.4): the message as fetched,
//     whole and unchanged but for one field prepended,
//     X-Mailwarden-Redirected: <address>, by which mailwarden recognises a
//     message it redirected there before (loop control, RFC 5228 §10). No
//     Resent-* fields. MAIL FROM is the smtp from address (RFC 6785 §3.4:
//     the mailbox owner's), or the null path when the original had the
//     null envelope sender (RFC 5228 §4.2).
//   - vacation (RFC 5230 §5): a new text/plain message (or the :mime
//     entity) with Date, From (:from, else the smtp from address), To,
//     Subject (RFC 2047-encoded when not ASCII), a fresh Message-ID,
//     In-Reply-To and References, and Auto-Submitted: auto-replied
//     (RFC 3834 §5); MAIL FROM is the null path (RFC 5230 §5.1).
//
// Errors: a reply of the server (an *smtp.SMTPError: refused login, sender,
// recipient or message) or a failure before the message was transmitted
// means it certainly did not go out; a broken connection while the end
// of the message is written or its reply read wraps actions.ErrMaybeSent.
// One connection per message: sends are rare, and a connection held open
// would need its own keep-alive. Credentials never reach a log or an
// error.
package smtp
