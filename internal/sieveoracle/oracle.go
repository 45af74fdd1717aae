// Package sieveoracle runs Pigeonhole's sieve-test (Dovecot's reference
// Sieve implementation) on a script and a message and renders its result
// in the line format mailwarden's Sieve tests compare against:
//
//	keep [flags="F …"]                    explicit keep, implicit keep or fileinto "INBOX"
//	fileinto "MAILBOX" [create] [flags="F …"]
//	discard
//	redirect "ADDRESS"
//	reject "REASON" / ereject "REASON"
//	vacation seconds=N                    the period; whether a reply goes out is decided at execution
//	error                                 runtime failure (followed by "keep")
//
// Flags: system flags canonical (\Seen), keywords verbatim, sorted
// (byte order), space separated. Strings are double-quoted with '"'
// escaped. It is a test helper: nothing in the product imports it.
package sieveoracle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Config describes the oracle's environment.
type Config struct {
	// Workers is the number of sieve-test processes run at once.
	// Default: 2 × GOMAXPROCS.
	Workers int
	// PersonalDir and GlobalDir hold scripts for include :personal and
	// include :global; they are copied into each worker.
	PersonalDir, GlobalDir string
	// Plugin holds extra lines for the plugin { } block (e.g. spamtest
	// settings).
	Plugin []string
	// Mailboxes are created in the oracle's mail store, so that
	// mailboxexists finds them (INBOX always exists).
	Mailboxes []string
}

// Oracle runs sieve-test.
type Oracle struct {
	bin     string
	base    string
	workers chan *worker
	uid     int
	gid     int
}

type worker struct {
	dir  string
	conf string
	n    int
}

// Result is the oracle's verdict.
type Result struct {
	Lines        []string // normalised actions
	CompileError string   // non-empty when the script did not compile
	Failed       bool     // runtime failure ("error" and "keep" end Lines)
	Stdout       string
	Stderr       string
}

// ErrNotInstalled is returned by New when sieve-test is not on PATH.
var ErrNotInstalled = errors.New("sieve-test (Pigeonhole, Debian package dovecot-sieve) is not installed")

// New prepares an oracle. Close removes its files. The environment
// variable SIEVE_TEST names the sieve-test binary; SIEVE_TEST=off
// disables the oracle (to exercise the golden-file path).
func New(cfg Config) (*Oracle, error) {
	name := os.Getenv("SIEVE_TEST")
	if name == "off" {
		return nil, ErrNotInstalled
	}
	if name == "" {
		name = "sieve-test"
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		return nil, ErrNotInstalled
	}
	base, err := os.MkdirTemp("", "sieveoracle-")
	if err != nil {
		return nil, err
	}
	o := &Oracle{bin: bin, base: base}
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		// sieve-test refuses to run mail code as root.
		uid, gid = 65534, 65534
		if u, err := user.Lookup("dovetest"); err == nil {
			uid, _ = strconv.Atoi(u.Uid)
			gid, _ = strconv.Atoi(u.Gid)
		}
	}
	n := cfg.Workers
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	o.workers = make(chan *worker, n)
	for i := 0; i < n; i++ {
		w := &worker{dir: filepath.Join(base, fmt.Sprintf("w%d", i))}
		if err := o.setup(w, cfg, uid, gid); err != nil {
			o.Close()
			return nil, err
		}
		o.workers <- w
	}
	if uid >= 0 {
		// Every directory on the way must be traversable by that uid.
		_ = os.Chmod(base, 0o755)
		_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err == nil {
				_ = os.Lchown(p, uid, gid)
			}
			return nil
		})
	}
	o.uid, o.gid = uid, gid
	return o, nil
}

func (o *Oracle) setup(w *worker, cfg Config, uid, gid int) error {
	home := filepath.Join(w.dir, "home")
	for _, d := range []string{home, filepath.Join(w.dir, "run"), filepath.Join(w.dir, "personal"), filepath.Join(w.dir, "global")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, mb := range cfg.Mailboxes {
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(home, "Maildir", mb, sub), 0o755); err != nil {
				return err
			}
		}
	}
	for _, pair := range [][2]string{{cfg.PersonalDir, "personal"}, {cfg.GlobalDir, "global"}} {
		if pair[0] == "" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(pair[0], "*.sieve"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(w.dir, pair[1], filepath.Base(f)), b, 0o644); err != nil {
				return err
			}
		}
	}
	var conf strings.Builder
	if uid >= 0 {
		fmt.Fprintf(&conf, "mail_uid = %d\nmail_gid = %d\nfirst_valid_uid = 1\nfirst_valid_gid = 1\n", uid, gid)
	}
	fmt.Fprintf(&conf, "mail_home = %s\nmail_location = maildir:%s/Maildir:LAYOUT=fs\n", home, home)
	conf.WriteString("namespace inbox {\n  inbox = yes\n  separator = /\n}\n")
	conf.WriteString("plugin {\n")
	fmt.Fprintf(&conf, "  sieve = file:%s/personal;active=%s/active.sieve\n", w.dir, w.dir)
	fmt.Fprintf(&conf, "  sieve_global = %s/global\n", w.dir)
	for _, l := range cfg.Plugin {
		conf.WriteString("  " + l + "\n")
	}
	conf.WriteString("}\n")
	w.conf = filepath.Join(w.dir, "sieve-test.conf")
	return os.WriteFile(w.conf, []byte(conf.String()), 0o644)
}

// Close removes the oracle's files.
func (o *Oracle) Close() { _ = os.RemoveAll(o.base) }

