package main

import (
	"flag"
	"fmt"
	"io"
)

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: mailwarden check -c FILE\n\nLoads the config and compiles every rule; prints every error (file:line:col, key path, hint) and exits 1 on any.")
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
	for _, s := range l.rt.Rulesets {
		steps += len(s.Steps())
	}
	fmt.Fprintf(stdout, "%s: ok: %d account(s), %d watched mailbox(es), %d rule set(s) with %d step(s)\n",
		*path, len(l.cfg.Accounts), watches, len(l.rt.Rulesets), steps)
	return exitOK
}
