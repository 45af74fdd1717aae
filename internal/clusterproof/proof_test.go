package clusterproof

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailwarden/mailwarden/engine/cluster"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/etcdtest"
)

const (
	nAccounts = 30
	passEnv   = "MW_PROOF_PASS"
	tickEvery = 5 * time.Second
)

// params are the knobs of one proof run.
type params struct {
	ttl        time.Duration // lease_ttl
	rounds     int           // each round: kill, pause, etcd member, quorum
	rate       time.Duration // between two deliveries of one deliverer
	deliverers int
	settle     time.Duration // mail flowing undisturbed between two faults
}

func TestClusterProof(t *testing.T) {
	p := params{ttl: 4 * time.Second, rounds: 1, rate: 50 * time.Millisecond, deliverers: 2, settle: 3 * time.Second}
	if os.Getenv("MAILWARDEN_CLUSTER_PROOF") == "full" {
		p = params{ttl: 10 * time.Second, rounds: 3, rate: 50 * time.Millisecond, deliverers: 3, settle: 10 * time.Second}
	} else if testing.Short() {
		t.Skip("the cluster proof takes a minute or two; not in -short")
	}
	runProof(t, p)
}

type proof struct {
	t        *testing.T
	p        params
	dir, bin string
	etcd     *etcdtest.Cluster
	imap     *dovecottest.Server
	accounts []string // acct01..acct30
	users    map[string]string
	replicas []*replica

	delivered atomic.Int64
	mu        sync.Mutex
	ids       map[string][]string // account → Message-IDs delivered
	failovers []failover
	probes    sync.WaitGroup
	pauses    int
	kills     int
}

type failover struct {
	fault   string
	account string
	took    time.Duration
}

type replica struct {
	name, cfg, http string
	n               int // process generation
	cmd             *exec.Cmd
	done            chan struct{}
	logs            []string
}

