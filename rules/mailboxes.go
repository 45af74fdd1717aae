package rules

import "context"

// Mailboxes answers questions about the account's mailboxes on the server
// while a message is evaluated: Sieve's mailboxexists (RFC 5490 §3.1) and
// specialuse_exists (RFC 8579 §3). It is a per-message input, set on
// [Message.Mailboxes] by whoever fetched the message (the engine sets one
// bound to the batch's connection); rules never talk IMAP themselves.
type Mailboxes interface {
	// MailboxExists reports whether mailbox name exists and can be
	// selected. INBOX is case-insensitive (RFC 9051 §5.1).
	MailboxExists(ctx context.Context, name string) (bool, error)
	// SpecialUseExists reports whether the named mailbox (any mailbox
	// when mailbox is "") carries the special-use attribute use, e.g.
	// `\Junk` (RFC 6154 §2).
	SpecialUseExists(ctx context.Context, mailbox, use string) (bool, error)
}
