package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/watch"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/faultproxy"
)

// Params size a soak. Short and Full are the two sizes the tests run.
type Params struct {
	// Seed seeds every random choice of the harness (arrival times, burst
	// sizes, kill times, phase B's rounds) and both proxies. The same
	// seed gives the same sequence of choices, not the same run: the
	// processes' timing decides which command a fault or kill meets.
	Seed uint64

	// Messages are delivered to INBOX while the daemon watches (phase A).
	Messages int
	// KillsA is how many times the daemon is SIGKILLed in phase A; each
	// kill comes KillGap[0]..KillGap[1] after the daemon (re)started.
	KillsA  int
	KillGap [2]time.Duration
	// ProbA is the fault probability per command on the daemon's proxy.
	ProbA float64

	// Phase B seeds RoundSize messages at a time into Backlog (then `apply`
	// runs) or Backlog2 (then `jobs run backlog-sweep` runs), or filler
	// mail into Scratch (then `jobs run scratch-expire` runs), and reruns
	// the command until it completes, SIGKILLing some runs at a random
	// moment. Rounds go on until at least Backlog counted messages were
	// seeded, KillsB kills were made and both proxies together injected
	// MinFaults faults; or until MaxPhaseB.
	Backlog   int
	RoundSize int
	KillsB    int
	ProbB     float64
	MinFaults int
	MaxPhaseB time.Duration
	// ApplyBatch is `apply --batch`: small batches mean more commands, so
	// more places for a fault or a kill to land.
	ApplyBatch int

	// StallFor is how long a random stall lasts. The daemon's response
	// watchdog (imapconn ResponseTimeout, 90 s, no config key) would end
	// a longer one, so stalls are kept short for the soak's pace.
	StallFor time.Duration
	// MaxDelay bounds a random one-direction delay.
	MaxDelay time.Duration
	// Commands are the commands faults are drawn on.
	Commands []string

	// Drain bounds the wait, after phase A, for the daemon to empty INBOX
	// and settle in IDLE.
	Drain time.Duration
	// Race builds the daemon with -race (any race report fails the soak;
	// peak RSS is then that of a race build).
	Race bool
}

// DefaultCommands are the commands the soak injects faults on: every
// command of the watcher and the executor.
var DefaultCommands = []string{"IDLE", "DONE", "UID FETCH", "UID SEARCH", "UID STORE", "UID COPY", "UID MOVE", "UID EXPUNGE", "SELECT"}

// Short is the version `make test` runs: about a minute.
func Short(seed uint64) Params {
	return Params{
		Seed: seed, Messages: 60, KillsA: 3, KillGap: [2]time.Duration{2 * time.Second, 5 * time.Second}, ProbA: 0.08,
		Backlog: 40, RoundSize: 10, KillsB: 3, ProbB: 0.2, MinFaults: 30, MaxPhaseB: 60 * time.Second, ApplyBatch: 4,
		StallFor: time.Second, MaxDelay: 200 * time.Millisecond, Commands: DefaultCommands,
		Drain: 90 * time.Second,
	}
}

// Full is `make soak`: at least 1,000 messages while watching, 1,000
// faults and 100 kills. About 20-30 minutes on 2 cores.
func Full(seed uint64) Params {
	return Params{
		Seed: seed, Messages: 1000, KillsA: 60, KillGap: [2]time.Duration{3 * time.Second, 12 * time.Second}, ProbA: 0.08,
		Backlog: 400, RoundSize: 20, KillsB: 60, ProbB: 0.2, MinFaults: 1000, MaxPhaseB: 20 * time.Minute, ApplyBatch: 5,
		StallFor: 2 * time.Second, MaxDelay: 300 * time.Millisecond, Commands: DefaultCommands,
		Drain: 5 * time.Minute,
	}
}

