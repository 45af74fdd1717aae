package sieve

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/mailwarden/mailwarden/rules"
)

// A lenient MIME parser (RFC 2045, RFC 2046) for the body (RFC 5173) and
// mime (RFC 5703) extensions. Broken MIME never fails: a multipart
// without its boundary is a multipart without children, a bad encoding
// yields the bytes as they are, an unknown charset is passed through.

type mimePart struct {
	header   []rules.Field
	typ, sub string            // lower-cased; "text", "plain" by default
	params   map[string]string // Content-Type parameters, lower-cased names
	body     []byte            // this part's body, still transfer-encoded
	prologue []byte            // multipart only
	epilogue []byte
	children []*mimePart // multipart parts, or the one message of message/rfc822
	parent   *mimePart
}

type mimeTree struct {
	root *mimePart
	all  []*mimePart // depth-first, root first
}

// mimeTree parses the message once per execution.
func (r *run) mimeTree() (*mimeTree, error) {
	if r.mime != nil {
		return r.mime, nil
	}
	raw, err := r.m.Raw()
	if err != nil {
		return nil, &RuntimeError{Script: r.s.name, Line: r.line, Msg: "the test needs the message body", Err: err}
	}
	t := &mimeTree{}
	budget := r.root.lim.maxParts
	t.root = parsePart(raw, nil, "text", "plain", r.m.WordDecoder, &budget, 0)
	if budget < 0 {
		return nil, r.errorf("the message has more than %d MIME parts, the most a test reads", r.root.lim.maxParts)
	}
	var walk func(p *mimePart)
	walk = func(p *mimePart) {
		t.all = append(t.all, p)
		for _, c := range p.children {
			walk(c)
		}
	}
	walk(t.root)
	r.mime = t
	return t, nil
}

// splitHeader splits raw at the first empty line. hasBody is false when
// there is no empty line at all.
func splitHeader(raw []byte) (hdr, body []byte, hasBody bool) {
	if bytes.HasPrefix(raw, []byte("\r\n")) {
		return nil, raw[2:], true
	}
	if bytes.HasPrefix(raw, []byte("\n")) {
		return nil, raw[1:], true
	}
	i := bytes.Index(raw, []byte("\n\r\n"))
	j := bytes.Index(raw, []byte("\n\n"))
	switch {
	case i >= 0 && (j < 0 || i < j):
		return raw[:i+1], raw[i+3:], true
	case j >= 0:
		return raw[:j+1], raw[j+2:], true
	}
	return raw, nil, false
}

// parseFields parses a header section leniently: lines without a colon
// are skipped, continuation lines are unfolded as engine/message does
// (the white-space character that marks a fold becomes a space).
//
// Continuations are gathered in one builder per field, so a field folded
// into many lines costs linear time (appending to the string each time
// was quadratic: 19 s for a 1 MiB field in 50,000 lines).
func parseFields(hdr []byte, dec *mime.WordDecoder) []rules.Field {
	var fields []rules.Field
	var cur strings.Builder // the value of the last field so far
	flush := func() {
		if len(fields) > 0 {
			fields[len(fields)-1].Raw = cur.String()
		}
		cur.Reset()
	}
	for _, line := range strings.Split(string(hdr), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(fields) > 0 {
				cur.WriteByte(' ')
				cur.WriteString(line[1:])
			}
			continue
		}
		i := strings.IndexByte(line, ':')
		if i <= 0 {
			continue
		}
		flush()
		fields = append(fields, rules.Field{Name: strings.TrimRight(line[:i], " \t")})
		cur.WriteString(line[i+1:])
	}
	flush()
	if dec == nil {
		dec = new(mime.WordDecoder)
	}
	for i := range fields {
		fields[i].Raw = strings.TrimSpace(fields[i].Raw)
		v, err := dec.DecodeHeader(fields[i].Raw)
		if err != nil {
			v = fields[i].Raw
		}
		fields[i].Value = v
	}
	return fields
}

