package bulkbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/internal/corpus"
	"github.com/mailwarden/mailwarden/internal/imaptrace"
)

// The tools a round runs.
const (
	ToolFloor      = "floor"
	ToolApply      = "apply"       // mailwarden apply, expr form
	ToolApplySieve = "apply-sieve" // mailwarden apply, Sieve form
	ToolImapfilter = "imapfilter"
	// ToolApplyBatch is apply with --batch Options.Batch: what the
	// per-batch commands cost.
	ToolApplyBatch = "apply-batch"
	// ToolFloorHeader is the floor fetching BODY.PEEK[HEADER] (whole
	// headers, as mailwarden does) instead of HEADER.FIELDS.
	ToolFloorHeader = "floor-hdr"
)

// Options configure Run. Zero values take the defaults.
type Options struct {
	// N messages, generated with Seed. Defaults 10000 and 1.
	N    int
	Seed uint64
	// Rounds of timed runs; every round runs every tool once, each on a
	// fresh copy of the mailbox, in an order that rotates per round.
	// Default 5.
	Rounds int
	// Mailwarden is the mailwarden binary. Required.
	Mailwarden string
	// Imapfilter is the imapfilter binary; "" leaves it out.
	Imapfilter string
	// Sieve also times apply with the Sieve form of the rules.
	Sieve bool
	// FloorHeader also times the floor with whole headers.
	FloorHeader bool
	// Batch, when > 0, also times apply with --batch Batch (the default
	// batch is 500 messages: one FETCH, STORE and MOVE per destination
	// per batch), to show what batching costs.
	Batch int
	// Trace runs each tool once more through an imaptrace proxy, untimed
	// by the rounds, and reports the commands each sent and the time the
	// server took for them.
	Trace bool
	// Now is the reference time for the corpus and the rules (default:
	// the current time, which the tools read too).
	Now time.Time
	// Out receives progress and the report; nil discards.
	Out io.Writer
}

// Run is one sample of a tool.
type RunResult struct {
	Tool  string
	Round int
	Wall  time.Duration
	// CPU is user+system time of the tool's process; for the floor, which
	// runs in this process, this process's CPU time during the run.
	CPU       time.Duration
	MaxRSSKiB int64
	// Trace is set for traced runs.
	Trace *imaptrace.Stats
	// Note is a line of the tool's own output (apply's summary).
	Note string
}

// Report is the outcome of Run.
type Report struct {
	N          int
	Bytes      int64
	Malformed  int
	Expect     *corpus.Expectation
	Runs       []RunResult // timed rounds
	Traced     []RunResult // traced runs
	GenTime    time.Duration
	LoadTime   time.Duration
	LoadBefore string
	LoadAfter  string
	Tools      []string
	Batch      int
}

// Run generates the corpus, loads it into a private Dovecot, runs the
// rounds and the traced runs, verifies the end state after every run
// (failing on the first difference), and writes a report to o.Out.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.N <= 0 {
		o.N = 10000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Rounds <= 0 {
		o.Rounds = 5
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	if o.Mailwarden == "" {
		return nil, errors.New("bulkbench: Options.Mailwarden is required")
	}
	rep := &Report{N: o.N, LoadBefore: loadavg(), Tools: []string{ToolFloor, ToolApply}, Batch: o.Batch}
	if o.FloorHeader {
		rep.Tools = append(rep.Tools, ToolFloorHeader)
	}
	if o.Sieve {
		rep.Tools = append(rep.Tools, ToolApplySieve)
	}
	if o.Batch > 0 {
		rep.Tools = append(rep.Tools, ToolApplyBatch)
	}
	if o.Imapfilter != "" {
		rep.Tools = append(rep.Tools, ToolImapfilter)
	}

	start := time.Now()
	c := corpus.New(&corpus.Options{N: o.N, Seed: o.Seed, Now: o.Now})
	msgs := c.All()
	rep.GenTime = time.Since(start)
	for _, m := range msgs {
		rep.Bytes += int64(len(m.Raw))
		if m.Meta.Malformed != "" {
			rep.Malformed++
		}
	}
	rep.Expect = corpus.Expect(msgs, o.Now)
	want := Want(msgs, rep.Expect)
	fmt.Fprintf(out, "corpus: %d messages, seed %d, %.1f MiB, %d malformed, generated in %v\n", o.N, o.Seed, float64(rep.Bytes)/(1<<20), rep.Malformed, rep.GenTime.Round(time.Millisecond))
	fmt.Fprintf(out, "expected end state (%d moves, %d flagged):\n%s", rep.Expect.Moves(), sum(rep.Expect.FlaggedCount), indent(rep.Expect.String(), "  "))

	env, err := NewEnv("")
	if err != nil {
		return nil, err
	}
	defer env.Close()
	start = time.Now()
	boxes := append([]string{"INBOX"}, corpus.Reference.Destinations()...)
	if err := env.LoadTemplate(msgs, boxes); err != nil {
		return nil, err
	}
	rep.LoadTime = time.Since(start)
	fmt.Fprintf(out, "loaded into Dovecot (Maildir files + doveadm force-resync) in %v; each run gets a fresh copy\n", rep.LoadTime.Round(time.Millisecond))
	msgs = nil // the bytes are on disk now; keep the heap small for the in-process floor
	debug.FreeOSMemory()

	work, err := os.MkdirTemp("", "mailwarden-bulkbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	for r := 1; r <= o.Rounds; r++ {
		order := slices.Clone(rep.Tools)
		k := (r - 1) % len(order)
		order = append(order[k:], order[:k]...)
		var line []string
		for _, tool := range order {
			res, err := runOne(ctx, env, o, work, tool, want, nil)
			if err != nil {
				return rep, fmt.Errorf("round %d, %s: %w", r, tool, err)
			}
			res.Round = r
			rep.Runs = append(rep.Runs, *res)
			line = append(line, fmt.Sprintf("%s %v", tool, res.Wall.Round(time.Millisecond)))
		}
		fmt.Fprintf(out, "round %d/%d: %s  (verified)\n", r, o.Rounds, strings.Join(line, ", "))
	}
	if o.Trace {
		for _, tool := range rep.Tools {
			p, err := imaptrace.Start(env.Srv.Addr)
			if err != nil {
				return rep, err
			}
			res, err := runOne(ctx, env, o, work, tool, want, p)
			p.Close()
			if err != nil {
				return rep, fmt.Errorf("traced %s: %w", tool, err)
			}
			rep.Traced = append(rep.Traced, *res)
		}
	}
	rep.LoadAfter = loadavg()
	rep.Print(out)
	return rep, nil
}

