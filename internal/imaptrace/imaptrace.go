// Package imaptrace is a counting IMAP proxy for benchmarks: clients
// connect to it instead of the server, and it forwards every byte
// unchanged while it counts the commands clients send (by name, "UID
// MOVE" apart from "MOVE") and tracks which connections are in IDLE.
//
// It lets a benchmark see what a program under test does on the wire
// without changing the program: how many UID FETCH, UID MOVE and UID
// STORE commands `mailwarden apply` sends, that it never sends a plain
// EXPUNGE, and when all of `mailwarden run`'s watchers are idle (the
// moment the server has answered each connection's IDLE with its
// continuation request, RFC 2177).
//
// Parsing follows RFC 9051 §2.2 just enough: lines end in CRLF, and a line
// ending in a literal announcement {n} or {n+} is followed by n octets of
// data and then the rest of the same command or response. Both directions
// skip literal data, so message bytes that look like commands or "+ "
// continuations are never mistaken for them. The proxy is in the data
// path: use it for traces and readiness, and time runs without it.
package imaptrace

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Proxy forwards connections to one upstream IMAP server.
type Proxy struct {
	upstream string
	ln       net.Listener

	mu       sync.Mutex
	counts   map[string]int
	times    map[string]time.Duration
	open     int
	accepted int
	idle     int
	idleAt   time.Time // when idle last grew
	maxIdle  int
	bytesUp  int64 // client to server
	bytesDn  int64 // server to client
	changed  chan struct{}
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
	closed   bool
}

// Start listens on 127.0.0.1 (a free port) and forwards to upstream
// (host:port).
func Start(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{upstream: upstream, ln: ln, counts: map[string]int{}, times: map[string]time.Duration{}, changed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port; Port its port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port is the proxy's port.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Stats is a snapshot of what the proxy saw.
type Stats struct {
	// Commands counts client commands by upper-case name: "LOGIN",
	// "SELECT", "UID FETCH", "UID MOVE", "EXPUNGE", "IDLE", and "DONE"
	// for the line that ends an IDLE.
	Commands map[string]int
	// Time is, per command name, the sum over its commands of the time
	// from the command line passing the proxy to the server's tagged
	// completion passing it: the server's time plus loopback latency.
	Time map[string]time.Duration
	// Accepted connections in total; Open now.
	Accepted, Open int
	// Idle is the number of connections in IDLE now; MaxIdle the most at
	// any time.
	Idle, MaxIdle int
	// BytesUp were sent by clients, BytesDown by the server.
	BytesUp, BytesDown int64
}

// Stats returns a snapshot.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		c[k] = v
	}
	t := make(map[string]time.Duration, len(p.times))
	for k, v := range p.times {
		t[k] = v
	}
	return Stats{Commands: c, Time: t, Accepted: p.accepted, Open: p.open, Idle: p.idle, MaxIdle: p.maxIdle, BytesUp: p.bytesUp, BytesDown: p.bytesDn}
}

// Reset zeroes the command and byte counts (connections stay).
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = map[string]int{}
	p.times = map[string]time.Duration{}
	p.bytesUp, p.bytesDn, p.accepted, p.maxIdle = 0, 0, p.open, p.idle
}

// WaitIdle waits until at least n connections are in IDLE at the same
// time, and returns when that happened (when the server's continuation
// that made the count reach n passed the proxy).
func (p *Proxy) WaitIdle(ctx context.Context, n int) (time.Time, error) {
	for {
		p.mu.Lock()
		idle, at, ch := p.idle, p.idleAt, p.changed
		p.mu.Unlock()
		if idle >= n {
			return at, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// Close stops listening and closes every forwarded connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

// notify wakes WaitIdle; p.mu must be held.
func (p *Proxy) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		if p.closed {
			return false
		}
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
	return true
}

// serve forwards one connection in both directions.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(client, true) || !p.track(server, true) {
		return
	}
	defer p.track(client, false)
	defer p.track(server, false)
	p.mu.Lock()
	p.accepted++
	p.open++
	p.mu.Unlock()

	st := &connState{p: p, pending: map[string]pending{}}
	done := make(chan struct{}, 2)
	go func() {
		p.pipe(server, client, &lineParser{line: st.clientLine}, &p.bytesUp)
		server.(*net.TCPConn).CloseWrite()
		done <- struct{}{}
	}()
	go func() {
		p.pipe(client, server, &lineParser{line: st.serverLine}, &p.bytesDn)
		client.(*net.TCPConn).CloseWrite()
		done <- struct{}{}
	}()
	<-done
	// One side is finished: closing both ends the other copy.
	client.Close()
	server.Close()
	<-done
	p.mu.Lock()
	p.open--
	if st.idle {
		p.idle--
		st.idle = false
	}
	p.notify()
	p.mu.Unlock()
}

