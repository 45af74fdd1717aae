package bulkbench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/corpus"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

// buildMailwarden builds the binary under test into dir.
func buildMailwarden(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "mailwarden")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/mailwarden/mailwarden/cmd/mailwarden").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRunSmall runs the whole benchmark on a small corpus, one round:
// every tool must leave exactly the end state Expect describes (Run
// verifies it after each run and fails otherwise), and the protocol trace
// must show the floor's command budget and no plain EXPUNGE from
// mailwarden. imapfilter takes part when it is installed.
func TestRunSmall(t *testing.T) {
	if err := dovecottest.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	bin := buildMailwarden(t, t.TempDir())
	imf, _ := exec.LookPath("imapfilter")
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{N: 400, Seed: 2, Rounds: 1, Mailwarden: bin, Imapfilter: imf, Trace: true, Out: &out})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range rep.Tools {
		if rep.Median(tool) <= 0 {
			t.Errorf("%s: no timed run", tool)
		}
	}
	moves := 0
	for _, d := range corpus.Reference.Destinations() {
		if rep.Expect.Count[d] > 0 {
			moves++
		}
	}
	for _, tr := range rep.Traced {
		c := tr.Trace.Commands
		switch tr.Tool {
		case ToolFloor:
			if c["UID FETCH"] != 1 || c["UID STORE"] != 1 || c["UID MOVE"] != moves {
				t.Errorf("floor sent %v; want 1 UID FETCH, 1 UID STORE, %d UID MOVE", c, moves)
			}
		case ToolApply, ToolApplySieve:
			if c["EXPUNGE"] != 0 {
				t.Errorf("%s sent %d plain EXPUNGE", tr.Tool, c["EXPUNGE"])
			}
			if c["UID MOVE"] < moves || c["UID FETCH"] < 1 {
				t.Errorf("%s sent %v: fewer moves than destinations", tr.Tool, c)
			}
		case ToolImapfilter:
			if c["UID SEARCH"] < len(corpus.Reference) {
				t.Errorf("imapfilter sent %v: fewer searches than rules", c)
			}
		}
	}
	if imf == "" {
		t.Log("imapfilter not installed: its form was not run (make bench-deps installs it)")
	}
}
