package sieve

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// Every limit is an error, never a hang.
func TestLimits(t *testing.T) {
	ctx := context.Background()

	// Script size.
	if _, err := Compile("f.sieve", []byte(strings.Repeat("keep;\n", 100)), &Options{MaxScriptSize: 50}); err == nil || !strings.Contains(err.Error(), "more than the limit of 50") {
		t.Errorf("script size: %v", err)
	}

	// Nesting depth: blocks and tests.
	deep := strings.Repeat("if true {", 40) + strings.Repeat("}", 40)
	if _, err := Compile("f.sieve", []byte(deep), nil); err == nil || !strings.Contains(err.Error(), "nested deeper than 32") {
		t.Errorf("block nesting: %v", err)
	}
	deepTest := "if " + strings.Repeat("not ", 100) + "true { keep; }"
	if _, err := Compile("f.sieve", []byte(deepTest), nil); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("test nesting: %v", err)
	}
	// A pathological nesting far beyond the limit neither overflows the
	// stack nor takes long.
	start := time.Now()
	Compile("f.sieve", []byte(strings.Repeat("if anyof(", 100000)), nil)
	if time.Since(start) > 5*time.Second {
		t.Errorf("deep input took %v", time.Since(start))
	}

	// Actions per message.
	src := "require \"fileinto\";\n" + strings.Repeat("fileinto :copy \"x\";\n", 0)
	var b strings.Builder
	b.WriteString("require [\"fileinto\", \"variables\"];\n")
	for i := 0; i < 10; i++ {
		b.WriteString("fileinto \"box" + string(rune('a'+i)) + "\";\n")
	}
	_ = src
	_, err := mustCompile(t, b.String(), &Options{MaxActions: 5}).Execute(ctx, testMsg())
	if err == nil || !strings.Contains(err.Error(), "more than 5 actions") {
		t.Errorf("actions: %v", err)
	}

	// Variable size: values are truncated at a character boundary.
	s := mustCompile(t, "require [\"variables\", \"fileinto\"];\nset \"a\" \"ééééé\";\nfileinto \"${a}\";", &Options{MaxVariableSize: 5})
	res, err := s.Execute(ctx, testMsg())
	if err != nil || res.Actions[0].Mailbox != "éé" {
		t.Errorf("variable size: %+v %v", res, err)
	}

	// Number of variables.
	b.Reset()
	b.WriteString("require \"variables\";\n")
	for i := 0; i < 20; i++ {
		b.WriteString("set \"v" + strings.Repeat("x", i) + "\" \"1\";\n")
	}
	if _, err := mustCompile(t, b.String(), &Options{MaxVariables: 10}).Execute(ctx, testMsg()); err == nil || !strings.Contains(err.Error(), "more than 10 variables") {
		t.Errorf("variables: %v", err)
	}

	// Regex size, at compile time and at run time.
	if _, err := Compile("f.sieve", []byte("require \"regex\";\nif header :regex \"s\" \""+strings.Repeat("a", 100)+"\" { keep; }"), &Options{MaxRegexSize: 50}); err == nil || !strings.Contains(err.Error(), "limit of 50") {
		t.Errorf("regex size: %v", err)
	}

	// Include depth.
	if _, err := Compile("f.sieve", []byte("require \"include\";\ninclude \"nest1\";"), &Options{IncludePersonal: "testdata/include/personal", MaxIncludeDepth: 1}); err == nil || !strings.Contains(err.Error(), "nested deeper than 1") {
		t.Errorf("include depth: %v", err)
	}
}

// Wildcard matching is linear, never exponential.
func TestGlobNoBlowup(t *testing.T) {
	g := compileGlob(strings.Repeat("*a", 30)+"b", true)
	start := time.Now()
	if g.match(strings.Repeat("a", 5000)) {
		t.Error("matched")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("glob took %v", d)
	}
}

func TestGlobCaptures(t *testing.T) {
	tests := []struct {
		pat, s string
		want   []string
	}{
		{"*-*", "a-b-c", []string{"a-b-c", "a", "b-c"}},
		{"?*?", "abc", []string{"abc", "a", "b", "c"}},
		{"*x?y*", "a-b-c xAyz", []string{"a-b-c xAyz", "a-b-c ", "A", "z"}},
		{`\*?`, "*é", []string{"*é", "é"}},
		{"", "", []string{""}},
	}
	for _, tt := range tests {
		got, ok := compileGlob(tt.pat, true).matchCaptures(tt.s)
		if !ok || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%q on %q: %q %v, want %q", tt.pat, tt.s, got, ok, tt.want)
		}
	}
	if compileGlob("a", false).match("A") || !compileGlob("a", true).match("A") {
		t.Error("case folding")
	}
}

