package exprrule

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/mailwarden/mailwarden/rules"
)

// DefaultMaxNodes is the default cap on the AST nodes of one expression.
const DefaultMaxNodes = 1000

// Options tune compilation and evaluation. A nil *Options means defaults.
type Options struct {
	// MaxNodes caps the size of a `when` expression in AST nodes; 0 means
	// DefaultMaxNodes.
	MaxNodes uint
	// Now returns the current time, for `age`; nil means time.Now.
	Now func() time.Time
}

// Spec is a rule as written in the config, with the positions needed to
// report errors where the user wrote them.
type Spec struct {
	Name    string
	When    string
	Actions []Action
	Stop    bool

	// Pos is the position of the rule itself (its list item).
	Pos Pos
	// WhenPos is the position of the `when` value.
	WhenPos Pos
	// WhenInline reports that When appears verbatim on one line of the
	// file starting at WhenPos (a single-line scalar without escapes, with
	// WhenPos just after any opening quote), so a column inside the
	// expression maps to a column in the file.
	WhenInline bool
	// WhenCols, when not nil, holds the file column of each character of
	// When (on WhenPos's line), for single-line quoted values with escapes.
	WhenCols []int
}

// Action is one action of a rule: Kind is move, copy, flag, unflag or
// delete; Arg its argument as written ("Finance", `\Flagged`, "true").
type Action struct {
	Kind string
	Arg  string
	Pos  Pos
}

// Kinds lists the action kinds, in documentation order.
var Kinds = []string{"move", "copy", "flag", "unflag", "delete"}

// Rule is a compiled expr rule. It implements rules.Rule and is safe for
// concurrent use.
type Rule struct {
	name    string
	program *vm.Program
	need    need
	// fields are the header fields the expression reads (allFields: it
	// may read any, e.g. header(x) with a computed name).
	fields    []string
	allFields bool
	actions   []compiledAction
	stop      bool
	now       func() time.Time
	pool      sync.Pool // *state
}

type compiledAction struct {
	kind string
	arg  string // canonical flag or mailbox
}

type state struct {
	env *env
	vm  vm.VM
}

var _ rules.Rule = (*Rule)(nil)

