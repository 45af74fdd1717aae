package imapconn

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func fakeOptions(f *fakeServer, auth Auth) *Options {
	return &Options{
		Host: "127.0.0.1", Port: f.port(), TLS: TLSNone, InsecurePlaintext: true,
		Username: "alice", Auth: auth, DialTimeout: 5 * time.Second,
	}
}

func TestCancelDuringBlockingCall(t *testing.T) {
	t.Parallel()
	f := startFake(t, "IMAP4rev1 AUTH=PLAIN", true)
	c := dialT(t, fakeOptions(f, pw("pass")))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Noop(ctx) // the fake never answers NOOP
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !IsTemporary(err) {
		t.Fatalf("Noop = %v, want a temporary DeadlineExceeded", err)
	}
	if elapsed > time.Second {
		t.Fatalf("Noop returned after %v", elapsed)
	}
	t.Logf("blocking NOOP returned %v after the deadline", elapsed-200*time.Millisecond)
	select {
	case <-c.Closed():
	case <-time.After(time.Second):
		t.Fatal("client not closed")
	}
}

func TestDialTimeoutOnSilentServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Accepted by the kernel, never answered: no greeting, no handshake.
	for _, mode := range []TLSMode{TLSNone, TLSImplicit, TLSStartTLS} {
		o := &Options{
			Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: mode, InsecurePlaintext: true,
			Username: "u", Auth: pw("p"), DialTimeout: 300 * time.Millisecond,
		}
		start := time.Now()
		_, err := Dial(context.Background(), o)
		if el := time.Since(start); err == nil || el > 2*time.Second || !IsTemporary(err) {
			t.Fatalf("%v: Dial = %v after %v, want a temporary error after ~300ms", mode, err, el)
		}
	}
}

func TestTLSToPlaintextPortIsPermanent(t *testing.T) {
	f := startFake(t, "IMAP4rev1 AUTH=PLAIN", true)
	o := fakeOptions(f, pw("pass"))
	o.TLS, o.InsecurePlaintext = TLSImplicit, false
	if _, err := Dial(testCtx(t), o); !IsPermanent(err) {
		t.Fatalf("implicit TLS to a plaintext port: %v, want permanent", err)
	}
}

func TestErrorClasses(t *testing.T) {
	for _, tc := range []struct {
		err       error
		permanent bool
	}{
		{&imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable}, false},
		{&imap.Error{Type: imap.StatusResponseTypeBye, Text: "too many connections"}, false},
		{&AuthError{Mechanism: "PLAIN", Err: &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable}}, false},
		{&AuthError{Mechanism: "PLAIN", Err: &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed}}, true},
		{&AuthError{Mechanism: "LOGIN", Err: io.ErrUnexpectedEOF}, false},
		{fmt.Errorf("select: %w", &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent}), true},
		{fmt.Errorf("x: %w", io.EOF), false},
		{context.DeadlineExceeded, false},
		{fmt.Errorf("x: %w", ErrConfig), true},
		{errors.New("in response: use of closed network connection"), false},
	} {
		if got := IsPermanent(tc.err); got != tc.permanent || IsTemporary(tc.err) == tc.permanent {
			t.Errorf("IsPermanent(%v) = %v, want %v", tc.err, got, tc.permanent)
		}
	}
	if IsPermanent(nil) || IsTemporary(nil) {
		t.Error("nil is classified")
	}
}

func TestLoginWhenNoAuthPlainAndRedaction(t *testing.T) {
	const secret = `s3cr3t "pa\ss"`
	f := startFake(t, "IMAP4rev1", true)
	var trace bytes.Buffer
	o := fakeOptions(f, pw(secret))
	o.DebugWriter = &trace
	c := dialT(t, o)
	c.Logout(testCtx(t))
	var login string
	for _, l := range f.received() {
		if strings.Contains(l, "LOGIN") {
			login = l
		}
	}
	if !strings.Contains(login, "alice") {
		t.Fatalf("no LOGIN sent; got %q", f.received())
	}
	if strings.Contains(trace.String(), "s3cr3t") || !strings.Contains(trace.String(), "LOGIN <redacted>") {
		t.Fatalf("trace leaks or misses redaction:\n%s", trace.String())
	}
}

