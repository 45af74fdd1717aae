package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/mailwarden/mailwarden/rules"
)

type panicky struct{}

func (panicky) Evaluate(context.Context, *rules.Message) (rules.Plan, error) { panic("boom") }
func (panicky) NeedsBody() bool                                              { return false }

type failing struct{}

func (failing) Evaluate(context.Context, *rules.Message) (rules.Plan, error) {
	var p rules.Plan
	p.Move(rules.Delivery{Mailbox: "X", Rule: "half"})
	return p, errors.New("runtime error")
}
func (failing) NeedsBody() bool { return false }

// A panic or a runtime error in the rules yields the zero Plan: the
// message stays where it is (RFC 5228 §2.10.6), and the daemon goes on.
func TestEvaluateRecoversAndKeeps(t *testing.T) {
	m := &rules.Message{UID: 1}
	plan, err := Evaluate(context.Background(), panicky{}, m)
	var pe *rules.PanicError
	if !errors.As(err, &pe) || !plan.IsZero() || len(pe.Stack) == 0 {
		t.Errorf("panic: plan %+v, err %v", plan, err)
	}
	plan, err = Evaluate(context.Background(), failing{}, m)
	if err == nil || !plan.IsZero() || len(plan.Trace) != 1 {
		t.Errorf("runtime error: plan %+v (want zero plan keeping the trace), err %v", plan, err)
	}
}
