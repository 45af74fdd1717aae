package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure Start. A nil *Options means all defaults.
type Options struct {
	// Listen is the address to listen on. Default "127.0.0.1:0".
	Listen string
	// DialTimeout bounds the connection to the upstream server made for
	// each accepted client. Default 5 s.
	DialTimeout time.Duration
	// Opaque says the bytes are not plaintext IMAP (TLS, say): nothing is
	// parsed, faults with On are refused, and random faults fire per
	// server→client read instead of per command. Default false.
	Opaque bool
	// Seed seeds the per-connection RNGs (random faults, AtRandom
	// offsets). Default 0, which is a seed like any other.
	Seed uint64
	// Random, when set with a Probability above 0, injects faults at
	// random (see Random). Default: none.
	Random *Random
	// Logger receives a line per fault (info) and per connection (debug).
	// Default: discarded.
	Logger *slog.Logger
	// OnFault, when set, is called for each fault just before it takes
	// effect, on the goroutine that injects it. It must not block for
	// long and must not call Close.
	OnFault func(Event)
	// MaxEvents bounds the events kept for Events. Default 100000.
	MaxEvents int
}

// Proxy is a running fault-injecting TCP proxy.
type Proxy struct {
	opts     Options
	upstream string
	ln       net.Listener
	log      *slog.Logger
	ctx      context.Context // cancelled by Close: aborts upstream dials
	cancel   context.CancelFunc

	byteFaults atomic.Int32 // queued faults with ServerBytes

	mu       sync.Mutex
	closed   bool
	conns    map[*conn]struct{}
	queue    []Fault
	nextID   int
	accepted int
	commands int
	faults   map[Key]int
	events   []Event

	wg        sync.WaitGroup // accept loop, connection goroutines, timers
	closeOnce sync.Once
}

// Start listens (by default on 127.0.0.1:0) and forwards every accepted
// connection to upstream ("host:port") until Close.
func Start(upstream string, opts *Options) (*Proxy, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if upstream == "" {
		return nil, errors.New("faultproxy: no upstream address")
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = 100000
	}
	if o.Random != nil {
		r := *o.Random
		for _, k := range r.Kinds {
			if err := (Fault{Kind: k}).validate(false); err != nil {
				return nil, err
			}
		}
		o.Random = &r
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		opts: o, upstream: upstream, ln: ln, log: log.With("proxy", ln.Addr().String()),
		ctx: ctx, cancel: cancel,
		conns: make(map[*conn]struct{}), faults: make(map[Key]int),
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the listening address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port returns the listening port.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Next queues a one-shot fault: it fires at its trigger (see Fault) on
// whichever connection, open now or later, reaches the trigger first, and
// is then used up. Queued faults are matched in the order they were
// queued. A fault whose connection closes before it fires is lost and not
// counted.
func (p *Proxy) Next(f Fault) error {
	if err := f.validate(p.opts.Opaque); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("faultproxy: closed")
	}
	p.queue = append(p.queue, f)
	if f.ServerBytes > 0 {
		p.byteFaults.Add(1)
	}
	return nil
}

// Pending is the number of queued faults that have not fired.
func (p *Proxy) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// InjectAll applies f now (or f.After from now) to every open connection
// and returns how many. f must have no trigger (On, ServerBytes).
func (p *Proxy) InjectAll(f Fault) (int, error) {
	if err := f.validate(p.opts.Opaque); err != nil {
		return 0, err
	}
	if f.On != "" || f.ServerBytes > 0 {
		return 0, errors.New("faultproxy: InjectAll takes a fault without a trigger")
	}
	f = f.withDefaults(nil)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, nil
	}
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
		if f.After > 0 {
			// Scheduled under p.mu, so that Close cannot be waiting on
			// a WaitGroup at zero meanwhile.
			c.schedule(f.After, func() { c.fire(f, Command{}, false) })
		}
	}
	p.mu.Unlock()
	if f.After <= 0 {
		for _, c := range conns {
			c.fire(f, Command{}, false)
		}
	}
	return len(conns), nil
}

