package corpus

import (
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// A charset the generator encodes header words and bodies in. enc is nil
// for UTF-8.
type charset struct {
	name string
	enc  encoding.Encoding
}

var (
	csUTF8    = charset{"utf-8", nil}
	csLatin1  = charset{"iso-8859-1", charmap.ISO8859_1}
	csLatin9  = charset{"iso-8859-15", charmap.ISO8859_15}
	csCP1252  = charset{"windows-1252", charmap.Windows1252}
	csKOI8R   = charset{"koi8-r", charmap.KOI8R}
	csCP1251  = charset{"windows-1251", charmap.Windows1251}
	csSJIS    = charset{"shift_jis", japanese.ShiftJIS}
	csISO2022 = charset{"iso-2022-jp", japanese.ISO2022JP}
	csGB2312  = charset{"gb2312", simplifiedchinese.GBK}
	csEUCKR   = charset{"euc-kr", korean.EUCKR}
)

// encode converts s to the charset; ok is false when some character has
// no representation in it.
func (c charset) encode(s string) ([]byte, bool) {
	if c.enc == nil {
		return []byte(s), true
	}
	b, err := c.enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, false
	}
	return b, true
}

// charsetsFor lists the charsets that can represent s, UTF-8 always
// first; the others are the ones mailers of that script actually use.
func charsetsFor(s string) []charset {
	out := []charset{csUTF8}
	for _, c := range []charset{csLatin1, csLatin9, csCP1252, csKOI8R, csCP1251, csSJIS, csISO2022, csGB2312, csEUCKR} {
		if _, ok := c.encode(s); ok {
			out = append(out, c)
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// encodedWords encodes text as RFC 2047 encoded words in cs, "B" or "Q",
// each at most 75 characters (RFC 2047 §2), split only between characters
// (so multi-byte and stateful charsets stay decodable word by word, §5).
// The words are separated by a space: a decoder drops white space between
// adjacent encoded words (§6.2), so spaces of the text are encoded inside
// the words.
func encodedWords(cs charset, q bool, text string) string {
	kind := "B"
	if q {
		kind = "Q"
	}
	prefix := "=?" + cs.name + "?" + kind + "?"
	budget := 75 - len(prefix) - 2
	var words []string
	var chunk strings.Builder
	flush := func() {
		if chunk.Len() > 0 {
			raw, _ := cs.encode(chunk.String())
			words = append(words, prefix+encodeWordPayload(raw, q)+"?=")
			chunk.Reset()
		}
	}
	for _, r := range text {
		next := chunk.String() + string(r)
		raw, ok := cs.encode(next)
		if !ok {
			raw = []byte(next)
		}
		if len(encodeWordPayload(raw, q)) > budget && chunk.Len() > 0 {
			flush()
		}
		chunk.WriteRune(r)
	}
	flush()
	return strings.Join(words, " ")
}

func encodeWordPayload(raw []byte, q bool) string {
	if !q {
		return base64.StdEncoding.EncodeToString(raw)
	}
	var b strings.Builder
	for _, c := range raw {
		switch {
		case c == ' ':
			b.WriteByte('_')
		// The conservative set of RFC 2047 §5 (3): safe in a phrase too.
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '!', c == '*', c == '+', c == '-', c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// wordStyle says how a header text is encoded.
type wordStyle struct {
	cs    charset
	q     bool
	whole bool // encode the whole text, not only the non-ASCII words
}

// encodeText renders an unstructured header text (a Subject): ASCII text
// as is, otherwise with encoded words in the style's charset. Without
// whole, only the runs of words that need it are encoded, the way many
// mailers do ("Re: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Köln").
func encodeText(text string, st wordStyle) string {
	if isASCII(text) && !st.whole {
		return text
	}
	if _, ok := st.cs.encode(text); !ok {
		st.cs = csUTF8
	}
	if st.whole {
		return encodedWords(st.cs, st.q, text)
	}
	// Encode maximal runs of words containing non-ASCII; the space before
	// an encoded run stays plain, the spaces inside it are encoded.
	fields := strings.Split(text, " ")
	var out []string
	for i := 0; i < len(fields); {
		if isASCII(fields[i]) {
			out = append(out, fields[i])
			i++
			continue
		}
		j := i
		for j < len(fields) && !isASCII(fields[j]) {
			j++
		}
		out = append(out, encodedWords(st.cs, st.q, strings.Join(fields[i:j], " ")))
		i = j
	}
	return strings.Join(out, " ")
}

// phrase renders a display name for an address header: an atom sequence
// as is, specials quoted, non-ASCII as encoded words (RFC 2047 §5 (3)).
func phrase(name string, st wordStyle) string {
	if !isASCII(name) {
		if _, ok := st.cs.encode(name); !ok {
			st.cs = csUTF8
		}
		return encodedWords(st.cs, st.q, name)
	}
	if strings.ContainsAny(name, "()<>[]:;@\\,.\"") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name
}

// mailbox renders "Name <addr>" (or the bare address when name is "").
func mailbox(p Person, st wordStyle) string {
	if p.Name == "" {
		return p.Addr
	}
	return phrase(p.Name, st) + " <" + p.Addr + ">"
}

// foldHeader renders "Name: value" folded at white space so that lines
// stay within 78 characters where possible (RFC 5322 §2.2.3); cont is the
// white space that starts a continuation line (" " or "\t": Mailman and
// Outlook fold with a tab). A word longer than a line is not broken.
func foldHeader(name, value, cont string) string {
	var b strings.Builder
	line := name + ":"
	for i, w := range strings.Split(value, " ") {
		sep := " "
		if i > 0 && len(line)+1+len(w) > 78 && line != cont {
			b.WriteString(line)
			b.WriteString("\r\n")
			line = cont
			sep = ""
		}
		line += sep + w
	}
	b.WriteString(line)
	b.WriteString("\r\n")
	return b.String()
}

// qpEncode encodes body bytes as quoted-printable (RFC 2045 §6.7) with
// CRLF line breaks and soft breaks at 76 characters.
func qpEncode(raw []byte) string {
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n")
	for li, l := range lines {
		n := 0
		for i := 0; i < len(l); i++ {
			c := l[i]
			var tok string
			switch {
			case (c == ' ' || c == '\t') && i == len(l)-1:
				tok = fmt.Sprintf("=%02X", c)
			case c == '=' || c < 32 && c != '\t' || c > 126:
				tok = fmt.Sprintf("=%02X", c)
			default:
				tok = string(c)
			}
			if n+len(tok) > 75 {
				b.WriteString("=\r\n")
				n = 0
			}
			b.WriteString(tok)
			n += len(tok)
		}
		if li < len(lines)-1 {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

// b64Lines encodes raw as base64 in 76-character lines, CRLF-terminated.
func b64Lines(raw []byte) string {
	const in = 57 // bytes per 76-character line
	out := make([]byte, 0, (len(raw)+in-1)/in*78+2)
	for len(raw) > 0 {
		n := min(in, len(raw))
		out = base64.StdEncoding.AppendEncode(out, raw[:n])
		out = append(out, '\r', '\n')
		raw = raw[n:]
	}
	if len(out) == 0 {
		out = append(out, '\r', '\n')
	}
	return string(out)
}

// wrap breaks text into lines of at most width bytes at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		if i > 0 {
			if n+1+len(w) > width {
				b.WriteString("\r\n")
				n = 0
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// rfc2231 encodes a parameter value in UTF-8 (RFC 2231 §4).
func rfc2231(s string) string {
	var b strings.Builder
	b.WriteString("UTF-8''")
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
