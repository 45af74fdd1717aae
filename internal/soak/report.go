package soak

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/internal/faultproxy"
)

// Report is what one soak did and found.
type Report struct {
	Params Params
	Dir    string // logs/, timeline.log, configs, state

	MessagesA, MessagesB int // counted messages delivered in each phase
	Fillers              int // filler messages for the expire job
	KillsA, KillsB       int
	KillsByTask          map[string]int // phase B kills by apply, sweep, expire
	DaemonRuns           int            // daemon processes started
	DaemonExits          []string       // daemons that exited without being killed
	Rounds, RunsB        int            // phase B rounds and command runs

	FaultsA, FaultsB faultproxy.Stats
	EventsA, EventsB []faultproxy.Event

	PeakRSSDaemonKiB  int64 // max VmHWM over every daemon process
	PeakRSSCommandKiB int64 // max VmHWM over every apply and jobs run

	Build, DurA, DurDrain, DurB, Duration time.Duration
	DrainTimedOut                         bool

	// What the census found: each counted message should be exactly once
	// in its group's mailbox and once in Copies, both flagged, nowhere
	// else; every filler gone.
	Lost, Duplicated, Unprocessed, Misplaced, FlagMissing int
	// Incomplete: processed, but missing its copy or its moved original.
	Incomplete             int
	ExtraCopies            int // copies beyond the expected two, over all messages
	FillersLeft, Strangers int
	Anomalies              []Anomaly
	// Causes tallies the anomalies by what the logs say caused them.
	Causes map[string]int
	// Crashes are panics, data races and watchers stopped for good, found
	// in the process logs.
	Crashes []string
	Notes   []string

	evidence string // per-anomaly detail, built by verify
	procs    []*proc
}

// Anomaly is one message that is not where it should be.
type Anomaly struct {
	ID        string
	Phase     string
	Source    string
	SourceUID uint32
	Expected  string
	Kinds     []string // lost, duplicated, unprocessed, misplaced, flag missing
	Locations []Location
	Delivered time.Time
	// Cause is what the logs say happened to the first command that
	// should have placed the message once (see soak.cause).
	Cause string
}

func (a Anomaly) String() string {
	locs := make([]string, len(a.Locations))
	for i, l := range a.Locations {
		locs[i] = l.String()
	}
	where := "nowhere"
	if len(locs) > 0 {
		where = strings.Join(locs, "; ")
	}
	s := fmt.Sprintf("%s [%s] phase %s, delivered to %s UID %d at %s, expected in %s and %s: found %s",
		a.ID, strings.Join(a.Kinds, ", "), a.Phase, a.Source, a.SourceUID, a.Delivered.Format("15:04:05.000"), a.Expected, Copies, where)
	if a.Cause != "" {
		s += "\n      cause: " + a.Cause
	}
	return s
}

// Faults is the number of faults both proxies injected.
func (r *Report) Faults() int { return r.FaultsA.Total() + r.FaultsB.Total() }

// Messages is the number of counted messages.
func (r *Report) Messages() int { return r.MessagesA + r.MessagesB }

// Kills is the number of SIGKILLs.
func (r *Report) Kills() int { return r.KillsA + r.KillsB }

// Failures lists what makes the soak fail; empty means it passed.
func (r *Report) Failures() []string {
	var f []string
	if r.Lost > 0 {
		f = append(f, fmt.Sprintf("%d message(s) lost", r.Lost))
	}
	if r.Duplicated > 0 {
		f = append(f, fmt.Sprintf("%d message(s) duplicated (%d extra copies)", r.Duplicated, r.ExtraCopies))
	}
	if r.Incomplete > 0 {
		f = append(f, fmt.Sprintf("%d message(s) missing their copy in %s or their moved original", r.Incomplete, Copies))
	}
	if r.Unprocessed > 0 {
		f = append(f, fmt.Sprintf("%d message(s) not processed (still where they were delivered)", r.Unprocessed))
	}
	if r.Misplaced > 0 {
		f = append(f, fmt.Sprintf("%d message(s) in a mailbox they should not be in", r.Misplaced))
	}
	if r.FlagMissing > 0 {
		f = append(f, fmt.Sprintf("%d message(s) without the %q keyword", r.FlagMissing, Keyword))
	}
	if r.FillersLeft > 0 {
		f = append(f, fmt.Sprintf("%d filler message(s) not expired", r.FillersLeft))
	}
	if r.Strangers > 0 {
		f = append(f, fmt.Sprintf("%d message(s) on the server the soak never delivered", r.Strangers))
	}
	if len(r.DaemonExits) > 0 {
		f = append(f, fmt.Sprintf("%d daemon process(es) exited without being killed", len(r.DaemonExits)))
	}
	if len(r.Crashes) > 0 {
		f = append(f, fmt.Sprintf("%d panic(s), data race(s) or watcher(s) stopped for good in the process logs", len(r.Crashes)))
	}
	if r.DrainTimedOut {
		f = append(f, fmt.Sprintf("the daemon did not empty INBOX and settle within %v after phase A", r.Params.Drain))
	}
	if r.KillsA < r.Params.KillsA || r.KillsB < r.Params.KillsB {
		f = append(f, fmt.Sprintf("only %d+%d kills of %d+%d", r.KillsA, r.KillsB, r.Params.KillsA, r.Params.KillsB))
	}
	if r.Faults() < r.Params.MinFaults {
		f = append(f, fmt.Sprintf("only %d faults of %d", r.Faults(), r.Params.MinFaults))
	}
	return f
}