func runProof(t *testing.T, p params) {
	// The replicas' logs are kept when the proof fails, to be read.
	dir, err := os.MkdirTemp("", "clusterproof-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	pr := &proof{t: t, p: p, dir: dir, users: map[string]string{}, ids: map[string][]string{}}
	pr.etcd = etcdtest.Start(t, 3)
	pr.imap = dovecottest.Start(t, &dovecottest.Options{Users: nAccounts})
	pr.build()
	for i := range nAccounts {
		a := fmt.Sprintf("acct%02d", i+1)
		u, _ := pr.imap.User(i + 1)
		pr.accounts = append(pr.accounts, a)
		pr.users[a] = u
		pr.imap.Doveadm(t, "mailbox", "create", "-u", u, "Copies", "Done")
	}
	for i := range 3 {
		pr.replicas = append(pr.replicas, pr.newReplica(fmt.Sprintf("mw-%d", i+1)))
	}
	for _, r := range pr.replicas {
		pr.start(r)
	}
	t.Cleanup(func() {
		for _, r := range pr.replicas {
			pr.signal(r, syscall.SIGCONT)
			pr.signal(r, syscall.SIGKILL)
		}
	})
	pr.waitSpread("the first start")
	start := time.Now()

	// Mail keeps arriving in every account from here to the end.
	stop := make(chan struct{})
	var deliverer sync.WaitGroup
	for i := range p.deliverers {
		deliverer.Add(1)
		go func() { defer deliverer.Done(); pr.deliver(stop, i) }()
	}
	time.Sleep(p.settle)

	for round := range p.rounds {
		// 1. SIGKILL the replica with the most accounts; start it again.
		victim := pr.busiest()
		moved := pr.owned(victim)
		pr.signal(victim, syscall.SIGKILL)
		killedAt := time.Now()
		<-victim.done
		pr.kills++
		t.Logf("round %d: SIGKILLed %s (owned %d accounts)", round+1, victim.name, len(moved))
		pr.probe("sigkill", moved, killedAt)
		pr.start(victim)
		pr.waitSpread("the killed replica rejoined")
		time.Sleep(p.settle)

		// 2. SIGSTOP another past the TTL; it must not act on what it lost.
		victim = pr.busiest()
		moved = pr.owned(victim)
		pr.signal(victim, syscall.SIGSTOP)
		stoppedAt := time.Now()
		pr.pauses++
		t.Logf("round %d: SIGSTOPped %s (owned %d accounts) for %s", round+1, victim.name, len(moved), p.ttl+3*time.Second)
		pr.probe("sigstop", moved, stoppedAt)
		time.Sleep(time.Until(stoppedAt.Add(p.ttl + 3*time.Second)))
		pr.signal(victim, syscall.SIGCONT)
		pr.waitSpread("the paused replica came back")
		time.Sleep(p.settle)

		// 3. One etcd member dies: quorum holds, nothing stops.
		m := round % 3
		pr.etcd.Kill(m)
		t.Logf("round %d: killed etcd member %d", round+1, m+1)
		time.Sleep(2 * time.Second)
		pr.etcd.Restart(m)
		pr.etcd.WaitHealthy(t)
		time.Sleep(p.settle)

		// 4. Two die: no quorum, no session, every account stops; then
		// they come back and the replicas take the accounts up again.
		a, b := (m+1)%3, (m+2)%3
		pr.etcd.Kill(a)
		pr.etcd.Kill(b)
		lostAt := time.Now()
		t.Logf("round %d: quorum lost (etcd members %d and %d killed)", round+1, a+1, b+1)
		time.Sleep(p.ttl + 2*time.Second)
		pr.etcd.Restart(a)
		pr.etcd.Restart(b)
		pr.etcd.WaitHealthy(t)
		t.Logf("round %d: quorum regained after %s", round+1, time.Since(lostAt).Round(time.Millisecond))
		pr.waitSpread("quorum regained")
		time.Sleep(p.settle)
	}
	close(stop)
	deliverer.Wait()
	pr.probes.Wait()
	pr.waitDrained()
	for _, r := range pr.replicas {
		pr.signal(r, syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop within 30s of SIGTERM", r.name)
			pr.signal(r, syscall.SIGKILL)
			<-r.done
		}
	}
	took := time.Since(start)
	dups, losses := pr.census()
	ticks, late, resumed, unfinished, tickErrs := pr.ticks()
	fenced := pr.grep("no longer the owner")
	lost := pr.grep("cluster session ended")
	for _, e := range tickErrs {
		t.Error(e)
	}
	var ft []string
	for _, f := range pr.failovers {
		ft = append(ft, fmt.Sprintf("%s %s %s", f.fault, f.account, f.took.Round(time.Millisecond)))
	}
	sort.Strings(ft)
	t.Logf("cluster proof: %d messages over %d accounts in %s; %d SIGKILLs, %d SIGSTOPs past the %s TTL, %d etcd member kills, %d quorum losses",
		pr.delivered.Load(), nAccounts, took.Round(time.Second), pr.kills, pr.pauses, p.ttl, p.rounds, p.rounds)
	t.Logf("failover (fault to the first new message processed, per moved account): %s", summary(pr.failovers))
	t.Logf("scheduled job: %d ticks claimed, %d of them covering ticks that came due while nobody owned the account, %d resumed by the next owner after their claimer lost the account mid-run, %d covering a claimed tick whose run never finished, 0 twice (else reported above)", ticks, late, resumed, unfinished)
	t.Logf("writes refused by the fence (a replica that had lost an account): %d; etcd sessions lost and renewed: %d", fenced, lost)
	t.Logf("duplicates: %d, losses: %d", dups, losses)
	if testing.Verbose() {
		t.Logf("failovers: %s", strings.Join(ft, "; "))
	}
}

func summary(fs []failover) string {
	if len(fs) == 0 {
		return "none measured"
	}
	by := map[string][]time.Duration{}
	for _, f := range fs {
		by[f.fault] = append(by[f.fault], f.took)
	}
	var out []string
	for _, k := range []string{"sigkill", "sigstop"} {
		d := by[k]
		if len(d) == 0 {
			continue
		}
		slices.Sort(d)
		out = append(out, fmt.Sprintf("%s: %d accounts, median %s, max %s", k, len(d), d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond)))
	}
	return strings.Join(out, "; ")
}

