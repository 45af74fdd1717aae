package state

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, &Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckpointSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if _, ok, err := s.Checkpoint("a", "INBOX"); ok || err != nil {
		t.Fatalf("fresh store has a checkpoint: %v %v", ok, err)
	}
	if err := s.SetCheckpoint("a", "INBOX", Checkpoint{UIDValidity: 7, LastUID: 42}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	cp, ok, err := s.Checkpoint("a", "INBOX")
	if !ok || err != nil || cp.UIDValidity != 7 || cp.LastUID != 42 || cp.Updated.IsZero() {
		t.Fatalf("after reopen: %+v %v %v", cp, ok, err)
	}
	if _, ok, _ := s.Checkpoint("a", "INBOX/sub"); ok {
		t.Fatal("checkpoint leaked to another mailbox")
	}
}

func TestSecondProcessIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	_, err := Open(dir, &Options{LockTimeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second Open: %v", err)
	}
}

func TestJournalAppliedAndPrune(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e1 := actions.Entry{Account: "a", Mailbox: "INBOX", UIDValidity: 1, UID: 5, Op: actions.OpMove, Target: "X", Time: old}
	e2 := actions.Entry{Account: "a", Mailbox: "INBOX", UIDValidity: 1, UID: 6, Op: actions.OpFlag, Target: `\Seen`, Time: old.Add(48 * time.Hour)}
	if err := s.Record(ctx, []actions.Entry{e1, e2}); err != nil {
		t.Fatal(err)
	}
	other := actions.Entry{Account: "a", Mailbox: "INBOX", UIDValidity: 2, UID: 5, Op: actions.OpMove, Target: "X"}
	got, err := s.Applied(ctx, []string{e1.Key(), e2.Key(), other.Key()})
	if err != nil || !has(got, e1.Key()) || !has(got, e2.Key()) || has(got, other.Key()) {
		t.Fatalf("Applied = %v, %v", got, err)
	}
	n, err := s.PruneJournal(old.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune: %d %v", n, err)
	}
	got, _ = s.Applied(ctx, []string{e1.Key(), e2.Key()})
	if has(got, e1.Key()) || !has(got, e2.Key()) {
		t.Fatalf("after prune Applied = %v", got)
	}
	var seen []uint32
	s.Journal(time.Time{}, func(e actions.Entry) bool { seen = append(seen, e.UID); return true })
	if len(seen) != 1 || seen[0] != 6 {
		t.Fatalf("journal after prune: %v", seen)
	}
}

func TestPlacements(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(t.TempDir(), &Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.MarkPlaced("a", "Lists", 9, Placement{Ruleset: "inbox", MessageID: "m1@x", UIDValidity: 5}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPlaced("a", "Lists", 0, Placement{Ruleset: "inbox", MessageID: "m2@x"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		uv, uid uint32
		mid     string
		want    bool
	}{
		{5, 9, "m1@x", true},     // by UID
		{6, 9, "m1@x", false},    // the mailbox was recreated: another message
		{5, 9, "other@x", false}, // UID reused by another message
		{5, 12, "m2@x", true},    // no COPYUID: the first message with the Message-ID claims it
		{5, 14, "m2@x", false},   // ...and a later one with the same Message-ID is new mail
		{5, 12, "m2@x", true},    // the claimed one stays ours, by UID
		{5, 13, "", false},
	} {
		p, ok, err := s.PlacedBy("a", "Lists", tc.uv, tc.uid, tc.mid)
		if err != nil || ok != tc.want || (ok && p.Ruleset != "inbox") {
			t.Errorf("PlacedBy(%d, %d, %q) = %+v, %v, %v; want found=%v", tc.uv, tc.uid, tc.mid, p, ok, err, tc.want)
		}
	}
	if n, err := s.PrunePlaced(now.Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("PrunePlaced = %d, %v; want 2", n, err)
	}
	if _, ok, _ := s.PlacedBy("a", "Lists", 5, 9, "m1@x"); ok {
		t.Fatal("placement survived prune")
	}
}

func TestDuplicatesExpireAndSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := Open(dir, &Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d := s.Duplicates()
	if seen, _ := d.Seen(ctx, "k"); seen {
		t.Fatal("fresh key seen")
	}
	if err := d.Record(ctx, "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, _ = Open(dir, &Options{Now: clock})
	defer s.Close()
	d = s.Duplicates()
	if seen, _ := d.Seen(ctx, "k"); !seen {
		t.Fatal("key forgotten across reopen")
	}
	now = now.Add(2 * time.Hour)
	if seen, _ := d.Seen(ctx, "k"); seen {
		t.Fatal("expired key still seen")
	}
}

// has reports whether Applied found key.
func has(applied map[string]string, key string) bool {
	_, ok := applied[key]
	return ok
}

// Applied names the message each recorded change was made to, so the
// executor can tell a reused UID from the message it changed.
func TestAppliedNamesTheMessage(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	e := actions.Entry{Account: "a", Mailbox: "INBOX", UIDValidity: 1, UID: 5, MessageID: "first@x", Op: actions.OpCopy, Target: "X"}
	noID := actions.Entry{Account: "a", Mailbox: "INBOX", UIDValidity: 1, UID: 6, Op: actions.OpCopy, Target: "X"}
	if err := s.Record(ctx, []actions.Entry{e, noID}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Applied(ctx, []string{e.Key(), noID.Key()})
	if err != nil || len(got) != 2 || got[e.Key()] != "first@x" || got[noID.Key()] != "" {
		t.Fatalf("Applied = %q, %v; want first@x and \"\"", got, err)
	}
}
