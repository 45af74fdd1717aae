package imapconn

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
)

// tracer writes the protocol trace to Options.DebugWriter one complete
// line at a time, "C: " for what we send and "S: " for what the server
// sends, with credentials redacted:
//
//   - `tag LOGIN ...` keeps only the tag and command; a literal that follows
//     (a user name or password sent as {n}) is redacted too;
//   - `tag AUTHENTICATE MECH ...` keeps the mechanism; every following
//     client line without a space is redacted (SASL responses are base64:
//     they carry the password or token), up to the next command, which
//     always has a space. This does not depend on the order in which the
//     two directions are traced.
//
// We wrap the connection ourselves rather than use go-imap's DebugWriter:
// that one tees both directions into one writer from two goroutines, so a
// LOGIN line could be split and escape redaction.
type tracer struct {
	mu         sync.Mutex
	w          io.Writer
	cbuf, sbuf []byte
	redactNext bool // next client line is a literal of a LOGIN
	inAuth     bool // after AUTHENTICATE, until the next command
}

const redacted = "<redacted>"

func (t *tracer) client(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cbuf = append(t.cbuf, p...)
	for {
		i := bytes.IndexByte(t.cbuf, '\n')
		if i < 0 {
			return
		}
		line := strings.TrimRight(string(t.cbuf[:i]), "\r")
		t.cbuf = t.cbuf[i+1:]
		t.emit("C: ", t.redactClient(line))
	}
}

func (t *tracer) server(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sbuf = append(t.sbuf, p...)
	for {
		i := bytes.IndexByte(t.sbuf, '\n')
		if i < 0 {
			return
		}
		line := strings.TrimRight(string(t.sbuf[:i]), "\r")
		t.sbuf = t.sbuf[i+1:]
		t.emit("S: ", line)
	}
}

func (t *tracer) redactClient(line string) string {
	if t.redactNext {
		t.redactNext = strings.HasSuffix(line, "}")
		return redacted
	}
	if t.inAuth {
		// SASL responses are base64: no spaces. A line with a space is
		// the next command.
		if !strings.Contains(line, " ") {
			return redacted
		}
		t.inAuth = false
	}
	f := strings.SplitN(line, " ", 4)
	if len(f) >= 2 {
		switch strings.ToUpper(f[1]) {
		case "LOGIN":
			t.redactNext = strings.HasSuffix(line, "}")
			return f[0] + " LOGIN " + redacted
		case "AUTHENTICATE":
			t.inAuth = true
			if len(f) >= 3 {
				return f[0] + " AUTHENTICATE " + f[2] + " " + redacted
			}
			return f[0] + " AUTHENTICATE " + redacted
		}
	}
	return line
}

func (t *tracer) emit(prefix, line string) {
	io.WriteString(t.w, prefix+line+"\n") //nolint:errcheck // best-effort trace
}

// tracedConn feeds a tracer with the plaintext that crosses it.
type tracedConn struct {
	net.Conn
	t *tracer
}

func (c *tracedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.t.server(p[:n])
	}
	return n, err
}

// Write traces before writing, so that a client line is always traced
// before the server's answer to it: the redaction state depends on order.
func (c *tracedConn) Write(p []byte) (int, error) {
	c.t.client(p)
	return c.Conn.Write(p)
}