// pipe copies src to dst, feeding every chunk to lp.
func (p *Proxy) pipe(dst, src net.Conn, lp *lineParser, bytes *int64) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			// Parse before forwarding: a command is pending before the
			// server can answer it (the other pipe would otherwise see
			// the tagged reply first and drop the time).
			lp.feed(buf[:n])
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			p.mu.Lock()
			*bytes += int64(n)
			p.mu.Unlock()
		}
		if err != nil { // io.EOF or a closed connection: either way, done
			return
		}
	}
}

// connState follows one connection: whether its client asked for IDLE and
// whether the server accepted it.
type connState struct {
	p       *Proxy
	idleReq bool // client sent IDLE, no continuation yet
	idle    bool
	pending map[string]pending // by tag; guarded by p.mu
}

// pending is a command waiting for its tagged completion.
type pending struct {
	name  string
	start time.Time
}

// clientLine sees each client line that starts a command (not literal
// data, not the continuation of a command after a literal).
func (s *connState) clientLine(line []byte, first bool) {
	if !first {
		return
	}
	name := commandName(line)
	if name == "" {
		return
	}
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[name]++
	if name != "DONE" {
		tag, _, _ := bytes.Cut(line, []byte(" "))
		s.pending[string(tag)] = pending{name: name, start: time.Now()}
	}
	switch name {
	case "IDLE":
		s.idleReq = true
	case "DONE":
		s.idleReq = false
		if s.idle {
			s.idle = false
			p.idle--
			p.notify()
		}
	}
}

// serverLine sees each server response line start.
func (s *connState) serverLine(line []byte, first bool) {
	if !first || len(line) == 0 || line[0] == '*' {
		return
	}
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if line[0] != '+' {
		tag, _, _ := bytes.Cut(line, []byte(" "))
		if c, ok := s.pending[string(tag)]; ok {
			delete(s.pending, string(tag))
			p.times[c.name] += time.Since(c.start)
		}
		return
	}
	if s.idleReq && !s.idle {
		s.idleReq = false
		s.idle = true
		p.idle++
		p.idleAt = time.Now()
		p.maxIdle = max(p.maxIdle, p.idle)
		p.notify()
	}
}

// commandName returns the upper-case command of a client line: "UID
// FETCH" for "a1 UID FETCH 1:* ...", "DONE" for the end of an IDLE, ""
// for anything else (a SASL response line).
func commandName(line []byte) string {
	f := strings.Fields(string(line))
	if len(f) == 1 && strings.EqualFold(f[0], "DONE") {
		return "DONE"
	}
	if len(f) < 2 {
		return ""
	}
	name := strings.ToUpper(f[1])
	if name == "UID" && len(f) >= 3 {
		name += " " + strings.ToUpper(f[2])
	}
	return name
}

// lineParser splits a byte stream into IMAP lines, skipping literal data.
// line is called for each line without its CRLF; first is false for the
// remainder of a command or response after a literal.
type lineParser struct {
	line    func(line []byte, first bool)
	buf     []byte
	literal int64 // literal octets still to skip
	cont    bool  // the next line continues the current one
}

func (lp *lineParser) feed(b []byte) {
	for len(b) > 0 {
		if lp.literal > 0 {
			n := min(int64(len(b)), lp.literal)
			lp.literal -= n
			b = b[n:]
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lp.buf = append(lp.buf, b...)
			return
		}
		line := b[:i]
		if len(lp.buf) > 0 {
			lp.buf = append(lp.buf, line...)
			line = lp.buf
		}
		b = b[i+1:]
		line = bytes.TrimSuffix(line, []byte("\r"))
		lp.line(line, !lp.cont)
		lp.literal = literalSize(line)
		lp.cont = lp.literal >= 0
		if lp.literal < 0 {
			lp.literal = 0
		}
		lp.buf = lp.buf[:0]
	}
}

// literalSize returns n when line ends in {n} or {n+} (RFC 9051 §4.3,
// RFC 7888), else -1.
func literalSize(line []byte) int64 {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return -1
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return -1
	}
	num := strings.TrimSuffix(string(line[open+1:len(line)-1]), "+")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
