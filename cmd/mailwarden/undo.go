package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/undo"
)

// Where undo asks for confirmation (tests replace them).
var (
	undoStdin      io.Reader = os.Stdin
	undoIsTerminal           = func() bool { return stdinIsTerminal(os.Stdin) }
	undoNow                  = time.Now
)

// stdinIsTerminal reports whether f is a terminal someone can answer on: a
// character device other than the null device (`undo </dev/null` must
// not count as a yes-capable terminal).
func stdinIsTerminal(f *os.File) bool {
	if !isTerminal(f) {
		return false
	}
	st, err1 := f.Stat()
	null, err2 := os.Stat(os.DevNull)
	return err1 == nil && (err2 != nil || !os.SameFile(st, null))
}

const undoUsage = `Usage: mailwarden undo -c FILE (--since DURATION | --after TIME)
                      [--account A] [--mailbox M] [--rule NAME] [--dry-run] [--yes]

Reverses what the daemon did, from its journal, newest first: messages it
moved go back to the mailbox they came from, flags it added or removed are
removed or added again. Each message is checked first (its Message-ID at the
UID the journal names); one that is gone or is another message now is
skipped with the reason and left alone. Copies are kept (undo never removes
mail: delete them yourself if unwanted) and expunged mail cannot come back;
both are reported. Reversed entries are marked, so undoing again does not
repeat them. When the daemon runs on the same state_dir, it carries out the
undo (it holds the state file).

Without --yes (and without --dry-run) undo shows what it would do and asks;
when stdin is not a terminal it refuses.`

func cmdUndo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("undo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	since := fs.String("since", "", "undo what was done in this last while: 2h, 30m, 1d")
	after := fs.String("after", "", "undo what was done at or after this time (RFC 3339: 2026-11-26T09:00:00Z)")
	var o undo.Options
	fs.StringVar(&o.Account, "account", "", "only this account")
	fs.StringVar(&o.Mailbox, "mailbox", "", "only changes made in this mailbox (where the message was)")
	fs.StringVar(&o.Rule, "rule", "", "only changes made by this rule (a Sieve script's name covers its lines)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "show what would be reversed; change nothing")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	var lf logFlags
	lf.register(fs)
	// The report says what was done; info logs would repeat it.
	lf.level = "warn"
	fs.Lookup("log-level").DefValue = "warn"
	fs.Usage = func() {
		fmt.Fprintln(stderr, undoUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mailwarden undo: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q (see mailwarden undo -h)", fs.Arg(0))
	}
	switch {
	case *since == "" && *after == "":
		return usageErr("say how far back: --since DURATION (e.g. --since 2h) or --after TIME; there is no undo of everything")
	case *since != "" && *after != "":
		return usageErr("use either --since or --after, not both")
	case *since != "":
		d, err := config.ParseDuration(*since)
		if err != nil || d <= 0 {
			if err == nil {
				err = errors.New("must be more than 0")
			}
			return usageErr("--since %q: %v (want e.g. 30m, 2h, 1d)", *since, err)
		}
		o.Since = undoNow().Add(-d)
	default:
		t, err := time.Parse(time.RFC3339, *after)
		if err != nil {
			return usageErr("--after %q: want an RFC 3339 time such as 2026-11-26T09:00:00Z", *after)
		}
		o.Since = t
	}
	ask := !o.DryRun && !*yes
	if ask && !undoIsTerminal() {
		return usageErr("stdin is not a terminal, so undo cannot ask for confirmation: pass --yes to reverse without asking, or --dry-run to preview")
	}

	cfg, errs := parseConfig(*path)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return usageErr("%v", err)
	}
	o.Logger = log
	o.Dial = engine.NewDialer(cfg, log)
	o.Accounts = engine.UndoAccounts(cfg)
	ctx, stop := signalContext(log)
	defer stop()
	// The running daemon holds the state file: it undoes. Otherwise the
	// command does, with the state file.
	var undoRun func(o *undo.Options) (*undo.Report, error)
	if c := daemonClient(cfg.StateDir); c != nil {
		undoRun = func(o *undo.Options) (*undo.Report, error) {
			req := observe.UndoRequest{Since: o.Since, Account: o.Account, Mailbox: o.Mailbox, Rule: o.Rule, DryRun: o.DryRun}
			var logLine func(string)
			if lf.level != "warn" {
				logLine = linesTo(stderr)
			}
			return c.Undo(ctx, req, observe.Handlers{Log: logLine})
		}
	} else {
		store, err := state.Open(cfg.StateDir, nil)
		if err != nil {
			fmt.Fprintln(stderr, "mailwarden undo:", err)
			return exitFail
		}
		defer store.Close()
		undoRun = func(o *undo.Options) (*undo.Report, error) { return undo.Run(ctx, store, o) }
	}

	if ask {
		preview := o
		preview.DryRun = true
		rep, err := undoRun(&preview)
		if rep != nil {
			printUndo(stdout, rep)
		}
		if err != nil {
			fmt.Fprintln(stderr, "mailwarden undo:", err)
			return exitFail
		}
		n := rep.Count(undo.Done)
		if n == 0 {
			fmt.Fprintln(stdout, "nothing to undo")
			return exitOK
		}
		fmt.Fprintf(stdout, "Reverse these %d change(s)? [y/N] ", n)
		line, _ := bufio.NewReader(undoStdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(stdout, "aborted: nothing changed")
			return exitFail
		}
	}
	rep, err := undoRun(&o)
	if rep != nil {
		printUndo(stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden undo:", err)
		return exitFail
	}
	if rep.Count(undo.Failed) > 0 {
		return exitFail
	}
	return exitOK
}

// printUndo prints one line per journal entry (newest first) with what
// became of it, then the counts.
func printUndo(w io.Writer, rep *undo.Report) {
	label := map[undo.Outcome]string{
		undo.Done: "undone", undo.Skipped: "skipped", undo.Failed: "FAILED",
		undo.Kept: "kept", undo.Impossible: "cannot",
	}
	if rep.DryRun {
		label[undo.Done] = "would undo"
	}
	for _, r := range rep.Results {
		e := r.Entry
		id := ""
		if e.MessageID != "" {
			id = " <" + e.MessageID + ">"
		}
		rule := ""
		if e.Rule != "" {
			rule = " by " + e.Rule
		}
		fmt.Fprintf(w, "%-10s %s %s %s UID %d%s: %s%s\n           %s\n",
			label[r.Outcome], e.Time.Local().Format(time.DateTime), e.Account, e.Mailbox, e.UID, id, opText(&e), rule, r.Detail)
	}
	if len(rep.Results) == 0 {
		fmt.Fprintln(w, "no journal entries match")
		return
	}
	done := fmt.Sprintf("%d undone", rep.Count(undo.Done))
	if rep.DryRun {
		done = fmt.Sprintf("dry run, nothing changed: %d would be undone", rep.Count(undo.Done))
	}
	fmt.Fprintf(w, "%s, %d skipped, %d failed, %d copies kept, %d cannot be undone\n", done,
		rep.Count(undo.Skipped), rep.Count(undo.Failed), rep.Count(undo.Kept), rep.Count(undo.Impossible))
}

func opText(e *actions.Entry) string {
	switch e.Op {
	case actions.OpFlag, actions.OpUnflag:
		return string(e.Op) + " " + e.Target
	case actions.OpCopy, actions.OpMove:
		return fmt.Sprintf("%s to %q", e.Op, e.Target)
	case actions.OpDelete:
		return fmt.Sprintf(`\Deleted after a copy to %q`, e.Target)
	}
	return string(e.Op)
}
