// Package imapconn is everything in mailwarden that talks go-imap
// (github.com/emersion/go-imap/v2, beta.8): dialing, TLS and STARTTLS,
// authentication, capabilities, the context bridge, error classes, and the
// UID commands the watchers and the actions executor need.
//
// # Model
//
// A Client is one authenticated IMAP connection. Select turns it into a
// Session on one mailbox; a Session implements actions.Mailbox. A Client (and
// its Session) belongs to one goroutine at a time: go-imap serialises
// commands, and IDLE holds the connection's encoder, so no other command can
// run until the IDLE is stopped.
//
// # Invariants
//
//   - Every command is UID-based. There is no plain EXPUNGE anywhere
//     (it would remove other clients' \Deleted mail): only UID EXPUNGE of
//     exactly the given UIDs (RFC 4315 §2.1). go-imap's Client.Move is only
//     called when the server advertises MOVE (its fallback would send COPY,
//     STORE and EXPUNGE back to back); otherwise Move returns ErrNoMove.
//   - go-imap has no context: every method here takes one, and while a call
//     is in flight a context.AfterFunc closes the connection when ctx is
//     done. The call then returns promptly with an error wrapping ctx.Err(),
//     and the Client is unusable (Closed() is closed): dial again. If ctx
//     ends just as a call completes, the call's result stands but the
//     connection is closed all the same.
//   - go-imap has no read deadline between responses. While a command is
//     in flight, a watchdog closes the connection when the server sends
//     nothing for Options.ResponseTimeout (default 90 s; ErrStalled,
//     temporary); a peer that vanished is noticed by TCP keepalive
//     (Options.KeepAlive 30 s, then 4 probes: ~75 s) and, with data
//     unacknowledged, by TCP_USER_TIMEOUT. A stall during IDLE shows at the
//     next IDLE refresh. Measured with internal/faultproxy: liveness.go.
//   - The unilateral-data handler runs on go-imap's reader goroutine and
//     must never call the client: it only does a non-blocking send on the
//     1-slot Updates() channel when the server reports EXISTS. Drain
//     Updates before fetching, not after, and no arrival is missed.
//   - Credentials never reach an error, a log line or the debug writer
//     (LOGIN and AUTHENTICATE lines are redacted).
//
// # Errors
//
// Errors are wrapped with the operation (`select "INBOX": ...`) and
// classified by IsPermanent / IsTemporary: authentication failures,
// certificate verification failures and configuration errors are permanent
// (never retry); network errors, BYE, timeouts and [UNAVAILABLE] are
// temporary (reconnect with backoff).
package imapconn
