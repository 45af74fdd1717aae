package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/etcdtest"
)

// recorder is an Owner that remembers what it was told.
type recorder struct {
	mu     sync.Mutex
	fences map[string]*Fence
	events []string
}

func newRecorder() *recorder { return &recorder{fences: map[string]*Fence{}} }

func (r *recorder) Acquire(account string, f *Fence) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fences[account] = f
	r.events = append(r.events, "+"+account)
}

func (r *recorder) Release(account string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.fences, account)
	r.events = append(r.events, "-"+account)
}

func (r *recorder) owned() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for a := range r.fences {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func (r *recorder) fence(a string) *Fence {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fences[a]
}

type replica struct {
	n      *Node
	rec    *recorder
	cancel context.CancelFunc
	done   chan struct{}
}

func logger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

func startReplica(t *testing.T, endpoints []string, name, prefix string, accounts []string) *replica {
	t.Helper()
	n, err := Open(&Options{Name: name, Endpoints: endpoints, TTL: 2 * time.Second, Prefix: prefix,
		DialTimeout: 2 * time.Second, Logger: logger(t)}, accounts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{n: n, rec: newRecorder(), cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); n.Run(ctx, r.rec) }()
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *replica) stop() {
	r.cancel()
	<-r.done
	r.n.Close()
}

func accounts(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("user%02d", i))
	}
	return out
}

// waitFor polls cond for at most a minute (the machine is shared and
// slow; this is a deadline, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// spread reports whether the replicas own accts exactly as rendezvous
// hashing over names says, each account once.
func spread(accts []string, names []string, rs ...*replica) bool {
	for _, r := range rs {
		var want []string
		for _, a := range accts {
			if Preferred(a, names) == r.n.Name() {
				want = append(want, a)
			}
		}
		if !slices.Equal(r.rec.owned(), want) {
			return false
		}
	}
	return true
}

func TestOwnershipFollowsMembers(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	accts := accounts(30)
	a := startReplica(t, etcd.Endpoints(), "a", "/t1/", accts)
	b := startReplica(t, etcd.Endpoints(), "b", "/t1/", accts)
	c := startReplica(t, etcd.Endpoints(), "c", "/t1/", accts)
	waitFor(t, "30 accounts spread over a, b, c", func() bool { return spread(accts, []string{"a", "b", "c"}, a, b, c) })

	// A graceful stop releases at once: b and c take a's accounts.
	a.stop()
	waitFor(t, "a's accounts moving to b and c", func() bool { return spread(accts, []string{"b", "c"}, b, c) })

	// A crash (the client goes away, the lease is not revoked): c takes
	// b's accounts once the lease has expired.
	b.n.client.Close()
	waitFor(t, "b's accounts moving to c after its lease expired", func() bool { return spread(accts, []string{"c"}, c) })
	waitFor(t, "b noticing it lost its session", func() bool { return len(b.rec.owned()) == 0 })

	// A new replica takes its share from c, which drains and releases it.
	d := startReplica(t, etcd.Endpoints(), "d", "/t1/", accts)
	waitFor(t, "d taking its share", func() bool { return spread(accts, []string{"c", "d"}, c, d) })

	// c learns other replicas' claims through its watch of the owner
	// keys: its view follows d's claims, shortly after them.
	ownersAgree := func(st Status) bool {
		for _, acct := range accts {
			if st.Owners[acct] != Preferred(acct, []string{"c", "d"}) {
				return false
			}
		}
		return len(st.Owners) == len(accts)
	}
	var st Status
	waitFor(t, "c's status naming d's claims", func() bool { st = c.n.Status(context.Background()); return ownersAgree(st) })
	if !st.Healthy || len(st.Members) != 2 || st.Remaining <= 0 || !slices.Equal(st.Owned, c.rec.owned()) {
		t.Errorf("status = %+v", st)
	}
}

