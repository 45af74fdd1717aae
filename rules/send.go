package rules

import "time"

// RedirectedField is the header field mailwarden prepends to a message it
// redirects, naming the address; a message that already names an address
// is not redirected there again (loop control, RFC 5228 §10).
const RedirectedField = "X-Mailwarden-Redirected"

// Kinds of Send.
const (
	SendRedirect = "redirect" // Sieve redirect (RFC 5228 §4.2)
	SendVacation = "vacation" // Sieve vacation reply (RFC 5230)
)

// Send is a message a rule asks to submit by SMTP: a copy of the message
// (Sieve redirect) or an automatic reply to it (Sieve vacation). Like the
// rest of a Plan it is pure data; package actions carries it out through
// its Sender, at most once per Key.
type Send struct {
	Kind string // SendRedirect or SendVacation
	// Rule names the rule that asked for it ("script.sieve:12").
	Rule string
	// To is the envelope recipient: the redirect address, or the address
	// the vacation reply goes to (the original's Return-Path, RFC 5230
	// §4.2).
	To string
	// Key identifies the send: a send whose Key was sent (or may have
	// been sent) within Period is not sent again. Redirect: the message
	// (Message-ID, else its UID) and the address; vacation: the
	// response's handle and the recipient (RFC 5230 §4.2).
	Key string
	// Period is how long Key is remembered: vacation's :days or :seconds;
	// zero for a redirect means the sender's default (the journal's
	// retention).
	Period time.Duration
	// Raw is the whole message as fetched, for a redirect.
	Raw []byte
	// NullSender is set when the message being redirected had the null
	// envelope sender (Return-Path: <>); the redirect must then have it
	// too (RFC 5228 §4.2).
	NullSender bool
	// Reply is the vacation response, for SendVacation.
	Reply *Reply
}

// Reply is an automatic response (RFC 5230 §5, RFC 3834).
type Reply struct {
	// From is the :from address; empty means the sender's own address.
	From string
	// To is the To field of the reply: the original's From when its
	// address is the recipient, else the recipient.
	To      string
	Subject string // already defaulted ("Auto: " + original subject)
	// Body is the reason: UTF-8 text, or a whole MIME entity (headers and
	// content) when MIME is set (RFC 5230 §4.4).
	Body string
	MIME bool
	// InReplyTo and References refer to the original (RFC 5230 §5.8);
	// empty when it had no Message-ID.
	InReplyTo  string
	References string
}

// Describe is a one-line human description, e.g. `redirect to
// "a@example.com"`.
func (s *Send) Describe() string {
	switch s.Kind {
	case SendVacation:
		return "vacation reply to " + quoteString(s.To)
	default:
		return s.Kind + " to " + quoteString(s.To)
	}
}