// Summary is the figures, one per line, for the log and the README.
func (r *Report) Summary() string {
	var b strings.Builder
	p := r.Params
	fmt.Fprintf(&b, "seed %d (race build: %v)\n", p.Seed, p.Race)
	fmt.Fprintf(&b, "messages: %d (%d while watching, %d through apply and the sweep job) + %d expired fillers\n",
		r.Messages(), r.MessagesA, r.MessagesB, r.Fillers)
	fmt.Fprintf(&b, "kills: %d (phase A daemon %d over %d daemon runs; phase B %d over %d runs: %s)\n",
		r.Kills(), r.KillsA, r.DaemonRuns, r.KillsB, r.RunsB, mapText(r.KillsByTask))
	fmt.Fprintf(&b, "faults: %d (daemon proxy %d over %d commands, commands proxy %d over %d commands)\n",
		r.Faults(), r.FaultsA.Total(), r.FaultsA.Commands, r.FaultsB.Total(), r.FaultsB.Commands)
	byKind, byCmd := map[string]int{}, map[string]int{}
	for _, st := range []faultproxy.Stats{r.FaultsA, r.FaultsB} {
		for k, n := range st.Faults {
			byKind[k.Kind.String()] += n
			name := k.Command
			if name == "" {
				name = "(none)"
			}
			byCmd[name] += n
		}
	}
	fmt.Fprintf(&b, "  by kind: %s\n", mapText(byKind))
	fmt.Fprintf(&b, "  by command: %s\n", mapText(byCmd))
	fmt.Fprintf(&b, "lost %d, duplicated %d (%d extra copies), incomplete %d, unprocessed %d, misplaced %d, keyword missing %d, fillers left %d, strangers %d\n",
		r.Lost, r.Duplicated, r.ExtraCopies, r.Incomplete, r.Unprocessed, r.Misplaced, r.FlagMissing, r.FillersLeft, r.Strangers)
	if len(r.Causes) > 0 {
		fmt.Fprintf(&b, "  causes (from the logs): %s\n", mapText(r.Causes))
	}
	fmt.Fprintf(&b, "peak RSS: daemon %s, apply/jobs run %s\n", fmtKiB(r.PeakRSSDaemonKiB), fmtKiB(r.PeakRSSCommandKiB))
	fmt.Fprintf(&b, "duration: %v (build %v, phase A %v, drain %v, phase B %v)\n", r.Duration.Round(time.Second),
		r.Build.Round(time.Second), r.DurA.Round(time.Second), r.DurDrain.Round(time.Second), r.DurB.Round(time.Second))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

func mapText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// Details is what to read when the soak failed: every anomaly, the
// evidence for the first ones, the crashes, the last daemon log lines and
// the last faults.
func (r *Report) Details() string {
	var b strings.Builder
	for _, d := range r.DaemonExits {
		fmt.Fprintf(&b, "daemon: %s\n", d)
	}
	for _, c := range r.Crashes {
		fmt.Fprintf(&b, "crash: %s\n", c)
	}
	if len(r.Anomalies) > 0 {
		fmt.Fprintf(&b, "\n%d anomalies:\n", len(r.Anomalies))
		for i, a := range r.Anomalies {
			if i == 200 {
				fmt.Fprintf(&b, "  ... and %d more\n", len(r.Anomalies)-i)
				break
			}
			fmt.Fprintf(&b, "  %s\n", a)
		}
	}
	b.WriteString(r.evidence)
	// The last daemon run's log tail, and the last faults of each proxy.
	var lastDaemon *proc
	for _, pr := range r.procs {
		if strings.HasPrefix(pr.name, "A-") {
			lastDaemon = pr
		}
	}
	if lastDaemon != nil {
		fmt.Fprintf(&b, "\nlast daemon log (%s), tail:\n%s", lastDaemon.logPath, indent(tail(readLines(lastDaemon.logPath), 30)))
	}
	for name, evs := range map[string][]faultproxy.Event{"daemon": r.EventsA, "commands": r.EventsB} {
		fmt.Fprintf(&b, "\nlast faults of the %s proxy:\n", name)
		for _, ev := range evs[max(0, len(evs)-15):] {
			fmt.Fprintf(&b, "  %s %s\n", ev.Time.Format("15:04:05.000"), ev)
		}
	}
	fmt.Fprintf(&b, "\nall logs (one per process), the timeline of deliveries, faults and kills, configs and state: %s\n", r.Dir)
	return b.String()
}

// verify counts every message on the server by Message-ID.
func (s *soak) verify() {
	r := &s.rep
	census, err := s.direct.census()
	if err != nil {
		s.tb.Fatalf("soak: census: %v", err)
	}
	s.mu.Lock()
	msgs := slices.Clone(s.msgs)
	fillers := s.fillers
	s.mu.Unlock()
	known := map[string]bool{}
	for _, m := range msgs {
		known[m.id] = true
		locs := census[m.id]
		var inGroup, inCopies, other int
		var kinds []string
		flagMissing := false
		for _, l := range locs {
			switch l.Mailbox {
			case m.group:
				inGroup++
			case Copies:
				inCopies++
			default:
				other++
			}
			if (l.Mailbox == m.group || l.Mailbox == Copies) && !l.has(Keyword) {
				flagMissing = true
			}
		}
		if len(locs) == 0 {
			kinds = append(kinds, "lost")
			r.Lost++
		}
		if inGroup > 1 || inCopies > 1 {
			switch {
			case inGroup > 1 && inCopies > 1:
				kinds = append(kinds, "duplicated in "+m.group+" and "+Copies)
			case inGroup > 1:
				kinds = append(kinds, "duplicated in "+m.group)
			default:
				kinds = append(kinds, "duplicated in "+Copies)
			}
			r.Duplicated++
			r.ExtraCopies += max(inGroup-1, 0) + max(inCopies-1, 0)
		}
		if slices.ContainsFunc(locs, func(l Location) bool { return l.Mailbox == m.source }) {
			kinds = append(kinds, "unprocessed")
			r.Unprocessed++
		} else if other > 0 || len(locs) > 0 && (inGroup == 0 || inCopies == 0) {
			// Somewhere unexpected, or missing from one of its two places.
			if inGroup == 0 || inCopies == 0 {
				kinds = append(kinds, "missing from "+missingFrom(inGroup, inCopies, m.group))
				r.Incomplete++
			}
			if other > 0 {
				kinds = append(kinds, "misplaced")
				r.Misplaced++
			}
		}
		if flagMissing {
			kinds = append(kinds, "keyword missing")
			r.FlagMissing++
		}
		if len(kinds) > 0 {
			r.Anomalies = append(r.Anomalies, Anomaly{ID: m.id, Phase: m.phase, Source: m.source, SourceUID: m.uid,
				Expected: m.group, Kinds: kinds, Locations: locs, Delivered: m.at})
		}
	}
	for id, locs := range census {
		switch {
		case known[id]:
		case fillers[id]:
			r.FillersLeft++
			r.Anomalies = append(r.Anomalies, Anomaly{ID: id, Phase: "B", Source: Scratch, Expected: "(expired)", Kinds: []string{"filler not expired"}, Locations: locs})
		default:
			r.Strangers += len(locs)
			r.Anomalies = append(r.Anomalies, Anomaly{ID: id, Kinds: []string{"stranger"}, Locations: locs})
		}
	}
	r.Crashes = scanCrashes(s.logs)
	if len(r.Anomalies) > 0 {
		s.explain(r.Anomalies)
		r.evidence = s.evidence(r.Anomalies)
	}
}

func missingFrom(inGroup, inCopies int, group string) string {
	switch {
	case inGroup == 0 && inCopies == 0:
		return group + " and " + Copies
	case inGroup == 0:
		return group
	}
	return Copies
}

// scanCrashes finds panics, race reports and watchers that stopped on a
// permanent error (nothing in the soak is permanent: the password is
// right, and every fault is a network fault) in the process logs.
func scanCrashes(dir string) []string {
	var out []string
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, f := range files {
		for _, l := range readLines(f) {
			if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") || strings.Contains(l, "WARNING: DATA RACE") ||
				strings.Contains(l, "watcher panicked") || strings.Contains(l, `msg="watcher stopped`) {
				out = append(out, filepath.Base(f)+": "+l)
			}
		}
	}
	return out
}

// uidCommand matches the executor's debug line for a UID command.
var uidCommand = regexp.MustCompile(`mailbox=(\S+) command="(UID (?:COPY|MOVE|STORE|EXPUNGE)) ([0-9:,]+)`)

var logTime = regexp.MustCompile(`^time=(\S+)`)

// evidence gathers, for the first anomalies, every log line that names the
// message (its Message-ID, or a UID command on its source UID), whether
// the process that wrote it was killed, and the faults and kills around
// the first such line.
func (s *soak) evidence(anoms []Anomaly) string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(s.logs, "*.log"))
	sort.Strings(files)
	logs := map[string][]string{}
	for _, f := range files {
		logs[f] = readLines(f)
	}
	byLog := map[string]*proc{}
	for _, pr := range s.procs {
		byLog[pr.logPath] = pr
	}
	n := 0
	for _, a := range anoms {
		if a.Phase == "" || a.Source == Scratch {
			continue
		}
		if n == 10 {
			fmt.Fprintf(&b, "\n(evidence shown for the first 10 anomalies only)\n")
			break
		}
		n++
		fmt.Fprintf(&b, "\n== %s\n", a)
		var first, firstHit time.Time
		for _, f := range files {
			var hits []string
			for _, l := range logs[f] {
				if strings.Contains(l, a.ID) || mentionsUID(l, a.Source, a.SourceUID) {
					hits = append(hits, l)
					if t := lineTime(l); !t.IsZero() && (firstHit.IsZero() || t.Before(firstHit)) {
						firstHit = t
					}
					if t := lineTime(l); !t.IsZero() && (first.IsZero() || t.Before(first)) && isTrouble(l) {
						first = t
					}
				}
			}
			if len(hits) == 0 {
				continue
			}
			pr := byLog[f]
			how := ""
			if pr != nil {
				switch {
				case pr.killed.Load():
					how = fmt.Sprintf(" (SIGKILLed at %s)", pr.ended.Format("15:04:05.000"))
				case !pr.ended.IsZero():
					how = fmt.Sprintf(" (exited %d at %s)", pr.exitCode(), pr.ended.Format("15:04:05.000"))
				}
			}
			fmt.Fprintf(&b, "  %s%s:\n%s", filepath.Base(f), how, indent(tail(hits, 12)))
			if pr != nil && pr.killed.Load() {
				fmt.Fprintf(&b, "    last lines before the kill:\n%s", indentText(indent(tail(logs[f], 3))))
			}
		}
		if first.IsZero() {
			first = firstHit
		}
		if !first.IsZero() {
			fmt.Fprintf(&b, "  faults, starts and kills from 2 s before to 2 s after %s:\n", first.Format("15:04:05.000"))
			s.tlMu.Lock()
			for _, ev := range s.timeline {
				if ev.t.After(first.Add(-2*time.Second)) && ev.t.Before(first.Add(2*time.Second)) &&
					(strings.HasPrefix(ev.what, "fault") || strings.HasPrefix(ev.what, "SIGKILL") || strings.HasPrefix(ev.what, "start")) {
					fmt.Fprintf(&b, "    %s %s\n", ev.t.Format("15:04:05.000"), ev.what)
				}
			}
			s.tlMu.Unlock()
		}
	}
	return b.String()
}

// isTrouble reports whether a log line says something failed.
func isTrouble(l string) bool {
	return strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") || strings.Contains(l, "not fully applied")
}

func mentionsUID(line, mailbox string, uid uint32) bool {
	m := uidCommand.FindStringSubmatch(line)
	if m == nil || strings.Trim(m[1], `"`) != mailbox {
		return false
	}
	return inUIDSet(m[3], uid)
}

// inUIDSet reports whether uid is in a set like "3:5,9".
func inUIDSet(set string, uid uint32) bool {
	for _, part := range strings.Split(set, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			continue
		}
		z := a
		if isRange {
			if z, err = strconv.ParseUint(hi, 10, 32); err != nil {
				continue
			}
		}
		if uint64(uid) >= min(a, z) && uint64(uid) <= max(a, z) {
			return true
		}
	}
	return false
}

func lineTime(l string) time.Time {
	m := logTime.FindStringSubmatch(l)
	if m == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, m[1])
	return t
}

func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    ")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func indentText(s string) string {
	return indent(strings.Split(strings.TrimRight(s, "\n"), "\n"))
}