func TestNumericComparator(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"42", "042", 0}, {"9", "10", -1}, {"abc", "99999", 1}, {"abc", "x", 0}, {"12abc", "12", 0}, {"", "0", 1}, {"", "abc", 0}, {"abc", "", 0}, {"", "", 0},
		{"99999999999999999999999", "1", 1},
	}
	for _, tt := range tests {
		if got := numericCompare(tt.a, tt.b); got != tt.want {
			t.Errorf("numericCompare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// A cancelled context stops execution.
func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := mustCompile(t, "require \"fileinto\";\nfileinto \"A\";", nil)
	if _, err := s.Apply(ctx, testMsg(), &rules.Plan{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// Scripts are safe for concurrent use.
func TestConcurrentUse(t *testing.T) {
	s := mustCompile(t, "require [\"fileinto\", \"variables\", \"regex\"];\nset \"p\" \"I(n)voice\";\nif header :regex \"subject\" \"${p}\" { fileinto \"${1}\"; }", nil)
	done := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() {
			var p rules.Plan
			s.Apply(context.Background(), testMsg(), &p)
			done <- p.Summary()
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != `move "n"` {
			t.Errorf("got %s", got)
		}
	}
}

func TestMIMEPartsLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := 0; i < 20; i++ {
		b.WriteString("--b\r\nContent-Type: text/plain\r\n\r\npart\r\n")
	}
	b.WriteString("--b--\r\n")
	m := parseTestMessage([]byte(b.String()))
	src := "require \"body\";\nif body :contains \"part\" { discard; }"
	if _, err := mustCompile(t, src, &Options{MaxMIMEParts: 10}).Execute(context.Background(), m); err == nil || !strings.Contains(err.Error(), "more than 10 MIME parts") {
		t.Errorf("parts limit: %v", err)
	}
	if _, err := mustCompile(t, src, nil).Execute(context.Background(), m); err != nil {
		t.Errorf("default limit: %v", err)
	}
}

// The fast path for simple addresses agrees with the full parser.
func FuzzSimpleAddress(f *testing.F) {
	for _, s := range []string{"a@b.example", `"Doe, John" <john@x.example>`, "Alice <alice@example.com>", "x", `"q\"x" <a@b>`, "a.@b.c", "<@r:a@b.c>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		fast, ok := simpleAddress(v)
		if !ok {
			return
		}
		var p mail.AddressParser
		a, err := p.Parse(v)
		if err != nil {
			return // the fast path may accept forms net/mail rejects (e.g. obs-local-part)
		}
		if a.Address != fast {
			t.Fatalf("%q: fast %q, net/mail %q", v, fast, a.Address)
		}
	})
}

// A script that runs longer than MaxRunTime ends with a runtime error
// (the message is kept) instead of holding its watcher for minutes, as
// Pigeonhole's sieve_max_cpu_time does (its execute/errors-cpu-limit
// test).
func TestMaxRunTime(t *testing.T) {
	var msg strings.Builder
	msg.WriteString("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := 0; i < 900; i++ {
		msg.WriteString("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n")
	}
	msg.WriteString("--b--\r\n")
	var src strings.Builder
	src.WriteString("require [\"mime\", \"foreverypart\", \"variables\", \"regex\", \"fileinto\"];\n")
	src.WriteString("set \"a\" \"abababababababababababababababababababababababababababababababab\";\n")
	src.WriteString("set \"b\" \"${a}${a}${a}${a}${a}${a}${a}${a}\";\nset \"c\" \"${b}${b}${b}${b}${b}${b}${b}${b}\";\n")
	src.WriteString("foreverypart {\n")
	for i := 0; i < 32; i++ {
		src.WriteString("  if string :regex \"${c}\" \"^(a|b|ab|ba)*c$\" { fileinto \"x\"; }\n")
	}
	src.WriteString("}\n")
	s := mustCompile(t, src.String(), &Options{MaxRunTime: 50 * time.Millisecond})
	start := time.Now()
	_, err := s.Execute(context.Background(), parseTestMessage([]byte(msg.String())))
	var re *RuntimeError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "execution took longer than 50ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped after %v", d)
	}
}
