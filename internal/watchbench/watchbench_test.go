package watchbench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

// TestRunSmall runs the benchmark with five watchers: every watcher must
// reach IDLE (first start and restart), the idling daemon must move newly
// delivered spam, and the memory figures must be plausible readings of a
// live process.
func TestRunSmall(t *testing.T) {
	if err := dovecottest.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	bin := filepath.Join(t.TempDir(), "mailwarden")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/mailwarden/mailwarden/cmd/mailwarden").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Options{Watchers: 5, Mailwarden: bin, Settle: 200 * time.Millisecond, Samples: 2, Timeout: time.Minute, Out: &out})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]Sample{"baseline": res.Baseline, "first start": res.Cold, "restart": res.Warm} {
		if s.TimeToIdle <= 0 || s.RSSKiB < 1024 || s.HWMKiB < s.RSSKiB || s.Threads < 1 {
			t.Errorf("%s: implausible sample %+v", name, s)
		}
	}
	if res.Cold.Watchers != 5 || res.Baseline.Watchers != 1 {
		t.Errorf("watchers %d and %d", res.Cold.Watchers, res.Baseline.Watchers)
	}
	if res.Liveness <= 0 || res.ServerProcs < 1 {
		t.Errorf("liveness %v, %d server processes", res.Liveness, res.ServerProcs)
	}
}

func TestHeapFromGCTrace(t *testing.T) {
	d := &daemon{dir: t.TempDir()}
	log := "time=x level=INFO msg=hi\ngc 1 @0.004s 1%: 0.012+0.31+0.002 ms clock, 0.024+0.10/0.20/0.31+0.004 ms cpu, 3->3->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n" +
		"gc 2 @1.204s 0%: 0.010+0.5+0.003 ms clock, 0.020+0.1/0.3/0.4+0.006 ms cpu, 9->10->6 MB, 11 MB goal, 1 MB stacks, 0 MB globals, 2 P\n"
	os.WriteFile(filepath.Join(d.dir, "run.log"), []byte(log), 0o644)
	if got := d.heapMB(); got != 6 {
		t.Errorf("heap %d MB, want the last GC's live heap, 6", got)
	}
	os.WriteFile(filepath.Join(d.dir, "run.log"), []byte("no gc yet\n"), 0o644)
	if got := d.heapMB(); got != -1 {
		t.Errorf("heap %d without gctrace lines, want -1", got)
	}
}
