package dovecottest

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

func TestStartStop(t *testing.T) {
	start := time.Now()
	s := Start(t, &Options{Users: 3, Quota: "1M"})
	t.Logf("dovecot start: %v (dir %s)", time.Since(start), s.Dir)
	greet := func(c net.Conn) string {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 512)
		n, _ := c.Read(b)
		return string(b[:n])
	}
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if g := greet(c); !strings.HasPrefix(g, "* OK") || !strings.Contains(g, "STARTTLS") {
		t.Fatalf("greeting %q", g)
	}
	c.Close()
	tc, err := tls.Dial("tcp", s.TLSAddr, &tls.Config{RootCAs: s.CertPool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("IMAPS with the generated cert: %v", err)
	}
	if g := greet(tc); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("IMAPS greeting %q", g)
	}
	tc.Close()
	out := s.Doveadm(t, "mailbox", "list", "-u", "user3")
	for _, mb := range []string{"INBOX", "Archive", "Trash", "Junk", "Sent", "Drafts"} {
		if !strings.Contains(out, mb) {
			t.Errorf("user3 lacks %s: %q", mb, out)
		}
	}
	s.Save(t, "user2", "INBOX", []byte("Subject: hi\r\n\r\nbody\r\n"))
	if st := s.Doveadm(t, "mailbox", "status", "-u", "user2", "messages", "INBOX"); !strings.Contains(st, "messages=1") {
		t.Errorf("status after save: %q", st)
	}
	if q := s.Doveadm(t, "quota", "get", "-u", "user2"); !strings.Contains(q, "1024") {
		t.Errorf("quota: %q", q)
	}
	dir := s.Dir
	stop := time.Now()
	s.Stop()
	t.Logf("dovecot stop: %v", time.Since(stop))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("dir %s left behind", dir)
	}
	if _, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond); err == nil {
		t.Errorf("still listening after Stop")
	}
}

func TestShared(t *testing.T) {
	a := Shared(t)
	if Shared(t) != a {
		t.Fatal("Shared returned two instances")
	}
	seen := map[string]bool{}
	var last string
	for range a.Users + 5 {
		u, p := a.NewUser(t)
		if seen[u] {
			t.Fatalf("NewUser repeated %s", u)
		}
		seen[u], last = true, u
		if p != Password {
			t.Fatalf("password %q", p)
		}
	}
	// Any new user can log in, and a wrong password is refused.
	c, err := net.Dial("tcp", a.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	br.ReadString('\n')
	fmt.Fprintf(c, "a LOGIN %s %s\r\n", last, Password)
	line, _ := br.ReadString('\n')
	if !strings.HasPrefix(line, "a OK") {
		t.Fatalf("LOGIN %s: %q", last, line)
	}
	fmt.Fprintf(c, "b SELECT Trash\r\nc LOGOUT\r\n")
	if rest, _ := io.ReadAll(br); !strings.Contains(string(rest), "b OK") {
		t.Fatalf("SELECT Trash: %q", rest)
	}
	c2, err := net.Dial("tcp", a.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(5 * time.Second))
	br2 := bufio.NewReader(c2)
	br2.ReadString('\n')
	fmt.Fprintf(c2, "a LOGIN %s wrong\r\n", last)
	if line, _ := br2.ReadString('\n'); !strings.HasPrefix(line, "a NO") {
		t.Fatalf("wrong password: %q", line)
	}
}

// TestConnections: with Options.Connections, many logged-in connections
// share a few imap processes instead of one process each.
func TestConnections(t *testing.T) {
	const n = 40
	s := Start(t, &Options{Connections: n})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		br.ReadString('\n')
		fmt.Fprintf(c, "a LOGIN user%d %s\r\nb SELECT INBOX\r\n", i+1, Password)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			if strings.HasPrefix(line, "a NO") || strings.HasPrefix(line, "b NO") {
				t.Fatalf("connection %d: %q", i, line)
			}
			if strings.HasPrefix(line, "b OK") {
				break
			}
		}
	}
	procs := childrenNamed(t, s.cmd.Process.Pid, "imap")
	if procs == 0 || procs > 4 {
		t.Fatalf("%d imap processes serve %d connections; want 1..4", procs, n)
	}
	t.Logf("%d connections served by %d imap process(es)", n, procs)
}

// childrenNamed counts the processes whose parent is ppid and whose
// command name (comm) is name.
func childrenNamed(t *testing.T, ppid int, name string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	n := 0
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		st := string(b)
		open, close := strings.IndexByte(st, '('), strings.LastIndexByte(st, ')')
		if open < 0 || close < open {
			continue
		}
		var state string
		var parent int
		fmt.Sscan(st[close+1:], &state, &parent)
		if parent == ppid && st[open+1:close] == name {
			n++
		}
	}
	return n
}