// runOne runs tool once on a fresh user, through proxy when given, and
// verifies the end state.
func runOne(ctx context.Context, env *Env, o Options, work, tool string, want *Wanted, proxy *imaptrace.Proxy) (*RunResult, error) {
	user, err := env.NewUser()
	if err != nil {
		return nil, err
	}
	srv := Server{Host: env.Srv.Host, Port: env.Srv.Port, User: user, Pass: "pass"}
	if proxy != nil {
		srv.Port = proxy.Port()
	}
	dir, err := os.MkdirTemp(work, tool+"-")
	if err != nil {
		return nil, err
	}
	res := &RunResult{Tool: tool}
	var stderr string // a tool's complaints, shown when its end state is wrong
	switch tool {
	case ToolFloor, ToolFloorHeader:
		cpu0 := selfCPU()
		start := time.Now()
		fr, err := Floor(fmt.Sprintf("%s:%d", srv.Host, srv.Port), srv.User, srv.Pass, corpus.Reference, o.Now, tool == ToolFloorHeader)
		res.Wall = time.Since(start)
		res.CPU = selfCPU() - cpu0
		if err != nil {
			return nil, err
		}
		res.Note = fmt.Sprintf("fetched %d, flagged %d, %d moves", fr.Fetched, fr.Flagged, len(fr.Moved))
	case ToolApply, ToolApplySieve, ToolApplyBatch:
		rs := "expr"
		if tool == ToolApplySieve {
			rs = "sieve"
		}
		var extra []string
		if tool == ToolApplyBatch {
			extra = []string{"--batch", fmt.Sprint(o.Batch)}
		}
		pr, err := RunApply(ctx, o.Mailwarden, dir, srv, corpus.Reference, rs, o.Now, extra...)
		if err != nil {
			return nil, err
		}
		res.Wall, res.CPU, res.MaxRSSKiB = pr.Wall, pr.User+pr.Sys, pr.MaxRSSKiB
		res.Note = firstLine(pr.Stdout)
		stderr = pr.Stderr
	case ToolImapfilter:
		pr, err := RunImapfilter(ctx, o.Imapfilter, dir, srv, corpus.Reference)
		if err != nil {
			return nil, err
		}
		res.Wall, res.CPU, res.MaxRSSKiB = pr.Wall, pr.User+pr.Sys, pr.MaxRSSKiB
		stderr = pr.Stderr
	default:
		return nil, fmt.Errorf("unknown tool %q", tool)
	}
	if proxy != nil {
		// The tool has logged out; wait for the proxy to see the close.
		deadline := time.Now().Add(5 * time.Second)
		for proxy.Stats().Open > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		st := proxy.Stats()
		res.Trace = &st
	}
	if _, err := Verify(fmt.Sprintf("%s:%d", env.Srv.Host, env.Srv.Port), user, "pass", want); err != nil {
		return nil, fmt.Errorf("%s left a wrong end state: %w%s", tool, err, complaints(stderr))
	}
	os.RemoveAll(dir)
	return res, env.RemoveUser(user)
}

