package imapconn

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
)

// Client is one authenticated IMAP connection. It is not safe for
// concurrent use: one goroutine owns it (go-imap would pipeline concurrent
// commands, and IDLE blocks every other command).
type Client struct {
	c       *imapclient.Client
	log     *slog.Logger
	addr    string
	caps    imap.CapSet // after authentication
	updates chan struct{}
	noIdle  bool // Options.NoIdle

	activity        *activityConn // when the server last sent data
	responseTimeout time.Duration

	mu         sync.Mutex
	sel        *Session          // the currently selected mailbox, if any
	specialUse map[string]string // lower-case attribute → mailbox; nil until listed
}

// Dial connects to the server, secures the connection (implicit TLS,
// STARTTLS or, only with InsecurePlaintext, none), waits for the greeting,
// authenticates and reads the capabilities. ctx bounds the whole of Dial.
//
// Errors are classified (IsPermanent): a bad configuration, a rejected
// certificate or rejected credentials are permanent.
func Dial(ctx context.Context, opts *Options) (*Client, error) {
	if err := validate(opts); err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.port()))
	log := opts.logger().With("server", addr, "user", opts.Username)
	start := time.Now()

	dctx, cancel := context.WithTimeout(ctx, opts.dialTimeout())
	defer cancel()
	dialer := &net.Dialer{Timeout: opts.dialTimeout(), Control: userTimeout(opts.responseTimeout())}
	if ka := opts.keepAlive(); ka > 0 {
		dialer.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: ka, Interval: max(ka/2, time.Second), Count: 4}
	} else {
		dialer.KeepAlive = -1
	}
	tcp, err := dialer.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	raw := newActivityConn(tcp)
	var tr *tracer
	if opts.DebugWriter != nil {
		tr = &tracer{w: opts.DebugWriter}
	}
	conn, err := secure(dctx, raw, opts, tr)
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}

	cl := &Client{log: log, addr: addr, updates: make(chan struct{}, 1), noIdle: opts.NoIdle,
		activity: raw, responseTimeout: opts.responseTimeout()}
	cl.c = imapclient.New(conn, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Mailbox: cl.onMailbox},
		WordDecoder:           &mime.WordDecoder{CharsetReader: charset.Reader},
	})
	if err := cl.login(dctx, opts); err != nil {
		cl.c.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	log.Debug("imap connected", "tls", opts.TLS.String(), "elapsed", time.Since(start),
		"move", cl.caps.Has(imap.CapMove), "uidplus", cl.caps.Has(imap.CapUIDPlus), "idle", cl.caps.Has(imap.CapIdle))
	return cl, nil
}

func validate(o *Options) error {
	switch {
	case o == nil:
		return configErrorf("no options")
	case o.Host == "":
		return configErrorf("no host")
	case o.Port < 0 || o.Port > 65535:
		return configErrorf("port %d out of range", o.Port)
	case o.Username == "":
		return configErrorf("no username")
	case o.Auth == nil:
		return configErrorf("no authentication method")
	case o.TLS == TLSNone && !o.InsecurePlaintext:
		return configErrorf("TLS mode none sends the credentials in clear text; set InsecurePlaintext to allow it")
	case o.TLS != TLSNone && o.TLS != TLSImplicit && o.TLS != TLSStartTLS:
		return configErrorf("unknown TLS mode %v", o.TLS)
	}
	return nil
}

// secure returns the connection go-imap will talk over: TLS-wrapped (and
// traced, when tracing, on the plaintext side).
func secure(ctx context.Context, raw net.Conn, o *Options, tr *tracer) (net.Conn, error) {
	trace := func(c net.Conn) net.Conn {
		if tr == nil {
			return c
		}
		return &tracedConn{Conn: c, t: tr}
	}
	switch o.TLS {
	case TLSNone:
		return trace(raw), nil
	case TLSImplicit:
		tc := tls.Client(raw, o.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		return trace(tc), nil
	default:
		return startTLS(ctx, trace(raw), raw, o, trace)
	}
}

// startTLS performs STARTTLS (RFC 9051 §6.2.1) before go-imap sees the
// connection: go-imap's own STARTTLS would bypass our redacting tracer. It
// reads the greeting (refusing PREAUTH on a cleartext connection, RFC 9051
// §7.1.4), sends STARTTLS, checks that the server sent nothing more before
// the handshake (no injected plaintext, RFC 2595 §3.1), and hands go-imap a
// TLS connection that starts with a synthetic greeting. go-imap then asks
// for the capabilities again, as required after STARTTLS.
func startTLS(ctx context.Context, conn, raw net.Conn, o *Options, trace func(net.Conn) net.Conn) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	br := bufio.NewReader(conn)
	line, err := readLine(br)
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	switch g := strings.ToUpper(line); {
	case strings.HasPrefix(g, "* OK"):
	case strings.HasPrefix(g, "* PREAUTH"):
		return nil, configErrorf("server sent PREAUTH on a cleartext connection; refusing (STARTTLS impossible)")
	case strings.HasPrefix(g, "* BYE"):
		return nil, fmt.Errorf("greeting: server said %q: %w", line, io.ErrUnexpectedEOF)
	default:
		return nil, fmt.Errorf("greeting: unexpected %q", line)
	}
	if _, err := io.WriteString(conn, "S0 STARTTLS\r\n"); err != nil {
		return nil, fmt.Errorf("starttls: %w", err)
	}
	for {
		line, err = readLine(br)
		if err != nil {
			return nil, fmt.Errorf("starttls: %w", err)
		}
		if strings.HasPrefix(line, "* ") {
			continue
		}
		if !strings.HasPrefix(line, "S0 ") {
			return nil, fmt.Errorf("starttls: unexpected %q", line)
		}
		if !strings.HasPrefix(strings.ToUpper(line[3:]), "OK") {
			return nil, configErrorf("server refused STARTTLS: %q", line)
		}
		break
	}
	if br.Buffered() > 0 {
		return nil, errors.New("starttls: server sent data before the TLS handshake")
	}
	tc := tls.Client(raw, o.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("starttls: tls handshake: %w", err)
	}
	if !stop() {
		return nil, fmt.Errorf("starttls: %w", ctx.Err())
	}
	raw.SetDeadline(time.Time{})
	return &greetingConn{Conn: trace(tc), greeting: []byte("* OK TLS established\r\n")}, nil
}

