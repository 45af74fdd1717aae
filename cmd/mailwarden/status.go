package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/watch"
)

func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "", "config file")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: mailwarden status -c FILE [--json]\n\nAsks the running daemon (over its control socket in state_dir) what each\nwatcher is doing, what each scheduled job last did, and what it counted.\nExits 1 when no daemon runs, 3 when it runs but is not ready.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg, errs := parseConfig(*path)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	c, err := observe.Dial(cfg.StateDir)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden status:", err)
		return exitFail
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden status:", err)
		return exitFail
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
	} else {
		printStatus(stdout, st)
	}
	if !st.Ready {
		return exitNotReady
	}
	return exitOK
}

// exitNotReady: the daemon runs, but not every watcher waits for mail.
const exitNotReady = 3

// printStatus prints a daemon's status for people.
func printStatus(w io.Writer, st *observe.Status) {
	dry := ""
	if st.DryRun {
		dry = ", dry run"
	}
	ready := "ready"
	if !st.Ready {
		ready = "NOT READY"
	}
	fmt.Fprintf(w, "mailwarden %s, up %s%s: %s\n", st.Version, ago(st.Now, st.Started), dry, ready)
	for _, why := range st.NotReady {
		fmt.Fprintf(w, "  %s\n", why)
	}
	if cl := st.Cluster; cl != nil {
		printCluster(w, st.Now, cl)
	}
	if len(st.Watchers) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tMAILBOX\tSTATE\tFOR\tLAST UID\tRECONNECTS\tLAST ERROR")
		for _, ws := range st.Watchers {
			last := "-"
			if ws.LastError != "" {
				last = fmt.Sprintf("%s ago: %s", ago(st.Now, ws.LastErrorTime), oneLine(ws.LastError, 100))
			}
			state := string(ws.State)
			if ws.State == watch.StatePollingOverBudget {
				state = "polling (over the connection budget)"
			}
			if !ws.NextAttempt.IsZero() {
				state += fmt.Sprintf(" (next in %s)", ws.NextAttempt.Sub(st.Now).Round(time.Second))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", ws.Account, ws.Mailbox, state, ago(st.Now, ws.Since), ws.LastUID, ws.Reconnects, last)
		}
		tw.Flush()
	}
	if len(st.Jobs) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "JOB\tKIND\tLAST RUN\tRESULT\tNEXT RUN")
		for _, js := range st.Jobs {
			lastRun, result := "never", "-"
			if !js.LastRun.IsZero() {
				lastRun = js.LastRun.Local().Format("2006-01-02 15:04")
				result = fmt.Sprintf("ok: %d acted", js.Acted)
				if js.Error != "" {
					result = "FAILED: " + oneLine(js.Error, 80)
				}
			}
			next := "-"
			if !js.Next.IsZero() {
				next = js.Next.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", js.Name, js.Kind, lastRun, result, next)
		}
		tw.Flush()
	}
	c := st.Counts
	fmt.Fprintf(w, "\nsince start: %d evaluated, %d matched, %d skipped (placed by the daemon), %d rule errors, %d changes made, %d failed\n",
		c.Evaluated, c.Matched, c.Skipped, c.Errors, c.Actions, c.Failed)
}

// printCluster prints a replica's view of its cluster: its lease, the
// live members and who owns each account.
func printCluster(w io.Writer, now time.Time, cl *observe.ClusterStatus) {
	fmt.Fprintln(w)
	if cl.Healthy {
		fmt.Fprintf(w, "cluster: replica %s, lease %s (ttl %s, %s left), session up %s, owns %d of %d accounts\n",
			cl.Name, cl.Lease, cl.TTL, cl.Remaining, ago(now, cl.Since), len(cl.Owned), len(cl.Owners))
	} else {
		fmt.Fprintf(w, "cluster: replica %s has NO etcd session: it runs no account\n", cl.Name)
	}
	if cl.LastError != "" {
		fmt.Fprintf(w, "  last error %s ago: %s\n", ago(now, cl.LastErrorTime), oneLine(cl.LastError, 100))
	}
	var names []string
	for _, m := range cl.Members {
		names = append(names, fmt.Sprintf("%s (%s, up %s)", m.Name, m.Version, ago(now, m.Since)))
	}
	fmt.Fprintf(w, "  members: %s\n", strings.Join(names, ", "))
	accounts := make([]string, 0, len(cl.Owners))
	for a := range cl.Owners {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ACCOUNT\tOWNER")
	for _, a := range accounts {
		o := cl.Owners[a]
		if o == "" {
			o = "- (none: being taken over)"
		} else if o == cl.Name {
			o += " (here)"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", a, o)
	}
	tw.Flush()
}

// ago is how long before now t was, rounded for reading.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// oneLine cuts s to one line of at most n characters.
func oneLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n-3] + "..."
	}
	return s
}

// daemonClient returns a client of the daemon running on stateDir, or nil
// when none runs there (the command then does the work itself).
func daemonClient(stateDir string) *observe.Client {
	c, err := observe.Dial(stateDir)
	if errors.Is(err, observe.ErrNoDaemon) || err != nil {
		return nil
	}
	return c
}
