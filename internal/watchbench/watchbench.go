// Package watchbench measures what idle watchers cost (issue 8): it starts
// `mailwarden run` with N watched mailboxes against a private Dovecot and
// reports the daemon's resident memory per watcher and the time until all
// N watchers are in IDLE.
//
// # Model
//
// N users (w1..wN) each have one watched INBOX, so N accounts, N
// watchers and N IMAP connections; separate users keep Dovecot's
// per-user connection limit out of the way. Dovecot is started for many
// connections (dovecottest.Options.Connections: service_count = 0, raised
// client_limit), and every user has logged in once before anything is
// timed, so Dovecot's one-off mailbox creation is not counted.
//
// mailwarden connects through an imaptrace proxy, which sees each
// connection's IDLE and the server's continuation that accepts it: "all
// idle" is the moment the Nth connection is in IDLE. The engine is not
// changed or instrumented for this.
//
// Figures:
//
//   - time to all-idle, from process start, on a first start (no state
//     file: every watcher writes its first checkpoint) and on a restart
//     (checkpoints exist);
//   - RSS per watcher = (RSS(N) - RSS(1)) / (N - 1), VmRSS from
//     /proc/PID/status, the median of several samples taken after the
//     daemon settled; RSS(1) is the same daemon with one watcher;
//   - the Go heap after the last GC (GODEBUG=gctrace=1), threads, and the
//     server side (Dovecot's imap processes and their RSS);
//   - a liveness check: a spam message delivered to three of the watched
//     INBOXes must be moved to Junk by the idling daemon.
package watchbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailwarden/mailwarden/internal/corpus"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/imaptrace"
)

// Options configure Run. Zero values take the defaults.
type Options struct {
	// Watchers is N. Default 100.
	Watchers int
	// Mailwarden is the binary. Required.
	Mailwarden string
	// Settle is how long to wait after all-idle before sampling memory.
	// Default 3s.
	Settle time.Duration
	// Samples of RSS, one per second; the median is reported. Default 5.
	Samples int
	// Timeout bounds the wait for all-idle. Default 5m.
	Timeout time.Duration
	// Out receives progress and the report; nil discards.
	Out io.Writer
}

// Sample is one measured daemon.
type Sample struct {
	Watchers   int
	TimeToIdle time.Duration
	RSSKiB     int64 // median VmRSS after settling
	HWMKiB     int64 // VmHWM: peak RSS
	Threads    int
	// HeapMB is the live heap after the last GC the runtime reported
	// (gctrace), -1 when none was reported.
	HeapMB int
	// Stop is how long SIGTERM took to end the process.
	Stop time.Duration
}

// Result is what Run measured.
type Result struct {
	N             int
	Baseline      Sample // one watcher
	Cold, Warm    Sample // N watchers: first start, restart
	PerWatcherKiB float64
	ServerProcs   int
	ServerRSSKiB  int64
	Liveness      time.Duration // delivery to moved, slowest of the checked users
}

