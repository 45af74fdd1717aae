package sievetestsuite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwarden/mailwarden/rules/sieve"
)

// The runner reports each test case: a test_fail ends its case with the
// reason, a runtime error fails its case, and later cases still run.
func TestRunFileReportsEachCase(t *testing.T) {
	res := RunFile(context.Background(), "testdata/selftest.svtest")
	if res.CompileError != nil || res.RuntimeError != nil {
		t.Fatalf("compile %v, runtime %v", res.CompileError, res.RuntimeError)
	}
	var got []string
	for _, tc := range res.Tests {
		s := tc.Name + "=pass"
		if !tc.Passed {
			s = tc.Name + "=fail:" + tc.Reason
		}
		got = append(got, s)
	}
	want := []string{
		"passes=pass",
		"fails=fail:on purpose",
		"runtime error=fail:testdata/selftest.svtest:26: runtime error: fileinto: empty mailbox name",
		"after the failures=pass",
	}
	if len(got) != len(want) {
		t.Fatalf("cases:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("case %d: %s, want %s…", i, got[i], want[i])
		}
	}
	if res.Passed() != 2 {
		t.Errorf("Passed = %d", res.Passed())
	}
}

// Without require "vnd.dovecot.testsuite", and in the product (no
// Dialect), the testsuite's commands do not exist.
func TestDialectOnlyWhenRequired(t *testing.T) {
	s := &suite{}
	src := []byte(`test "x" { test_fail "y"; }`)
	if _, err := sieve.Compile("t.sieve", src, &sieve.Options{Dialect: s.dialect()}); err == nil || !strings.Contains(err.Error(), `unknown command "test"`) {
		t.Errorf("without require: %v", err)
	}
	if _, err := sieve.Compile("t.sieve", append([]byte(`require "vnd.dovecot.testsuite";`), src...), nil); err == nil || !strings.Contains(err.Error(), `unknown extension "vnd.dovecot.testsuite"`) {
		t.Errorf("without a dialect: %v", err)
	}
	nested := []byte("require \"vnd.dovecot.testsuite\";\nif true { test \"x\" { keep; } }")
	if _, err := sieve.Compile("t.sieve", nested, &sieve.Options{Dialect: s.dialect()}); err == nil || !strings.Contains(err.Error(), "t.sieve:2:11: test must be at the top level of the script") {
		t.Errorf("nested test: %v", err)
	}
}

func TestCompileErrorOfTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.svtest")
	if err := os.WriteFile(p, []byte("require \"vnd.dovecot.testsuite\";\ntest \"x\" { frobnicate; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := RunFile(context.Background(), p)
	if res.CompileError == nil || !strings.Contains(res.CompileError.Error(), `unknown command "frobnicate"`) || len(res.Tests) != 0 {
		t.Errorf("got %+v", res)
	}
}
