package sieve

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// A Dialect adds the commands and tests of one extension to the language
// for one compilation (Options.Dialect). It exists for tools that are not
// the product: internal/sievetestsuite implements Pigeonhole's
// vnd.dovecot.testsuite with it, so that .svtest files run against this
// interpreter. mailwarden itself never sets one, so the language it
// accepts is exactly the documented one.
//
// A dialect's commands and tests are parsed by the same parser and their
// arguments checked by the same validator as built-in ones (located
// errors, tags, match types), and they are available only after
// `require` names Extension.
type Dialect struct {
	// Extension is the name `require` enables the dialect by, e.g.
	// "vnd.dovecot.testsuite".
	Extension string
	// Commands and Tests by (lower-case) name. A name may be both (a
	// "hybrid" such as test_message).
	Commands map[string]*DialectCommand
	Tests    map[string]*DialectTest
}

// DialectCommand is a command of a Dialect.
type DialectCommand struct {
	Signature
	// Exec runs the command. An error it returns ends the script like a
	// runtime error, except that a command with a block may recover the
	// errors of its block (Call.Block).
	Exec func(*Call) error
}

// DialectTest is a test of a Dialect.
type DialectTest struct {
	Signature
	Eval func(*Call) (bool, error)
}

// ArgKind is the kind of a dialect argument.
type ArgKind uint8

const (
	ArgNone       ArgKind = iota // a tag without a value
	ArgNumber                    // 12, 3K
	ArgString                    // "x"
	ArgStringList                // ["x", "y"] or "x"
)

// Signature describes the arguments of a dialect command or test.
type Signature struct {
	// Tags are the tagged arguments by name (without ":"), each with the
	// kind of its value (ArgNone for a tag alone).
	Tags map[string]ArgKind
	// Match adds :comparator and the match types (:is, :contains,
	// :matches, :regex, :value, :count with their extensions) and a key
	// list as the last positional argument; Call.Match tests values
	// against it. The default comparator is i;ascii-casemap.
	Match bool
	// Args are the positional arguments (the key list of Match excluded).
	Args []ArgKind
	// Block says that the command takes a block (and must have one).
	Block bool
	// TopLevel says that the command may not be nested in a block.
	TopLevel bool
}

// dialectNode is a compiled use of a dialect command or test.
type dialectNode struct {
	line  int
	tags  map[string]*arg
	tagS  map[string][]*str
	pos   [][]*str // string arguments (nil for numbers)
	nums  []int64
	m     *matcher
	block []command
	cmd   *DialectCommand
	test  *DialectTest
}

func (d *dialectNode) exec(r *run) error {
	r.line = d.line
	return d.cmd.Exec(&Call{r: r, d: d})
}

func (d *dialectNode) eval(r *run) (bool, error) {
	r.line = d.line
	return d.test.Eval(&Call{r: r, d: d})
}

// dialectCommand and dialectTest look name up in the options' dialect.
func (c *compiler) dialectCommand(name string) *DialectCommand {
	if c.opts == nil || c.opts.Dialect == nil || !c.has(c.opts.Dialect.Extension) {
		return nil
	}
	return c.opts.Dialect.Commands[name]
}

func (c *compiler) dialectTest(name string) *DialectTest {
	if c.opts == nil || c.opts.Dialect == nil || !c.has(c.opts.Dialect.Extension) {
		return nil
	}
	return c.opts.Dialect.Tests[name]
}

func vKindOf(k ArgKind) vKind {
	switch k {
	case ArgNumber:
		return vNumber
	case ArgString:
		return vString
	case ArgStringList:
		return vStringList
	}
	return vNone
}

// compileDialect checks n against sig and compiles it.
func (c *compiler) compileDialect(n *node, sig *Signature, isCmd, nested bool) *dialectNode {
	var specs []tagSpec
	for _, name := range slices.Sorted(maps.Keys(sig.Tags)) {
		specs = append(specs, tagSpec{name: name, val: vKindOf(sig.Tags[name])})
	}
	if sig.Match {
		specs = join(specs, comparatorTags, matchTypeTags)
	}
	want := make([]vKind, 0, len(sig.Args)+1)
	for _, k := range sig.Args {
		want = append(want, vKindOf(k))
	}
	if sig.Match {
		want = append(want, vStringList)
	}
	p, ok := c.args(n, specs, want)
	if !ok {
		return nil
	}
	if isCmd {
		if !c.noTests(n) {
			return nil
		}
		if sig.Block && !n.hasBlock {
			c.errorf(n.pos, "", "%s needs a block", n.raw)
			return nil
		}
		if !sig.Block && !c.noBlock(n) {
			return nil
		}
		if sig.TopLevel && nested {
			c.errorf(n.pos, "", "%s must be at the top level of the script", n.raw)
			return nil
		}
	} else if !c.leafTest(n) {
		return nil
	}
	d := &dialectNode{line: n.pos.Line, tags: p.tags, tagS: map[string][]*str{}}
	for name, a := range p.tags {
		if a.kind == aString || a.kind == aStringList {
			d.tagS[name] = c.strs(a)
		}
	}
	for i := range sig.Args {
		a := p.pos[i]
		if a.kind == aNumber {
			d.pos = append(d.pos, nil)
			d.nums = append(d.nums, a.num)
			continue
		}
		d.pos = append(d.pos, c.strs(a))
		d.nums = append(d.nums, 0)
	}
	if sig.Match {
		d.m = c.matcher(n, p, p.pos[len(p.pos)-1])
	}
	if sig.Block {
		d.block = c.block(n.block)
	}
	return d
}

