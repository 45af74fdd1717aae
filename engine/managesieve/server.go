package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxScriptSize = 256 << 10
	DefaultMaxScripts    = 50
	DefaultMaxFailures   = 3
	DefaultMaxFailDelay  = 10 * time.Second
	DefaultIdleTimeout   = 30 * time.Minute
)

// ErrBadLogin is what Options.Authenticate returns for a wrong user name or
// password (answered NO and counted as a failed login); any other error is
// answered NO as a temporary failure ("TRYLATER").
var ErrBadLogin = errors.New("authentication failed")

// Options configure a Server. Store and Authenticate are required; nil
// fields take the documented defaults.
type Options struct {
	// Store holds the scripts.
	Store *Store
	// Authenticate checks a login (SASL PLAIN's authorization identity,
	// "" when the client sent none, authentication identity and password;
	// RFC 4616 §2) and returns the account the connection may manage.
	Authenticate func(ctx context.Context, authz, user, password string) (account string, err error)
	// Compile checks a script as the daemon would run it for account; its
	// error text (located: script:line:col: message (hint: …)) is sent to
	// the client. Nil accepts every script.
	Compile func(account, name string, src []byte) error
	// Changed is called after account's active script changed (SETACTIVE,
	// or a PUTSCRIPT or RENAMESCRIPT of the active script).
	Changed func(account string)
	// Extensions are the Sieve extensions announced (SIEVE capability).
	Extensions []string
	// TLSConfig enables STARTTLS (RFC 5804 §2.2). Nil: no STARTTLS.
	TLSConfig *tls.Config
	// AllowPlaintext allows PLAIN on a connection without TLS (loopback
	// test setups only). Default false: STARTTLS first.
	AllowPlaintext bool
	// MaxScriptSize is the largest script accepted, in bytes. Default
	// DefaultMaxScriptSize.
	MaxScriptSize int
	// MaxScripts is how many scripts one account may store. Default
	// DefaultMaxScripts.
	MaxScripts int
	// MaxFailures failed logins close a connection. Default
	// DefaultMaxFailures.
	MaxFailures int
	// MaxFailDelay caps the delay before a failed login is answered; it
	// doubles with each failure from one remote address. Default
	// DefaultMaxFailDelay.
	MaxFailDelay time.Duration
	// IdleTimeout closes a connection that sends nothing for that long.
	// Default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Logger receives connection events (never passwords). Nil discards.
	Logger *slog.Logger
}

// Server is a ManageSieve server.
type Server struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	failures map[string]*failure // remote IP → recent failed logins
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

// failWindow is how long a failed login counts toward the next delay.
const failWindow = 15 * time.Minute

type failure struct {
	n    int
	last time.Time
}

// New returns a Server.
func New(opts *Options) *Server {
	s := &Server{o: *opts, failures: map[string]*failure{}, conns: map[net.Conn]struct{}{}}
	if s.o.MaxScriptSize <= 0 {
		s.o.MaxScriptSize = DefaultMaxScriptSize
	}
	if s.o.MaxScripts <= 0 {
		s.o.MaxScripts = DefaultMaxScripts
	}
	if s.o.MaxFailures <= 0 {
		s.o.MaxFailures = DefaultMaxFailures
	}
	if s.o.MaxFailDelay <= 0 {
		s.o.MaxFailDelay = DefaultMaxFailDelay
	}
	if s.o.IdleTimeout <= 0 {
		s.o.IdleTimeout = DefaultIdleTimeout
	}
	s.log = s.o.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Serve accepts connections on ln until ctx is done, then closes the
// listener and every connection and waits for their goroutines.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			sess := &session{s: s, conn: c, ctx: ctx}
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				delete(s.conns, sess.conn) // the TLS conn after STARTTLS
				s.mu.Unlock()
				sess.conn.Close()
				c.Close()
			}()
			_, sess.secure = c.(*tls.Conn)
			sess.serve()
		}()
	}
}

// session is one connection.
type session struct {
	s       *Server
	ctx     context.Context
	conn    net.Conn
	r       *reader
	w       *bufio.Writer
	secure  bool
	account string // "" until authenticated
	user    string
	fails   int
}

func (c *session) remoteIP() string {
	host, _, err := net.SplitHostPort(c.conn.RemoteAddr().String())
	if err != nil {
		return c.conn.RemoteAddr().String()
	}
	return host
}