// counted is one message the soak delivered and will look for.
type counted struct {
	n      int
	id     string
	group  string // expected move destination
	phase  string // "A" or "B"
	source string // mailbox it was delivered to
	uid    uint32 // its UID there (APPENDUID)
	at     time.Time
}

// soak is one run of the harness.
type soak struct {
	tb     testing.TB
	p      Params
	dir    string
	logs   string
	bin    string
	cfgA   string
	cfgB   string
	env    []string
	srv    *dovecottest.Server
	direct *direct
	pxA    *faultproxy.Proxy
	pxB    *faultproxy.Proxy
	start  time.Time

	tlMu     sync.Mutex
	timeline []tlEvent
	tlFile   *os.File

	mu      sync.Mutex
	msgs    []*counted
	fillers map[string]bool
	procs   []*proc
	daemon  *proc
	nextN   int

	rep Report
}

type tlEvent struct {
	t    time.Time
	what string
}

func (s *soak) event(format string, args ...any) {
	ev := tlEvent{t: time.Now(), what: fmt.Sprintf(format, args...)}
	s.tlMu.Lock()
	defer s.tlMu.Unlock()
	s.timeline = append(s.timeline, ev)
	if s.tlFile != nil {
		fmt.Fprintf(s.tlFile, "%s %s\n", ev.t.Format("15:04:05.000"), ev.what)
	}
}

// Run runs one soak and returns its report; it fails tb only when the
// harness itself cannot go on (no Dovecot under CI, a build error). The
// caller checks the report (Report.Check). The working directory (logs,
// configs, state, timeline) is kept when tb failed, and its path logged.
func Run(tb testing.TB, p Params) *Report {
	tb.Helper()
	s := &soak{tb: tb, p: p, fillers: map[string]bool{}, start: time.Now()}
	s.rep.Params = p
	s.rep.KillsByTask = map[string]int{}
	s.srv = dovecottest.Start(tb, nil)
	user, pass := s.srv.NewUser(tb)

	dir, err := os.MkdirTemp("", "mailwarden-soak-")
	if err != nil {
		tb.Fatal(err)
	}
	s.dir, s.logs = dir, filepath.Join(dir, "logs")
	s.rep.Dir = dir
	tb.Cleanup(func() {
		if tb.Failed() || os.Getenv("MAILWARDEN_SOAK_KEEP") != "" {
			tb.Logf("soak: logs, configs, state and timeline kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	if err := os.MkdirAll(s.logs, 0o755); err != nil {
		tb.Fatal(err)
	}
	if s.tlFile, err = os.Create(filepath.Join(dir, "timeline.log")); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.tlFile.Close() })
	s.build()

	rnd := func(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(p.Seed, stream)) }
	s.pxA = s.proxy("A", p.ProbA, p.Seed)
	s.pxB = s.proxy("B", p.ProbB, p.Seed^0x5eed)
	stateDir := filepath.Join(dir, "state")
	s.cfgA, s.cfgB = filepath.Join(dir, "daemon.yaml"), filepath.Join(dir, "commands.yaml")
	if err := writeConfig(s.cfgA, stateDir, s.pxA.Port(), user); err != nil {
		tb.Fatal(err)
	}
	if err := writeConfig(s.cfgB, stateDir, s.pxB.Port(), user); err != nil {
		tb.Fatal(err)
	}
	s.env = append(os.Environ(), passEnv+"="+pass)
	s.direct = newDirect(s.srv.Addr, user, pass)
	tb.Cleanup(s.direct.close)
	for _, mb := range []string{Backlog, Backlog2, Scratch} {
		if err := s.direct.create(mb); err != nil {
			tb.Fatalf("soak: create %s: %v", mb, err)
		}
	}
	tb.Cleanup(func() {
		s.mu.Lock()
		procs := s.procs
		s.mu.Unlock()
		for _, pr := range procs {
			pr.kill()
		}
	})
	tb.Logf("soak: seed %d, %d messages while watching, %d+ in phase B, %d+%d kills, %d+ faults, race %v; dir %s",
		p.Seed, p.Messages, p.Backlog, p.KillsA, p.KillsB, p.MinFaults, p.Race, dir)

	t0 := time.Now()
	s.phaseA(rnd(1), rnd(2))
	s.rep.DurA = time.Since(t0)
	t0 = time.Now()
	s.drain()
	s.rep.DurDrain = time.Since(t0)
	t0 = time.Now()
	s.phaseB(rnd(3))
	s.rep.DurB = time.Since(t0)

	s.pxA.Close()
	s.pxB.Close()
	s.collect()
	s.verify()
	s.rep.Duration = time.Since(s.start)
	return &s.rep
}

