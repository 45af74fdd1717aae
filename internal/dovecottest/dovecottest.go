// Package dovecottest runs a private Dovecot (2.3, Debian's dovecot-imapd)
// for tests: everything (config, logs, runtime and state directories,
// maildirs) lives in one temporary directory, and it listens only on
// 127.0.0.1, on free ports: plain IMAP with plaintext authentication, and
// IMAPS with a self-signed certificate generated in Go.
//
// Every user name logs in with the password "pass" (user1, user2, ...;
// NewUser hands out fresh ones) and gets a maildir, created on first use,
// with INBOX and the special-use mailboxes Archive, Drafts, Junk, Sent and
// Trash; the quota plugin (count backend) and IDLE
// are on, and connections per user and IP are not limited in practice.
//
// As root, the mail processes run as the unprivileged user "dovetest"
// (Dovecot refuses to run them as root); .ci/install-test-deps.sh creates
// it. As another user, everything runs as that user.
//
// Start skips the test when Dovecot is not installed, unless the CI
// environment variable is set: then it fails. Each test package can share
// one instance:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		dovecottest.StopShared()
//		os.Exit(code)
//	}
//
//	func TestSomething(t *testing.T) {
//		srv := dovecottest.Shared(t)
//		user, pass := srv.NewUser(t) // a user no other test of the package gets
//		...
//	}
//
// The master runs in the foreground as a child of the test process
// (dovecot -F), with a parent-death signal, so it cannot outlive the test
// binary; Stop signals only that process.
package dovecottest

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/memimap"
)

const (
	dovecotBin = "/usr/sbin/dovecot"
	doveadmBin = "/usr/bin/doveadm"
	// MailOwner owns the maildirs when running as root.
	MailOwner = "dovetest"
	// Password is every test user's password.
	Password = "pass"
)

// Available returns nil when Dovecot is installed (and, as root, the mail
// owner exists); else the reason, with a hint.
func Available() error {
	for _, b := range []string{dovecotBin, doveadmBin, "/usr/lib/dovecot/imap"} {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("dovecot not installed (%s missing); run .ci/install-test-deps.sh", b)
		}
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup(MailOwner); err != nil {
			return fmt.Errorf("user %q missing (Dovecot will not run mail processes as root); run .ci/install-test-deps.sh", MailOwner)
		}
	}
	return nil
}

// Options configure Start. A nil *Options means all defaults.
type Options struct {
	// Users is the documented number of test users user1..userN (every
	// name logs in; this only sizes User's range). Default 40.
	Users int
	// Quota is the per-user storage quota, in Dovecot's syntax ("50M").
	// Default "50M".
	Quota string
	// FSync is mail_fsync: "never" (default, fast; the data is throwaway),
	// "optimized" or "always".
	FSync string
	// ExtraConf is appended verbatim to dovecot.conf.
	ExtraConf string
	// Connections, when > 0, sizes the instance for that many concurrent
	// connections (e.g. 1000 IDLE watchers): login and imap processes
	// serve many clients each (service_count = 0, client_limit raised) and
	// mail_max_userip_connections is at least Connections+10. Default 0:
	// one imap process per connection, at most 1024.
	Connections int
	// MasterUser and MasterPassword, when set, add a Dovecot master user
	// (a passdb with master = yes): it logs in as any user either as
	// "user*MasterUser" with MasterPassword (auth_master_user_separator =
	// *), or with SASL PLAIN, MasterUser as the authentication identity
	// and the user as the authorization identity (RFC 4616). Default: no
	// master user; everything else is unchanged.
	MasterUser, MasterPassword string
}

// Server is a running private Dovecot.
type Server struct {
	// Addr is host:port of plain IMAP (plaintext auth allowed; STARTTLS
	// offered); TLSAddr of IMAPS.
	Addr, TLSAddr string
	// Host is "127.0.0.1"; Port and TLSPort are the ports of Addr and
	// TLSAddr.
	Host          string
	Port, TLSPort int
	// CertPool holds the server's self-signed certificate (valid for
	// 127.0.0.1 and localhost).
	CertPool *x509.CertPool
	// Dir holds everything: etc/dovecot.conf, log/dovecot.log, home/userN.
	Dir string
	// Users is Options.Users.
	Users int

	conf     string
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	stopOnce sync.Once
	nextUser atomic.Int64
}