func (c *session) serve() {
	c.setup(c.conn)
	log := c.s.log.With("remote", c.conn.RemoteAddr().String())
	c.capabilities()
	c.ok("", "mailwarden ManageSieve ready")
	if c.flush() != nil {
		return
	}
	for {
		c.conn.SetReadDeadline(time.Now().Add(c.s.o.IdleTimeout))
		name, args, err := c.r.readCommand()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || c.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.bye("", "idle for too long")
				c.flush()
				return
			}
			if errors.Is(err, errTooLong) || errors.Is(err, io.ErrUnexpectedEOF) {
				c.bye("", err.Error())
				c.flush()
				return
			}
			c.no("", "syntax error: "+err.Error())
			if c.flush() != nil {
				return
			}
			continue
		}
		done := c.dispatch(name, args, log)
		if c.flush() != nil || done {
			return
		}
	}
}

// setup (re)creates the reader and writer over conn (after STARTTLS too).
func (c *session) setup(conn net.Conn) {
	c.conn = conn
	c.r = &reader{br: bufio.NewReader(conn), maxLine: 64 << 10, maxLiteral: int64(c.s.o.MaxScriptSize)}
	c.w = bufio.NewWriter(conn)
}

func (c *session) flush() error { return c.w.Flush() }

func (c *session) respond(kind, code, msg string) {
	c.w.WriteString(kind)
	if code != "" {
		c.w.WriteString(" (" + code + ")")
	}
	if msg != "" {
		c.w.WriteString(" " + quote(msg))
	}
	c.w.WriteString("\r\n")
}

func (c *session) ok(code, msg string)  { c.respond("OK", code, msg) }
func (c *session) no(code, msg string)  { c.respond("NO", code, msg) }
func (c *session) bye(code, msg string) { c.respond("BYE", code, msg) }

// capabilities writes the capability lines (RFC 5804 §1.7).
func (c *session) capabilities() {
	line := func(k, v string) { fmt.Fprintf(c.w, "%s %s\r\n", quote(k), quote(v)) }
	line("IMPLEMENTATION", "mailwarden")
	if c.secure || c.s.o.AllowPlaintext {
		line("SASL", "PLAIN")
	} else {
		c.w.WriteString(quote("SASL") + ` ""` + "\r\n")
	}
	line("SIEVE", strings.Join(c.s.o.Extensions, " "))
	if c.s.o.TLSConfig != nil && !c.secure {
		c.w.WriteString(quote("STARTTLS") + "\r\n")
	}
	line("VERSION", "1.0")
}

