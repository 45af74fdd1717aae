package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/mailwarden/mailwarden/engine"
)

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	connect := fs.Bool("connect", false, "also log in to every account and check state_dir and every mailbox the config names")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: mailwarden check -c FILE [--connect]\n\nLoads the config and compiles every rule; prints every error (file:line:col, key path, hint) and exits 1 on any.\n"+
			"With --connect it also logs in to every account (LIST only, nothing changes) and checks that state_dir is\n"+
			"writable, that every watched mailbox exists, and that every mailbox rules and jobs name exists or will be created.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	l, errs := loadAll(*path, nil)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	watches, steps := 0, 0
	for _, a := range l.cfg.Accounts {
		watches += len(a.Watch)
	}
	names := make([]string, 0, len(l.rt.Rulesets))
	for name, s := range l.rt.Rulesets {
		steps += len(s.Steps())
		names = append(names, name)
	}
	// What scripts with `unsupported: skip` will skip: information, not
	// errors (the user chose it), one line per command.
	sort.Strings(names)
	seen := map[string]bool{}
	for _, name := range names {
		for _, sk := range l.rt.Rulesets[name].SieveSkips() {
			if line := sk.String(); !seen[line] {
				seen[line] = true
				fmt.Fprintln(stdout, line)
			}
		}
	}
	// A stored ManageSieve script that no longer compiles: that account
	// runs without it (its mail stays where it is), the rest goes on.
	for _, w := range l.rt.Warnings {
		fmt.Fprintln(stdout, "warning:", w)
	}
	if *connect {
		rep := engine.CheckConnect(context.Background(), l.rt, engine.NewDialer(l.cfg, nil))
		for _, n := range rep.Notes {
			fmt.Fprintln(stdout, "note:", n)
		}
		if len(rep.Problems) > 0 {
			printErrors(stderr, rep.Problems)
			return exitFail
		}
	}
	fmt.Fprintf(stdout, "%s: ok: %d account(s), %d watched mailbox(es), %d rule set(s) with %d step(s)\n",
		*path, len(l.cfg.Accounts), watches, len(l.rt.Rulesets), steps)
	if *connect {
		fmt.Fprintf(stdout, "%s: connected: every account logs in, state_dir is writable, every mailbox is there or will be created\n", *path)
	}
	return exitOK
}
