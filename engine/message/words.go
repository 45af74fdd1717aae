package message

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// DecodeWords decodes the RFC 2047 encoded words in a header value.
//
// It is more forgiving than mime.WordDecoder.DecodeHeader:
//   - a word that does not decode (bad base64 or Q, unknown charset) is
//     kept as written instead of failing the whole value;
//   - white space between two encoded words is dropped (RFC 2047 §6.2), and
//     the decoded bytes of adjacent words in the same charset are joined
//     before conversion, so a character split across words survives;
//   - an RFC 2231 language suffix ("=?utf-8*en?q?…?=") is ignored;
//   - base64 with missing padding is accepted.
//
// The result is always valid UTF-8.
func DecodeWords(s string) string {
	i := strings.Index(s, "=?")
	if i < 0 {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	var out strings.Builder
	out.Grow(len(s))
	out.WriteString(s[:i])
	s = s[i:]

	// pending holds decoded bytes of adjacent words in pendingCS.
	var pending []byte
	pendingCS := ""
	flush := func() {
		if pendingCS == "" {
			return
		}
		if str, ok := convert(pendingCS, pending); ok {
			out.WriteString(str)
		} else {
			out.WriteString(strings.ToValidUTF8(string(pending), "\uFFFD"))
		}
		pending, pendingCS = pending[:0], ""
	}
	// gap is white space seen after a decoded word, written only if the
	// next token is not an encoded word.
	gap := ""
	for len(s) > 0 {
		start := strings.Index(s, "=?")
		if start < 0 {
			break
		}
		cs, content, end, ok := parseWord(s[start:])
		if !ok {
			// Not a decodable word: everything up to and including "=?"
			// is literal text.
			flush()
			out.WriteString(gap)
			gap = ""
			out.WriteString(s[:start+2])
			s = s[start+2:]
			continue
		}
		between := s[:start]
		if pendingCS != "" && strings.Trim(between, " \t\r\n") != "" {
			flush()
			out.WriteString(gap)
			gap = ""
			out.WriteString(between)
		} else if pendingCS == "" {
			out.WriteString(gap)
			gap = ""
			out.WriteString(between)
		}
		if pendingCS != "" && !strings.EqualFold(pendingCS, cs) {
			flush()
		}
		pendingCS = cs
		pending = append(pending, content...)
		s = s[start+end:]
		// Look ahead: keep trailing white space aside.
		ws := len(s) - len(strings.TrimLeft(s, " \t\r\n"))
		gap, s = s[:ws], s[ws:]
		if !strings.HasPrefix(s, "=?") {
			flush()
			out.WriteString(gap)
			gap = ""
		}
	}
	flush()
	out.WriteString(gap)
	out.WriteString(s)
	res := out.String()
	if !utf8.ValidString(res) {
		res = strings.ToValidUTF8(res, "\uFFFD")
	}
	return res
}

// parseWord parses the encoded word at the start of s ("=?cs?e?text?=").
// It returns the charset, the decoded bytes and the word's length.
func parseWord(s string) (cs string, content []byte, n int, ok bool) {
	if !strings.HasPrefix(s, "=?") {
		return "", nil, 0, false
	}
	rest := s[2:]
	q1 := strings.IndexByte(rest, '?')
	if q1 <= 0 || q1+3 > len(rest) || rest[q1+2] != '?' {
		return "", nil, 0, false
	}
	cs = rest[:q1]
	if strings.ContainsAny(cs, " \t\r\n") {
		return "", nil, 0, false
	}
	enc := rest[q1+1]
	text := rest[q1+3:]
	e := strings.Index(text, "?=")
	if e < 0 {
		return "", nil, 0, false
	}
	text = text[:e]
	if strings.ContainsAny(text, " \t") && (enc == 'B' || enc == 'b') {
		return "", nil, 0, false
	}
	if k := strings.IndexByte(cs, '*'); k >= 0 { // RFC 2231 §5 language
		cs = cs[:k]
	}
	var err error
	switch enc {
	case 'B', 'b':
		content, err = base64.StdEncoding.DecodeString(text)
		if err != nil {
			content, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(text, "="))
		}
	case 'Q', 'q':
		content, err = qDecode(text)
	default:
		return "", nil, 0, false
	}
	if err != nil || cs == "" {
		return "", nil, 0, false
	}
	if !knownCharset(cs) {
		return "", nil, 0, false
	}
	return cs, content, 2 + q1 + 3 + e + 2, true
}

type qError struct{}

func (qError) Error() string { return "bad Q encoding" }

// qDecode decodes RFC 2047 §4.2 "Q" text.
func qDecode(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '_':
			out = append(out, ' ')
		case '=':
			if i+2 >= len(s) {
				return nil, qError{}
			}
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, qError{}
			}
			out = append(out, h<<4|l)
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func knownCharset(cs string) bool {
	if isUTF8Charset(cs) {
		return true
	}
	_, err := charset.Reader(cs, bytes.NewReader(nil))
	return err == nil
}

// convert decodes b from charset cs to UTF-8.
func convert(cs string, b []byte) (string, bool) {
	if isUTF8Charset(cs) {
		return strings.ToValidUTF8(string(b), "\uFFFD"), true
	}
	if strings.EqualFold(cs, "iso-8859-1") || strings.EqualFold(cs, "latin1") {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), true
	}
	rd, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		return "", false
	}
	out, err := io.ReadAll(rd)
	if err != nil {
		return "", false
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), true
}
