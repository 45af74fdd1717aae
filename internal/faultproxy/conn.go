package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

const (
	c2s = 0 // client → server
	s2c = 1 // server → client

	bufSize = 32 << 10
	// truncateGrace is how long a truncated connection waits for the
	// client to close before the proxy closes it.
	truncateGrace = 2 * time.Second
)

// gate holds back one direction: until a time, or for good (then what
// arrives is discarded).
type gate struct {
	until   time.Time
	forever bool
}

// drip paces server→client bytes.
type drip struct {
	chunk    int
	interval time.Duration
	until    time.Time // zero: no time limit
	tag      string    // non-empty: ends after the tagged completion of tag
}

// armed is a fault waiting in the server→client stream.
type armed struct {
	f         Fault
	cmd       Command
	random    bool
	remaining int64 // response bytes to forward before it fires; -1: only at the tagged completion
}

// conn is one proxied connection: a client→server pump (the serve
// goroutine) and a server→client pump.
type conn struct {
	p        *Proxy
	id       int
	cli, srv *net.TCPConn
	done     chan struct{} // closed when the connection is closed
	cmdRNG   *rand.Rand    // used only by the client→server pump
	respRNG  *rand.Rand    // used only by the server→client pump (and before the pumps start)

	closeOnce sync.Once

	mu         sync.Mutex
	closed     bool
	truncating bool
	gates      [2]gate
	drip       *drip
	armed      []*armed
	timers     []*time.Timer
	sent       int64 // server→client bytes forwarded
}

func newConn(p *Proxy, id int, cli, srv *net.TCPConn) *conn {
	return &conn{
		p: p, id: id, cli: cli, srv: srv, done: make(chan struct{}),
		cmdRNG:  newRNG(p.opts.Seed, id, 1),
		respRNG: newRNG(p.opts.Seed, id, 2),
	}
}

// close closes both sockets (with RST when reset) and wakes every wait.
func (c *conn) close(reset bool) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		timers := c.timers
		c.timers = nil
		c.mu.Unlock()
		for _, t := range timers {
			if t.Stop() {
				c.p.wg.Done()
			}
		}
		close(c.done)
		if reset {
			// SO_LINGER 0: close sends RST instead of FIN.
			c.cli.SetLinger(0)
			c.srv.SetLinger(0)
		}
		c.cli.Close()
		c.srv.Close()
	})
}

func (c *conn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// schedule runs fn after d unless the connection is closed first. The
// timer is owned: Close waits for a running fn and cancels the others.
func (c *conn) schedule(d time.Duration, fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.p.wg.Add(1)
	c.timers = append(c.timers, time.AfterFunc(d, func() {
		defer c.p.wg.Done()
		fn()
	}))
}

// sleep waits d or until the connection is closed (then false).
func (c *conn) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.done:
		return false
	case <-t.C:
		return true
	}
}

// trigger fires f now, or f.After from now.
func (c *conn) trigger(f Fault, cmd Command, random bool) {
	if f.After > 0 {
		c.schedule(f.After, func() { c.fire(f, cmd, random) })
		return
	}
	c.fire(f, cmd, random)
}

// fire records f and applies it.
func (c *conn) fire(f Fault, cmd Command, random bool) {
	if c.isClosed() {
		return
	}
	c.p.record(Event{Conn: c.id, Fault: f, Command: cmd, Random: random, Time: time.Now()})
	now := time.Now()
	c.mu.Lock()
	switch f.Kind {
	case Stall:
		g := gate{forever: f.Duration == 0, until: now.Add(f.Duration)}
		for dir := range c.gates {
			if !c.gates[dir].forever {
				c.gates[dir] = g
			}
		}
	case Drip:
		d := &drip{chunk: f.Chunk, interval: f.Interval}
		switch {
		case f.Duration > 0:
			d.until = now.Add(f.Duration)
		case cmd.Tag != "":
			d.tag = cmd.Tag
		}
		c.drip = d
	case Delay:
		dir := s2c
		if f.When == OnCommand && cmd.Name != "" {
			dir = c2s
		}
		if g := c.gates[dir]; !g.forever && g.until.Before(now.Add(f.Duration)) {
			c.gates[dir] = gate{until: now.Add(f.Duration)}
		}
	case Truncate:
		c.truncating = true
		c.gates[c2s] = gate{forever: true}
		c.gates[s2c] = gate{forever: true}
	}
	c.mu.Unlock()
	switch f.Kind {
	case Reset:
		c.close(true)
	case Truncate:
		// FIN after the bytes already forwarded: the client reads them,
		// then EOF. Its input is drained until it closes (closing a
		// socket with unread input would send RST instead).
		c.cli.CloseWrite()
		c.srv.Close()
		c.schedule(truncateGrace, func() { c.close(false) })
	}
}

