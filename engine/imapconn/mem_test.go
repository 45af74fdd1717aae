package imapconn

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

func TestMemDialSelect(t *testing.T) {
	srv := startMem(t, nil)
	start := time.Now()
	c := dialT(t, memOptions(srv, "user", "pass"))
	t.Logf("dial+auth (memimap, plaintext): %v", time.Since(start))
	if !c.Has("MOVE") || !c.Has("uidplus") || !c.Has("IDLE") {
		t.Errorf("caps = %v", c.Capabilities())
	}
	s := selectT(t, c, "INBOX")
	name, uv := s.Selected()
	if name != "INBOX" || uv == 0 {
		t.Errorf("Selected() = %q, %d", name, uv)
	}
	if got := s.Caps(); !got.Move || !got.UIDPlus {
		t.Errorf("Caps() = %+v", got)
	}
	if s.NumMessages() != 0 || s.UIDNext() != 1 {
		t.Errorf("NumMessages %d UIDNext %d", s.NumMessages(), s.UIDNext())
	}
	if err := s.Noop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Closed():
	case <-time.After(2 * time.Second):
		t.Fatal("not closed after Logout")
	}
}

func TestMemConfigErrors(t *testing.T) {
	srv := startMem(t, nil)
	base := memOptions(srv, "user", "pass")
	for name, mut := range map[string]func(o *Options){
		"plaintext without InsecurePlaintext": func(o *Options) { o.InsecurePlaintext = false },
		"no host":                             func(o *Options) { o.Host = "" },
		"no username":                         func(o *Options) { o.Username = "" },
		"no auth":                             func(o *Options) { o.Auth = nil },
		"bad port":                            func(o *Options) { o.Port = 70000 },
	} {
		o := *base
		mut(&o)
		_, err := Dial(testCtx(t), &o)
		if !errors.Is(err, ErrConfig) || !IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent ErrConfig", name, err)
		}
	}
	if _, err := Dial(testCtx(t), nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil options: %v", err)
	}
}

