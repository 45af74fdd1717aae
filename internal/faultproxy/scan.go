package faultproxy

import (
	"bytes"
	"strings"
)

// Streaming IMAP framing, just enough to know where commands and
// responses start and end (RFC 9051 §2.2, §4.3): lines end in LF (CRLF
// on the wire), and a line that ends in a literal marker "{n}", "{n+}",
// "{n-}" or "~{n}" is followed by n bytes of literal data, after which the
// same logical line goes on. Nothing inside a literal is ever taken for a
// command or a response, so an APPEND of a message whose body reads
// "a1 UID MOVE 1 Trash" or a FETCH of one containing "A5 OK" does not
// confuse the proxy. Memory is bounded whatever the line length: only the
// first bytes of a line and the last bytes of a physical line are kept.

const (
	// maxHold bounds the bytes of a client line held back until its tag
	// and verb are known; a longer unclassified line is forwarded as data.
	maxHold = 256
	// maxHead is how much of a response line is kept to read its tag.
	maxHead = 64
	// tailLen is how much of a physical line is kept to spot a literal
	// marker at its end: "~{" + 19 digits + "+}" + CRLF fits.
	tailLen = 32
)

// Command is a client command as the proxy saw it on the wire.
type Command struct {
	// Tag is the command's tag ("A12"). For DONE it is the tag of the
	// IDLE it ends, since the server answers DONE with that tag.
	Tag string
	// Name is the verb in upper case, with the UID prefix when present:
	// "UID FETCH", "IDLE", "DONE", "LOGIN".
	Name string
	// Seq numbers the commands of one connection from 1.
	Seq int
}

// lineScanner tracks physical and logical lines and literals in one
// direction of the stream.
type lineScanner struct {
	lit  int64  // literal bytes still to come
	head []byte // first bytes of the current logical line (≤ maxHead)
	tail []byte // last bytes of the current physical line (≤ tailLen)
}

// step consumes the next piece of p: literal bytes, or bytes up to and
// including the next LF. lf reports that a physical line ended; end that
// the logical line ended too (no literal follows). Then the caller reads
// head and calls reset.
func (s *lineScanner) step(p []byte) (n int, lf, end bool) {
	if s.lit > 0 {
		n = int(min(int64(len(p)), s.lit))
		s.lit -= int64(n)
		return n, false, false
	}
	j := bytes.IndexByte(p, '\n')
	if j < 0 {
		s.add(p)
		return len(p), false, false
	}
	s.add(p[:j+1])
	if size, ok := literalSize(s.tail); ok {
		s.lit = size
		s.tail = s.tail[:0]
		return j + 1, true, false
	}
	return j + 1, true, true
}

func (s *lineScanner) add(p []byte) {
	if room := maxHead - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(room, len(p))]...)
	}
	if len(p) >= tailLen {
		s.tail = append(s.tail[:0], p[len(p)-tailLen:]...)
		return
	}
	s.tail = append(s.tail, p...)
	if over := len(s.tail) - tailLen; over > 0 {
		s.tail = append(s.tail[:0], s.tail[over:]...)
	}
}

func (s *lineScanner) reset() {
	s.head = s.head[:0]
	s.tail = s.tail[:0]
}

// literalSize reports whether line (the end of a physical line, with its
// LF) ends with a literal marker, and the literal's size (RFC 9051 §4.3,
// RFC 7888 LITERAL+/LITERAL-, RFC 3516 literal8).
func literalSize(line []byte) (int64, bool) {
	b := bytes.TrimSuffix(line, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) < 3 || b[len(b)-1] != '}' {
		return 0, false
	}
	b = b[:len(b)-1]
	if c := b[len(b)-1]; c == '+' || c == '-' {
		b = b[:len(b)-1]
	}
	i := bytes.LastIndexByte(b, '{')
	digits := b[i+1:]
	if i < 0 || len(digits) == 0 || len(digits) > 19 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n >= 0
}

// piece is a run of client bytes; cmd is set when the run starts a
// command.
type piece struct {
	data []byte
	cmd  *Command
	held bool // data is owned by the piece (it was held back), not a slice of the input
}

// cmdScanner splits the client→server stream into pieces and classifies
// each command by its tag and verb. It holds back the first bytes of a
// line until the verb is known, so a fault can be injected before the
// server sees any byte of the command.
type cmdScanner struct {
	ls         lineScanner
	hold       []byte
	classified bool   // the current logical line has been classified
	idleTag    string // tag of an IDLE waiting for DONE
	seq        int
	out        []piece
}

