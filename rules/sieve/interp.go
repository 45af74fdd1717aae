package sieve

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// Script is a compiled Sieve script. It is immutable and safe for
// concurrent use by many goroutines.
type Script struct {
	name      string
	cmds      []command
	opts      *Options
	lim       limits
	exts      map[string]bool
	usesFlags bool
	needsBody bool
	asksBoxes bool // mailboxexists, specialuse_exists or fileinto :specialuse
	targets   []Target
	skips     []Skip
	rc        regexCache
}

// Target is a mailbox a script files into by a constant name.
type Target struct {
	Mailbox string
	// Create: fileinto :create (RFC 5490 §3.2) makes the mailbox when it
	// is missing; without it a missing mailbox fails the action.
	Create bool
	// Script and Line locate the fileinto.
	Script string
	Line   int
}

// Targets lists the mailboxes the script (and the scripts it includes)
// file into by constant names, in source order: `mailwarden check
// --connect` checks they exist. Names built from variables, and
// :specialuse ones, are not listed.
func (s *Script) Targets() []Target { return s.targets }

var _ rules.Rule = (*Script)(nil)

// Name returns the script's name as given to Compile.
func (s *Script) Name() string { return s.name }

// NeedsBody reports whether the script (or a script it includes) reads the
// message body: body, mime, foreverypart, extracttext and the :mime tests.
func (s *Script) NeedsBody() bool { return s.needsBody }

// NeedsMailboxes reports whether the script (or a script it includes) may
// ask the server about mailboxes through the message's rules.Mailboxes
// (mailboxexists, specialuse_exists, fileinto :specialuse), so callers
// that cannot answer in the middle of a fetch list the mailboxes first.
func (s *Script) NeedsMailboxes() bool { return s.asksBoxes }

// Extensions returns the extensions the script requires.
func (s *Script) Extensions() []string {
	var out []string
	for _, e := range Extensions() {
		if s.exts[e] {
			out = append(out, e)
		}
	}
	return out
}

// Control flow inside the interpreter.
var (
	errStop   = errors.New("stop")
	errReturn = errors.New("return")
)

type errBreak struct{ name string }

func (e *errBreak) Error() string { return "break" }

// run is the state of one execution (RFC 5228 §2.10).
type run struct {
	ctx       context.Context
	s         *Script // script being executed (changes inside include)
	root      *Script
	m         *rules.Message
	vars      map[string]string // variables of the current script
	globals   map[string]string // RFC 6609 §3.5 global variables
	nVars     int
	matchVars []string
	flags     []string // RFC 5232 §3 internal variable
	actions   []Action
	cancelled bool // implicit keep cancelled
	line      int  // line of the command being executed
	mime      *mimeTree
	part      *mimePart // current part inside foreverypart
	loopIters int
	inclDepth int
	included  map[string]bool
	dups      []dupRecord
	addrCache []addrCacheEntry
	steps     int       // commands run, for the time check
	deadline  time.Time // end of the execution's time budget (MaxRunTime)
}

// Execute runs the script against m and returns the raw Sieve result:
// every action in execution order, the implicit keep last when it was not
// cancelled. On a runtime error the returned Result holds the actions taken
// before the error followed by an implicit keep, and the error is a
// *RuntimeError (RFC 5228 §2.10.6).
func (s *Script) Execute(ctx context.Context, m *rules.Message) (res *Result, err error) {
	r := runPool.Get().(*run)
	r.reset()
	r.ctx, r.s, r.root, r.m, r.flags = ctx, s, s, m, rules.CanonicalFlags(m.Flags)
	r.deadline = time.Now().Add(s.lim.maxRunTime)
	defer func() {
		r.m, r.ctx, r.s, r.root, r.mime, r.part = nil, nil, nil, nil, nil, nil
		r.actions = nil // owned by the Result now
		runPool.Put(r)
	}()
	defer func() {
		if v := recover(); v != nil {
			err = &rules.PanicError{Rule: s.name, Value: v, Stack: debug.Stack()}
			res = &Result{Actions: append(r.actions, Action{Type: "keep", Flags: r.flagsCopy(), Implicit: true}), Error: err.Error(), Stopped: false}
		}
	}()
	err = r.block(s.cmds)
	stopped := errors.Is(err, errStop)
	if stopped || errors.Is(err, errReturn) {
		err = nil
	}
	res = &Result{Stopped: stopped}
	if err != nil {
		var re *RuntimeError
		if !errors.As(err, &re) {
			err = &RuntimeError{Script: s.name, Line: r.line, Msg: "execution failed", Err: err}
		}
		res.Error = err.Error()
		// RFC 5228 §2.10.6: on error, the implicit keep is done.
		res.Actions = append(r.actions, Action{Type: "keep", Flags: r.flagsCopy(), Implicit: true})
		return res, err
	}
	res.Actions = r.actions
	if !r.cancelled {
		// RFC 5228 §2.10.2 implicit keep, with the final flags (RFC 5232 §3).
		res.Actions = append(res.Actions, Action{Type: "keep", Flags: r.flagsCopy(), Implicit: true})
	}
	if err := r.commitDuplicates(); err != nil {
		return res, &RuntimeError{Script: s.name, Line: 0, Msg: "recording duplicate", Err: err}
	}
	return res, nil
}

