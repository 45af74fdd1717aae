package config_test

import (
	"testing"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/rules/exprrule"
	"github.com/mailwarden/mailwarden/rules/ruleset"
)

// TestExampleConfig loads examples/mailwarden.yaml and compiles every
// ruleset in it as the engine does.
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
	// Compiled exactly as the daemon compiles it.
	rt, errs := engine.Compile(c, nil)
	for _, e := range errs {
		t.Error(e)
	}
	if rt == nil {
		t.FailNow()
	}
	sets := rt.Rulesets
	if len(sets) != len(c.Rulesets) || sets["inbox"] == nil {
		t.Errorf("compiled %d of %d rulesets", len(sets), len(c.Rulesets))
	}
	for _, w := range a.Watch {
		if sets[w.Ruleset] == nil {
			t.Errorf("watch %s: ruleset %s not compiled", w.Mailbox, w.Ruleset)
		}
	}
}

// TestRuleErrorsLocated checks that expr errors point into the config
// file, through config positions and the ruleset compiler.
func TestRuleErrorsLocated(t *testing.T) {
	src := `rulesets:
  inbox:
    - name: invoices
      when: 'subjet contains "invoice"'
      actions: [{move: Finance}]
    - name: boss
      when: "from.address == \"boss@example.com\" && size > \"x\""
      actions: [{flag: "\\Important"}]
    - name: plain
      when: size > 10 && from.adress == "a"
      actions: [{flag: ok}]
    - name: block
      when: |
        size > 10 &&
        lst_id == "x"
      stop: true
`
	c, errs := config.Parse("config.yaml", "/cfg", []byte(src))
	if errs != nil {
		t.Fatal(errs)
	}
	var steps []ruleset.Step
	for _, s := range c.Rulesets[0].Steps {
		spec := &exprrule.Spec{Name: s.Name, When: s.When, Stop: s.Stop,
			Pos: exprrule.Pos(s.Pos), WhenPos: exprrule.Pos(s.WhenPos), WhenInline: s.WhenInline, WhenCols: s.WhenCols}
		for _, a := range s.Actions {
			spec.Actions = append(spec.Actions, exprrule.Action{Kind: a.Kind, Arg: a.Arg, Pos: exprrule.Pos(a.Pos)})
		}
		steps = append(steps, ruleset.Step{Expr: spec})
	}
	_, cerrs := ruleset.Compile("inbox", steps, nil)
	want := []string{
		`config.yaml:4:14: rule "invoices": when: unknown name subjet (hint: did you mean subject?)`,
		`config.yaml:7:59: rule "boss": when: invalid operation: > (mismatched types int and string)`,
		`config.yaml:8:18: rule "boss": actions[0]: flag: unknown system flag "\\Important" (hint: system flags are \Seen, \Answered, \Flagged, \Deleted, \Draft; a keyword (label) has no backslash)`,
		`config.yaml:10:31: rule "plain": when: an address has no field adress (hint: did you mean address?)`,
		`config.yaml:13:13: rule "block": when: unknown name lst_id (at line 2, column 1 of the expression) (hint: did you mean list_id?)`,
	}
	var got []string
	for _, e := range cerrs {
		got = append(got, e.Error())
	}
	if len(got) != len(want) {
		t.Fatalf("errors:\n%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("error %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}
