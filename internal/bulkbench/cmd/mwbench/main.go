// Command mwbench runs mailwarden's bulk benchmarks of issue 8 against a
// private Dovecot (internal/dovecottest) and prints the figures:
//
//	go run ./internal/bulkbench/cmd/mwbench apply    [-n 10000] [-rounds 5] [-seed 1] [-imapfilter auto|none|PATH] [-sieve] [-batch N] [-floor-header] [-trace=true]
//	go run ./internal/bulkbench/cmd/mwbench watchers [-watchers 100] [-settle 3s]
//
// `make bench-apply` and `make bench-watchers` run them with the defaults.
// Both build mailwarden from this module first (or use -mailwarden PATH).
// See the package docs of internal/bulkbench and internal/watchbench.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mailwarden/mailwarden/internal/bulkbench"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/watchbench"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: mwbench apply|watchers [flags]  (-h for the flags of each)")
		return 2
	}
	if err := dovecottest.Available(); err != nil {
		fmt.Fprintln(stderr, "mwbench:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "apply":
		err = cmdApply(ctx, args[1:], stdout, stderr)
	case "watchers":
		err = cmdWatchers(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "mwbench: unknown benchmark %q (apply or watchers)\n", args[0])
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "mwbench:", err)
		return 1
	}
	return 0
}

func cmdApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 10000, "messages in the corpus")
	seed := fs.Uint64("seed", 1, "corpus seed")
	rounds := fs.Int("rounds", 5, "timed rounds (each runs every tool once on a fresh mailbox)")
	imf := fs.String("imapfilter", "auto", `imapfilter binary: "auto" (from PATH, left out when missing), "none", or a path`)
	sieve := fs.Bool("sieve", false, "also time `mailwarden apply` with the Sieve form of the rules")
	floorHdr := fs.Bool("floor-header", false, "also time the floor fetching BODY.PEEK[HEADER] (whole headers, as mailwarden does)")
	batch := fs.Int("batch", 0, "also time `mailwarden apply --batch N` (0: not; the engine caps batches at 1000)")
	trace := fs.Bool("trace", true, "after the rounds, run each tool once more through a counting IMAP proxy and print its commands")
	mw := fs.String("mailwarden", "", "mailwarden binary (default: build ./cmd/mailwarden)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := bulkbench.Options{N: *n, Seed: *seed, Rounds: *rounds, Sieve: *sieve, FloorHeader: *floorHdr, Batch: *batch, Trace: *trace, Out: stdout}
	switch *imf {
	case "none":
	case "auto":
		o.Imapfilter, _ = exec.LookPath("imapfilter")
	default:
		o.Imapfilter = *imf
	}
	bin, cleanup, err := mailwardenBinary(*mw, stdout)
	if err != nil {
		return err
	}
	defer cleanup()
	o.Mailwarden = bin
	_, err = bulkbench.Run(ctx, o)
	return err
}

func cmdWatchers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("watchers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("watchers", 100, "watched mailboxes (one account and one connection each)")
	settle := fs.Duration("settle", 3*time.Second, "wait after all-idle before sampling RSS")
	samples := fs.Int("samples", 5, "RSS samples (one per second) after settling; the median is reported")
	mw := fs.String("mailwarden", "", "mailwarden binary (default: build ./cmd/mailwarden)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bin, cleanup, err := mailwardenBinary(*mw, stdout)
	if err != nil {
		return err
	}
	defer cleanup()
	_, err = watchbench.Run(ctx, watchbench.Options{Watchers: *n, Mailwarden: bin, Settle: *settle, Samples: *samples, Out: stdout})
	return err
}

// mailwardenBinary returns path, or builds ./cmd/mailwarden of the module
// this command is run from into a temporary directory.
func mailwardenBinary(path string, out io.Writer) (string, func(), error) {
	if path != "" {
		return path, func() {}, nil
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", nil, fmt.Errorf("not inside the mailwarden module (go env GOMOD: %q, %v): run from the repository or pass -mailwarden", gomod, err)
	}
	dir, err := os.MkdirTemp("", "mwbench-bin-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "mailwarden")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/mailwarden")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if b, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go build ./cmd/mailwarden: %v\n%s", err, b)
	}
	rev, _ := exec.Command("git", "-C", cmd.Dir, "describe", "--always", "--dirty").Output()
	fmt.Fprintf(out, "built mailwarden %s in %v\n", strings.TrimSpace(string(rev)), time.Since(start).Round(time.Millisecond))
	return bin, func() { os.RemoveAll(dir) }, nil
}
