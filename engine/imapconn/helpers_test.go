package imapconn

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/memimap"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pw(p string) Auth {
	return Password{Password: func(context.Context) (string, error) { return p, nil }}
}

func startMem(t *testing.T, opts *memimap.Options) *memimap.Server {
	t.Helper()
	srv, err := memimap.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func memOptions(srv *memimap.Server, user, pass string) *Options {
	return &Options{
		Host: "127.0.0.1", Port: srv.Port(), TLS: TLSNone, InsecurePlaintext: true,
		Username: user, Auth: pw(pass), DialTimeout: 5 * time.Second,
	}
}

func dialT(t *testing.T, opts *Options) *Client {
	t.Helper()
	c, err := Dial(testCtx(t), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func selectT(t *testing.T, c *Client, mailbox string) *Session {
	t.Helper()
	s, err := c.Select(testCtx(t), mailbox)
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	return s
}

func rawMsg(id, subject, body string) []byte {
	return []byte("From: a@example.org\r\nTo: b@example.org\r\nSubject: " + subject +
		"\r\nMessage-Id: <" + id + "@example.org>\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\n\r\n" + body + "\r\n")
}

// messageIDs fetches mailbox through a fresh session and returns UID →
// Message-Id local part, plus flags.
func mailboxContents(t *testing.T, c *Client, mailbox string) map[uint32]Fetched {
	t.Helper()
	s := selectT(t, c, mailbox)
	msgs, err := s.FetchNew(testCtx(t), 0, 0, false)
	if err != nil {
		t.Fatalf("FetchNew(%s): %v", mailbox, err)
	}
	out := make(map[uint32]Fetched)
	for _, m := range msgs {
		out[m.UID] = m
	}
	return out
}

func msgID(f Fetched) string {
	for _, line := range strings.Split(string(f.Raw), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Message-Id: <"); ok {
			return strings.TrimSuffix(v, "@example.org>")
		}
	}
	return ""
}

// hasFlag checks system flags by exact spelling (Fetched canonicalises
// them) and keywords case-insensitively (imapmemserver lower-cases them).
func hasFlag(f Fetched, flag string) bool {
	for _, x := range f.Flags {
		if x == flag || (!strings.HasPrefix(flag, `\`) && strings.EqualFold(x, flag)) {
			return true
		}
	}
	return false
}

// fakeServer is a scripted IMAP server for protocol corners the real
// servers cannot be made to show: it greets with caps, answers LOGIN and
// AUTHENTICATE per auth, records every client line, and answers nothing
// else (so commands block).
type fakeServer struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string
	wg    sync.WaitGroup
	conns []net.Conn
}

func startFake(t *testing.T, caps string, authOK bool) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, conn)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.serve(conn, caps, authOK)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeServer) serve(conn net.Conn, caps string, authOK bool) {
	defer conn.Close()
	fmt.Fprintf(conn, "* OK [CAPABILITY %s] fake ready\r\n", caps)
	br := bufio.NewReader(conn)
	var authTag string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		f.lines = append(f.lines, line)
		f.mu.Unlock()
		fields := strings.Fields(line)
		reply := func(tag string) {
			if authOK {
				fmt.Fprintf(conn, "%s OK [CAPABILITY %s] logged in\r\n", tag, caps)
			} else {
				fmt.Fprintf(conn, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", tag)
			}
		}
		switch {
		case authTag != "":
			reply(authTag)
			authTag = ""
		case len(fields) >= 2 && strings.EqualFold(fields[1], "LOGIN"):
			reply(fields[0])
		case len(fields) >= 3 && strings.EqualFold(fields[1], "AUTHENTICATE"):
			if len(fields) >= 4 {
				reply(fields[0])
			} else {
				authTag = fields[0]
				fmt.Fprintf(conn, "+ \r\n")
			}
		case len(fields) >= 2 && strings.EqualFold(fields[1], "CAPABILITY"):
			fmt.Fprintf(conn, "* CAPABILITY %s\r\n%s OK done\r\n", caps, fields[0])
		case len(fields) >= 2 && strings.EqualFold(fields[1], "LOGOUT"):
			fmt.Fprintf(conn, "* BYE\r\n%s OK bye\r\n", fields[0])
			return
		default:
			// Never answer: the client blocks.
		}
	}
}

func (f *fakeServer) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeServer) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

// syncWriter serialises writes (the trace is written from two goroutines).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