func TestAuthFailureIsPermanent(t *testing.T) {
	f := startFake(t, "IMAP4rev1 AUTH=PLAIN", false)
	_, err := Dial(testCtx(t), fakeOptions(f, pw("pass")))
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Mechanism != "PLAIN" || !IsPermanent(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestPasswordFuncError(t *testing.T) {
	f := startFake(t, "IMAP4rev1 AUTH=PLAIN", true)
	auth := Password{Password: func(context.Context) (string, error) {
		return "", fmt.Errorf("read password file: %w", ErrConfig)
	}}
	_, err := Dial(testCtx(t), fakeOptions(f, auth))
	if !IsPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
}

func TestOAuth2(t *testing.T) {
	for _, mech := range []string{"", XOAUTH2, OAUTHBEARER} {
		want := mech
		if want == "" {
			want = XOAUTH2
		}
		f := startFake(t, "IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER", true)
		var trace bytes.Buffer
		o := fakeOptions(f, OAuth2{Mechanism: mech, Token: func(context.Context) (string, error) { return "tok-123", nil }})
		o.DebugWriter = &trace
		c := dialT(t, o)
		c.Close()
		var ir []byte
		for _, l := range f.received() {
			if fs := strings.Fields(l); len(fs) == 4 && fs[1] == "AUTHENTICATE" && fs[2] == want {
				ir, _ = base64.StdEncoding.DecodeString(fs[3])
			}
		}
		switch want {
		case XOAUTH2:
			if string(ir) != "user=alice\x01auth=Bearer tok-123\x01\x01" {
				t.Errorf("XOAUTH2 initial response %q", ir)
			}
		case OAUTHBEARER:
			if !strings.HasPrefix(string(ir), "n,a=alice,") || !strings.Contains(string(ir), "\x01auth=Bearer tok-123\x01\x01") {
				t.Errorf("OAUTHBEARER initial response %q", ir)
			}
		}
		if strings.Contains(trace.String(), base64.StdEncoding.EncodeToString(ir)) || strings.Contains(trace.String(), "tok-123") {
			t.Errorf("trace leaks the token:\n%s", trace.String())
		}
	}
	// Mechanism not advertised: permanent config error.
	f := startFake(t, "IMAP4rev1 AUTH=PLAIN", true)
	_, err := Dial(testCtx(t), fakeOptions(f, OAuth2{Token: func(context.Context) (string, error) { return "t", nil }}))
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v, want ErrConfig", err)
	}
}

// An error challenge is answered (empty response) so that the server
// ends the command with NO and the connection can try again; the
// challenge is kept for the error message.
func TestXOAuth2ErrorChallenge(t *testing.T) {
	c := newXOAuth2Client("u", "t").(*xoauth2Client)
	resp, err := c.Next([]byte(`{"status":"401"}`))
	if err != nil || len(resp) != 0 || !strings.Contains(c.detail(), "401") {
		t.Fatalf("Next = %q, %v; detail %q", resp, err, c.detail())
	}
	if _, err := c.Next([]byte(`{}`)); err == nil {
		t.Fatal("a second challenge was answered")
	}
}

func TestTracerRedaction(t *testing.T) {
	var buf bytes.Buffer
	tr := &tracer{w: &buf}
	tr.client([]byte("T1 LOGIN {5}\r\n"))
	tr.client([]byte("alice {6}\r\n"))
	tr.client([]byte("secret\r\n"))
	tr.client([]byte("T2 AUTHENTICATE PLAIN\r\n"))
	tr.server([]byte("+ \r\n"))
	tr.client([]byte("AGFsaWNlAHNlY3JldA==\r\n"))
	tr.server([]byte("T2 OK done\r\n"))
	tr.client([]byte("T3 SELECT INBOX\r\n"))
	tr.client([]byte("T4 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n"))
	tr.client([]byte("T5 NOOP\r\n")) // before the server's answer to T4
	want := "C: T1 LOGIN <redacted>\nC: <redacted>\nC: <redacted>\nC: T2 AUTHENTICATE PLAIN <redacted>\n" +
		"S: + \nC: <redacted>\nS: T2 OK done\nC: T3 SELECT INBOX\nC: T4 AUTHENTICATE PLAIN <redacted>\nC: T5 NOOP\n"
	if buf.String() != want {
		t.Fatalf("trace:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// There is deliberately no plain EXPUNGE in the code base (it removes other
// clients' \Deleted mail): only UID EXPUNGE.
func TestNoPlainExpunge(t *testing.T) {
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\.(Expunge|UnselectAndExpunge)\(`)
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if loc := re.Find(b); loc != nil {
			t.Errorf("%s calls %s: plain EXPUNGE (or CLOSE) is forbidden", f.Name(), loc)
		}
	}
}
