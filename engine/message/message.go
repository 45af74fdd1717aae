package message

import (
	"bytes"
	"mime"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"

	"github.com/mailwarden/mailwarden/rules"
)

// Meta is what the server (or the file system) tells us about a message
// besides its bytes.
type Meta struct {
	Account      string
	Mailbox      string
	UID          uint32
	Flags        []string
	Size         int64 // RFC822.SIZE; 0 means len(raw)
	InternalDate time.Time
	HeaderOnly   bool // raw holds only the header section (BODY.PEEK[HEADER])
}

// WordDecoder decodes RFC 2047 encoded words in every charset go-message
// supports. It is safe for concurrent use.
var WordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// Parse builds a Message from raw, leniently: it never fails, and a
// malformed line costs only itself. raw is retained (Message.Raw) and must
// not be modified afterwards.
func Parse(raw []byte, meta Meta) *rules.Message {
	m := &rules.Message{
		Account:      meta.Account,
		Mailbox:      meta.Mailbox,
		UID:          meta.UID,
		Size:         meta.Size,
		InternalDate: meta.InternalDate,
		WordDecoder:  WordDecoder,
		// Bodies decode with the same charsets as header words.
		CharsetReader: charset.Reader,
	}
	if m.Size == 0 {
		m.Size = int64(len(raw))
	}
	if len(meta.Flags) > 0 {
		m.Flags = rules.CanonicalFlags(meta.Flags)
	}
	m.Header = rules.NewHeader(parseHeader(raw))
	if d := m.Header.Get("Date"); d != "" {
		if t, ok := ParseDate(d); ok {
			m.Date = t
		}
	}
	m.SetRaw(raw, meta.HeaderOnly)
	return m
}

// ParseFile reads a whole .eml file and parses it. When meta.InternalDate
// is zero, the file's modification time is used.
func ParseFile(path string, meta Meta) (*rules.Message, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if meta.InternalDate.IsZero() {
		if fi, err := os.Stat(path); err == nil {
			meta.InternalDate = fi.ModTime()
		}
	}
	return Parse(raw, meta), nil
}

// rawField is one unfolded header field before charset handling.
type rawField struct {
	name  string
	value []byte
}

// parseHeader splits the header section into fields and decodes them.
func parseHeader(raw []byte) []rules.Field {
	var fields []rawField
	skipping := false // the current logical line is being skipped
	rest := raw
	for len(rest) > 0 {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break // end of the header section (RFC 5322 §2.1)
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Continuation. RFC 5322 §2.2.3 unfolding drops the line
			// break and keeps the white space; like Pigeonhole (Dovecot's
			// header parser) and mail clients, the one white-space
			// character that marks the fold becomes a space, so a field
			// folded with CRLF TAB (Mailman's List-Id, Outlook) reads as
			// written on one line. White space after it is kept.
			if !skipping && len(fields) > 0 {
				f := &fields[len(fields)-1]
				f.value = append(f.value, ' ')
				f.value = append(f.value, line[1:]...)
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			skipping = true
			continue
		}
		name := bytes.TrimRight(line[:colon], " \t") // RFC 5322 §4.5.8 obs-optional
		if !validFieldName(name) {
			skipping = true
			continue
		}
		skipping = false
		// Copy the value so appending continuations never writes into raw.
		v := make([]byte, 0, len(line)-colon-1)
		fields = append(fields, rawField{name: string(name), value: append(v, line[colon+1:]...)})
	}

	// A declared charset (Content-Type) is the best guess for 8-bit bytes
	// in other fields that are not valid UTF-8.
	declared := ""
	for _, f := range fields {
		if strings.EqualFold(f.name, "Content-Type") && utf8.Valid(f.value) {
			if _, params, err := mime.ParseMediaType(strings.TrimSpace(string(f.value))); err == nil {
				declared = params["charset"]
			}
			break
		}
	}

	out := make([]rules.Field, 0, len(fields))
	for _, f := range fields {
		r := strings.TrimSpace(toUTF8(f.value, declared))
		out = append(out, rules.Field{Name: f.name, Raw: r, Value: DecodeWords(r)})
	}
	return out
}

// validFieldName reports whether b is a field name (RFC 5322 §3.6.8 ftext:
// printable US-ASCII except colon).
func validFieldName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// toUTF8 returns b as valid UTF-8: unchanged when it already is, decoded
// with cs when that is a known non-UTF-8 charset, else as Windows-1252.
func toUTF8(b []byte, cs string) string {
	if utf8.Valid(b) {
		return string(b)
	}
	if cs != "" && !isUTF8Charset(cs) {
		if s, ok := convert(cs, b); ok {
			return s
		}
	}
	// Undeclared 8-bit header bytes are most often Windows-1252 (a
	// superset of ISO-8859-1 in practice); every byte maps, so nothing is
	// lost that Raw would keep.
	if s, ok := convert("windows-1252", b); ok {
		return s
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isUTF8Charset(cs string) bool {
	return strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8") || strings.EqualFold(cs, "us-ascii")
}