// build compiles cmd/mailwarden once into the soak's directory.
func (s *soak) build() {
	s.bin = filepath.Join(s.dir, "mailwarden")
	args := []string{"build", "-o", s.bin}
	if s.p.Race {
		args = append(args, "-race")
	}
	args = append(args, "github.com/mailwarden/mailwarden/cmd/mailwarden")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(goroot(), "bin", "go")
	}
	t0 := time.Now()
	out, err := exec.Command(gobin, args...).CombinedOutput()
	if err != nil {
		s.tb.Fatalf("soak: go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	s.rep.Build = time.Since(t0)
}

func goroot() string {
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return "/usr/local/go"
}

func (s *soak) proxy(name string, prob float64, seed uint64) *faultproxy.Proxy {
	px, err := faultproxy.Start(s.srv.Addr, &faultproxy.Options{
		Seed: seed,
		Random: &faultproxy.Random{Probability: prob, Commands: s.p.Commands,
			StallFor: s.p.StallFor, MaxDelay: s.p.MaxDelay},
		OnFault: func(ev faultproxy.Event) { s.event("fault %s: %s", name, ev) },
	})
	if err != nil {
		s.tb.Fatalf("soak: proxy %s: %v", name, err)
	}
	s.tb.Cleanup(func() { px.Close() })
	return px
}

// newMessage makes counted message n for phase, to be delivered to source.
func (s *soak) newMessage(phase, source string) (*counted, []byte) {
	s.mu.Lock()
	n := s.nextN
	s.nextN++
	s.mu.Unlock()
	m := &counted{n: n, id: fmt.Sprintf("soak-%d-%s-%05d@soak.example", s.p.Seed, phase, n), group: groupOf(n), phase: phase, source: source}
	subject, from := subjectFrom(n)
	return m, message(m.id, from, subject, time.Now(), fmt.Sprintf("message %d of the soak (phase %s)", n, phase))
}

// deliver appends a counted message directly to Dovecot (not through a
// proxy) and records it.
func (s *soak) deliver(phase, mailbox string) error {
	m, raw := s.newMessage(phase, mailbox)
	uid, err := s.direct.appendMsg(mailbox, raw, time.Time{})
	if err != nil {
		return fmt.Errorf("deliver %s to %s: %w", m.id, mailbox, err)
	}
	m.uid, m.at = uid, time.Now()
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	s.event("deliver %s -> %s UID %d", m.id, mailbox, uid)
	return nil
}

// startDaemon starts `mailwarden run` on the daemon's config.
func (s *soak) startDaemon(tag string) *proc {
	s.mu.Lock()
	name := fmt.Sprintf("A-run-%03d", s.rep.DaemonRuns)
	s.rep.DaemonRuns++
	s.mu.Unlock()
	pr, err := startProc(name, filepath.Join(s.logs, name+".log"), s.bin, []string{"run", "-c", s.cfgA}, s.env)
	if err != nil {
		s.tb.Fatalf("soak: %v", err)
	}
	s.mu.Lock()
	s.procs = append(s.procs, pr)
	s.daemon = pr
	s.mu.Unlock()
	s.event("start %s (pid %d, %s)", name, pr.cmd.Process.Pid, tag)
	return pr
}

// daemonExited notes a daemon that exited without being killed: a crash,
// or the daemon giving up, both failures.
func (s *soak) daemonExited(pr *proc) {
	s.event("%s exited by itself: %v", pr.name, pr.err)
	s.rep.DaemonExits = append(s.rep.DaemonExits, fmt.Sprintf("%s exited by itself after %v: %v", pr.name, pr.ended.Sub(pr.started).Round(time.Millisecond), pr.err))
}

// phaseA delivers p.Messages to INBOX at random moments while the daemon
// watches, and SIGKILLs (and restarts) the daemon p.KillsA times.
func (s *soak) phaseA(rKill, rDeliver *rand.Rand) {
	p := s.p
	gapMean := (p.KillGap[0] + p.KillGap[1]) / 2
	span := time.Duration(float64(time.Duration(max(p.KillsA, 1))*gapMean) * 0.9)
	s.event("phase A: %d messages over ~%v, %d kills", p.Messages, span, p.KillsA)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	delivered := make(chan error, 1)
	go func() {
		mean := float64(span) / float64(max(p.Messages, 1))
		for i := 0; i < p.Messages; {
			k := 1
			if rDeliver.Float64() < 0.2 {
				k = 2 + rDeliver.IntN(5) // a burst: several messages in one wake-up
			}
			for j := 0; j < k && i < p.Messages; j++ {
				if err := s.deliver("A", Inbox); err != nil {
					delivered <- err
					return
				}
				i++
			}
			pause := time.Duration(rDeliver.ExpFloat64() * mean * float64(k))
			select {
			case <-ctx.Done():
				delivered <- ctx.Err()
				return
			case <-time.After(pause):
			}
		}
		delivered <- nil
	}()

	d := s.startDaemon("phase A")
	for s.rep.KillsA < p.KillsA {
		gap := p.KillGap[0] + time.Duration(rKill.Int64N(int64(p.KillGap[1]-p.KillGap[0])+1))
		select {
		case <-time.After(gap):
		case <-d.exited:
			s.daemonExited(d)
			d = s.startDaemon("after it exited")
			continue
		}
		if d.kill() {
			s.rep.KillsA++
			s.event("SIGKILL %s after %v (phase A kill %d)", d.name, time.Since(d.started).Round(time.Millisecond), s.rep.KillsA)
		} else {
			s.daemonExited(d)
		}
		d = s.startDaemon("after SIGKILL")
	}
	if err := <-delivered; err != nil {
		s.tb.Fatalf("soak: %v", err)
	}
	s.event("phase A: all %d messages delivered, %d kills", p.Messages, s.rep.KillsA)
}

// drain lets the daemon finish: INBOX empty and the watcher idle (twice in
// a row), or p.Drain. Then it stops the daemon with SIGTERM.
func (s *soak) drain() {
	deadline := time.Now().Add(s.p.Drain)
	d := s.daemon
	settled := 0
	for settled < 2 {
		if !d.running() {
			s.daemonExited(d)
			d = s.startDaemon("drain, after it exited")
		}
		if time.Now().After(deadline) {
			s.rep.DrainTimedOut = true
			s.event("drain: gave up after %v", s.p.Drain)
			break
		}
		time.Sleep(300 * time.Millisecond)
		_, live, err := s.direct.count(Inbox)
		if err != nil || live > 0 {
			settled = 0
			continue
		}
		st := s.status(s.cfgA)
		switch {
		case st != nil && len(st.Watchers) > 0 && st.Watchers[0].State == watch.StateStopped:
			// A watcher that gave up waits for a restart: the log scan
			// reports it; restart so that the census shows the rest.
			s.rep.Notes = append(s.rep.Notes, fmt.Sprintf("drain: the watcher of %s stopped for good (%s); restarted the daemon to go on", d.name, oneLine(st.Watchers[0].LastError)))
			s.event("drain: watcher of %s stopped: %s", d.name, st.Watchers[0].LastError)
			d.stop(20 * time.Second)
			d = s.startDaemon("drain, after its watcher stopped")
			settled = 0
		case st != nil && len(st.Watchers) > 0 && st.Watchers[0].State == watch.StateIdle:
			settled++
		default:
			settled = 0
		}
	}
	s.event("drain: INBOX empty and watcher idle after %v", time.Since(deadline.Add(-s.p.Drain)).Round(time.Millisecond))
	if !d.stop(20 * time.Second) {
		s.rep.Notes = append(s.rep.Notes, fmt.Sprintf("%s did not stop within 20 s of SIGTERM; SIGKILLed", d.name))
	}
	s.event("stopped %s with SIGTERM: %v", d.name, d.err)
}

// oneLine cuts s to its first line, at most 200 bytes.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// status asks the daemon of cfg for its status (nil when it does not answer).
func (s *soak) status(cfg string) *observe.Status {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "status", "-c", cfg, "--json")
	cmd.Env = s.env
	out, _ := cmd.Output()
	var st observe.Status
	if json.Unmarshal(out, &st) != nil {
		return nil
	}
	return &st
}

