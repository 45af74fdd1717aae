package faultproxy_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/watch"
	"github.com/mailwarden/mailwarden/internal/faultproxy"
)

// Measurements that take minutes, with imapconn's current settings
// (Options.KeepAlive default 30 s, which Go turns into TCP_KEEPIDLE 30 s,
// TCP_KEEPINTVL 15 s, TCP_KEEPCNT 9: a peer that stops answering is
// declared dead 30 + 9×15 = 165 s after the last packet). Run them with
//
//	MAILWARDEN_FAULT_LONG=1 go test -run Long -v -timeout 30m ./internal/faultproxy
//
// Measured (Linux 6.18, loopback, go-imap v2 beta.8, imapconn defaults):
//
//	server stalls, kernel alive, during IDLE or before an answer   never (200 s + 30 s checked)
//	server stalls inside a response line                           30.0 s  (go-imap respReadTimeout)
//	server stalls inside a FETCH literal                           5m0.1s  (go-imap literalReadTimeout)
//	peer vanishes while the connection idles                       2m47.6s (keepalive: 30 + 9×15 s)
//	peer vanishes, then the client writes (DONE of an IDLE refresh) 15m37.9s (retransmissions, tcp_retries2 15)
//
// "Never" is the case that matters most: a hung server process, or a
// middlebox that still ACKs, leaves the watcher blocked for good (see
// TestWatcherRecoversFromStall), since engine/watch passes its
// long-lived context to Idle, Idle.Stop and Noop.

func long(t *testing.T) {
	if os.Getenv("MAILWARDEN_FAULT_LONG") == "" {
		t.Skip("takes minutes; set MAILWARDEN_FAULT_LONG=1")
	}
	t.Parallel()
}

// A stall during IDLE (hung server, or a middlebox that stops forwarding
// but still terminates TCP) is never noticed: TCP keepalive probes are
// answered by the proxy's kernel, and go-imap sets no read deadline
// between responses. 200 s is past the 165 s after which keepalive
// would have given up on a peer that stopped answering.
func TestStallIdleNeverNoticedLong(t *testing.T) {
	long(t)
	e := newEnv(t, nil)
	c, s := e.dial(t, 0) // imapconn's defaults
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	idle, err := s.Idle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.proxy.InjectAll(faultproxy.Fault{Kind: faultproxy.Stall})
	start := time.Now()
	ticker := time.NewTicker(20 * time.Second)
	defer ticker.Stop()
	for time.Since(start) < 200*time.Second {
		select {
		case <-c.Closed():
			t.Fatalf("noticed after %v", time.Since(start))
		case <-ticker.C:
			t.Logf("%3.0fs: still open; client socket: %s", time.Since(start).Seconds(), keepaliveState(e.proxy.Port()))
		}
	}
	stopped := make(chan error, 1)
	go func() { stopped <- idle.Stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned %v", err)
	case <-time.After(30 * time.Second):
	}
	t.Logf("after %v: connection open, Idle.Stop blocked for 30 s: never noticed", time.Since(start).Round(time.Second))
	cancel()
	<-stopped
}

// A stall in the middle of a response line is noticed by go-imap's own
// per-response read deadline (respReadTimeout, 30 s); inside a FETCH
// literal the deadline is literalReadTimeout, 5 min.
func TestStallMidResponseLong(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset int
		want   time.Duration
	}{
		{"in a FETCH line", 10, 30 * time.Second},
		{"in a literal", 1000, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			long(t)
			e := newEnv(t, nil)
			e.deliver(t, 2, 4000)
			c, s := e.dial(t, 0)
			e.proxy.Next(faultproxy.Fault{Kind: faultproxy.Stall, On: "UID FETCH", When: faultproxy.InResponse, Offset: tc.offset})
			start := time.Now()
			_, err := s.FetchNew(ctxT(t, 20*time.Minute), 0, 0, true)
			elapsed := time.Since(start)
			t.Logf("FetchNew failed after %v: %v (temporary %v)", elapsed.Round(100*time.Millisecond), err, imapconn.IsTemporary(err))
			if err == nil || elapsed < tc.want-time.Second || elapsed > tc.want+10*time.Second {
				t.Errorf("want an error after about %v", tc.want)
			}
			waitClosed(c, time.Second)
		})
	}
}

// keepaliveState describes the client's socket to the proxy from
// /proc/net/tcp: its timer (2 = keepalive), the time until it fires and
// the unanswered keepalive probes (icsk_probes_out).
func keepaliveState(proxyPort int) string {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fld := strings.Fields(sc.Text())
		if len(fld) < 10 || fld[3] != "01" {
			continue
		}
		_, rport, _ := strings.Cut(fld[2], ":")
		if p, _ := strconv.ParseInt(rport, 16, 32); int(p) != proxyPort {
			continue
		}
		tr, when, _ := strings.Cut(fld[5], ":")
		jiffies, _ := strconv.ParseInt(when, 16, 64)
		timer := map[string]string{"00": "none", "01": "retransmit", "02": "keepalive", "03": "time-wait", "04": "zero-window probe"}[tr]
		return fmt.Sprintf("timer %s in %.1fs, unanswered probes %s", timer, float64(jiffies)/100, fld[8]) // USER_HZ = 100
	}
	return "not found"
}

