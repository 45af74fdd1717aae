// Package memimap runs go-imap's in-memory IMAP server (imapmemserver) on a
// loopback port. Fast unit tests use it, and so does `mailwarden demo`, so
// this is ordinary (non-test) code.
//
// Model: one Server owns one listener on 127.0.0.1:0 and one
// imapmemserver.Server; users have passwords and pre-created mailboxes.
// Append goes through the server's own API (no IMAP round trip), so IDLE
// sessions see it exactly as they would see a delivery.
//
// Limits of imapmemserver (v2.0.0-beta.8) that callers must know:
//   - special-use attributes can never be set, so LIST RETURN (SPECIAL-USE)
//     finds nothing: callers fall back to a mailbox name;
//   - no QUOTA, no CONDSTORE/QRESYNC;
//   - flags are stored lower-cased, keywords included: `\flagged`, `$work`
//     (IMAP compares them case-insensitively; Dovecot keeps the case);
//   - a MOVE reports its EXPUNGEs twice to the moving session, so go-imap's
//     message count for that session goes wrong (Dovecot is fine).
//
// IDLE polls the mailbox every 10 ms instead of using imapmemserver's
// notification, which can miss a message delivered just as IDLE starts.
//
// Capabilities advertised: IMAP4rev1, IDLE, UNSELECT, ENABLE, UIDPLUS, MOVE,
// NAMESPACE, LIST-EXTENDED, SPECIAL-USE, CHILDREN, ESEARCH, LITERAL+;
// MOVE and UIDPLUS can be switched off to exercise the fallbacks.
package memimap

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// DefaultMailboxes are created for every user when Options.Mailboxes is nil
// (INBOX always exists).
var DefaultMailboxes = []string{"Archive", "Drafts", "Junk", "Sent", "Trash"}

// Options configure Start. A nil *Options means all defaults.
type Options struct {
	// Users maps user names to passwords. Default: {"user": "pass"}.
	Users map[string]string
	// Mailboxes are created for every user in addition to INBOX.
	// Default (nil): DefaultMailboxes. Use an empty non-nil slice for
	// INBOX only.
	Mailboxes []string
	// DisableMove stops advertising MOVE (RFC 6851). Default false.
	DisableMove bool
	// DisableUIDPlus stops advertising UIDPLUS (RFC 4315). Default false.
	DisableUIDPlus bool
	// TLSConfig, when set, enables STARTTLS on the listener. Default: no
	// STARTTLS. Plaintext authentication is always allowed (loopback only).
	TLSConfig *tls.Config
	// Logger receives the server's error messages. Default: discarded.
	Logger *slog.Logger
	// OAuth, when set, makes the server offer AUTHENTICATE XOAUTH2 and
	// OAUTHBEARER (RFC 7628) and accept a bearer token for user when
	// OAuth(user, token) is true (internal/oauthtest's Check). Default: no
	// OAuth2.
	OAuth func(user, token string) bool
	// MasterUsers maps admin names to passwords: AUTHENTICATE PLAIN with
	// an authorization identity (RFC 4616 §2), authcid an admin and its
	// password, logs in as the authzid user. Default: none (an authzid
	// other than the authcid is refused).
	MasterUsers map[string]string
}

// Server is a running in-memory IMAP server on 127.0.0.1.
type Server struct {
	srv *imapserver.Server
	ln  *trackingListener

	mu    sync.Mutex
	users map[string]*imapmemserver.User

	oauth   func(user, token string) bool
	masters map[string]string

	serveDone chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Start listens on 127.0.0.1:0 and serves until Close.
func Start(opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	users := opts.Users
	if users == nil {
		users = map[string]string{"user": "pass"}
	}
	mailboxes := opts.Mailboxes
	if mailboxes == nil {
		mailboxes = DefaultMailboxes
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	caps := imap.CapSet{
		imap.CapIMAP4rev1:    {},
		imap.CapNamespace:    {},
		imap.CapListExtended: {},
		imap.CapSpecialUse:   {},
		imap.CapChildren:     {},
		imap.CapESearch:      {},
		imap.CapLiteralPlus:  {},
	}
	if !opts.DisableMove {
		caps[imap.CapMove] = struct{}{}
	}
	if !opts.DisableUIDPlus {
		caps[imap.CapUIDPlus] = struct{}{}
	}

	s := &Server{
		oauth:     opts.OAuth,
		masters:   opts.MasterUsers,
		users:     make(map[string]*imapmemserver.User),
		serveDone: make(chan struct{}),
	}
	for name, pass := range users {
		if err := s.AddUser(name, pass, mailboxes...); err != nil {
			return nil, err
		}
	}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{srv: s}, nil, nil
		},
		Caps:         caps,
		Logger:       slogPrintf{logger},
		TLSConfig:    opts.TLSConfig,
		InsecureAuth: true,
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("memimap: listen: %w", err)
	}
	s.ln = &trackingListener{Listener: ln, conns: make(map[net.Conn]struct{})}
	go func() {
		defer close(s.serveDone)
		if err := s.srv.Serve(s.ln); err != nil {
			logger.Error("memimap: serve", "err", err)
		}
	}()
	return s, nil
}

