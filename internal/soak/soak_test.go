package soak

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var (
	fullFlag     = flag.Bool("soak.full", false, "run the full soak (TestSoakFull; also MAILWARDEN_SOAK=1)")
	seedFlag     = flag.Uint64("soak.seed", 0, "seed of every random choice (0: a new one, printed)")
	messagesFlag = flag.Int("soak.messages", 0, "messages delivered while the daemon watches (0: the size's default)")
	backlogFlag  = flag.Int("soak.backlog", 0, "messages at least through apply and the sweep job (0: default)")
	killsFlag    = flag.Int("soak.kills", 0, "SIGKILLs in all, half while watching, half in apply and the jobs (0: default)")
	faultsFlag   = flag.Int("soak.faults", 0, "faults at least, in all (0: default)")
	raceFlag     = flag.String("soak.race", "", `build the daemon with -race: "true", "false" or "" (as this test binary)`)
)

// params applies the flags to a size.
func params(t *testing.T, size func(uint64) Params) Params {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()) & (1<<48 - 1)
	}
	p := size(seed)
	if *messagesFlag > 0 {
		p.Messages = *messagesFlag
	}
	if *backlogFlag > 0 {
		p.Backlog = *backlogFlag
	}
	if *killsFlag > 0 {
		p.KillsA = *killsFlag / 2
		p.KillsB = *killsFlag - p.KillsA
	}
	if *faultsFlag > 0 {
		p.MinFaults = *faultsFlag
	}
	p.Race = raceEnabled
	switch *raceFlag {
	case "true":
		p.Race = true
	case "false":
		p.Race = false
	}
	return p
}

// check fails t with everything needed to reproduce and debug a failure.
func check(t *testing.T, r *Report, rerun string) {
	t.Helper()
	t.Logf("soak figures:\n%s", r.Summary())
	if f := r.Failures(); len(f) > 0 {
		t.Errorf("soak failed (seed %d): %s\nreproduce the choices (not the timing) with:\n  %s\n%s",
			r.Params.Seed, strings.Join(f, "; "), fmt.Sprintf(rerun, r.Params.Seed), r.Details())
	}
}

// TestSoakShort is the soak `make test` runs: dozens of faults and a few
// kills, in about a minute.
func TestSoakShort(t *testing.T) {
	if *fullFlag || os.Getenv("MAILWARDEN_SOAK") != "" {
		t.Skip("the full soak runs instead")
	}
	p := params(t, Short)
	r := Run(t, p)
	check(t, r, "go test -race -run TestSoakShort -v ./internal/soak -soak.seed %d")
}

// TestSoakFull is `make soak`: at least 1,000 messages while watching,
// 1,000 faults and 100 kills, 20-30 minutes.
func TestSoakFull(t *testing.T) {
	if !*fullFlag && os.Getenv("MAILWARDEN_SOAK") == "" {
		t.Skip("takes 20-30 minutes: run with make soak (or -soak.full, or MAILWARDEN_SOAK=1)")
	}
	p := params(t, Full)
	r := Run(t, p)
	check(t, r, "go test -run TestSoakFull -v -timeout 90m ./internal/soak -soak.full -soak.seed %d")
}

func TestInUIDSet(t *testing.T) {
	for _, tc := range []struct {
		set  string
		uid  uint32
		want bool
	}{
		{"3", 3, true}, {"3", 4, false}, {"3:5", 4, true}, {"3:5,9", 9, true}, {"3:5,9", 6, false}, {"9:7", 8, true},
	} {
		if got := inUIDSet(tc.set, tc.uid); got != tc.want {
			t.Errorf("inUIDSet(%q, %d) = %v", tc.set, tc.uid, got)
		}
	}
}

func TestUIDCommandLine(t *testing.T) {
	l := `time=2026-01-02T03:04:05.678+00:00 level=DEBUG msg=send account=soak mailbox=INBOX command="UID COPY 12:14,20 \"Copies\""`
	if !mentionsUID(l, "INBOX", 13) || mentionsUID(l, "INBOX", 15) || mentionsUID(l, "Backlog", 13) {
		t.Error("mentionsUID does not read the executor's debug line")
	}
	if lineTime(l).IsZero() {
		t.Error("lineTime: no time")
	}
}
