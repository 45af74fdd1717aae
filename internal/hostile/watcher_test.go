package hostile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/internal/hostile"
)

// The hostile corpus through the daemon itself: the messages are
// delivered to a real Dovecot and a watcher (start: all) runs the rule set
// of pipeline_test.go, whose Sieve script and expr rules read headers,
// addresses and bodies, over them. Every message the server accepted must
// come out evaluated, with a plan or kept with a logged reason, in bounded
// time; the process's peak RSS is reported.
//
//	go test -run TestHostileMailThroughAWatcher ./internal/hostile    60 messages
//	MAILWARDEN_HOSTILE_FULL=1 go test -run Watcher -v -timeout 30m ./internal/hostile
//	                                                2,000 messages and the 50 MiB attachment
func TestHostileMailThroughAWatcher(t *testing.T) {
	n, huge, timeout := 60, false, 2*time.Minute
	full := os.Getenv("MAILWARDEN_HOSTILE_FULL") != ""
	if full {
		n, huge, timeout = 2000, true, 20*time.Minute
	}
	srv := dovecottest.Shared(t)
	if full {
		// The corpus is about 300 MiB: more than the shared instance's quota.
		srv = dovecottest.Start(t, &dovecottest.Options{Quota: "4G"})
	}
	user, pass := srv.NewUser(t)
	ctx := context.Background()
	c, err := imapconn.Dial(ctx, &imapconn.Options{Host: srv.Host, Port: srv.Port, TLS: imapconn.TLSNone, InsecurePlaintext: true,
		Username: user, Auth: imapconn.Password{Password: func(context.Context) (string, error) { return pass, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	for _, box := range []string{"Finance", "Junk", "Lists"} {
		c.Create(ctx, box)
	}
	accepted, refused := 0, map[string]int{}
	start := time.Now()
	for _, m := range hostile.Generate(&hostile.Options{N: n, Seed: 3, Huge: huge}) {
		if _, err := c.Append(ctx, "INBOX", nil, time.Time{}, m.Bytes()); err != nil {
			if !imapconn.IsPermanent(err) {
				t.Fatalf("append %d (%s): %v", m.Index, m.Kind, err)
			}
			refused[m.Kind]++ // the server said NO (or BAD): not ours to process
			continue
		}
		accepted++
	}
	c.Close()
	t.Logf("delivered %d of %d messages in %v (refused by the server: %v)", accepted, n+btoi(huge), time.Since(start).Round(time.Millisecond), refused)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hostile.sieve"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	var y strings.Builder
	fmt.Fprintf(&y, "state_dir: %s\naccounts:\n  - name: h\n    host: 127.0.0.1\n    port: %d\n    tls: none\n    insecure_plaintext: true\n    username: %s\n    password_env: MW_HOSTILE_PASS\n    watch:\n      - {mailbox: INBOX, ruleset: hostile, start: all}\nrulesets:\n  hostile:\n",
		filepath.Join(dir, "state"), srv.Port, user)
	for _, r := range exprRules {
		kind, arg, _ := strings.Cut(r.action, ":")
		fmt.Fprintf(&y, "    - name: %s\n      when: '%s'\n      actions: [{%s: %q}]\n", r.name, strings.ReplaceAll(r.when, "'", "''"), kind, arg)
	}
	y.WriteString("    - sieve: hostile.sieve\n")
	t.Setenv("MW_HOSTILE_PASS", pass)
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(y.String()), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", y.String(), err)
	}
	rt, errs := engine.Compile(cfg, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	store, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	var (
		mu      sync.Mutex
		planned int
		kept    = map[string]int{}
		seen    = map[uint32]bool{}
	)
	done := make(chan struct{})
	observe := func(ev engine.Event) {
		mu.Lock()
		defer mu.Unlock()
		if seen[ev.Message.UID] {
			t.Errorf("UID %d evaluated twice", ev.Message.UID)
		}
		seen[ev.Message.UID] = true
		if ev.Err != nil {
			reason := ev.Err.Error()
			if i := strings.Index(reason, ": "); i > 0 && len(reason) > 120 {
				reason = reason[:120]
			}
			kept[reason]++
		} else {
			planned++
		}
		if len(seen) == accepted {
			close(done)
		}
	}
	e := engine.New(rt, store, &engine.Options{Dial: engine.NewDialer(cfg, nil), Observe: observe})
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	start = time.Now()
	go func() { ran <- e.Run(runCtx) }()
	select {
	case <-done:
	case err := <-ran:
		t.Fatalf("engine stopped: %v", err)
	case <-time.After(timeout):
		mu.Lock()
		t.Fatalf("only %d of %d messages evaluated after %v", len(seen), accepted, timeout)
	}
	took := time.Since(start)
	cancel()
	<-ran
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d messages through the watcher in %v: %d with a plan, %d kept with a reason; peak RSS %d MiB",
		len(seen), took.Round(time.Millisecond), planned, len(seen)-planned, vmHWM(t)>>20)
	for reason, k := range kept {
		t.Logf("  kept ×%d: %s", k, reason)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