func TestFenceRefusesALostOwner(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	a := startReplica(t, etcd.Endpoints(), "a", "/t2/", []string{"acct"})
	waitFor(t, "a owning acct", func() bool { return a.rec.fence("acct") != nil })
	fa := a.rec.fence("acct")
	ctx := context.Background()
	cp := state.Checkpoint{UIDValidity: 7, LastUID: 10}
	if err := fa.SetCheckpoint(ctx, "INBOX", cp); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := fa.Checkpoint(ctx, "INBOX"); err != nil || !ok || got.LastUID != 10 {
		t.Fatalf("checkpoint = %+v %v %v", got, ok, err)
	}

	// Pause a's keepalives as a SIGSTOP would: its lease is revoked
	// behind its back and b claims the account. a's fence still says
	// valid locally, but every write it tries is refused by etcd.
	a.n.mu.Lock()
	lease := a.n.session.Lease()
	a.n.mu.Unlock()
	cl, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// b first, so it is the only member when a's keys go.
	b := startReplica(t, etcd.Endpoints(), "b", "/t2/", []string{"acct"})
	if _, err := cl.Revoke(ctx, lease); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b owning acct", func() bool { return b.rec.fence("acct") != nil })
	fb := b.rec.fence("acct")
	if fb.Revision() == fa.Revision() {
		t.Fatal("the new claim has the old revision")
	}
	if err := fa.SetCheckpoint(ctx, "INBOX", state.Checkpoint{UIDValidity: 7, LastUID: 99}); !errors.Is(err, ErrFenced) {
		t.Fatalf("lost owner's checkpoint write: err = %v, want ErrFenced", err)
	}
	if _, err := fa.ClaimTick(ctx, "job", time.Now()); !errors.Is(err, ErrFenced) {
		t.Fatalf("lost owner's tick claim: err = %v, want ErrFenced", err)
	}
	ja := NewJournal(fa, openStore(t), nil, []string{"INBOX"})
	if err := ja.Intend(ctx, []actions.Entry{{Account: "acct", Mailbox: "INBOX", UID: 11, Op: actions.OpCopy, Target: "X"}}); !errors.Is(err, ErrFenced) {
		t.Fatalf("lost owner's copy intent: err = %v, want ErrFenced", err)
	}
	got, _, err := fb.Checkpoint(ctx, "INBOX")
	if err != nil || got.LastUID != 10 {
		t.Fatalf("checkpoint after the lost owner's attempt = %+v, %v; want LastUID 10", got, err)
	}
	if err := fb.SetCheckpoint(ctx, "INBOX", state.Checkpoint{UIDValidity: 7, LastUID: 12}); err != nil {
		t.Fatalf("new owner's checkpoint: %v", err)
	}
	waitFor(t, "a dropping the account it lost", func() bool { return a.rec.fence("acct") == nil })
}

