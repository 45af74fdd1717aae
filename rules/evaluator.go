package rules

import (
	"context"
	"fmt"
)

// Evaluator decides what happens to a message. Implementations are safe for
// concurrent use by many goroutines once built (all compilation happens at
// load time).
type Evaluator interface {
	// Evaluate returns the Plan for m. On error the returned Plan holds what
	// was decided before the error and the caller applies the zero Plan
	// instead (RFC 5228 §2.10.6: a runtime error means implicit keep).
	Evaluate(ctx context.Context, m *Message) (Plan, error)
	// NeedsBody reports whether any rule reads the body, so that callers
	// fetch whole messages instead of headers only.
	NeedsBody() bool
}

// Rule is one step of a rule set: an expr rule or a Sieve script.
type Rule interface {
	// Name identifies the rule in traces and logs.
	Name() string
	// Apply evaluates the rule against m and records its decisions in p.
	// stop ends evaluation of the rule set for this message.
	Apply(ctx context.Context, m *Message, p *Plan) (stop bool, err error)
	// NeedsBody reports whether the rule reads the message body.
	NeedsBody() bool
}

// PanicError is returned when evaluating a rule panicked; the panic is
// recovered so one message can never stop the daemon.
type PanicError struct {
	Rule  string
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("rule %s panicked: %v", e.Rule, e.Value)
}