// dispatch runs one command and reports whether the connection ends.
func (c *session) dispatch(name string, args []token, log *slog.Logger) bool {
	str := func(i int) (string, bool) {
		if i >= len(args) {
			return "", false
		}
		return args[i].s, true
	}
	want := func(n int) bool {
		if len(args) != n {
			c.no("", fmt.Sprintf("%s takes %d argument(s)", name, n))
			return false
		}
		return true
	}
	switch name {
	case "CAPABILITY":
		c.capabilities()
		c.ok("", "")
		return false
	case "NOOP":
		if tag, ok := str(0); ok {
			c.ok("TAG "+quote(tag), "done")
		} else {
			c.ok("", "done")
		}
		return false
	case "LOGOUT":
		c.ok("", "bye")
		return true
	case "STARTTLS":
		return c.startTLS()
	case "AUTHENTICATE":
		return c.authenticate(args, log)
	case "UNAUTHENTICATE":
		if c.account == "" {
			c.no("", "not authenticated")
			return false
		}
		c.account, c.user = "", ""
		c.ok("", "unauthenticated")
		return false
	}
	if c.account == "" {
		c.no("", "authenticate first")
		return false
	}
	for _, a := range args {
		if a.over {
			// RFC 5804 §2.6: a script over the limit is answered with
			// QUOTA/MAXSIZE.
			c.no("QUOTA/MAXSIZE", fmt.Sprintf("the script is over %d bytes", c.s.o.MaxScriptSize))
			return false
		}
	}
	st := c.s.o.Store
	switch name {
	case "LISTSCRIPTS":
		scripts, err := st.List(c.account)
		if err != nil {
			c.no("", err.Error())
			return false
		}
		for _, sc := range scripts {
			c.w.WriteString(quote(sc.Name))
			if sc.Active {
				c.w.WriteString(" ACTIVE")
			}
			c.w.WriteString("\r\n")
		}
		c.ok("", "")
	case "GETSCRIPT":
		if !want(1) {
			return false
		}
		src, err := st.Get(c.account, args[0].s)
		if err != nil {
			c.storeErr(err)
			return false
		}
		fmt.Fprintf(c.w, "{%d}\r\n", len(src))
		c.w.Write(src)
		c.w.WriteString("\r\n")
		c.ok("", "")
	case "HAVESPACE":
		if !want(2) {
			return false
		}
		size, err := strconv.Atoi(args[1].s)
		if err != nil || size < 0 {
			c.no("", "HAVESPACE wants a size in bytes")
			return false
		}
		if code, msg := c.space(args[0].s, size); code != "" {
			c.no(code, msg)
			return false
		}
		c.ok("", "")
	case "PUTSCRIPT":
		if !want(2) {
			return false
		}
		c.putScript(args[0].s, []byte(args[1].s), log)
	case "CHECKSCRIPT":
		if !want(1) {
			return false
		}
		if len(args[0].s) > c.s.o.MaxScriptSize {
			c.no("QUOTA/MAXSIZE", fmt.Sprintf("the script is over %d bytes", c.s.o.MaxScriptSize))
			return false
		}
		if err := c.compile("check", []byte(args[0].s)); err != nil {
			c.no("", err.Error())
			return false
		}
		c.ok("", "")
	case "SETACTIVE":
		if !want(1) {
			return false
		}
		if err := st.SetActive(c.account, args[0].s); err != nil {
			c.storeErr(err)
			return false
		}
		log.Info("managesieve: active script set", "account", c.account, "script", args[0].s)
		c.changed()
		c.ok("", "")
	case "DELETESCRIPT":
		if !want(1) {
			return false
		}
		if err := st.Delete(c.account, args[0].s); err != nil {
			c.storeErr(err)
			return false
		}
		c.ok("", "")
	case "RENAMESCRIPT":
		if !want(2) {
			return false
		}
		active, _, _ := st.Active(c.account)
		if err := st.Rename(c.account, args[0].s, args[1].s); err != nil {
			c.storeErr(err)
			return false
		}
		if active == args[0].s {
			c.changed()
		}
		c.ok("", "")
	default:
		c.no("", fmt.Sprintf("unknown command %q", name))
	}
	return false
}

// space says why a script of size bytes cannot be stored as name ("" when
// it can).
func (c *session) space(name string, size int) (code, msg string) {
	if size > c.s.o.MaxScriptSize {
		return "QUOTA/MAXSIZE", fmt.Sprintf("the script is over %d bytes", c.s.o.MaxScriptSize)
	}
	scripts, err := c.s.o.Store.List(c.account)
	if err != nil {
		return "TRYLATER", err.Error()
	}
	for _, sc := range scripts {
		if sc.Name == name {
			return "", ""
		}
	}
	if len(scripts) >= c.s.o.MaxScripts {
		return "QUOTA/MAXSCRIPTS", fmt.Sprintf("at most %d scripts per account", c.s.o.MaxScripts)
	}
	return "", ""
}

func (c *session) putScript(name string, src []byte, log *slog.Logger) {
	if err := validName(name); err != nil {
		c.no("", err.Error())
		return
	}
	if code, msg := c.space(name, len(src)); code != "" {
		c.no(code, msg)
		return
	}
	if err := c.compile(name, src); err != nil {
		c.no("", err.Error())
		return
	}
	if err := c.s.o.Store.Put(c.account, name, src); err != nil {
		c.no("TRYLATER", err.Error())
		return
	}
	log.Info("managesieve: script stored", "account", c.account, "script", name, "bytes", len(src))
	if active, _, _ := c.s.o.Store.Active(c.account); active == name {
		c.changed()
	}
	c.ok("", "")
}

func (c *session) compile(name string, src []byte) error {
	if c.s.o.Compile == nil {
		return nil
	}
	return c.s.o.Compile(c.account, name, src)
}

func (c *session) changed() {
	if c.s.o.Changed != nil {
		c.s.o.Changed(c.account)
	}
}

// storeErr answers a Store error with its response code (RFC 5804 §1.3).
func (c *session) storeErr(err error) {
	switch {
	case errors.Is(err, ErrNoScript):
		c.no("NONEXISTENT", err.Error())
	case errors.Is(err, ErrExists):
		c.no("ALREADYEXISTS", err.Error())
	case errors.Is(err, ErrActive):
		c.no("ACTIVE", err.Error())
	case errors.Is(err, ErrBadName):
		c.no("", err.Error())
	default:
		c.no("TRYLATER", err.Error())
	}
}

