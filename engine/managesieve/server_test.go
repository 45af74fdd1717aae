package managesieve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/memimap"
)

// testServer runs a Server on 127.0.0.1 for the test's lifetime. The
// login is alice/secret (account "acct-alice"); Compile refuses scripts
// containing "syntax error".
type testServer struct {
	addr    string
	store   *Store
	mu      sync.Mutex
	changed []string
	logs    *bytes.Buffer
}

func (ts *testServer) changes() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.changed...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func startServer(t *testing.T, mod func(*Options)) *testServer {
	t.Helper()
	ts := &testServer{store: NewStore(filepath.Join(t.TempDir(), "sieve")), logs: &bytes.Buffer{}}
	sb := &syncBuffer{b: ts.logs}
	opts := &Options{
		Store: ts.store,
		Authenticate: func(ctx context.Context, authz, user, password string) (string, error) {
			if authz == "bob" && user == "admin" && password == "admin-pw" {
				return "acct-bob", nil
			}
			if authz == "" && user == "alice" && password == "secret" {
				return "acct-alice", nil
			}
			if user == "down" {
				return "", errors.New("imap server unreachable")
			}
			return "", ErrBadLogin
		},
		Compile: func(account, name string, src []byte) error {
			if i := bytes.Index(src, []byte("syntax error")); i >= 0 {
				line := bytes.Count(src[:i], []byte("\n")) + 1
				return fmt.Errorf("%s:%d:1: unknown command (hint: check the spelling)", name, line)
			}
			return nil
		},
		Changed: func(account string) {
			ts.mu.Lock()
			ts.changed = append(ts.changed, account)
			ts.mu.Unlock()
		},
		Extensions:     []string{"fileinto", "imap4flags"},
		AllowPlaintext: true,
		MaxFailDelay:   time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(sb, nil)),
	}
	if mod != nil {
		mod(opts)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(opts).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func dial(t *testing.T, addr string, o *ClientOptions) *Client {
	t.Helper()
	if o == nil {
		o = &ClientOptions{Plaintext: true}
	}
	c, err := DialClient(context.Background(), addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var r *Response
	if !errors.As(err, &r) || r.Kind != "NO" || r.Code != code {
		t.Fatalf("got %v, want NO (%s)", err, code)
	}
}

func TestScriptLifecycle(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr, nil)
	if c.Caps()["SIEVE"] != "fileinto imap4flags" || c.Caps()["IMPLEMENTATION"] != "mailwarden" {
		t.Fatalf("capabilities: %v", c.Caps())
	}
	if _, _, err := c.List(); err == nil {
		t.Fatal("LISTSCRIPTS before AUTHENTICATE succeeded")
	}
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatal(err)
	}

	main := "require \"fileinto\";\r\nif header :contains \"subject\" \"x\" { fileinto \"X\"; }\r\n"
	if err := c.Put("main", main); err != nil {
		t.Fatal(err)
	}
	if err := c.Put("other", "keep;\r\n"); err != nil {
		t.Fatal(err)
	}
	if len(ts.changes()) != 0 {
		t.Fatalf("Changed called before any script was active: %v", ts.changes())
	}
	if err := c.Activate("main"); err != nil {
		t.Fatal(err)
	}
	names, active, err := c.List()
	if err != nil || strings.Join(names, ",") != "main,other" || active != "main" {
		t.Fatalf("LISTSCRIPTS = %v, active %q, %v", names, active, err)
	}
	got, err := c.Get("main")
	if err != nil || got != main {
		t.Fatalf("GETSCRIPT = %q, %v", got, err)
	}
	// What the daemon reads is what was stored, byte for byte.
	name, path, err := ts.store.Active("acct-alice")
	if err != nil || name != "main" {
		t.Fatalf("Store.Active = %q, %v", name, err)
	}
	if b, _ := os.ReadFile(path); string(b) != main {
		t.Fatalf("file %s holds %q", path, b)
	}

	// A script that does not compile is refused with the located error,
	// and the stored one stays.
	err = c.Put("main", "keep;\r\nsyntax error;\r\n")
	var r *Response
	if !errors.As(err, &r) || !strings.Contains(r.Msg, "main:2:1: unknown command") {
		t.Fatalf("PUTSCRIPT of a broken script: %v", err)
	}
	if got, _ := c.Get("main"); got != main {
		t.Fatalf("a refused PUTSCRIPT changed the script to %q", got)
	}
	if err := c.Check("syntax error"); err == nil {
		t.Fatal("CHECKSCRIPT accepted a broken script")
	}
	if err := c.Check("keep;"); err != nil {
		t.Fatal(err)
	}

	wantCode(t, c.Delete("main"), "ACTIVE")
	wantCode(t, c.getErr("nope"), "NONEXISTENT")
	wantCode(t, c.Activate("nope"), "NONEXISTENT")
	wantCode(t, c.Rename("other", "main"), "ALREADYEXISTS")

	// Replacing and renaming the active script are changes the daemon
	// must pick up; storing an inactive one is not.
	before := len(ts.changes())
	if err := c.Put("other", "discard;\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Put("main", "keep;\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("main", "renamed"); err != nil {
		t.Fatal(err)
	}
	if n := len(ts.changes()) - before; n != 2 {
		t.Fatalf("Changed called %d times for a PUTSCRIPT and a RENAMESCRIPT of the active script, want 2", n)
	}
	if name, _, _ := ts.store.Active("acct-alice"); name != "renamed" {
		t.Fatalf("active after rename = %q", name)
	}
	if err := c.Delete("other"); err != nil {
		t.Fatal(err)
	}
	if err := c.Activate(""); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("renamed"); err != nil {
		t.Fatal(err)
	}
	if names, _, _ := c.List(); len(names) != 0 {
		t.Fatalf("scripts left: %v", names)
	}
	if err := c.Logout(); err != nil {
		t.Fatal(err)
	}
}

// getErr is Get for wantCode.
func (c *Client) getErr(name string) error { _, err := c.Get(name); return err }

func TestLimits(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.MaxScriptSize = 100; o.MaxScripts = 2 })
	c := dial(t, ts.addr, nil)
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.HaveSpace("a", 101), "QUOTA/MAXSIZE")
	if err := c.HaveSpace("a", 100); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.Put("a", strings.Repeat("#", 100)+"\r\n"), "QUOTA/MAXSIZE")
	wantCode(t, c.Check(strings.Repeat("#", 101)), "QUOTA/MAXSIZE")
	for _, n := range []string{"a", "b"} {
		if err := c.Put(n, "keep;"); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, c.Put("c", "keep;"), "QUOTA/MAXSCRIPTS")
	wantCode(t, c.HaveSpace("c", 5), "QUOTA/MAXSCRIPTS")
	// Replacing an existing script is not a new one.
	if err := c.Put("a", "discard;"); err != nil {
		t.Fatal(err)
	}
	// A literal over the limit is dropped as it is read, and answered.
	wantCode(t, c.Put("big", strings.Repeat("x", 10000)), "QUOTA/MAXSIZE")
	if names, _, _ := c.List(); len(names) != 2 {
		t.Fatalf("scripts after refusals: %v", names)
	}
}

