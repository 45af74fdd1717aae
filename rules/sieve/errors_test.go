package sieve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Compile errors: every one located, with the offending token and a hint
// where one is obvious. The tests assert the exact text.
func TestCompileErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"fileint \"x\";", `f.sieve:1:1: unknown command "fileint" (hint: did you mean "fileinto"?)`},
		{"fileinto \"x\";", "f.sieve:1:1: fileinto requires `require \"fileinto\";` (hint: add `require \"fileinto\";` at the top of the script)"},
		{"require \"fileinto2\";", `f.sieve:1:9: unknown extension "fileinto2" (hint: did you mean "fileinto"?)`},
		{"if headr \"a\" \"b\" { keep; }", `f.sieve:1:4: unknown test "headr" (hint: did you mean "header"?)`},
		{"if header :iss \"a\" \"b\" { keep; }", `f.sieve:1:11: unknown tagged argument :iss for header (hint: did you mean ":is"?)`},
		{"if header :regex \"a\" \"b\" { keep; }", "f.sieve:1:11: :regex requires `require \"regex\";` (hint: add `require \"regex\";` at the top of the script)"},
		{"if header :is :contains \"a\" \"b\" { keep; }", `f.sieve:1:15: conflicting match tags for header (hint: :is and :contains exclude each other)`},
		{"keep\ndiscard;", `f.sieve:2:1: expected ";" after "keep", found identifier "discard" (hint: end the command with ";")`},
		{"keep;\nrequire \"fileinto\";", `f.sieve:2:1: require must come before other commands (hint: move every require to the top of the script)`},
		{"redirect \"a@b.example\";", "f.sieve:1:1: redirect is not available: no smtp: section to send with (hint: configure the smtp: section to send it, or set `unsupported: skip` on this script's rule set step to skip it (the message is kept))"},
		{"require \"vacation\";\nvacation \"away\";", "f.sieve:2:1: vacation is not available: no smtp: section to send with (hint: configure the smtp: section to send it, or set `unsupported: skip` on this script's rule set step to skip it (the message is kept))"},
		{"require \"reject\";\nreject \"no\";", "f.sieve:2:1: reject is not available: mail handled here is already delivered and cannot be refused (RFC 6785 §3.11) (hint: set `unsupported: skip` on this script's rule set step to keep such messages (a warning is logged each time), or use discard or fileinto)"},
		{"require \"envelope\";\nif envelope \"to\" \"a@b.example\" { keep; }", "f.sieve:2:4: envelope is not available: there is no envelope after delivery (RFC 6785 §4.6) (hint: set sieve.envelope_from_headers: true to read Return-Path and Delivered-To as the envelope, or `unsupported: skip` on this script's rule set step (messages that reach the test are kept unchanged); or test those headers with address and header)"},
		{"require \"envelope\";\nif envelope \"auth\" \"a@b.example\" { keep; }", `f.sieve:2:4: envelope is not available: there is no envelope after delivery (RFC 6785 §4.6) (hint: set sieve.envelope_from_headers: true to read Return-Path and Delivered-To as the envelope, or ` + "`unsupported: skip`" + ` on this script's rule set step (messages that reach the test are kept unchanged); or test those headers with address and header)`},
		{"redirect \"not an address\";", `f.sieve:1:10: invalid redirect address "not an address" (hint: redirect takes one address, e.g. "someone@example.com")`},
		{"require \"vnd.dovecot.debug\";\ndebug_log \"x\";", `f.sieve:2:1: unknown command "debug_log" (hint: debug_log belongs to the "vnd.dovecot.debug" extension, which mailwarden does not implement)`},
		{"if jmapquery \"{}\" { keep; }", `f.sieve:1:4: unknown test "jmapquery" (hint: jmapquery belongs to the "vnd.cyrus.jmapquery" extension, which mailwarden does not implement)`},
		{"if address \"subject\" \"x\" { keep; }", `f.sieve:1:12: header "subject" is not allowed in the address test (hint: the address test reads address headers such as from, to, cc, sender, reply-to; use header for others)`},
		{"if size 10 { keep; }", `f.sieve:1:4: size needs :over or :under (hint: usage: size :over|:under <number>)`},
		{"if header :comparator \"i;asci-casemap\" \"a\" \"b\" { keep; }", `f.sieve:1:23: unknown comparator "i;asci-casemap" (hint: did you mean "i;ascii-casemap"?)`},
		{"else { keep; }", `f.sieve:1:1: else without a preceding if (hint: elsif and else must follow an if or elsif block)`},
		{"if true { keep;", `f.sieve:1:1: block of "if" is not closed (hint: close the block with "}")`},
		{"header :is \"a\" \"b\";", `f.sieve:1:1: "header" is a test, not a command (hint: tests go inside if/elsif, e.g. if header … { … })`},
		{"require \"variables\";\nset \"1a\" \"x\";", `f.sieve:2:5: invalid variable name "1a" (hint: variable names are letters, digits and _, not starting with a digit)`},
		{"require \"regex\";\nif header :regex \"s\" \"(\" { keep; }", `f.sieve:2:22: invalid regular expression "(": error parsing regexp: missing closing ): ` + "`(`" + ` (hint: regular expressions are RE2 (POSIX ERE syntax works))`},
		{"require \"include\";\ninclude \"x\";", `f.sieve:2:9: include :personal has no directory to read "x" from (hint: set sieve.personal_dir in the config (mailwarden test: --sieve-personal-dir), or add :optional)`},
		{"require \"include\";\ninclude :global \"x\";", `f.sieve:2:17: include :global has no directory to read "x" from (hint: set sieve.global_dir in the config (mailwarden test: --sieve-global-dir), or add :optional)`},
		{"require \"date\";\nif date \"date\" \"yaer\" \"2024\" { keep; }", `f.sieve:2:16: unknown date part "yaer" (hint: did you mean "year"?)`},
	}
	for _, tt := range tests {
		_, err := Compile("f.sieve", []byte(tt.src), nil)
		if err == nil {
			t.Errorf("%q compiled", tt.src)
			continue
		}
		var list ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("error is %T, want ErrorList", err)
		}
		if got := list[0].Error(); got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// All errors are collected, in source order, one per line.