func openStore(t *testing.T) *state.Store {
	t.Helper()
	s, err := state.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestTicksAreClaimedOnce(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	a := startReplica(t, etcd.Endpoints(), "a", "/t3/", []string{"acct"})
	waitFor(t, "a owning acct", func() bool { return a.rec.fence("acct") != nil })
	f := a.rec.fence("acct")
	ctx := context.Background()
	t1 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	t2 := t1.Add(5 * time.Second)
	t4 := t1.Add(15 * time.Second)
	claim := func(job string, due time.Time, want Claim) {
		t.Helper()
		c, err := f.ClaimTick(ctx, job, due)
		if err != nil || c != want {
			t.Fatalf("claim %s %v: %+v, %v; want %+v", job, due.Format(time.TimeOnly), c, err, want)
		}
	}
	finish := func(job string, due time.Time) {
		t.Helper()
		if err := f.FinishTick(ctx, job, due); err != nil {
			t.Fatal(err)
		}
	}
	t3 := t1.Add(10 * time.Second)
	claim("job", t1, Claim{OK: true})
	claim("job", t1, Claim{}) // claimed already, by us
	finish("job", t1)
	claim("job", t3, Claim{OK: true, Prev: t1}) // covers t2 too
	claim("job", t2, Claim{})                   // before the last claim
	// t3's run never finished (failed, or the answer to its claim was
	// lost): t4's claim covers it too, from t1 on.
	claim("job", t4, Claim{OK: true, Prev: t1, Unfinished: t3})
	claim("other", t1, Claim{OK: true})
	finish("other", t1)
	if last, ok, err := f.LastTick(ctx, "other"); err != nil || !ok || !last.Done || last.By != "a" {
		t.Fatalf("last tick of other = %+v %v %v", last, ok, err)
	}

	// a dies with job's tick t4 claimed and not finished, other's t1
	// finished: the next owner runs t4 again, not t1.
	a.n.client.Close()
	b := startReplica(t, etcd.Endpoints(), "b", "/t3/", []string{"acct"})
	waitFor(t, "b owning acct", func() bool { return b.rec.fence("acct") != nil })
	f = b.rec.fence("acct")
	// a's run of t4 was under a's ownership: b cannot mark it done.
	if err := f.FinishTick(ctx, "job", t4); !errors.Is(err, ErrTickMoved) {
		t.Fatalf("finishing a tick claimed under another ownership: err = %v, want ErrTickMoved", err)
	}
	claim("job", t4, Claim{OK: true, Prev: t1, Resumed: true})
	claim("job", t4, Claim{})
	claim("other", t1, Claim{})
}

func TestIntentsPassToTheNextOwner(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	a := startReplica(t, etcd.Endpoints(), "a", "/t4/", []string{"acct"})
	waitFor(t, "a owning acct", func() bool { return a.rec.fence("acct") != nil })
	ctx := context.Background()
	ja := NewJournal(a.rec.fence("acct"), openStore(t), nil, []string{"INBOX"})
	date := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	entry := func(mailbox string, uid uint32) actions.Entry {
		return actions.Entry{Account: "acct", Mailbox: mailbox, UIDValidity: 1, UID: uid, MessageID: fmt.Sprintf("<%d@x>", uid),
			Op: actions.OpCopy, Target: "Copies", InternalDate: date}
	}
	// UID 4 was copied and its batch finished: the checkpoint passed it.
	// UID 5 was copied (settled here) but its batch not finished: the
	// next owner must know the copy exists. UID 6's copy was intended,
	// not settled. A job's copy from Backlog (unwatched), settled, is no
	// one's concern any more.
	for _, e := range []actions.Entry{entry("INBOX", 4), entry("INBOX", 5), entry("Backlog", 9)} {
		if err := ja.Intend(ctx, []actions.Entry{e}); err != nil {
			t.Fatal(err)
		}
		if err := ja.Record(ctx, []actions.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	cpa := &Checkpoints{Fence: a.rec.fence("acct"), Journal: ja}
	if err := cpa.SetCheckpoint("acct", "INBOX", state.Checkpoint{UIDValidity: 1, LastUID: 4}); err != nil {
		t.Fatal(err)
	}
	if err := ja.Intend(ctx, []actions.Entry{entry("INBOX", 6)}); err != nil {
		t.Fatal(err)
	}
	// a crashes.
	a.n.client.Close()
	b := startReplica(t, etcd.Endpoints(), "b", "/t4/", []string{"acct"})
	waitFor(t, "b owning acct", func() bool { return b.rec.fence("acct") != nil })
	local := openStore(t)
	jb := NewJournal(b.rec.fence("acct"), local, nil, []string{"INBOX"})
	n, err := jb.Adopt(ctx)
	if err != nil || n != 2 {
		t.Fatalf("adopted %d intents, err %v; want 2 (UIDs 5 and 6)", n, err)
	}
	pending, err := jb.PendingCopies("acct", "INBOX")
	if err != nil || len(pending) != 2 || pending[0].UID != 5 || pending[1].UID != 6 || !pending[1].InternalDate.Equal(date) {
		t.Fatalf("pending after adoption = %+v, %v", pending, err)
	}
	// The engine found both copies in Copies: recorded as made here.
	if err := jb.SettleCopies(pending, nil); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []uint32{5, 6} {
		e := entry("INBOX", uid)
		applied, err := local.Applied(ctx, []string{e.Key()})
		if err != nil || applied[e.Key()] != e.MessageID {
			t.Fatalf("the found copy of UID %d is not journaled as made: %v %v", uid, applied, err)
		}
	}
	count := func() int64 {
		resp, err := b.n.client.Get(ctx, b.n.k.intents("acct"), clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}
	if c := count(); c != 2 {
		t.Fatalf("intents in etcd before the checkpoint passed them: %d, want 2", c)
	}
	// b's watcher finishes the batch: the checkpoint passes UID 6 and takes
	// the intents with it, in one transaction.
	cpb := &Checkpoints{Fence: b.rec.fence("acct"), Journal: jb}
	if err := cpb.SetCheckpoint("acct", "INBOX", state.Checkpoint{UIDValidity: 1, LastUID: 6}); err != nil {
		t.Fatal(err)
	}
	if c := count(); c != 0 {
		t.Fatalf("intents left in etcd after the checkpoint passed them: %d", c)
	}
}