func (pr *proof) build() {
	pr.bin = filepath.Join(pr.dir, "mailwarden")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(gobin, "build", "-o", pr.bin, "github.com/mailwarden/mailwarden/cmd/mailwarden").CombinedOutput()
	if err != nil {
		pr.t.Fatalf("build mailwarden: %v\n%s", err, out)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (pr *proof) newReplica(name string) *replica {
	r := &replica{name: name, cfg: filepath.Join(pr.dir, name+".yaml"), http: freeAddr(pr.t)}
	var b strings.Builder
	fmt.Fprintf(&b, "state_dir: %s\nlog:\n  level: debug\n  format: json\n  heartbeat: 0s\nhttp:\n  listen: %s\n", filepath.Join(pr.dir, "state-"+name), r.http)
	fmt.Fprintf(&b, "cluster:\n  name: %s\n  lease_ttl: %s\n  prefix: /proof/\n  endpoints: [%s]\n", name, pr.p.ttl, strings.Join(pr.etcd.Endpoints(), ", "))
	b.WriteString("accounts:\n")
	for _, a := range pr.accounts {
		fmt.Fprintf(&b, "  - name: %s\n    host: 127.0.0.1\n    port: %d\n    tls: none\n    insecure_plaintext: true\n    username: %s\n    password_env: %s\n    watch:\n      - mailbox: INBOX\n        ruleset: sort\n",
			a, pr.imap.Port, pr.users[a], passEnv)
	}
	b.WriteString(`rulesets:
  sort:
    - name: copy-and-file
      when: 'true'
      actions: [{copy: Copies}, {move: Done}]
schedules:
  - name: tick
    cron: "@every 5s"
    accounts: all
    job: expire
    mailbox: "\\Trash"
    older_than: 30d
`)
	if err := os.WriteFile(r.cfg, []byte(b.String()), 0o644); err != nil {
		pr.t.Fatal(err)
	}
	return r
}

func (pr *proof) start(r *replica) {
	r.n++
	logPath := filepath.Join(pr.dir, fmt.Sprintf("%s-%d.log", r.name, r.n))
	f, err := os.Create(logPath)
	if err != nil {
		pr.t.Fatal(err)
	}
	cmd := exec.Command(pr.bin, "run", "-c", r.cfg)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), passEnv+"="+dovecottest.Password)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := dovecottest.StartChild(cmd); err != nil {
		pr.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	r.cmd, r.done = cmd, done
	r.logs = append(r.logs, logPath)
}

func (pr *proof) signal(r *replica, sig syscall.Signal) {
	select {
	case <-r.done:
	default:
		r.cmd.Process.Signal(sig)
	}
}

// status asks a replica's /status (nil when it does not answer).
func (r *replica) status() *observe.Status {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get("http://" + r.http + "/status")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var st observe.Status
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return nil
	}
	return &st
}