// Apply implements rules.Rule: it executes the script and records the
// result in p (see Result.ApplyTo for the RFC 6785 mapping). stop is true
// when the script executed `stop`, which ends the whole rule set. On a
// runtime error p is left as it was (the caller keeps the message) and the
// error is returned.
func (s *Script) Apply(ctx context.Context, m *rules.Message, p *rules.Plan) (stop bool, err error) {
	res, err := s.Execute(ctx, m)
	if err != nil {
		return false, err
	}
	res.ApplyTo(m, s.name, s.usesFlags, p)
	return res.Stopped, nil
}

// runPool recycles execution state (its buffers) between executions.
var runPool = sync.Pool{New: func() any { return new(run) }}

// reset clears r for a new execution, keeping buffer capacity.
func (r *run) reset() {
	clear(r.vars)
	clear(r.globals)
	clear(r.included)
	*r = run{
		vars: r.vars, globals: r.globals, included: r.included,
		matchVars: r.matchVars[:0], dups: r.dups[:0], addrCache: r.addrCache[:0],
	}
}

func (r *run) flagsCopy() []string {
	out := make([]string, len(r.flags))
	copy(out, r.flags)
	return out
}

func (r *run) errorf(format string, args ...any) error {
	return &RuntimeError{Script: r.s.name, Line: r.line, Msg: fmt.Sprintf(format, args...)}
}

func (r *run) block(cmds []command) error {
	for _, c := range cmds {
		// Every 16th command: the time budget and the context, cheap
		// enough for the hot path, often enough for a runaway script.
		if r.steps++; r.steps&15 == 0 {
			if err := r.checkTime(); err != nil {
				return err
			}
		}
		if err := c.exec(r); err != nil {
			return err
		}
	}
	return nil
}

// checkTime ends the execution when its time is up (MaxRunTime) or its
// context is done.
func (r *run) checkTime() error {
	if r.ctx != nil {
		if err := r.ctx.Err(); err != nil {
			return err
		}
	}
	if time.Now().After(r.deadline) {
		return r.errorf("execution took longer than %v", r.root.lim.maxRunTime)
	}
	return nil
}

// addAction records an action, enforcing the action limit.
func (r *run) addAction(a Action) error {
	if len(r.actions) >= r.root.lim.maxActions {
		return r.errorf("more than %d actions", r.root.lim.maxActions)
	}
	if r.ctx != nil {
		if err := r.ctx.Err(); err != nil {
			return err
		}
	}
	if r.s != r.root {
		a.Script = r.s.name
	}
	r.actions = append(r.actions, a)
	return nil
}

// ---- core control commands (RFC 5228 §3) ----

type ifCmd struct {
	line     int
	branches []ifBranch
	elseBody []command
	hasElse  bool
}

type ifBranch struct {
	line int
	cond test
	body []command
}

func (c *ifCmd) exec(r *run) error {
	for i := range c.branches {
		b := &c.branches[i]
		r.line = b.line
		ok, err := b.cond.eval(r)
		if err != nil {
			return err
		}
		if ok {
			return r.block(b.body)
		}
	}
	if c.hasElse {
		return r.block(c.elseBody)
	}
	return nil
}

type stopCmd struct{ line int }

func (c *stopCmd) exec(r *run) error { r.line = c.line; return errStop }

func init() {
	registerCommand("if", "", compileIf)
	registerCommand("elsif", "", compileElse)
	registerCommand("else", "", compileElse)
	registerCommand("stop", "", func(c *compiler, n *node) command {
		if _, ok := c.args(n, nil, nil); !ok || !c.simple(n) {
			return nil
		}
		return &stopCmd{line: n.pos.Line}
	})
	unsupported["notify"] = "notify needs a transport, which mailwarden does not have yet"
	unsupported["addheader"] = "IMAP messages are immutable: editing headers would need APPEND of a new message, which mailwarden does not do"
	unsupported["deleteheader"] = unsupported["addheader"]
	// The extensions that define them are accepted by require
	// (unavailable.go): only a use is an error.
}

