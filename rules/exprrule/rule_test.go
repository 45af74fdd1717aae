package exprrule

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

func pos(line, col int) Pos { return Pos{File: "config.yaml", Line: line, Col: col} }

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want []string
	}{
		{
			name: "unknown name mapped into the line",
			spec: Spec{Name: "invoices", When: `subjet contains "invoice"`, Actions: []Action{{Kind: "move", Arg: "Finance"}},
				Pos: pos(12, 7), WhenPos: pos(14, 13), WhenInline: true},
			want: []string{`config.yaml:14:13: rule "invoices": when: unknown name subjet (hint: did you mean subject?)`},
		},
		{
			name: "column offset inside the expression",
			spec: Spec{Name: "x", When: `size > 10 && lisst_id == "a"`, Actions: []Action{{Kind: "flag", Arg: "a"}},
				WhenPos: pos(3, 12), WhenInline: true},
			want: []string{`config.yaml:3:25: rule "x": when: unknown name lisst_id (hint: did you mean list_id?)`},
		},
		{
			name: "multi-line expression keeps the value position",
			spec: Spec{Name: "x", When: "size > 10 &&\n  sender == \"a\"", Actions: []Action{{Kind: "flag", Arg: "a"}},
				WhenPos: pos(3, 12)},
			want: []string{`config.yaml:3:12: rule "x": when: unknown name sender (at line 2, column 3 of the expression) (hint: use from (the first From address), or header("Sender"))`},
		},
		{
			name: "address field typo",
			spec: Spec{Name: "boss", When: `from.adress == "boss@example.com"`, Actions: []Action{{Kind: "flag", Arg: `\Flagged`}},
				WhenPos: pos(5, 10), WhenInline: true},
			want: []string{`config.yaml:5:15: rule "boss": when: an address has no field adress (hint: did you mean address?)`},
		},
		{
			name: "not a boolean",
			spec: Spec{Name: "x", When: `subject`, Actions: []Action{{Kind: "flag", Arg: "a"}}, WhenPos: pos(2, 5), WhenInline: true},
			want: []string{`config.yaml:2:5: rule "x": when: the expression must be true or false, but it is a string (hint: compare it, e.g. subject contains "x")`},
		},
		{
			name: "type mismatch",
			spec: Spec{Name: "x", When: `size > "big"`, Actions: []Action{{Kind: "flag", Arg: "a"}}, WhenPos: pos(2, 5), WhenInline: true},
			want: []string{`config.yaml:2:10: rule "x": when: invalid operation: > (mismatched types int and string)`},
		},
		{
			name: "bad regex is a compile error",
			spec: Spec{Name: "x", When: `subject matches "(unclosed"`, Actions: []Action{{Kind: "flag", Arg: "a"}}, WhenPos: pos(2, 5), WhenInline: true},
			want: []string{"config.yaml:2:13: rule \"x\": when: error parsing regexp: missing closing ): `(unclosed`"},
		},
		{
			// The rule, with a unit that does not exist: it would
			// fail for every message at run time.
			name: "bad duration literal",
			spec: Spec{Name: "old", When: `age > duration("30x")`, Actions: []Action{{Kind: "flag", Arg: "a"}}, WhenPos: pos(2, 5), WhenInline: true},
			want: []string{`config.yaml:2:11: rule "old": when: duration("30x") fails for every message: invalid duration "30x": unknown unit "x" (hint: durations are written like 90s, 10m, 1h30m, 7d, 2w)`},
		},
		{
			name: "the innermost failing constant part is named",
			spec: Spec{Name: "x", When: `{"a": duration("1h") + duration("2y")}.a > age`, Actions: []Action{{Kind: "flag", Arg: "a"}},
				WhenPos: pos(2, 5), WhenInline: true},
			want: []string{`config.yaml:2:28: rule "x": when: duration("2y") fails for every message: invalid duration "2y": unknown unit "y" (hint: durations are written like 90s, 10m, 1h30m, 7d, 2w)`},
		},
		{
			name: "a constant part in a branch that is never taken is still wrong",
			spec: Spec{Name: "x", When: `size > 0 || false && int("n/a") > size`, Actions: []Action{{Kind: "flag", Arg: "a"}},
				WhenPos: pos(2, 5), WhenInline: true},
			want: []string{`config.yaml:2:26: rule "x": when: int("n/a") fails for every message: invalid operation: int(n/a)`},
		},
		{
			name: "constant part of a multi-line expression",
			spec: Spec{Name: "x", When: "size > 10 &&\n  int(\"n/a\") > size", Actions: []Action{{Kind: "flag", Arg: "a"}}, WhenPos: pos(3, 12)},
			want: []string{`config.yaml:3:12: rule "x": when: int("n/a") fails for every message: invalid operation: int(n/a) (at line 2, column 3 of the expression)`},
		},
		{
			name: "assignment instead of comparison",
			spec: Spec{Name: "x", When: `subject = "a"`, Actions: []Action{{Kind: "flag", Arg: "a"}}, WhenPos: pos(2, 5), WhenInline: true},
			want: []string{`config.yaml:2:13: rule "x": when: unexpected token Operator("=") (hint: compare with ==)`},
		},
		{
			name: "too many nodes",
			spec: Spec{Name: "x", When: strings.Repeat("size > 1 && ", 400) + "true", Actions: []Action{{Kind: "flag", Arg: "a"}}, WhenPos: pos(2, 5), WhenInline: true},
			want: []string{`config.yaml:2:3014: rule "x": when: the expression is too large (more than 1000 nodes) (hint: split it into several rules, or raise limits.expr_max_nodes)`},
		},
		{
			name: "every action problem at once",
			spec: Spec{Name: "bad", When: `true`, Pos: pos(1, 3), WhenPos: pos(2, 11), WhenInline: true, Actions: []Action{
				{Kind: "mvoe", Arg: "X", Pos: pos(3, 17)},
				{Kind: "flag", Arg: `\Important`, Pos: pos(4, 17)},
				{Kind: "flag", Arg: `two words`, Pos: pos(5, 17)},
				{Kind: "move", Arg: "", Pos: pos(6, 17)},
				{Kind: "move", Arg: `\Spam`, Pos: pos(7, 17)},
				{Kind: "delete", Arg: "false", Pos: pos(8, 17)},
				{Kind: "delete", Arg: "maybe", Pos: pos(9, 17)},
			}},
			want: []string{
				`config.yaml:3:17: rule "bad": actions[0]: unknown action "mvoe" (hint: did you mean move?)`,
				`config.yaml:4:17: rule "bad": actions[1]: flag: unknown system flag "\\Important" (hint: system flags are \Seen, \Answered, \Flagged, \Deleted, \Draft; a keyword (label) has no backslash)`,
				`config.yaml:5:17: rule "bad": actions[2]: flag: "two words" is not a valid keyword (hint: a keyword is one word without spaces or any of ( ) { } % * " \ ])`,
				`config.yaml:6:17: rule "bad": actions[3]: move: mailbox name is empty`,
				`config.yaml:7:17: rule "bad": actions[4]: move: unknown special-use mailbox "\\Spam" (hint: special-use names are \Trash, \Junk, \Archive, \Sent, \Drafts, \All, \Flagged; a mailbox name has no leading backslash)`,
				`config.yaml:8:17: rule "bad": actions[5]: delete: false does nothing (hint: remove the action)`,
				`config.yaml:9:17: rule "bad": actions[6]: delete: want true, got "maybe" (hint: write ` + "`delete: true`" + `)`,
			},
		},
		{
			name: "missing name, when and actions",
			spec: Spec{Pos: pos(20, 7)},
			want: []string{
				`config.yaml:20:7: rule "": name: missing (hint: every rule needs a name, used in logs, the journal and ` + "`mailwarden test`" + `)`,
				`config.yaml:20:7: rule "": when: missing (hint: write a boolean expression, e.g. 'subject contains "invoice"', or 'true' to match every message)`,
				`config.yaml:20:7: rule "": actions: the rule does nothing (hint: add actions, or ` + "`stop: true`" + ` to end the rule set for matching messages)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, errs := Compile(tt.spec, nil)
			if r != nil {
				t.Errorf("got a rule despite errors")
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func msg(headers string) *rules.Message {
	// A tiny header parser for tests (engine/message would be a cycle-free
	// import, but exprrule tests stay self-contained).
	var fields []rules.Field
	for _, line := range strings.Split(strings.TrimSpace(headers), "\n") {
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		fields = append(fields, rules.Field{Name: name, Raw: value, Value: value})
	}
	return &rules.Message{
		Account: "demo", Mailbox: "INBOX", UID: 42, Size: 2048,
		Header:       rules.NewHeader(fields),
		Flags:        []string{`\Seen`, "vip"},
		InternalDate: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC),
		Date:         time.Date(2024, 6, 1, 11, 59, 0, 0, time.UTC),
	}
}

func TestEvaluate(t *testing.T) {
	m := msg(`
From: "The Boss" <Boss@Example.COM>
To: a@example.org, "Team" <team@example.com>
Cc: c@lists.example.net
Reply-To: noreply@example.com
Subject: Your invoice #123
List-Id: Go Nuts <Golang-Nuts.example.org>
Message-ID: <abc@example.com>
X-Spam-Score: 7.5
Received: one
Received: two`)
	now := func() time.Time { return time.Date(2024, 6, 11, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		when string
		want bool
	}{
		{`subject contains "invoice"`, true},
		{`subject matches "(?i)^your INVOICE"`, true},
		{`from.address == "Boss@example.com"`, true},
		{`lower(from.address) == "boss@example.com"`, true},
		{`from.name == "The Boss" && from.domain == "example.com" && from.local == "Boss"`, true},
		{`"team@example.com" in map(to, .address)`, true},
		{`any(to, .domain == "example.com")`, true},
		{`all(to, .domain == "example.com")`, false},
		{`len(cc) == 1 && cc[0].domain endsWith "example.net"`, true},
		{`reply_to[0].local == "noreply"`, true},
		{`list_id == "golang-nuts.example.org"`, true},
		{`message_id == "abc@example.com"`, true},
		{`header("x-spam-score") == "7.5" && float(header("X-Spam-Score")) > 5`, true},
		{`header("X-Missing") == "" && !has_header("X-Missing") && has_header("list-id")`, true},
		{`headers("Received") == ["one", "two"]`, true},
		{`age > duration("216h") && age < duration("241h")`, true},
		// duration() takes the config file's units: d and w too.
		{`age > duration("30d")`, false},
		{`age > duration("9d") && age < duration("11d")`, true},
		{`age > duration("1w") && age < duration("1.5w") && age < duration("1w3d12h")`, true},
		{`duration("-1h") < duration("0") && duration("90m") == duration("1h30m")`, true},
		{`internal_date.Year() == 2024 && date < internal_date`, true},
		{`size > 1024 && size < 4096`, true},
		{`has_flag("\\seen") && "vip" in flags && !has_flag("\\Flagged")`, true},
		{`mailbox == "INBOX" && account == "demo"`, true},
	}
	for _, tt := range tests {
		r, errs := Compile(Spec{Name: "t", When: tt.when, Actions: []Action{{Kind: "flag", Arg: "x"}}}, &Options{Now: now})
		if errs != nil {
			t.Errorf("%s: %v", tt.when, errs)
			continue
		}
		got, err := r.Match(m)
		if err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.when, got, err, tt.want)
		}
	}
}

// Only the parts of an expression that do not depend on the message are
// evaluated at compile time: a part that fails for some messages only is
// no compile error, and at run time it fails only that message, as before.
func TestConstantPartsOnly(t *testing.T) {
	r, errs := Compile(Spec{Name: "t", When: `split(subject, ":")[1] == " b" && age > duration("1d")`, Actions: []Action{{Kind: "flag", Arg: "x"}}}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	if ok, err := r.Match(msg("Subject: a: b")); !ok || err != nil {
		t.Errorf("subject with a colon: %v, %v", ok, err)
	}
	if _, err := r.Match(msg("Subject: no colon")); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("subject without a colon: want an index error, got %v", err)
	}
}

func TestZeroValues(t *testing.T) {
	m := &rules.Message{}
	r, errs := Compile(Spec{Name: "t", When: `from.address == "" && len(to) == 0 && subject == "" && list_id == "" && date.IsZero()`, Stop: true}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	if ok, err := r.Match(m); !ok || err != nil {
		t.Errorf("Match = %v, %v", ok, err)
	}
}

func TestApply(t *testing.T) {
	m := msg("From: boss@example.com\nSubject: hi")
	r, errs := Compile(Spec{Name: "boss", When: `from.address == "boss@example.com"`, Stop: true, Actions: []Action{
		{Kind: "flag", Arg: `\flagged`}, {Kind: "flag", Arg: "vip"}, {Kind: "unflag", Arg: `\Seen`},
		{Kind: "copy", Arg: "Archive/Boss"}, {Kind: "move", Arg: "Boss"}, {Kind: "move", Arg: `\junk`},
	}}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	var p rules.Plan
	stop, err := r.Apply(context.Background(), m, &p)
	if err != nil || !stop {
		t.Fatalf("Apply = %v, %v", stop, err)
	}
	if got, want := p.Summary(), `flag \Flagged vip; unflag \Seen; copy "Archive/Boss"; copy "Boss"; copy "\\Junk"; remove original`; got != want {
		t.Errorf("Summary = %s\nwant      %s", got, want)
	}
	if !p.Deliveries[0].Create || p.Deliveries[2].Create {
		t.Errorf("Create: %+v", p.Deliveries)
	}
	var trace []string
	for _, s := range p.Trace {
		if s.Rule != "boss" {
			t.Errorf("step rule = %q", s.Rule)
		}
		trace = append(trace, s.Action)
	}
	if got, want := strings.Join(trace, "; "), `flag \Flagged; flag vip; unflag \Seen; copy "Archive/Boss"; move "Boss"; move "\\Junk"; stop`; got != want {
		t.Errorf("Trace = %s\nwant    %s", got, want)
	}

	del, _ := Compile(Spec{Name: "spam", When: `true`, Actions: []Action{{Kind: "delete", Arg: "true"}}}, nil)
	var p2 rules.Plan
	if stop, err := del.Apply(context.Background(), m, &p2); stop || err != nil || p2.Summary() != `move "\\Trash"` {
		t.Errorf("delete: %v %v %s", stop, err, p2.Summary())
	}

	no, _ := Compile(Spec{Name: "no", When: `false`, Stop: true}, nil)
	var p3 rules.Plan
	if stop, err := no.Apply(context.Background(), m, &p3); stop || err != nil || !p3.IsZero() || len(p3.Trace) != 0 {
		t.Errorf("non-match: %v %v %+v", stop, err, p3)
	}
}

func TestApplyPanicAndContext(t *testing.T) {
	r, _ := Compile(Spec{Name: "p", When: `subject == "x"`, Stop: true}, nil)
	var p rules.Plan
	_, err := r.Apply(context.Background(), nil, &p)
	var pe *rules.PanicError
	if !errors.As(err, &pe) || pe.Rule != "p" || len(pe.Stack) == 0 {
		t.Errorf("err = %v, want a PanicError with a stack", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Apply(ctx, msg("Subject: x"), &p); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v", err)
	}
}

func TestNeeds(t *testing.T) {
	r, _ := Compile(Spec{Name: "n", When: `any(to, .domain == "x") && subject != "" && header("a") == ""`, Stop: true}, nil)
	if r.need != needTo|needSubject {
		t.Errorf("need = %b", r.need)
	}
}

func TestConcurrent(t *testing.T) {
	r, _ := Compile(Spec{Name: "c", When: `from.address == "a@example.com" && subject contains "x"`, Stop: true}, nil)
	done := make(chan bool)
	for i := range 8 {
		go func() {
			m := msg("From: a@example.com\nSubject: x")
			if i%2 == 1 {
				m = msg("From: b@example.com\nSubject: x")
			}
			for range 200 {
				ok, err := r.Match(m)
				if err != nil || ok != (i%2 == 0) {
					t.Errorf("goroutine %d: %v %v", i, ok, err)
				}
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
}

func TestDidYouMean(t *testing.T) {
	for in, want := range map[string]string{"subjet": "subject", "form": "from", "listid": "list_id", "zzz": "", "hasflag": "has_flag", "to": "to"} {
		if got := didYouMean(in, envNameList()); got != want {
			t.Errorf("didYouMean(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzCompile(f *testing.F) {
	f.Add(`subject contains "invoice"`, "move", "Finance")
	f.Add(`any(to, .domain == "example.com") && age > duration("24h")`, "flag", `\Flagged`)
	f.Add(`header("X-Spam-Score") matches "^[0-9]"`, "delete", "true")
	m := msg("From: a@example.com\nTo: b@example.org\nSubject: x\nX-Spam-Score: 9")
	f.Fuzz(func(t *testing.T, when, kind, arg string) {
		r, errs := Compile(Spec{Name: "f", When: when, Actions: []Action{{Kind: kind, Arg: arg}}, WhenInline: true}, nil)
		if (r == nil) == (len(errs) == 0) {
			t.Fatalf("rule %v with errors %v", r, errs)
		}
		if r != nil {
			var p rules.Plan
			r.Apply(context.Background(), m, &p)
		}
	})
}

func TestNumber(t *testing.T) {
	for in, want := range map[string]float64{"9.8": 9.8, " -2.5 (x)": -2.5, "7/10": 7, "": 0, "YES": 0, "5.": 5, ".5": 0.5, "-": 0, "1e5": 1} {
		if got := Number(in); got != want {
			t.Errorf("Number(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestWhenCols(t *testing.T) {
	// when: "subject == \"a\" && sizee > 1" with the opening quote at
	// column 13: each \" is two file columns for one character.
	when := `subject == "a" && sizee > 1`
	var cols []int
	c := 14
	for i := range len(when) {
		cols = append(cols, c)
		c++
		if i == 11 || i == 13 {
			c++
		}
	}
	_, errs := Compile(Spec{Name: "x", When: when, Stop: true, WhenPos: pos(7, 14), WhenCols: cols}, nil)
	want := `config.yaml:7:34: rule "x": when: unknown name sizee (hint: did you mean size?)`
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("errors = %v\nwant %s", errs, want)
	}
	_, errs = Compile(Spec{Name: "x", When: `subject ==`, Stop: true, WhenPos: pos(7, 14), WhenCols: []int{14, 15, 16, 17, 18, 19, 20, 21, 22, 23}}, nil)
	want = `config.yaml:7:23: rule "x": when: unexpected token EOF`
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("errors = %v\nwant %s", errs, want)
	}
}

func TestHeaderFields(t *testing.T) {
	for _, tc := range []struct {
		when string
		want string
		all  bool
	}{
		{`subject contains "x"`, "Subject", false},
		{`from.address == "a@b" && size > 10`, "From", false},
		{`header("X-Spam-Flag") == "YES" || has_header("List-Unsubscribe")`, "X-Spam-Flag List-Unsubscribe", false},
		{`list_id == "x" && message_id != "" && len(headers("Received")) > 3`, "List-Id Message-ID Received", false},
		{`age > duration("1h") && has_flag("\\Seen")`, "", false},
		{`any(["X-A", "X-B"], header(#) != "")`, "", true},
		{`len(map(["X-A"], header)) > 0`, "", true},
	} {
		r, errs := Compile(Spec{Name: "r", When: tc.when, Actions: []Action{{Kind: "flag", Arg: "x"}}}, nil)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", tc.when, errs)
		}
		names, all := r.HeaderFields()
		if strings.Join(names, " ") != tc.want || all != tc.all {
			t.Errorf("%s: fields %q all %v; want %q %v", tc.when, names, all, tc.want, tc.all)
		}
	}
}