func fieldValue(fields []rules.Field, name string) (string, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// mediaType returns the "type/subtype" of a Content-Type value as
// written (case kept, as Pigeonhole's :mime value options give it); ok is
// false when it is not two tokens around one slash (RFC 2045 §5.1).
func mediaType(v string) (string, bool) {
	mt := strings.TrimSpace(strings.SplitN(v, ";", 2)[0])
	t, s, found := strings.Cut(mt, "/")
	t, s = strings.TrimSpace(t), strings.TrimSpace(s)
	if !found || !isToken(t) || !isToken(s) {
		return "", false
	}
	return t + "/" + s, true
}

// isToken reports whether s is an RFC 2045 §5.1 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// mediaParams returns the parameters of a Content-Type or
// Content-Disposition value (names lower-cased), leniently.
func mediaParams(v string) map[string]string {
	if _, params, err := mime.ParseMediaType(v); err == nil || len(params) > 0 {
		return params
	}
	params := map[string]string{}
	for _, p := range strings.Split(v, ";")[1:] {
		k, val, found := strings.Cut(p, "=")
		if found {
			params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return params
}

// parseContentType parses a Content-Type value leniently: type and
// subtype lower-cased; ok is false when it has no valid media type.
func parseContentType(v string) (typ, sub string, params map[string]string, ok bool) {
	mt, ok := mediaType(v)
	if !ok {
		return "", "", nil, false
	}
	t, s, _ := strings.Cut(strings.ToLower(mt), "/")
	return t, s, mediaParams(v), true
}

func parsePart(raw []byte, parent *mimePart, defTyp, defSub string, dec *mime.WordDecoder, budget *int, depth int) *mimePart {
	*budget--
	hdr, body, _ := splitHeader(raw)
	p := &mimePart{header: parseFields(hdr, dec), body: body, parent: parent, typ: defTyp, sub: defSub}
	if ct, ok := fieldValue(p.header, "Content-Type"); ok {
		// An invalid Content-Type leaves the part without a type, which
		// only body :content "" matches, as in Pigeonhole (RFC 2045 §5.2
		// would default it to text/plain; the default is for an absent
		// field here).
		p.typ, p.sub, p.params, _ = parseContentType(ct)
	}
	if depth > 32 {
		return p
	}
	switch {
	case p.typ == "multipart":
		boundary := p.params["boundary"]
		if boundary == "" {
			return p
		}
		childTyp, childSub := "text", "plain"
		if p.sub == "digest" {
			// RFC 2046 §5.1.5: parts of a digest default to message/rfc822.
			childTyp, childSub = "message", "rfc822"
		}
		parts, pro, epi := splitMultipart(body, boundary)
		p.prologue, p.epilogue = pro, epi
		for _, b := range parts {
			if *budget <= 0 {
				*budget = -1
				break
			}
			p.children = append(p.children, parsePart(b, p, childTyp, childSub, dec, budget, depth+1))
		}
	case p.typ == "message" && p.sub == "rfc822":
		p.children = []*mimePart{parsePart(p.decoded(), p, "text", "plain", dec, budget, depth+1)}
	}
	return p
}

// splitMultipart splits a multipart body at its boundary lines (RFC 2046
// §5.1.1). A missing close delimiter ends the last part at the end.
func splitMultipart(body []byte, boundary string) (parts [][]byte, prologue, epilogue []byte) {
	delim := []byte("--" + boundary)
	var starts []int // offsets of delimiter lines
	var ends []int   // offsets just after each delimiter line
	closed := -1
	off := 0
	for off <= len(body) {
		nl := bytes.IndexByte(body[off:], '\n')
		lineEnd := len(body)
		next := len(body) + 1
		if nl >= 0 {
			lineEnd = off + nl
			next = lineEnd + 1
		}
		line := bytes.TrimRight(body[off:lineEnd], " \t\r")
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			if len(rest) == 0 || bytes.Equal(rest, []byte("--")) {
				starts = append(starts, off)
				ends = append(ends, min(next, len(body)))
				if len(rest) == 2 {
					closed = len(starts) - 1
					break
				}
			}
		}
		off = next
	}
	if len(starts) == 0 {
		return nil, body, nil
	}
	prologue = trimCRLF(body[:starts[0]])
	for i := 0; i+1 < len(starts); i++ {
		parts = append(parts, trimCRLF(body[ends[i]:starts[i+1]]))
	}
	if closed >= 0 {
		epilogue = body[ends[closed]:]
	} else {
		parts = append(parts, body[ends[len(ends)-1]:])
	}
	return parts, prologue, epilogue
}

// trimCRLF removes the line break that belongs to the next delimiter.
func trimCRLF(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\r\n")) {
		return b[:len(b)-2]
	}
	if bytes.HasSuffix(b, []byte("\n")) {
		return b[:len(b)-1]
	}
	return b
}

// isHTML reports whether the part is HTML or XHTML, which body :text and
// extracttext read as text.
func (p *mimePart) isHTML() bool {
	return p.typ == "text" && p.sub == "html" || p.typ == "application" && p.sub == "xhtml+xml"
}

// decoded returns the body without its Content-Transfer-Encoding. A part
// with an encoding that is none of RFC 2045's has no content (RFC 2045
// §6.4: it cannot be interpreted; Pigeonhole too reads it as empty).
func (p *mimePart) decoded() []byte {
	cte, _ := fieldValue(p.header, "Content-Transfer-Encoding")
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return p.body
	case "base64":
		clean := make([]byte, 0, len(p.body))
		for _, c := range p.body {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				clean = append(clean, c)
			}
		}
		clean = bytes.TrimRight(clean, "=")
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, _ := base64.RawStdEncoding.Decode(out, clean)
		return out[:n]
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(p.body)))
		if err != nil && len(out) == 0 {
			return p.body
		}
		return out
	}
	return nil
}