// A phase B task: what is seeded and which command processes it.
type task struct {
	kind    string // apply | sweep | expire
	mailbox string
	args    []string
}

// phaseB runs `apply` and the jobs over seeded mailboxes with the daemon
// stopped, SIGKILLing runs at random moments and rerunning until done.
func (s *soak) phaseB(r *rand.Rand) {
	p := s.p
	tasks := []task{
		{"apply", Backlog, []string{"apply", "-c", s.cfgB, "--account", "soak", "--mailbox", Backlog, "--ruleset", "sort", "--batch", fmt.Sprint(max(p.ApplyBatch, 1)), "--log-level", "debug"}},
		{"sweep", Backlog2, []string{"jobs", "run", "-c", s.cfgB, "backlog-sweep", "--log-level", "debug"}},
		{"apply", Backlog, nil},
		{"sweep", Backlog2, nil},
		{"expire", Scratch, []string{"jobs", "run", "-c", s.cfgB, "scratch-expire", "--log-level", "debug"}},
	}
	tasks[2].args, tasks[3].args = tasks[0].args, tasks[1].args
	est := 500 * time.Millisecond // a run's typical length, for kill times
	startB := time.Now()
	s.event("phase B: rounds of %d messages; %d kills, %d faults in all, %d messages at least", p.RoundSize, p.KillsB, p.MinFaults, p.Backlog)
	for round := 0; ; round++ {
		faults := s.pxA.Stats().Total() + s.pxB.Stats().Total()
		if round >= len(tasks) && s.rep.KillsB >= p.KillsB && faults >= p.MinFaults && s.rep.MessagesB >= p.Backlog {
			break
		}
		if time.Since(startB) > p.MaxPhaseB {
			s.rep.Notes = append(s.rep.Notes, fmt.Sprintf("phase B stopped at its time bound %v after %d rounds (kills %d/%d, faults %d/%d, messages %d/%d)",
				p.MaxPhaseB, round, s.rep.KillsB, p.KillsB, faults, p.MinFaults, s.rep.MessagesB, p.Backlog))
			break
		}
		tk := tasks[round%len(tasks)]
		for range p.RoundSize {
			if tk.kind == "expire" {
				s.deliverFiller()
			} else {
				if err := s.deliver("B", tk.mailbox); err != nil {
					s.tb.Fatalf("soak: %v", err)
				}
				s.rep.MessagesB++
			}
		}
		s.rep.Rounds++
		for attempt := 0; ; attempt++ {
			if attempt >= 200 {
				s.rep.Notes = append(s.rep.Notes, fmt.Sprintf("round %d (%s): gave up after %d runs", round, tk.kind, attempt))
				break
			}
			name := fmt.Sprintf("B-%04d-%s-%d", round, tk.kind, attempt)
			pr, err := startProc(name, filepath.Join(s.logs, name+".log"), s.bin, tk.args, s.env)
			if err != nil {
				s.tb.Fatalf("soak: %v", err)
			}
			s.mu.Lock()
			s.procs = append(s.procs, pr)
			s.mu.Unlock()
			s.rep.RunsB++
			s.event("start %s (pid %d)", name, pr.cmd.Process.Pid)
			var killAt time.Duration = -1
			if s.rep.KillsB < p.KillsB && r.Float64() < 0.6 {
				killAt = time.Duration(r.Int64N(int64(est)*3/2 + 1))
			}
			exited := true
			if killAt >= 0 {
				exited = pr.wait(killAt)
			} else {
				exited = pr.wait(2 * time.Minute)
			}
			if !exited {
				if pr.kill() {
					s.rep.KillsB++
					s.rep.KillsByTask[tk.kind]++
					s.event("SIGKILL %s after %v (phase B kill %d)", name, time.Since(pr.started).Round(time.Millisecond), s.rep.KillsB)
					continue
				}
			}
			took := pr.ended.Sub(pr.started)
			est = time.Duration(0.7*float64(est) + 0.3*float64(took))
			code := pr.exitCode()
			all, live, err := s.direct.count(tk.mailbox)
			if err != nil {
				s.tb.Fatalf("soak: count %s: %v", tk.mailbox, err)
			}
			s.event("%s exited %d after %v; %s has %d messages (%d not \\Deleted)", name, code, took.Round(time.Millisecond), tk.mailbox, all, live)
			if code == 0 && all == 0 {
				break
			}
			if code == 0 {
				s.rep.Notes = append(s.rep.Notes, fmt.Sprintf("%s exited 0 but left %d messages in %s (%d not \\Deleted)", name, all, tk.mailbox, live))
			}
		}
	}
	s.event("phase B: %d rounds, %d runs, %d kills", s.rep.Rounds, s.rep.RunsB, s.rep.KillsB)
}

