// Package ruleset compiles named rule sets: ordered lists of expr rules
// (package exprrule) and Sieve scripts (package sieve), all compiled at
// load with every error reported, and evaluated as one rules.Evaluator.
//
// The model:
//
//   - A [Set] runs its steps in order against a message, each recording
//     its decisions in one shared rules.Plan. A step that asks to stop (an
//     expr rule with `stop: true` that matched, a Sieve `stop`) ends the set
//     for that message, whichever kind of step comes next.
//   - A runtime error or a panic in a step ends evaluation; Evaluate returns
//     the error (a panic as *rules.PanicError with its stack) and the caller
//     applies the zero Plan, keeping the message where it is (RFC 5228
//     §2.10.6). Steps never act on a server.
//   - A plan with more than Options.MaxActions flag changes and deliveries
//     is refused the same way: a runaway rule set cannot spray a message
//     into hundreds of mailboxes.
//   - NeedsBody is true when any step reads the body (only Sieve scripts
//     can), so callers fetch headers only whenever possible.
//
// Compilation reports every problem of every step and every set at once:
// expr errors are located in the config file (file:line:col of the `when`
// value or the action), Sieve errors in the script file.
package ruleset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/rules/exprrule"
	"github.com/mailwarden/mailwarden/rules/sieve"
)

// DefaultMaxActions is the default cap on the actions of one plan.
const DefaultMaxActions = 64

// Options tune compilation. A nil *Options means defaults.
type Options struct {
	// Expr configures expr rules (node budget, clock).
	Expr exprrule.Options
	// Sieve configures Sieve scripts; nil means the sieve package's
	// defaults.
	Sieve *sieve.Options
	// BaseDir is the directory relative Sieve paths are resolved against
	// (the config file's directory). Empty means the working directory.
	BaseDir string
	// MaxActions caps the flag changes plus deliveries of one message's
	// plan; 0 means DefaultMaxActions.
	MaxActions int
}

// Step is one step of a rule set: an expr rule, or the path of a Sieve
// script.
type Step struct {
	Expr *exprrule.Spec
	// Sieve is a script path, absolute or relative to Options.BaseDir.
	Sieve string
	// Pos is where the Sieve path is written in the config.
	Pos exprrule.Pos
	// SkipUnsupported compiles the Sieve script with
	// sieve.Options.SkipUnsupported (the step's `unsupported: skip`).
	SkipUnsupported bool
	// Source, when not nil, is the Sieve script itself (a script stored
	// through ManageSieve): it is compiled as is, Sieve then only names it
	// in errors and traces, and IncludeDir is where its include :personal
	// reads (the account's stored scripts), before any configured
	// directory.
	Source     []byte
	IncludeDir string
}

// Def names a list of steps, for CompileAll.
type Def struct {
	Name  string
	Steps []Step
	Pos   exprrule.Pos
}

// Error is a problem with a rule set as a whole or with a step that has no
// position of its own, printed as `file:line:col: ruleset "name": msg`.
type Error struct {
	Pos     exprrule.Pos
	Ruleset string
	Msg     string
	Hint    string
}

func (e *Error) Error() string {
	var b strings.Builder
	if p := e.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "ruleset %q: %s", e.Ruleset, e.Msg)
	if e.Hint != "" {
		fmt.Fprintf(&b, " (hint: %s)", e.Hint)
	}
	return b.String()
}

// Set is a compiled rule set. It implements rules.Evaluator and is safe
// for concurrent use.
type Set struct {
	name       string
	steps      []rules.Rule
	needsBody  bool
	needsBoxes bool
	maxActions int
}

var _ rules.Evaluator = (*Set)(nil)

