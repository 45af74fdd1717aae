package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// HeaderFielder is implemented by a Rule or Evaluator that can tell, at
// load, which header fields it reads, so that callers fetch only those
// (BODY.PEEK[HEADER.FIELDS (...)], RFC 9051 §6.4.5) instead of the whole
// header. all reports that it may read any field (or cannot tell); a
// rule that does not implement it is taken to read any.
type HeaderFielder interface {
	HeaderFields() (names []string, all bool)
}

// HeaderFields returns the header fields ev reads (see HeaderFielder).
func HeaderFields(ev any) (names []string, all bool) {
	hf, ok := ev.(HeaderFielder)
	if !ok {
		return nil, true
	}
	return hf.HeaderFields()
}

// FetchFields is what to fetch of each message's header for the rules or
// filters in evs: the fields they read plus those that acting on a message
// and reporting it need (see Message.Slim); nil, meaning the whole header,
// when any of them may read any field.
func FetchFields(evs ...any) []string {
	out := slices.Clone(slimFields)
	for _, ev := range evs {
		if ev == nil {
			continue
		}
		names, all := HeaderFields(ev)
		if all {
			return nil
		}
		for _, n := range names {
			if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(n, o) }) {
				out = append(out, n)
			}
		}
	}
	return out
}