// Compile compiles spec. It returns every problem found, each an *Error
// located at the `when` value or the action concerned; on any error the
// Rule is nil.
func Compile(spec Spec, opts *Options) (*Rule, []error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxNodes == 0 {
		o.MaxNodes = DefaultMaxNodes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var errs []error
	fail := func(pos Pos, field, hint, format string, args ...any) {
		errs = append(errs, &Error{Pos: pos, Rule: spec.Name, Field: field, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
	if strings.TrimSpace(spec.Name) == "" {
		fail(spec.Pos, "name", "every rule needs a name, used in logs, the journal and `mailwarden test`", "missing")
	}
	r := &Rule{name: spec.Name, stop: spec.Stop, now: o.Now}

	whenPos := spec.WhenPos
	if whenPos == (Pos{}) {
		whenPos = spec.Pos
	}
	if strings.TrimSpace(spec.When) == "" {
		fail(whenPos, "when", `write a boolean expression, e.g. 'subject contains "invoice"', or 'true' to match every message`, "missing")
	} else {
		prog, err := expr.Compile(spec.When, append(exprOptions(), expr.AsBool(), expr.MaxNodes(o.MaxNodes))...)
		if err != nil {
			errs = append(errs, whenError(spec, whenPos, err, o.MaxNodes))
		} else if fe, hint := constantError(spec.When); fe != nil {
			e := whenError(spec, whenPos, fe, o.MaxNodes)
			e.Hint = hint
			errs = append(errs, e)
		} else {
			r.program = prog
			r.need = needs(prog.Node())
			r.fields, r.allFields = headerFields(prog.Node(), r.need)
		}
	}

	if len(spec.Actions) == 0 && !spec.Stop {
		fail(spec.Pos, "actions", "add actions, or `stop: true` to end the rule set for matching messages", "the rule does nothing")
	}
	for i, a := range spec.Actions {
		pos := a.Pos
		if pos == (Pos{}) {
			pos = spec.Pos
		}
		field := fmt.Sprintf("actions[%d]", i)
		ca, msg, hint := compileAction(a)
		if msg != "" {
			fail(pos, field, hint, "%s", msg)
			continue
		}
		r.actions = append(r.actions, ca)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r.pool.New = func() any { return &state{env: newEnv()} }
	return r, nil
}

// compileAction validates a and returns it in canonical form, or a message
// and hint describing what is wrong.
func compileAction(a Action) (compiledAction, string, string) {
	arg := strings.TrimSpace(a.Arg)
	switch a.Kind {
	case "move", "copy":
		if arg == "" {
			return compiledAction{}, a.Kind + ": mailbox name is empty", ""
		}
		if rules.IsSpecialUse(arg) {
			for _, su := range specialUse {
				if strings.EqualFold(su, arg) {
					return compiledAction{kind: a.Kind, arg: su}, "", ""
				}
			}
			return compiledAction{}, fmt.Sprintf("%s: unknown special-use mailbox %q", a.Kind, arg),
				"special-use names are " + strings.Join(specialUse, ", ") + "; a mailbox name has no leading backslash"
		}
		if strings.ContainsAny(arg, "\r\n") {
			return compiledAction{}, fmt.Sprintf("%s: mailbox name %q contains a line break", a.Kind, arg), ""
		}
		return compiledAction{kind: a.Kind, arg: arg}, "", ""
	case "flag", "unflag":
		if arg == "" {
			return compiledAction{}, a.Kind + ": flag is empty", ""
		}
		if !rules.ValidFlag(arg) {
			if strings.HasPrefix(arg, `\`) {
				return compiledAction{}, fmt.Sprintf("%s: unknown system flag %q", a.Kind, arg),
					`system flags are \Seen, \Answered, \Flagged, \Deleted, \Draft; a keyword (label) has no backslash`
			}
			return compiledAction{}, fmt.Sprintf("%s: %q is not a valid keyword", a.Kind, arg),
				`a keyword is one word without spaces or any of ( ) { } % * " \ ]`
		}
		return compiledAction{kind: a.Kind, arg: rules.CanonicalFlag(arg)}, "", ""
	case "delete":
		switch strings.ToLower(arg) {
		case "true", "yes", "on":
			return compiledAction{kind: "delete"}, "", ""
		case "false", "no", "off":
			return compiledAction{}, "delete: false does nothing", "remove the action"
		}
		return compiledAction{}, fmt.Sprintf("delete: want true, got %q", a.Arg), "write `delete: true`"
	case "":
		return compiledAction{}, "missing action kind", "one of " + strings.Join(Kinds, ", ")
	}
	hint := "one of " + strings.Join(Kinds, ", ")
	if s := didYouMean(a.Kind, Kinds); s != "" {
		hint = "did you mean " + s + "?"
	}
	return compiledAction{}, fmt.Sprintf("unknown action %q", a.Kind), hint
}

var specialUse = []string{rules.Trash, rules.Junk, rules.Archive, rules.Sent, rules.Drafts, rules.All, rules.Flagged}

// aliases are hints for names users reach for that the environment spells
// differently.
var aliases = map[string]string{
	"sender":     `use from (the first From address), or header("Sender")`,
	"recipient":  "use to, cc, or any(to, .address == \"…\")",
	"recipients": "use to, cc, or any(to, .address == \"…\")",
	"body":       "expr rules see the header only; use a Sieve script to test the body",
	"list":       "use list_id",
}

var (
	reNoField    = regexp.MustCompile(`^type \S+ has no field (\S+)`)
	reUnknownVar = regexp.MustCompile(`^unknown name (\S+)`)
	reBadArg     = regexp.MustCompile(`to call (\S+) *$`)
)

// whenError turns an expr compile error into a located *Error with a hint.
func whenError(spec Spec, pos Pos, err error, maxNodes uint) *Error {
	e := &Error{Pos: pos, Rule: spec.Name, Field: "when"}
	var fe *file.Error
	if !errors.As(err, &fe) {
		msg := err.Error()
		if strings.HasPrefix(msg, "expected bool, but got ") {
			e.Msg = "the expression must be true or false, but it is a " + strings.TrimPrefix(msg, "expected bool, but got ")
			e.Hint = `compare it, e.g. subject contains "x"`
		} else {
			e.Msg = msg
		}
		return e
	}
	e.Msg = fe.Message
	switch {
	case reUnknownVar.MatchString(fe.Message):
		name := reUnknownVar.FindStringSubmatch(fe.Message)[1]
		if h, ok := aliases[name]; ok {
			e.Hint = h
		} else if s := didYouMean(name, envNameList()); s != "" {
			e.Hint = "did you mean " + s + "?"
		}
	case reNoField.MatchString(fe.Message):
		name := reNoField.FindStringSubmatch(fe.Message)[1]
		e.Msg = "an address has no field " + name
		e.Hint = "fields are address, name, domain, local"
		if s := didYouMean(name, []string{"address", "name", "domain", "local"}); s != "" {
			e.Hint = "did you mean " + s + "?"
		}
	case strings.Contains(fe.Message, "max nodes"), strings.Contains(fe.Message, "exceeds maximum"):
		e.Msg = fmt.Sprintf("the expression is too large (more than %d nodes)", maxNodes)
		e.Hint = "split it into several rules, or raise limits.expr_max_nodes"
	case strings.HasPrefix(fe.Message, "unexpected token Operator(\"=\")"):
		e.Hint = "compare with =="
	case reBadArg.MatchString(fe.Message):
		e.Msg = strings.TrimSpace(fe.Message)
	}
	switch {
	case spec.WhenInline && fe.Line == 1:
		e.Pos.Col += fe.Column
	case spec.WhenCols != nil && fe.Line == 1 && fe.Column < len(spec.WhenCols):
		e.Pos.Col = spec.WhenCols[fe.Column]
	case spec.WhenCols != nil && fe.Line == 1 && fe.Column == len(spec.WhenCols) && fe.Column > 0:
		e.Pos.Col = spec.WhenCols[fe.Column-1] + 1 // at the end ("unexpected token EOF")
	default:
		e.Msg += fmt.Sprintf(" (at line %d, column %d of the expression)", fe.Line, fe.Column+1)
	}
	return e
}

func envNameList() []string {
	names := make([]string, 0, len(envNames))
	for n := range envNames {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// needs walks the compiled expression and returns the variables it reads.
func needs(node ast.Node) need {
	v := &needVisitor{}
	ast.Walk(&node, v)
	return v.n
}

type needVisitor struct{ n need }

func (v *needVisitor) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok {
		v.n |= envNames[id.Value]
	}
}

// needFields maps the variables that read a header to its field.
var needFields = []struct {
	n     need
	field string
}{
	{needSubject, "Subject"}, {needFrom, "From"}, {needTo, "To"}, {needCc, "Cc"}, {needReplyTo, "Reply-To"},
	{needListID, "List-Id"}, {needMessageID, "Message-ID"}, {needDate, "Date"},
}

// headerFields returns the header fields an expression reads: those behind
// the variables it uses, and the constant names it passes to header(),
// headers() and has_header(). A name computed at run time means any field.
func headerFields(node ast.Node, n need) (fields []string, all bool) {
	for _, nf := range needFields {
		if n&nf.n != 0 {
			fields = append(fields, nf.field)
		}
	}
	v := &fieldVisitor{}
	ast.Walk(&node, v)
	if v.idents > v.calls {
		v.all = true
	}
	for _, f := range v.fields {
		if !slices.ContainsFunc(fields, func(g string) bool { return strings.EqualFold(f, g) }) {
			fields = append(fields, f)
		}
	}
	return fields, v.all
}

type fieldVisitor struct {
	fields []string
	all    bool
	// idents counts uses of the header functions, calls the calls among
	// them: a use that is not a call (a function passed on) reads any
	// field.
	idents, calls int
}

func isHeaderFunc(name string) bool {
	return name == "header" || name == "headers" || name == "has_header"
}

func (v *fieldVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || !isHeaderFunc(id.Value) {
			return
		}
		v.calls++
		if len(n.Arguments) == 1 {
			if s, ok := n.Arguments[0].(*ast.StringNode); ok {
				v.fields = append(v.fields, s.Value)
				return
			}
		}
		v.all = true
	case *ast.IdentifierNode:
		if isHeaderFunc(n.Value) {
			v.idents++
		}
	}
}

// HeaderFields reports the header fields the rule's expression reads
// (rules.HeaderFielder).
func (r *Rule) HeaderFields() ([]string, bool) { return r.fields, r.allFields }

// Name returns the rule's name.
func (r *Rule) Name() string { return r.name }

// NeedsBody reports false: no expression variable reads the body.
func (r *Rule) NeedsBody() bool { return false }

// Stop reports whether a matching message ends the rule set.
func (r *Rule) Stop() bool { return r.stop }

// Match evaluates the rule's condition against m.
func (r *Rule) Match(m *rules.Message) (matched bool, err error) {
	st := r.pool.Get().(*state)
	defer func() {
		st.env.reset()
		r.pool.Put(st)
	}()
	st.env.fill(m, r.need, r.now)
	out, err := st.vm.Run(r.program, st.env)
	if err != nil {
		return false, fmt.Errorf("rule %q: %w", r.name, err)
	}
	b, _ := out.(bool)
	return b, nil
}

// Apply evaluates the condition and, when it holds, records the actions
// in p (each Step names this rule) and returns the rule's stop setting.
// A panic is recovered into a *rules.PanicError.
func (r *Rule) Apply(ctx context.Context, m *rules.Message, p *rules.Plan) (stop bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			stop, err = false, &rules.PanicError{Rule: r.name, Value: v, Stack: debug.Stack()}
		}
	}()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ok, err := r.Match(m)
	if err != nil || !ok {
		return false, err
	}
	for _, a := range r.actions {
		switch a.kind {
		case "move":
			p.Move(rules.Delivery{Mailbox: a.arg, Create: !rules.IsSpecialUse(a.arg), Rule: r.name})
		case "copy":
			p.Copy(rules.Delivery{Mailbox: a.arg, Create: !rules.IsSpecialUse(a.arg), Rule: r.name})
		case "flag":
			p.AddFlag(a.arg, r.name)
		case "unflag":
			p.RemoveFlag(a.arg, r.name)
		case "delete":
			p.Delete(r.name)
		}
	}
	if r.stop {
		p.Note(r.name, "stop")
	}
	return r.stop, nil
}