func TestNamesStayInTheAccountDirectory(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr, nil)
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../escape", "a/b", "..", "é 🙂 script", `back\slash "q"`} {
		if err := c.Put(name, "keep;"); err != nil {
			t.Fatalf("PUTSCRIPT %q: %v", name, err)
		}
		if got, err := c.Get(name); err != nil || got != "keep;" {
			t.Fatalf("GETSCRIPT %q = %q, %v", name, got, err)
		}
	}
	root := filepath.Dir(ts.store.AccountDir("acct-alice"))
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Dir(p) != ts.store.AccountDir("acct-alice") {
			t.Errorf("file outside the account directory: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	names, _, _ := c.List()
	if len(names) != 5 {
		t.Fatalf("LISTSCRIPTS = %q", names)
	}
	for _, bad := range []string{"", "a\nb", "tab\there", strings.Repeat("n", 129)} {
		if err := c.Put(bad, "keep;"); err == nil {
			t.Errorf("PUTSCRIPT accepted the name %q", bad)
		}
	}
}

func TestLogins(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.MaxFailures = 2 })
	c := dial(t, ts.addr, nil)
	if err := c.Login("alice", "wrong-password-1"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	wantCode(t, c.Login("down", "x"), "TRYLATER")
	err := c.Login("alice", "wrong-password-2")
	var r *Response
	if !errors.As(err, &r) || r.Kind != "BYE" {
		t.Fatalf("second failed login: %v, want BYE (MaxFailures 2)", err)
	}
	// An administrator's login acts for a user (SASL PLAIN's
	// authorization identity) and sees that user's scripts.
	c3 := dial(t, ts.addr, nil)
	if err := c3.LoginAs("bob", "admin", "admin-pw"); err != nil {
		t.Fatal(err)
	}
	if err := c3.Put("bobs", "keep;"); err != nil {
		t.Fatal(err)
	}
	if names, _ := ts.store.List("acct-bob"); len(names) != 1 {
		t.Fatalf("bob's scripts: %v", names)
	}
	c3.Logout()
	// A new connection logs in, and passwords never reached the log.
	c2 := dial(t, ts.addr, nil)
	if err := c2.Login("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	if names, _, err := c2.List(); err != nil || len(names) != 0 {
		t.Fatalf("alice sees %v, %v", names, err)
	}
	c2.Logout()
	time.Sleep(10 * time.Millisecond)
	logs := ts.logs.String()
	for _, pw := range []string{"wrong-password-1", "wrong-password-2", "secret", "admin-pw"} {
		if strings.Contains(logs, pw) {
			t.Fatalf("a password reached the log:\n%s", logs)
		}
	}
	if !strings.Contains(logs, "failed login") || !strings.Contains(logs, "logged in") {
		t.Fatalf("logins not logged:\n%s", logs)
	}
}

