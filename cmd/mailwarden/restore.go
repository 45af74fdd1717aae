package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/restore"
)

const restoreUsage = `Usage: mailwarden restore -c FILE --from DIR [--account A] [--mailbox M] [--to M2]
                         [--since DATE] [--dry-run]

Appends the messages of a Maildir tree back to an account: the directory a
backup job writes (its dir:, or dir/<account>), or any Maildir. Each folder
goes back to the mailbox it stands for (created when missing), each message
with the flags in its file name and its file's date as the internal date.
A message whose Message-ID the mailbox already holds is skipped, so a
restore can be run again after an interruption: it appends only what is
missing. Nothing is ever removed.`

func cmdRestore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	var o restore.Options
	fs.StringVar(&o.From, "from", "", "the Maildir tree to restore (required)")
	fs.StringVar(&o.Account, "account", "", "account to append to (default: the config's only account)")
	fs.StringVar(&o.Mailbox, "mailbox", "", "restore only the folder of this mailbox")
	fs.StringVar(&o.To, "to", "", "append into this mailbox instead (one folder only: use with --mailbox)")
	since := fs.String("since", "", "only messages received at or after DATE: 2026-01-31, an RFC 3339 time, or a duration back from now (30d)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "list what would be appended; append nothing")
	var lf logFlags
	lf.register(fs)
	lf.level = "warn" // the summary says what was done
	fs.Lookup("log-level").DefValue = "warn"
	fs.Usage = func() {
		fmt.Fprintln(stderr, restoreUsage)
		fs.PrintDefaults()
	}
	if _, err := parseInterspersed(fs, args); err != nil {
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mailwarden restore: "+format+"\n", a...)
		return exitUsage
	}
	if o.From == "" {
		return usageErr("--from DIR is required (see mailwarden restore -h)")
	}
	if *since != "" {
		t, err := parseSince(*since, now())
		if err != nil {
			return usageErr("--since %q: %v", *since, err)
		}
		o.Since = t
	}
	cfg, errs := parseConfig(*path)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	if o.Account == "" {
		if len(cfg.Accounts) != 1 {
			return usageErr("--account is required: the config has %d accounts (%s)", len(cfg.Accounts), strings.Join(accountNames(cfg), ", "))
		}
		o.Account = cfg.Accounts[0].Name
	} else if cfg.Account(o.Account) == nil {
		return usageErr("no account %q (accounts: %s)", o.Account, strings.Join(accountNames(cfg), ", "))
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return usageErr("%v", err)
	}
	o.Logger = log
	o.Dial = engine.NewDialer(cfg, log)
	bar := newProgressBar(stderr)
	if !o.DryRun {
		o.Progress = func(_ string, done, total int) { bar.set(done, total) }
	} else {
		o.Planned = func(it restore.Item) {
			id := it.MessageID
			if id == "" {
				id = "(no Message-ID)"
			}
			fmt.Fprintf(stdout, "would append to %q: <%s> %s [%s] %s\n", it.Mailbox, id,
				it.InternalDate.Format(time.RFC3339), strings.Join(it.Flags, " "), bytesText(it.Size))
		}
	}
	ctx, stop := signalContext(log)
	defer stop()
	rep, err := restore.Run(ctx, &o)
	bar.finish()
	printRestore(stdout, o.Account, rep)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden restore:", err)
		return exitFail
	}
	return exitOK
}

// printRestore prints the summary line.
func printRestore(w io.Writer, account string, rep *restore.Report) {
	verb, dry := "appended", ""
	if rep.DryRun {
		verb, dry = "to append", " (dry run: nothing appended)"
	}
	rate := float64(rep.Appended) / max(rep.Duration.Seconds(), 0.001)
	fmt.Fprintf(w, "restore %s into %s: %d folder(s), %d message(s), %d %s, %d already there, %s, %s (%.0f msg/s)%s\n",
		rep.Root, account, rep.Folders, rep.Found, rep.Appended, verb, rep.Present, bytesText(rep.Bytes),
		rep.Duration.Round(time.Millisecond), rate, dry)
	for _, m := range rep.Created {
		fmt.Fprintf(w, "  created mailbox %q\n", m)
	}
}

// parseSince reads --since: a date (local midnight), an RFC 3339 time, or
// a duration back from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("want a date (2026-01-31), an RFC 3339 time or a duration such as 30d")
	}
	return now.Add(-d), nil
}
