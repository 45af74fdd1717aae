package exprrule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"

	"github.com/mailwarden/mailwarden/internal/duration"
)

// durationFunc replaces expr's builtin duration(), which is Go's
// time.ParseDuration, with the parser of the config file: "30d" and "2w"
// work in a rule as they do in older_than. A leading minus is allowed, as
// the builtin allowed it.
var durationFunc = expr.Function("duration", func(args ...any) (any, error) {
	s, _ := args[0].(string)
	neg := strings.HasPrefix(strings.TrimSpace(s), "-")
	d, err := duration.Parse(strings.TrimPrefix(strings.TrimSpace(s), "-"))
	if err != nil {
		return nil, fmt.Errorf("invalid duration %q: %v", s, err)
	}
	if neg {
		d = -d
	}
	return d, nil
}, new(func(string) time.Duration))

// exprOptions are the options every expression is compiled with.
func exprOptions() []expr.Option {
	return []expr.Option{expr.Env(env{}), durationFunc}
}

// constantError evaluates, at compile time, every part of the expression
// that does not depend on the message: a constant sub-expression that
// fails (duration("30x"), date("2024-13-01"), int("n/a"), 1 % 0) would
// fail for every message at run time, and a rule that fails keeps the
// message where it is, dropping the whole plan. It returns the innermost
// failing part as a *file.Error located in when, and a hint; or nil.
//
// Only constant parts are evaluated, never the rule against a made-up
// message: an error that depends on the message (an index into a split
// subject) says nothing certain about real mail.
func constantError(when string) (*file.Error, string) {
	tree, err := parser.Parse(when)
	if err != nil {
		return nil, "" // the compiler reported it
	}
	c := &constants{src: when, constant: map[ast.Node]bool{}}
	c.mark(tree.Node)
	return c.check(tree.Node)
}

type constants struct {
	src      string
	constant map[ast.Node]bool
}

// mark records which nodes do not depend on the message or on a variable
// (no identifier, no closure pointer below them), and returns whether n
// is one.
func (c *constants) mark(n ast.Node) bool {
	ok := true
	switch n.(type) {
	case *ast.IdentifierNode, *ast.PointerNode:
		ok = false
	}
	for _, ch := range children(n) {
		if !c.mark(ch) {
			ok = false
		}
	}
	c.constant[n] = ok
	return ok
}

// check evaluates the largest constant parts of n and returns the
// innermost failing part of the first that fails.
func (c *constants) check(n ast.Node) (*file.Error, string) {
	if c.constant[n] && evaluable(n) {
		if err := c.eval(n); err != nil {
			return c.innermost(n, err)
		}
		return nil, ""
	}
	for _, ch := range children(n) {
		if e, hint := c.check(ch); e != nil {
			return e, hint
		}
	}
	return nil, ""
}

// innermost reports the deepest failing constant part of n, which failed
// with err.
func (c *constants) innermost(n ast.Node, err error) (*file.Error, string) {
	if d, derr := c.deepest(n); d != nil {
		n, err = d, derr
	}
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	hint := ""
	if isCall(n, "duration") {
		hint = "durations are written like " + strings.TrimPrefix(duration.Hint, "e.g. ")
	}
	e := &file.Error{Location: n.Location(), Message: fmt.Sprintf("%s fails for every message: %s", n.String(), msg)}
	return e.Bind(file.NewSource(c.src)), hint
}

// deepest returns the first failing constant part below n, as deep as it
// goes, and its error; nil when no part below n fails on its own.
func (c *constants) deepest(n ast.Node) (ast.Node, error) {
	for _, ch := range children(n) {
		if !c.constant[ch] {
			continue
		}
		if evaluable(ch) {
			if err := c.eval(ch); err != nil {
				if d, derr := c.deepest(ch); d != nil {
					return d, derr
				}
				return ch, err
			}
		} else if d, derr := c.deepest(ch); d != nil {
			return d, derr
		}
	}
	return nil, nil
}

// isCall reports whether n calls the function called name.
func isCall(n ast.Node, name string) bool {
	switch n := n.(type) {
	case *ast.BuiltinNode:
		return n.Name == name
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		return ok && id.Value == name
	}
	return false
}

// eval compiles and runs the constant part n on its own.
func (c *constants) eval(n ast.Node) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	prog, err := expr.Compile(n.String(), exprOptions()...)
	if err != nil {
		return nil // a part that does not compile alone (the whole did) is no error of the user's
	}
	_, err = expr.Run(prog, env{})
	return err
}

// evaluable reports whether n is worth evaluating on its own: not a
// literal (which cannot fail) and not a piece that is no expression by
// itself (a map's key: value pair, a predicate's body).
func evaluable(n ast.Node) bool {
	switch n.(type) {
	case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode,
		*ast.BytesNode, *ast.ConstantNode, *ast.PairNode, *ast.PredicateNode:
		return false
	}
	return true
}

// children returns the direct sub-nodes of n, in source order (as
// ast.Walk visits them).
func children(n ast.Node) []ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []ast.Node{n.Node}
	case *ast.BinaryNode:
		return []ast.Node{n.Left, n.Right}
	case *ast.ChainNode:
		return []ast.Node{n.Node}
	case *ast.MemberNode:
		return []ast.Node{n.Node, n.Property}
	case *ast.SliceNode:
		out := []ast.Node{n.Node}
		if n.From != nil {
			out = append(out, n.From)
		}
		if n.To != nil {
			out = append(out, n.To)
		}
		return out
	case *ast.CallNode:
		return append([]ast.Node{n.Callee}, n.Arguments...)
	case *ast.BuiltinNode:
		return n.Arguments
	case *ast.PredicateNode:
		return []ast.Node{n.Node}
	case *ast.VariableDeclaratorNode:
		return []ast.Node{n.Value, n.Expr}
	case *ast.SequenceNode:
		return n.Nodes
	case *ast.ConditionalNode:
		return []ast.Node{n.Cond, n.Exp1, n.Exp2}
	case *ast.ArrayNode:
		return n.Nodes
	case *ast.MapNode:
		return n.Pairs
	case *ast.PairNode:
		return []ast.Node{n.Key, n.Value}
	}
	return nil
}