// deliverFiller appends one message dated 30 days ago to Scratch, for the
// expire job to remove. Fillers are not counted: they must end up nowhere.
func (s *soak) deliverFiller() {
	s.mu.Lock()
	n := len(s.fillers)
	s.mu.Unlock()
	id := fmt.Sprintf("filler-%d-%05d@soak.example", s.p.Seed, n)
	old := time.Now().Add(-30 * 24 * time.Hour)
	uid, err := s.direct.appendMsg(Scratch, message(id, "old@soak.example", fmt.Sprintf("old filler %d", n), old, "filler"), old)
	if err != nil {
		s.tb.Fatalf("soak: filler: %v", err)
	}
	s.mu.Lock()
	s.fillers[id] = true
	s.mu.Unlock()
	s.event("deliver %s -> %s UID %d", id, Scratch, uid)
}

// collect gathers the proxies' figures and the processes' peak RSS.
func (s *soak) collect() {
	s.rep.FaultsA, s.rep.FaultsB = s.pxA.Stats(), s.pxB.Stats()
	s.rep.EventsA, s.rep.EventsB = s.pxA.Events(), s.pxB.Events()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rep.MessagesA, s.rep.Fillers = 0, len(s.fillers)
	for _, m := range s.msgs {
		if m.phase == "A" {
			s.rep.MessagesA++
		}
	}
	for _, pr := range s.procs {
		kb := pr.hwm.Load()
		if strings.HasPrefix(pr.name, "A-") {
			s.rep.PeakRSSDaemonKiB = max(s.rep.PeakRSSDaemonKiB, kb)
		} else {
			s.rep.PeakRSSCommandKiB = max(s.rep.PeakRSSCommandKiB, kb)
		}
	}
	s.rep.procs = s.procs
}

// fmtKiB prints KiB as MiB.
func fmtKiB(kb int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
}
