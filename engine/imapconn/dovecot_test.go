package imapconn

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

// dovecotUser returns options for a user of the shared Dovecot that no
// other test uses, over plain IMAP.
func dovecotUser(t *testing.T) (*dovecottest.Server, *Options) {
	t.Helper()
	srv := dovecottest.Shared(t)
	user, pass := srv.NewUser(t)
	return srv, &Options{
		Host: srv.Host, Port: srv.Port, TLS: TLSNone, InsecurePlaintext: true,
		Username: user, Auth: pw(pass), DialTimeout: 5 * time.Second,
	}
}

func appendT(t *testing.T, c *Client, mailbox string, flags []string, date time.Time, ids ...string) []uint32 {
	t.Helper()
	var uids []uint32
	for _, id := range ids {
		uid, err := c.Append(testCtx(t), mailbox, flags, date, rawMsg(id, "subject "+id, "body of "+id))
		if err != nil {
			t.Fatalf("Append %s: %v", id, err)
		}
		uids = append(uids, uid)
	}
	return uids
}

func TestDovecotDialModes(t *testing.T) {
	t.Parallel()
	srv, base := dovecotUser(t)
	for _, tc := range []struct {
		name string
		mut  func(o *Options)
	}{
		{"plaintext", func(o *Options) {}},
		{"starttls", func(o *Options) { o.TLS, o.InsecurePlaintext, o.RootCAs = TLSStartTLS, false, srv.CertPool }},
		{"implicit", func(o *Options) {
			o.TLS, o.InsecurePlaintext, o.Port, o.RootCAs = TLSImplicit, false, srv.TLSPort, srv.CertPool
		}},
		{"implicit, name localhost", func(o *Options) {
			o.TLS, o.InsecurePlaintext, o.Port, o.RootCAs, o.Host = TLSImplicit, false, srv.TLSPort, srv.CertPool, "localhost"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := *base
			tc.mut(&o)
			start := time.Now()
			c, err := Dial(testCtx(t), &o)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			t.Logf("Dovecot dial+auth (%s): %v", tc.name, time.Since(start))
			for _, cp := range []string{"MOVE", "UIDPLUS", "IDLE", "QUOTA", "SPECIAL-USE", "LIST-EXTENDED"} {
				if !c.Has(cp) {
					t.Errorf("missing %s in %v", cp, c.Capabilities())
				}
			}
			s := selectT(t, c, "INBOX")
			if caps := s.Caps(); !caps.Move || !caps.UIDPlus {
				t.Errorf("Caps = %+v", caps)
			}
			if err := c.Logout(testCtx(t)); err != nil {
				t.Errorf("Logout: %v", err)
			}
		})
	}
}

func TestDovecotAuthAndCertFailures(t *testing.T) {
	t.Parallel()
	srv, base := dovecotUser(t)

	o := *base
	o.Auth = pw("wrong")
	_, err := Dial(testCtx(t), &o)
	var imapErr *imap.Error
	if !IsPermanent(err) || !errors.As(err, &imapErr) || imapErr.Code != imap.ResponseCodeAuthenticationFailed {
		t.Errorf("wrong password: %v, want permanent [AUTHENTICATIONFAILED]", err)
	}
	if strings.Contains(fmt.Sprint(err), "wrong") {
		t.Errorf("error leaks the password: %v", err)
	}

	for name, mut := range map[string]func(o *Options){
		"untrusted implicit": func(o *Options) { o.TLS, o.InsecurePlaintext, o.Port = TLSImplicit, false, srv.TLSPort },
		"untrusted starttls": func(o *Options) { o.TLS, o.InsecurePlaintext = TLSStartTLS, false },
		"wrong name": func(o *Options) {
			o.TLS, o.InsecurePlaintext, o.Port, o.RootCAs = TLSImplicit, false, srv.TLSPort, srv.CertPool
			o.TLSConfig = &tls.Config{ServerName: "mail.example.com"}
		},
	} {
		o := *base
		mut(&o)
		_, err := Dial(testCtx(t), &o)
		if err == nil || !IsPermanent(err) {
			t.Errorf("%s: %v, want a permanent certificate error", name, err)
		}
	}
}

