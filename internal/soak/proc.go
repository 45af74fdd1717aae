package soak

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

// proc is one child process of the harness (a daemon, an apply, a job
// run) with its stderr in a log file and its peak RSS polled from /proc.
type proc struct {
	name    string // "A-run-007", "B-0003-apply-2"
	logPath string
	cmd     *exec.Cmd
	started time.Time

	exited chan struct{}
	err    error // cmd.Wait's, valid after exited is closed
	ended  time.Time

	hwm    atomic.Int64 // peak RSS (VmHWM), KiB
	killed atomic.Bool  // we sent SIGKILL while it was running
}

// startProc starts bin with args, stdout and stderr to logPath. The child
// gets a parent-death signal, so it cannot outlive the test binary.
func startProc(name, logPath, bin string, args []string, env []string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &proc{name: name, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	if err := dovecottest.StartChild(cmd); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.started = time.Now()
	go func() {
		p.err = cmd.Wait()
		p.ended = time.Now()
		f.Close()
		close(p.exited)
	}()
	go p.pollRSS()
	return p, nil
}

// pollRSS keeps the process's VmHWM (its own peak resident set) until it
// exits. The last reading before a SIGKILL is taken by kill itself.
func (p *proc) pollRSS() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		p.readRSS()
		select {
		case <-p.exited:
			return
		case <-t.C:
		}
	}
}

func (p *proc) readRSS() {
	if kb := vmHWM(p.cmd.Process.Pid); kb > p.hwm.Load() {
		p.hwm.Store(kb)
	}
}

// vmHWM reads /proc/PID/status's VmHWM in KiB (0 when gone).
func vmHWM(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// running reports whether the process has not exited yet.
func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL to exactly this process and waits for it. It reports
// whether the process was still running, i.e. whether this was a kill.
func (p *proc) kill() bool {
	if !p.running() {
		return false
	}
	p.readRSS()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		<-p.exited
		return false
	}
	<-p.exited
	// The process may have exited by itself between running() and the
	// signal: only a death by SIGKILL counts.
	if killedBySignal(p.err, syscall.SIGKILL) {
		p.killed.Store(true)
		return true
	}
	return false
}

// stop sends SIGTERM and waits up to grace, then SIGKILL. It reports
// whether the process stopped by itself.
func (p *proc) stop(grace time.Duration) bool {
	if !p.running() {
		return true
	}
	p.readRSS()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return true
	case <-time.After(grace):
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
		return false
	}
}

// wait waits up to d for the process to exit; it reports whether it did.
func (p *proc) wait(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// exitCode is the process's exit status (-1 when killed by a signal).
func (p *proc) exitCode() int {
	if p.err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

func killedBySignal(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}
