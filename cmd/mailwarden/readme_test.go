package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's steps for a new user, as written: copy the example as it
// says (into a fresh HOME), then `check` the copy as it says. The copy
// must pass check as it is, before any edit.
func TestReadmeNewcomerSteps(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Using it with your own account\n")
	if !ok {
		t.Fatal("README has no section \"Using it with your own account\"")
	}
	_, block, _ := strings.Cut(section, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, ".config"), 0o700); err != nil { // as on most systems
		t.Fatal(err)
	}
	var checkArgs []string
	for _, line := range strings.Split(block, "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		cmd = strings.TrimSpace(cmd)
		switch {
		case strings.HasPrefix(cmd, "mkdir "), strings.HasPrefix(cmd, "cp "):
			sh := exec.Command("sh", "-c", cmd)
			sh.Dir = "../.."
			sh.Env = append(os.Environ(), "HOME="+home)
			if out, err := sh.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, out)
			}
		case strings.HasPrefix(cmd, "./mailwarden check "):
			for _, f := range strings.Fields(strings.TrimPrefix(cmd, "./mailwarden ")) {
				checkArgs = append(checkArgs, strings.Replace(f, "~", home, 1))
			}
		}
	}
	if len(checkArgs) == 0 {
		t.Fatalf("no ./mailwarden check line in the README's steps:\n%s", block)
	}
	code, out, errw := runCmd(t, checkArgs...)
	if code != exitOK || !strings.HasPrefix(out, filepath.Join(home, ".config")) {
		t.Errorf("%s: exit %d\n%s%s", strings.Join(checkArgs, " "), code, out, errw)
	}
}