func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// greetingConn replays a greeting before the connection's own data.
type greetingConn struct {
	net.Conn
	greeting []byte
}

func (c *greetingConn) Read(p []byte) (int, error) {
	if len(c.greeting) > 0 {
		n := copy(p, c.greeting)
		c.greeting = c.greeting[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *Client) login(ctx context.Context, o *Options) error {
	return c.call(ctx, func() error {
		if err := c.c.WaitGreeting(); err != nil {
			return fmt.Errorf("greeting: %w", err)
		}
		if c.c.State() == imap.ConnStateNotAuthenticated {
			caps := c.c.Caps()
			if caps == nil {
				return errors.New("capability: no answer")
			}
			if err := o.Auth.authenticate(ctx, c.c, caps, o); err != nil {
				return err
			}
		}
		// RFC 9051 §6.2.2: capabilities may change after authentication;
		// go-imap takes them from the OK's [CAPABILITY] or asks again.
		c.caps = c.c.Caps()
		if c.caps == nil {
			return errors.New("capability: no answer")
		}
		return nil
	})
}

// onMailbox is the unilateral-data handler. It runs on go-imap's reader
// goroutine and must never call the client: a non-blocking send on a
// 1-slot channel is all it does (RFC 2177: EXISTS during IDLE).
func (c *Client) onMailbox(data *imapclient.UnilateralDataMailbox) {
	if data.NumMessages == nil {
		return
	}
	select {
	case c.updates <- struct{}{}:
	default:
	}
}

// call runs op, a blocking go-imap call, bridging ctx: if ctx is done
// before op returns, the connection is closed (the only way to interrupt
// go-imap), op fails promptly, and the error wraps ctx.Err().
func (c *Client) call(ctx context.Context, op func() error) error {
	select {
	case <-c.c.Closed():
		return ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() {
		c.log.Debug("imap: context done during a call; closing the connection")
		c.c.Close()
	})
	wd := c.watch()
	err := op()
	stalled := wd.stop()
	if !stop() && err != nil {
		return fmt.Errorf("%w (connection closed: %v)", ctx.Err(), err)
	}
	if stalled && err != nil {
		return fmt.Errorf("%w after %v; connection closed (%v)", ErrStalled, c.responseTimeout, err)
	}
	return err
}

// watch starts the watchdog of one command in flight (liveness.go).
func (c *Client) watch() *watchdog {
	return startWatchdog(c.activity, c.responseTimeout, func() {
		c.log.Warn("imap: server sent nothing while a command was in flight; closing the connection", "timeout", c.responseTimeout)
		c.c.Close()
	})
}

// Updates delivers a signal (never more than one pending) when the server
// reports EXISTS: new mail may have arrived in the selected mailbox. The
// signal is coalesced: drain it before fetching, not after, and no arrival
// is missed.
func (c *Client) Updates() <-chan struct{} { return c.updates }

// Closed is closed when the connection is closed (by us, the server or a
// network error). It is not a health check: use Noop.
func (c *Client) Closed() <-chan struct{} { return c.c.Closed() }

// Close closes the connection at once.
func (c *Client) Close() error {
	err := c.c.Close()
	if err != nil && !errors.Is(err, net.ErrClosed) && !isTransport(err) {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// logoutLinger bounds how long Logout waits for the server to close the
// connection after its OK.
const logoutLinger = 2 * time.Second

// Logout sends LOGOUT (RFC 9051 §6.1.3), waits (briefly) for the server to
// close the connection, as it must after its OK, and closes it. Waiting
// means that once Closed is closed the server has let go of the
// connection too: a connection budget counted on Closed is then one the
// server agrees with.
func (c *Client) Logout(ctx context.Context) error {
	err := c.call(ctx, func() error { return c.c.Logout().Wait() })
	if err == nil {
		t := time.NewTimer(logoutLinger)
		select {
		case <-c.c.Closed():
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	c.Close()
	if err != nil && !errors.Is(err, ErrClosed) {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// Noop sends NOOP (RFC 9051 §6.1.2): a health check, and a poll for
// servers without IDLE (EXISTS answers signal Updates).
func (c *Client) Noop(ctx context.Context) error {
	if err := c.call(ctx, func() error { return c.c.Noop().Wait() }); err != nil {
		return fmt.Errorf("noop: %w", err)
	}
	return nil
}

// Has reports whether the server advertised capability name after
// authentication ("MOVE", "UIDPLUS", "IDLE", "QUOTA", "AUTH=PLAIN"...).
// IMAP4rev2 implies the capabilities it absorbed.
func (c *Client) Has(name string) bool { return c.caps.Has(imap.Cap(strings.ToUpper(name))) }

// Capabilities lists the capabilities advertised after authentication,
// sorted.
func (c *Client) Capabilities() []string {
	out := make([]string, 0, len(c.caps))
	for k := range c.caps {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// Addr is the server's host:port.
func (c *Client) Addr() string { return c.addr }