// Start starts a private Dovecot and stops it when tb ends. It skips tb
// when Dovecot is unavailable (fails instead when $CI is set) and fails tb
// when Dovecot does not start.
func Start(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	if err := Available(); err != nil {
		unavailable(tb, err)
	}
	s, err := StartServer(opts)
	if err != nil {
		tb.Fatalf("dovecottest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("dovecottest: %v (CI is set, so this is a failure)", err)
	}
	tb.Skipf("dovecottest: %v", err)
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the package's shared instance (default options), starting
// it on first use. Stop it from TestMain with StopShared. Tests that share
// it should each take their own user with NewUser.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	if err := Available(); err != nil {
		unavailable(tb, err)
	}
	shared.once.Do(func() { shared.srv, shared.err = StartServer(nil) })
	if shared.err != nil {
		tb.Fatalf("dovecottest: %v", shared.err)
	}
	return shared.srv
}

// StopShared stops the shared instance if it was started.
func StopShared() {
	if shared.srv != nil {
		shared.srv.Stop()
	}
}

// StartServer is Start without a testing.TB: the caller must Stop it.
func StartServer(opts *Options) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	o := *opts
	if o.Users <= 0 {
		o.Users = 40
	}
	if o.Quota == "" {
		o.Quota = "50M"
	}
	if o.FSync == "" {
		o.FSync = "never"
	}
	dir, err := makeDir()
	if err != nil {
		return nil, err
	}
	cert, err := memimap.SelfSignedCert("localhost", "127.0.0.1")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := start(dir, &o, cert)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

var errPortInUse = errors.New("port in use")

