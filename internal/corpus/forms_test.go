package corpus_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/internal/corpus"
	"github.com/mailwarden/mailwarden/rules"
)

// TestFormsAgreeOffline compiles the expr and the Sieve form of the
// reference rule set with mailwarden's own config loader and engine, and
// checks that the plan for every message of a corpus (a tenth of it
// malformed) ends where Expect says, flagged as Expect says. No server is
// involved: this pins down the rule forms; the benchmark checks the
// server's end state after each real run.
func TestFormsAgreeOffline(t *testing.T) {
	c := corpus.New(&corpus.Options{N: 800, MalformedRate: 0.1, MaxAttachment: 2 << 10, Seed: 11})
	now := c.Options().Now
	msgs := c.All()
	exp := corpus.Expect(msgs, now)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "reference.sieve"), []byte(corpus.Reference.Sieve(now)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`state_dir: %s
accounts:
  - name: bench
    host: 127.0.0.1
    port: 143
    tls: none
    insecure_plaintext: true
    username: u
    password_env: MW_CORPUS_UNUSED
rulesets:
  expr:
%s  sieve:
    - sieve: reference.sieve
`, filepath.Join(dir, "state"), corpus.Reference.ExprYAML("    "))
	t.Setenv("MW_CORPUS_UNUSED", "never used: nothing connects")
	path := filepath.Join(dir, "mailwarden.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	conf, err := config.Load(path)
	if err != nil {
		t.Fatalf("load:\n%s\n%v", cfg, err)
	}
	rt, errs := engine.Compile(conf, &engine.CompileOptions{Now: func() time.Time { return now }})
	if len(errs) > 0 {
		t.Fatalf("compile: %v\n%s", errs, cfg)
	}
	if n := strings.Count(corpus.Reference.ExprYAML(""), "- name:"); n != 13 {
		t.Fatalf("expr form has %d rules", n)
	}
	for _, name := range []string{"expr", "sieve"} {
		set := rt.Rulesets[name]
		bad := 0
		for i, m := range msgs {
			rm := message.Parse(m.Raw, message.Meta{Account: "bench", Mailbox: "INBOX", UID: uint32(i + 1), Flags: m.Flags, InternalDate: m.Internal})
			plan, err := engine.Evaluate(context.Background(), set, rm)
			if err != nil {
				t.Fatalf("%s: message %d: %v", name, i, err)
			}
			mb, flagged := outcome(plan, m.Flags)
			if mb != exp.Mailbox[i] || flagged != exp.Flagged[i] {
				bad++
				if bad <= 5 {
					t.Errorf("%s form: message %d (%s, malformed %q): plan %s -> %s flagged=%v; Expect %s flagged=%v",
						name, i, m.Meta.Category, m.Meta.Malformed, plan.Summary(), mb, flagged, exp.Mailbox[i], exp.Flagged[i])
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s form: %d of %d messages disagree with Expect", name, bad, len(msgs))
		}
	}
}

// outcome is where a plan leaves a message of INBOX and whether it then
// has \Flagged.
func outcome(p rules.Plan, flags []string) (mailbox string, flagged bool) {
	mailbox = "INBOX"
	if p.Remove && len(p.Deliveries) > 0 {
		d := p.Deliveries[len(p.Deliveries)-1]
		mailbox = d.Mailbox
		if d.Flags != nil {
			return mailbox, slices.Contains(d.Flags, `\Flagged`)
		}
	}
	flagged = slices.Contains(flags, `\Flagged`) || slices.Contains(p.AddFlags, `\Flagged`)
	if slices.Contains(p.RemoveFlags, `\Flagged`) {
		flagged = false
	}
	return mailbox, flagged
}
