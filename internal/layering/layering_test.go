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

// allowed is DESIGN.md's package table: per package, the non-standard-
// library imports it may have, as module packages (relative to the module)
// or external modules (full path prefixes). Every package of the module
// must be listed (a new package states its place in the layers), except
// cmd/mailwarden (wiring, may import anything but another command) and the
// test helpers under internal/.
//
// Beyond the table, three arrows are deliberate, each for a stated reason:
//   - internal/diag is a stdlib-only helper (one source position type and
//     one did-you-mean) that every layer reporting located errors uses.
//   - internal/duration is the stdlib-only parser of "30d"-style
//     durations, shared by the config file and rule expressions so that
//     both accept the same units.
//   - engine/imapconn imports actions (and its vocabulary, rules) because it
//     implements actions.Mailbox: the consumer owns the interface (STYLE.md,
//     `var _ actions.Mailbox = (*Session)(nil)`).
//   - engine/state imports actions because the journal it stores is
//     actions.Entry and it implements actions.Journal (same reason).
//   - engine/config checks schedules[].cron with the scheduler's own parser
//     (robfig/cron/v3), so a bad expression is a located load error.
var allowed = map[string][]string{
	"rules": {},
	// rules/sieve's i;unicode-casemap (RFC 5051) needs Unicode
	// decomposition (NFKD), which the standard library lacks.
	"rules/sieve":    {"rules", "internal/diag", "golang.org/x/text/unicode/norm"},
	"rules/exprrule": {"rules", "internal/diag", "internal/duration", "github.com/expr-lang/expr"},
	"rules/ruleset":  {"rules", "rules/sieve", "rules/exprrule"},
	"actions":        {"rules"},
	"engine/config":  {"internal/diag", "internal/duration", "go.yaml.in/yaml/v3", "github.com/robfig/cron/v3"},
	"engine/imapconn": {"actions", "rules", "github.com/emersion/go-imap/v2",
		"github.com/emersion/go-sasl", "github.com/emersion/go-message", "golang.org/x/sys"},
	"engine/message": {"rules", "github.com/emersion/go-message"},
	// engine/oauth gets OAuth2 tokens (x/oauth2) and stores them; it knows
	// nothing of IMAP: the engine hands its tokens to imapconn.
	"engine/oauth": {"golang.org/x/oauth2"},
	"engine/state": {"actions", "go.etcd.io/bbolt"},
	// engine/maildir writes and reads backups: files only, stdlib only.
	"engine/maildir": {},
	"engine/watch":   {"engine/imapconn", "engine/state"},
	"engine/undo":    {"actions", "rules", "engine/state", "engine/imapconn", "engine/message"},
	// engine/restore appends a Maildir tree (engine/maildir) back over
	// engine/imapconn; actions only for its TRYCREATE error.
	"engine/restore": {"actions", "engine/imapconn", "engine/maildir", "engine/message"},
	// engine/observe sees the parts below the engine it reports on, and
	// serves metrics with client_golang.
	"engine/observe": {"actions", "engine/imapconn", "engine/state", "engine/watch", "engine/undo",
		"scheduler/jobs", "github.com/prometheus/client_golang"},
	// engine/smtp implements actions.Sender (the consumer owns the
	// interface) and reads the config's smtp: section and its credential
	// sources (config.SMTP.Secret), as the dialer does for accounts.
	"engine/smtp": {"actions", "rules", "engine/config", "github.com/emersion/go-smtp", "github.com/emersion/go-sasl"},
	// engine/managesieve serves RFC 5804 with the standard library only:
	// the engine hands it the compile and login checks as functions.
	"engine/managesieve": {},
	// engine/cluster (opt-in `cluster:`) keeps membership, ownership and
	// fenced checkpoints in etcd through its Go client (zap only to
	// silence the client's logger). It stores state.Checkpoint values as
	// the watchers' checkpoint store, and its journal wraps the local one:
	// copy intents are actions.Entry values and it implements
	// actions.Journal (the consumer owns the interface). Its sessions
	// retry with the watchers' reconnect backoff (watch.Backoff).
	"engine/cluster": {"actions", "engine/state", "engine/watch", "go.etcd.io/etcd/client/v3", "go.uber.org/zap"},
	"scheduler":      {"github.com/robfig/cron/v3"},
	"scheduler/jobs": {"rules", "actions"},
	// engine wires everything below it; nothing below imports it.
	"engine": {"rules", "rules/sieve", "rules/exprrule", "rules/ruleset", "actions",
		"engine/config", "engine/imapconn", "engine/message", "engine/oauth", "engine/state", "engine/watch", "engine/undo", "engine/observe",
		"engine/smtp", "engine/managesieve", "engine/maildir", "scheduler", "scheduler/jobs"},
	"examples": {},
}

// unlisted may import anything (but a command): the command itself and
// the test helpers.
func unlisted(pkg string) bool {
	return pkg == "cmd/mailwarden" || strings.HasPrefix(pkg, "internal/")
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
		allow, ok := allowed[pkg]
		if !ok && !unlisted(pkg) {
			t.Errorf("package %s is not in DESIGN.md's table (internal/layering): say what it may import", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if isStd(imp) {
				continue
			}
			rel, internal := strings.CutPrefix(imp, mod+"/")
			if internal && strings.HasPrefix(rel, "cmd/") {
				t.Errorf("%s imports %s: nothing may import a command", pkg, rel)
			}
			if !ok {
				continue
			}
			checked++
			name := imp
			if internal {
				name = rel
			}
			// Module packages match exactly (allowing "rules" must not allow
			// "rules/sieve"); an external module covers its subpackages.
			if !slices.ContainsFunc(allow, func(a string) bool { return name == a || !internal && strings.HasPrefix(name, a+"/") }) {
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
