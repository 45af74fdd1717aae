package sieve

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailwarden/mailwarden/rules"
)

func mustCompile(t testing.TB, src string, opts *Options) *Script {
	t.Helper()
	s, err := Compile("f.sieve", []byte(src), opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return s
}

const planMsg = "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Invoice 42\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n"

func testMsg(flags ...string) *rules.Message {
	m := parseTestMessage([]byte(planMsg))
	m.Flags = flags
	return m
}

// The RFC 6785 mapping of a Sieve result onto a rules.Plan.
func TestApplyPlan(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		flags   []string
		summary string
		remove  bool
		trace   []string
		stop    bool
	}{
		{"implicit keep", `keep;`, nil, "keep", false, []string{"f.sieve:1 keep"}, false},
		{"empty script", ``, nil, "keep", false, nil, false},
		{"fileinto moves", "require \"fileinto\";\nfileinto \"Finance\";", nil, `move "Finance"`, true, []string{`f.sieve:2 move "Finance"`}, false},
		{"two fileinto copy then remove", "require \"fileinto\";\nfileinto \"A\";\nfileinto \"B\";", nil, `copy "A"; copy "B"; remove original`, true, nil, false},
		{"fileinto and keep copies", "require \"fileinto\";\nfileinto \"A\";\nkeep;", nil, `copy "A"`, false, nil, false},
		{":copy copies", "require [\"fileinto\", \"copy\"];\nfileinto :copy \"A\";", nil, `copy "A"`, false, nil, false},
		{"fileinto own mailbox is keep", "require \"fileinto\";\nfileinto \"INBOX\";", nil, "keep", false, nil, false},
		{"discard goes to Trash", "discard;", nil, `move "\\Trash"`, true, []string{`f.sieve:1 delete (move to \Trash)`}, false},
		{"discard with fileinto moves only", "require \"fileinto\";\nfileinto \"A\";\ndiscard;", nil, `move "A"`, true, nil, false},
		{"discard then keep keeps", "discard;\nkeep;", nil, "keep", false, nil, false},
		{"flags in place", "require \"imap4flags\";\naddflag \"\\\\Flagged\";", nil, `flag \Flagged`, false, nil, false},
		{"flags start from the message", "require \"imap4flags\";\nremoveflag \"\\\\Seen\";\naddflag \"$X\";", []string{`\Seen`, "$Old"}, `flag $X; unflag \Seen`, false, nil, false},
		{"setflag replaces", "require \"imap4flags\";\nsetflag \"$Only\";", []string{`\Seen`}, `flag $Only; unflag \Seen`, false, nil, false},
		{"fileinto :flags", "require [\"fileinto\", \"imap4flags\"];\nfileinto :flags \"\\\\seen $A\" \"Box\";", nil, `move "Box" flags=\Seen $A`, true, nil, false},
		{"fileinto carries flags", "require [\"fileinto\", \"imap4flags\"];\naddflag \"$A\";\nfileinto \"Box\";", []string{`\Seen`}, `move "Box" flags=\Seen $A`, true, nil, false},
		{"create", "require [\"fileinto\", \"mailbox\"];\nfileinto :create \"New\";", nil, `move "New"`, true, nil, false},
		{"stop ends the rule set", "stop;", nil, "keep", false, []string{"f.sieve stop"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, tt.src, nil)
			var p rules.Plan
			stop, err := s.Apply(context.Background(), testMsg(tt.flags...), &p)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Summary(); got != tt.summary {
				t.Errorf("summary %q, want %q", got, tt.summary)
			}
			if p.Remove != tt.remove {
				t.Errorf("Remove %v, want %v", p.Remove, tt.remove)
			}
			if stop != tt.stop {
				t.Errorf("stop %v, want %v", stop, tt.stop)
			}
			if tt.trace != nil {
				var tr []string
				for _, st := range p.Trace {
					tr = append(tr, st.Rule+" "+st.Action)
				}
				if !reflect.DeepEqual(tr, tt.trace) {
					t.Errorf("trace %q, want %q", tr, tt.trace)
				}
			}
		})
	}
}

func TestApplyCreateAndRule(t *testing.T) {
	s := mustCompile(t, "require [\"fileinto\", \"mailbox\"];\n\nfileinto :create \"New\";", nil)
	var p rules.Plan
	if _, err := s.Apply(context.Background(), testMsg(), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Deliveries) != 1 || !p.Deliveries[0].Create || p.Deliveries[0].Rule != "f.sieve:3" || p.Deliveries[0].Flags != nil {
		t.Errorf("deliveries %+v", p.Deliveries)
	}
}