// memCheckpoints is an in-memory watch.Checkpoints.
type memCheckpoints struct {
	mu sync.Mutex
	m  map[string]state.Checkpoint
}

func (m *memCheckpoints) Checkpoint(account, mailbox string) (state.Checkpoint, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.m[account+"/"+mailbox]
	return cp, ok, nil
}

func (m *memCheckpoints) SetCheckpoint(account, mailbox string, cp state.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]state.Checkpoint{}
	}
	m.m[account+"/"+mailbox] = cp
	return nil
}

// The watcher notices a stalled connection and reconnects, so that mail
// keeps flowing: at the IDLE refresh it sends DONE, the answer never
// comes, and imapconn's watchdog (ResponseTimeout) ends the wait. Before
// the watchdog it hung for ever (found with this proxy).
func TestWatcherRecoversFromStall(t *testing.T) {
	e := newEnv(t, nil)
	var mu sync.Mutex
	handled := map[uint32]bool{}
	ready := make(chan struct{}, 16)
	w := watch.New(watch.Options{
		Account: "a", Mailbox: "INBOX", State: &memCheckpoints{},
		Dial: func(ctx context.Context) (*imapconn.Client, error) {
			o := options(e.proxy.Port(), 0)
			o.ResponseTimeout = time.Second
			return imapconn.Dial(ctx, o)
		},
		Handle: func(_ context.Context, _ *imapconn.Session, uids []uint32) error {
			mu.Lock()
			defer mu.Unlock()
			for _, u := range uids {
				handled[u] = true
			}
			return nil
		},
		IdleRefresh: time.Second,
		Backoff:     watch.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond},
		Ready:       func() { ready <- struct{}{} },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("watcher did not stop within 5s of cancel")
		}
	}()
	<-ready
	if _, err := e.proxy.InjectAll(faultproxy.Fault{Kind: faultproxy.Stall}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Append("user", "INBOX", message(1, 10), nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for !func() bool { mu.Lock(); defer mu.Unlock(); return handled[1] }() {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("message not handled 30s after the stall (IdleRefresh 1s); connections accepted: %d",
				e.proxy.Stats().Accepted)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("recovered from the stall in %v", time.Since(start))
}

// A peer that is really gone (host down, NAT entry dropped: packets
// vanish, nothing answers) is what TCP keepalive is for. The proxy
// cannot fake that on loopback (its kernel answers), so this test runs
// itself again in a fresh network namespace (root, util-linux unshare,
// iproute2), where the proxy listens on an address that it then deletes:
// from then on the client's packets go nowhere, silently.
//
//   - idle: the connection is in IDLE when the peer vanishes; keepalive
//     (idle 30 s, then 9 probes 15 s apart) should end it after ~165 s.
//   - write: the peer vanishes, then the client sends DONE (an IDLE
//     refresh): with unacknowledged data Linux sends no keepalive probes
//     and retransmits instead, giving up after tcp_retries2 (15 by
//     default; about 924 s with the 200 ms minimum RTO). Set
//     MAILWARDEN_FAULT_LONG=2 to include it (16 minutes).
func TestDeadPeerLong(t *testing.T) {
	long(t)
	if os.Getenv("MAILWARDEN_NETNS") == "" {
		if os.Geteuid() != 0 {
			t.Skip("needs root for a network namespace")
		}
		if _, err := exec.LookPath("unshare"); err != nil {
			t.Skip("needs unshare (util-linux)")
		}
		cmd := exec.Command("unshare", "-n", os.Args[0], "-test.run", "^TestDeadPeerLong$", "-test.v", "-test.timeout", "40m")
		cmd.Env = append(os.Environ(), "MAILWARDEN_NETNS=1")
		out, err := cmd.CombinedOutput()
		t.Logf("in a network namespace:\n%s", out)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	ip := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	ip("link", "set", "lo", "up")
	cases := []struct {
		name, addr string
		write      bool
	}{{"idle", "10.9.9.1", false}}
	if os.Getenv("MAILWARDEN_FAULT_LONG") == "2" {
		cases = append(cases, struct {
			name, addr string
			write      bool
		}{"write", "10.9.9.2", true})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ip("addr", "add", tc.addr+"/32", "dev", "lo")
			srv := newEnv(t, nil).srv
			p, err := faultproxy.Start(srv.Addr(), &faultproxy.Options{Listen: tc.addr + ":0"})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			o := options(p.Port(), 0) // imapconn's defaults
			o.Host = tc.addr
			c, err := imapconn.Dial(ctxT(t, 10*time.Second), o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s, err := c.Select(ctxT(t, 10*time.Second), "INBOX")
			if err != nil {
				t.Fatal(err)
			}
			idle, err := s.Idle(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ip("addr", "del", tc.addr+"/32", "dev", "lo")
			start := time.Now()
			done := make(chan error, 1)
			if tc.write {
				time.Sleep(time.Second)
				start = time.Now()
				go func() { done <- idle.Stop() }()
			}
			select {
			case <-c.Closed():
			case <-time.After(20 * time.Minute):
				t.Fatal("not noticed in 20 minutes")
			}
			t.Logf("%s: the client noticed the vanished peer after %v", tc.name, time.Since(start).Round(100*time.Millisecond))
			if tc.write {
				t.Logf("Idle.Stop: %v", <-done)
			}
		})
	}
}