func (c *session) startTLS() bool {
	if c.s.o.TLSConfig == nil || c.secure {
		c.no("", "STARTTLS is not available here")
		return false
	}
	c.ok("", "begin TLS negotiation now")
	if c.flush() != nil {
		return true
	}
	tc := tls.Server(c.conn, c.s.o.TLSConfig)
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.s.log.Info("managesieve: TLS handshake failed", "remote", c.conn.RemoteAddr().String(), "err", err)
		return true
	}
	c.conn.SetDeadline(time.Time{})
	c.s.mu.Lock()
	c.s.conns[tc] = struct{}{}
	c.s.mu.Unlock()
	c.setup(tc)
	c.secure = true
	// RFC 5804 §2.2: after a successful STARTTLS the server sends its
	// capabilities again.
	c.capabilities()
	c.ok("", "TLS negotiation successful")
	return false
}

// authenticate runs SASL PLAIN (RFC 4616; RFC 5804 §2.1).
func (c *session) authenticate(args []token, log *slog.Logger) bool {
	if c.account != "" {
		c.no("", "already authenticated")
		return false
	}
	if len(args) == 0 || !strings.EqualFold(args[0].s, "PLAIN") {
		c.no("", "only SASL PLAIN is offered")
		return false
	}
	if !c.secure && !c.s.o.AllowPlaintext {
		c.no("ENCRYPT-NEEDED", "use STARTTLS before authenticating")
		return false
	}
	var resp string
	if len(args) > 1 {
		resp = args[1].s
	} else {
		// An empty challenge; the client answers with a string.
		c.w.WriteString(`""` + "\r\n")
		if c.flush() != nil {
			return true
		}
		toks, err := c.r.readTokens()
		if err != nil {
			return true
		}
		if len(toks) != 1 || !toks[0].quoted || toks[0].over {
			c.no("", "want the PLAIN response as one string")
			return false
		}
		resp = toks[0].s
	}
	if resp == "*" {
		c.no("", "authentication cancelled")
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		c.no("", "the PLAIN response is not base64")
		return false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 || parts[1] == "" {
		c.no("", "malformed PLAIN response")
		return false
	}
	authz, user, pass := parts[0], parts[1], parts[2]
	if authz == user {
		authz = ""
	}
	ip := c.remoteIP()
	c.s.failDelay(c.ctx, ip)
	account, err := c.s.o.Authenticate(c.ctx, authz, user, pass)
	if err != nil {
		if !errors.Is(err, ErrBadLogin) {
			log.Warn("managesieve: cannot check the login now", "user", user, "err", err)
			c.no("TRYLATER", "cannot check the login now; try again later")
			return false
		}
		c.fails++
		c.s.failed(ip)
		log.Warn("managesieve: failed login", "user", user, "failures", c.fails)
		if c.fails >= c.s.o.MaxFailures {
			c.bye("", "too many failed logins")
			return true
		}
		c.no("", "authentication failed")
		return false
	}
	c.s.succeeded(ip)
	c.account, c.user = account, user
	log.Info("managesieve: logged in", "user", user, "account", account)
	c.ok("", "logged in")
	return false
}

// failDelay waits before checking a login from ip, longer the more recent
// failures it had: 250 ms doubling, up to MaxFailDelay.
func (s *Server) failDelay(ctx context.Context, ip string) {
	s.mu.Lock()
	f := s.failures[ip]
	var d time.Duration
	if f != nil && time.Since(f.last) < failWindow {
		d = min(250*time.Millisecond<<min(f.n, 20), s.o.MaxFailDelay)
	}
	s.mu.Unlock()
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (s *Server) failed(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) > 10000 {
		// Forget addresses that have been quiet for the window, so the
		// map stays bounded under a spray of addresses.
		for k, v := range s.failures {
			if time.Since(v.last) > failWindow {
				delete(s.failures, k)
			}
		}
	}
	f := s.failures[ip]
	if f == nil || time.Since(f.last) > failWindow {
		f = &failure{}
		s.failures[ip] = f
	}
	f.n++
	f.last = time.Now()
}

func (s *Server) succeeded(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.failures, ip)
}