// forward writes data in direction dir, honouring gates and drips. It
// returns false when the connection is closed.
func (c *conn) forward(dir int, data []byte) bool {
	dst := c.srv
	if dir == s2c {
		dst = c.cli
	}
	for len(data) > 0 {
		if c.isClosed() {
			return false
		}
		now := time.Now()
		c.mu.Lock()
		g := c.gates[dir]
		var d drip
		dripping := false
		if dir == s2c && c.drip != nil {
			if !c.drip.until.IsZero() && !now.Before(c.drip.until) {
				c.drip = nil
			} else {
				d, dripping = *c.drip, true
			}
		}
		c.mu.Unlock()
		if g.forever {
			return true // stalled for good: discard
		}
		if wait := g.until.Sub(now); wait > 0 {
			if !c.sleep(wait) {
				return false
			}
			continue
		}
		n := len(data)
		if dripping {
			n = min(n, d.chunk)
		}
		if _, err := dst.Write(data[:n]); err != nil {
			c.close(false)
			return false
		}
		data = data[n:]
		if dripping && !c.sleep(d.interval) {
			return false
		}
	}
	return true
}

// readEnded handles the end of one direction's input.
func (c *conn) readEnded(dir int, err error) {
	c.mu.Lock()
	g, trunc := c.gates[dir], c.truncating
	c.mu.Unlock()
	eof := errors.Is(err, io.EOF)
	switch {
	case eof && !g.forever && !trunc && dir == c2s:
		c.srv.CloseWrite() // pass the half-close on
	case eof && !g.forever && !trunc && dir == s2c:
		c.cli.CloseWrite()
	case dir == s2c && (g.forever || trunc):
		// Stalled or truncated: the client's socket stays as it is
		// (no FIN, no RST) until the client closes it.
	default:
		c.close(false)
	}
}

// clientToServer is the client→server pump.
func (c *conn) clientToServer() {
	buf := make([]byte, bufSize)
	var sc cmdScanner
	for {
		n, err := c.cli.Read(buf)
		if n > 0 {
			if c.p.opts.Opaque {
				if !c.forward(c2s, buf[:n]) {
					return
				}
			} else {
				for _, pc := range sc.feed(buf[:n]) {
					ok := false
					if pc.cmd != nil {
						ok = c.onCommand(pc)
					} else {
						ok = c.forward(c2s, pc.data)
					}
					if !ok {
						return
					}
				}
			}
		}
		if err != nil {
			c.readEnded(c2s, err)
			return
		}
	}
}

// onCommand forwards the first piece of a command, injecting the fault
// it claims, if any.
func (c *conn) onCommand(pc piece) bool {
	cmd := *pc.cmd
	f, random, ok := c.claim(cmd)
	if !ok {
		return c.forward(c2s, pc.data)
	}
	switch f.When {
	case OnCommand:
		c.trigger(f, cmd, random)
		return c.forward(c2s, pc.data)
	case AfterCommand:
		if !c.forward(c2s, pc.data) {
			return false
		}
		c.trigger(f, cmd, random)
		return true
	default: // InResponse: armed before the server can answer
		a := &armed{f: f, cmd: cmd, random: random, remaining: int64(f.Offset)}
		if f.Offset == AtEnd {
			a.remaining = -1
		}
		c.mu.Lock()
		c.armed = append(c.armed, a)
		c.mu.Unlock()
		return c.forward(c2s, pc.data)
	}
}

// claim returns the fault cmd gets: a queued one, else maybe a random one.
func (c *conn) claim(cmd Command) (f Fault, random, ok bool) {
	if f, ok := c.p.claimCommand(cmd.Name); ok {
		return f.withDefaults(c.cmdRNG), false, true
	}
	r := c.p.opts.Random
	if r == nil || r.Probability <= 0 || !r.matches(cmd.Name) || c.cmdRNG.Float64() >= r.Probability {
		return Fault{}, false, false
	}
	return r.draw(c.cmdRNG, &cmd), true, true
}

// serverToClient is the server→client pump.
func (c *conn) serverToClient() {
	buf := make([]byte, bufSize)
	var sc respScanner
	// held is the start of a line kept back because it may begin the
	// tagged completion of a command with an armed fault.
	var held []byte
	for {
		n, err := c.srv.Read(buf)
		if n > 0 {
			data := buf[:n]
			var ends []lineEnd
			atStart := false
			if !c.p.opts.Opaque {
				ends, atStart = sc.feed(data)
			}
			if len(held) > 0 {
				for i := range ends {
					ends[i].pos += len(held)
				}
				data = append(held, data...)
				atStart = true
			}
			rest, ok := c.deliver(data, atStart, ends)
			if !ok {
				return
			}
			held = bytes.Clone(rest)
		}
		if err != nil {
			if len(held) > 0 && !c.forward(s2c, held) {
				return
			}
			c.readEnded(s2c, err)
			return
		}
	}
}

