package rules

import (
	"mime"
	"net/mail"
	"strings"
)

// Address is one mailbox address (RFC 5322 §3.4).
type Address struct {
	Name    string // decoded display name, may be empty
	Address string // addr-spec "local@domain" as written (may lack a domain)
}

// LocalPart returns the part of the address before the last '@'
// (the whole address when there is no '@').
func (a Address) LocalPart() string {
	if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
		return a.Address[:i]
	}
	return a.Address
}

// Domain returns the part after the last '@', lower-cased ("" when absent).
func (a Address) Domain() string {
	if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
		return strings.ToLower(a.Address[i+1:])
	}
	return ""
}

// String formats the address as RFC 5322 would write it.
func (a Address) String() string {
	if a.Name == "" {
		return a.Address
	}
	return (&mail.Address{Name: a.Name, Address: a.Address}).String()
}

// ParseAddressList parses an address-list header value leniently.
//
// The strict parse (net/mail) is tried first. When it fails, the value is
// split at top-level commas (outside quotes, comments and angle brackets) and
// each element is parsed on its own, so one malformed address costs only
// itself; an element that still fails but contains something that looks
// like "local@domain" keeps that. Groups ("undisclosed-recipients:;") yield
// their members. dec decodes encoded words in display names; nil means the
// standard library's decoder.
func ParseAddressList(value string, dec *mime.WordDecoder) []Address {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: dec}
	if list, err := p.ParseList(value); err == nil {
		return fromMail(list, dec)
	}
	var out []Address
	for _, part := range SplitAddressList(value) {
		part = strings.TrimSpace(part)
		// Strip a group display name ("Group: a@b, c@d;").
		if i := strings.IndexByte(part, ':'); i >= 0 && !strings.ContainsAny(part[:i], "<\"@") {
			part = strings.TrimSpace(part[i+1:])
		}
		part = strings.TrimSuffix(strings.TrimSpace(part), ";")
		if part == "" {
			continue
		}
		if a, err := p.Parse(part); err == nil {
			out = append(out, Address{Name: decodeQuotedWords(a.Name, dec), Address: a.Address})
			continue
		}
		if a, ok := salvage(part, dec); ok {
			out = append(out, a)
		}
	}
	return out
}

func fromMail(list []*mail.Address, dec *mime.WordDecoder) []Address {
	out := make([]Address, 0, len(list))
	for _, a := range list {
		out = append(out, Address{Name: decodeQuotedWords(a.Name, dec), Address: a.Address})
	}
	return out
}

// decodeQuotedWords decodes encoded words that net/mail left in a display
// name because they were inside a quoted string ("=?utf-8?q?J=C3=BCrgen?=").
// RFC 2047 §5 forbids that, but common mailers do it.
func decodeQuotedWords(name string, dec *mime.WordDecoder) string {
	if !strings.Contains(name, "=?") {
		return name
	}
	if dec == nil {
		dec = new(mime.WordDecoder)
	}
	if d, err := dec.DecodeHeader(name); err == nil {
		return d
	}
	return name
}

// SplitAddressList splits an address-list header value at the commas
// that separate its elements (RFC 5322 §3.4): those not inside a quoted
// string, a comment or angle brackets. Elements are returned untrimmed.
func SplitAddressList(s string) []string {
	var parts []string
	depthParen, inAngle, inQuote, esc := 0, false, false, false
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && (inQuote || depthParen > 0):
			esc = true
		case inQuote:
			if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '(':
			depthParen++
		case c == ')' && depthParen > 0:
			depthParen--
		case depthParen > 0:
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ',' && !inAngle:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// salvage extracts "local@domain" from a malformed address element, taking
// the text inside angle brackets when present and the rest as display name.
func salvage(part string, dec *mime.WordDecoder) (Address, bool) {
	name := ""
	addr := part
	if i := strings.LastIndexByte(part, '<'); i >= 0 {
		if j := strings.IndexByte(part[i:], '>'); j > 0 {
			addr = part[i+1 : i+j]
			name = strings.Trim(strings.TrimSpace(part[:i]), `"`)
		}
	}
	addr = strings.TrimSpace(addr)
	if strings.ContainsAny(addr, " \t") || !strings.Contains(addr, "@") {
		// Last resort: the first whitespace-separated token with an '@'.
		found := false
		for _, tok := range strings.Fields(part) {
			tok = strings.Trim(tok, "<>\"',;()")
			if strings.Contains(tok, "@") {
				addr, found = tok, true
				break
			}
		}
		if !found {
			return Address{}, false
		}
	}
	if name != "" {
		if dec == nil {
			dec = new(mime.WordDecoder)
		}
		if d, err := dec.DecodeHeader(name); err == nil {
			name = d
		}
	}
	return Address{Name: name, Address: addr}, true
}