// compileIf compiles "if" (RFC 5228 §3.1). The chain of elsif/else that
// follows is linked by the compiler's block pass: we handle it by looking
// ahead through the parent's node list in compileBlockIf.
func compileIf(c *compiler, n *node) command {
	cmd := &ifCmd{line: n.pos.Line}
	c.addBranch(cmd, n)
	c.pendingIf = cmd
	return cmd
}

func (c *compiler) addBranch(cmd *ifCmd, n *node) {
	if _, ok := c.args(n, nil, nil); !ok {
		return
	}
	if len(n.tests) != 1 || n.testList {
		c.errorf(n.pos, usage(n.name), "%s needs exactly one test", n.raw)
		return
	}
	if !n.hasBlock {
		c.errorf(n.pos, usage(n.name), "%s needs a block", n.raw)
		return
	}
	t := c.test(n.tests[0])
	saved := c.pendingIf
	var body []command
	skip, enable := c.ihaveBlock(n)
	if !skip {
		// RFC 5463 §4: inside "if ihave" the extensions are available.
		var added []string
		for _, e := range enable {
			if !c.exts[e] {
				c.exts[e] = true
				added = append(added, e)
			}
		}
		body = c.block(n.block)
		for _, e := range added {
			delete(c.exts, e)
		}
	}
	c.pendingIf = saved
	if t != nil {
		cmd.branches = append(cmd.branches, ifBranch{line: n.pos.Line, cond: t, body: body})
	}
}

func compileElse(c *compiler, n *node) command {
	cmd := c.pendingIf
	if cmd == nil || cmd.hasElse {
		c.errorf(n.pos, "elsif and else must follow an if or elsif block", "%s without a preceding if", n.name)
		return nil
	}
	if n.name == "elsif" {
		c.addBranch(cmd, n)
		return nil
	}
	if _, ok := c.args(n, nil, nil); !ok {
		return nil
	}
	if len(n.tests) > 0 {
		c.errorf(n.pos, "use elsif for a conditional branch", "else takes no test")
		return nil
	}
	if !n.hasBlock {
		c.errorf(n.pos, usage("else"), "else needs a block")
		return nil
	}
	cmd.hasElse = true
	cmd.elseBody = c.block(n.block)
	c.pendingIf = cmd
	c.pendingIf = nil
	return nil
}

// ---- core tests (RFC 5228 §5) ----

type constTest bool

func (t constTest) eval(*run) (bool, error) { return bool(t), nil }

type notTest struct{ t test }

func (t *notTest) eval(r *run) (bool, error) {
	ok, err := t.t.eval(r)
	return !ok, err
}

type ofTest struct {
	all   bool
	tests []test
}

// RFC 5228 §5.2/§5.3: allof and anyof short-circuit.
func (t *ofTest) eval(r *run) (bool, error) {
	for _, x := range t.tests {
		ok, err := x.eval(r)
		if err != nil {
			return false, err
		}
		if ok != t.all {
			return ok, nil
		}
	}
	return t.all, nil
}

func init() {
	registerTest("true", "", func(c *compiler, n *node) test {
		if _, ok := c.args(n, nil, nil); !ok || !c.leafTest(n) {
			return nil
		}
		return constTest(true)
	})
	registerTest("false", "", func(c *compiler, n *node) test {
		if _, ok := c.args(n, nil, nil); !ok || !c.leafTest(n) {
			return nil
		}
		return constTest(false)
	})
	registerTest("not", "", func(c *compiler, n *node) test {
		if _, ok := c.args(n, nil, nil); !ok {
			return nil
		}
		if len(n.tests) != 1 || n.testList {
			c.errorf(n.pos, usage("not"), "not needs exactly one test")
			return nil
		}
		t := c.test(n.tests[0])
		if t == nil {
			return nil
		}
		return &notTest{t}
	})
	of := func(all bool) testCompiler {
		return func(c *compiler, n *node) test {
			if _, ok := c.args(n, nil, nil); !ok {
				return nil
			}
			if !n.testList {
				c.errorf(n.pos, usage(n.name), "%s needs a test list in parentheses", n.raw)
				return nil
			}
			t := &ofTest{all: all}
			ok := true
			for _, x := range n.tests {
				ct := c.test(x)
				if ct == nil {
					ok = false
				}
				t.tests = append(t.tests, ct)
			}
			if !ok {
				return nil
			}
			return t
		}
	}
	registerTest("allof", "", of(true))
	registerTest("anyof", "", of(false))
}
