// Command mailwarden is a rule-based mail automation daemon for any IMAP
// server: IDLE watchers feed new mail into Sieve and expr rules, which
// flag, label and move it.
//
// Usage:
//
//	mailwarden run   -c FILE [--dry-run]            the daemon
//	mailwarden check -c FILE                        compile config and rules, print every error
//	mailwarden test  -c FILE --ruleset NAME [--json] MSG.eml...
//	mailwarden test  --sieve SCRIPT [--json] MSG.eml...
//	mailwarden apply -c FILE --account A --mailbox M [--ruleset R] [--dry-run]
//	mailwarden jobs  list|run -c FILE [NAME] [--dry-run]
//	mailwarden undo  -c FILE --since 2h [--rule NAME] [--dry-run] [--yes]
//	mailwarden restore -c FILE --from DIR [--account A] [--mailbox M] [--to M2] [--since DATE] [--dry-run]
//	mailwarden status -c FILE [--json]              ask the running daemon
//	mailwarden auth  login -c FILE ACCOUNT          OAuth2 sign-in (device code or browser)
//	mailwarden sieve list|get|put|activate|... -c FILE   scripts, through the daemon's ManageSieve
//
// jobs run, apply and undo are carried out by the running daemon when one
// runs on the config's state_dir (it holds the state file), else by the
// command itself.
//
//	mailwarden demo                                 embedded server + example rules
//
// Exit codes: 0 success, 1 failure (including config or rule errors),
// 2 usage error.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

func main() { os.Exit(profiled(func() int { return run(os.Args[1:], os.Stdout, os.Stderr) })) }

// profiled runs fn, writing a CPU profile to $MAILWARDEN_CPUPROFILE when
// it is set (go tool pprof reads it): for finding where a slow run spends
// its time, as the benchmarks of the README's Performance section did.
func profiled(fn func() int) int {
	path := os.Getenv("MAILWARDEN_CPUPROFILE")
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailwarden: MAILWARDEN_CPUPROFILE:", err)
		return fn()
	}
	defer f.Close()
	defer pprof.StopCPUProfile()
	return fn()
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

type command struct {
	name  string
	short string
	run   func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "run the daemon: watch mailboxes and apply rules", cmdRun},
		{"check", "load the config, compile every rule, print all errors", cmdCheck},
		{"test", "print the plan each message file would get", cmdTest},
		{"apply", "run a rule set over the mail already in a mailbox", cmdApply},
		{"jobs", "list the scheduled jobs, or run one now", cmdJobs},
		{"undo", "reverse what the daemon did, from its journal", cmdUndo},
		{"restore", "append a backup (a Maildir tree) back to an account", cmdRestore},
		{"status", "ask the running daemon what it is doing", cmdStatus},
		{"auth", "sign an account in with OAuth2 (auth login ACCOUNT)", cmdAuth},
		{"sieve", "edit an account's Sieve scripts through the daemon's ManageSieve server", cmdSieve},
		{"demo", "run against an embedded IMAP server with the example rules", cmdDemo},
		{"version", "print the version", cmdVersion},
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "mailwarden: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mailwarden: rule-based mail automation for any IMAP server")
	fmt.Fprintln(w, "\nUsage: mailwarden COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
	}
	fmt.Fprintln(w, "\nRun 'mailwarden COMMAND -h' for a command's flags.")
}