// Run runs the benchmark and writes a report to o.Out.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Watchers <= 0 {
		o.Watchers = 100
	}
	if o.Settle <= 0 {
		o.Settle = 3 * time.Second
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	if o.Mailwarden == "" {
		return nil, errors.New("watchbench: Options.Mailwarden is required")
	}
	n := o.Watchers
	srv, err := dovecottest.StartServer(&dovecottest.Options{Connections: n + 50})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	start := time.Now()
	if err := prewarm(ctx, srv.Addr, n); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "dovecot for %d connections up; %d users logged in once (mailboxes created) in %v\n", n+50, n, time.Since(start).Round(time.Millisecond))

	proxy, err := imaptrace.Start(srv.Addr)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	work, err := os.MkdirTemp("", "mailwarden-watchbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	res := &Result{N: n}
	// Baseline: the same daemon with one watcher.
	base, err := newDaemon(o, filepath.Join(work, "one"), proxy, 1)
	if err != nil {
		return nil, err
	}
	if res.Baseline, err = base.measure(ctx, o, proxy); err != nil {
		return nil, fmt.Errorf("one watcher: %w", err)
	}
	fmt.Fprintf(out, "1 watcher: idle after %v, RSS %s\n", res.Baseline.TimeToIdle.Round(time.Millisecond), kib(res.Baseline.RSSKiB))

	full, err := newDaemon(o, filepath.Join(work, "all"), proxy, n)
	if err != nil {
		return nil, err
	}
	for i, s := range []*Sample{&res.Cold, &res.Warm} {
		what := []string{"first start", "restart"}[i]
		d := full
		if err := d.start(); err != nil {
			return nil, err
		}
		idleAt, err := d.waitIdle(ctx, o, proxy, n)
		if err != nil {
			d.stop()
			return nil, fmt.Errorf("%d watchers, %s: %w\nDovecot's complaints:\n%s", n, what, err, serverErrors(srv))
		}
		s.TimeToIdle = idleAt.Sub(d.started)
		if i == 0 {
			res.ServerProcs, res.ServerRSSKiB = serverSide(srv)
			if res.Liveness, err = liveness(ctx, srv, n); err != nil {
				d.stop()
				return nil, err
			}
			// The liveness check woke three watchers; let them idle again.
			if _, err := d.waitIdle(ctx, o, proxy, n); err != nil {
				d.stop()
				return nil, err
			}
		}
		if err := d.sample(ctx, o, s); err != nil {
			d.stop()
			return nil, err
		}
		s.Stop = d.stop()
		s.HeapMB = d.heapMB()
		fmt.Fprintf(out, "%d watchers, %s: all idle after %v, RSS %s\n", n, what, s.TimeToIdle.Round(time.Millisecond), kib(s.RSSKiB))
	}
	res.PerWatcherKiB = float64(res.Cold.RSSKiB-res.Baseline.RSSKiB) / float64(n-1)
	res.Print(out)
	return res, nil
}

