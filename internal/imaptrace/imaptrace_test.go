package imaptrace

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dovecottest.StopShared()
	os.Exit(code)
}

func TestLineParserLiterals(t *testing.T) {
	stream := "a1 LOGIN {4}\r\nuser {4+}\r\npass\r\n" +
		"a2 APPEND INBOX {30}\r\nb3 FAKE command inside data\r\n\r\n" +
		"a4 UID MOVE 1:3 Junk\r\nDONE\r\n"
	want := []string{"a1 LOGIN {4}|first", " {4+}|cont", "|cont", "a2 APPEND INBOX {30}|first", "|cont", "a4 UID MOVE 1:3 Junk|first", "DONE|first"}
	// Feed in every possible split to exercise chunk boundaries.
	for split := 1; split < len(stream); split++ {
		var got []string
		lp := &lineParser{line: func(l []byte, first bool) {
			k := "cont"
			if first {
				k = "first"
			}
			got = append(got, string(l)+"|"+k)
		}}
		lp.feed([]byte(stream[:split]))
		lp.feed([]byte(stream[split:]))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("split at %d:\n%s\nwant\n%s", split, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	for line, name := range map[string]string{"a UID fetch 1:* (FLAGS)": "UID FETCH", "x7 EXPUNGE": "EXPUNGE", "done": "DONE", "AGVzdA==": "", "t idle": "IDLE"} {
		if got := commandName([]byte(line)); got != name {
			t.Errorf("commandName(%q) = %q, want %q", line, got, name)
		}
	}
}

// TestProxyDovecot drives a real client through the proxy: the counts are
// the commands sent, message data that looks like a continuation does not
// fake an IDLE, and WaitIdle returns once the server accepted IDLE.
func TestProxyDovecot(t *testing.T) {
	srv := dovecottest.Shared(t)
	user, pass := srv.NewUser(t)
	body := "Subject: tricky\r\n\r\n+ idling\r\nb1 UID MOVE 1 Junk\r\n"
	srv.Save(t, user, "INBOX", []byte(body))
	srv.Save(t, user, "INBOX", []byte(body))

	p, err := Start(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := imapclient.DialInsecure(p.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	c.Create("Junk2", nil).Wait()
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.WaitIdle(ctx, 1); err != nil {
		t.Fatalf("WaitIdle: %v (stats %+v)", err, p.Stats())
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	var uids imap.UIDSet
	uids.AddRange(1, 2)
	if _, err := c.Fetch(uids, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(uids, "Junk2").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().Open > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := p.Stats()
	// go-imap asks CAPABILITY itself when the server's LOGIN answer does
	// not carry them: not the test's command.
	delete(st.Commands, "CAPABILITY")
	got := fmt.Sprint(st.Commands)
	want := fmt.Sprint(map[string]int{"LOGIN": 1, "SELECT": 1, "CREATE": 1, "IDLE": 1, "DONE": 1, "UID FETCH": 1, "UID MOVE": 1, "LOGOUT": 1})
	if got != want {
		t.Errorf("commands %s, want %s", got, want)
	}
	for name := range st.Commands {
		if name != "DONE" && st.Time[name] <= 0 {
			t.Errorf("no time recorded for %s: %v", name, st.Time)
		}
	}
	if st.MaxIdle != 1 || st.Idle != 0 || st.Open != 0 || st.Accepted != 1 || st.BytesDown < int64(2*len(body)) {
		t.Errorf("stats %+v", st)
	}
}