func TestMemWrongPassword(t *testing.T) {
	srv := startMem(t, nil)
	_, err := Dial(testCtx(t), memOptions(srv, "user", "wrong"))
	var authErr *AuthError
	if !errors.As(err, &authErr) || !IsPermanent(err) {
		t.Fatalf("err = %v, want permanent *AuthError", err)
	}
	if bytes.Contains([]byte(err.Error()), []byte("wrong")) {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestMemConnectionRefusedIsTemporary(t *testing.T) {
	srv := startMem(t, nil)
	o := memOptions(srv, "user", "pass")
	srv.Close()
	_, err := Dial(testCtx(t), o)
	if err == nil || !IsTemporary(err) {
		t.Fatalf("err = %v, want temporary", err)
	}
}

func TestMemStartTLS(t *testing.T) {
	cert, err := memimap.SelfSignedCert()
	if err != nil {
		t.Fatal(err)
	}
	srv := startMem(t, &memimap.Options{TLSConfig: tlsServerConfig(cert)})
	o := memOptions(srv, "user", "pass")
	o.TLS, o.InsecurePlaintext, o.RootCAs = TLSStartTLS, false, cert.Pool
	var trace bytes.Buffer
	o.DebugWriter = &trace
	c := dialT(t, o)
	s := selectT(t, c, "INBOX")
	if err := s.Noop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(trace.Bytes(), []byte("C: S0 STARTTLS")) || !bytes.Contains(trace.Bytes(), []byte("SELECT INBOX")) {
		t.Errorf("trace misses STARTTLS or SELECT:\n%s", trace.String())
	}

	// Without the test root, verification fails: permanent.
	o2 := *o
	o2.RootCAs, o2.DebugWriter = nil, nil
	_, err = Dial(testCtx(t), &o2)
	if err == nil || !IsPermanent(err) {
		t.Fatalf("untrusted cert: err = %v, want permanent", err)
	}
}

func TestMemFetchNew(t *testing.T) {
	srv := startMem(t, nil)
	date := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"m1", "m2", "m3"} {
		if _, err := srv.Append("user", "INBOX", rawMsg(id, "hello "+id, "body of "+id), []string{"$Label" + id}, date.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	c := dialT(t, memOptions(srv, "user", "pass"))
	s := selectT(t, c, "INBOX")
	ctx := testCtx(t)

	msgs, err := s.FetchNew(ctx, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("got %d messages", len(msgs))
	}
	for i, m := range msgs {
		if m.UID != uint32(i+1) || !m.HeaderOnly || msgID(m) != []string{"m1", "m2", "m3"}[i] {
			t.Errorf("msg %d: uid %d headerOnly %v id %q", i, m.UID, m.HeaderOnly, msgID(m))
		}
		if bytes.Contains(m.Raw, []byte("body of")) || !bytes.HasSuffix(m.Raw, []byte("\r\n\r\n")) {
			t.Errorf("msg %d: header-only fetch returned %q", i, m.Raw)
		}
		if m.Size != int64(len(rawMsg("m1", "hello m1", "body of m1"))) {
			t.Errorf("msg %d: size %d", i, m.Size)
		}
		if !m.InternalDate.Equal(date.Add(time.Duration(i) * time.Hour)) {
			t.Errorf("msg %d: internal date %v", i, m.InternalDate)
		}
		if !hasFlag(m, "$Label"+msgID(m)) || hasFlag(m, `\Seen`) {
			t.Errorf("msg %d: flags %v", i, m.Flags)
		}
	}

	// "3:*" and "4:*" both match the last message (UID 3): only the first
	// may return it.
	if msgs, err = s.FetchNew(ctx, 2, 0, true); err != nil || len(msgs) != 1 || msgs[0].UID != 3 || msgs[0].HeaderOnly || !bytes.Contains(msgs[0].Raw, []byte("body of m3")) {
		t.Fatalf("FetchNew(2, whole) = %+v, %v", msgs, err)
	}
	if msgs, err = s.FetchNew(ctx, 3, 0, false); err != nil || len(msgs) != 0 {
		t.Fatalf("FetchNew(3) = %+v, %v; want none (n:* quirk)", msgs, err)
	}
	if msgs, err = s.FetchNew(ctx, 0, 2, false); err != nil || len(msgs) != 2 || msgs[0].UID != 1 || msgs[1].UID != 2 {
		t.Fatalf("FetchNew(0, max 2) = %+v, %v", msgs, err)
	}
	if msgs, err = s.FetchNew(ctx, 3, 2, false); err != nil || len(msgs) != 0 {
		t.Fatalf("FetchNew(3, max 2) = %+v, %v", msgs, err)
	}
	// PEEK: still unseen.
	if msgs, err = s.FetchUIDs(ctx, []uint32{3, 1}, false); err != nil || len(msgs) != 2 || msgs[0].UID != 1 || hasFlag(msgs[1], `\Seen`) {
		t.Fatalf("FetchUIDs = %+v, %v", msgs, err)
	}
	uids, err := s.SearchUIDs(ctx, nil)
	if err != nil || len(uids) != 3 {
		t.Fatalf("SearchUIDs(all) = %v, %v", uids, err)
	}
	if uids, err = s.SearchUIDs(ctx, &Criteria{UIDFrom: 2, UIDTo: 2}); err != nil || len(uids) != 1 || uids[0] != 2 {
		t.Fatalf("SearchUIDs(2:2) = %v, %v", uids, err)
	}
	if uids, err = s.SearchUIDs(ctx, &Criteria{Flags: []string{"$Labelm2"}}); err != nil || len(uids) != 1 || uids[0] != 2 {
		t.Fatalf("SearchUIDs(keyword) = %v, %v", uids, err)
	}
	// HEADER is a substring match (RFC 9051 §6.4.4).
	if uids, err = s.SearchUIDs(ctx, &Criteria{Header: []HeaderMatch{{"Message-ID", "<m2@example.org>"}}}); err != nil || len(uids) != 1 || uids[0] != 2 {
		t.Fatalf("SearchUIDs(header) = %v, %v", uids, err)
	}
	if uids, err = s.SearchUIDs(ctx, &Criteria{Header: []HeaderMatch{{"message-id", "example.org"}}}); err != nil || len(uids) != 3 {
		t.Fatalf("SearchUIDs(header substring) = %v, %v", uids, err)
	}
}

func TestMemStoreCopyMove(t *testing.T) {
	srv := startMem(t, nil)
	for _, id := range []string{"a", "b", "c", "d"} {
		if _, err := srv.Append("user", "INBOX", rawMsg(id, id, id), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	// Give Archive an existing message so destination UIDs differ from
	// source UIDs.
	if _, err := srv.Append("user", "Archive", rawMsg("old", "old", "old"), nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	c := dialT(t, memOptions(srv, "user", "pass"))
	check := dialT(t, memOptions(srv, "user", "pass"))
	s := selectT(t, c, "INBOX")
	ctx := testCtx(t)

	if err := s.Store(ctx, []uint32{1, 2}, actions.StoreAdd, []string{`\Flagged`, "$Work"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Store(ctx, []uint32{2}, actions.StoreRemove, []string{"$Work"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Store(ctx, []uint32{3}, actions.StoreReplace, []string{`\Seen`}); err != nil {
		t.Fatal(err)
	}
	got := mailboxContents(t, check, "INBOX")
	if !hasFlag(got[1], `\Flagged`) || !hasFlag(got[1], "$Work") || !hasFlag(got[2], `\Flagged`) || hasFlag(got[2], "$Work") || !hasFlag(got[3], `\Seen`) || len(got[4].Flags) != 0 {
		t.Fatalf("flags after Store: %+v", got)
	}

	cp, err := s.Copy(ctx, []uint32{3, 1}, "Archive")
	if err != nil {
		t.Fatal(err)
	}
	dest := cp.UIDs
	arch := mailboxContents(t, check, "Archive")
	if len(dest) != 2 || msgID(arch[dest[0]]) != "c" || msgID(arch[dest[1]]) != "a" {
		t.Fatalf("Copy dest %v, archive %+v", dest, arch)
	}

	cp, err = s.Move(ctx, []uint32{4, 2}, "Archive")
	if err != nil {
		t.Fatal(err)
	}
	dest = cp.UIDs
	arch = mailboxContents(t, check, "Archive")
	if len(dest) != 2 || msgID(arch[dest[0]]) != "d" || msgID(arch[dest[1]]) != "b" || !hasFlag(arch[dest[1]], `\Flagged`) {
		t.Fatalf("Move dest %v, archive %+v", dest, arch)
	}
	inbox := mailboxContents(t, check, "INBOX")
	if len(inbox) != 2 || msgID(inbox[1]) != "a" || msgID(inbox[3]) != "c" {
		t.Fatalf("INBOX after move: %+v", inbox)
	}
}

func TestMemTryCreate(t *testing.T) {
	srv := startMem(t, nil)
	srv.Append("user", "INBOX", rawMsg("x", "x", "x"), nil, time.Time{})
	c := dialT(t, memOptions(srv, "user", "pass"))
	s := selectT(t, c, "INBOX")
	ctx := testCtx(t)
	for _, op := range []func() (actions.Copied, error){
		func() (actions.Copied, error) { return s.Copy(ctx, []uint32{1}, "Lists/Go") },
		func() (actions.Copied, error) { return s.Move(ctx, []uint32{1}, "Lists/Go") },
	} {
		if _, err := op(); !errors.Is(err, actions.ErrTryCreate) {
			t.Fatalf("err = %v, want ErrTryCreate", err)
		}
	}
	if _, err := c.Append(ctx, "Nowhere", nil, time.Time{}, rawMsg("y", "y", "y")); !errors.Is(err, actions.ErrTryCreate) {
		t.Fatalf("Append: err = %v, want ErrTryCreate", err)
	}
	if err := s.Create(ctx, "Lists/Go"); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "Lists/Go"); err != nil {
		t.Fatalf("Create of an existing mailbox: %v", err)
	}
	cp, err := s.Move(ctx, []uint32{1}, "Lists/Go")
	if dest := cp.UIDs; err != nil || len(dest) != 1 || dest[0] != 1 {
		t.Fatalf("Move after Create = %v, %v", cp, err)
	}
	st, err := c.Status(ctx, "Lists/Go")
	if err != nil || st.Messages != 1 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
}

func TestMemUIDExpunge(t *testing.T) {
	srv := startMem(t, nil)
	for _, id := range []string{"keep", "gone", "other-deleted"} {
		srv.Append("user", "INBOX", rawMsg(id, id, id), nil, time.Time{})
	}
	c := dialT(t, memOptions(srv, "user", "pass"))
	s := selectT(t, c, "INBOX")
	ctx := testCtx(t)
	if err := s.Store(ctx, []uint32{2, 3}, actions.StoreAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if err := s.UIDExpunge(ctx, []uint32{2}); err != nil {
		t.Fatal(err)
	}
	got := mailboxContents(t, dialT(t, memOptions(srv, "user", "pass")), "INBOX")
	if len(got) != 2 || msgID(got[1]) != "keep" || msgID(got[3]) != "other-deleted" || !hasFlag(got[3], `\Deleted`) {
		t.Fatalf("after UIDExpunge: %+v", got)
	}
}

func TestMemNoMoveNoUIDPlus(t *testing.T) {
	srv := startMem(t, &memimap.Options{DisableMove: true, DisableUIDPlus: true})
	srv.Append("user", "INBOX", rawMsg("x", "x", "x"), nil, time.Time{})
	c := dialT(t, memOptions(srv, "user", "pass"))
	s := selectT(t, c, "INBOX")
	if caps := s.Caps(); caps.Move || caps.UIDPlus {
		t.Fatalf("Caps = %+v", caps)
	}
	ctx := testCtx(t)
	if _, err := s.Move(ctx, []uint32{1}, "Archive"); !errors.Is(err, ErrNoMove) {
		t.Fatalf("Move: %v", err)
	}
	if err := s.UIDExpunge(ctx, []uint32{1}); !errors.Is(err, ErrNoUIDPlus) {
		t.Fatalf("UIDExpunge: %v", err)
	}
	got := mailboxContents(t, dialT(t, memOptions(srv, "user", "pass")), "INBOX")
	arch := mailboxContents(t, dialT(t, memOptions(srv, "user", "pass")), "Archive")
	if len(got) != 1 || len(arch) != 0 || hasFlag(got[1], `\Deleted`) {
		t.Fatalf("something was sent: INBOX %+v Archive %+v", got, arch)
	}
}

func TestMemSpecialUseNone(t *testing.T) {
	srv := startMem(t, nil)
	s := selectT(t, dialT(t, memOptions(srv, "user", "pass")), "INBOX")
	if _, err := s.SpecialUse(testCtx(t), `\Trash`); !errors.Is(err, actions.ErrNoSpecialUse) {
		t.Fatalf("err = %v, want ErrNoSpecialUse (imapmemserver has no special-use)", err)
	}
}

func TestMemIdleWakes(t *testing.T) {
	srv := startMem(t, nil)
	c := dialT(t, memOptions(srv, "user", "pass"))
	s := selectT(t, c, "INBOX")
	ctx := testCtx(t)
	idle, err := s.Idle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := srv.Append("user", "INBOX", rawMsg("new", "new", "new"), nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Updates():
		t.Logf("memimap IDLE wake latency: %v", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("no EXISTS during IDLE")
	}
	if err := idle.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	msgs, err := s.FetchNew(ctx, 0, 0, false)
	if err != nil || len(msgs) != 1 || msgID(msgs[0]) != "new" {
		t.Fatalf("FetchNew after IDLE = %+v, %v", msgs, err)
	}
}

func TestMemCancelDuringIdle(t *testing.T) {
	srv := startMem(t, nil)
	c := dialT(t, memOptions(srv, "user", "pass"))
	s := selectT(t, c, "INBOX")
	ctx, cancel := context.WithCancel(context.Background())
	idle, err := s.Idle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cancel()
	select {
	case <-c.Closed():
	case <-time.After(2 * time.Second):
		t.Fatal("connection not closed after cancel")
	}
	if err := idle.Stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop = %v, want context.Canceled", err)
	}
	t.Logf("cancel during IDLE → closed in %v", time.Since(start))
	if err := s.Noop(testCtx(t)); !errors.Is(err, ErrClosed) || !IsTemporary(err) {
		t.Fatalf("Noop on closed client = %v", err)
	}
}

func TestMemServerDropsConnection(t *testing.T) {
	srv := startMem(t, nil)
	c := dialT(t, memOptions(srv, "user", "pass"))
	s := selectT(t, c, "INBOX")
	idle, err := s.Idle(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if n := srv.DropConnections(); n != 1 {
		t.Fatalf("dropped %d connections", n)
	}
	select {
	case <-c.Closed():
		t.Logf("server-side close noticed in %v", time.Since(start))
	case <-time.After(2 * time.Second):
		t.Fatal("server-side close not noticed")
	}
	if err := idle.Stop(); err == nil || !IsTemporary(err) {
		t.Fatalf("Stop = %v, want a temporary error", err)
	}
	// A new connection works.
	c2 := dialT(t, memOptions(srv, "user", "pass"))
	selectT(t, c2, "INBOX")
}

func TestMemAppendStatus(t *testing.T) {
	srv := startMem(t, nil)
	c := dialT(t, memOptions(srv, "user", "pass"))
	ctx := testCtx(t)
	date := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	uid, err := c.Append(ctx, "Sent", []string{`\Seen`}, date, rawMsg("s", "s", "s"))
	if err != nil || uid != 1 {
		t.Fatalf("Append = %d, %v", uid, err)
	}
	st, err := c.Status(ctx, "Sent")
	if err != nil || st.Messages != 1 || st.UIDNext != 2 || st.Unseen != 0 || st.UIDValidity == 0 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	got := mailboxContents(t, c, "Sent")
	if !got[1].InternalDate.Equal(date) || !hasFlag(got[1], `\Seen`) {
		t.Fatalf("appended: %+v", got[1])
	}
	if _, _, err := c.QuotaRoot(ctx, "INBOX"); !errors.Is(err, ErrNoQuota) {
		t.Fatalf("QuotaRoot on imapmemserver = %v, want ErrNoQuota", err)
	}
}

func TestMemSessionReplaced(t *testing.T) {
	srv := startMem(t, nil)
	c := dialT(t, memOptions(srv, "user", "pass"))
	s1 := selectT(t, c, "INBOX")
	selectT(t, c, "Archive")
	if err := s1.Store(testCtx(t), []uint32{1}, actions.StoreAdd, []string{`\Seen`}); err == nil {
		t.Fatal("Store on a replaced session succeeded")
	}
}
