package ruleset_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/rules/ruleset"
)

var verbose = flag.Bool("show", false, "print each example message's plan and trace")

func loadExample(t testing.TB) *ruleset.Set {
	t.Helper()
	c, err := config.Load("../../examples/mailwarden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Compiled exactly as the daemon compiles it.
	rt, errs := engine.Compile(c, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	return rt.Rulesets["inbox"]
}

// golden is the plan every example message gets from the example ruleset.
var golden = map[string]string{
	"01-invoice.eml":          `move "Finance"`,
	"02-boss.eml":             `flag \Flagged vip`,
	"03-golang-nuts.eml":      `move "Lists/golang-nuts"`,
	"04-lkml-patch.eml":       `flag patch; move "Lists/lkml"`,
	"05-newsletter.eml":       `flag \Seen; move "Newsletters"`,
	"06-spam-certain.eml":     `move "\\Trash"`,
	"07-spam-flagged.eml":     `move "Junk"`,
	"08-calendar-invite.eml":  `flag invitation attachment`,
	"09-utf8-subject.eml":     `keep`,
	"10-latin1-invoice.eml":   `move "Finance"`, // "Ihre Rechnung für März" (ISO-8859-1 Q)
	"11-shiftjis-invoice.eml": `move "Finance"`, // "【請求書】…" (Shift_JIS B)
	"12-koi8r-friend.eml":     `keep`,
	"13-attachment.eml":       `flag vip attachment`,
	"14-notification.eml":     `move "Notifications" flags=()`, // Sieve, imap4flags: the copy gets the script's (empty) flags
	"15-out-of-office.eml":    `flag \Seen autoreply`,
	"16-malformed.eml":        `keep`,
}

func TestExampleRuleset(t *testing.T) {
	set := loadExample(t)
	files, _ := filepath.Glob("../../examples/messages/*.eml")
	if len(files) < 12 {
		t.Fatalf("only %d example messages", len(files))
	}
	var got []string
	for _, f := range files {
		m, err := message.ParseFile(f, message.Meta{Account: "demo", Mailbox: "INBOX", InternalDate: time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := set.Evaluate(context.Background(), m)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		name := filepath.Base(f)
		got = append(got, fmt.Sprintf("%q: %q,", name, p.Summary()))
		if *verbose {
			t.Logf("%s: %s\n%s", name, p.Summary(), trace(p))
		}
		if want, ok := golden[name]; !ok || p.Summary() != want {
			t.Errorf("%s: plan %s, want %s", name, p.Summary(), want)
		}
	}
	if t.Failed() {
		sort.Strings(got)
		t.Logf("got:\n%s", strings.Join(got, "\n"))
	}
}

func trace(p rules.Plan) string {
	var b strings.Builder
	for _, s := range p.Trace {
		fmt.Fprintf(&b, "    %s: %s\n", s.Rule, s.Action)
	}
	return b.String()
}

func BenchmarkExampleRuleset(b *testing.B) {
	set := loadExample(b)
	files, _ := filepath.Glob("../../examples/messages/*.eml")
	var msgs []*rules.Message
	for _, f := range files {
		m, err := message.ParseFile(f, message.Meta{Mailbox: "INBOX"})
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if _, err := set.Evaluate(ctx, msgs[n%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
