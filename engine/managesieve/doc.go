// Package managesieve is mailwarden's ManageSieve server (RFC 5804), so
// that mail clients (Thunderbird's sieve add-on, Roundcube's managesieve
// plugin, sieve-connect) edit the Sieve scripts the daemon runs, and the
// client `mailwarden sieve` uses.
//
// # Model
//
// A Server serves connections from a listener. Each connection greets with
// its capabilities, may upgrade with STARTTLS (RFC 5804 §2.2), and
// authenticates with SASL PLAIN (RFC 4616) through Options.Authenticate,
// which maps the login to one account (the daemon checks the password
// against the account's own IMAP server). After that the connection works
// on that account's scripts only.
//
// Scripts live in a Store: one directory per account under the daemon's
// state_dir (sieve/<account>/<name>.sieve, written atomically), with the
// active script's name in a file beside them. PUTSCRIPT and CHECKSCRIPT
// compile with rules/sieve, so a script is refused with the daemon's own
// located errors (script:line:col, hint), and a script that does not
// compile is never stored. SETACTIVE, and a PUTSCRIPT or RENAMESCRIPT of
// the active script, call Options.Changed: the daemon recompiles and its
// watchers run the new script from their next message on.
//
// # Invariants
//
//   - Nothing is readable or writable before authentication, and plaintext
//     authentication is refused on an unencrypted connection unless the
//     server is configured for plaintext (loopback only).
//   - Passwords never reach a log line or an error.
//   - Failed logins are slowed down (per remote address, doubling up to
//     MaxFailDelay) and a connection is closed after MaxFailures of them.
//   - Limits answer with RFC 5804 response codes: QUOTA/MAXSIZE for a
//     script over MaxScriptSize, QUOTA/MAXSCRIPTS beyond MaxScripts.
//   - The active script cannot be deleted (ACTIVE, RFC 5804 §2.10).
//   - Every line and literal is bounded in size; a client that sends more
//     is told so and disconnected.
package managesieve