// makeDir creates the instance directory, traversable by Dovecot's
// unprivileged users: os.MkdirTemp makes it 0700.
func makeDir() (string, error) {
	parent := os.TempDir()
	if !traversable(parent) {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "mailwarden-dovecot-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// traversable reports whether every directory from dir up to / lets
// others through (o+x).
func traversable(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

func start(dir string, o *Options, cert *memimap.Cert) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, fmt.Errorf("free ports: %w", err)
	}
	s := &Server{
		Host: "127.0.0.1", Port: ports[0], TLSPort: ports[1],
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		TLSAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		CertPool: cert.Pool, Dir: dir, Users: o.Users,
		conf: filepath.Join(dir, "etc", "dovecot.conf"),
	}
	if err := s.writeConfig(o, cert); err != nil {
		return nil, err
	}
	if err := s.launch(); err != nil {
		return nil, err
	}
	return s, nil
}

// launch starts the master and waits until both ports answer.
func (s *Server) launch() error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "log", "dovecot.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	// -F: foreground, so the master is our child and Stop signals exactly
	// it. Pdeathsig: it dies with the test binary.
	cmd := exec.Command(dovecotBin, "-F", "-c", s.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := spawn(cmd.Start); err != nil {
		return fmt.Errorf("start dovecot: %w", err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	go func() {
		cmd.Wait() //nolint:errcheck // exit status is in the log
		close(exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if up(s.Addr) && up(s.TLSAddr) {
			return nil
		}
		select {
		case <-exited:
			logs := s.logTail()
			if strings.Contains(logs, "Address already in use") {
				return fmt.Errorf("%w: %s", errPortInUse, logs)
			}
			return fmt.Errorf("dovecot exited during start:\n%s", logs)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("dovecot did not listen within 10s:\n%s", s.logTail())
		}
	}
}

// Down stops the master as an outage would: every connection drops and
// new ones are refused. The mail and the config stay, so Up brings the
// same server back on the same ports. Not for the Shared server.
func (s *Server) Down(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
	// Dovecot's children (imap, auth) go with the master; wait until the
	// ports are free so Up can bind them again.
	for deadline := time.Now().Add(5 * time.Second); up(s.Addr) || up(s.TLSAddr); {
		if time.Now().After(deadline) {
			tb.Fatalf("dovecottest: still listening 5s after the master stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Up starts the master again after Down.
func (s *Server) Up(tb testing.TB) {
	tb.Helper()
	if err := s.launch(); err != nil {
		tb.Fatalf("dovecottest: up again: %v", err)
	}
}

// spawn runs start on one OS thread that never exits. Linux sends the
// parent-death signal when the *thread* that forked the child exits, not
// the process; Go may retire threads, so every child is forked from a
// goroutine locked to its thread for the life of the process.
func spawn(start func() error) error {
	spawner.once.Do(func() {
		spawner.jobs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for job := range spawner.jobs {
				job()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.jobs <- func() { errc <- start() }
	return <-errc
}

// StartChild starts cmd from the same never-exiting OS thread Dovecot is
// started from, so that a parent-death signal set in cmd.SysProcAttr
// (Pdeathsig) fires when this process dies and not when the Go runtime
// retires the thread that happened to fork the child.
func StartChild(cmd *exec.Cmd) error { return spawn(cmd.Start) }

var spawner struct {
	once sync.Once
	jobs chan func()
}

func up(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func (s *Server) logTail() string {
	var out []string
	for _, f := range []string{"dovecot.stderr", "dovecot.log"} {
		b, _ := os.ReadFile(filepath.Join(s.Dir, "log", f))
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		out = append(out, lines...)
	}
	return strings.Join(out, "\n")
}

// User returns user i's name and password: "user<i>", "pass". Every user
// name exists (static passdb); User(i) for i ≤ Users is the documented
// range, and NewUser hands out fresh ones.
func (s *Server) User(i int) (username, password string) {
	return "user" + strconv.Itoa(i), Password
}

// NewUser hands out a user that no earlier NewUser call on s returned
// (user1, user2, ...), so tests sharing an instance (also with -count=N)
// do not see each other's mail.
func (s *Server) NewUser(tb testing.TB) (username, password string) {
	tb.Helper()
	return s.User(int(s.nextUser.Add(1)))
}

// Doveadm runs doveadm against this instance and returns its standard
// output; it fails tb on error.
func (s *Server) Doveadm(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := s.doveadm(nil, args...)
	if err != nil {
		tb.Fatalf("dovecottest: doveadm %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// Save delivers raw into user's mailbox with doveadm save, bypassing IMAP
// (as a delivery agent would).
func (s *Server) Save(tb testing.TB, username, mailbox string, raw []byte) {
	tb.Helper()
	if _, err := s.doveadm(raw, "save", "-u", username, "-m", mailbox); err != nil {
		tb.Fatalf("dovecottest: doveadm save: %v", err)
	}
}

// RunDoveadm is Doveadm for callers without a testing.TB (benchmark
// programs): it returns doveadm's standard output, or an error with its
// standard error.
func (s *Server) RunDoveadm(args ...string) (string, error) {
	return s.doveadm(nil, args...)
}

// SaveMessage is Save for callers without a testing.TB.
func (s *Server) SaveMessage(username, mailbox string, raw []byte) error {
	if _, err := s.doveadm(raw, "save", "-u", username, "-m", mailbox); err != nil {
		return fmt.Errorf("doveadm save: %w", err)
	}
	return nil
}

// MasterPID is the process id of the Dovecot master (the parent of its
// login and imap processes).
func (s *Server) MasterPID() int { return s.cmd.Process.Pid }

// Home is username's home directory; Dovecot creates it (and the maildir
// under it, Maildir with LAYOUT=fs: INBOX in Maildir/cur, other mailboxes
// in Maildir/<name>) on the user's first login, owned by MailOwnerIDs.
func (s *Server) Home(username string) string {
	return filepath.Join(s.Dir, "home", username)
}

// MailOwnerIDs returns the uid and gid that own the maildirs: the
// MailOwner user as root, else the current user.
func (s *Server) MailOwnerIDs() (uid, gid int, err error) {
	name := MailOwner
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid(), nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, nil
}

func (s *Server) doveadm(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command(doveadmBin, append([]string{"-c", s.conf}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Log returns the instance's log so far (for failure messages).
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "log", "dovecot.log"))
	return string(b)
}

// KillConnections kills the IMAP processes serving username (doveadm kick),
// as a server restart would: their clients see the connection close.
func (s *Server) KillConnections(tb testing.TB, username string) {
	tb.Helper()
	s.Doveadm(tb, "kick", username)
}

// Stop stops the master (SIGTERM; SIGKILL after 5 s), which takes its
// children with it, and removes Dir. It is idempotent.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		cmd, exited := s.cmd, s.exited
		s.mu.Unlock()
		if cmd != nil && cmd.Process != nil {
			select {
			case <-exited:
			default:
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
			}
		}
		os.RemoveAll(s.Dir)
	})
}
