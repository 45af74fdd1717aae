package sieve_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailwarden/mailwarden/internal/sievetestsuite"
)

// TestSvtest runs every .svtest file (Pigeonhole's vnd.dovecot.testsuite
// format) under SIEVE_SVTEST_DIR, by default the project's own in
// testdata/svtest, one subtest per file and per test case. Pointed at
// Pigeonhole's tests directory it measures how much of Pigeonhole's own
// suite passes here:
//
//	SIEVE_SVTEST_DIR=/path/to/pigeonhole/tests go test ./rules/sieve -run TestSvtest
func TestSvtest(t *testing.T) {
	dir := os.Getenv("SIEVE_SVTEST_DIR")
	if dir == "" {
		dir = "testdata/svtest"
	}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".svtest") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no .svtest files under %s (%v)", dir, err)
	}
	var cases, passed, broken int
	for _, f := range files {
		name, _ := filepath.Rel(dir, f)
		t.Run(name, func(t *testing.T) {
			res := sievetestsuite.RunFile(context.Background(), f)
			if res.CompileError != nil {
				broken++
				lines := strings.Split(res.CompileError.Error(), "\n")
				t.Fatalf("does not compile (%d errors), first: %s", len(lines), lines[0])
			}
			for _, tc := range res.Tests {
				cases++
				if tc.Passed {
					passed++
					continue
				}
				t.Errorf("line %d: test %q failed: %s", tc.Line, tc.Name, tc.Reason)
			}
			if res.RuntimeError != nil {
				broken++
				t.Errorf("runtime error: %v", res.RuntimeError)
			}
		})
	}
	t.Logf("svtest: %d files under %s: %d of %d test cases pass; %d files did not compile or ended in a runtime error",
		len(files), dir, passed, cases, broken)
}
