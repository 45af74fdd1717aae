package config_test

import (
	"testing"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/rules/exprrule"
	"github.com/mailwarden/mailwarden/rules/ruleset"
)

// TestExampleConfig loads examples/mailwarden.yaml and compiles every
// ruleset in it, converting config steps field by field as the engine does.
func TestExampleConfig(t *testing.T) {
	c, err := config.Load("../../examples/mailwarden.yaml")
	if err != nil {
		t.Fatalf("examples/mailwarden.yaml:\n%v", err)
	}
	a := c.Account("demo")
	if a == nil || a.Host != "127.0.0.1" || a.TLS != config.TLSNone || !a.InsecurePlaintext || a.Username != "user1" {
		t.Fatalf("demo account = %+v", a)
	}
	if s, err := a.Secret(t.Context()); err != nil || s != "pass" {
		t.Errorf("Secret = %q, %v", s, err)
	}
	var defs []ruleset.Def
	for _, rs := range c.Rulesets {
		d := ruleset.Def{Name: rs.Name, Pos: exprrule.Pos(rs.Pos)}
		for _, s := range rs.Steps {
			if s.IsSieve() {
				d.Steps = append(d.Steps, ruleset.Step{Sieve: s.Sieve, Pos: exprrule.Pos(s.SievePos)})
				continue
			}
			spec := &exprrule.Spec{Name: s.Name, When: s.When, Stop: s.Stop,
				Pos: exprrule.Pos(s.Pos), WhenPos: exprrule.Pos(s.WhenPos), WhenInline: s.WhenInline}
			for _, a := range s.Actions {
				spec.Actions = append(spec.Actions, exprrule.Action{Kind: a.Kind, Arg: a.Arg, Pos: exprrule.Pos(a.Pos)})
			}
			d.Steps = append(d.Steps, ruleset.Step{Expr: spec})
		}
		defs = append(defs, d)
	}
	sets, errs := ruleset.CompileAll(defs, &ruleset.Options{
		BaseDir:    c.Dir,
		MaxActions: c.Limits.ActionsPerMessage,
		Expr:       exprrule.Options{MaxNodes: uint(c.Limits.ExprMaxNodes)},
	})
	for _, e := range errs {
		t.Error(e)
	}
	if len(sets) != len(c.Rulesets) || sets["inbox"] == nil {
		t.Errorf("compiled %d of %d rulesets", len(sets), len(c.Rulesets))
	}
	for _, w := range a.Watch {
		if sets[w.Ruleset] == nil {
			t.Errorf("watch %s: ruleset %s not compiled", w.Mailbox, w.Ruleset)
		}
	}
}