// A runtime error leaves the plan untouched and is returned (RFC 5228
// §2.10.6: the caller keeps the message).
func TestApplyRuntimeError(t *testing.T) {
	s := mustCompile(t, "require [\"fileinto\", \"variables\"];\nfileinto \"A\";\nfileinto \"${empty}\";", nil)
	var p rules.Plan
	_, err := s.Apply(context.Background(), testMsg(), &p)
	var re *RuntimeError
	if !errors.As(err, &re) || re.Line != 3 {
		t.Fatalf("err = %v", err)
	}
	if !p.IsZero() {
		t.Errorf("plan changed on error: %s", p.Summary())
	}
	res, err := s.Execute(context.Background(), testMsg())
	if err == nil || res.Error == "" || len(res.Actions) != 2 || !res.Actions[1].Implicit {
		t.Errorf("Execute on error: %+v, %v", res, err)
	}
}

// Execute reports the raw result in execution order.
func TestExecuteResult(t *testing.T) {
	s := mustCompile(t, "require [\"fileinto\", \"imap4flags\", \"copy\", \"mailbox\"];\naddflag \"\\\\seen\";\nfileinto :copy :create :flags \"$A\" \"X\";\ndiscard;\n", nil)
	res, err := s.Execute(context.Background(), testMsg("$Old"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Action{
		{Type: "fileinto", Mailbox: "X", Flags: []string{"$A"}, Copy: true, Create: true, Line: 3},
		{Type: "discard", Line: 4},
	}
	if !reflect.DeepEqual(res.Actions, want) {
		t.Errorf("actions\n got %+v\nwant %+v", res.Actions, want)
	}
	s = mustCompile(t, "require \"imap4flags\";\naddflag \"\\\\seen\";\n", nil)
	res, _ = s.Execute(context.Background(), testMsg("$Old"))
	if len(res.Actions) != 1 || !res.Actions[0].Implicit || strings.Join(res.Actions[0].Flags, " ") != `$Old \Seen` {
		t.Errorf("implicit keep: %+v", res.Actions)
	}
}

func TestMailboxExistsOption(t *testing.T) {
	src := "require [\"mailbox\", \"fileinto\"];\nif mailboxexists \"Lists\" { fileinto \"Lists\"; }"
	var p rules.Plan
	if _, err := mustCompile(t, src, nil).Apply(context.Background(), testMsg(), &p); err != nil || p.Summary() != `move "Lists"` {
		t.Errorf("nil MailboxExists: %s %v", p.Summary(), err)
	}
	m := testMsg()
	m.Mailboxes = fakeMailboxes{}
	p = rules.Plan{}
	if _, err := mustCompile(t, src, nil).Apply(context.Background(), m, &p); err != nil || p.Summary() != "keep" {
		t.Errorf("MailboxExists false: %s %v", p.Summary(), err)
	}
	m.Mailboxes = fakeMailboxes{err: errors.New("imap down")}
	if _, err := mustCompile(t, src, nil).Apply(context.Background(), m, &rules.Plan{}); err == nil || !strings.Contains(err.Error(), "imap down") {
		t.Errorf("MailboxExists error not returned: %v", err)
	}
}

// fakeMailboxes has no mailbox and no special-use attribute, or fails
// with err.
type fakeMailboxes struct{ err error }

func (f fakeMailboxes) MailboxExists(context.Context, string) (bool, error) { return false, f.err }
func (f fakeMailboxes) SpecialUseExists(context.Context, string, string) (bool, error) {
	return false, f.err
}

func TestSpecialUse(t *testing.T) {
	src := "require [\"special-use\", \"fileinto\"];\nif specialuse_exists \"\\\\Junk\" { fileinto :specialuse \"\\\\junk\" \"Spam\"; }"
	var p rules.Plan
	if _, err := mustCompile(t, src, nil).Apply(context.Background(), testMsg(), &p); err != nil || p.Summary() != `move "\\Junk"` {
		t.Errorf("special-use: %s %v", p.Summary(), err)
	}
	m := testMsg()
	m.Mailboxes = fakeMailboxes{}
	src = "require [\"special-use\", \"fileinto\"];\nfileinto :specialuse \"\\\\Junk\" \"Spam\";"
	p = rules.Plan{}
	if _, err := mustCompile(t, src, nil).Apply(context.Background(), m, &p); err != nil || p.Summary() != `move "Spam"` {
		t.Errorf("special-use fallback: %s %v", p.Summary(), err)
	}
}

func TestEnvironment(t *testing.T) {
	src := "require [\"environment\", \"fileinto\", \"variables\"];\nif environment :matches \"name\" \"*\" { set \"n\" \"${0}\"; }\nif environment :matches \"phase\" \"*\" { fileinto \"${n}-${0}\"; }\nif environment \"x-custom\" \"yes\" { fileinto \"custom\"; }"
	res, _ := mustCompile(t, src, &Options{Environment: map[string]string{"x-custom": "yes"}}).Execute(context.Background(), testMsg())
	if got := normalize(res, nil); strings.Join(got, "|") != `fileinto "mailwarden-post"|fileinto "custom"` {
		t.Errorf("environment: %q", got)
	}
}

// duplicate: a message is a duplicate only after an earlier successful run.
func TestDuplicate(t *testing.T) {
	store := NewMemoryDuplicateStore()
	s := mustCompile(t, "require [\"duplicate\", \"fileinto\"];\nif duplicate { fileinto \"Dup\"; }", &Options{Duplicates: store})
	for i, want := range []string{"keep", `fileinto "Dup"`} {
		res, err := s.Execute(context.Background(), testMsg())
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(normalize(res, nil), "|"); got != want {
			t.Errorf("run %d: %s, want %s", i, got, want)
		}
	}
	// A failed run does not record.
	store = NewMemoryDuplicateStore()
	s = mustCompile(t, "require [\"duplicate\", \"fileinto\", \"variables\"];\nif duplicate { fileinto \"Dup\"; }\nfileinto \"${none}\";", &Options{Duplicates: store})
	s.Execute(context.Background(), testMsg())
	if seen, _ := store.Seen(context.Background(), "default\x00<x@y>"); seen {
		t.Error("failed execution recorded the message")
	}
}

func TestNeedsBody(t *testing.T) {
	for src, want := range map[string]bool{
		`keep;`: false,
		"require \"body\";\nif body :contains \"x\" { keep; }":                         true,
		"require \"mime\";\nif header :mime :type \"content-type\" \"text\" { keep; }": true,
		"require \"foreverypart\";\nforeverypart { keep; }":                            true,
	} {
		if got := mustCompile(t, src, nil).NeedsBody(); got != want {
			t.Errorf("%q: NeedsBody %v", src, got)
		}
	}
	// Without the body, a body test is a runtime error (implicit keep).
	s := mustCompile(t, "require \"body\";\nif body :contains \"x\" { discard; }", nil)
	m := testMsg()
	m.SetRaw([]byte("Subject: x\r\n\r\n"), true)
	if _, err := s.Apply(context.Background(), m, &rules.Plan{}); !errors.Is(err, rules.ErrBodyNotFetched) {
		t.Errorf("err = %v", err)
	}
}

func TestIMAPSieveEnvironment(t *testing.T) {
	src := "require [\"environment\", \"imapsieve\", \"fileinto\", \"variables\"];\nif environment :matches \"imap.mailbox\" \"*\" { set \"mb\" \"${0}\"; }\nif environment :is \"imap.cause\" \"APPEND\" { fileinto \"from-${mb}\"; }"
	m := testMsg()
	m.Mailbox = "Lists"
	res, err := mustCompile(t, src, nil).Execute(context.Background(), m)
	if err != nil || strings.Join(normalize(res, nil), "|") != `fileinto "from-Lists"` {
		t.Errorf("imapsieve: %v %v", normalize(res, err), err)
	}
}

// Steps of an included script name that script and its line.
func TestIncludedStepRule(t *testing.T) {
	s := mustCompile(t, "require \"include\";\ninclude \"stopper\";", &Options{IncludePersonal: "testdata/include/personal"})
	var p rules.Plan
	stop, err := s.Apply(context.Background(), testMsg(), &p)
	if err != nil || !stop {
		t.Fatalf("stop %v err %v", stop, err)
	}
	if len(p.Deliveries) != 1 || p.Deliveries[0].Rule != "testdata/include/personal/stopper.sieve:2" {
		t.Errorf("deliveries %+v", p.Deliveries)
	}
}
