package sieve

import (
	"fmt"
	"strings"
)

// tokKind is the kind of a lexical token (RFC 5228 §8.1).
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tTag
	tString // quoted-string or multi-line
	tNumber
	tLBracket
	tRBracket
	tLParen
	tRParen
	tLBrace
	tRBrace
	tComma
	tSemicolon
	tError
)

var tokNames = [...]string{
	tEOF: "end of script", tIdent: "identifier", tTag: "tag", tString: "string",
	tNumber: "number", tLBracket: `"["`, tRBracket: `"]"`, tLParen: `"("`, tRParen: `")"`,
	tLBrace: `"{"`, tRBrace: `"}"`, tComma: `","`, tSemicolon: `";"`, tError: "invalid input",
}

func (k tokKind) String() string { return tokNames[k] }

// position is a position in a script: 1-based line and column (in bytes).
type position struct{ Line, Col int }

type token struct {
	kind tokKind
	pos  position
	text string // identifier/tag name (tag without ':'), string value, raw text for errors
	num  int64
	raw  string // source text of the token, for messages
}

// describe returns the token as an error message shows it.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of script"
	case tIdent:
		return fmt.Sprintf("identifier %q", t.text)
	case tTag:
		return fmt.Sprintf("tag \":%s\"", t.text)
	case tString:
		s := t.text
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return fmt.Sprintf("string %q", s)
	case tNumber:
		return fmt.Sprintf("number %s", t.raw)
	case tError:
		return fmt.Sprintf("%q", t.raw)
	}
	return t.kind.String()
}

// lexer turns script source into tokens (RFC 5228 §2 and §8.1).
type lexer struct {
	src  string
	file string
	off  int
	line int
	col  int
	errs *ErrorList
}

func newLexer(file string, src string, errs *ErrorList) *lexer {
	return &lexer{src: src, file: file, line: 1, col: 1, errs: errs}
}

func (l *lexer) errorf(p position, hint, format string, args ...any) {
	*l.errs = append(*l.errs, &Error{File: l.file, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (l *lexer) pos() position { return position{l.line, l.col} }

// advance moves over n bytes, tracking lines.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipSpace skips white space and comments (RFC 5228 §2.3). It reports
// an unterminated bracket comment.
func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance(1)
		case c == '#':
			// RFC 5228 §2.3 hash-comment: to the end of the line.
			i := strings.IndexByte(l.src[l.off:], '\n')
			if i < 0 {
				l.advance(len(l.src) - l.off)
			} else {
				l.advance(i + 1)
			}
		case c == '/' && l.off+1 < len(l.src) && l.src[l.off+1] == '*':
			// RFC 5228 §2.3 bracket-comment: "/*" ... "*/", not nested.
			p := l.pos()
			i := strings.Index(l.src[l.off+2:], "*/")
			if i < 0 {
				l.errorf(p, "close it with \"*/\"", "unterminated comment")
				l.advance(len(l.src) - l.off)
				return
			}
			l.advance(i + 4)
		default:
			return
		}
	}
}

// next returns the next token.
func (l *lexer) next() token {
	l.skipSpace()
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}
	}
	c := l.src[l.off]
	single := func(k tokKind) token {
		l.advance(1)
		return token{kind: k, pos: p, raw: string(c)}
	}
	switch c {
	case '[':
		return single(tLBracket)
	case ']':
		return single(tRBracket)
	case '(':
		return single(tLParen)
	case ')':
		return single(tRParen)
	case '{':
		return single(tLBrace)
	case '}':
		return single(tRBrace)
	case ',':
		return single(tComma)
	case ';':
		return single(tSemicolon)
	case '"':
		return l.quoted(p)
	case ':':
		start := l.off
		l.advance(1)
		if l.off >= len(l.src) || !(isAlpha(l.src[l.off]) || l.src[l.off] == '_') {
			l.errorf(p, "a tag is \":\" followed by a name, e.g. \":is\"", "invalid tag")
			return token{kind: tError, pos: p, raw: ":"}
		}
		n := l.identLen()
		l.advance(n)
		return token{kind: tTag, pos: p, text: strings.ToLower(l.src[start+1 : l.off]), raw: l.src[start:l.off]}
	}
	if isDigit(c) {
		return l.number(p)
	}
	if isAlpha(c) || c == '_' {
		n := l.identLen()
		word := l.src[l.off : l.off+n]
		// RFC 5228 §8.1 multi-line = "text:" *(SP / HTAB) (hash-comment / CRLF)
		if strings.EqualFold(word, "text") && l.off+n < len(l.src) && l.src[l.off+n] == ':' {
			return l.multiline(p)
		}
		l.advance(n)
		return token{kind: tIdent, pos: p, text: strings.ToLower(word), raw: word}
	}
	// Invalid character: report it and skip it.
	r := l.src[l.off:min(l.off+1, len(l.src))]
	l.errorf(p, "", "unexpected character %q", r)
	l.advance(1)
	return token{kind: tError, pos: p, raw: r}
}