// Compile compiles every step of the rule set called name. It returns all
// problems found; on any, the Set is nil.
func Compile(name string, steps []Step, opts *Options) (*Set, []error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxActions <= 0 {
		o.MaxActions = DefaultMaxActions
	}
	s := &Set{name: name, maxActions: o.MaxActions}
	var errs []error
	seen := map[string]exprrule.Pos{}
	for i, st := range steps {
		switch {
		case st.Expr != nil && st.Sieve != "":
			errs = append(errs, &Error{Pos: st.Pos, Ruleset: name, Msg: fmt.Sprintf("step %d is both an expr rule and a Sieve script", i)})
		case st.Expr != nil:
			spec := *st.Expr
			if p, dup := seen[spec.Name]; dup && spec.Name != "" {
				errs = append(errs, &exprrule.Error{Pos: spec.Pos, Rule: spec.Name, Field: "name",
					Msg: fmt.Sprintf("duplicate rule name in ruleset %s (first at %s)", name, p), Hint: "rule names identify rules in logs and the journal"})
			}
			seen[spec.Name] = spec.Pos
			r, es := exprrule.Compile(spec, &o.Expr)
			errs = append(errs, es...)
			if r != nil {
				s.steps = append(s.steps, r)
			}
		case st.Sieve != "":
			r, es := compileSieve(name, st, &o)
			errs = append(errs, es...)
			if r != nil {
				s.steps = append(s.steps, r)
			}
		default:
			errs = append(errs, &Error{Pos: st.Pos, Ruleset: name, Msg: fmt.Sprintf("step %d is empty", i)})
		}
	}
	if len(steps) == 0 {
		errs = append(errs, &Error{Ruleset: name, Msg: "no steps", Hint: "add rules or a sieve script"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	s.needsBody = s.computeNeedsBody()
	for _, r := range s.steps {
		if n, ok := r.(interface{ NeedsMailboxes() bool }); ok && n.NeedsMailboxes() {
			s.needsBoxes = true
		}
	}
	return s, nil
}

func (s *Set) computeNeedsBody() bool {
	for _, r := range s.steps {
		if r.NeedsBody() {
			return true
		}
	}
	return false
}

// CompileAll compiles every rule set in defs, reporting all problems of
// all of them.
func CompileAll(defs []Def, opts *Options) (map[string]*Set, []error) {
	sets := make(map[string]*Set, len(defs))
	var errs []error
	for _, d := range defs {
		if _, dup := sets[d.Name]; dup {
			errs = append(errs, &Error{Pos: d.Pos, Ruleset: d.Name, Msg: "defined twice"})
			continue
		}
		s, es := Compile(d.Name, d.Steps, opts)
		errs = append(errs, es...)
		sets[d.Name] = s
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return sets, nil
}

// compileSieve is the one place that knows how a Sieve step becomes a
// rules.Rule. The script's name (in errors and plan traces) is its path
// relative to BaseDir when it lies below it.
func compileSieve(set string, st Step, o *Options) (rules.Rule, []error) {
	path, display, src, err := sieveSource(st, o)
	if err != nil {
		e := &Error{Pos: st.Pos, Ruleset: set, Msg: "sieve: " + err.Error()}
		if errors.Is(err, fs.ErrNotExist) && o.BaseDir != "" {
			e.Hint = "a relative path is resolved against the config file's directory, " + o.BaseDir + "; copy the script along with the config"
		}
		return nil, []error{e}
	}
	so := o.Sieve
	if st.SkipUnsupported {
		var c sieve.Options
		if so != nil {
			c = *so
		}
		c.SkipUnsupported = true
		so = &c
	}
	// include :personal reads the script's own directory unless the
	// config names one (sieve.personal_dir); a stored script's reads the
	// account's scripts.
	if st.Source != nil {
		var c sieve.Options
		if so != nil {
			c = *so
		}
		c.IncludePersonal = st.IncludeDir
		so = &c
	} else {
		so = so.WithScriptDir(filepath.Dir(path))
	}
	script, err := sieve.Compile(display, src, so)
	if err != nil {
		if list, ok := err.(sieve.ErrorList); ok {
			out := make([]error, len(list))
			for i, e := range list {
				out[i] = e
			}
			return nil, out
		}
		return nil, []error{err}
	}
	return script, nil
}

// sieveSource returns a Sieve step's script: its path, the name shown in
// errors (relative to BaseDir when below it) and its source, read from
// the file unless the step carries it.
func sieveSource(st Step, o *Options) (path, display string, src []byte, err error) {
	max := sieve.DefaultMaxScriptSize
	if o.Sieve != nil && o.Sieve.MaxScriptSize > 0 {
		max = o.Sieve.MaxScriptSize
	}
	if st.Source != nil {
		if len(st.Source) > max {
			return "", st.Sieve, nil, fmt.Errorf("%s is %d bytes, more than the limit of %d", st.Sieve, len(st.Source), max)
		}
		return "", st.Sieve, st.Source, nil
	}
	path = st.Sieve
	if !filepath.IsAbs(path) && o.BaseDir != "" {
		path = filepath.Join(o.BaseDir, path)
	}
	display = path
	if o.BaseDir != "" {
		if rel, err := filepath.Rel(o.BaseDir, path); err == nil && !strings.HasPrefix(rel, "..") {
			display = rel
		}
	}
	fi, err := os.Stat(path)
	if err == nil && fi.Size() > int64(max) {
		err = fmt.Errorf("%s is %d bytes, more than the limit of %d", display, fi.Size(), max)
	}
	if err == nil {
		src, err = os.ReadFile(path)
	}
	return path, display, src, err
}

// Name returns the rule set's name.
func (s *Set) Name() string { return s.name }

// NeedsBody reports whether any step reads the message body.
func (s *Set) NeedsBody() bool { return s.needsBody }

// HeaderFields reports the header fields the set's steps read
// (rules.HeaderFielder): the union of theirs, or all when any step may
// read any field (a Sieve script, for now: its tests name fields that
// variables can build).
func (s *Set) HeaderFields() ([]string, bool) {
	var out []string
	for _, r := range s.steps {
		names, all := rules.HeaderFields(r)
		if all {
			return nil, true
		}
		for _, n := range names {
			if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(n, o) }) {
				out = append(out, n)
			}
		}
	}
	return out, false
}

// SieveSkips lists, step by step, the commands of the set's Sieve
// scripts that are skipped at run time (sieve.Script.Skips): what
// `mailwarden check` prints.
func (s *Set) SieveSkips() []sieve.Skip {
	var out []sieve.Skip
	for _, r := range s.steps {
		if sc, ok := r.(*sieve.Script); ok {
			out = append(out, sc.Skips()...)
		}
	}
	return out
}

// SieveTargets lists the mailboxes the set's Sieve steps file into by
// constant names (sieve.Script.Targets), in step order.
func (s *Set) SieveTargets() []sieve.Target {
	var out []sieve.Target
	for _, r := range s.steps {
		if sc, ok := r.(*sieve.Script); ok {
			out = append(out, sc.Targets()...)
		}
	}
	return out
}

// NeedsMailboxes reports whether any step may ask the server about
// mailboxes while it evaluates (rules.Message.Mailboxes; Sieve's
// mailboxexists), so callers list them before a streaming fetch.
func (s *Set) NeedsMailboxes() bool { return s.needsBoxes }

// Steps returns the names of the steps in order (rule names and Sieve
// script names).
func (s *Set) Steps() []string {
	out := make([]string, len(s.steps))
	for i, r := range s.steps {
		out[i] = r.Name()
	}
	return out
}

// Evaluate runs the steps in order and returns the plan. On error the
// returned plan holds what was decided before it, and the caller applies
// the zero Plan instead.
func (s *Set) Evaluate(ctx context.Context, m *rules.Message) (rules.Plan, error) {
	var p rules.Plan
	for _, r := range s.steps {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		stop, err := apply(ctx, r, m, &p)
		if err != nil {
			return p, fmt.Errorf("ruleset %s: %w", s.name, err)
		}
		if stop {
			break
		}
	}
	if n := len(p.AddFlags) + len(p.RemoveFlags) + len(p.Deliveries); n > s.maxActions {
		return p, fmt.Errorf("ruleset %s: the plan has %d actions, more than the limit of %d (limits.actions_per_message)", s.name, n, s.maxActions)
	}
	return p, nil
}

// apply runs one step, turning a panic into a *rules.PanicError.
func apply(ctx context.Context, r rules.Rule, m *rules.Message, p *rules.Plan) (stop bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			stop, err = false, &rules.PanicError{Rule: r.Name(), Value: v, Stack: debug.Stack()}
		}
	}()
	return r.Apply(ctx, m, p)
}