func TestDovecotFetchStoreCopyMove(t *testing.T) {
	t.Parallel()
	_, o := dovecotUser(t)
	c := dialT(t, o)
	check := dialT(t, o)
	ctx := testCtx(t)
	date := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	uids := appendT(t, c, "INBOX", []string{"$Seed"}, date, "a", "b", "c", "d", "e")
	if !slices.Equal(uids, []uint32{1, 2, 3, 4, 5}) {
		t.Fatalf("APPENDUIDs %v", uids)
	}
	appendT(t, c, "Archive", nil, time.Time{}, "old1", "old2")
	s := selectT(t, c, "INBOX")
	if s.NumMessages() != 5 || s.UIDNext() != 6 {
		t.Fatalf("NumMessages %d UIDNext %d", s.NumMessages(), s.UIDNext())
	}

	msgs, err := s.FetchNew(ctx, 0, 0, false)
	if err != nil || len(msgs) != 5 {
		t.Fatalf("FetchNew(0) = %d, %v", len(msgs), err)
	}
	m := msgs[0]
	if m.UID != 1 || !m.HeaderOnly || strings.Contains(string(m.Raw), "body of") || !strings.HasSuffix(string(m.Raw), "\r\n\r\n") ||
		!m.InternalDate.Equal(date) || m.Size != int64(len(rawMsg("a", "subject a", "body of a"))) || !hasFlag(m, "$Seed") {
		t.Fatalf("first message: %+v (raw %q)", m, m.Raw)
	}
	if msgs, err = s.FetchNew(ctx, 5, 0, false); err != nil || len(msgs) != 0 {
		t.Fatalf("FetchNew(5) = %+v, %v (6:* matches UID 5: must be filtered)", msgs, err)
	}
	if msgs, err = s.FetchNew(ctx, 3, 0, true); err != nil || len(msgs) != 2 || msgs[0].UID != 4 || !strings.Contains(string(msgs[0].Raw), "body of d") {
		t.Fatalf("FetchNew(3, whole) = %+v, %v", msgs, err)
	}
	if msgs, err = s.FetchNew(ctx, 1, 2, false); err != nil || len(msgs) != 2 || msgs[0].UID != 2 || msgs[1].UID != 3 {
		t.Fatalf("FetchNew(1, max 2) = %+v, %v", msgs, err)
	}
	// BODY.PEEK: nothing became \Seen.
	for _, f := range mailboxContents(t, check, "INBOX") {
		if hasFlag(f, `\Seen`) {
			t.Fatalf("fetch set \\Seen on %d", f.UID)
		}
	}

	if err := s.Store(ctx, []uint32{1, 2}, actions.StoreAdd, []string{`\Flagged`, "$Work"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Store(ctx, []uint32{1}, actions.StoreRemove, []string{"$Seed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Store(ctx, []uint32{5}, actions.StoreReplace, []string{`\Seen`}); err != nil {
		t.Fatal(err)
	}
	got := mailboxContents(t, check, "INBOX")
	if !hasFlag(got[1], "$Work") || hasFlag(got[1], "$Seed") || !hasFlag(got[2], `\Flagged`) || !hasFlag(got[2], "$Seed") ||
		!hasFlag(got[5], `\Seen`) || hasFlag(got[5], "$Seed") || len(got[3].Flags) != 1 {
		t.Fatalf("flags after Store: %+v", got)
	}

	cp, err := s.Copy(ctx, []uint32{4, 2}, "Archive")
	if err != nil {
		t.Fatal(err)
	}
	dest := cp.UIDs
	if archive, err := check.Status(ctx, "Archive"); err != nil || cp.UIDValidity == 0 || cp.UIDValidity != archive.UIDValidity {
		t.Fatalf("Copy COPYUID UIDVALIDITY %d, Archive's %+v %v", cp.UIDValidity, archive, err)
	}
	arch := mailboxContents(t, check, "Archive")
	if !slices.Equal(dest, []uint32{4, 3}) || msgID(arch[dest[0]]) != "d" || msgID(arch[dest[1]]) != "b" || !hasFlag(arch[3], `\Flagged`) {
		t.Fatalf("Copy dest %v; Archive %+v", dest, arch)
	}

	cp, err = s.Move(ctx, []uint32{5, 1, 99}, "Archive")
	if err != nil {
		t.Fatal(err)
	}
	dest = cp.UIDs
	arch = mailboxContents(t, check, "Archive")
	if !slices.Equal(dest, []uint32{6, 5, 0}) || msgID(arch[6]) != "e" || msgID(arch[5]) != "a" {
		t.Fatalf("Move dest %v; Archive %+v", dest, arch)
	}
	inbox := mailboxContents(t, check, "INBOX")
	if len(inbox) != 3 || msgID(inbox[2]) != "b" || msgID(inbox[3]) != "c" || msgID(inbox[4]) != "d" {
		t.Fatalf("INBOX after Move: %+v", inbox)
	}

	before, err := s.SearchUIDs(ctx, &Criteria{Before: date.AddDate(0, 0, 1)})
	if err != nil || !slices.Equal(before, []uint32{2, 3, 4}) {
		t.Fatalf("SearchUIDs(before) = %v, %v", before, err)
	}
	if none, err := s.SearchUIDs(ctx, &Criteria{Before: date}); err != nil || len(none) != 0 {
		t.Fatalf("SearchUIDs(before date) = %v, %v", none, err)
	}
	if sb, err := s.SearchUIDs(ctx, &Criteria{SentBefore: time.Date(2006, 1, 3, 0, 0, 0, 0, time.UTC), Flags: []string{`\Flagged`}}); err != nil || !slices.Equal(sb, []uint32{2}) {
		t.Fatalf("SearchUIDs(sentbefore, flagged) = %v, %v", sb, err)
	}
	if r, err := s.SearchUIDs(ctx, &Criteria{UIDFrom: 3}); err != nil || !slices.Equal(r, []uint32{3, 4}) {
		t.Fatalf("SearchUIDs(3:*) = %v, %v", r, err)
	}
	st, err := check.Status(ctx, "Archive")
	if err != nil || st.Messages != 6 || st.UIDNext != 7 || st.Size <= 0 {
		t.Fatalf("Status(Archive) = %+v, %v", st, err)
	}
}

func TestDovecotTryCreate(t *testing.T) {
	t.Parallel()
	_, o := dovecotUser(t)
	c := dialT(t, o)
	ctx := testCtx(t)
	appendT(t, c, "INBOX", nil, time.Time{}, "x", "y")
	s := selectT(t, c, "INBOX")
	if _, err := s.Move(ctx, []uint32{1}, "Lists/Go"); !errors.Is(err, actions.ErrTryCreate) || !IsPermanent(err) {
		t.Fatalf("Move to a missing mailbox: %v", err)
	}
	if _, err := s.Copy(ctx, []uint32{2}, "Lists/Go"); !errors.Is(err, actions.ErrTryCreate) {
		t.Fatalf("Copy to a missing mailbox: %v", err)
	}
	if err := s.Create(ctx, "Lists/Go"); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "Lists/Go"); err != nil {
		t.Fatalf("Create existing: %v", err)
	}
	if err := s.Create(ctx, "INBOX"); err != nil {
		t.Fatalf("Create INBOX: %v", err)
	}
	if cp, err := s.Move(ctx, []uint32{1}, "Lists/Go"); err != nil || !slices.Equal(cp.UIDs, []uint32{1}) {
		t.Fatalf("Move after Create: %v, %v", cp, err)
	}
	if got := mailboxContents(t, dialT(t, o), "Lists/Go"); len(got) != 1 || msgID(got[1]) != "x" {
		t.Fatalf("Lists/Go: %+v", got)
	}
}

func TestDovecotUIDExpungeExactly(t *testing.T) {
	t.Parallel()
	_, o := dovecotUser(t)
	c := dialT(t, o)
	other := dialT(t, o)
	ctx := testCtx(t)
	appendT(t, c, "INBOX", nil, time.Time{}, "keep", "target", "theirs")
	// Another client marks "theirs" \Deleted and has not expunged it.
	os := selectT(t, other, "INBOX")
	if err := os.Store(ctx, []uint32{3}, actions.StoreAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	s := selectT(t, c, "INBOX")
	if err := s.Store(ctx, []uint32{2}, actions.StoreAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if err := s.UIDExpunge(ctx, []uint32{2}); err != nil {
		t.Fatal(err)
	}
	got := mailboxContents(t, dialT(t, o), "INBOX")
	if len(got) != 2 || msgID(got[1]) != "keep" || msgID(got[3]) != "theirs" || !hasFlag(got[3], `\Deleted`) {
		t.Fatalf("after UIDExpunge(2): %+v", got)
	}
}

func TestDovecotSpecialUse(t *testing.T) {
	t.Parallel()
	_, o := dovecotUser(t)
	c := dialT(t, o)
	s := selectT(t, c, "INBOX")
	ctx := testCtx(t)
	// An empty mailbox: "1:*" matches nothing, and that is not an error.
	if msgs, err := s.FetchNew(ctx, 0, 0, false); err != nil || len(msgs) != 0 {
		t.Fatalf("FetchNew on an empty mailbox: %+v, %v", msgs, err)
	}
	if msgs, err := s.FetchNew(ctx, 0, 10, false); err != nil || len(msgs) != 0 {
		t.Fatalf("FetchNew(max) on an empty mailbox: %+v, %v", msgs, err)
	}
	for attr, want := range map[string]string{`\Trash`: "Trash", `\Archive`: "Archive", `\junk`: "Junk", `\Sent`: "Sent", `\Drafts`: "Drafts"} {
		if got, err := s.SpecialUse(ctx, attr); err != nil || got != want {
			t.Errorf("SpecialUse(%s) = %q, %v", attr, got, err)
		}
	}
	if _, err := s.SpecialUse(ctx, `\All`); !errors.Is(err, actions.ErrNoSpecialUse) {
		t.Errorf("SpecialUse(\\All) = %v", err)
	}
	if _, err := c.Select(ctx, "Nonexistent"); !IsPermanent(err) {
		t.Errorf("Select(Nonexistent) = %v, want permanent", err)
	}
	if err := s.Noop(ctx); err == nil {
		t.Error("the Session survived a failed SELECT")
	}
}

func TestDovecotExamine(t *testing.T) {
	t.Parallel()
	_, o := dovecotUser(t)
	c := dialT(t, o)
	appendT(t, c, "INBOX", nil, time.Time{}, "r")
	ctx := testCtx(t)
	s, err := c.Examine(ctx, "INBOX")
	if err != nil || !s.ReadOnly() {
		t.Fatalf("Examine = %v", err)
	}
	if msgs, err := s.FetchNew(ctx, 0, 0, true); err != nil || len(msgs) != 1 {
		t.Fatalf("FetchNew = %+v, %v", msgs, err)
	}
	if err := s.Store(ctx, []uint32{1}, actions.StoreAdd, []string{`\Flagged`}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Store on a read-only session: %v", err)
	}
	if _, err := s.Move(ctx, []uint32{1}, "Archive"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Move on a read-only session: %v", err)
	}
	if dest, err := s.Copy(ctx, []uint32{1}, "Archive"); err != nil || len(dest.UIDs) != 1 {
		t.Fatalf("Copy from a read-only session: %v, %v", dest, err)
	}
	got := mailboxContents(t, dialT(t, o), "INBOX")
	if hasFlag(got[1], `\Flagged`) || hasFlag(got[1], `\Seen`) {
		t.Fatalf("EXAMINE changed flags: %v", got[1].Flags)
	}
}

func TestDovecotIdleWake(t *testing.T) {
	t.Parallel()
	_, o := dovecotUser(t)
	c := dialT(t, o)
	sender := dialT(t, o)
	s := selectT(t, c, "INBOX")
	ctx := testCtx(t)
	var lat []time.Duration
	for i := range 3 {
		idle, err := s.Idle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		appendT(t, sender, "INBOX", nil, time.Time{}, fmt.Sprintf("n%d", i))
		select {
		case <-c.Updates():
			lat = append(lat, time.Since(start))
		case <-time.After(5 * time.Second):
			t.Fatal("no EXISTS during IDLE within 5s")
		}
		stopStart := time.Now()
		if err := idle.Stop(); err != nil {
			t.Fatal(err)
		}
		t.Logf("IDLE stop (DONE → OK): %v", time.Since(stopStart))
		msgs, err := s.FetchNew(ctx, uint32(i), 0, false)
		if err != nil || len(msgs) != 1 || msgID(msgs[0]) != fmt.Sprintf("n%d", i) {
			t.Fatalf("FetchNew after wake: %+v, %v", msgs, err)
		}
	}
	slices.Sort(lat)
	t.Logf("Dovecot IDLE wake latency (APPEND from a second connection → Updates): %v (median %v)", lat, lat[1])
}

func TestDovecotKickedDuringIdle(t *testing.T) {
	t.Parallel()
	srv, o := dovecotUser(t)
	c := dialT(t, o)
	s := selectT(t, c, "INBOX")
	idle, err := s.Idle(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	srv.KillConnections(t, o.Username)
	select {
	case <-c.Closed():
		t.Logf("server-side kill noticed in %v", time.Since(start))
	case <-time.After(3 * time.Second):
		t.Fatal("kick not noticed within 3s")
	}
	if err := idle.Stop(); !IsTemporary(err) {
		t.Fatalf("Stop after kick = %v, want temporary", err)
	}
	if err := s.Noop(testCtx(t)); !IsTemporary(err) {
		t.Fatalf("Noop after kick = %v, want temporary", err)
	}
}

func TestDovecotCancelBlockingIdleStop(t *testing.T) {
	t.Parallel()
	_, o := dovecotUser(t)
	c := dialT(t, o)
	s := selectT(t, c, "INBOX")
	ctx, cancel := context.WithCancel(context.Background())
	idle, err := s.Idle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	select {
	case <-c.Closed():
	case <-time.After(2 * time.Second):
		t.Fatal("cancel did not close the connection")
	}
	if err := idle.Stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop = %v", err)
	}
}

func TestDovecotQuota(t *testing.T) {
	t.Parallel()
	_, o := dovecotUser(t)
	c := dialT(t, o)
	ctx := testCtx(t)
	appendT(t, c, "INBOX", nil, time.Time{}, "q1", "q2")
	used, limit, err := c.QuotaRoot(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if limit != 50*1024*1024 || used <= 0 || used > 8*1024 {
		t.Fatalf("QuotaRoot = used %d, limit %d", used, limit)
	}
	t.Logf("quota: used %d of %d bytes", used, limit)
}

func TestDovecotListAndTrace(t *testing.T) {
	t.Parallel()
	_, o := dovecotUser(t)
	var trace strings.Builder
	o.DebugWriter = &syncWriter{w: &trace}
	c := dialT(t, o)
	ctx := testCtx(t)
	if err := c.Create(ctx, "Lists/Go"); err != nil {
		t.Fatal(err)
	}
	l, err := c.List(ctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]MailboxInfo{}
	for _, m := range l {
		got[m.Name] = m
	}
	if !slices.Contains(got["Trash"].Attrs, `\Trash`) || !got["Lists/Go"].Selectable() || got["Lists"].Delim != '/' {
		t.Fatalf("List = %+v", l)
	}
	c.Logout(ctx)
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + o.Username + "\x00pass"))
	if s := trace.String(); strings.Contains(s, ir) || !strings.Contains(s, "AUTHENTICATE PLAIN <redacted>") || !strings.Contains(s, "S: * LIST") {
		t.Fatalf("trace:\n%s", s)
	}
}

// Over quota, APPEND fails with [OVERQUOTA]: temporary (it clears when
// mail is removed), and QuotaRoot reports the limit.
func TestDovecotOverQuota(t *testing.T) {
	t.Parallel()
	srv := dovecottest.Start(t, &dovecottest.Options{Quota: "2K"})
	user, pass := srv.NewUser(t)
	c := dialT(t, &Options{Host: srv.Host, Port: srv.Port, TLS: TLSNone, InsecurePlaintext: true, Username: user, Auth: pw(pass)})
	ctx := testCtx(t)
	big := rawMsg("big", "big", strings.Repeat("x", 4096))
	_, err := c.Append(ctx, "INBOX", nil, time.Time{}, big)
	var imapErr *imap.Error
	if !errors.As(err, &imapErr) || imapErr.Code != imap.ResponseCodeOverQuota || !IsTemporary(err) {
		t.Fatalf("Append over quota = %v, want a temporary [OVERQUOTA]", err)
	}
	// go-imap beta.8 closes the connection when the server refuses a
	// synchronizing literal (> 4 KiB): see Client.Append.
	c2 := dialT(t, &Options{Host: srv.Host, Port: srv.Port, TLS: TLSNone, InsecurePlaintext: true, Username: user, Auth: pw(pass)})
	if _, limit, err := c2.QuotaRoot(ctx, "INBOX"); err != nil || limit != 2048 {
		t.Fatalf("QuotaRoot limit = %d, %v", limit, err)
	}
}