func (l *lexer) identLen() int {
	i := l.off
	for i < len(l.src) && (isAlpha(l.src[i]) || isDigit(l.src[i]) || l.src[i] == '_') {
		i++
	}
	return i - l.off
}

// number lexes RFC 5228 §2.4.1 numbers with the K/M/G quantifiers.
func (l *lexer) number(p position) token {
	start := l.off
	var v uint64
	overflow := false
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		v = v*10 + uint64(l.src[l.off]-'0')
		if v > 1<<53 {
			overflow = true
		}
		l.advance(1)
	}
	if l.off < len(l.src) {
		mult := uint64(1)
		switch l.src[l.off] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			l.advance(1)
			if v > (1<<53)/mult {
				overflow = true
			}
			v *= mult
		}
	}
	raw := l.src[start:l.off]
	if l.off < len(l.src) && (isAlpha(l.src[l.off]) || l.src[l.off] == '_') {
		n := l.identLen()
		l.advance(n)
		raw = l.src[start:l.off]
		l.errorf(p, "numbers may only carry the quantifiers K, M or G", "invalid number %q", raw)
		return token{kind: tError, pos: p, raw: raw}
	}
	if overflow {
		l.errorf(p, "", "number %s is too large", raw)
		return token{kind: tError, pos: p, raw: raw}
	}
	return token{kind: tNumber, pos: p, num: int64(v), raw: raw}
}

// quoted lexes a quoted-string (RFC 5228 §2.4.2): only \" and \\ are
// escapes; any other backslash is dropped ("\q" is "q"). A line break
// in the string is CRLF (RFC 5228 §2.4.2), so a bare LF of a script
// saved with Unix line ends becomes CRLF, as in Pigeonhole.
func (l *lexer) quoted(p position) token {
	l.advance(1)
	var b strings.Builder
	start := l.off
	for {
		if l.off >= len(l.src) {
			l.errorf(p, "close it with a double quote", "unterminated string")
			return token{kind: tError, pos: p, raw: `"` + l.src[start:min(len(l.src), start+20)]}
		}
		c := l.src[l.off]
		switch c {
		case '"':
			l.advance(1)
			return token{kind: tString, pos: p, text: b.String(), raw: l.src[start-1 : l.off]}
		case '\\':
			if l.off+1 < len(l.src) {
				b.WriteByte(l.src[l.off+1])
				l.advance(2)
				continue
			}
			l.advance(1)
		case '\n':
			if l.off == 0 || l.src[l.off-1] != '\r' {
				b.WriteByte('\r')
			}
			b.WriteByte(c)
			l.advance(1)
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
}

// multiline lexes "text:" ... "." (RFC 5228 §2.4.2): the rest of the
// first line must be blank or a hash comment; a line starting with ".."
// loses the first "." (dot-stuffing; a lone leading "." stays, RFC 5228
// §8.1 multiline-dotstart); a line holding only "." ends the string;
// lines end with CRLF.
func (l *lexer) multiline(p position) token {
	l.advance(5) // "text:"
	for l.off < len(l.src) && (l.src[l.off] == ' ' || l.src[l.off] == '\t') {
		l.advance(1)
	}
	if l.off < len(l.src) && l.src[l.off] == '#' {
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance(1)
		}
	}
	if l.off < len(l.src) && l.src[l.off] == '\r' {
		l.advance(1)
	}
	if l.off >= len(l.src) || l.src[l.off] != '\n' {
		l.errorf(p, "nothing but a comment may follow \"text:\" on its line", "invalid multi-line string")
		// Skip to the end of the line and carry on.
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance(1)
		}
	}
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			l.errorf(p, "end a multi-line string with a line holding only \".\"", "unterminated multi-line string")
			return token{kind: tError, pos: p, raw: "text:"}
		}
		end := strings.IndexByte(l.src[l.off:], '\n')
		var line string
		if end < 0 {
			line = l.src[l.off:]
			end = len(line)
		} else {
			line = l.src[l.off : l.off+end]
			end++
		}
		l.advance(end)
		line = strings.TrimSuffix(line, "\r")
		if line == "." {
			return token{kind: tString, pos: p, text: b.String(), raw: "text:"}
		}
		if strings.HasPrefix(line, "..") {
			line = line[1:]
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
}

// lexAll returns every token of src (used by tests and the fuzzer).
func lexAll(file, src string) ([]token, ErrorList) {
	var errs ErrorList
	l := newLexer(file, src, &errs)
	var out []token
	for {
		t := l.next()
		out = append(out, t)
		if t.kind == tEOF {
			return out, errs
		}
	}
}