// text returns the decoded body converted to UTF-8 with read, the
// message's CharsetReader (see toUTF8).
func (p *mimePart) text(read charsetReader) string {
	return toUTF8(p.decoded(), p.params["charset"], read)
}

// charsetReader is rules.Message.CharsetReader.
type charsetReader = func(charset string, input io.Reader) (io.Reader, error)

// toUTF8 converts b from charset to UTF-8. read (rules.Message's
// CharsetReader; in the daemon go-message's, which knows every charset
// Pigeonhole's iconv does in practice: KOI8-R, Shift_JIS, GB2312, …)
// converts everything but UTF-8 and US-ASCII. Without it, or for a
// charset it does not know, only the standard library's knowledge is
// used: ISO-8859-1, ISO-8859-15 and Windows-1252 are converted; other
// charsets are passed through with invalid UTF-8 replaced by "?".
func toUTF8(b []byte, charset string, read charsetReader) string {
	cs := strings.ToLower(strings.Trim(charset, `" `))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		if utf8.Valid(b) {
			return string(b)
		}
		return strings.ToValidUTF8(string(b), "?")
	}
	if read != nil {
		if rd, err := read(cs, bytes.NewReader(b)); err == nil {
			if out, err := io.ReadAll(rd); err == nil {
				return strings.ToValidUTF8(string(out), "?")
			}
		}
	}
	switch cs {
	case "iso-8859-1", "latin1", "iso_8859-1", "l1", "iso-8859-15", "windows-1252", "cp1252":
		var sb strings.Builder
		for _, c := range b {
			switch {
			case c < 0x80:
				sb.WriteByte(c)
			case strings.Contains(cs, "1252") && c >= 0x80 && c < 0xa0:
				sb.WriteRune(cp1252[c-0x80])
			case strings.Contains(cs, "15") && !strings.Contains(cs, "1252") && latin9[c] != 0:
				sb.WriteRune(latin9[c])
			default:
				sb.WriteRune(rune(c))
			}
		}
		return sb.String()
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "?")
}

var cp1252 = [32]rune{
	'€', '\ufffd', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\ufffd', 'Ž', '\ufffd',
	'\ufffd', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\ufffd', 'ž', 'Ÿ',
}

var latin9 = map[byte]rune{0xa4: '€', 0xa6: 'Š', 0xa8: 'š', 0xb4: 'Ž', 0xb8: 'ž', 0xbc: 'Œ', 0xbd: 'œ', 0xbe: 'Ÿ'}

// htmlToText reduces HTML to its text, as Pigeonhole does for body :text
// and extracttext: tags dropped, script and style removed, block tags
// become line breaks, the common entities decoded.
func htmlToText(s string) string {
	var b strings.Builder
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '<' {
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				break
			}
			tag := strings.ToLower(strings.TrimLeft(s[i+1:i+end], "/"))
			name := tag
			if k := strings.IndexAny(tag, " \t\r\n/"); k >= 0 {
				name = tag[:k]
			}
			i += end + 1
			switch name {
			case "script", "style":
				if !strings.HasPrefix(s[i-end-1:], "</") {
					if k := strings.Index(strings.ToLower(s[i:]), "</"+name); k >= 0 {
						i += k
					}
				}
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote":
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
			}
			continue
		}
		if c == '&' {
			if end := strings.IndexByte(s[i:], ';'); end > 0 && end < 10 {
				if r, ok := htmlEntity(s[i+1 : i+end]); ok {
					b.WriteString(r)
					i += end + 1
					continue
				}
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func htmlEntity(e string) (string, bool) {
	switch e {
	case "amp":
		return "&", true
	case "lt":
		return "<", true
	case "gt":
		return ">", true
	case "quot":
		return `"`, true
	case "apos":
		return "'", true
	case "nbsp":
		return " ", true
	}
	if strings.HasPrefix(e, "#") {
		n := 0
		base := 10
		digits := e[1:]
		if strings.HasPrefix(digits, "x") || strings.HasPrefix(digits, "X") {
			base, digits = 16, digits[1:]
		}
		if digits == "" {
			return "", false
		}
		for _, d := range digits {
			v := strings.IndexRune("0123456789abcdef", d|0x20)
			if v < 0 || v >= base {
				return "", false
			}
			n = n*base + v
			if n > utf8.MaxRune {
				return "", false
			}
		}
		return string(rune(n)), true
	}
	return "", false
}