// complaints returns up to five error or warning lines of a tool's
// standard error, to show with a wrong end state.
func complaints(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") || strings.Contains(strings.ToLower(l), "error") {
			out = append(out, "  "+tail(l, 400))
			if len(out) == 5 {
				break
			}
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "\nits first complaints:\n" + strings.Join(out, "\n")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Times returns the wall times of tool's timed runs.
func (r *Report) Times(tool string) []time.Duration {
	var out []time.Duration
	for _, x := range r.Runs {
		if x.Tool == tool {
			out = append(out, x.Wall)
		}
	}
	return out
}

// Median of tool's timed runs (0 when it did not run).
func (r *Report) Median(tool string) time.Duration { return median(r.Times(tool)) }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Print writes the summary: per tool min/median/max, CPU, peak RSS; the
// ratios the goals are stated in; and the traced runs' commands.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "\n%-12s %4s %9s %9s %9s %10s %9s\n", "tool", "runs", "min", "median", "max", "cpu(med)", "maxrss")
	for _, tool := range r.Tools {
		ts := r.Times(tool)
		if len(ts) == 0 {
			continue
		}
		var cpus []time.Duration
		var rss int64
		for _, x := range r.Runs {
			if x.Tool == tool {
				cpus = append(cpus, x.CPU)
				rss = max(rss, x.MaxRSSKiB)
			}
		}
		cpu, rssText := fmtDur(median(cpus)), "-"
		if tool != ToolFloor && tool != ToolFloorHeader {
			rssText = fmt.Sprintf("%d MiB", rss/1024)
		}
		fmt.Fprintf(w, "%-12s %4d %9s %9s %9s %10s %9s\n", tool, len(ts), fmtDur(slices.Min(ts)), fmtDur(median(ts)), fmtDur(slices.Max(ts)), cpu, rssText)
	}
	floor, apply, imf := r.Median(ToolFloor), r.Median(ToolApply), r.Median(ToolImapfilter)
	fmt.Fprintf(w, "\nratios of medians (goals of issue 8):\n")
	fmt.Fprintf(w, "  apply/floor      = %.2f   (goal <= 1.10)\n", ratio(apply, floor))
	if s := r.Median(ToolApplySieve); s > 0 {
		fmt.Fprintf(w, "  apply-sieve/floor = %.2f\n", ratio(s, floor))
	}
	if s := r.Median(ToolFloorHeader); s > 0 {
		fmt.Fprintf(w, "  floor-hdr/floor  = %.2f   (the floor fetching whole headers)\n", ratio(s, floor))
	}
	if s := r.Median(ToolApplyBatch); s > 0 {
		fmt.Fprintf(w, "  apply-batch/floor = %.2f   (apply --batch %d)\n", ratio(s, floor), r.Batch)
	}
	if imf > 0 {
		fmt.Fprintf(w, "  imapfilter/apply = %.2f   (goal >= 2.00)\n", ratio(imf, apply))
		fmt.Fprintf(w, "  imapfilter/floor = %.2f\n", ratio(imf, floor))
	} else {
		fmt.Fprintf(w, "  imapfilter: not run (install it with `make bench-deps`)\n")
	}
	fmt.Fprintf(w, "per-round ratio apply/floor: %s\n", r.perRound(ToolApply, ToolFloor))
	if imf > 0 {
		fmt.Fprintf(w, "per-round ratio imapfilter/apply: %s\n", r.perRound(ToolImapfilter, ToolApply))
	}
	if len(r.Traced) > 0 {
		fmt.Fprintf(w, "\nprotocol trace (one extra run per tool through imaptrace; server time = command to tagged reply):\n")
		for _, t := range r.Traced {
			fmt.Fprintf(w, "  %s: wall %s, %d connection(s), %.1f MiB up, %.1f MiB down\n", t.Tool, fmtDur(t.Wall), t.Trace.Accepted, float64(t.Trace.BytesUp)/(1<<20), float64(t.Trace.BytesDown)/(1<<20))
			if t.Note != "" {
				fmt.Fprintf(w, "    (%s)\n", t.Note)
			}
			var names []string
			var total time.Duration
			for n := range t.Trace.Commands {
				names = append(names, n)
				total += t.Trace.Time[n]
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(w, "    %-12s %6d  server %s\n", n, t.Trace.Commands[n], fmtDur(t.Trace.Time[n]))
			}
			fmt.Fprintf(w, "    %-12s         server %s of wall %s (the rest is the client's own time)\n", "all", fmtDur(total), fmtDur(t.Wall))
			if n := t.Trace.Commands["EXPUNGE"]; n > 0 {
				fmt.Fprintf(w, "    note: %d plain EXPUNGE\n", n)
			}
		}
	}
	fmt.Fprintf(w, "\nload average before %s, after %s (%d CPUs; the machine is shared: compare ratios within a run, not times across runs)\n", r.LoadBefore, r.LoadAfter, runtime.NumCPU())
}

func (r *Report) perRound(a, b string) string {
	byRound := map[int]map[string]time.Duration{}
	for _, x := range r.Runs {
		if byRound[x.Round] == nil {
			byRound[x.Round] = map[string]time.Duration{}
		}
		byRound[x.Round][x.Tool] = x.Wall
	}
	var out []string
	for i := 1; i <= len(byRound); i++ {
		if byRound[i][a] > 0 && byRound[i][b] > 0 {
			out = append(out, fmt.Sprintf("%.2f", ratio(byRound[i][a], byRound[i][b])))
		}
	}
	return strings.Join(out, " ")
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
}
