package ruleset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/rules/exprrule"
	"github.com/mailwarden/mailwarden/rules/sieve"
)

func rule(name, when string, stop bool, actions ...string) Step {
	var as []exprrule.Action
	for _, a := range actions {
		k, v, _ := strings.Cut(a, ":")
		as = append(as, exprrule.Action{Kind: k, Arg: v})
	}
	return Step{Expr: &exprrule.Spec{Name: name, When: when, Stop: stop, Actions: as}}
}

func msg(subject string, flags ...string) *rules.Message {
	return &rules.Message{
		Mailbox: "INBOX",
		Header:  rules.NewHeader([]rules.Field{{Name: "Subject", Raw: subject, Value: subject}}),
		Flags:   flags,
	}
}

func writeSieve(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStopAcrossKinds(t *testing.T) {
	dir := t.TempDir()
	writeSieve(t, dir, "a.sieve", `require ["fileinto", "imap4flags"];
if header :contains "subject" "sieve-stop" { addflag "from-sieve"; stop; }
if header :contains "subject" "list" { fileinto "Lists"; }
`)
	set, errs := Compile("inbox", []Step{
		rule("first", `subject contains "expr-stop"`, true, "flag:from-expr"),
		{Sieve: "a.sieve"},
		rule("last", `true`, false, "flag:last"),
	}, &Options{BaseDir: dir})
	if errs != nil {
		t.Fatal(errs)
	}
	if got := set.Steps(); strings.Join(got, ",") != "first,a.sieve,last" {
		t.Errorf("Steps = %v", got)
	}
	for subject, want := range map[string]string{
		"expr-stop":  "flag from-expr",
		"sieve-stop": "flag from-sieve",
		"a list":     `flag last; move "Lists" flags=()`, // imap4flags: the copy gets the script's flags
		"other":      "flag last",
	} {
		p, err := set.Evaluate(context.Background(), msg(subject))
		if err != nil || p.Summary() != want {
			t.Errorf("%s: %q, %v; want %q", subject, p.Summary(), err, want)
		}
	}
	if set.NeedsBody() {
		t.Error("NeedsBody true without a body test")
	}
}

// bodyRule is a rule that reads the body.
type bodyRule struct{ panicRule }

func (bodyRule) NeedsBody() bool { return true }

func TestNeedsBody(t *testing.T) {
	r, _ := exprrule.Compile(exprrule.Spec{Name: "r", When: "true", Stop: true}, nil)
	if (&Set{steps: []rules.Rule{r}}).computeNeedsBody() {
		t.Error("NeedsBody true without a body rule")
	}
	if !(&Set{steps: []rules.Rule{r, bodyRule{}}}).computeNeedsBody() {
		t.Error("NeedsBody false with a body rule")
	}
}

func TestCompileErrors(t *testing.T) {
	dir := t.TempDir()
	writeSieve(t, dir, "bad.sieve", "require \"fileinto\";\nfileinot \"X\";\n")
	spec := func(name, when string, line int) Step {
		s := rule(name, when, false, "flag:x")
		s.Expr.Pos = exprrule.Pos{File: "c.yaml", Line: line, Col: 7}
		s.Expr.WhenPos = exprrule.Pos{File: "c.yaml", Line: line + 1, Col: 14}
		s.Expr.WhenInline = true
		return s
	}
	_, errs := CompileAll([]Def{
		{Name: "one", Steps: []Step{
			spec("a", `subjet == "x"`, 3),
			spec("a", `true`, 6),
			{Sieve: "bad.sieve", Pos: exprrule.Pos{File: "c.yaml", Line: 9, Col: 14}},
			{Sieve: "missing.sieve", Pos: exprrule.Pos{File: "c.yaml", Line: 10, Col: 14}},
			{},
		}},
		{Name: "two"},
	}, &Options{BaseDir: dir})
	var got []string
	for _, e := range errs {
		got = append(got, strings.ReplaceAll(e.Error(), dir, "DIR"))
	}
	want := []string{
		`c.yaml:4:14: rule "a": when: unknown name subjet (hint: did you mean subject?)`,
		`c.yaml:6:7: rule "a": name: duplicate rule name in ruleset one (first at c.yaml:3:7) (hint: rule names identify rules in logs and the journal)`,
		`bad.sieve:2:1: unknown command "fileinot" (hint: did you mean "fileinto"?)`,
		`c.yaml:10:14: ruleset "one": sieve: stat DIR/missing.sieve: no such file or directory (hint: a relative path is resolved against the config file's directory, DIR; copy the script along with the config)`,
		`ruleset "one": step 4 is empty`,
		`ruleset "two": no steps (hint: add rules or a sieve script)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// panicRule panics when applied.
type panicRule struct{}

func (panicRule) Name() string    { return "boom" }
func (panicRule) NeedsBody() bool { return false }
func (panicRule) Apply(context.Context, *rules.Message, *rules.Plan) (bool, error) {
	panic("kaboom")
}

func TestPanicAndErrors(t *testing.T) {
	first, _ := exprrule.Compile(exprrule.Spec{Name: "first", When: "true", Actions: []exprrule.Action{{Kind: "flag", Arg: "a"}}}, nil)
	set := &Set{name: "s", steps: []rules.Rule{first, panicRule{}}, maxActions: 10}
	p, err := set.Evaluate(context.Background(), msg("x"))
	var pe *rules.PanicError
	if !errors.As(err, &pe) || pe.Rule != "boom" || !strings.Contains(string(pe.Stack), "panicRule") {
		t.Fatalf("err = %v", err)
	}
	if err.Error() != "ruleset s: rule boom panicked: kaboom" {
		t.Errorf("err = %q", err)
	}
	if p.Summary() != "flag a" {
		t.Errorf("partial plan = %s", p.Summary())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := set.Evaluate(ctx, msg("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	var steps []Step
	for i := range 5 {
		steps = append(steps, rule(strings.Repeat("r", i+1), "true", false, "copy:Box"+strings.Repeat("x", i)))
	}
	capped, errs := Compile("big", steps, &Options{MaxActions: 4})
	if errs != nil {
		t.Fatal(errs)
	}
	if _, err := capped.Evaluate(context.Background(), msg("x")); err == nil ||
		err.Error() != "ruleset big: the plan has 5 actions, more than the limit of 4 (limits.actions_per_message)" {
		t.Errorf("cap: %v", err)
	}
}

func TestRuntimeError(t *testing.T) {
	set, errs := Compile("s", []Step{
		rule("first", "true", false, "flag:a"),
		rule("conv", `int(subject) > 0`, false, "flag:b"),
		rule("never", "true", false, "flag:c"),
	}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	p, err := set.Evaluate(context.Background(), msg("not a number"))
	if err == nil || !strings.HasPrefix(err.Error(), `ruleset s: rule "conv": `) {
		t.Fatalf("err = %v", err)
	}
	if p.Summary() != "flag a" {
		t.Errorf("plan before the error = %s", p.Summary())
	}
	if p, err := set.Evaluate(context.Background(), msg("42")); err != nil || p.Summary() != "flag a b c" {
		t.Errorf("number subject: %s, %v", p.Summary(), err)
	}
}

// A Sieve step includes the scripts beside it (include :personal) unless
// the Sieve options name a personal directory (the config's
// sieve.personal_dir), and :global ones from IncludeGlobal.
func TestSieveIncludeDirs(t *testing.T) {
	dir, global := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeSieve(t, filepath.Join(dir, "rules"), "main.sieve", "require \"include\";\ninclude \"lists\";\ninclude :global \"site\";\n")
	writeSieve(t, filepath.Join(dir, "rules"), "lists.sieve", "require [\"fileinto\"];\nif header :contains \"subject\" \"list\" { fileinto \"Lists\"; }\n")
	writeSieve(t, global, "site.sieve", "require [\"imap4flags\"];\naddflag \"site\";\n")
	set, errs := Compile("inbox", []Step{{Sieve: "rules/main.sieve"}}, &Options{BaseDir: dir, Sieve: &sieve.Options{IncludeGlobal: global}})
	if errs != nil {
		t.Fatal(errs)
	}
	p, err := set.Evaluate(context.Background(), msg("a list"))
	if err != nil || p.Summary() != `move "Lists"` {
		t.Errorf("got %q, %v", p.Summary(), err)
	}
	_, errs = Compile("inbox", []Step{{Sieve: "rules/main.sieve"}}, &Options{BaseDir: dir})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `rules/main.sieve:3:17: include :global has no directory to read "site" from (hint: set sieve.global_dir in the config`) {
		t.Errorf("without a global directory: %v", errs)
	}
}
