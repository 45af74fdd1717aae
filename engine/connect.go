package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// ConnectReport is what CheckConnect found: the problems (each would make
// the daemon fail at something), and notes that are fine but worth saying.
type ConnectReport struct {
	Problems []error
	Notes    []string
}

// CheckConnect checks what `check` alone cannot: that state_dir can be
// written, that every account logs in, that every watched mailbox exists,
// and that every mailbox the rules and jobs name exists or will be created.
// It reports every problem of every account, each located in the config
// (`mailwarden check --connect`). Nothing is changed on the server: LIST
// only.
func CheckConnect(ctx context.Context, rt *Runtime, dial imapconn.Dialer) *ConnectReport {
	cfg := rt.Config
	rep := &ConnectReport{}
	if err := writable(cfg.StateDir); err != nil {
		rep.Problems = append(rep.Problems, &config.Error{Path: "state_dir", Msg: err.Error(),
			Hint: "the daemon keeps its checkpoints and journal there: make it writable by the user mailwarden runs as"})
	}
	for i := range cfg.Accounts {
		checkAccount(ctx, rt, &cfg.Accounts[i], i, dial, rep)
	}
	return rep
}

// writable reports whether dir (or, when missing, the directory it would
// be created in) accepts a new file.
func writable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			f, err := os.CreateTemp(d, ".mailwarden-check-*")
			if err != nil {
				return fmt.Errorf("%s is not writable: %w", d, err)
			}
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		if d == filepath.Dir(d) {
			return fmt.Errorf("no directory of %s exists", dir)
		}
	}
}

// mailboxNeed is one mailbox the config names for an account.
type mailboxNeed struct {
	name   string // as written: a name or a special-use attribute
	create bool   // missing is fine: it is created when first used
	where  string // located description for a message
}

func checkAccount(ctx context.Context, rt *Runtime, a *config.Account, i int, dial imapconn.Dialer, rep *ConnectReport) {
	path := fmt.Sprintf("accounts[%d]", i)
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, err := dial(cctx, a.Name)
	if err != nil {
		rep.Problems = append(rep.Problems, &config.Error{Pos: a.Pos, Path: path, Msg: fmt.Sprintf("account %q: cannot connect and log in: %v", a.Name, err)})
		return
	}
	defer c.Close()
	boxes, err := c.List(cctx, "*")
	if err != nil {
		rep.Problems = append(rep.Problems, &config.Error{Pos: a.Pos, Path: path, Msg: fmt.Sprintf("account %q: cannot list mailboxes: %v", a.Name, err)})
		return
	}
	exists := func(name string) bool {
		return slices.ContainsFunc(boxes, func(b imapconn.MailboxInfo) bool {
			return b.Selectable() && (b.Name == name || strings.EqualFold(name, "INBOX") && strings.EqualFold(b.Name, "INBOX"))
		})
	}
	var needs []mailboxNeed
	for j, w := range a.Watch {
		needs = append(needs, mailboxNeed{name: w.Mailbox, where: fmt.Sprintf("%s: %s.watch[%d].mailbox", w.Pos, path, j)})
		if rs := rt.Config.Ruleset(w.Ruleset); rs != nil {
			needs = append(needs, rulesetNeeds(rt, a.Name, rs)...)
		}
	}
	for j := range rt.Config.Schedules {
		s := &rt.Config.Schedules[j]
		if !slices.Contains(s.Accounts, a.Name) {
			continue
		}
		spath := fmt.Sprintf("schedules[%d]", j)
		if s.Mailbox != "" {
			needs = append(needs, mailboxNeed{name: s.Mailbox, where: fmt.Sprintf("%s: %s.mailbox", s.KeyPos("mailbox"), spath)})
		}
		for k, p := range s.Prune {
			needs = append(needs, mailboxNeed{name: p.Mailbox, where: fmt.Sprintf("%s: %s.prune[%d].mailbox", p.Pos, spath, k)})
		}
		for k, m := range s.Mailboxes {
			where := fmt.Sprintf("%s: %s.mailboxes[%d]", s.KeyPos("mailboxes"), spath, k)
			if rules.IsSpecialUse(m) || !strings.ContainsAny(m, "*%") {
				needs = append(needs, mailboxNeed{name: m, where: where})
			} else if !slices.ContainsFunc(boxes, func(b imapconn.MailboxInfo) bool { return b.Selectable() && jobs.MatchPattern(m, b.Name, b.Delim) }) {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: account %q: pattern %q matches no mailbox yet", where, a.Name, m))
			}
		}
		if s.Job == config.JobSweep {
			if rs := rt.Config.Ruleset(s.Ruleset); rs != nil {
				needs = append(needs, rulesetNeeds(rt, a.Name, rs)...)
			}
		}
	}
	seen := map[string]bool{}
	for _, n := range needs {
		if seen[n.name+"\x00"+n.where] {
			continue
		}
		seen[n.name+"\x00"+n.where] = true
		name, err := actions.Resolve(cctx, c, n.name)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Errorf("%s: account %q: %v", n.where, a.Name, err))
			continue
		}
		if exists(name) {
			continue
		}
		shown := fmt.Sprintf("%q", name)
		if name != n.name {
			shown = fmt.Sprintf("%q (%s)", name, n.name)
		}
		switch {
		case n.create:
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: account %q: %s does not exist yet; it is created when first used", n.where, a.Name, shown))
		default:
			rep.Problems = append(rep.Problems, fmt.Errorf("%s: account %q: mailbox %s does not exist (hint: create it, or correct the name; the server has %s)",
				n.where, a.Name, shown, listNames(boxes)))
		}
	}
	if err := c.Logout(cctx); err != nil && !errors.Is(err, context.Canceled) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("account %q: logout: %v", a.Name, err))
	}
}

// rulesetNeeds lists the destinations of a rule set: expr rules' moves
// and copies (created when missing), and Sieve's constant fileinto targets
// (created only with :create).
func rulesetNeeds(rt *Runtime, account string, rs *config.Ruleset) []mailboxNeed {
	var needs []mailboxNeed
	for _, st := range rs.Steps {
		for _, act := range st.Actions {
			if act.Kind == "move" || act.Kind == "copy" {
				needs = append(needs, mailboxNeed{name: act.Arg, create: true, where: fmt.Sprintf("%s: rule %q", act.Pos, st.Name)})
			}
			if act.Kind == "delete" {
				needs = append(needs, mailboxNeed{name: rules.Trash, create: true, where: fmt.Sprintf("%s: rule %q", act.Pos, st.Name)})
			}
		}
	}
	if set := rt.Ruleset(account, rs.Name); set != nil {
		for _, t := range set.SieveTargets() {
			needs = append(needs, mailboxNeed{name: t.Mailbox, create: t.Create, where: fmt.Sprintf("%s:%d: fileinto", t.Script, t.Line)})
		}
	}
	return needs
}

// listNames lists mailbox names for a hint, cut short when many.
func listNames(boxes []imapconn.MailboxInfo) string {
	var names []string
	for _, b := range boxes {
		if b.Selectable() {
			names = append(names, fmt.Sprintf("%q", b.Name))
		}
	}
	slices.Sort(names)
	if len(names) > 12 {
		names = append(names[:12], fmt.Sprintf("and %d more", len(names)-12))
	}
	return strings.Join(names, ", ")
}
