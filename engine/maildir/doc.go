// Package maildir writes and reads Maildir trees: the backups mailwarden
// exports and restores (scheduled `backup` jobs, `backup_first`,
// `mailwarden restore`). It knows files and directories only, no IMAP,
// and imports nothing outside the standard library.
//
// The layout is Maildir++ (Courier's, and Dovecot's default): one account
// is one root directory; INBOX is the root itself (root/cur, root/new,
// root/tmp) and every other mailbox is a directory directly under it named
// "." plus its hierarchy levels joined with "." (Archive/2024 is
// root/.Archive.2024). Maildir++ rather than a plain directory tree because
// all three readers the backups are for open it as it is: Dovecot with
// `mail_location = maildir:ROOT:UTF-8` (its default layout), mutt as a
// folder of maildirs (`=.Archive.2024`), notmuch indexing the root
// (`folder:.Archive.2024`); and because no folder is both a mailbox and the
// parent of one on disk. Within a level name, the characters Maildir++
// cannot hold are escaped as Dovecot's listescape plugin does: `\2e` for
// ".", `\2f` for "/", `\5c` for "\", `\7e` for a leading "~", `\NN` for
// control characters; other characters are kept as UTF-8 (hence
// Dovecot's :UTF-8). Every folder but the root holds an empty
// `maildirfolder` file (Maildir++).
//
// A message is one file holding the message's bytes exactly as the server
// sent them, named as the Maildir specification says
// (https://cr.yp.to/proto/maildir.html): "time.unique.host:2,FLAGS", with
// Dovecot's ",S=size" before the colon. mailwarden's names are
//
//	<internal date, Unix seconds>.V<UIDVALIDITY>U<UID>.<host>,S=<size>:2,<flags>
//
// so the unique part names the IMAP message it came from for good
// (UIDVALIDITY and UID, RFC 9051 §2.3.1.1); readers that rename files to
// change flags (Dovecot, mutt, notmuch) keep everything before ":2,", so
// the unique part survives them. FLAGS are the Maildir letters in ASCII
// order: D \Draft, F \Flagged, P $Forwarded, R \Answered, S \Seen,
// T \Deleted, and a..z for keywords, numbered in the folder's
// dovecot-keywords file as Dovecot does (at most 26 per folder). The file's
// modification time is the message's INTERNALDATE, which Dovecot takes as
// the received date and restore as the APPEND date.
//
// Invariants of Writer:
//
//   - A message file appears in cur/ only complete: it is written in tmp/,
//     fsync'd, given its date, then renamed into cur/ (rename is atomic).
//     Writer.Sync fsyncs cur/, after which every renamed file survives a
//     crash; callers record progress (a checkpoint) only after Sync.
//   - Writer.Has answers from the files themselves (cur/ and new/, by the
//     UIDVALIDITY and UID in their names), so a run killed after a rename
//     but before its checkpoint finds the message there and does not write
//     it twice. Files in tmp/ that a killed run left are removed on Open.
//   - One Writer per folder at a time: Open takes an exclusive lock
//     (flock on cur/) that Close releases, so a backup and an expire's
//     backup_first never write the same folder at once.
//   - A keyword letter is in dovecot-keywords (written atomically, tmp/
//     then rename) before any file using it is renamed into cur/.
package maildir
