package engine

import (
	"context"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/state"
)

func TestPruneStateKeepsOnlyTheRetentionWindow(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	clock := now
	store, err := state.Open(t.TempDir(), &state.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	old := actions.Entry{Account: "a", Mailbox: "INBOX", UID: 1, Op: actions.OpMove, Target: "X", Time: now.Add(-100 * 24 * time.Hour)}
	recent := actions.Entry{Account: "a", Mailbox: "INBOX", UID: 2, Op: actions.OpMove, Target: "X", Time: now.Add(-time.Hour)}
	if err := store.Record(ctx, []actions.Entry{old, recent}); err != nil {
		t.Fatal(err)
	}
	clock = old.Time
	store.MarkPlaced("a", "X", 7, state.Placement{Ruleset: "r", MessageID: "old@x"})
	clock = recent.Time
	store.MarkPlaced("a", "X", 8, state.Placement{Ruleset: "r", MessageID: "new@x"})

	j, p, err := PruneState(store, 90*24*time.Hour, now)
	if err != nil || j != 1 || p != 1 {
		t.Fatalf("pruned %d journal entries, %d placements, %v; want 1, 1", j, p, err)
	}
	done, _ := store.Applied(ctx, []string{old.Key(), recent.Key()})
	_, oldDone := done[old.Key()]
	_, recentDone := done[recent.Key()]
	if oldDone || !recentDone {
		t.Errorf("after pruning, applied = %v", done)
	}
	if _, ok, _ := store.PlacedBy("a", "X", 1, 8, "new@x"); !ok {
		t.Error("recent placement pruned")
	}
	if _, ok, _ := store.PlacedBy("a", "X", 1, 7, "old@x"); ok {
		t.Error("old placement kept")
	}
}
