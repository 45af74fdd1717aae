package rules

import (
	"errors"
	"io"
	"mime"
	"strings"
	"time"
)

// ErrBodyNotFetched is returned by [Message.Raw] when only the header was
// fetched. Evaluators that need the body report it through NeedsBody, and
// callers then fetch the whole message.
var ErrBodyNotFetched = errors.New("message body was not fetched (the rule set did not declare that it needs it)")

// Message is the read-only view of one message that rules evaluate.
//
// Header values are unfolded and RFC 2047-decoded; the raw (undecoded) value
// of each field is kept too, since Sieve's :raw and some comparisons need it.
// A Message built from malformed input holds whatever parsed: a missing or
// unparseable field is simply absent, never an error.
type Message struct {
	Account string // account name from the config
	Mailbox string // mailbox the message sits in, e.g. "INBOX"
	UID     uint32 // IMAP UID in Mailbox (0 for offline .eml files)
	// UIDValidity is the mailbox's UIDVALIDITY (RFC 9051 §2.3.1.1): with
	// UID it names the message for good. 0 offline.
	UIDValidity uint32

	Header       Header
	Size         int64     // RFC822.SIZE in octets
	Flags        []string  // flags and keywords as fetched, system flags canonical (`\Seen`)
	InternalDate time.Time // IMAP INTERNALDATE; file mtime for .eml input
	Date         time.Time // parsed Date: header; zero when absent or unparseable

	// WordDecoder decodes RFC 2047 encoded words in address display names;
	// the engine sets one that knows every charset. Nil uses the standard
	// library's (UTF-8, US-ASCII and ISO-8859-1 only).
	WordDecoder *mime.WordDecoder

	// CharsetReader converts text in the named charset to UTF-8, for
	// MIME body parts (Sieve's body, mime and extracttext). It has the
	// signature of mime.WordDecoder.CharsetReader, so the engine hands
	// the one function that knows every charset (go-message's) to both.
	// Nil, or a charset it does not know, leaves the standard library's
	// knowledge: UTF-8, US-ASCII, ISO-8859-1/-15 and Windows-1252.
	CharsetReader func(charset string, input io.Reader) (io.Reader, error)

	// Mailboxes answers questions about the account's mailboxes on the
	// server (Sieve's mailboxexists, specialuse_exists). Nil means
	// offline (`mailwarden test`): every mailbox and special-use
	// attribute is taken to exist, which loses nothing, since the
	// executor creates a mailbox only where the rule allows it.
	Mailboxes Mailboxes

	// raw is the whole message (header and body) when it was fetched.
	raw []byte
	// rawHeaderOnly is true when raw holds only the header section.
	rawHeaderOnly bool
}

// SetRaw attaches the raw message bytes. headerOnly says that b holds only
// the header section (BODY.PEEK[HEADER]), in which case Raw reports
// ErrBodyNotFetched.
func (m *Message) SetRaw(b []byte, headerOnly bool) {
	m.raw = b
	m.rawHeaderOnly = headerOnly
}

// Raw returns the whole message as fetched, or ErrBodyNotFetched when only
// the header was fetched. The slice must not be modified.
func (m *Message) Raw() ([]byte, error) {
	if m.raw == nil || m.rawHeaderOnly {
		return nil, ErrBodyNotFetched
	}
	return m.raw, nil
}

// HasBody reports whether the whole message is available through Raw.
func (m *Message) HasBody() bool { return m.raw != nil && !m.rawHeaderOnly }

// Subject returns the decoded Subject header ("" when absent).
func (m *Message) Subject() string { return m.Header.Get("Subject") }

// MessageID returns the Message-ID header without surrounding space or
// angle brackets ("" when absent).
func (m *Message) MessageID() string {
	id := strings.TrimSpace(m.Header.Get("Message-Id"))
	id = strings.TrimPrefix(id, "<")
	return strings.TrimSuffix(id, ">")
}

// Addresses parses every field called name (case-insensitive) as an address
// list and returns the addresses in order. Parsing is lenient: one bad
// address does not drop the others, and a field that is not an address list
// at all yields what looks like an address in it (see ParseAddressList).
func (m *Message) Addresses(name string) []Address {
	var out []Address
	for _, f := range m.Header.fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, ParseAddressList(f.Raw, m.WordDecoder)...)
		}
	}
	return out
}

// HasFlag reports whether the message carries flag (case-insensitive, as
// IMAP flags are; RFC 9051 §2.3.2).
func (m *Message) HasFlag(flag string) bool {
	for _, f := range m.Flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

// Field is one header field.
type Field struct {
	Name  string // as written, e.g. "Subject"
	Raw   string // unfolded value, encoded words left as they are
	Value string // unfolded value with RFC 2047 encoded words decoded
}

// Header is the ordered list of a message's header fields.
type Header struct {
	fields []Field
}

// NewHeader returns a Header holding fields in order.
func NewHeader(fields []Field) Header { return Header{fields: fields} }

// Fields returns all fields in order. The slice must not be modified.
func (h Header) Fields() []Field { return h.fields }

// Get returns the decoded value of the first field called name
// (case-insensitive), or "".
func (h Header) Get(name string) string {
	for _, f := range h.fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether at least one field called name exists.
func (h Header) Has(name string) bool {
	for _, f := range h.fields {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Values returns the decoded values of every field called name, in order.
func (h Header) Values(name string) []string {
	var out []string
	for _, f := range h.fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// RawValues returns the undecoded values of every field called name.
func (h Header) RawValues(name string) []string {
	var out []string
	for _, f := range h.fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Raw)
		}
	}
	return out
}

// slimFields are the header fields Slim keeps: what acting on a message,
// journaling it and reporting it need.
var slimFields = []string{"Message-Id", "Subject", "From", "Date"}

// Slim returns a copy of m that keeps what acting on and reporting a
// message needs (account, mailbox, UID, flags, size, dates, its mailbox
// lookup, and the Message-ID, Subject, From and Date fields) and drops the
// rest of the header and the raw bytes. Bulk work holds many decided
// messages until it acts on them at once; slim ones keep that memory small.
func (m *Message) Slim() *Message {
	s := &Message{
		Account: m.Account, Mailbox: m.Mailbox, UID: m.UID, UIDValidity: m.UIDValidity,
		Size: m.Size, Flags: m.Flags, InternalDate: m.InternalDate, Date: m.Date,
		WordDecoder: m.WordDecoder, Mailboxes: m.Mailboxes,
	}
	var keep []Field
	for _, f := range m.Header.fields {
		for _, name := range slimFields {
			if strings.EqualFold(f.Name, name) {
				keep = append(keep, f)
				break
			}
		}
	}
	s.Header = NewHeader(keep)
	return s
}
