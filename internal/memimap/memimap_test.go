package memimap

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// conversation sends each command (tagged a1, a2, ...) and returns all
// response lines up to each tagged reply.
func conversation(t *testing.T, addr string, cmds ...string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	greeting, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(greeting, "* OK") {
		t.Fatalf("greeting %q, %v", greeting, err)
	}
	var out []string
	for i, cmd := range cmds {
		tag := fmt.Sprintf("a%d", i+1)
		fmt.Fprintf(c, "%s %s\r\n", tag, cmd)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v (so far %q)", cmd, err, out)
			}
			line = strings.TrimRight(line, "\r\n")
			out = append(out, line)
			if strings.HasPrefix(line, tag+" ") {
				break
			}
		}
	}
	return out
}

func TestUsersMailboxesAppend(t *testing.T) {
	s, err := Start(&Options{Users: map[string]string{"alice": "a-pass", "bob": "b-pass"}, Mailboxes: []string{"Lists"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	date := time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)
	uid, err := s.Append("alice", "Lists", []byte("Subject: x\r\n\r\nhi\r\n"), []string{`\Flagged`}, date)
	if err != nil || uid != 1 {
		t.Fatalf("Append = %d, %v", uid, err)
	}
	if _, err := s.Append("alice", "Nope", []byte("x"), nil, time.Time{}); err == nil {
		t.Error("Append to a missing mailbox succeeded")
	}
	if _, err := s.Append("carol", "INBOX", []byte("x"), nil, time.Time{}); err == nil {
		t.Error("Append for a missing user succeeded")
	}
	out := strings.Join(conversation(t, s.Addr(),
		"LOGIN alice a-pass", "LIST \"\" \"*\"", "SELECT Lists", "UID FETCH 1 (FLAGS INTERNALDATE)", "LOGOUT"), "\n")
	for _, want := range []string{`INBOX`, `"Lists"`, `\flagged`, `3-Feb-2021 04:05:06 +0000`, "a5 OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Archive") {
		t.Errorf("default mailboxes created although Mailboxes was set:\n%s", out)
	}
	if out := strings.Join(conversation(t, s.Addr(), "LOGIN bob wrong"), "\n"); !strings.Contains(out, "a1 NO") {
		t.Errorf("wrong password accepted:\n%s", out)
	}
	if err := s.AddUser("bob", "x"); err == nil {
		t.Error("AddUser of an existing user succeeded")
	}
	if err := s.CreateMailbox("bob", "New"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMailbox("bob", "New"); err != nil {
		t.Fatalf("CreateMailbox of an existing one: %v", err)
	}
}

func TestDefaultsAndCaps(t *testing.T) {
	s, err := Start(&Options{DisableMove: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := strings.Join(conversation(t, s.Addr(), "LOGIN user pass", "CAPABILITY", "LIST \"\" \"*\""), "\n")
	for _, want := range []string{"IDLE", "UIDPLUS", `"Trash"`, `"Archive"`, `"Junk"`, `"Sent"`, `"Drafts"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, " MOVE") {
		t.Errorf("MOVE advertised although disabled:\n%s", out)
	}
}

// The polling IDLE announces a message appended right as IDLE starts.
func TestIdleSeesAppendImmediatelyAfterStart(t *testing.T) {
	s, err := Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 20 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		readUntil := func(prefix string) {
			t.Helper()
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("iteration %d: waiting for %q: %v", i, prefix, err)
				}
				if strings.HasPrefix(line, prefix) {
					return
				}
			}
		}
		readUntil("* OK")
		fmt.Fprintf(c, "a1 LOGIN user pass\r\na2 SELECT INBOX\r\n")
		readUntil("a2 OK")
		fmt.Fprintf(c, "a3 IDLE\r\n")
		readUntil("+")
		if _, err := s.Append("user", "INBOX", []byte("Subject: x\r\n\r\n"), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		readUntil(fmt.Sprintf("* %d EXISTS", i+1))
		fmt.Fprintf(c, "DONE\r\n")
		readUntil("a3 OK")
		c.Close()
	}
}

func TestDropConnectionsAndClose(t *testing.T) {
	s, err := Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	br.ReadString('\n')
	if n := s.DropConnections(); n != 1 {
		t.Errorf("DropConnections = %d", n)
	}
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := br.ReadString('\n'); err == nil {
		t.Error("connection still open after DropConnections")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond); err == nil {
		t.Error("still listening after Close")
	}
}

func TestSelfSignedCert(t *testing.T) {
	c, err := SelfSignedCert()
	if err != nil {
		t.Fatal(err)
	}
	leaf := c.TLS.Leaf
	if leaf == nil || len(leaf.IPAddresses) != 1 || leaf.DNSNames[0] != "localhost" {
		t.Fatalf("leaf = %+v", leaf)
	}
	if _, err := leaf.Verify(x509VerifyOptions(c)); err != nil {
		t.Fatal(err)
	}
}
