// Package layering enforces the import direction of DESIGN.md: rules
// decide, actions act, the engine wires, and arrows point down only.
package layering

import (
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/mailwarden/mailwarden"

// allowed lists, per package, the non-standard-library imports it may
// have: module packages (relative to the module) and external modules
// (full path prefixes). A package not listed may import anything except
// cmd/... (only cmd/mailwarden is a main package, and nothing imports it).
// internal/diag is a stdlib-only helper any layer may use.
var allowed = map[string][]string{
	"rules": {},
	// rules/sieve's i;unicode-casemap (RFC 5051) needs Unicode
	// decomposition (NFKD), which the standard library lacks.
	"rules/sieve":    {"rules", "internal/diag", "golang.org/x/text/unicode/norm"},
	"rules/exprrule": {"rules", "internal/diag", "github.com/expr-lang/expr"},
	"rules/ruleset":  {"rules", "rules/sieve", "rules/exprrule"},
	"actions":        {"rules"},
	// engine/config checks schedules[].cron with the scheduler's own parser,
	// so a bad expression is a located load error, not a surprise at run.
	"engine/config":  {"internal/diag", "go.yaml.in/yaml/v3", "github.com/robfig/cron/v3"},
	"engine/message": {"rules", "github.com/emersion/go-message"},
	"engine/state":   {"actions", "go.etcd.io/bbolt"},
	"engine/imapconn": {"actions", "rules", "github.com/emersion/go-imap/v2",
		"github.com/emersion/go-sasl", "github.com/emersion/go-message"},
	"engine/watch":   {"engine/imapconn", "engine/state", "actions", "rules"},
	"scheduler":      {"github.com/robfig/cron/v3"},
	"scheduler/jobs": {"rules", "actions", "rules/ruleset", "rules/exprrule", "engine/message"},
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], mod), "/")
		for _, imp := range fields[1:] {
			if isStd(imp) {
				continue
			}
			rel, internal := strings.CutPrefix(imp, mod+"/")
			if internal && strings.HasPrefix(rel, "cmd/") {
				t.Errorf("%s imports %s: nothing may import a command", pkg, rel)
			}
			allow, ok := allowed[pkg]
			if !ok {
				continue
			}
			checked++
			name := imp
			if internal {
				name = rel
			}
			if !slices.ContainsFunc(allow, func(a string) bool { return name == a || strings.HasPrefix(name, a+"/") }) {
				t.Errorf("%s imports %s; DESIGN.md allows only %v", pkg, name, allow)
			}
		}
	}
	if checked == 0 {
		t.Fatal("checked no imports: is the module path right?")
	}
}

// isStd reports whether an import path is in the standard library (no dot
// in its first element).
func isStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".") && path.Clean(p) == p
}
