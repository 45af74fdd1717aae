package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/rules/sieve"
)

// testResult is one line of `mailwarden test --json`.
type testResult struct {
	File    string          `json:"file"`
	Actions []sieve.Action  `json:"actions,omitempty"` // --sieve only: the Sieve result in execution order
	Plan    []planOp        `json:"plan"`              // the IMAP-level plan
	Summary string          `json:"summary"`
	Trace   []rules.Step    `json:"trace,omitempty"` // which rule decided what
	Error   string          `json:"error,omitempty"`
	Message *messageSummary `json:"message,omitempty"`
}

type messageSummary struct {
	From    string `json:"from,omitempty"`
	Subject string `json:"subject,omitempty"`
}

// planOp is one IMAP-level operation of a plan, as the executor would
// carry it out in the message's mailbox.
type planOp struct {
	Op      string   `json:"op"` // flag | unflag | copy | move
	Flag    string   `json:"flag,omitempty"`
	Mailbox string   `json:"mailbox,omitempty"`
	Flags   []string `json:"flags,omitempty"`
	Create  bool     `json:"create,omitempty"`
	// To is the recipient of a redirect or vacation op (sent by SMTP).
	To string `json:"to,omitempty"`
}

// planOps lists what applying p to a message in mailbox does: in-place
// flag changes, then copies, then the move that removes the original (the
// last delivery, unless one delivery is the mailbox itself: a keep).
func planOps(p rules.Plan, mailbox string) []planOp {
	ops := []planOp{}
	for _, f := range p.AddFlags {
		ops = append(ops, planOp{Op: "flag", Flag: f})
	}
	for _, f := range p.RemoveFlags {
		ops = append(ops, planOp{Op: "unflag", Flag: f})
	}
	keep := !p.Remove
	var ds []rules.Delivery
	for _, d := range p.Deliveries {
		if d.Mailbox == mailbox {
			keep = true
			continue
		}
		ds = append(ds, d)
	}
	for i, d := range ds {
		op := "copy"
		if !keep && i == len(ds)-1 {
			op = "move"
		}
		ops = append(ops, planOp{Op: op, Mailbox: d.Mailbox, Flags: d.Flags, Create: d.Create})
	}
	for _, s := range p.Sends {
		ops = append(ops, planOp{Op: s.Kind, To: s.To})
	}
	return ops
}

func cmdTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file (with --ruleset)")
	rulesetName := fs.String("ruleset", "", "rule set to run, from the config")
	sievePath := fs.String("sieve", "", "run this Sieve script instead of a config's rule set (no config needed)")
	mailbox := fs.String("mailbox", "INBOX", "mailbox the messages are taken to be in")
	flagList := fs.String("flags", "", `flags the messages are taken to have, space separated (e.g. '\Seen \Flagged')`)
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	personalDir := fs.String("sieve-personal-dir", "", "directory of Sieve include :personal scripts (default: the config's sieve.personal_dir, else the including script's directory)")
	globalDir := fs.String("sieve-global-dir", "", "directory of Sieve include :global scripts (default: the config's sieve.global_dir)")
	unsupported := fs.String("unsupported", "error", "with --sieve: error refuses a script that uses what mailwarden cannot carry out; skip skips it (as a rule set step's unsupported: skip)")
	addresses := fs.String("addresses", "", "with --sieve: your addresses, comma separated: vacation answers only mail sent to one of them (RFC 5230 §4.5)")
	envHeaders := fs.Bool("envelope-from-headers", false, "with --sieve: the envelope test reads Return-Path and Delivered-To (as sieve.envelope_from_headers)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mailwarden test -c FILE --ruleset NAME [--json] MSG.eml...
       mailwarden test --sieve SCRIPT [--mailbox INBOX] [--flags '\Seen ...'] [--sieve-global-dir DIR] [--json] MSG.eml...

Prints the plan each message would get and which rule decided it. Nothing
talks to a server and nothing is sent: Sieve's redirect and vacation show
what they would send.`)
		fs.PrintDefaults()
	}
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "mailwarden test: no message files given")
		fs.Usage()
		return exitUsage
	}

	var (
		ev     rules.Evaluator
		script *sieve.Script
		// The include directories given here win over the config's.
		dirs = &sieve.Options{IncludePersonal: *personalDir, IncludeGlobal: *globalDir}
	)
	switch {
	case *sievePath != "" && *rulesetName != "":
		fmt.Fprintln(stderr, "mailwarden test: use either --sieve or --ruleset, not both")
		return exitUsage
	case *sievePath != "":
		if *unsupported != "error" && *unsupported != "skip" {
			fmt.Fprintf(stderr, "mailwarden test: --unsupported is error or skip, not %q\n", *unsupported)
			return exitUsage
		}
		// Nothing is sent here: redirect and vacation show what they
		// would send.
		so := *dirs
		so.Submission, so.SkipUnsupported, so.EnvelopeFromHeaders = true, *unsupported == "skip", *envHeaders
		for _, a := range strings.Split(*addresses, ",") {
			if a = strings.TrimSpace(a); a != "" {
				so.UserAddresses = append(so.UserAddresses, a)
			}
		}
		script, err = sieve.CompileFile(*sievePath, &so)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFail
		}
	case *rulesetName != "":
		l, errs := loadAll(*path, &engine.CompileOptions{Sieve: dirs})
		if len(errs) > 0 {
			printErrors(stderr, errs)
			return exitFail
		}
		set, ok := l.rt.Rulesets[*rulesetName]
		if !ok {
			var names []string
			for n := range l.rt.Rulesets {
				names = append(names, n)
			}
			sort.Strings(names)
			fmt.Fprintf(stderr, "mailwarden test: no rule set %q in %s (have: %s)\n", *rulesetName, *path, strings.Join(names, ", "))
			return exitFail
		}
		ev = set
	default:
		fmt.Fprintln(stderr, "mailwarden test: give --ruleset NAME (with -c FILE) or --sieve SCRIPT")
		return exitUsage
	}

	ctx := context.Background()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	code := exitOK
	for _, f := range files {
		res := testResult{File: f}
		m, err := message.ParseFile(f, message.Meta{Mailbox: *mailbox, Flags: strings.Fields(*flagList)})
		if err != nil {
			res.Error = err.Error()
			code = exitFail
		} else {
			res.Message = &messageSummary{Subject: m.Subject()}
			if from := m.Addresses("From"); len(from) > 0 {
				res.Message.From = from[0].Address
			}
			var plan rules.Plan
			if script != nil {
				sr, err := script.Execute(ctx, m)
				if sr != nil {
					res.Actions = sr.Actions
					plan = sr.Plan(m, script.Name())
				}
				if err != nil {
					res.Error = err.Error()
					plan = rules.Plan{} // runtime error: implicit keep (RFC 5228 §2.10.6)
				}
			} else {
				plan, err = engine.Evaluate(ctx, ev, m)
				if err != nil {
					res.Error = err.Error()
				}
			}
			res.Plan = planOps(plan, *mailbox)
			res.Summary = plan.Summary()
			res.Trace = plan.Trace
		}
		if *asJSON {
			enc.Encode(res)
			continue
		}
		printResult(stdout, &res)
	}
	return code
}

func printResult(w io.Writer, r *testResult) {
	if r.Message == nil {
		fmt.Fprintf(w, "%s: error: %s\n", r.File, r.Error)
		return
	}
	fmt.Fprintf(w, "%s: %s\n", r.File, r.Summary)
	fmt.Fprintf(w, "    from %s, subject %q\n", orDash(r.Message.From), r.Message.Subject)
	if len(r.Actions) > 0 {
		var as []string
		for _, a := range r.Actions {
			s := a.Type
			if a.Mailbox != "" {
				s += fmt.Sprintf(" %q", a.Mailbox)
			}
			if a.Address != "" {
				s += fmt.Sprintf(" %q", a.Address)
			}
			if a.Copy {
				s += " :copy"
			}
			if a.Skipped != "" {
				s += " (skipped: " + a.Skipped + ")"
			}
			if a.Declined != "" {
				s += " (not sent: " + a.Declined + ")"
			}
			if a.Implicit {
				s += " (implicit)"
			}
			if len(a.Flags) > 0 {
				s += " flags=" + strings.Join(a.Flags, " ")
			}
			as = append(as, s)
		}
		fmt.Fprintf(w, "    sieve: %s\n", strings.Join(as, "; "))
	}
	for _, s := range r.Trace {
		fmt.Fprintf(w, "    %s: %s\n", s.Rule, s.Action)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "    error (message kept): %s\n", r.Error)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
		if len(args) == 0 {
			return pos, nil
		}
	}
}