func TestPlaintextNeedsTLS(t *testing.T) {
	cert := selfSigned(t)
	ts := startServer(t, func(o *Options) {
		o.AllowPlaintext = false
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	})
	// Without STARTTLS: no mechanism offered and PLAIN refused.
	c := dial(t, ts.addr, &ClientOptions{Plaintext: true})
	if _, ok := c.Caps()["STARTTLS"]; !ok || c.Caps()["SASL"] != "" {
		t.Fatalf("capabilities before TLS: %v", c.Caps())
	}
	wantCode(t, c.Login("alice", "secret"), "ENCRYPT-NEEDED")

	// With STARTTLS: the capabilities are sent again, PLAIN works.
	tc := dial(t, ts.addr, &ClientOptions{TLSConfig: &tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1"}})
	if _, ok := tc.Caps()["STARTTLS"]; ok || tc.Caps()["SASL"] != "PLAIN" {
		t.Fatalf("capabilities after TLS: %v", tc.Caps())
	}
	if err := tc.Login("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := tc.Put("s", "keep;"); err != nil {
		t.Fatal(err)
	}
}

// TestProtocolEdges sends raw lines: literals in both forms, a split
// AUTHENTICATE, garbage and an over-long line.
func TestProtocolEdges(t *testing.T) {
	ts := startServer(t, nil)
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	upTo := func(prefix string) string {
		t.Helper()
		var all strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading for %q: %v (got %q)", prefix, err, all.String())
			}
			all.WriteString(line)
			if strings.HasPrefix(line, prefix) {
				return all.String()
			}
		}
	}
	send := func(s string) {
		t.Helper()
		if _, err := conn.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	upTo("OK")
	// AUTHENTICATE without an initial response: an empty challenge, then
	// the response as a literal.
	send("authenticate \"PLAIN\"\r\n")
	upTo(`""`)
	resp := "AGFsaWNlAHNlY3JldA==" // \0alice\0secret
	send(fmt.Sprintf("{%d}\r\n%s\r\n", len(resp), resp))
	upTo("OK")
	send("PUTSCRIPT {4}\r\nname {5+}\r\nkeep;\r\n")
	upTo("OK")
	send("GETSCRIPT \"name\"\r\n")
	if got := upTo("OK"); got != "{5}\r\nkeep;\r\nOK\r\n" {
		t.Fatalf("GETSCRIPT answer %q", got)
	}
	send("NOOP \"tag\"\r\n")
	if got := upTo("OK"); !strings.Contains(got, `(TAG "tag")`) {
		t.Fatalf("NOOP answer %q", got)
	}
	send("FROB\r\n")
	upTo("NO")
	send("PUTSCRIPT \"x\r\n")
	upTo("NO")
	send("LISTSCRIPTS\r\n")
	if got := upTo("OK"); !strings.Contains(got, `"name"`) {
		t.Fatalf("LISTSCRIPTS after errors: %q", got)
	}
	send(strings.Repeat("A", 70<<10) + "\r\n")
	upTo("BYE")
	if _, err := br.ReadString('\n'); err == nil {
		t.Fatal("the connection stayed open after an over-long line")
	}

	// A literal far over any limit is not read at all.
	conn2, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	conn2.SetDeadline(time.Now().Add(10 * time.Second))
	conn2.Write([]byte("PUTSCRIPT \"x\" {2000000000+}\r\n"))
	br = bufio.NewReader(conn2)
	upTo("OK") // greeting
	upTo("BYE")
}

func selfSigned(t *testing.T) *memimap.Cert {
	t.Helper()
	c, err := memimap.SelfSignedCert()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