func TestErrorListCollectsAll(t *testing.T) {
	src := "fileint \"x\";\nif headr \"a\" \"b\" { keep; }\nif size 1 { stop; }\nrequire \"foo\";\n"
	_, err := Compile("f.sieve", []byte(src), nil)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d errors, want 5:\n%s", len(lines), err)
	}
	for i, prefix := range []string{"f.sieve:1:1:", "f.sieve:2:4:", "f.sieve:3:4:", "f.sieve:4:1:", "f.sieve:4:9:"} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], prefix)
		}
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 {
		t.Errorf("errors.As(*Error) = %v", e)
	}
}

func TestCompileFile(t *testing.T) {
	s, err := CompileFile("testdata/bench/filters.sieve", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "testdata/bench/filters.sieve" || s.NeedsBody() {
		t.Errorf("Name %q NeedsBody %v", s.Name(), s.NeedsBody())
	}
	if _, err := CompileFile("testdata/none.sieve", nil); err == nil || !strings.HasPrefix(err.Error(), "testdata/none.sieve: open") {
		t.Errorf("missing file: %v", err)
	}
}

// Where include finds scripts (RFC 6609 §3.1, §3.2).
func TestIncludeLocations(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("lists.sieve", "require \"fileinto\";\nfileinto \"Lists\";\n")
	main := write("main.sieve", "require [\"include\"];\ninclude \"lists\";\ninclude :optional :global \"site\";\ninclude :optional \"missing\";\n")

	// A script read from a file includes its siblings; :optional skips a
	// script that is missing, or a location that is not configured.
	s, err := CompileFile(main, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Execute(context.Background(), testMsg())
	if got := strings.Join(normalize(res, err), " | "); got != `fileinto "Lists"` {
		t.Errorf("CompileFile: %s", got)
	}

	// A configured personal directory wins over the script's own.
	other := t.TempDir()
	if _, err := CompileFile(main, &Options{IncludePersonal: other}); err == nil ||
		!strings.Contains(err.Error(), `main.sieve:2:9: include "lists": open `+filepath.Join(other, "lists.sieve")+`: no such file or directory (hint: add :optional to skip it when it is missing, or set sieve.personal_dir in the config (mailwarden test: --sieve-personal-dir))`) {
		t.Errorf("personal dir from Options: %v", err)
	}

	// RFC 6609 §3.2: a recursive include :once counts as included.
	write("loop-a.sieve", "require [\"include\", \"fileinto\"];\nfileinto \"A\";\ninclude \"loop-b\";\n")
	write("loop-b.sieve", "require [\"include\", \"fileinto\"];\nfileinto \"B\";\ninclude :once \"loop-a\";\n")
	s, err = CompileFile(filepath.Join(dir, "loop-a.sieve"), nil)
	if err != nil {
		t.Fatalf("recursive include :once: %v", err)
	}
	res, err = s.Execute(context.Background(), testMsg())
	if got := strings.Join(normalize(res, err), " | "); got != `fileinto "A" | fileinto "B"` {
		t.Errorf("recursive include :once: %s", got)
	}
	write("loop-c.sieve", "require \"include\";\ninclude \"loop-c\";\n")
	if _, err := CompileFile(filepath.Join(dir, "loop-c.sieve"), nil); err == nil || !strings.Contains(err.Error(), `recursive include of "loop-c"`) {
		t.Errorf("recursive include without :once: %v", err)
	}

	// From bytes there is no script directory: only :optional compiles.
	if _, err := Compile("f.sieve", []byte("require \"include\";\ninclude :optional \"lists\";"), nil); err != nil {
		t.Errorf("optional without a directory: %v", err)
	}
}

// A require that names an extension mailwarden knows but does not
// implement is fine until the script uses it; an unknown name is still an
// error (it is most likely a typo).
func TestRequireUnusedExtensions(t *testing.T) {
	src := `require ["fileinto", "vacation", "envelope", "reject", "enotify", "editheader",
         "vacation-seconds", "imapflags", "vnd.dovecot.debug", "vnd.proton.expire", "mboxmetadata"];
if header :contains "subject" "invoice" { fileinto "Finance"; }`
	s, err := Compile("f.sieve", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Execute(context.Background(), testMsg())
	if got := strings.Join(normalize(res, err), " | "); got != `fileinto "Finance"` {
		t.Errorf("got %s", got)
	}
	if _, err := Compile("f.sieve", []byte(`require "fileinot";`), nil); err == nil ||
		err.Error() != `f.sieve:1:9: unknown extension "fileinot" (hint: did you mean "fileinto"?)` {
		t.Errorf("typo: %v", err)
	}
	// A test of an unimplemented extension is false under ihave, and its
	// block is not compiled (RFC 5463 §4).
	if _, err := Compile("f.sieve", []byte("require [\"ihave\", \"vacation\"];\nif ihave \"vacation\" { vacation \"away\"; }"), nil); err != nil {
		t.Errorf("ihave: %v", err)
	}
}

// An unknown or unsupported command (or test) is reported once per
// script, at its first use, with the lines of the others.
func TestUnknownCommandOnce(t *testing.T) {
	src := "require [\"vacation\", \"envelope\"];\n" +
		"if header :is \"x-a\" \"1\" { vacation \"a\"; }\n" +
		"if header :is \"x-b\" \"1\" { vacation \"b\"; }\n" +
		"if envelope :is \"from\" \"x\" { vacation \"c\"; vacation \"d\"; }\n" +
		"if envelope :is \"to\" \"x\" { fileinto \"X\"; }\n" +
		"fileinto \"Y\";\n"
	_, err := Compile("f.sieve", []byte(src), nil)
	if err == nil {
		t.Fatal("compiled")
	}
	want := []string{
		"f.sieve:2:27: vacation is not available: no smtp: section to send with; also at lines 3, 4 (hint: configure the smtp: section to send it, or set `unsupported: skip` on this script's rule set step to skip it (the message is kept))",
		"f.sieve:4:4: envelope is not available: there is no envelope after delivery (RFC 6785 §4.6); also at line 5 (hint: set sieve.envelope_from_headers: true to read Return-Path and Delivered-To as the envelope, or `unsupported: skip` on this script's rule set step (messages that reach the test are kept unchanged); or test those headers with address and header)",
		"f.sieve:5:28: fileinto requires `require \"fileinto\";`; also at line 6 (hint: add `require \"fileinto\";` at the top of the script)",
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
