package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

// A watch may name its mailbox by special use (`\Junk`), as actions and
// jobs may: the watcher selects the mailbox the server marks (here, a
// server that marks none: the conventional name).
func TestWatchSpecialUseMailbox(t *testing.T) {
	srv, err := memimap.Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("MW_TEST_PW", "pass")
	src := fmt.Sprintf(`state_dir: state
accounts:
  - name: me
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
    username: user
    password_env: MW_TEST_PW
    watch:
      - mailbox: '\Junk'
        ruleset: rescue
rulesets:
  rescue:
    - name: out
      when: 'true'
      actions: [{move: '\Archive'}]
`, srv.Port())
	path := filepath.Join(dir, "mailwarden.yaml")
	os.WriteFile(path, []byte(src), 0o644)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rt, errs := engine.Compile(cfg, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	st, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ready, moved atomic.Int32
	e := engine.New(rt, st, &engine.Options{Dial: engine.NewDialer(cfg, nil),
		Ready: func(string, string) { ready.Add(1) },
		Observe: func(ev engine.Event) {
			if ev.Err == nil && len(ev.Plan.Deliveries) == 1 {
				moved.Add(1)
			}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "watcher ready", func() bool { return ready.Load() > 0 })
	if _, err := srv.Append("user", "Junk", []byte("Subject: not spam\r\n\r\nhi\r\n"), nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "message moved out of Junk", func() bool { return moved.Load() == 1 })
	c, err := engine.NewDialer(cfg, nil)(ctx, "me")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Logout(ctx)
	for box, want := range map[string]uint32{"Junk": 0, "Archive": 1} {
		s, err := c.Status(ctx, box)
		if err != nil || s.Messages != want {
			t.Errorf("%s: %+v, %v; want %d messages", box, s, err, want)
		}
	}
}