// feed returns p as pieces, in order. Bytes of a line not yet classified
// are kept and returned by a later call. The returned slice and the
// non-held pieces' data are valid until the next call.
func (s *cmdScanner) feed(p []byte) []piece {
	s.out = s.out[:0]
	for len(p) > 0 {
		n, lf, end := s.ls.step(p)
		seg := p[:n]
		p = p[n:]
		if s.classified {
			s.emitData(seg)
		} else {
			s.hold = append(s.hold, seg...)
			cmd, ok := s.classify(lf)
			if !ok && !lf && len(s.hold) < maxHold {
				continue // need more bytes to see the verb
			}
			s.out = append(s.out, piece{data: s.hold, cmd: cmd, held: true})
			s.hold = nil
			s.classified = true
		}
		if end {
			s.classified = false
			s.ls.reset()
		}
	}
	return s.out
}

// emitData appends seg, merging it with the previous piece when both are
// consecutive slices of the same input.
func (s *cmdScanner) emitData(seg []byte) {
	if k := len(s.out) - 1; k >= 0 && !s.out[k].held && s.out[k].cmd == nil {
		prev := s.out[k].data
		if len(seg) > 0 && cap(prev) > len(prev) && &prev[:len(prev)+1][len(prev)] == &seg[0] {
			s.out[k].data = prev[:len(prev)+len(seg)]
			return
		}
	}
	s.out = append(s.out, piece{data: seg})
}

// classify reads the tag and verb from the held bytes. ok is false when
// more bytes are needed; a nil Command with ok means the line is not a
// command (a SASL response, junk). lineDone says the held bytes end with
// the physical line's LF.
func (s *cmdScanner) classify(lineDone bool) (*Command, bool) {
	line := s.hold
	if lineDone {
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	}
	if lineDone && strings.EqualFold(string(bytes.TrimSpace(line)), "DONE") && s.idleTag != "" {
		// RFC 2177: DONE ends the IDLE; the server answers with its tag.
		tag := s.idleTag
		s.idleTag = ""
		s.seq++
		return &Command{Tag: tag, Name: "DONE", Seq: s.seq}, true
	}
	tag, rest, found := bytes.Cut(line, []byte(" "))
	if !found {
		return nil, lineDone
	}
	verb, rest, found := bytes.Cut(rest, []byte(" "))
	if !found && !lineDone {
		return nil, false
	}
	name := strings.ToUpper(string(verb))
	if name == "UID" && found {
		sub, _, found2 := bytes.Cut(rest, []byte(" "))
		if !found2 && !lineDone {
			return nil, false
		}
		name += " " + strings.ToUpper(string(sub))
	}
	if !validTag(tag) || !validVerb(name) {
		return nil, true
	}
	s.seq++
	cmd := &Command{Tag: string(tag), Name: name, Seq: s.seq}
	if name == "IDLE" {
		s.idleTag = cmd.Tag
	}
	return cmd, true
}

// validTag: RFC 9051 tag = 1*<any ASTRING-CHAR except "+">.
func validTag(t []byte) bool {
	if len(t) == 0 || len(t) > 64 {
		return false
	}
	for _, c := range t {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]+`, c) >= 0 {
			return false
		}
	}
	return true
}

func validVerb(v string) bool {
	if v == "" || v == "UID " {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != ' ' && c != '-' {
			return false
		}
	}
	return true
}

// lineEnd is the end of a logical server line within a fed chunk.
type lineEnd struct {
	pos    int    // offset just past the LF
	tag    string // the tag of a tagged status response ("" otherwise)
	status string // OK, NO or BAD for a tagged response; BYE for "* BYE"
}

// respScanner finds the ends of server response lines and reads their
// tags (RFC 9051 §7.1: "tag OK|NO|BAD ..." completes a command).
type respScanner struct {
	ls      lineScanner
	ends    []lineEnd
	midLine bool // the next byte continues a logical line
}

// feed returns the line ends in p, in order, and whether p starts a
// logical line; the slice is valid until the next call.
func (s *respScanner) feed(p []byte) (ends []lineEnd, atLineStart bool) {
	atLineStart = !s.midLine
	s.ends = s.ends[:0]
	off := 0
	for off < len(p) {
		n, _, end := s.ls.step(p[off:])
		off += n
		s.midLine = !end
		if end {
			tag, status := classifyResponse(s.ls.head)
			s.ends = append(s.ends, lineEnd{pos: off, tag: tag, status: status})
			s.ls.reset()
		}
	}
	return s.ends, atLineStart
}

// classifyResponse reads "tag STATUS" or "* BYE" from the start of a
// response line.
func classifyResponse(head []byte) (tag, status string) {
	first, rest, found := bytes.Cut(head, []byte(" "))
	if !found {
		return "", ""
	}
	word, _, _ := bytes.Cut(rest, []byte(" "))
	word = bytes.TrimRight(word, "\r\n")
	st := strings.ToUpper(string(word))
	switch {
	case string(first) == "*":
		if st == "BYE" {
			return "", st
		}
		return "", ""
	case string(first) == "+":
		return "", ""
	case st == "OK" || st == "NO" || st == "BAD":
		return string(first), st
	}
	return "", ""
}