// Call is one execution of a dialect command or test: its arguments, and
// the state of the execution it runs in.
type Call struct {
	r *run
	d *dialectNode
}

// Line is the line of the command or test.
func (c *Call) Line() int { return c.d.line }

// Has reports whether the tag was given.
func (c *Call) Has(tag string) bool { _, ok := c.d.tags[tag]; return ok }

// Tag returns the strings of the tag's value, variables expanded (nil
// when the tag is absent or takes no string).
func (c *Call) Tag(tag string) []string {
	s, ok := c.d.tagS[tag]
	if !ok {
		return nil
	}
	return c.r.expandAll(s, nil)
}

// TagNumber returns the tag's number value, 0 when absent.
func (c *Call) TagNumber(tag string) int64 {
	if a := c.d.tags[tag]; a != nil && a.kind == aNumber {
		return a.num
	}
	return 0
}

// Strings returns positional argument i (a string or string list), with
// variables expanded.
func (c *Call) Strings(i int) []string { return c.r.expandAll(c.d.pos[i], nil) }

// Number returns positional argument i, a number.
func (c *Call) Number(i int) int64 { return c.d.nums[i] }

// Match reports whether any of values matches the key list under the
// call's comparator and match type (RFC 5228 §2.7), setting the match
// variables like any test; :count counts the values.
func (c *Call) Match(values []string) (bool, error) { return c.d.m.matchValues(c.r, values) }

// Block runs the command's block. Its error (a runtime error, or one a
// dialect command returned) is returned, not raised: the caller decides.
// `stop` is returned as ErrStop.
func (c *Call) Block() error {
	err := c.r.block(c.d.block)
	if errors.Is(err, errStop) {
		return ErrStop
	}
	return err
}

// ErrStop is returned by Call.Block and Call.Run when the script executed
// `stop`. A dialect command that returns it ends the execution as `stop`
// does.
var ErrStop = errStop

// Message returns the message the execution reads.
func (c *Call) Message() *rules.Message { return c.r.m }

// SetMessage makes later commands and tests read m, with the internal
// flags variable (RFC 5232 §3) starting from m's flags, as a new
// execution on m would.
func (c *Call) SetMessage(m *rules.Message) {
	r := c.r
	r.m, r.mime, r.part = m, nil, nil
	r.addrCache = r.addrCache[:0]
	r.flags = rules.CanonicalFlags(m.Flags)
}

// Result returns the result so far: the actions in execution order and,
// when no action cancelled it, the implicit keep with the current flags.
func (c *Call) Result() *Result {
	res := &Result{Actions: append([]Action(nil), c.r.actions...)}
	if !c.r.cancelled {
		res.Actions = append(res.Actions, Action{Type: "keep", Flags: c.r.flagsCopy(), Implicit: true})
	}
	return res
}

// ResetResult empties the result: no actions, the implicit keep not
// cancelled, the internal flags variable back to the message's flags.
func (c *Call) ResetResult() {
	r := c.r
	r.actions = nil
	r.cancelled = false
	r.flags = rules.CanonicalFlags(r.m.Flags)
}

// Run runs s in this execution, much as include runs a script (RFC 6609
// §3.4): same message, same result and flags, variables of its own; and
// s's own options and limits, as if it were executed alone. Its `stop`
// and `return` end s only; its runtime error is returned.
func (c *Call) Run(s *Script) error {
	r := c.r
	savedS, savedRoot, savedVars, savedGlobals, savedMatch, savedLine, savedDeadline := r.s, r.root, r.vars, r.globals, r.matchVars, r.line, r.deadline
	r.s, r.root, r.vars, r.globals, r.matchVars = s, s, nil, nil, nil
	r.deadline = time.Now().Add(s.lim.maxRunTime)
	err := r.block(s.cmds)
	r.s, r.root, r.vars, r.globals, r.matchVars, r.line, r.deadline = savedS, savedRoot, savedVars, savedGlobals, savedMatch, savedLine, savedDeadline
	if errors.Is(err, errStop) || errors.Is(err, errReturn) {
		return nil
	}
	return err
}

// Fail returns a runtime error at the call's line with msg, for a dialect
// command or test whose use is wrong at run time.
func (c *Call) Fail(format string, args ...any) error {
	return &RuntimeError{Script: c.r.s.name, Line: c.d.line, Msg: fmt.Sprintf(format, args...)}
}