// waitSpread waits until the three replicas own the accounts as
// rendezvous hashing says, each with its watchers waiting for mail.
func (pr *proof) waitSpread(why string) {
	pr.t.Helper()
	names := []string{}
	for _, r := range pr.replicas {
		names = append(names, r.name)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ok := true
		for _, r := range pr.replicas {
			st := r.status()
			if st == nil || st.Cluster == nil || !st.Cluster.Healthy || !st.Ready {
				ok = false
				break
			}
			var want []string
			for _, a := range pr.accounts {
				if cluster.Preferred(a, names) == r.name {
					want = append(want, a)
				}
			}
			if !slices.Equal(st.Cluster.Owned, want) || len(st.Watchers) != len(want) {
				ok = false
				break
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			for _, r := range pr.replicas {
				b, _ := json.Marshal(r.status())
				pr.t.Logf("%s: %s", r.name, b)
				log, _ := os.ReadFile(r.logs[len(r.logs)-1])
				if len(log) > 4000 {
					log = log[len(log)-4000:]
				}
				pr.t.Logf("%s log tail:\n%s", r.name, log)
			}
			pr.t.Fatalf("after %s: the accounts were not spread over the replicas within 3 minutes", why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (pr *proof) busiest() *replica {
	var best *replica
	n := -1
	for _, r := range pr.replicas {
		if k := len(pr.owned(r)); k > n {
			best, n = r, k
		}
	}
	return best
}

func (pr *proof) owned(r *replica) []string {
	if st := r.status(); st != nil && st.Cluster != nil {
		return st.Cluster.Owned
	}
	return nil
}

// deliver appends one message after another to the accounts in turn,
// until stop.
func (pr *proof) deliver(stop <-chan struct{}, first int) {
	for i := first; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(pr.p.rate):
		}
		pr.deliverOne(pr.accounts[i%nAccounts], "")
	}
}

func (pr *proof) deliverOne(account, tag string) string {
	n := pr.delivered.Add(1)
	id := fmt.Sprintf("%d.%s%s@proof.example", n, account, tag)
	raw := fmt.Sprintf("From: sender@proof.example\r\nTo: %s@proof.example\r\nSubject: proof %d\r\nMessage-ID: <%s>\r\nDate: %s\r\n\r\nmessage %d\r\n",
		account, n, id, time.Now().Format(time.RFC1123Z), n)
	if err := pr.imap.SaveMessage(pr.users[account], "INBOX", []byte(raw)); err != nil {
		pr.t.Errorf("deliver %s: %v", id, err)
		return id
	}
	pr.mu.Lock()
	pr.ids[account] = append(pr.ids[account], id)
	pr.mu.Unlock()
	return id
}

// probe delivers one message to each account the fault took from its
// owner and measures, per account, how long after the fault it was
// processed (out of INBOX, in Done).
func (pr *proof) probe(fault string, accounts []string, at time.Time) {
	var wg sync.WaitGroup
	for _, a := range accounts {
		id := pr.deliverOne(a, ".probe")
		wg.Add(1)
		pr.probes.Add(1)
		go func() {
			defer pr.probes.Done()
			defer wg.Done()
			c := pr.dial(a)
			defer c.Close()
			deadline := time.Now().Add(3 * time.Minute)
			for time.Now().Before(deadline) {
				if n, err := search(c, "Done", id); err == nil && n > 0 {
					pr.mu.Lock()
					pr.failovers = append(pr.failovers, failover{fault: fault, account: a, took: time.Since(at)})
					pr.mu.Unlock()
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			pr.t.Errorf("%s: probe %s of %s not processed within 3 minutes", fault, id, a)
		}()
	}
	// Faults run one after the other: the next starts once this one's
	// accounts have failed over (the pause is resumed meanwhile).
	if fault != "sigstop" {
		wg.Wait()
	}
}

func (pr *proof) dial(account string) *imapclient.Client {
	c, err := imapclient.DialInsecure(pr.imap.Addr, nil)
	if err != nil {
		pr.t.Fatal(err)
	}
	if err := c.Login(pr.users[account], dovecottest.Password).Wait(); err != nil {
		pr.t.Fatal(err)
	}
	return c
}

func search(c *imapclient.Client, mailbox, id string) (int, error) {
	if _, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return 0, err
	}
	res, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
	if err != nil {
		return 0, err
	}
	return len(res.AllUIDs()), nil
}

// messageIDs counts the Message-IDs of mailbox.
func messageIDs(c *imapclient.Client, mailbox string) (map[string]int, error) {
	sd, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	if sd.NumMessages == 0 {
		return out, nil
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	msgs, err := c.Fetch(all, &imap.FetchOptions{Envelope: true, Flags: true}).Collect()
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if slices.Contains(m.Flags, imap.FlagDeleted) {
			continue
		}
		if m.Envelope != nil {
			out[m.Envelope.MessageID]++
		}
	}
	return out, nil
}

// waitDrained waits until every INBOX is empty.
func (pr *proof) waitDrained() {
	deadline := time.Now().Add(3 * time.Minute)
	for _, a := range pr.accounts {
		c := pr.dial(a)
		for {
			ids, err := messageIDs(c, "INBOX")
			if err == nil && len(ids) == 0 {
				break
			}
			if time.Now().After(deadline) {
				pr.t.Errorf("%s: INBOX still holds %d messages 3 minutes after the last delivery", a, len(ids))
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		c.Close()
	}
}

// census counts every delivered message on the server: once in Copies,
// once in Done, not in INBOX. It returns the duplicates and the losses.
func (pr *proof) census() (dups, losses int) {
	for _, a := range pr.accounts {
		c := pr.dial(a)
		boxes := map[string]map[string]int{}
		for _, mb := range []string{"INBOX", "Copies", "Done"} {
			ids, err := messageIDs(c, mb)
			if err != nil {
				pr.t.Fatalf("%s %s: %v", a, mb, err)
			}
			boxes[mb] = ids
		}
		c.Close()
		pr.mu.Lock()
		sent := pr.ids[a]
		pr.mu.Unlock()
		want := map[string]bool{}
		for _, id := range sent {
			want[id] = true
			for _, mb := range []string{"Copies", "Done"} {
				switch n := boxes[mb][id]; {
				case n == 0:
					losses++
					pr.t.Errorf("%s: %s is not in %s", a, id, mb)
				case n > 1:
					dups += n - 1
					pr.t.Errorf("%s: %s is %d times in %s", a, id, n, mb)
				}
			}
			if n := boxes["INBOX"][id]; n > 0 {
				pr.t.Errorf("%s: %s is still in INBOX", a, id)
			}
		}
		for _, mb := range []string{"INBOX", "Copies", "Done"} {
			for id := range boxes[mb] {
				if !want[id] {
					pr.t.Errorf("%s: %s in %s was never delivered", a, id, mb)
				}
			}
		}
	}
	return dups, losses
}

type logLine struct {
	Msg          string `json:"msg"`
	Job          string `json:"job"`
	Account      string `json:"account"`
	Tick         string `json:"tick"`
	PreviousTick string `json:"previous_tick"`
	// UnfinishedTick: the claim also covers this earlier tick, whose
	// run never finished.
	UnfinishedTick string `json:"unfinished_tick"`
}

// ticks checks the scheduled job's claims in every replica's logs (at
// debug level, which also says when a run is done): per account no tick
// twice, and each claim follows on from the one before — its previous
// tick is the last claimed one, or, when that one's run never finished
// (no "done" line), the one before it — so every tick between the first
// and the last was run to its end once. A tick is claimed again (resumed)
// only by the account's next owner, after the process that claimed it
// first lost the account before its run finished (killed or paused). It
// returns the claims, how many covered more than one tick (ticks that
// came due while nobody owned the account, run late by the next owner)
// and how many were resumed.
func (pr *proof) ticks() (claims, late, resumed, unfinished int, errs []string) {
	type claim struct {
		tick, prev, unfinished, by string
		resumed                    bool
	}
	per := map[string][]claim{}
	done := map[string]bool{} // account/tick, and account/tick/log of the process that ran it
	for _, r := range pr.replicas {
		for _, path := range r.logs {
			pr.eachLine(path, func(l logLine) {
				if l.Job != "tick" {
					return
				}
				c := claim{tick: l.Tick, prev: l.PreviousTick, unfinished: l.UnfinishedTick, by: filepath.Base(path)}
				switch l.Msg {
				case "scheduled run claimed":
				case "scheduled run claimed again: the replica that claimed it lost the account before its run finished":
					c.resumed = true
				case "scheduled run done":
					done[l.Account+"/"+l.Tick] = true
					done[l.Account+"/"+l.Tick+"/"+c.by] = true
					return
				default:
					return
				}
				per[l.Account] = append(per[l.Account], c)
			})
		}
	}
	for _, a := range pr.accounts {
		cs := per[a]
		if len(cs) == 0 {
			errs = append(errs, fmt.Sprintf("%s: the scheduled job never ran", a))
			continue
		}
		// By tick; a tick's first claim before its resumptions.
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].tick != cs[j].tick {
				return cs[i].tick < cs[j].tick
			}
			return !cs[i].resumed && cs[j].resumed
		})
		if cs[0].resumed {
			errs = append(errs, fmt.Sprintf("%s: tick %s resumed by %s, but nobody claimed it first", a, cs[0].tick, cs[0].by))
		}
		last := 0 // the index of the last first claim
		for i, c := range cs {
			claims++
			if i == 0 {
				continue
			}
			if c.resumed {
				resumed++
				if c.tick != cs[i-1].tick || c.by == cs[i-1].by || c.prev != cs[last].prev || done[a+"/"+c.tick+"/"+cs[i-1].by] {
					errs = append(errs, fmt.Sprintf("%s: tick %s resumed by %s (after %q), but the claim before it is %s's of %s (after %q, done %v)",
						a, c.tick, c.by, c.prev, cs[i-1].by, cs[i-1].tick, cs[last].prev, done[a+"/"+c.tick+"/"+cs[i-1].by]))
				}
				continue
			}
			prev := cs[last]
			last = i
			if c.tick == prev.tick {
				errs = append(errs, fmt.Sprintf("%s: tick %s claimed twice (%s and %s)", a, c.tick, prev.by, c.by))
				continue
			}
			switch {
			case c.prev == prev.tick:
			case c.unfinished == prev.tick && c.prev == prev.prev && !done[a+"/"+prev.tick]:
				// prev's run never finished; this claim covers it.
				unfinished++
			default:
				errs = append(errs, fmt.Sprintf("%s: the claim of tick %s follows %q (unfinished %q), but the tick claimed before it is %s (after %q, done %v)",
					a, c.tick, c.prev, c.unfinished, prev.tick, prev.prev, done[a+"/"+prev.tick]))
			}
			t0, _ := time.Parse(time.RFC3339, prev.tick)
			t1, _ := time.Parse(time.RFC3339, c.tick)
			if t1.Sub(t0) > tickEvery {
				late++
			}
		}
	}
	return claims, late, resumed, unfinished, errs
}

func (pr *proof) eachLine(path string, fn func(logLine)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b := sc.Bytes()
		if !bytes.HasPrefix(b, []byte("{")) {
			continue
		}
		var l logLine
		if json.Unmarshal(b, &l) == nil {
			fn(l)
		}
	}
}

// grep counts the log lines of every replica that contain s.
func (pr *proof) grep(s string) int {
	n := 0
	for _, r := range pr.replicas {
		for _, path := range r.logs {
			b, _ := os.ReadFile(path)
			n += bytes.Count(b, []byte(s))
		}
	}
	return n
}