// deliver forwards one server chunk, firing the armed faults that fall
// inside it at their exact byte. It returns the tail it holds back (see
// nextCut), and false once the connection is closed.
func (c *conn) deliver(p []byte, atStart bool, ends []lineEnd) (rest []byte, ok bool) {
	c.mu.Lock()
	sent := c.sent
	c.mu.Unlock()
	var extra []*armed
	for _, f := range c.p.claimBytes(sent, len(p)) {
		extra = append(extra, &armed{f: f.withDefaults(c.respRNG), remaining: max(0, f.ServerBytes-sent)})
	}
	if r := c.p.opts.Random; c.p.opts.Opaque && r != nil && r.Probability > 0 && c.respRNG.Float64() < r.Probability {
		extra = append(extra, &armed{f: r.draw(c.respRNG, nil), random: true, remaining: int64(c.respRNG.IntN(len(p)))})
	}
	if len(extra) > 0 {
		c.mu.Lock()
		c.armed = append(c.armed, extra...)
		c.mu.Unlock()
	}
	off := 0
	for {
		cut, a, endDrip, hold := c.nextCut(p, off, atStart, ends)
		if cut > off && !c.forward(s2c, p[off:cut]) {
			return nil, false
		}
		c.mu.Lock()
		c.sent += int64(cut - off)
		for _, x := range c.armed {
			if x.remaining > 0 {
				x.remaining -= int64(cut - off)
			}
		}
		if endDrip {
			c.drip = nil
		}
		c.mu.Unlock()
		off = cut
		if a != nil {
			c.trigger(a.f, a.cmd, a.random)
			if c.isClosed() {
				return nil, false
			}
			continue
		}
		if hold {
			return p[off:], true
		}
		if !endDrip && off >= len(p) {
			return nil, true
		}
	}
}

// nextCut finds the next point in p at or after off where something
// happens: an armed fault fires (it is removed and returned), a drip ends,
// or the rest must be held back because it may be the first bytes of an
// armed command's tagged completion (the fault must fire before any byte
// of it). With nothing to do, cut is len(p).
func (c *conn) nextCut(p []byte, off int, atStart bool, ends []lineEnd) (cut int, fire *armed, endDrip, hold bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cut = len(p)
	best := -1
	holdAt := -1
	for i, a := range c.armed {
		pos := math.MaxInt
		if a.remaining >= 0 && a.remaining <= int64(len(p)-off) {
			pos = off + int(a.remaining)
		}
		if a.cmd.Tag != "" {
			at, h := tagLine(p, off, atStart, ends, a.cmd.Tag)
			if at >= 0 {
				pos = min(pos, at)
			}
			if h >= 0 && (holdAt < 0 || h < holdAt) {
				holdAt = h
			}
		}
		if pos <= cut && (best < 0 || pos < cut) {
			cut, best = pos, i
		}
	}
	if d := c.drip; d != nil && d.tag != "" {
		for _, e := range ends {
			if e.pos > off && e.tag == d.tag {
				switch {
				case e.pos < cut:
					cut, best, endDrip = e.pos, -1, true
				case e.pos == cut:
					endDrip = true
				}
				break
			}
		}
	}
	if holdAt >= 0 && holdAt < cut {
		cut, best, endDrip, hold = holdAt, -1, false, true
	}
	if best >= 0 {
		fire = c.armed[best]
		c.armed = append(c.armed[:best], c.armed[best+1:]...)
	}
	return cut, fire, endDrip, hold
}

// tagLine looks at the lines of p starting at or after off for the tagged
// completion of tag ("tag SP ..."). at is where it starts; hold is where a
// final, incomplete line starts that may still turn out to be it.
func tagLine(p []byte, off int, atStart bool, ends []lineEnd, tag string) (at, hold int) {
	want := []byte(tag + " ")
	check := func(s int) bool {
		if s < off {
			return false
		}
		line := p[s:]
		if len(line) >= len(want) {
			if bytes.HasPrefix(line, want) {
				at = s
				return true
			}
			return false
		}
		if bytes.HasPrefix(want, line) {
			hold = s
			return true
		}
		return false
	}
	at, hold = -1, -1
	if atStart && check(0) {
		return at, hold
	}
	for _, e := range ends {
		if e.pos < len(p) && check(e.pos) {
			break
		}
	}
	return at, hold
}
