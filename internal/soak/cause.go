package soak

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/internal/faultproxy"
)

// sent is one UID command a process logged (the executor's debug "send"
// line) that covered an anomalous message.
type sent struct {
	file string
	pr   *proc
	idx  int // line index in the file
	t    time.Time
}

// explain sets each anomaly's Cause from the logs: the first command that
// should have placed the message once, what became of it (answered, failed,
// or the process was SIGKILLed before it logged an outcome), and the faults
// the proxy injected on that command meanwhile. It also tallies the causes
// in Report.Causes.
func (s *soak) explain(anoms []Anomaly) {
	files, _ := filepath.Glob(filepath.Join(s.logs, "*.log"))
	logs := map[string][]string{}
	for _, f := range files {
		logs[f] = readLines(f)
	}
	byLog := map[string]*proc{}
	for _, pr := range s.procs {
		byLog[pr.logPath] = pr
	}
	s.rep.Causes = map[string]int{}
	for i := range anoms {
		a := &anoms[i]
		if a.Phase == "" || a.Source == Scratch {
			continue
		}
		cmd, target := commandFor(a)
		if cmd == "" {
			continue
		}
		var sends []sent
		for _, f := range files {
			for j, l := range logs[f] {
				if m := uidCommand.FindStringSubmatch(l); m != nil && m[2] == cmd && mentionsUID(l, a.Source, a.SourceUID) &&
					(target == "" || strings.Contains(l, `\"`+target+`\"`)) {
					sends = append(sends, sent{file: f, pr: byLog[f], idx: j, t: lineTime(l)})
				}
			}
		}
		if len(sends) == 0 {
			a.Cause = fmt.Sprintf("no %s for it in any log", cmd)
			s.rep.Causes[a.Cause]++
			continue
		}
		sort.SliceStable(sends, func(i, j int) bool { return sends[i].t.Before(sends[j].t) })
		first := sends[0]
		outcome, category, end := s.outcome(first, logs[first.file], a.SourceUID, cmd)
		events := s.rep.EventsA
		if !strings.HasPrefix(filepath.Base(first.file), "A-") {
			events = s.rep.EventsB
		}
		var faults []string
		for _, ev := range events {
			if ev.Command.Name == cmd && !ev.Time.Before(first.t.Add(-50*time.Millisecond)) && !ev.Time.After(end.Add(10*time.Millisecond)) {
				faults = append(faults, fmt.Sprintf("%s at %s", ev.Fault, ev.Time.Format("15:04:05.000")))
			}
		}
		faultText := "none"
		if len(faults) > 0 {
			faultText = strings.Join(faults, "; ")
			if category != "" && !strings.HasPrefix(category, "SIGKILL") {
				category += " (with a fault: " + faultKinds(events, cmd, first.t, end) + ")"
			}
		}
		if category == "" {
			category = outcome
		}
		a.Cause = fmt.Sprintf("%s sent %d time(s) for it; the first, by %s at %s: %s; faults on %s then: %s",
			cmd, len(sends), filepath.Base(first.file), first.t.Format("15:04:05.000"), outcome, cmd, faultText)
		s.rep.Causes[category]++
	}
}

// commandFor is the command whose repetition (or absence) explains a.
func commandFor(a *Anomaly) (cmd, target string) {
	for _, k := range a.Kinds {
		switch {
		case k == "duplicated in "+Copies, k == "missing from "+Copies:
			return "UID COPY", Copies
		case strings.HasPrefix(k, "duplicated in "), strings.HasPrefix(k, "missing from"), k == "lost", k == "unprocessed", k == "misplaced":
			return "UID MOVE", ""
		case k == "keyword missing":
			return "UID STORE", ""
		}
	}
	return "", ""
}

// outcome reads what followed a sent command in its process's log.
func (s *soak) outcome(first sent, lines []string, uid uint32, cmd string) (text, category string, end time.Time) {
	uidKey := fmt.Sprintf("uid=%d ", uid)
	for _, l := range lines[first.idx+1:] {
		switch {
		case strings.Contains(l, "msg=applied") && strings.Contains(l, uidKey):
			return "answered; the plan applied", "first " + cmd + " answered and journaled, repeated anyway", lineTime(l)
		case strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN"):
			msg := l
			if i := strings.Index(l, "msg="); i >= 0 {
				msg = l[i:]
			}
			if len(msg) > 300 {
				msg = msg[:300] + "..."
			}
			return "failed: " + msg, "connection failed after " + cmd + " was sent; retried", lineTime(l)
		}
	}
	if first.pr != nil && first.pr.killed.Load() {
		return fmt.Sprintf("no outcome logged; the process was SIGKILLed %v later", first.pr.ended.Sub(first.t).Round(time.Millisecond)),
			"SIGKILL after " + cmd + " was sent, before its outcome was logged", first.pr.ended
	}
	end = first.t.Add(2 * time.Second)
	if first.pr != nil && !first.pr.ended.IsZero() {
		end = first.pr.ended
	}
	return "no outcome logged", "no outcome logged after " + cmd, end
}

// faultKinds names the faults injected on cmd between from and to, such as
// "stall after-command".
func faultKinds(events []faultproxy.Event, cmd string, from, to time.Time) string {
	var kinds []string
	for _, ev := range events {
		if ev.Command.Name == cmd && !ev.Time.Before(from.Add(-50*time.Millisecond)) && !ev.Time.After(to.Add(10*time.Millisecond)) {
			kinds = append(kinds, ev.Fault.Kind.String()+" "+ev.Fault.When.String())
		}
	}
	return strings.Join(kinds, ", ")
}