// KillAll resets every open connection (a Reset fault each, counted) and
// returns how many it reset. The listener keeps accepting.
func (p *Proxy) KillAll() int {
	p.mu.Lock()
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.fire(Fault{Kind: Reset}, Command{}, false)
	}
	return len(conns)
}

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Accepted: p.accepted, Active: len(p.conns), Commands: p.commands, Faults: maps.Clone(p.faults)}
}

// Events returns the faults injected so far, in order (at most
// Options.MaxEvents, the oldest first).
func (p *Proxy) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// Close stops accepting, closes every connection and waits until every
// goroutine of the proxy has returned. It is safe to call more than once.
func (p *Proxy) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		conns := make([]*conn, 0, len(p.conns))
		for c := range p.conns {
			conns = append(conns, c)
		}
		p.mu.Unlock()
		p.cancel()
		if e := p.ln.Close(); e != nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
		for _, c := range conns {
			c.close(false)
		}
		p.wg.Wait()
	})
	return err
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			p.log.Warn("faultproxy: accept", "err", err)
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			nc.Close()
			return
		}
		p.nextID++
		id := p.nextID
		p.accepted++
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(nc.(*net.TCPConn), id)
	}
}

// serve connects to the upstream server and runs the two pumps of one
// connection; it returns when both have.
func (p *Proxy) serve(cli *net.TCPConn, id int) {
	defer p.wg.Done()
	d := net.Dialer{Timeout: p.opts.DialTimeout}
	nc, err := d.DialContext(p.ctx, "tcp", p.upstream)
	if err != nil {
		p.log.Warn("faultproxy: dial upstream", "conn", id, "err", err)
		cli.SetLinger(0)
		cli.Close()
		return
	}
	c := newConn(p, id, cli, nc.(*net.TCPConn))
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.close(false)
		return
	}
	p.conns[c] = struct{}{}
	// A queued fault without a trigger is for the next connection.
	var now []Fault
	for i := 0; i < len(p.queue); i++ {
		if f := p.queue[i]; f.On == "" && f.ServerBytes == 0 {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			i--
			now = append(now, f)
		}
	}
	for _, f := range now {
		f = f.withDefaults(c.respRNG)
		if f.After > 0 {
			c.schedule(f.After, func() { c.fire(f, Command{}, false) })
		}
	}
	p.mu.Unlock()
	p.log.Debug("faultproxy: connection", "conn", id, "client", cli.RemoteAddr().String())
	for _, f := range now {
		if f.After <= 0 {
			c.fire(f, Command{}, false)
		}
	}

	s2cDone := make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(s2cDone)
		c.serverToClient()
	}()
	c.clientToServer()
	<-s2cDone
	c.close(false)
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// claimCommand takes the first queued fault for command name.
func (p *Proxy) claimCommand(name string) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.commands++
	for i, f := range p.queue {
		if f.On == "*" || (f.On != "" && strings.EqualFold(f.On, name)) {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			return f, true
		}
	}
	return Fault{}, false
}

// claimBytes takes the queued ServerBytes faults that a connection that
// has forwarded sent bytes reaches within the next n bytes.
func (p *Proxy) claimBytes(sent int64, n int) []Fault {
	if p.byteFaults.Load() == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Fault
	for i := 0; i < len(p.queue); i++ {
		if f := p.queue[i]; f.ServerBytes > 0 && f.ServerBytes <= sent+int64(n) {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			i--
			p.byteFaults.Add(-1)
			out = append(out, f)
		}
	}
	return out
}

// record counts and logs an injected fault and reports it to OnFault.
func (p *Proxy) record(ev Event) {
	p.mu.Lock()
	p.faults[Key{Kind: ev.Fault.Kind, Command: ev.Command.Name}]++
	if len(p.events) >= p.opts.MaxEvents {
		p.events = append(p.events[:0], p.events[1:]...)
	}
	p.events = append(p.events, ev)
	p.mu.Unlock()
	p.log.Info("faultproxy: fault", "conn", ev.Conn, "fault", ev.Fault.String(),
		"command", ev.Command.Name, "tag", ev.Command.Tag, "random", ev.Random)
	if p.opts.OnFault != nil {
		p.opts.OnFault(ev)
	}
}

func newRNG(seed uint64, id int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(id)<<8|stream))
}