// Run runs script on msg. args are extra sieve-test options placed
// before the script (e.g. "-m", "Other").
func (o *Oracle) Run(ctx context.Context, script, msg []byte, args ...string) (*Result, error) {
	var w *worker
	select {
	case w = <-o.workers:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { o.workers <- w }()
	w.n++
	run := filepath.Join(w.dir, "run")
	sp := filepath.Join(run, "script.sieve")
	mp := filepath.Join(run, "message.eml")
	_ = os.Remove(filepath.Join(run, "script.svbin"))
	if err := os.WriteFile(sp, script, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(mp, msg, 0o644); err != nil {
		return nil, err
	}
	if o.uid >= 0 {
		_ = os.Chown(sp, o.uid, o.gid)
		_ = os.Chown(mp, o.uid, o.gid)
	}
	cmdArgs := append([]string{"-C", "-c", w.conf}, args...)
	cmdArgs = append(cmdArgs, sp, mp)
	cmd := exec.CommandContext(ctx, o.bin, cmdArgs...)
	cmd.Dir = run
	cmd.Env = []string{"TZ=UTC", "PATH=/usr/bin:/bin", "HOME=" + filepath.Join(w.dir, "home")}
	if o.uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.gid)}}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := &Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil && !strings.Contains(res.Stderr, "final result:") {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return nil, err
		}
		res.CompileError = strings.ReplaceAll(res.Stderr, sp, "script.sieve")
		if res.CompileError == "" {
			res.CompileError = err.Error()
		}
		return res, nil
	}
	res.Failed = strings.Contains(res.Stderr, "final result: failed")
	res.Lines = Parse(res.Stdout, res.Failed, "INBOX")
	return res, nil
}

// Parse turns sieve-test's "Performed actions" / "Implicit keep" report
// into normalised lines. defaultMailbox is printed as keep.
func Parse(out string, failed bool, defaultMailbox string) []string {
	type act struct {
		kind   string // store, line
		folder string
		flags  []string
		create bool
		line   string
		impl   bool
	}
	var acts []*act
	var cur *act
	section := ""
	inMsg := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, "\r")
		switch {
		case inMsg:
			if strings.HasPrefix(l, "END MESSAGE") {
				inMsg = false
			}
			continue
		case strings.HasPrefix(l, "START MESSAGE"):
			inMsg = true
			continue
		case strings.HasPrefix(l, "Performed actions:"):
			section, cur = "actions", nil
			continue
		case strings.HasPrefix(l, "Implicit keep:"):
			section, cur = "implicit", nil
			continue
		}
		if section == "" {
			continue
		}
		if s, ok := strings.CutPrefix(l, " * "); ok {
			if f, ok := strings.CutPrefix(s, "store message in folder: "); ok {
				cur = &act{kind: "store", folder: f, impl: section == "implicit"}
			} else if strings.HasPrefix(s, "track ") {
				// duplicate (RFC 7352) bookkeeping, not an action on the
				// message.
				cur = nil
				continue
			} else if s == "discard" {
				cur = &act{kind: "line", line: "discard"}
			} else if to, ok := strings.CutPrefix(s, "redirect message to: "); ok {
				cur = &act{kind: "line", line: "redirect " + quote(strings.Trim(to, "<>"))}
			} else if r, ok := strings.CutPrefix(s, "reject message with reason: "); ok {
				cur = &act{kind: "line", line: "reject " + quote(r)}
			} else if r, ok := strings.CutPrefix(s, "ereject message with reason: "); ok {
				cur = &act{kind: "line", line: "ereject " + quote(r)}
			} else if s == "send vacation message:" {
				cur = &act{kind: "line", line: "vacation"}
			} else {
				cur = &act{kind: "line", line: "unknown " + quote(s)}
			}
			acts = append(acts, cur)
			continue
		}
		t := strings.TrimLeft(l, " \t")
		if cur == nil {
			continue
		}
		if v, ok := strings.CutPrefix(t, "=> seconds : "); ok && cur.line == "vacation" {
			cur.line += " seconds=" + strings.TrimSpace(v)
		} else if f, ok := strings.CutPrefix(t, "+ add IMAP flags: "); ok {
			cur.flags = append(cur.flags, strings.Fields(f)...)
		} else if strings.HasPrefix(t, "+ create mailbox if it does not exist") {
			cur.create = true
		}
	}
	var lines []string
	for _, a := range acts {
		if a.kind != "store" {
			lines = append(lines, a.line)
			continue
		}
		var l string
		if a.impl || a.folder == defaultMailbox {
			l = "keep"
		} else {
			l = "fileinto " + quote(a.folder)
			if a.create {
				l += " create"
			}
		}
		lines = append(lines, l+FormatFlags(a.flags))
	}
	if failed {
		lines = append(lines, "error", "keep")
	}
	return lines
}

// FormatFlags renders flags as ` flags="…"` (empty for none): system
// flags canonical, sorted, duplicates dropped.
func FormatFlags(flags []string) string {
	if len(flags) == 0 {
		return ""
	}
	f := make([]string, len(flags))
	for i, x := range flags {
		f[i] = canon(x)
	}
	sort.Strings(f)
	var out []string
	for i, x := range f {
		if i == 0 || x != f[i-1] {
			out = append(out, x)
		}
	}
	return " flags=" + quote(strings.Join(out, " "))
}

func canon(f string) string {
	for _, s := range []string{`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`} {
		if strings.EqualFold(s, f) {
			return s
		}
	}
	return f
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