// Addr returns the listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port returns the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// AddUser adds a user with INBOX and the given mailboxes. Adding an existing
// user is an error.
func (s *Server) AddUser(username, password string, mailboxes ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[username]; ok {
		return fmt.Errorf("memimap: user %q already exists", username)
	}
	u := imapmemserver.NewUser(username, password)
	for _, name := range append([]string{"INBOX"}, mailboxes...) {
		if err := u.Create(name, nil); err != nil && !isAlreadyExists(err) {
			return fmt.Errorf("memimap: user %q: create %q: %w", username, name, err)
		}
		_ = u.Subscribe(name)
	}
	s.users[username] = u
	return nil
}

// CreateMailbox creates a mailbox for user; an existing one is not an error.
func (s *Server) CreateMailbox(username, mailbox string) error {
	u, err := s.user(username)
	if err != nil {
		return err
	}
	if err := u.Create(mailbox, nil); err != nil && !isAlreadyExists(err) {
		return fmt.Errorf("memimap: create %q: %w", mailbox, err)
	}
	return nil
}

// Append adds raw to user's mailbox with flags and internal date (zero: now),
// through the server's own API, and returns the new message's UID. Sessions
// that have the mailbox selected (and IDLE ones) are notified.
func (s *Server) Append(username, mailbox string, raw []byte, flags []string, date time.Time) (uint32, error) {
	u, err := s.user(username)
	if err != nil {
		return 0, err
	}
	opts := &imap.AppendOptions{Time: date}
	for _, f := range flags {
		opts.Flags = append(opts.Flags, imap.Flag(f))
	}
	data, err := u.Append(mailbox, bytes.NewReader(raw), opts)
	if err != nil {
		return 0, fmt.Errorf("memimap: append to %q: %w", mailbox, err)
	}
	return uint32(data.UID), nil
}

// Connections returns how many client connections are open now, and the
// most that were open at once since Start (or ResetPeak).
func (s *Server) Connections() (now, peak int) {
	s.ln.mu.Lock()
	defer s.ln.mu.Unlock()
	return len(s.ln.conns), s.ln.peak
}

// ResetPeak sets the peak Connections reports to the current count.
func (s *Server) ResetPeak() {
	s.ln.mu.Lock()
	s.ln.peak = len(s.ln.conns)
	s.ln.mu.Unlock()
}

// DropConnections closes every client connection (server-side), as a
// crashed or restarted server would, and returns how many it closed. The
// listener keeps accepting new connections.
func (s *Server) DropConnections() int { return s.ln.closeConns() }

// Close stops the listener, closes every connection and waits for the
// accept loop to return. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.srv.Close()
		// imapserver only closes listeners Serve has registered: close
		// ours in case Serve has not started yet.
		if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) && s.closeErr == nil {
			s.closeErr = err
		}
		s.ln.closeConns()
		<-s.serveDone
	})
	return s.closeErr
}

func (s *Server) user(username string) (*imapmemserver.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok {
		return nil, fmt.Errorf("memimap: no user %q", username)
	}
	return u, nil
}

func isAlreadyExists(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists
}

// trackingListener remembers accepted connections so that DropConnections
// can close them.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	peak  int
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.peak = max(l.peak, len(l.conns))
	l.mu.Unlock()
	return tc, nil
}

func (l *trackingListener) closeConns() int {
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return len(conns)
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// slogPrintf adapts slog to imapserver.Logger.
type slogPrintf struct{ l *slog.Logger }

func (p slogPrintf) Printf(format string, args ...any) {
	p.l.Warn("memimap: " + fmt.Sprintf(format, args...))
}
