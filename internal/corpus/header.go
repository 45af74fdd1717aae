package corpus

import (
	"bytes"
	"mime"
	"strings"

	gmcharset "github.com/emersion/go-message/charset"
)

// Header is a lenient reading of a header section (or of an IMAP
// BODY[HEADER.FIELDS (...)] response): field names in lower case, each
// with its raw values in order, unfolded. It is the reader the floor
// client decides with and the tests check the generator with; it is not
// mailwarden's (engine/message), on purpose.
type Header map[string][]string

// ReadHeader reads raw up to the first empty line (or its end). Lines
// without a colon are skipped; a line starting with white space continues
// the previous field (RFC 5322 §2.2.3: unfolding removes the CRLF only).
func ReadHeader(raw []byte) Header {
	h := Header{}
	var name string
	var val []byte
	flush := func() {
		if name != "" {
			h[name] = append(h[name], string(val))
		}
		name, val = "", nil
	}
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if name != "" {
				val = append(val, line...)
			}
			continue
		}
		flush()
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || bytes.ContainsAny(line[:colon], " \t") {
			continue // not a field: skip the line
		}
		name = strings.ToLower(string(line[:colon]))
		val = append([]byte(nil), bytes.TrimLeft(line[colon+1:], " \t")...)
	}
	flush()
	return h
}

var wordDecoder = &mime.WordDecoder{CharsetReader: gmcharset.Reader}

// Get returns the first field called name, RFC 2047-decoded (the raw value
// when it does not decode), trimmed; "" when absent.
func (h Header) Get(name string) string {
	vs := h[strings.ToLower(name)]
	if len(vs) == 0 {
		return ""
	}
	v := strings.TrimSpace(vs[0])
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}