// prewarm logs every user in once, so that Dovecot creates their
// mailboxes before anything is timed.
func prewarm(ctx context.Context, addr string, n int) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	users := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range users {
				if err := touch(addr, user(i)); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 1; i <= n && ctx.Err() == nil; i++ {
		users <- i
	}
	close(users)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func user(i int) string { return "w" + strconv.Itoa(i) }

func touch(addr, u string) error {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(u, dovecottest.Password).Wait(); err != nil {
		return fmt.Errorf("login %s: %w", u, err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		return fmt.Errorf("select %s: %w", u, err)
	}
	return c.Logout().Wait()
}

// daemon is a mailwarden config with n watchers, runnable several times
// (the state directory persists between runs).
type daemon struct {
	bin, dir, cfg string
	n             int
	cmd           *exec.Cmd
	log           *os.File
	started       time.Time
	exited        chan struct{}
}

// newDaemon writes the config of n watchers (users w1..wn, connecting
// through proxy) into dir.
func newDaemon(o Options, dir string, proxy *imaptrace.Proxy, n int) (*daemon, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by internal/watchbench: %d watched mailboxes.\nstate_dir: %s\nlog:\n  level: info\naccounts:\n", n, filepath.Join(dir, "state"))
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - name: %s\n    host: 127.0.0.1\n    port: %d\n    tls: none\n    insecure_plaintext: true\n    username: %s\n    password_env: MW_BENCH_PASS\n    watch:\n      - mailbox: INBOX\n        ruleset: reference\n", user(i), proxy.Port(), user(i))
	}
	fmt.Fprintf(&b, "rulesets:\n  reference:\n%s", corpus.Reference.ExprYAML("    "))
	cfg := filepath.Join(dir, "mailwarden.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	return &daemon{bin: o.Mailwarden, dir: dir, cfg: cfg, n: n}, nil
}

// start runs `mailwarden run -c CFG` with gctrace on, logging to
// dir/run.log.
func (d *daemon) start() error {
	log, err := os.OpenFile(filepath.Join(d.dir, "run.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	d.log = log
	d.cmd = exec.Command(d.bin, "run", "-c", d.cfg)
	d.cmd.Env = append(os.Environ(), "MW_BENCH_PASS="+dovecottest.Password, "GODEBUG=gctrace=1")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	// The daemon dies with the benchmark (Pdeathsig), however it ends.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	d.exited = make(chan struct{})
	d.started = time.Now()
	if err := dovecottest.StartChild(d.cmd); err != nil {
		log.Close()
		return err
	}
	cmd, exited := d.cmd, d.exited // the next start replaces both
	go func() { cmd.Wait(); close(exited) }()
	return nil
}

// measure starts the daemon, waits until its watchers idle, samples and
// stops it.
func (d *daemon) measure(ctx context.Context, o Options, proxy *imaptrace.Proxy) (Sample, error) {
	var s Sample
	if err := d.start(); err != nil {
		return s, err
	}
	idleAt, err := d.waitIdle(ctx, o, proxy, d.n)
	if err != nil {
		d.stop()
		return s, err
	}
	s.TimeToIdle = idleAt.Sub(d.started)
	if err := d.sample(ctx, o, &s); err != nil {
		d.stop()
		return s, err
	}
	s.Stop = d.stop()
	s.HeapMB = d.heapMB()
	return s, nil
}

// waitIdle waits until n connections are in IDLE (the proxy counts all
// connections; only this daemon's are open), or the daemon exits, and
// returns when the nth went idle.
func (d *daemon) waitIdle(ctx context.Context, o Options, proxy *imaptrace.Proxy, n int) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	// The goroutine may outlive this call, into the next start, which
	// replaces d.exited: it must hold this run's channel, not the field.
	exited := d.exited
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	at, err := proxy.WaitIdle(ctx, n)
	if err != nil {
		st := proxy.Stats()
		select {
		case <-d.exited:
			return at, fmt.Errorf("mailwarden exited before all watchers idled (%d of %d):\n%s", st.Idle, n, d.logTail())
		default:
		}
		return at, fmt.Errorf("%d of %d watchers idle after %v (%d connections): %w\n%s", st.Idle, n, o.Timeout, st.Open, err, d.logTail())
	}
	return at, nil
}

// sample waits o.Settle and takes o.Samples readings of /proc/PID/status.
func (d *daemon) sample(ctx context.Context, o Options, s *Sample) error {
	s.Watchers = d.n
	select {
	case <-time.After(o.Settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	var rss []int64
	for i := range o.Samples {
		if i > 0 {
			time.Sleep(time.Second)
		}
		st, err := procStatus(d.cmd.Process.Pid)
		if err != nil {
			return err
		}
		rss = append(rss, st["VmRSS"])
		s.HWMKiB = st["VmHWM"]
		s.Threads = int(st["Threads"])
	}
	slices.Sort(rss)
	s.RSSKiB = rss[len(rss)/2]
	return nil
}

// stop sends SIGTERM and waits for the exit; it returns how long that took.
func (d *daemon) stop() time.Duration {
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
	d.log.Close()
	return time.Since(start)
}

var gcLine = regexp.MustCompile(`gc \d+ @[0-9.]+s .*?(\d+)->(\d+)->(\d+) MB`)

// heapMB is the live heap after the last GC in the daemon's gctrace.
func (d *daemon) heapMB() int {
	b, _ := os.ReadFile(filepath.Join(d.dir, "run.log"))
	m := gcLine.FindAllSubmatch(b, -1)
	if len(m) == 0 {
		return -1
	}
	v, _ := strconv.Atoi(string(m[len(m)-1][3]))
	return v
}

func (d *daemon) logTail() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "run.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// procStatus reads the numeric fields of /proc/PID/status (kB values in
// KiB).
func procStatus(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

// serverSide counts Dovecot's imap processes (children of the master) and
// sums their RSS.
func serverSide(srv *dovecottest.Server) (procs int, rssKiB int64) {
	master := srv.MasterPID()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open || s[open+1:close] != "imap" {
			continue
		}
		f := strings.Fields(s[close+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(master) {
			continue
		}
		if st, err := procStatus(pid); err == nil {
			procs++
			rssKiB += st["VmRSS"]
		}
	}
	return procs, rssKiB
}

// liveness delivers a spam message into three watched INBOXes and waits
// until the daemon has moved each to Junk; it returns the slowest.
func liveness(ctx context.Context, srv *dovecottest.Server, n int) (time.Duration, error) {
	users := []int{1, (n + 1) / 2, n}
	users = slices.Compact(users)
	msg := "From: Lottery <win@spam.example>\r\nTo: you@example.org\r\nSubject: You have won\r\nX-Spam-Flag: YES\r\nMessage-ID: <live@spam.example>\r\n\r\nClaim now.\r\n"
	start := time.Now()
	for _, i := range users {
		if err := srv.SaveMessage(user(i), "INBOX", []byte(msg)); err != nil {
			return 0, err
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, i := range users {
		for {
			out, err := srv.RunDoveadm("-f", "tab", "mailbox", "status", "-u", user(i), "messages", "Junk")
			if err == nil && strings.HasSuffix(strings.TrimSpace(out), "\t1") {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return 0, fmt.Errorf("liveness: the message delivered to %s was not moved to Junk within 30s (%q, %v)", user(i), out, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return time.Since(start), nil
}

// serverErrors returns the last errors and warnings of Dovecot's log.
func serverErrors(srv *dovecottest.Server) string {
	var out []string
	for _, l := range strings.Split(srv.Log(), "\n") {
		if strings.Contains(l, "Error:") || strings.Contains(l, "Fatal:") || strings.Contains(l, "Warning:") || strings.Contains(l, "Panic:") {
			out = append(out, l)
		}
	}
	if len(out) > 10 {
		out = out[len(out)-10:]
	}
	if len(out) == 0 {
		return "(none)"
	}
	return strings.Join(out, "\n")
}

func kib(k int64) string {
	if k >= 10*1024 {
		return fmt.Sprintf("%.1f MiB", float64(k)/1024)
	}
	return fmt.Sprintf("%d KiB", k)
}

// Print writes the report.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "\nwatchers: %d (one account, one INBOX, one IDLE connection each)\n", r.N)
	fmt.Fprintf(w, "%-26s %12s %12s %12s %8s %8s %8s\n", "", "to all-idle", "RSS", "peak RSS", "threads", "heap", "stop")
	row := func(name string, s Sample) {
		heap := "-"
		if s.HeapMB >= 0 {
			heap = fmt.Sprintf("%d MB", s.HeapMB)
		}
		fmt.Fprintf(w, "%-26s %12s %12s %12s %8d %8s %8s\n", name, s.TimeToIdle.Round(time.Millisecond), kib(s.RSSKiB), kib(s.HWMKiB), s.Threads, heap, s.Stop.Round(time.Millisecond))
	}
	row("1 watcher", r.Baseline)
	row(fmt.Sprintf("%d watchers, first start", r.N), r.Cold)
	row(fmt.Sprintf("%d watchers, restart", r.N), r.Warm)
	fmt.Fprintf(w, "RSS per watcher: %.1f KiB = (RSS(%d) - RSS(1)) / %d   (issue 8: about 47 KiB today at 1000; goal: no more)\n", r.PerWatcherKiB, r.N, r.N-1)
	if r.N > 1 {
		fmt.Fprintf(w, "RSS per watcher on restart: %.1f KiB\n", float64(r.Warm.RSSKiB-r.Baseline.RSSKiB)/float64(r.N-1))
	}
	fmt.Fprintf(w, "server side: %d Dovecot imap process(es), %s RSS in total for %d connections\n", r.ServerProcs, kib(r.ServerRSSKiB), r.N)
	fmt.Fprintf(w, "liveness: a spam message delivered to 3 watched INBOXes was in Junk after %v (Dovecot delays IDLE notifications by ~0.5 s)\n", r.Liveness.Round(time.Millisecond))
}
