package managesieve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// RFC 5804 §4 (formal syntax): a command is an atom followed by arguments,
// each a quoted string, a literal or a number, ended by CRLF:
//
//	string        = quoted / literal-c2s
//	quoted        = DQUOTE *QUOTED-CHAR DQUOTE     ; \" and \\ escape
//	literal-c2s   = "{" number "+}" CRLF *OCTET    ; non-synchronizing
//
// Clients send non-synchronizing literals; a plain "{n}" is accepted too
// (the server never sends a continuation, RFC 5804 §1.4: there is none).

// errTooLong is returned for a line or literal over the reader's limits.
var errTooLong = errors.New("line or literal too long")

// token is one argument of a command line.
type token struct {
	s      string
	quoted bool // a string (quoted or literal), not an atom or number
	over   bool // a literal over the reader's maxLiteral, dropped (s is "")
}

// reader reads command lines.
type reader struct {
	br         *bufio.Reader
	maxLine    int   // bytes of one line outside literals
	maxLiteral int64 // bytes of one literal kept
}

// readCommand reads one command: its name (upper case) and arguments.
// io.EOF at a line boundary is returned as is.
func (r *reader) readCommand() (string, []token, error) {
	toks, err := r.readTokens()
	if err != nil {
		return "", nil, err
	}
	if len(toks) == 0 {
		return "", nil, errors.New("empty command")
	}
	if toks[0].quoted {
		return "", nil, errors.New("a command starts with its name")
	}
	return strings.ToUpper(toks[0].s), toks[1:], nil
}

// readTokens reads one line's tokens, literals included. A literal over
// maxLiteral is read and dropped (token.over), so the command can be
// answered; one over hardLiteral is errTooLong and ends the connection.
func (r *reader) readTokens() ([]token, error) {
	var toks []token
	for {
		line, err := r.readLine()
		if err != nil {
			return nil, err
		}
		rest, lit, err := r.tokens(line, &toks)
		if err != nil {
			return nil, err
		}
		if lit < 0 {
			if rest != "" {
				return nil, fmt.Errorf("unexpected %q", rest)
			}
			return toks, nil
		}
		if lit > r.hardLiteral() {
			return nil, errTooLong
		}
		if lit > r.maxLiteral {
			if _, err := io.CopyN(io.Discard, r.br, lit); err != nil {
				return nil, err
			}
			toks = append(toks, token{quoted: true, over: true})
			continue
		}
		buf := make([]byte, lit)
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return nil, err
		}
		toks = append(toks, token{s: string(buf), quoted: true})
	}
}

// hardLiteral is the largest literal read at all: four times maxLiteral,
// at least 1 MiB.
func (r *reader) hardLiteral() int64 { return max(4*r.maxLiteral, 1<<20) }

// readLine reads a line without its CRLF (a bare LF is accepted).
func (r *reader) readLine() (string, error) {
	var b strings.Builder
	for {
		chunk, err := r.br.ReadSlice('\n')
		b.Write(chunk)
		if b.Len() > r.maxLine {
			return "", errTooLong
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if b.Len() == 0 {
			return "", err
		}
		return "", io.ErrUnexpectedEOF
	}
	return strings.TrimRight(b.String(), "\r\n"), nil
}

// tokens appends the tokens of line to toks. When the line ends with a
// literal announcement it returns the literal's size (else -1).
func (r *reader) tokens(line string, toks *[]token) (rest string, literal int64, err error) {
	s := line
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return "", -1, nil
		}
		switch s[0] {
		case '"':
			v, n, err := unquote(s)
			if err != nil {
				return s, -1, err
			}
			*toks = append(*toks, token{s: v, quoted: true})
			s = s[n:]
		case '{':
			end := strings.IndexByte(s, '}')
			if end < 0 || strings.TrimSpace(s[end+1:]) != "" {
				return s, -1, fmt.Errorf("bad literal %q", s)
			}
			num := strings.TrimSuffix(s[1:end], "+")
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n < 0 {
				return s, -1, fmt.Errorf("bad literal size %q", s[:end+1])
			}
			return "", n, nil
		default:
			end := strings.IndexAny(s, " \"{")
			if end < 0 {
				end = len(s)
			}
			*toks = append(*toks, token{s: s[:end]})
			s = s[end:]
		}
	}
}

// unquote reads a quoted string at the start of s and returns it with the
// number of bytes it took.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", 0, errors.New(`bad escape in a quoted string (only \" and \\)`)
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated quoted string")
}

// quote renders s for the server's responses: a quoted string when it
// fits one (no CR, LF, NUL, at most 1 KiB), else a literal (RFC 5804 §4).
func quote(s string) string {
	if len(s) <= 1024 && !strings.ContainsAny(s, "\r\n\x00") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return fmt.Sprintf("{%d}\r\n%s", len(s), s)
}
